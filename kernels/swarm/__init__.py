r"""Swarm escapes: the softmin-energy swarm of spec ``models/swarm.md`` against its baselines.

Agazzi, Carlei, Romito, Saviozzi, *Global Optimization via Softmin Energy Minimization*,
arXiv:2509.17815 [paper]. N particles descend the Boltzmann-weighted mean energy

.. math::

    J_\beta = \sum_i w_i f(x_i),\quad w_i = \frac{e^{-\beta f(x_i)}}{\sum_j e^{-\beta f(x_j)}},
    \quad \partial_{x_i} J_\beta = c_i\nabla f(x_i),\quad c_i = w_i\bigl(1-\beta(f(x_i)-J)\bigr)

(the weighted-mean form and its gradient are [derived]; the paper's exact J is not available),
by :math:`dX_i = -\kappa c_i\nabla f(X_i)dt + \sigma(t)dW_i`. Particles with
:math:`f(x_i) > J + 1/\beta` have :math:`c_i < 0`: they climb, the "explorers".

Public API (names and meanings fixed by the issue): :func:`softmin_weights`,
:func:`softmin_energy`, :func:`objective_value`, :func:`objective_grad`, :func:`simulate`; plus
:func:`softmin_coefficients`, :func:`initial_cloud`, :func:`default_target`,
:func:`make_params` / :class:`SwarmState` / :func:`advance` (the chunked driver the app uses)
and the studies of :mod:`kernels.swarm.studies`.

Modules: :mod:`~kernels.swarm.core` (jitted cores), :mod:`~kernels.swarm.objectives` (the
landscapes), :mod:`~kernels.swarm.softmin` (J, w, c), :mod:`~kernels.swarm.params` (the
validated bundle :class:`SwarmParams`), :mod:`~kernels.swarm.starts` (initial clouds and
targets), :mod:`~kernels.swarm.driver` (state, noise, chunked runs),
:mod:`~kernels.swarm.theory` (closed forms), :mod:`~kernels.swarm.studies` (many-run studies).

Random numbers
--------------
Softmin, Langevin and CBO read normals ξ drawn from ``rng`` with
:func:`kernels.common.normals.standard_normals`, step-major in (step, particle, coordinate) order,
in chunks of an even number of steps: with the same seed and start they consume the same
increments (common random numbers, spec §2), and the output does not depend on the chunking.
PSO reads uniforms ``rng.random`` in (step, 2, particle, coordinate) order instead.
"""

from __future__ import annotations

import numpy as np

from kernels.swarm.driver import (
    CHUNK_STEPS,
    SwarmRun,
    SwarmState,
    advance,
    draw_noise,
    simulate,
)
from kernels.swarm.objectives import OBJECTIVES, objective_grad, objective_value
from kernels.swarm.params import (
    BETA_SCHEDULES,
    BOUNDARIES,
    CBO_NOISES,
    KAPPA_MODES,
    METHODS,
    SIGMA_SCHEDULES,
    SwarmParams,
    make_params,
)
from kernels.swarm.softmin import (
    ENERGY_FORMS,
    softmin_coefficients,
    softmin_energy,
    softmin_weights,
)
from kernels.swarm.starts import INITS, default_target, initial_cloud

__all__ = [
    "BETA_SCHEDULES",
    "BOUNDARIES",
    "CBO_NOISES",
    "CHUNK_STEPS",
    "ENERGY_FORMS",
    "INITS",
    "KAPPA_MODES",
    "METHODS",
    "OBJECTIVES",
    "PAPER",
    "SIGMA_SCHEDULES",
    "SwarmParams",
    "SwarmRun",
    "SwarmState",
    "advance",
    "default_target",
    "draw_noise",
    "initial_cloud",
    "make_params",
    "objective_grad",
    "objective_value",
    "simulate",
    "softmin_coefficients",
    "softmin_energy",
    "softmin_weights",
    "warmup",
]

PAPER = (
    "Agazzi, Carlei, Romito, Saviozzi, Global Optimization via Softmin Energy Minimization, "
    "arXiv:2509.17815"
)


def warmup() -> None:
    r"""Run the public API end to end on tiny inputs (compiles or cache-loads what it calls).

    Every method of :func:`simulate` for 3 steps on the tilted double well
    :math:`f(x) = \tfrac14(x_1^2-1)^2 + \tfrac12 x_2^2 + a x_1` from a 3-particle cloud, then
    the softmin energy, weights and coefficients of two values. Provenance: [derived] (a
    start-up routine; no science of its own).

    Parameters
    ----------
    None

    Returns
    -------
    None
    """
    gen = np.random.default_rng(0)
    x0 = initial_cloud("shallow_well", 3, 2, "tilted_double_well", gen)
    for method in METHODS:
        simulate("tilted_double_well", x0, method=method, n_steps=3, dt=1e-3, rng=gen, stride=2)
    f = objective_value("tilted_double_well", x0)
    objective_grad("tilted_double_well", x0)
    softmin_weights(f, 1.0)
    softmin_energy(f, 1.0)
    softmin_coefficients(np.array([0.0, 1.0]), 1.0)
