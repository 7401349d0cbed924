"""The public facade of :mod:`kernels.adaptive`: what it exports and how it is documented."""

from __future__ import annotations

import inspect

import numpy as np

from kernels import adaptive as ad
from kernels.adaptive import driver as drv
from kernels.adaptive import landscapes as lands

FUNCTIONS = [name for name in ad.__all__ if inspect.isfunction(getattr(ad, name))]


def test_all_names_exist_and_the_rules_are_exported():
    assert all(hasattr(ad, name) for name in ad.__all__)
    assert ad.SCALING_RULES == ("srsr", "no_beta_eps", "linear")
    assert "warmup" in FUNCTIONS and len(FUNCTIONS) == len(ad.__all__) - 1


def test_landscape_bundle_unpacks_like_the_tuple_it_replaced():
    land = lands.build_landscape("quadratic", 2, noise_std=0.5)
    code, lmat, lvec, d = land
    assert isinstance(land, lands.Landscape) and (code, d) == (lands.QUADRATIC, 2)
    assert land.lmat is lmat and land.lvec is lvec


def test_loss_values_matches_the_quadratic_and_its_jitted_core():
    a = np.array([[2.0, 0.3], [0.3, 1.0]])
    th = np.random.default_rng(0).normal(size=(4, 3, 2))
    f = ad.loss_values("quadratic", th, A=a)
    np.testing.assert_allclose(f, 0.5 * np.einsum("...i,ij,...j->...", th, a, th), rtol=1e-13)
    land = lands.build_landscape("quadratic", 2, noise_std=0.0, A=a)
    flat = np.ascontiguousarray(th.reshape(-1, 2))
    np.testing.assert_array_equal(lands.loss_many(land.code, flat, land.lmat, land.lvec), f.ravel())


def test_driver_run_takes_the_bundles():
    """The driver's run with ChainHyper and Start reproduces simulate_optimizer."""
    land = lands.build_landscape("quadratic", 2, noise_std=0.5)
    theta = np.tile([1.0, -1.0], (3, 1))
    start = drv.Start(theta, np.zeros_like(theta), np.ones_like(theta))
    out = drv.run(
        opt=1,
        v_order=0,
        land=land,
        n_steps=4,
        n_sub=1,
        rec_every=1,
        rng=np.random.default_rng(5),
        chain=drv.ChainHyper(0.1, 0.9, 0.99, 1e-8),
        start=start,
        legs=[],
    )
    ref = ad.simulate_optimizer(
        "rmsprop",
        landscape="quadratic",
        theta0=[1.0, -1.0],
        lr=0.1,
        beta1=0.9,
        beta2=0.99,
        eps=1e-8,
        noise_std=0.5,
        n_steps=4,
        n_paths=3,
        rng=5,
    )
    np.testing.assert_array_equal(out["theta"], ref["theta"])


def test_facade_warmup_runs():
    ad.warmup()
