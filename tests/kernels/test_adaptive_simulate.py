"""Simulation entry points of the Adaptive SGD kernels: determinism, coupling, oracles, input."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import adaptive as ad
from kernels.adaptive import core as core
from kernels.adaptive import driver as drv
from kernels.adaptive import landscapes as lands
from kernels.adaptive import sde as sde
from kernels.adaptive.discrete import ADAM, RMSPROP, SGD
from kernels.adaptive.sde import BALLISTIC, BATCH_EQUIVALENT, SDE1, SME2, state_size
from tests.kernels.adaptive_helpers import pointwise
from tests.oracles import adaptive_reference as ref

A2 = np.array([[1.0, 0.5], [0.5, 1.0]])


def test_same_seed_same_output_and_chunking_does_not_matter():
    kw = dict(
        regime="ballistic",
        orders=("sde1", "sme2"),
        landscape="quadratic",
        theta0=[2.0, 1.0],
        tau=2**-5,
        n_sub=2,
        t_max=2.0,
        n_paths=33,
        c2=1.0,
    )
    a = ad.simulate_coupled("rmsprop", rng=7, **kw)
    b = ad.simulate_coupled("rmsprop", rng=np.random.default_rng(7), **kw)
    for key in ("chain", "sde1", "sme2"):
        np.testing.assert_array_equal(a[key]["theta"], b[key]["theta"])
    c = ad.simulate_coupled("rmsprop", rng=8, **kw)
    assert not np.array_equal(a["sde1"]["theta"], c["sde1"]["theta"])
    old = drv.CHUNK_NORMALS
    try:  # a tiny chunk (two steps) must not change the numbers
        drv.CHUNK_NORMALS = 2
        d = ad.simulate_coupled("rmsprop", rng=7, **kw)
    finally:
        drv.CHUNK_NORMALS = old
    np.testing.assert_array_equal(a["sme2"]["theta"], d["sme2"]["theta"])


def test_public_functions_share_the_brownian_path():
    """simulate_optimizer(n_sub) and simulate_sde(dt = τ/n_sub) with one seed are coupled, and
    simulate_coupled runs both on the same normals."""
    tau, n_sub = 2**-4, 4
    hp = ad.regime_hyperparameters("ballistic", tau, 1.0, 1.0, 0.1, 0.5)
    chain = ad.simulate_optimizer(
        "rmsprop",
        landscape="quadratic",
        theta0=[2.0, 1.0],
        lr=hp["lr"],
        beta2=hp["beta2"],
        eps=hp["eps"],
        noise_std=hp["noise_std"],
        n_steps=32,
        n_paths=50,
        rng=3,
        n_sub=n_sub,
    )
    sde = ad.simulate_sde(
        "rmsprop",
        regime="ballistic",
        order="sde1",
        landscape="quadratic",
        theta0=[2.0, 1.0],
        dt=tau / n_sub,
        t_max=2.0,
        n_paths=50,
        rng=3,
        tau=tau,
        c2=1.0,
        eps=0.1,
        noise_std=0.5,
    )
    both = ad.simulate_coupled(
        "rmsprop",
        regime="ballistic",
        orders=("sde1",),
        landscape="quadratic",
        theta0=[2.0, 1.0],
        tau=tau,
        n_sub=n_sub,
        t_max=2.0,
        n_paths=50,
        rng=3,
        c2=1.0,
        eps=0.1,
        noise_std=0.5,
    )
    np.testing.assert_array_equal(chain["theta"], both["chain"]["theta"])
    np.testing.assert_array_equal(sde["theta"], both["sde1"]["theta"])
    other = ad.simulate_sde(
        "rmsprop",
        regime="ballistic",
        order="sde1",
        landscape="quadratic",
        theta0=[2.0, 1.0],
        dt=tau / n_sub,
        t_max=2.0,
        n_paths=50,
        rng=4,
        tau=tau,
        c2=1.0,
        eps=0.1,
        noise_std=0.5,
    )

    def rms(a, b):
        return np.sqrt(np.mean((a["theta"] - b["theta"]) ** 2))

    # coupled paths differ by the O(√τ) fluctuation of the chain's v (≈ 0.25 relative here);
    # independent paths by the whole spread (ratio √2 of the cloud's std)
    assert rms(chain, sde) < 0.4 * rms(chain, other)


def _soa_step(opt, regime, order, code, lmat, lvec, x, z1, z2, par, flags):
    wv, wm = core.make_soa_work(z1.shape[2], x.shape[1])
    rec = np.zeros((2, *x.shape))
    core.euler_chunk(
        code, opt, regime, order, flags, par, lmat, lvec, x, z1, z2, 0, 1, 3, 1, rec, wv, wm
    )
    return x


CASES = [
    (SGD, BALLISTIC, SME2, "quadratic"),
    (RMSPROP, BALLISTIC, SME2, "quadratic"),
    (RMSPROP, BALLISTIC, SME2, "linreg"),
    (RMSPROP, BALLISTIC, SME2, "double_well"),
    (RMSPROP, BATCH_EQUIVALENT, SME2, "quadratic"),
    (RMSPROP, BATCH_EQUIVALENT, SME2, "quartic"),
    (RMSPROP, BATCH_EQUIVALENT, SDE1, "linreg"),
    (ADAM, BALLISTIC, SME2, "quadratic"),
    (ADAM, BALLISTIC, SME2, "linreg"),
    (ADAM, BALLISTIC, SDE1, "double_well"),
    (ADAM, BATCH_EQUIVALENT, SDE1, "quadratic"),
]


@pytest.mark.parametrize(("opt", "regime", "order", "landscape"), CASES)
@pytest.mark.parametrize("v_order", [0, 1])
def test_vectorized_euler_matches_pointwise_coefficients(opt, regime, order, landscape, v_order):
    """One Euler step of the SIMD core equals x + b h + G ΔW from the per-path transcription
    (two independent codings of spec §2.4–2.5): agreement to round-off."""
    d = 1 if landscape in ("double_well",) else 2
    A = A2 if landscape == "quadratic" else np.eye(d)
    kw = dict(
        tau=2**-4,
        c1=1.3,
        c2=0.7,
        eps=0.2,
        v_order=v_order,
        v_floor=0.05,
        landscape=landscape,
        noise_std=0.6,
        dim=d,
    )
    if landscape == "quadratic":
        kw["A"] = A
    drift, diff = pointwise(opt, regime, order, **kw)
    code, lmat, lvec, _ = lands.build_landscape(
        landscape, d, noise_std=0.6, A=A if landscape == "quadratic" else None
    )
    ns = state_size(opt, d)
    rng = np.random.default_rng(1)
    n = 7
    x = rng.uniform(0.3, 1.5, size=(ns, n))
    x[:d] = rng.normal(size=(d, n))
    if regime == BATCH_EQUIVALENT and opt == ADAM:
        x[d : 2 * d] *= 0.5
    n_sub = 2
    z1 = rng.standard_normal((1, n_sub, d, n))
    z2 = rng.standard_normal((1, n_sub, d, n))
    par = np.array([kw["tau"], 1.3, 0.7, 0.2, 0.05, *((1.0, 1.0) if v_order else (2.0, 1.0))])
    flags = np.array([1, v_order, 0, 0], dtype=np.int64)
    got = _soa_step(opt, regime, order, code, lmat, lvec, x.copy(), z1, z2, par, flags)
    h = kw["tau"] / n_sub
    for p in range(n):
        y = x[:, p].copy()
        for j in range(n_sub):
            t = (3 + j / n_sub) * kw["tau"]
            dw = np.sqrt(h) * np.concatenate([z1[0, j, :, p], z2[0, j, :, p]])
            y = y + drift(t, y) * h + diff(t, y) @ dw
        np.testing.assert_allclose(got[:, p], y, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(
    ("regime", "order"),
    [
        ("ballistic", "ode"),
        ("ballistic", "sde1"),
        ("ballistic", "sme2"),
        ("batch_equivalent", "ode"),
        ("batch_equivalent", "sde1"),
    ],
)
def test_rmsprop_sde_matches_plain_numpy_reference(regime, order):
    tau, n_sub, n = 2**-5, 3, 40
    rng = np.random.default_rng(4)
    z1 = rng.standard_normal((20, n_sub, n, 2))
    z2 = rng.standard_normal((20, n_sub, n, 2))
    code, lmat, lvec, _ = lands.build_landscape("quadratic", 2, noise_std=0.5, A=A2)
    th0 = np.tile([2.0, 1.0], (n, 1))
    th, v = ref.rmsprop_sde(
        regime,
        order,
        A2,
        lmat[1],
        th0,
        0.8,
        z1,
        z2 if order == "sme2" else None,
        tau=tau,
        c2=0.7,
        eps=0.1,
        v_floor=tau,
    )
    x = np.concatenate([th0.T, np.full((2, n), 0.8)])
    par = np.array([tau, 1.0, 0.7, 0.1, tau, 2.0, 1.0])
    flags = np.array([1, 0, 0, 0], dtype=np.int64)
    wv, wm = core.make_soa_work(2, n)
    core.euler_chunk(
        code,
        RMSPROP,
        sde.REGIMES[regime],
        sde.ORDERS[order],
        flags,
        par,
        lmat,
        lvec,
        x,
        np.ascontiguousarray(z1.transpose(0, 1, 3, 2)),
        np.ascontiguousarray(z2.transpose(0, 1, 3, 2)),
        0,
        20,
        0,
        100,
        np.zeros((1, 4, n)),
        wv,
        wm,
    )
    np.testing.assert_allclose(x[:2].T, th, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(x[2:].T, v, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam"])
@pytest.mark.parametrize("v_order", ["lagged", "pytorch"])
def test_chain_matches_plain_numpy_reference(optimizer, v_order):
    rng = np.random.default_rng(5)
    n_steps, n_sub, n = 50, 2, 30
    zeta = rng.standard_normal((n_steps, n_sub, n, 2))
    xi = zeta.sum(1) / np.sqrt(n_sub)
    out = ad.simulate_optimizer(
        optimizer,
        landscape="quadratic",
        A=A2,
        theta0=[2.0, 1.0],
        lr=0.05,
        beta1=0.8,
        beta2=0.95,
        eps=0.1,
        noise_std=0.5,
        n_steps=n_steps,
        n_paths=n,
        rng=0,
        noise=xi,
        v_order=v_order,
        v0=1.0,
    )
    _, lmat, *_ = lands.build_landscape("quadratic", 2, noise_std=0.5, A=A2)
    th = ref.chain(
        optimizer,
        A2,
        lmat[1],
        np.tile([2.0, 1.0], (n, 1)),
        zeta,
        lr=0.05,
        beta1=0.8,
        beta2=0.95,
        eps=0.1,
        v0=1.0,
        v_order=v_order,
    )
    np.testing.assert_allclose(out["theta"][-1], th, rtol=1e-11, atol=1e-12)


def test_isotropic_and_shifted_noise_and_one_by_one_matrix():
    free = dict(
        landscape="quadratic",
        theta0=[0.0, 0.0],
        lr=0.1,
        n_steps=400,
        n_paths=20000,
        rng=0,
        noise_std=0.5,
    )
    iso = ad.simulate_optimizer("sgd", gradient_noise="isotropic", A=np.diag([1.0, 3.0]), **free)
    rec = ad.sgd_moments(np.diag([1.0, 3.0]), 0.25 * np.eye(2), [0, 0], 0.1, 400)
    # 2e4-path sample covariance: 4% is > 5 standard errors
    np.testing.assert_allclose(np.cov(iso["theta"][-1].T), rec["cov"][-1], rtol=0.04, atol=3e-4)
    one = ad.simulate_optimizer(
        "sgd",
        landscape="quadratic",
        A=[[2.0]],
        theta0=[1.0],
        lr=0.1,
        n_steps=10,
        n_paths=3,
        rng=0,
        noise_std=0.0,
    )
    np.testing.assert_allclose(one["theta"][-1, :, 0], 0.8**10, rtol=1e-13)


def test_linreg_and_double_well_run_and_stay_finite():
    for landscape, th0 in (("linreg", [0.0, 0.0]), ("double_well", [1.5])):
        for opt in ("rmsprop", "adam"):
            res = ad.simulate_coupled(
                opt,
                regime="ballistic",
                orders=("ode", "sde1", "sme2"),
                landscape=landscape,
                theta0=th0,
                tau=0.02,
                n_sub=2,
                t_max=4.0,
                n_paths=64,
                rng=1,
                noise_std=0.35,
                noise_level=0.5 if landscape == "double_well" else 0.0,
            )
            for key in ("chain", "ode", "sde1", "sme2"):
                assert np.all(np.isfinite(res[key]["theta"]))
    lr = ad.simulate_coupled(
        "rmsprop",
        regime="ballistic",
        orders=("ode",),
        landscape="linreg",
        theta0=[0.0, 0.0],
        tau=0.02,
        n_sub=1,
        t_max=20.0,
        n_paths=1,
        rng=0,
        noise_std=0.0,
        c2=1.0,
    )
    # noise-free linear regression converges to the teacher w
    np.testing.assert_allclose(lr["ode"]["theta"][-1, 0], lands.LINREG_W, atol=2e-2)


def test_divergence_is_reported_as_non_finite_not_an_exception():
    res = ad.simulate_optimizer(
        "sgd",
        landscape="quadratic",
        theta0=[1.0, 1.0],
        lr=1.9,
        A=A2,
        n_steps=3000,
        n_paths=2,
        rng=0,
        noise_std=0.0,
    )
    assert not np.all(np.isfinite(res["theta"][-1]))  # 1.9 > 2/λmax = 4/3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(optimizer="adagrad"), "optimizer must be one of"),
        (dict(lr=-1.0), "lr must be"),
        (dict(beta2=1.5), "beta2 must be"),
        (dict(landscape="ridge"), "landscape must be one of"),
        (dict(A=[[1.0, 2.0], [2.0, 1.0]]), "positive definite"),
        (dict(A=[[1.0, 0.0], [1.0, 1.0]]), "symmetric"),
        (dict(theta0=[1.0, 2.0, 3.0]), "dimension"),
        (dict(gradient_noise="pink"), "gradient_noise must be one of"),
        (dict(n_paths=0), "n_paths must be"),
        (dict(noise=np.zeros((1, 1, 2))), "noise must be"),
    ],
)
def test_bad_input_to_simulate_optimizer(kwargs, match):
    args = dict(
        optimizer="rmsprop",
        landscape="quadratic",
        theta0=[1.0, 1.0],
        lr=0.1,
        n_steps=5,
        n_paths=2,
        rng=0,
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ad.simulate_optimizer(args.pop("optimizer"), **args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(optimizer="sgd", regime="batch_equivalent"), "ballistic"),
        (dict(optimizer="adam", regime="batch_equivalent", order="sme2"), "not implemented"),
        (
            dict(regime="batch_equivalent", order="sme2", landscape="linreg", theta0=[0, 0]),
            "constant noise",
        ),
        (dict(order="sme3"), "order must be one of"),
        (dict(dt=0.3), "dt must"),
        (dict(dt=0.04), "integer number of substeps"),
        (dict(c2=100.0), "c2 must"),
        (dict(d_prime="taylor"), "d_prime must be"),
    ],
)
def test_bad_input_to_simulate_sde(kwargs, match):
    args = dict(
        optimizer="rmsprop",
        regime="ballistic",
        order="sde1",
        landscape="quadratic",
        theta0=[1.0, 1.0],
        dt=0.125,
        t_max=1.0,
        n_paths=2,
        rng=0,
        tau=0.25,
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ad.simulate_sde(args.pop("optimizer"), **args)


def test_loss_values():
    th = np.array([[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(ad.loss_values("quadratic", th, A=A2), [0.5, 2.0])
