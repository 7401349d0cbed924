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
:func:`make_params` / :class:`SwarmState` / :func:`advance` (the chunked driver the app uses,
from :mod:`kernels.swarm.driver`)
and the studies of :mod:`kernels.swarm.studies`.

Random numbers
--------------
Softmin, Langevin and CBO read normals ξ drawn from ``rng`` with
:func:`kernels.common.normals.standard_normals`, step-major in (step, particle, coordinate) order,
in chunks of an even number of steps: with the same seed and start they consume the same
increments (common random numbers, spec §2), and the output does not depend on the chunking.
PSO reads uniforms ``rng.random`` in (step, 2, particle, coordinate) order instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from kernels.common.progress import Cancelled, ProgressFn, throttled_progress
from kernels.common.validation import choice, integer, real, resolve_rng
from kernels.swarm.core import softmin_stats
from kernels.swarm.driver import (
    BETA_SCHEDULES,
    BOUNDARIES,
    CBO_NOISES,
    CHUNK_STEPS,
    ENERGY_FORMS,
    INITS,
    KAPPA_MODES,
    MAX_DIM,
    METHODS,
    SIGMA_SCHEDULES,
    SwarmParams,
    SwarmState,
    advance,
    check_points,
    default_target,
    draw_noise,
    initial_cloud,
    make_params,
)
from kernels.swarm.objectives import OBJECTIVES, objective_id, values_grads

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


# ------------------------------------------------------------------------------ energy
def _f_array(f_values: object) -> np.ndarray:
    f = np.asarray(f_values, dtype=np.float64)
    if f.ndim != 1 or f.size < 1:
        raise ValueError(f"f_values must be a non-empty 1-D array; got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("f_values must be finite")
    return np.ascontiguousarray(f)


def _stats(f_values: object, beta: float, energy_form: str) -> tuple[np.ndarray, np.ndarray, float]:
    f = _f_array(f_values)
    b = real("beta", beta, 0.0, 1e12)
    lse = choice("energy_form", energy_form, ENERGY_FORMS) == "log_sum_exp"
    w = np.empty_like(f)
    c = np.empty_like(f)
    j = softmin_stats(f, b, lse, w, c)
    return w, c, j


def softmin_weights(f_values: np.ndarray, beta: float) -> np.ndarray:
    r"""Boltzmann weights :math:`w_i = e^{-\beta f_i}/\sum_j e^{-\beta f_j}` (spec §2).

    Computed as :math:`e^{-\beta(f_i-\min f)}` normalized, so no overflow for any β ≥ 0.
    ``f_values``: shape (N,); returns shape (N,), summing to 1.
    """
    return _stats(f_values, beta, "weighted_mean")[0]


def softmin_energy(f_values: np.ndarray, beta: float, energy_form: str = "weighted_mean") -> float:
    r"""Softmin energy :math:`J_\beta=\sum_i w_i f_i` (or :math:`-\beta^{-1}\log\sum e^{-\beta
    f_i}` for ``energy_form="log_sum_exp"``, spec §3). [derived]"""
    return float(_stats(f_values, beta, energy_form)[2])


def softmin_coefficients(
    f_values: np.ndarray, beta: float, energy_form: str = "weighted_mean"
) -> np.ndarray:
    r""":math:`c_i = \partial J/\partial f_i = w_i(1-\beta(f_i-J))` (weighted mean) or
    :math:`w_i` (log-sum-exp), so :math:`\nabla_{x_i}J = c_i\nabla f(x_i)` [derived]."""
    return _stats(f_values, beta, energy_form)[1]


# -------------------------------------------------------------------------- objectives
def objective_value(name: str, x: np.ndarray, tilt: float = 0.1) -> np.ndarray:
    """f at each row of ``x`` (n, d); ``tilt`` is the a of the tilted double well."""
    obj = objective_id(name)
    pts = check_points(x)
    f = np.empty(len(pts))
    values_grads(obj, pts, real("tilt", tilt, -10.0, 10.0), f, np.empty((1, 1)), False)
    return f


def objective_grad(name: str, x: np.ndarray, tilt: float = 0.1) -> np.ndarray:
    """∇f at each row of ``x`` (n, d) → (n, d) (Ackley: the cusp term is 0 at the origin)."""
    obj = objective_id(name)
    pts = check_points(x)
    f = np.empty(len(pts))
    g = np.empty_like(pts)
    values_grads(obj, pts, real("tilt", tilt, -10.0, 10.0), f, g, True)
    return g


# -------------------------------------------------------------------------- simulate
@dataclass
class SwarmRun:
    """Result of :func:`simulate`.

    ``x`` (n_steps // stride + 1, N, d) positions (frame 0 = x0); ``best`` (n_steps + 1,)
    best-so-far f over the positions up to each step; ``best_x`` (d,); ``n_f_evals``,
    ``n_grad_evals`` (the final positions are evaluated once more, f only, for ``best[-1]``);
    ``n_clipped`` clipped particle-steps; ``hit_step`` first step whose positions hit the
    target (−1: none); ``t`` the time reached; ``dt``.
    """

    x: np.ndarray
    best: np.ndarray
    best_x: np.ndarray
    n_f_evals: int
    n_grad_evals: int
    n_clipped: int
    hit_step: int
    t: float
    dt: float

    @property
    def hit_time(self) -> float:
        """Time of the first hit (NaN if none)."""
        return self.hit_step * self.dt if self.hit_step >= 0 else math.nan


def simulate(
    objective: str,
    x0: np.ndarray,
    *,
    method: str,
    n_steps: int,
    dt: float,
    rng: np.random.Generator | int,
    beta_schedule: str = "constant",
    beta0: float = 20.0,
    beta_rate: float = 0.2,
    beta_max: float = 1000.0,
    sigma_schedule: str = "constant",
    sigma0: float = 0.25,
    kappa_mode: str = "N",
    boundary: str = "reflect",
    stride: int = 1,
    progress: ProgressFn | None = None,
    **method_params: Any,
) -> SwarmRun:
    r"""Run one realization of ``method`` on ``objective`` from ``x0`` (spec §2–§3).

    Softmin: :math:`X_i \leftarrow X_i - h\kappa c_i\nabla f(X_i) + \sigma(t)\sqrt h\,\xi_i`
    (drift rescaled to norm ≤ ``step_clip`` if set), then the walls. Langevin: the same with
    :math:`\kappa c_i = 1`. CBO [literature]: :math:`X_i \leftarrow X_i - \lambda h(X_i-m_\alpha)
    + \sigma_c\sqrt h|X_i-m_\alpha|\xi_i`, :math:`m_\alpha=\sum_i w_i X_i`, α = β(t). PSO: gbest
    with inertia w, coefficients c₁, c₂ (one iteration per step).

    Parameters
    ----------
    objective : str
        One of :data:`OBJECTIVES`.
    x0 : ndarray, shape (N, d)
        Start (not modified).
    method : {"softmin", "langevin", "cbo", "pso"}
    n_steps, dt : int, float
        Steps and step size h.
    rng : numpy.random.Generator or int
        The only randomness. Same seed: softmin, Langevin and CBO read the same ξ.
    beta_schedule, beta0, beta_rate, beta_max, sigma_schedule, sigma0, kappa_mode, boundary
        Spec §2 table.
    stride : int
        Keep every ``stride``-th position frame.
    progress : callable, optional
        ``progress(fraction) -> bool``; False raises :class:`Cancelled`.
    **method_params
        ``tilt``, ``box``, ``energy_form``, ``step_clip``, ``cbo_lambda``, ``cbo_sigma``,
        ``cbo_noise``, ``pso_w``, ``pso_c1``, ``pso_c2``, ``hit_target``, ``hit_radius``,
        ``stop_at_hit`` (see :func:`make_params`).

    Returns
    -------
    SwarmRun
    """
    choice("method", method, METHODS)
    x = check_points(x0, MAX_DIM)
    steps = integer("n_steps", n_steps, 0, 10**9)
    stride_ = integer("stride", stride, 1)
    gen = resolve_rng(rng)
    n, d = x.shape
    params = make_params(
        objective,
        d,
        n,
        dt=dt,
        beta_schedule=beta_schedule,
        beta0=beta0,
        beta_rate=beta_rate,
        beta_max=beta_max,
        sigma_schedule=sigma_schedule,
        sigma0=sigma0,
        kappa_mode=kappa_mode,
        boundary=boundary,
        **method_params,
    )
    report = throttled_progress(progress)
    state = SwarmState(x)
    frames = np.empty((steps // stride_ + 1, n, d))
    frames[0] = x
    best = np.empty(steps + 1)
    done = 0
    while done < steps:
        chunk = min(CHUNK_STEPS, steps - done)
        noise = draw_noise(gen, method, chunk, n, d)
        k = advance(state, params, method, noise, best[done : done + chunk], frames[1:], stride_)
        done += k
        if k < chunk:  # stopped at the hit: hold the state for the rest of the record
            best[done:] = state.best
            frames[state.steps // stride_ + 1 :] = state.x
            break
        if not report(done / max(steps, 1)):
            raise Cancelled(partial=frames[: done // stride_ + 1], steps_done=done)
    f_end = (
        objective_value(objective, state.x, tilt=params.fpar[0])
        if np.all(np.isfinite(state.x))
        else np.full(n, np.nan)
    )
    state.counters[0] += n
    i_best = int(np.nanargmin(f_end)) if np.any(np.isfinite(f_end)) else 0
    if f_end[i_best] < state.best:
        state.record[1] = f_end[i_best]
        state.best_x[:] = state.x[i_best]
    if done == steps:
        best[steps] = state.best
        if state.hit_step < 0 and params.fpar[15] > 0:
            inside = np.all(np.abs(state.x - params.target) <= params.fpar[15], axis=1)
            if np.any(inside):
                state.counters[3] = steps
    report(1.0, True)
    return SwarmRun(
        x=frames,
        best=best,
        best_x=state.best_x.copy(),
        n_f_evals=state.n_f_evals,
        n_grad_evals=state.n_grad_evals,
        n_clipped=state.n_clipped,
        hit_step=state.hit_step,
        t=state.t,
        dt=params.dt,
    )


def warmup() -> None:
    """Compile (or load from the numba cache) every core the tab runs, on tiny inputs."""
    from kernels.swarm import core as swarm_core
    from kernels.swarm import objectives as swarm_objectives

    swarm_objectives.warmup()
    swarm_core.warmup()
    gen = np.random.default_rng(0)
    x0 = initial_cloud("shallow_well", 3, 2, "tilted_double_well", gen)
    for method in METHODS:
        simulate("tilted_double_well", x0, method=method, n_steps=3, dt=1e-3, rng=gen, stride=2)
    softmin_coefficients(np.array([0.0, 1.0]), 1.0)
