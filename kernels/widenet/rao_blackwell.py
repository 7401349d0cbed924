r"""Estimators and bounds for a Gaussian readout: the Rao–Blackwell mixture, Gelbrich and the
coupling bound.

Spec ``models/widenet.md`` §3e, §6.9. Given the last hidden layer, a Gaussian readout makes the
output :math:`\mathcal N(0, \hat s_m^2)`, so the output's law is the mixture
:math:`\frac1M\sum_m\mathcal N(0,\hat s_m^2)`; :math:`W_2^2 = \mathbb E[(G(Z) - \sqrt K Z)^2]`
with the monotone map :math:`G = F_{\rm mix}^{-1}\circ\Phi`, by Gauss–Hermite in Z. Bounds:
Gelbrich :math:`|\sqrt{\overline{s^2}} - \sqrt K|` below and the coupling
:math:`\sqrt{\overline{(\hat s - \sqrt K)^2}}` above. Provenance: [derived] (Gelbrich's bound
[literature]).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.polynomial.hermite_e import hermegauss

from kernels.common.validation import real

#: Quantile bins of Σ̂ for the Rao–Blackwell mixture (spec §8: ~3 s → 0.05 s, within 1 %).
RB_BINS = 256
#: Gauss–Hermite nodes of the Rao–Blackwell integral (the transport map is smooth).
RB_NODES = 120
_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit(cache=True, nogil=True)
def _mixture_w2sq(
    sd: np.ndarray, wts: np.ndarray, target_sd: float, nodes: np.ndarray, weights: np.ndarray
) -> float:
    """E[(G(Z) − target_sd·Z)²] for the symmetric mixture Σ w_b N(0, sd_b²), G = F⁻¹∘Φ.

    G(t) for t > 0 solves Σ w_b Φc(x/sd_b) = Φc(t) (upper tails keep precision), by bisection on
    a bracket [t·min sd, t·max sd] then Newton; G(−t) = −G(t).
    """
    lo_sd = np.inf
    hi_sd = 0.0
    for b in range(sd.size):
        if wts[b] > 0.0:
            lo_sd = min(lo_sd, sd[b])
            hi_sd = max(hi_sd, sd[b])
    total = 0.0
    ratio = math.sqrt(lo_sd * hi_sd)  # warm start: x ≈ ratio·t, then the previous node's ratio
    for i in range(nodes.size):
        t = nodes[i]
        if t <= 0.0:  # symmetric: G(-t) = -G(t); the positive node counts twice below
            continue
        target = 0.5 * math.erfc(t / _SQRT2)
        lo = t * lo_sd
        hi = t * hi_sd
        x = min(max(ratio * t, lo), hi)
        for _ in range(100):
            f = -target
            dens = 0.0
            for b in range(sd.size):
                if wts[b] > 0.0 and sd[b] > 0.0:
                    u = x / sd[b]
                    f += wts[b] * 0.5 * math.erfc(u / _SQRT2)
                    dens += wts[b] * math.exp(-0.5 * u * u) * _INV_SQRT2PI / sd[b]
            if f > 0.0:
                lo = x
            else:
                hi = x
            xn = x + f / dens if dens > 0.0 else 0.5 * (lo + hi)
            if not (lo <= xn <= hi):
                xn = 0.5 * (lo + hi)
            if abs(xn - x) <= 1e-13 * x or hi - lo <= 1e-13 * hi:
                x = xn
                break
            x = xn
        ratio = x / t
        d = x - target_sd * t
        total += 2.0 * weights[i] * d * d
    return total


def w2_mixture(variances: np.ndarray, variance: float, weights: np.ndarray | None = None) -> float:
    r""":math:`W_2\big(\sum_b w_b\,\mathcal N(0,v_b),\ \mathcal N(0,K)\big)` by the monotone map.

    .. math::
        W_2^2 = \mathbb E\big[(G(Z) - \sqrt K Z)^2\big],\qquad G = F_{\rm mix}^{-1}\circ\Phi,

    by Gauss–Hermite in Z (:data:`RB_NODES` nodes), G by bisection and Newton on the upper tails
    (spec §3e) [derived].

    Parameters
    ----------
    variances : array (B,), finite, >= 0
        :math:`v_b`, the component variances.
    variance : float >= 0
        K.
    weights : array (B,), optional
        :math:`w_b` (normalised here; equal by default).

    Returns
    -------
    float
    """
    v = np.ascontiguousarray(np.asarray(variances, dtype=np.float64).ravel())
    if v.size == 0 or not np.all(np.isfinite(v)) or np.min(v) < 0.0:
        raise ValueError("variances must be a non-empty array of finite values >= 0")
    k = real("variance", variance, 0.0)
    w = np.full(v.size, 1.0 / v.size) if weights is None else np.asarray(weights, dtype=np.float64)
    w = np.ascontiguousarray(w / w.sum())
    z, gw = hermegauss(RB_NODES)
    return math.sqrt(max(_mixture_w2sq(np.sqrt(v), w, math.sqrt(k), z, gw / gw.sum()), 0.0))


def bin_variances(variances: np.ndarray, n_bins: int = RB_BINS) -> np.ndarray:
    r"""Means of ``variances`` over ``n_bins`` equal-count quantile bins (sorted).

    .. math:: \bar v_b = \frac{1}{|I_b|}\sum_{m\in I_b} v_{(m)},\qquad
        I_b = \{e_b, \dots, e_{b+1}-1\},\ e_b = \mathrm{round}(bM/B),

    the reduction that makes the Rao–Blackwell mixture cheap (spec §8: ~3 s → 0.05 s, within
    1 %) [derived].

    Parameters
    ----------
    variances : array (M,) (any shape is flattened)
    n_bins : int
        B (at most M is used).

    Returns
    -------
    ndarray (min(B, M),)
    """
    v = np.sort(np.asarray(variances, dtype=np.float64).ravel())
    n_bins = min(n_bins, v.size)
    edges = np.linspace(0, v.size, n_bins + 1).round().astype(np.int64)
    sums = np.add.reduceat(v, edges[:-1])
    return sums / np.diff(edges)


def w2_rao_blackwell(cond_var: np.ndarray, variance: float, n_bins: int = RB_BINS) -> float:
    r"""Rao–Blackwell W2 of a Gaussian-readout output against :math:`\mathcal N(0, K)`.

    Given the last hidden layer the output is :math:`\mathcal N(0, \hat s_m^2)`, so its law is the
    mixture

    .. math:: \frac1M\sum_{m=1}^M \mathcal N(0, \hat s_m^2),

    binned by :func:`bin_variances` and measured by :func:`w2_mixture` (spec §3e) [derived].

    Parameters
    ----------
    cond_var : array (M,)
        :math:`\hat s_m^2 = \hat\Sigma_{ii}` of each network (:func:`sample_cond_cov`).
    variance : float
        K.
    n_bins : int
        Quantile bins of the variances.

    Returns
    -------
    float
    """
    return w2_mixture(bin_variances(cond_var, n_bins), variance)


def gelbrich_lower(cov_emp: np.ndarray, cov: np.ndarray, mean: np.ndarray | None = None) -> float:
    r"""Gelbrich (Bures) lower bound on the W2 distance of two laws with these moments.

    .. math::
        W_2 \ge \sqrt{|m|^2 + \mathrm{tr}\big(A + B - 2(A^{1/2}BA^{1/2})^{1/2}\big)}

    (Gelbrich 1990) [literature].

    Parameters
    ----------
    cov_emp : array (k, k)
        A, the empirical covariance.
    cov : array (k, k)
        B, the limit covariance K.
    mean : array (k,), optional
        m, the mean difference (0 by default).

    Returns
    -------
    float
    """
    a = np.atleast_2d(np.asarray(cov_emp, dtype=np.float64))
    b = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    ra = _psd_sqrt(a)
    cross = _psd_sqrt(ra @ b @ ra)
    m2 = 0.0 if mean is None else float(np.sum(np.asarray(mean) ** 2))
    return math.sqrt(max(m2 + float(np.trace(a) + np.trace(b) - 2.0 * np.trace(cross)), 0.0))


def _psd_sqrt(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(0.5 * (a + a.T))
    return (v * np.sqrt(np.maximum(w, 0.0))) @ v.T


def coupling_upper(cond_var: np.ndarray, variance: float) -> float:
    r"""Upper bound on the W2 of a Gaussian-readout output from coupling
    :math:`\hat s_m Z` with :math:`\sqrt K Z` (the same Z):

    .. math:: W_2 \le \sqrt{\frac1M\sum_m (\hat s_m - \sqrt K)^2}

    (spec §6.9) [derived].

    Parameters
    ----------
    cond_var : array (M,)
        :math:`\hat s_m^2` (negative round-off is clipped at 0).
    variance : float >= 0
        K.

    Returns
    -------
    float
    """
    s = np.sqrt(np.maximum(np.asarray(cond_var, dtype=np.float64), 0.0))
    return math.sqrt(float(np.mean((s - math.sqrt(real("variance", variance, 0.0))) ** 2)))


def warmup() -> None:
    """Compile (or load from the numba cache) the mixture core."""
    w2_mixture(np.array([0.5, 1.0, 2.0]), 1.0)
