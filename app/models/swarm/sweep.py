r"""Parameter sweeps of the Swarm escapes tab (issue 15): outcomes, parameters, one replicate.

One replicate is one escape race to the horizon T: the softmin swarm and its three baselines
(independent Langevin, CBO, gbest PSO) start from the same cloud and, softmin, Langevin and CBO,
read the same normals (common random numbers, spec ``models/swarm.md`` §2). Every method runs
the whole horizon (no stop at the hit), so the best f found is the best by T, and the cost of a
replicate depends on the parameters only, not on when the methods hit. The run is exactly run 0
of :func:`kernels.swarm.studies.hitting_time_study` with the same seed (the same generators,
``Generator([seed, 0])`` for the start and the normals and ``Generator([seed, 0, 3])`` for the
PSO uniforms), continued past the hits: its hits and hitting times are that study's.

Outcomes, for each method m ∈ {softmin, Langevin, CBO, PSO} (the issue's list):

* ``success_<m>``: 1 if the method hit the target basin by T, else 0; over replicates its mean
  is the success rate by the horizon;
* ``hit_time_<m>``: the first hitting time, censored at T (a miss counts as T; the mean over
  replicates is a lower bound of E τ, as in the Kramers study);
* ``best_f_<m>``: the best f any of its particles reached by T;

and ``success_gain``, softmin's success minus Langevin's in the same replicate (paired by the
common random numbers, so its standard error is that of the paired difference).

The hit test is the studies' (:func:`kernels.swarm.default_target`): a particle within sup-norm
r of the global minimizer x* (double well: the deep minimum, r = 0.5; Ackley, Rastrigin,
quadratic: 0, r = 0.25; Styblinski–Tang: −2.903534·1, r = 0.5; Rosenbrock: 1, r = 0.25).

Parameters: the dimension is ``study_dim`` (1–50, the studies' dimension; the animated ``dim``
is not used), the seed is the replicate's (the ``seed`` param is not used), and the display
params (``speed``, ghost toggles) and ``n_runs`` have no effect. ``fixed`` is empty: at the
live defaults (T = 60, h = 2e-3, N = 10, d = 2: 30 000 steps of four methods) a replicate
takes about 0.03 s (see :func:`seconds`), well within the 0.2 s a default sweep allows.

The headline pair is σ₀ × β₀ (the issue's choice): the noise against the inverse temperature,
the plane in which the swarm's advantage over Langevin opens up as σ shrinks (spec §4.6,
"The advantage grows as σ shrinks") and in which a too-large β traps the swarm (spec §5 P5).
The boundary is the Euler step's stability line hκL(1 + (N−1)/e) = 1 (spec §2) [derived],
drawn whenever the step h or the swarm size N is swept (none on Ackley, which has no global L).

Agazzi, Carlei, Romito, Saviozzi, arXiv:2509.17815 [paper].
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from app.models.swarm import costs
from app.models.swarm.params import SwarmControls
from app.sweeps.spec import Curve, ModelSweep, Outcome
from kernels import swarm
from kernels.swarm.objectives import OBJECTIVES

__all__ = [
    "METHODS",
    "SWEEP",
    "critical_dt",
    "critical_n",
    "outcomes",
    "run",
    "seconds",
    "stability_boundary",
]

#: The methods of a replicate, in the order of the outcomes.
METHODS = ("softmin", "langevin", "cbo", "pso")
_NAMES = {"softmin": "softmin", "langevin": "Langevin", "cbo": "CBO", "pso": "PSO"}
_PROVENANCE = {
    "softmin": "[paper] dynamics, [derived] discretization",
    "langevin": "[literature]",
    "cbo": "[literature]",
    "pso": "[literature]",
}

#: Numeric params worth sweeping, most useful first.
PARAMETERS = (
    "sigma0",
    "beta0",
    "n_particles",
    "tilt",
    "dt",
    "beta_rate",
    "t_max",
    "study_dim",
    "init_spread",
    "step_clip",
    "beta_max",
    "cbo_lambda",
    "cbo_sigma",
    "pso_w",
    "pso_c1",
    "pso_c2",
)


def outcomes() -> tuple[Outcome, ...]:
    r"""The outcomes of one replicate, the default (softmin's success) first.

    With :math:`\tau_m = h\min\{k < n : \exists i,\ \|X^m_i(kh) - x^\star\|_\infty \le r\}`
    (n = round(T/h) steps):

    .. math::

        S_m = \mathbf 1\{\tau_m < T\},\qquad \min(\tau_m, T),\qquad
        \min_{i,\,0\le k\le n} f\bigl(X^m_i(kh)\bigr),\qquad S_{\rm softmin} - S_{\rm Langevin}.

    Provenance: the softmin dynamics [paper] with its discretization [derived]; Langevin, CBO
    and PSO [literature]; the hit test and radii [derived] (chosen for this app, spec §4.6).

    Returns
    -------
    tuple of Outcome
        ``success_<m>`` for the four methods, ``success_gain``, ``hit_time_<m>``,
        ``best_f_<m>``.
    """
    out = [
        Outcome(
            f"success_{m}",
            f"success by T, {_NAMES[m]}",
            "",
            "higher",
            f"1 if a {_NAMES[m]} particle came within sup-norm r of the global minimizer by the "
            f"horizon T, else 0; the mean over replicates is the success rate "
            f"({_PROVENANCE[m]}).",
        )
        for m in METHODS
    ]
    out.append(
        Outcome(
            "success_gain",
            "success gain, softmin − Langevin",
            "",
            "higher",
            "Softmin's success minus Langevin's in the same replicate (same start, same noise), "
            "so the mean is the paired difference of the success rates ([derived]).",
        )
    )
    out += [
        Outcome(
            f"hit_time_{m}",
            f"hitting time, {_NAMES[m]} (T if missed)",
            "",
            "lower",
            f"First time a {_NAMES[m]} particle was within sup-norm r of the global minimizer, "
            f"censored at T (a miss counts as T); the mean is a lower bound of E τ "
            f"({_PROVENANCE[m]}).",
        )
        for m in METHODS
    ]
    out += [
        Outcome(
            f"best_f_{m}",
            f"best f found, {_NAMES[m]}",
            "",
            "lower",
            f"Smallest f over every {_NAMES[m]} particle and step up to T, the last positions "
            f"included ({_PROVENANCE[m]}).",
        )
        for m in METHODS
    ]
    return tuple(out)


def _kernel_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :func:`kernels.swarm.make_params`, as the live model builds them
    (:meth:`app.models.swarm.model.SwarmModel.kernel_kwargs`: the tilt only on the double well)."""
    objective = values["objective"]
    return dict(
        dt=float(values["dt"]),
        beta_schedule=values["beta_schedule"],
        beta0=float(values["beta0"]),
        beta_rate=float(values["beta_rate"]),
        beta_max=float(values["beta_max"]),
        sigma_schedule=values["sigma_schedule"],
        sigma0=float(values["sigma0"]),
        kappa_mode=values["kappa_mode"],
        boundary=values["boundary"],
        tilt=float(values["tilt"]) if objective == "tilted_double_well" else 0.0,
        energy_form=values["energy_form"],
        step_clip=float(values["step_clip"]),
        cbo_lambda=float(values["cbo_lambda"]),
        cbo_sigma=float(values["cbo_sigma"]),
        pso_w=float(values["pso_w"]),
        pso_c1=float(values["pso_c1"]),
        pso_c2=float(values["pso_c2"]),
    )


def _sizes(values: Mapping[str, Any]) -> tuple[int, int, int]:
    """(steps n = round(T/h) ≥ 1, particles N, dimension d) of a replicate."""
    n_steps = max(1, round(float(values["t_max"]) / float(values["dt"])))
    return n_steps, round(float(values["n_particles"])), round(float(values["study_dim"]))


def run(values: Mapping[str, Any], seed: int) -> dict[str, float]:
    r"""One replicate: the four methods from one start to the horizon T; every outcome.

    Softmin [paper; discretization derived], with Langevin the same at :math:`\kappa c_i = 1`
    and CBO [literature] reading the same normals ξ:

    .. math::

        X_i \leftarrow X_i - h\kappa c_i\nabla f(X_i) + \sigma(t)\sqrt h\,\xi_i,\qquad
        c_i = w_i\bigl(1-\beta(t)(f(X_i)-J_\beta)\bigr),

    then the walls; PSO [literature] reads its own uniforms. The steps are those of the live
    view (:func:`kernels.swarm.draw_noise` and :func:`kernels.swarm.advance`, chunk by chunk);
    the start is :func:`kernels.swarm.initial_cloud` and the generators are those of run 0 of
    :func:`kernels.swarm.studies.hitting_time_study` with the same seed.

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`~app.models.swarm.params.SwarmControls` by name (the
        dimension is ``study_dim``; ``seed``, ``dim``, ``n_runs`` and the display params are
        not used).
    seed : int
        The replicate's seed (≥ 0).

    Returns
    -------
    dict of str to float
        Every outcome of :func:`outcomes` (see there for the equations). A method whose
        positions ended non-finite (diverged) reports inf for each of its outcomes (the
        engine's mark of a diverged run), and ``success_gain`` is then inf too.

    Raises
    ------
    ValueError
        For a combination the kernels refuse (named by :func:`kernels.swarm.make_params` or
        :func:`kernels.swarm.initial_cloud`).
    """
    objective = values["objective"]
    n_steps, n, d = _sizes(values)
    kwargs = _kernel_kwargs(values)
    params = swarm.make_params(objective, d, n, **kwargs)
    gen = np.random.default_rng([int(seed), 0])
    gen_pso = np.random.default_rng([int(seed), 0, 3])
    x0 = swarm.initial_cloud(
        values["init"], n, d, objective, gen, float(values["init_spread"]), kwargs["tilt"]
    )
    states = {m: swarm.SwarmState(x0) for m in METHODS}
    best = np.empty(swarm.CHUNK_STEPS)
    done = 0
    while done < n_steps:
        chunk = min(swarm.CHUNK_STEPS, n_steps - done)
        normals = swarm.draw_noise(gen, "softmin", chunk, n, d)
        uniforms = swarm.draw_noise(gen_pso, "pso", chunk, n, d)
        for m in METHODS:
            swarm.advance(states[m], params, m, uniforms if m == "pso" else normals, best[:chunk])
        done += chunk
    horizon = n_steps * params.dt
    out: dict[str, float] = {}
    for m, s in states.items():
        if not np.all(np.isfinite(s.x)):  # diverged
            out[f"success_{m}"] = out[f"hit_time_{m}"] = out[f"best_f_{m}"] = math.inf
            continue
        hit = s.hit_step >= 0
        out[f"success_{m}"] = 1.0 if hit else 0.0
        out[f"hit_time_{m}"] = s.hit_step * params.dt if hit else horizon
        f_end = swarm.objective_value(objective, s.x, kwargs["tilt"])
        out[f"best_f_{m}"] = float(min(s.best, float(np.min(f_end))))
    pair = (out["success_softmin"], out["success_langevin"])
    out["success_gain"] = math.inf if math.inf in pair else pair[0] - pair[1]
    return {o.name: out[o.name] for o in OUTCOMES}


# Calibration of :func:`seconds`. costs.STEP_NS / COORD_NS price one method drawing its own
# noise (the studies' ghosts) and were measured under heavier load; run() draws the normals once
# for three methods. Measured here (2-core reference machine, other helpers' sessions running,
# fastest of 3 replicates after compilation) against costs.step_seconds for the four methods:
#   defaults (double well, N = 10, d = 2, 30 000 steps)      0.029 s, costs 0.069 s
#   N = 50, d = 10, T = 12 (6 000 steps)                      0.096 s, costs 0.29 s
#   Rastrigin, N = 20, d = 5, h = 1e-3, T = 30 (30 000 steps) 0.16 s,  costs 0.39 s
#   quadratic, N = 200, d = 50, h = 1e-2, T = 1 (100 steps)   0.032 s, costs 0.050 s
#   Ackley P5-like, N = 20, d = 2, 10 000 steps               0.035 s, costs 0.048 s
#   N = 2, d = 1, 100 steps                                   0.0003 s
# STEP_FACTOR = 0.5 and OVERHEAD_SECONDS = 0.2 ms put every one of them within 0.65x–1.6x.
#: Factor from :func:`app.models.swarm.costs.step_seconds` (four methods) to one step of run().
STEP_FACTOR = 0.5
#: Seconds of a replicate besides its steps (parameters, start, the per-method records).
OVERHEAD_SECONDS = 2e-4


def seconds(values: Mapping[str, Any]) -> float:
    r"""Estimated single-core seconds of one replicate (:func:`run`) at ``values``.

    .. math::

        t \approx t_0 + \phi\, n \sum_{m} \bigl(a_m + b_m(f)\,N d\bigr),\qquad n = T/h,

    with :math:`a_m, b_m` the per-step and per-coordinate constants of
    :mod:`app.models.swarm.costs` (per landscape f), :math:`\phi` = :data:`STEP_FACTOR` and
    :math:`t_0` = :data:`OVERHEAD_SECONDS`. Every method runs to T, so this is the cost, not
    a worst case. Provenance: [derived] (measured, see the comment above
    :data:`STEP_FACTOR`).

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`~app.models.swarm.params.SwarmControls` by name.

    Returns
    -------
    float
        Seconds.
    """
    n_steps, n, d = _sizes(values)
    per_step = costs.step_seconds(values["objective"], costs.ALL_METHODS, n, d)
    return OVERHEAD_SECONDS + STEP_FACTOR * n_steps * per_step


# ---------------------------------------------------------------------------- boundary
def critical_dt(n: float | np.ndarray, kappa_mode: str, lipschitz: float) -> np.ndarray:
    r"""The largest stable step :math:`h^\ast(N) = 1/\bigl(\kappa L(1+(N-1)/e)\bigr)`, κ = N or 1.

    Provenance: [derived] (spec §2: :math:`c_i \le 1 + (N-1)/e`, so the Euler step is stable
    while :math:`h\kappa L(1+(N-1)/e) < 1`).

    Parameters
    ----------
    n : float or ndarray
        Swarm size N ≥ 1 (real values allowed, for drawing).
    kappa_mode : {"N", "1"}
        The drift scale κ.
    lipschitz : float
        L, the Lipschitz constant of ∇f on the box.

    Returns
    -------
    ndarray
        :math:`h^\ast`, the shape of ``n``.
    """
    n = np.asarray(n, dtype=float)
    kappa = n if kappa_mode == "N" else np.ones_like(n)
    return 1.0 / (kappa * lipschitz * (1.0 + (n - 1.0) / math.e))


def critical_n(dt: float, kappa_mode: str, lipschitz: float) -> float:
    r"""The swarm size :math:`N^\ast` at which :math:`h\kappa L(1+(N-1)/e) = 1`.

    κ = N: the positive root of :math:`(hL/e)N^2 + hL(1-1/e)N - 1 = 0`; κ = 1:
    :math:`N^\ast = 1 + e(1/(hL) - 1)`. Larger swarms are unstable. Provenance: [derived].

    Parameters
    ----------
    dt : float
        The step h > 0.
    kappa_mode : {"N", "1"}
        The drift scale κ.
    lipschitz : float
        L > 0.

    Returns
    -------
    float
        :math:`N^\ast` (may be below 1: then every swarm is unstable at this h).
    """
    hl = dt * lipschitz
    if kappa_mode != "N":
        return 1.0 + math.e * (1.0 / hl - 1.0)
    a, b = hl / math.e, hl * (1.0 - 1.0 / math.e)
    return 2.0 / (b + math.sqrt(b * b + 4.0 * a))  # = (−b + √(b² + 4a)) / 2a, without cancellation


def stability_boundary(
    values: Mapping[str, Any],
    x: str,
    y: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
) -> list[Curve]:
    r"""The stability line :math:`h\kappa L(1+(N-1)/e) = 1` in the (x, y) plane.

    Drawn when the step h (``dt``) or the swarm size N (``n_particles``) is an axis: the curve
    :math:`h^\ast(N)` (:func:`critical_dt`) when both are, else a straight line at
    :math:`h^\ast` or :math:`N^\ast` (:func:`critical_n`) of the other parameters; clipped to
    the ranges. Below the line (smaller h or N) the Euler step is stable. Provenance:
    [derived] (spec §2).

    Parameters
    ----------
    values : mapping
        The other parameters (``objective``, ``kappa_mode``, ``dt``, ``n_particles``).
    x, y : str
        The swept parameters.
    x_range, y_range : (float, float)
        The plotted ranges.

    Returns
    -------
    list of Curve
        One polyline (x values, y values), or ``[]``: neither axis is h or N, the line lies
        outside the ranges, or f has no global Lipschitz constant (Ackley).
    """
    lipschitz = OBJECTIVES[values["objective"]].lipschitz
    if lipschitz is None or not {x, y} & {"dt", "n_particles"}:
        return []
    mode = values["kappa_mode"]
    x_lo, x_hi = sorted(map(float, x_range))
    y_lo, y_hi = sorted(map(float, y_range))
    if {x, y} == {"dt", "n_particles"}:
        h_lo, h_hi = (x_lo, x_hi) if x == "dt" else (y_lo, y_hi)
        n_lo, n_hi = (y_lo, y_hi) if x == "dt" else (x_lo, x_hi)
        # h*(N) decreases in N: the part inside the box is N between N*(h_hi) and N*(h_lo)
        a = max(n_lo, 1.0, critical_n(h_hi, mode, lipschitz))
        b = min(n_hi, critical_n(h_lo, mode, lipschitz)) if h_lo > 0 else n_hi
        if not a < b:
            return []
        n = np.geomspace(a, b, 200)
        h = critical_dt(n, mode, lipschitz)
        return [(h, n) if x == "dt" else (n, h)]
    if "dt" in (x, y):
        at = float(critical_dt(values["n_particles"], mode, lipschitz))
        lo, hi = (x_lo, x_hi) if x == "dt" else (y_lo, y_hi)
    else:
        at = critical_n(float(values["dt"]), mode, lipschitz)
        lo, hi = (x_lo, x_hi) if x == "n_particles" else (y_lo, y_hi)
    if not lo <= at <= hi:
        return []
    if x in ("dt", "n_particles"):
        return [(np.array([at, at]), np.array([y_lo, y_hi]))]
    return [(np.array([x_lo, x_hi]), np.array([at, at]))]


OUTCOMES = outcomes()

SWEEP = ModelSweep(
    slug="swarm",
    params_class=SwarmControls,
    parameters=PARAMETERS,
    headline=("sigma0", "beta0"),
    outcomes=OUTCOMES,
    run=run,
    seconds=seconds,
    boundary=stability_boundary,
    boundary_label="hκL(1+(N−1)/e) = 1: the Euler step's stability limit",
    fixed={},
    # at T = 60 both Langevin and softmin hit in every run from σ ≈ 0.4 up: the soft bounds
    # (0 to 3) would spend most of the grid where nothing differs
    ranges={"sigma0": (0.05, 0.8)},
)
