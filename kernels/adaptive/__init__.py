r"""Adaptive SGD: discrete RMSprop/Adam/SGD ensembles and their continuous equations.

Callisti, Romito, Triggiano, *Effective continuous equations for adaptive SGD: a stochastic
analysis view*, arXiv:2509.21614 [paper]; spec ``models/adaptive.md``. Public API:

* :func:`simulate_optimizer`: the discrete chain in raw hyperparameters (η, β1, β2, ε, σ);
* :func:`simulate_sde`: the ODE / SDE1 / SME2 of a regime (``ballistic``: η = τ;
  ``batch_equivalent``: η = √τ, u = η²v), Euler–Maruyama with step ``dt`` = τ/n_sub;
* :func:`simulate_coupled`: the chain and several continuous orders on one Brownian path;
* :func:`loss_values`: the loss of a landscape at many states;
* :func:`scaling_rule` (the square-root rule), :func:`regime_hyperparameters`, the closed forms
  of :mod:`kernels.adaptive.theory`, the rules of :mod:`kernels.adaptive.scaling` and the
  studies of :mod:`kernels.adaptive.studies`.

Modules: :mod:`~kernels.adaptive.core` (jitted chain and Euler–Maruyama cores over many paths),
:mod:`~kernels.adaptive.drift` (their drift and noise rows), :mod:`~kernels.adaptive.sde`
(the pointwise coefficients), :mod:`~kernels.adaptive.landscapes` and
:mod:`~kernels.adaptive.soa_landscape` (the landscapes), :mod:`~kernels.adaptive.discrete`
(optimizer codes), :mod:`~kernels.adaptive.simulate` (the entry points),
:mod:`~kernels.adaptive.driver` (validation, state and the chunked common random numbers),
:mod:`~kernels.adaptive.theory`, :mod:`~kernels.adaptive.scaling` and
:mod:`~kernels.adaptive.studies`.

Common random numbers [spec §2.8]: every entry point first takes one integer from ``rng`` (the
seed of the independent W2 stream), then draws the normals ζ of the substeps in fixed chunks of
steps, shape (K, n_sub, n_paths, d). The SDE uses ΔW1 = √h ζ and chain step k uses
ξ_k = Σ_j ζ_{k,j}/√n_sub, so ``simulate_optimizer(..., n_sub=s, rng=seed)`` and
``simulate_sde(..., dt=τ/s, rng=seed)`` are driven by the same Brownian path. Adam's SDEs start
from the chain after two steps (Γ is singular at t = 0), as the authors do.
"""

from __future__ import annotations

import numpy as np

from kernels.adaptive.landscapes import loss_values
from kernels.adaptive.scaling import SCALING_RULES, scaled_sde_parameters, scaling_rule
from kernels.adaptive.simulate import simulate_coupled, simulate_optimizer, simulate_sde
from kernels.adaptive.theory import (
    adam_clock,
    adam_discrete_factor,
    batch_equivalent_u,
    regime_hyperparameters,
    sgd_moments,
    sgd_sde_moments,
    sgd_stationary_variance,
    stability_limit,
)

__all__ = [
    "SCALING_RULES",
    "adam_clock",
    "adam_discrete_factor",
    "batch_equivalent_u",
    "loss_values",
    "regime_hyperparameters",
    "scaled_sde_parameters",
    "scaling_rule",
    "sgd_moments",
    "sgd_sde_moments",
    "sgd_stationary_variance",
    "simulate_coupled",
    "simulate_optimizer",
    "simulate_sde",
    "stability_limit",
    "warmup",
]


def warmup() -> None:
    """Run the public API end to end on tiny inputs (every optimizer and order).

    The submodules' own ``warmup()`` compile their cores first (:func:`kernels.warm_modules`);
    this one exercises the entry points that the app and the studies call.

    Returns
    -------
    None
    """
    for opt, orders in (
        ("sgd", ("ode", "sde1", "sme2")),
        ("rmsprop", ("sde1", "sme2")),
        ("adam", ("ode", "sde1", "sme2")),
    ):
        simulate_coupled(
            opt,
            regime="ballistic",
            orders=orders,
            landscape="quadratic",
            theta0=[1.0, 1.0],
            tau=0.25,
            n_sub=1,
            t_max=0.5,
            n_paths=2,
            rng=0,
        )
    loss_values("quadratic", np.ones((2, 2)))
