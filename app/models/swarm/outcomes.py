"""What the Swarm escapes studies show, computed from their results (spec §4.6).

Pure functions of a finished job's result: the hitting-time histograms and ECDFs, the summary
table's numbers and the Kramers plot with its two theory slopes. The views only draw them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kernels.swarm.theory import barrier_constant, double_well_points

#: Bins of the hitting-time histograms.
HISTOGRAM_BINS = 30


def kappa_of(kappa_mode: str, n_particles: int) -> float:
    """The drift scale κ: N for ``kappa_mode == "N"``, else 1."""
    return float(n_particles) if kappa_mode == "N" else 1.0


def evaluations(study: Any) -> np.ndarray:
    """Evaluations per run of one method: ∇f calls where it takes gradients, else f calls."""
    return np.where(study.grad_evals > 0, study.grad_evals, study.f_evals)


def hitting_distributions(result: dict[str, Any], by_evaluations: bool) -> dict[str, Any]:
    """Histograms and ECDFs of the first hitting times (or of the evaluations to the hit).

    Returns ``{"label", "edges" (bins + 1,), "counts": {method: (bins,)}, "ecdf": {method:
    (x, y)}}``; the time axis ends at the horizon (misses lie beyond it), the evaluation axis
    at the largest count. The ECDF is the fraction of all runs (misses included) that hit.
    """
    studies = result["methods"]
    values = {}
    for m, s in studies.items():
        hit = np.isfinite(s.hit_time)
        values[m] = evaluations(s)[hit].astype(float) if by_evaluations else s.hit_time[hit]
    if by_evaluations:
        top = max([float(v.max()) for v in values.values() if v.size] or [1.0])
    else:
        top = float(result["args"]["t_max"])
    edges = np.linspace(0, top, HISTOGRAM_BINS + 1)
    counts, ecdf = {}, {}
    for m, v in values.items():
        counts[m] = np.histogram(v, bins=edges)[0]
        runs = len(studies[m].hit_time)
        xs = np.concatenate([[0.0], np.sort(v), [top]])
        ys = np.concatenate([[0.0], np.arange(1, v.size + 1) / runs, [v.size / runs]])
        ecdf[m] = (xs, ys)
    label = "evaluations (N per step)" if by_evaluations else "hitting time t"
    return {"label": label, "edges": edges, "counts": counts, "ecdf": ecdf}


def summary_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per method, then dual annealing: ``name``, ``success``, ``se`` (None for
    annealing), ``median_time`` and ``median_evals`` (NaN / None when undefined)."""
    rows = []
    for m, s in result["methods"].items():
        hit = np.isfinite(s.hit_time)
        evals = evaluations(s)[hit]
        rows.append(
            {
                "name": m,
                "success": s.success_rate,
                "se": s.standard_error,
                "median_time": s.median_hit_time,
                "median_evals": int(np.median(evals)) if evals.size else None,
            }
        )
    da = result["annealing"]
    rows.append(
        {
            "name": f"dual annealing ({len(da.hit)} runs, ≤ {da.budget} f-evals)",
            "success": da.success_rate,
            "se": None,
            "median_time": math.nan,
            "median_evals": int(np.median(da.nfev[da.hit])) if da.hit.any() else None,
        }
    )
    return rows


def kramers_lines(result: dict[str, Any]) -> dict[str, np.ndarray]:
    """The Kramers plot: ``x`` = 1/σ², ``log_mean_<method>`` and the two theory lines.

    ``kramers`` has Langevin's slope 2ΔV [literature], ``heuristic`` the swarm's slope
    2 min(ΔV, κ(s_N − 1)/β) [derived]; both anchored at the largest σ (smallest 1/σ²), where
    censoring at the horizon is rarest.
    """
    x = result["inv_sigma2"]
    args = result["args"]
    dv = double_well_points(args["tilt"]).barrier_shallow
    n = args["n_particles"]
    kappa = kappa_of(args["kappa_mode"], n)
    beta = max(args["beta0"], 1e-9)
    slope_h = 2 * min(dv, kappa * (barrier_constant(max(n, 2)) - 1) / beta)
    i = int(np.argmin(x))
    y_l = np.log(result["mean_langevin"])
    y_s = np.log(result["mean_softmin"])
    return {
        "x": x,
        "log_mean_softmin": y_s,
        "log_mean_langevin": y_l,
        "kramers": y_l[i] + 2 * dv * (x - x[i]),
        "heuristic": y_s[i] + slope_h * (x - x[i]),
    }
