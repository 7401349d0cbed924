r"""Diagnostics of the width sweep: noise floors of the W2 estimators, cumulants, the
Cornish–Fisher proxy and the fitted rate.

Spec ``models/widenet.md`` §3e, §6.5. The quantile estimator of
:mod:`kernels.widenet.estimators` is biased upwards by its noise floor :math:`F_M` (its value for
exactly Gaussian samples, :math:`\approx 1.15\sigma\sqrt{\log\log M/M}` [derived]; E W₂² ≍
log log M/M, Bobkov–Ledoux 2019 [literature]); a rate is fitted only above twice that floor.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from kernels.common.validation import integer, real
from kernels.widenet.estimators import check_samples, quantile_grid


@lru_cache(maxsize=32)
def _floor_cached(m: int, n_rep: int, seed: int) -> tuple[float, float, float, float, float]:
    rng = np.random.default_rng(seed)
    z = quantile_grid(m)
    q = np.empty(n_rep)
    two = np.empty(n_rep)
    for r in range(n_rep):
        y = np.sort(rng.standard_normal(m))
        g = np.sort(rng.standard_normal(m))
        q[r] = math.sqrt(float(np.mean((y - z) ** 2)))
        two[r] = math.sqrt(float(np.mean((y - g) ** 2)))
    lo, hi = np.quantile(q, [0.025, 0.975])
    return float(q.mean()), float(lo), float(hi), float(np.sqrt(np.mean(q**2))), float(two.mean())


def floor_band(m: int, variance: float = 1.0, n_rep: int = 20, seed: int = 0) -> dict[str, float]:
    r"""Noise floor of the quantile estimator for exactly Gaussian samples of size M.

    .. math:: F_M = \mathbb E\,\hat W\big(\mathcal N(0,\sigma^2)^{\otimes M}\big)
        \approx 1.15\,\sigma\sqrt{\log\log M / M}

    by Monte Carlo over ``n_rep`` Gaussian samples (fixed ``seed``, cached; W2 scales with σ)
    [derived]; :math:`\mathbb E W_2^2 \asymp \log\log M/M` (Bobkov–Ledoux 2019) [literature].

    Parameters
    ----------
    m : int in [2, 10**7]
        M, the sample size.
    variance : float >= 0
        σ², the variance of the samples.
    n_rep : int in [2, 1000]
        Monte Carlo replicates.
    seed : int >= 0
        Seed of that Monte Carlo.

    Returns
    -------
    dict of float
        ``mean``, ``lo``/``hi`` (2.5–97.5 % of Ŵ), ``rms`` (:math:`\sqrt{\mathbb E\hat W^2}`,
        used by the floor correction) and ``two_sample`` (the mean floor of the two-sample
        estimator).
    """
    m = integer("M", m, 2, 10**7)
    n_rep = integer("n_rep", n_rep, 2, 1000)
    s = math.sqrt(real("variance", variance, 0.0))
    mean, lo, hi, rms, two = _floor_cached(m, n_rep, integer("seed", seed, 0))
    return {"mean": s * mean, "lo": s * lo, "hi": s * hi, "rms": s * rms, "two_sample": s * two}


def floor_corrected(w2: np.ndarray | float, floor_rms: float) -> np.ndarray:
    r"""Floor-corrected distance :math:`\sqrt{\max(\hat W^2 - F_M^2, 0)}` [derived].

    .. math:: \tilde W = \sqrt{\max(\hat W^2 - F_M^2,\ 0)}

    Parameters
    ----------
    w2 : float or array of any shape
        :math:`\hat W`.
    floor_rms : float
        :math:`F_M`, the rms floor of :func:`floor_band`.

    Returns
    -------
    ndarray, the shape of ``w2``
    """
    return np.sqrt(np.maximum(np.asarray(w2, dtype=float) ** 2 - floor_rms**2, 0.0))


def sample_cumulants(samples: np.ndarray) -> tuple[float, float]:
    r"""Skewness and excess kurtosis of samples about their mean.

    .. math:: \hat\kappa_3 = \frac{\overline{d^3}}{\overline{d^2}^{3/2}},\qquad
        \hat\kappa_4 = \frac{\overline{d^4}}{\overline{d^2}^{2}} - 3,\qquad d = y - \bar y;

    standard errors ≈ :math:`\sqrt{6/M}`, :math:`\sqrt{24/M}` [literature].

    Parameters
    ----------
    samples : array (M,), M >= 2, finite

    Returns
    -------
    (skewness, excess_kurtosis) : tuple of float
    """
    y = check_samples(samples)
    d = y - y.mean()
    m2 = float(np.mean(d * d))
    return float(np.mean(d**3)) / m2**1.5, float(np.mean(d**4)) / m2**2 - 3.0


def cornish_fisher_w2(
    sd: float, skewness: np.ndarray | float, excess_kurtosis: np.ndarray | float
) -> np.ndarray:
    r"""Cornish–Fisher proxy of the W2 distance to the Gaussian from the first cumulants.

    .. math:: W_2 \approx \sigma_y\sqrt{\kappa_3^2/18 + \kappa_4^2/96}

    (spec §6.5) [derived].

    Parameters
    ----------
    sd : float
        :math:`\sigma_y`.
    skewness, excess_kurtosis : float or arrays of one broadcastable shape
        :math:`\kappa_3`, :math:`\kappa_4` (e.g. per width, (W,)).

    Returns
    -------
    ndarray, the broadcast shape
    """
    k3 = np.asarray(skewness, dtype=float)
    k4 = np.asarray(excess_kurtosis, dtype=float)
    return sd * np.sqrt(k3**2 / 18.0 + k4**2 / 96.0)


def fit_slope(widths: np.ndarray, w2: np.ndarray, floor: float | None = None) -> tuple[float, int]:
    r"""Least-squares rate of W2 in the width, over the points above twice the floor.

    .. math:: \log \hat W(n) \approx a + \beta\log n\quad\text{over } \{n : \hat W(n) > 2F_M\}

    [derived].

    Parameters
    ----------
    widths : array (W,)
        n.
    w2 : array (W,)
        :math:`\hat W(n)` (non-finite or non-positive points are skipped).
    floor : float, optional
        :math:`F_M` (no floor cut by default).

    Returns
    -------
    (slope, n_points) : tuple of (float, int)
        β (NaN with fewer than 2 points) and the number of points used.
    """
    n = np.asarray(widths, dtype=float)
    w = np.asarray(w2, dtype=float)
    keep = np.isfinite(w) & (w > 0)
    if floor is not None:
        keep &= w > 2.0 * floor
    if keep.sum() < 2:
        return math.nan, int(keep.sum())
    slope = np.polyfit(np.log(n[keep]), np.log(w[keep]), 1)[0]
    return float(slope), int(keep.sum())
