"""What the token tab's panels show, computed from the model's records and study results.

Each panel of the tab draws one of these results as it is (the views do no science): the
diameter fit with its predicted line, the ensemble statistics with the predicted rates, the
phase plane, and the two advanced studies with their reference slopes. The model
(:class:`app.models.tokens.model.TokensModel`) calls these functions with its own records and
caches what they return. Spec ``models/tokens.md`` §4, §6.2–6.3, §6.9.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kernels import tokens

__all__ = [
    "DIAMETER_FLOOR",
    "DiameterFit",
    "EnsembleSummary",
    "PhasePlane",
    "StrongErrorCurves",
    "VarianceCurves",
    "diameter_fit",
    "ensemble_summary",
    "strong_error_curves",
    "variance_curves",
]

#: Diameters below this are round-off on the sphere; the log plot and the fit stop there.
DIAMETER_FLOOR = 1e-9
#: Below this diameter the pair linearization behind λ_dist applies (1 − ρ ≈ |x−y|²/2 ≤ 0.1).
NEAR_SYNC_DIAMETER = 0.45
#: Fewest near-synchronization snapshots a diameter fit needs.
MIN_FIT_POINTS = 8


class DiameterFit(NamedTuple):
    """Log diameter against depth, its fitted slope near synchronization and λ_dist.

    ``t``, ``diameter`` (floored at :data:`DIAMETER_FLOOR`): every snapshot; ``fit_t``,
    ``fit_line``, ``theory_line``: the fit window with the fitted exponential and the predicted
    one anchored at its start (empty when fewer than :data:`MIN_FIT_POINTS` snapshots are near
    synchronization); ``slope`` nan then.
    """

    t: np.ndarray
    diameter: np.ndarray
    predicted: float
    slope: float
    t_start: float
    t_stop: float
    fit_t: np.ndarray
    fit_line: np.ndarray
    theory_line: np.ndarray


class EnsembleSummary(NamedTuple):
    """The selected energy over R realizations, its statistics and the predicted rates.

    ``stats``: ``{"mean", "median", "geometric mean"}`` -> (frames,); ``low``, ``high``: the
    10% and 90% quantiles; ``half_t`` the second half of the depth with the lines of the
    predicted mean rate g(p) and median rate p·λ_r through the measured curves; ``slopes``:
    fitted log slopes of each statistic over that half; ``merged``: realizations whose energy
    is exactly 0 at the last depth (tokens equal in floating point).
    """

    t: np.ndarray
    low: np.ndarray
    high: np.ndarray
    stats: dict[str, np.ndarray]
    half_t: np.ndarray
    mean_theory: np.ndarray
    median_theory: np.ndarray
    slopes: dict[str, float]
    mean_rate: float
    median_rate: float
    n_real: int
    merged: int = 0


class PhasePlane(NamedTuple):
    """λ_dist on the (σ_n², α) grid, ``lam`` (len(alpha), len(sigma2)), and the λ_dist = 0
    line ``line`` (α against ``sigma2``)."""

    sigma2: np.ndarray
    alpha: np.ndarray
    lam: np.ndarray
    line: np.ndarray


class StrongErrorCurves(NamedTuple):
    """Strong error against the layer step with the slope-1/2 reference through its finest
    point."""

    h: np.ndarray
    error: np.ndarray
    reference: np.ndarray
    slope: float


class VarianceCurves(NamedTuple):
    """Spread of the token mean over token samples and over the noise against N, with the
    N^(-1/2) reference through the first point over token samples."""

    n: np.ndarray
    over_tokens: np.ndarray
    over_noise: np.ndarray
    reference: np.ndarray
    slope_tokens: float
    slope_noise: float


def diameter_fit(t: np.ndarray, diameter: np.ndarray, predicted: float) -> DiameterFit:
    """The recorded diameter (t, diameter: (snapshots,)), its log slope fitted near
    synchronization and the predicted rate ``predicted`` (λ_dist) drawn from the fit's start.

    The fit window starts at the first snapshot below :data:`NEAR_SYNC_DIAMETER` (where
    λ_dist linearizes the dynamics) and uses :func:`kernels.tokens.fit_log_slope`'s default end.
    """
    diam = np.maximum(diameter, DIAMETER_FLOOR)
    near = np.flatnonzero(diam < NEAR_SYNC_DIAMETER)
    fit = None
    if near.size >= MIN_FIT_POINTS:
        fit = tokens.fit_log_slope(t, diam, t_min=float(t[near[0]]), full=True)
    if fit is None or not np.isfinite(fit.slope):
        empty = np.empty(0)
        return DiameterFit(t, diam, predicted, np.nan, np.nan, np.nan, empty, empty, empty)
    tw = t[(t >= fit.t_start) & (t <= fit.t_stop)]
    anchor = np.exp(fit.intercept + fit.slope * fit.t_start)
    return DiameterFit(
        t,
        diam,
        predicted,
        fit.slope,
        fit.t_start,
        fit.t_stop,
        tw,
        np.exp(fit.intercept + fit.slope * tw),
        anchor * np.exp(predicted * (tw - fit.t_start)),
    )


def ensemble_summary(
    t: np.ndarray, energy: np.ndarray, p: float, lambda_r: float, mean_rate: float
) -> EnsembleSummary:
    """Statistics of an energy over realizations, ``energy`` (frames, R) at times ``t``
    (frames,), with the predicted median rate p·λ_r and mean rate g(p) = ``mean_rate`` drawn
    through the measured curves over the second half of the depth (spec §6.3).

    An energy is exactly 0 once a path's tokens are equal in floating point (synchronized
    beyond the resolution of their differences; round-off below 0 counts as 0). Such paths
    count as 0 in every statistic: the geometric mean is 0 from the first of them and the
    median once they are half; a log axis cannot show 0 (the panel leaves those points out)
    and a statistic that reaches 0 in the second half has no slope (nan)."""
    energy = np.maximum(energy, 0.0)
    with np.errstate(divide="ignore"):
        log_e = np.log(energy)
    stats = {
        "mean": energy.mean(axis=1),
        "median": np.median(energy, axis=1),
        "geometric mean": np.exp(log_e.mean(axis=1)),
    }
    low, high = np.quantile(energy, [0.1, 0.9], axis=1)
    half = t >= t[-1] / 2
    slopes = {
        name: _slope(t[half], np.log(values[half])) if np.all(values[half] > 0) else np.nan
        for name, values in stats.items()
    }
    th = t[half]
    return EnsembleSummary(
        t=t,
        low=low,
        high=high,
        stats=stats,
        half_t=th,
        mean_theory=stats["mean"][half][0] * np.exp(mean_rate * (th - th[0])),
        median_theory=stats["median"][half][0] * np.exp(p * lambda_r * (th - th[0])),
        slopes=slopes,
        mean_rate=float(mean_rate),
        median_rate=p * lambda_r,
        n_real=energy.shape[1],
        merged=int(np.count_nonzero(energy[-1] == 0.0)),
    )


def strong_error_curves(result: tokens.StrongErrorStudy) -> StrongErrorCurves:
    """A strong-error study with its slope-1/2 reference through the finest step."""
    h, err = np.asarray(result.h), np.asarray(result.error)
    return StrongErrorCurves(h, err, err[-1] * np.sqrt(h / h[-1]), float(result.slope))


def variance_curves(result: tokens.VarianceStudy) -> VarianceCurves:
    """A variance study with its N^(-1/2) reference through the first point over tokens."""
    n = np.asarray(result.n_tokens, dtype=float)
    over_tokens = np.asarray(result.sd_over_tokens)
    return VarianceCurves(
        n,
        over_tokens,
        np.asarray(result.sd_over_noise),
        over_tokens[0] * np.sqrt(n[0] / n),
        float(result.slope_tokens),
        float(result.slope_noise),
    )


def _slope(t: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of the finite points of y against t (nan if fewer than two)."""
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(t[ok], y[ok], 1)[0])
