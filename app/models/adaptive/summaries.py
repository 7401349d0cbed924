"""Summaries of the Adaptive SGD ensembles that the panels draw (plain numpy, no UI).

The views show only what the model computes: a cloud's 1-σ covariance ellipse, the density
histograms of the paths at the cursor, the loss bands, and the weak-error curves with their
slope guides all come from here, through :class:`app.models.adaptive.model.AdaptiveModel`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Floor of losses and errors drawn on logarithmic axes.
LOG_FLOOR = 1e-12


def covariance_ellipse(
    points: np.ndarray, n: int = 48, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``scale``-σ ellipse of a 2-D cloud ``points`` (n_paths, 2): mean + scale·L·unit circle,
    n points (a Gaussian cloud has 1 − exp(−scale²/2) of its mass inside: 39% at 1σ, 86% at 2σ).

    Non-finite paths are left out; fewer than three finite paths give ``([nan], [nan])``.
    """
    ok = np.all(np.isfinite(points), axis=1)
    pts = points[ok]
    if len(pts) < 3:
        return np.array([np.nan]), np.array([np.nan])
    mean = pts.mean(0)
    cov = np.cov(pts.T) + 1e-14 * np.eye(2)
    w, v = np.linalg.eigh(cov)
    s = np.linspace(0, 2 * np.pi, n)
    circ = scale * np.stack([np.cos(s), np.sin(s)])
    xy = mean[:, None] + v @ (np.sqrt(np.maximum(w, 0))[:, None] * circ)
    return xy[0], xy[1]


def densities(samples: dict[str, np.ndarray], n_bins: int = 40) -> dict[str, Any]:
    """Density histograms of several samples on common bins (0.5–99.5% of all finite values).

    Returns ``{"centers": (n_bins,), "density": {key: (n_bins,)}, "top": max density}``.
    """
    values = np.concatenate(list(samples.values())) if samples else np.empty(0)
    values = values[np.isfinite(values)]
    if values.size == 0 or np.ptp(values) == 0:
        edges = np.linspace(-1, 1, n_bins + 1)
    else:
        edges = np.linspace(np.percentile(values, 0.5), np.percentile(values, 99.5), n_bins + 1)
    centers = 0.5 * (edges[1:] + edges[:-1])
    out: dict[str, np.ndarray] = {}
    top = 0.0
    for key, x in samples.items():
        hist, _ = np.histogram(x[np.isfinite(x)], bins=edges)
        total = hist.sum() * (edges[1] - edges[0])
        dens = hist / total if total > 0 else hist * 0.0
        top = max(top, float(dens.max()))
        out[key] = dens
    return {"centers": centers, "density": out, "top": top}


def density_over_time(x: np.ndarray, n_bins: int = 60) -> dict[str, Any]:
    """Where 1-D paths ``x`` (frames, n_paths) are at each frame: a histogram per frame on
    common bins (0.5–99.5% of all finite values, padded), each scaled to its own maximum 1.

    Returns ``{"image": (n_bins, frames), "lo", "hi"}``: row i covers [lo, hi] split in n_bins.
    """
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        lo, hi = -1.0, 1.0
    else:
        lo, hi = np.percentile(finite, [0.5, 99.5])
        pad = 0.08 * (hi - lo) + 0.05
        lo, hi = lo - pad, hi + pad
    edges = np.linspace(lo, hi, n_bins + 1)
    image = np.zeros((n_bins, x.shape[0]))
    for j, row in enumerate(x):
        hist, _ = np.histogram(row[np.isfinite(row)], bins=edges)
        top = hist.max()
        image[:, j] = hist / top if top > 0 else 0.0
    return {"image": image, "lo": float(lo), "hi": float(hi)}


def loss_band(loss: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 10%/90% percentiles over paths of ``loss`` (records, n_paths), floored."""
    floored = np.maximum(loss, LOG_FLOOR)
    with np.errstate(all="ignore"):
        mean = np.nanmean(floored, 1)
        lo, hi = np.nanpercentile(floored, [10, 90], axis=1)
    return mean, lo, hi


def weak_error_curves(result: dict[str, Any], phi: int) -> dict[str, Any]:
    """Weak error of each order for test function ``phi`` (index into the study's ``phis``).

    Returns ``{"taus", "orders": {order: {"error", "lo", "hi", "slope"}}, "guides": {1: …,
    2: …}}``: ±2 Monte Carlo standard errors, floored for log axes, and slope-1/slope-2 guides
    anchored at the largest error of the largest τ.
    """
    taus = np.asarray(result["taus"])
    orders: dict[str, dict[str, Any]] = {}
    for io, key in enumerate(result["orders"]):
        err = result["error"][io, :, phi]
        se = 2 * result["stderr"][io, :, phi]
        orders[key] = {
            "error": np.maximum(err, LOG_FLOOR),
            "lo": np.maximum(err - se, LOG_FLOOR),
            "hi": err + se,
            "slope": float(result["slope"][io, phi]),
        }
    errs = result["error"][..., phi]
    anchor = float(np.nanmax(errs[:, 0])) if errs.size else 1.0
    guides = {p: anchor * (taus / taus[0]) ** p for p in (1, 2)}
    return {"taus": taus, "orders": orders, "guides": guides}
