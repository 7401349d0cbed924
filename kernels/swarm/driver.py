r"""Chunked driver of the swarm kernels: run state, noise, one advance, whole runs.

Every run takes the validated bundle :class:`kernels.swarm.params.SwarmParams` (from
:func:`kernels.swarm.params.make_params`); :class:`SwarmState` holds one realization between
chunks; :func:`draw_noise` draws the random numbers a method reads and :func:`advance` runs a
chunk through them; :func:`run_chunks` runs a whole realization chunk by chunk and
:func:`simulate` is its public entry point. Re-exported by :mod:`kernels.swarm`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from kernels.common.normals import standard_normals
from kernels.common.progress import Cancelled, ProgressFn, throttled_progress
from kernels.common.validation import choice, integer, resolve_rng
from kernels.swarm.core import METHOD_IDS, run_block
from kernels.swarm.objectives import check_points, objective_value
from kernels.swarm.params import METHODS, SwarmParams, make_params
from kernels.swarm.starts import MAX_DIM

__all__ = [
    "CHUNK_STEPS",
    "SwarmRun",
    "SwarmState",
    "advance",
    "draw_noise",
    "run_chunks",
    "simulate",
]

#: Steps per chunk of drawn noise (even: the normal stream does not depend on the chunking).
CHUNK_STEPS = 512


# ----------------------------------------------------------------------------- state
class SwarmState:
    """Positions and running records of one realization (continued chunk after chunk).

    ``x`` (N, d) positions; ``v``, ``pbest_x``, ``pbest_f`` the PSO velocities and personal
    bests; ``best_x`` (d,) the best point seen; ``t`` the time; ``best`` the best f seen;
    ``n_f_evals``, ``n_grad_evals``, ``n_clipped`` counters; ``hit_step`` the step whose
    positions first hit the target (−1: not yet); ``steps`` the steps done.
    """

    def __init__(self, x0: np.ndarray) -> None:
        self.x = np.array(x0, dtype=np.float64, order="C")
        n, d = self.x.shape
        self.v = np.zeros((n, d))
        self.pbest_x = self.x.copy()
        self.pbest_f = np.full(n, np.inf)
        self.best_x = self.x[0].copy()
        self.record = np.array([0.0, np.inf])  # t, best f
        self.counters = np.array([0, 0, 0, -1, 0], dtype=np.int64)

    t = property(lambda self: float(self.record[0]))
    best = property(lambda self: float(self.record[1]))
    n_f_evals = property(lambda self: int(self.counters[0]))
    n_grad_evals = property(lambda self: int(self.counters[1]))
    n_clipped = property(lambda self: int(self.counters[2]))
    hit_step = property(lambda self: int(self.counters[3]))
    steps = property(lambda self: int(self.counters[4]))

    def copy(self) -> SwarmState:
        other = SwarmState(self.x)
        for name in ("v", "pbest_x", "pbest_f", "best_x", "record", "counters"):
            setattr(other, name, getattr(self, name).copy())
        return other


def draw_noise(rng: np.random.Generator, method: str, n_steps: int, n: int, d: int) -> np.ndarray:
    r"""The random numbers ``method`` reads for ``n_steps`` steps.

    Softmin, Langevin and CBO read normals :math:`\xi \sim \mathcal N(0, 1)` step-major
    (an odd count is padded by one discarded normal, so the stream does not depend on the
    chunking); PSO reads uniforms :math:`u \sim U[0, 1)`. Provenance: [derived] (common random
    numbers, spec §2).

    Parameters
    ----------
    rng : numpy.random.Generator
        The randomness.
    method : {"softmin", "langevin", "cbo", "pso"}
        Which numbers.
    n_steps, n, d : int
        Steps, particles N and dimension d.

    Returns
    -------
    ndarray, shape (n_steps, N, d) or (n_steps, 2, N, d)
        Normals, or the PSO uniforms.
    """
    if method == "pso":
        return rng.random((n_steps, 2, n, d))
    size = n_steps * n * d
    buf = np.empty(size + (size % 2))
    standard_normals(rng, buf)
    return buf[:size].reshape(n_steps, n, d)


_EMPTY_XI = np.zeros((0, 1, 1))
_EMPTY_U = np.zeros((0, 2, 1, 1))
_NO_FRAMES = np.zeros((0, 1, 1))


def advance(
    state: SwarmState,
    params: SwarmParams,
    method: str,
    noise: np.ndarray,
    best_out: np.ndarray | None = None,
    frames: np.ndarray | None = None,
    stride: int = 0,
) -> int:
    r"""Advance ``state`` in place through the pre-drawn ``noise`` of :func:`draw_noise`.

    One Euler–Maruyama step of ``method`` per noise row (see :func:`simulate`), e.g. softmin

    .. math::

        X_i \leftarrow X_i - h\kappa c_i\nabla f(X_i) + \sigma(t)\sqrt h\,\xi_i .

    Provenance: [derived] (the discretization); CBO and PSO [literature].

    Parameters
    ----------
    state : SwarmState
        The realization, positions (N, d); continued and updated.
    params : SwarmParams
        The validated parameters (:func:`make_params`).
    method : {"softmin", "langevin", "cbo", "pso"}
        The dynamics.
    noise : ndarray, shape (n_steps, N, d) or (n_steps, 2, N, d)
        From :func:`draw_noise`.
    best_out : ndarray, shape (n_steps,), optional
        Receives the best-so-far f before each step.
    frames : ndarray, shape (n_frames, N, d), optional
        Receives x every ``stride`` global steps.
    stride : int
        Frame stride (with ``frames``).

    Returns
    -------
    int
        Steps done (fewer than n_steps only when ``stop_at_hit`` stopped at a hit).
    """
    mid = METHOD_IDS[choice("method", method, METHODS)]
    n_steps = noise.shape[0]
    if noise.shape[-2:] != state.x.shape:
        raise ValueError(f"noise must end with shape {state.x.shape}; got {noise.shape}")
    xi, u = (_EMPTY_XI, noise) if mid == 3 else (noise, _EMPTY_U)
    best = np.empty(n_steps) if best_out is None else best_out
    return run_block(
        mid,
        params.obj,
        params.fpar,
        params.ipar,
        state.x,
        state.v,
        state.pbest_x,
        state.pbest_f,
        state.best_x,
        state.record,
        state.counters,
        np.ascontiguousarray(xi),
        np.ascontiguousarray(u),
        n_steps,
        best,
        _NO_FRAMES if frames is None else frames,
        stride if frames is not None else 0,
        params.target,
    )


# ---------------------------------------------------------------------------- runs
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


def run_chunks(
    state: SwarmState,
    params: SwarmParams,
    method: str,
    rng: np.random.Generator,
    n_steps: int,
    stride: int = 1,
    progress: ProgressFn | None = None,
) -> SwarmRun:
    """Run ``state`` for ``n_steps`` steps of ``method`` under the bundle ``params``, in chunks
    of :data:`CHUNK_STEPS` drawn from ``rng``; record every ``stride``-th frame and the
    best-so-far f; evaluate the final positions once more. The body of :func:`simulate`."""
    report = throttled_progress(progress)
    n, d = state.x.shape
    frames = np.empty((n_steps // stride + 1, n, d))
    frames[0] = state.x
    best = np.empty(n_steps + 1)
    done = 0
    while done < n_steps:
        chunk = min(CHUNK_STEPS, n_steps - done)
        noise = draw_noise(rng, method, chunk, n, d)
        k = advance(state, params, method, noise, best[done : done + chunk], frames[1:], stride)
        done += k
        if k < chunk:  # stopped at the hit: hold the state for the rest of the record
            best[done:] = state.best
            frames[state.steps // stride + 1 :] = state.x
            break
        if not report(done / max(n_steps, 1)):
            raise Cancelled(partial=frames[: done // stride + 1], steps_done=done)
    f_end = (
        objective_value(params.objective, state.x, tilt=params.fpar[0])
        if np.all(np.isfinite(state.x))
        else np.full(n, np.nan)
    )
    state.counters[0] += n
    i_best = int(np.nanargmin(f_end)) if np.any(np.isfinite(f_end)) else 0
    if f_end[i_best] < state.best:
        state.record[1] = f_end[i_best]
        state.best_x[:] = state.x[i_best]
    if done == n_steps:
        best[n_steps] = state.best
        if state.hit_step < 0 and params.fpar[15] > 0:
            inside = np.all(np.abs(state.x - params.target) <= params.fpar[15], axis=1)
            if np.any(inside):
                state.counters[3] = n_steps
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

    Softmin [paper: the stochastic gradient flow of a soft-min energy; discretization
    derived]:

    .. math::

        X_i \leftarrow X_i - h\kappa c_i\nabla f(X_i) + \sigma(t)\sqrt h\,\xi_i,\qquad
        c_i = w_i\bigl(1-\beta(t)(f(X_i)-J_\beta)\bigr),

    (drift rescaled to norm ≤ ``step_clip`` if set), then the walls. Langevin: the same with
    :math:`\kappa c_i = 1`. CBO [literature]: :math:`X_i \leftarrow X_i - \lambda h(X_i-m_\alpha)
    + \sigma_c\sqrt h|X_i-m_\alpha|\xi_i`, :math:`m_\alpha=\sum_i w_i X_i`, α = β(t). PSO
    [literature]: gbest with inertia w, coefficients c₁, c₂ (one iteration per step).

    Parameters
    ----------
    objective : str
        One of :data:`OBJECTIVES`.
    x0 : ndarray, shape (N, d)
        Start (not modified), d ≤ 50.
    method : {"softmin", "langevin", "cbo", "pso"}
        The dynamics.
    n_steps : int
        Steps.
    dt : float
        Step size h.
    rng : numpy.random.Generator or int
        The only randomness. Same seed: softmin, Langevin and CBO read the same ξ.
    beta_schedule, beta0, beta_rate, beta_max, sigma_schedule, sigma0, kappa_mode, boundary
        Spec §2 table (see :func:`make_params`).
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
        Frames ``x`` (n_steps // stride + 1, N, d), ``best`` (n_steps + 1,), counters and the
        first hit.
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
    return run_chunks(SwarmState(x), params, method, gen, steps, stride_, progress)
