r"""Many-run studies of the Swarm escapes tab (spec ``models/swarm.md`` §4.6): first hitting
times of the target basin, success rates against β or σ, the Kramers plot, and SciPy's
``dual_annealing`` as a black-box reference row.

Run r of a study starts from its own cloud drawn from ``Generator([seed, r])``, and every
method of that run reads the same normals from that generator after the start (common random
numbers: softmin, Langevin and CBO of run r see identical increments, spec §2); PSO reads its
uniforms from ``Generator([seed, r, 3])``. Each method stops at its first hit (spec §8: hitting
times recorded inside the kernel), and a run stops drawing once every method has hit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kernels.common.progress import Cancelled, ProgressFn, throttled_progress
from kernels.common.validation import choice, integer, real
from kernels.swarm.driver import CHUNK_STEPS, SwarmState, advance, draw_noise
from kernels.swarm.objectives import OBJECTIVES, objective_id, values_grads
from kernels.swarm.params import METHODS, make_params
from kernels.swarm.starts import default_target, initial_cloud

__all__ = [
    "AnnealingStudy",
    "HitStudy",
    "annealing_study",
    "hitting_time_study",
    "kramers_study",
    "success_sweep",
]


@dataclass
class HitStudy:
    """First hitting times of one method over M runs (NaN: no hit by the horizon).

    ``f_evals`` and ``grad_evals`` count evaluations up to the hit (or the horizon); ``best``
    is the best f reached; ``horizon`` the time limit T.
    """

    method: str
    hit_time: np.ndarray
    f_evals: np.ndarray
    grad_evals: np.ndarray
    best: np.ndarray
    horizon: float

    @property
    def success_rate(self) -> float:
        return float(np.mean(np.isfinite(self.hit_time)))

    @property
    def standard_error(self) -> float:
        p = self.success_rate
        return math.sqrt(max(p * (1 - p), 1e-12) / len(self.hit_time))

    @property
    def median_hit_time(self) -> float:
        """Median over all runs, misses counted as +∞ (NaN when at most half the runs hit)."""
        t = np.where(np.isfinite(self.hit_time), self.hit_time, np.inf)
        med = float(np.median(t))
        return med if math.isfinite(med) else math.nan


def _check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    if isinstance(methods, str) or not methods:
        raise ValueError(f"methods must be a non-empty list of {', '.join(METHODS)}")
    return tuple(dict.fromkeys(choice("method", m, METHODS) for m in methods))


def hitting_time_study(
    objective: str,
    *,
    methods: Sequence[str] = ("softmin", "langevin", "cbo"),
    n_runs: int,
    t_max: float,
    dt: float,
    n_particles: int,
    dim: int,
    seed: int,
    init: str = "shallow_well",
    init_spread: float = 0.05,
    progress: ProgressFn | None = None,
    **params: Any,
) -> dict[str, HitStudy]:
    """First hitting times of the target (:func:`kernels.swarm.default_target` unless
    ``hit_target``/``hit_radius`` are given) within ``t_max``, for each method over ``n_runs``
    runs with common random numbers. ``params``: the keyword arguments of
    :func:`kernels.swarm.make_params` (schedules, κ, walls, tilt, CBO/PSO coefficients, …)."""
    ms = _check_methods(methods)
    runs = integer("n_runs", n_runs, 1, 100_000)
    horizon = real("t_max", t_max, 0.0, 1e6, lo_open=True)
    n = integer("n_particles", n_particles, 1, 10_000)
    d = integer("dim", dim, 1, 50)
    seed_ = integer("seed", seed, 0)
    p = make_params(objective, d, n, dt=dt, stop_at_hit=True, **params)
    n_steps = max(1, round(horizon / p.dt))
    report = throttled_progress(progress)
    out = {m: np.full((4, runs), np.nan) for m in ms}
    box = (float(p.fpar[8]), float(p.fpar[9]))
    tilt = float(p.fpar[0])
    for r in range(runs):
        gen = np.random.default_rng([seed_, r])
        x0 = initial_cloud(init, n, d, objective, gen, init_spread, tilt, box)
        gen_pso = np.random.default_rng([seed_, r, 3])
        states = {m: SwarmState(x0) for m in ms}
        active = list(ms)
        done = 0
        while active and done < n_steps:
            chunk = min(CHUNK_STEPS, n_steps - done)
            normals = draw_noise(gen, "softmin", chunk, n, d) if active != ["pso"] else None
            uniforms = draw_noise(gen_pso, "pso", chunk, n, d) if "pso" in active else None
            for m in list(active):
                k = advance(states[m], p, m, uniforms if m == "pso" else normals)
                if k < chunk:
                    active.remove(m)
            done += chunk
            if not report((r + done / n_steps) / runs):
                raise Cancelled(steps_done=r)
        for m in ms:
            s = states[m]
            out[m][:, r] = (
                s.hit_step * p.dt if s.hit_step >= 0 else np.nan,
                s.n_f_evals,
                s.n_grad_evals,
                s.best,
            )
    report(1.0, True)
    return {
        m: HitStudy(m, a[0], a[1].astype(np.int64), a[2].astype(np.int64), a[3], horizon)
        for m, a in out.items()
    }


def success_sweep(
    objective: str,
    *,
    name: str,
    values: Sequence[float],
    progress: ProgressFn | None = None,
    **study: Any,
) -> dict[str, np.ndarray]:
    """Success rate by the horizon of each method as ``name`` ("beta0" or "sigma0") takes each
    of ``values``; the other arguments are those of :func:`hitting_time_study`. Returns
    ``{"values": …, method: rates, method + "_se": standard errors}``."""
    choice("name", name, ("beta0", "sigma0"))
    vals = [real(name, v, 0.0, 1e6) for v in values]
    if not vals:
        raise ValueError("values must not be empty")
    report = throttled_progress(progress)
    rows: dict[str, list[float]] = {}
    for i, value in enumerate(vals):

        def sub(fraction: float, i: int = i) -> bool:
            return report((i + fraction) / len(vals))

        res = hitting_time_study(objective, progress=sub, **{**study, name: value})
        for m, s in res.items():
            rows.setdefault(m, []).append(s.success_rate)
            rows.setdefault(m + "_se", []).append(s.standard_error)
    report(1.0, True)
    return {"values": np.asarray(vals), **{k: np.asarray(v) for k, v in rows.items()}}


def kramers_study(
    *,
    sigmas: Sequence[float],
    progress: ProgressFn | None = None,
    **study: Any,
) -> dict[str, np.ndarray]:
    """Mean first hitting time against 1/σ² on the tilted double well (the Kramers plot).

    Misses are censored at the horizon: ``mean_<method>`` is the mean of min(τ, T) (a lower
    bound of E τ) and ``censored_<method>`` the fraction of misses. Other arguments as in
    :func:`hitting_time_study` (objective fixed to the double well)."""
    vals = [real("sigma", s, 0.0, 100.0, lo_open=True) for s in sigmas]
    if not vals:
        raise ValueError("sigmas must not be empty")
    report = throttled_progress(progress)
    out: dict[str, list[float]] = {}
    for i, sigma in enumerate(vals):

        def sub(fraction: float, i: int = i) -> bool:
            return report((i + fraction) / len(vals))

        res = hitting_time_study("tilted_double_well", progress=sub, **{**study, "sigma0": sigma})
        for m, s in res.items():
            tau = np.where(np.isfinite(s.hit_time), s.hit_time, s.horizon)
            out.setdefault("mean_" + m, []).append(float(np.mean(tau)))
            out.setdefault("censored_" + m, []).append(1.0 - s.success_rate)
    report(1.0, True)
    return {
        "sigma": np.asarray(vals),
        "inv_sigma2": 1.0 / np.asarray(vals) ** 2,
        **{k: np.asarray(v) for k, v in out.items()},
    }


@dataclass
class AnnealingStudy:
    """SciPy ``dual_annealing`` runs: ``nfev`` evaluations until the target was hit (the
    budget if never), ``hit`` flags and the best value found."""

    nfev: np.ndarray
    hit: np.ndarray
    best: np.ndarray
    budget: int

    @property
    def success_rate(self) -> float:
        return float(np.mean(self.hit))


def annealing_study(
    objective: str,
    *,
    dim: int,
    n_runs: int,
    max_evals: int,
    seed: int,
    tilt: float = 0.1,
    box: tuple[float, float] | None = None,
    hit_target: np.ndarray | None = None,
    hit_radius: float | None = None,
    progress: ProgressFn | None = None,
) -> AnnealingStudy:
    """SciPy's ``dual_annealing`` (black-box, single point) with ``maxfun=max_evals`` per run,
    stopped once a minimum it reports lies within sup-norm ``hit_radius`` of the target."""
    from scipy.optimize import dual_annealing  # scipy is an app dependency; import on use

    obj = objective_id(objective)
    d = integer("dim", dim, 1, 50)
    runs = integer("n_runs", n_runs, 1, 100_000)
    budget = integer("max_evals", max_evals, 10)
    target, radius = default_target(objective, d, tilt)
    if hit_target is not None:
        target = np.asarray(hit_target, dtype=float)
    radius = radius if hit_radius is None else float(hit_radius)
    lo, hi = box if box is not None else OBJECTIVES[objective][1:3]
    report = throttled_progress(progress)
    nfev = np.zeros(runs, dtype=np.int64)
    hit = np.zeros(runs, dtype=bool)
    best = np.zeros(runs)
    f1 = np.empty(1)
    g1 = np.empty((1, 1))
    count = [0, -1]  # evaluations so far, evaluations at the hit (reset per run)

    def f(x: np.ndarray) -> float:
        count[0] += 1
        values_grads(obj, np.ascontiguousarray(x, dtype=float)[None], tilt, f1, g1, False)
        return float(f1[0])

    def callback(x: np.ndarray, fx: float, context: int) -> bool:
        if np.max(np.abs(x - target)) <= radius:
            count[1] = count[0]
            return True
        return False

    for r in range(runs):
        count[:] = [0, -1]

        res = dual_annealing(
            f,
            [(lo, hi)] * d,
            maxfun=budget,
            rng=np.random.default_rng([seed, r]),
            callback=callback,
        )
        hit[r] = count[1] >= 0 or bool(np.max(np.abs(res.x - target)) <= radius)
        nfev[r] = count[1] if count[1] >= 0 else min(count[0], budget)
        best[r] = res.fun
        if not report((r + 1) / runs):
            raise Cancelled(steps_done=r + 1)
    return AnnealingStudy(nfev, hit, best, budget)
