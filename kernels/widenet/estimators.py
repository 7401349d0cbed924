r"""2-Wasserstein estimators against the Gaussian limit, their noise floors, bounds and proxies.

Spec ``models/widenet.md`` §3e, §6.5, §6.9, §6.10, §6.13. In one dimension the optimal coupling
is monotone, so for samples :math:`y_{(1)} \le \dots \le y_{(M)}`:

* ``quantile``: :math:`\hat W^2 = \frac1M\sum_i (y_{(i)} - \sqrt K\,\Phi^{-1}(u_i))^2`,
  :math:`u_i = (i-\tfrac12)/M` (equal to POT's ``wasserstein_1d(p=2)`` against the quantile grid);
* ``two_sample``: the same against a sorted Gaussian sample of size M;
* ``rao_blackwell`` (Gaussian readout): the law of y is the mixture
  :math:`\frac1M\sum_m\mathcal N(0,\hat s_m^2)`; :math:`W_2^2 = \mathbb E[(G(Z) - \sqrt K Z)^2]`
  with the monotone map :math:`G = F_{\rm mix}^{-1}\circ\Phi`, by Gauss–Hermite in Z;
* bounds for a Gaussian readout: Gelbrich :math:`|\sqrt{\overline{s^2}} - \sqrt K|` below and the
  coupling :math:`\sqrt{\overline{(\hat s - \sqrt K)^2}}` above;
* Cornish–Fisher proxy :math:`W_2 \approx \sigma_y\sqrt{\kappa_3^2/18 + \kappa_4^2/96}`.

The estimators are biased upwards by the noise floor :math:`F_M` (the value for exactly Gaussian
samples, :math:`\approx 1.15\sigma\sqrt{\log\log M/M}` [derived]; E W₂² ≍ log log M/M, Bobkov–Ledoux
2019 [literature]).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit
from numpy.polynomial.hermite_e import hermegauss

from kernels.common.validation import integer, real

#: Quantile bins of Σ̂ for the Rao–Blackwell mixture (spec §8: ~3 s → 0.05 s, within 1 %).
RB_BINS = 256
#: Gauss–Hermite nodes of the Rao–Blackwell integral (the transport map is smooth).
RB_NODES = 120
_SQRT2 = math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


# ---------------------------------------------------------------------------------------------
# normal quantile (numpy + numba only: no scipy in kernels)
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _norm_ppf_one(p: float) -> float:
    """Φ⁻¹(p) by Acklam's rational approximation plus two Halley steps (~1e-15)."""
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    q = min(p, 1.0 - p)
    if q < 0.02425:
        t = math.sqrt(-2.0 * math.log(q))
        x = (
            (
                (
                    ((-7.784894002430293e-03 * t - 3.223964580411365e-01) * t - 2.400758277161838)
                    * t
                    - 2.549732539343734
                )
                * t
                + 4.374664141464968
            )
            * t
            + 2.938163982698783
        ) / (
            (
                ((7.784695709041462e-03 * t + 3.224671290700398e-01) * t + 2.445134137142996) * t
                + 3.754408661907416
            )
            * t
            + 1.0
        )
    else:
        t = q - 0.5
        r = t * t
        x = (
            (
                (
                    (
                        (
                            (-3.969683028665376e01 * r + 2.209460984245205e02) * r
                            - 2.759285104469687e02
                        )
                        * r
                        + 1.383577518672690e02
                    )
                    * r
                    - 3.066479806614716e01
                )
                * r
                + 2.506628277459239
            )
            * t
            / (
                (
                    (
                        (
                            (-5.447609879822406e01 * r + 1.615858368580409e02) * r
                            - 1.556989798598866e02
                        )
                        * r
                        + 6.680131188771972e01
                    )
                    * r
                    - 1.328068155288572e01
                )
                * r
                + 1.0
            )
        )
    # x approximates Φ⁻¹(q) with q <= 1/2; refine on the lower tail (erfc is accurate there)
    for _ in range(2):
        e = 0.5 * math.erfc(-x / _SQRT2) - q
        u = e * math.sqrt(2.0 * math.pi) * math.exp(0.5 * x * x)
        x = x - u / (1.0 + 0.5 * x * u)
    return x if p <= 0.5 else -x


@njit(cache=True, nogil=True)
def _norm_ppf(p: np.ndarray, out: np.ndarray) -> None:
    for i in range(p.size):
        out[i] = _norm_ppf_one(p[i])


def norm_ppf(p: np.ndarray | float) -> np.ndarray:
    """Standard normal quantile Φ⁻¹ elementwise (relative error ~1e-15)."""
    arr = np.ascontiguousarray(np.asarray(p, dtype=np.float64).ravel())
    out = np.empty_like(arr)
    _norm_ppf(arr, out)
    return out.reshape(np.shape(p))


@lru_cache(maxsize=16)
def _quantile_grid(m: int) -> np.ndarray:
    z = norm_ppf((np.arange(m) + 0.5) / m)
    z.setflags(write=False)
    return z


def quantile_grid(m: int) -> np.ndarray:
    """Read-only Φ⁻¹((i − ½)/M), i = 1..M (cached per M)."""
    return _quantile_grid(integer("M", m, 1, 10**8))


# ---------------------------------------------------------------------------------------------
# 1-D estimators
# ---------------------------------------------------------------------------------------------


def _samples(samples: object) -> np.ndarray:
    y = np.asarray(samples, dtype=np.float64).ravel()
    if y.size < 2:
        raise ValueError(f"samples must hold at least 2 values; got {y.size}")
    if not np.all(np.isfinite(y)):
        raise ValueError("samples must be finite")
    return y


def quantile_moments(samples: np.ndarray) -> tuple[float, float, float]:
    r"""(mean y², mean y₍ᵢ₎zᵢ, mean zᵢ²) with zᵢ the quantile grid: then for any K,
    :math:`\hat W^2(K) = S_2 - 2\sqrt K C + K Z_2` (lets a live target reuse cached samples)."""
    y = np.sort(_samples(samples))
    z = quantile_grid(y.size)
    return float(y @ y) / y.size, float(y @ z) / y.size, float(z @ z) / y.size


def w2_from_moments(
    s2: np.ndarray | float, c: np.ndarray | float, z2: np.ndarray | float, variance: float
) -> np.ndarray:
    """W2 from :func:`quantile_moments` against N(0, variance) (clipped at 0 for round-off)."""
    sq = math.sqrt(variance)
    return np.sqrt(
        np.maximum(np.asarray(s2) - 2.0 * sq * np.asarray(c) + variance * np.asarray(z2), 0.0)
    )


def w2_quantile(samples: np.ndarray, variance: float) -> float:
    r"""1-D :math:`W_2` between the empirical law of ``samples`` and :math:`\mathcal N(0,K)`.

    :math:`\hat W = \big(\frac1M\sum_i (y_{(i)} - \sqrt K\,\Phi^{-1}((i-\frac12)/M))^2\big)^{1/2}`
    (not squared). Spec §3e.
    """
    y = np.sort(_samples(samples))
    k = real("variance", variance, 0.0)
    d = y - math.sqrt(k) * quantile_grid(y.size)
    return math.sqrt(float(d @ d) / y.size)


def w2_two_sample(a: np.ndarray, b: np.ndarray) -> float:
    """Exact 1-D W2 between two empirical laws with equal weights (monotone coupling)."""
    x = np.sort(_samples(a))
    y = np.sort(_samples(b))
    if x.size == y.size:
        d = x - y
        return math.sqrt(float(d @ d) / x.size)
    # unequal sizes: integrate (F_a^{-1} - F_b^{-1})² over the merged quantile breakpoints
    u = np.union1d(np.arange(1, x.size + 1) / x.size, np.arange(1, y.size + 1) / y.size)
    lo = np.concatenate([[0.0], u[:-1]])
    mid = 0.5 * (lo + u)
    ia = np.minimum((mid * x.size).astype(np.int64), x.size - 1)
    ib = np.minimum((mid * y.size).astype(np.int64), y.size - 1)
    return math.sqrt(float(np.sum((u - lo) * (x[ia] - y[ib]) ** 2)))


def w2_exact_cells(samples: np.ndarray, variance: float) -> float:
    r"""Exact W2 between the empirical law and N(0, K) by cell-wise integration (spec §6.10):
    :math:`\int_a^b\Phi^{-1} = \varphi(\Phi^{-1}(a)) - \varphi(\Phi^{-1}(b))`,
    :math:`\int_a^b(\Phi^{-1})^2 = (b-a) + t\varphi(t)|_{\Phi^{-1}(a)}
    - t\varphi(t)|_{\Phi^{-1}(b)}`."""
    y = np.sort(_samples(samples))
    return _w2_cells(y, np.full(y.size, 1.0 / y.size), real("variance", variance, 0.0))


def _w2_cells(values: np.ndarray, probs: np.ndarray, variance: float) -> float:
    edges = np.concatenate([[0.0], np.cumsum(probs)])
    edges[-1] = 1.0
    t = norm_ppf(np.clip(edges, 0.0, 1.0))
    phi = np.where(np.isfinite(t), np.exp(-0.5 * np.where(np.isfinite(t), t, 0.0) ** 2), 0.0)
    phi *= _INV_SQRT2PI
    tphi = np.where(np.isfinite(t), np.where(np.isfinite(t), t, 0.0) * phi, 0.0)
    int1 = phi[:-1] - phi[1:]
    int2 = np.diff(edges) + tphi[:-1] - tphi[1:]
    s = math.sqrt(variance)
    w2sq = np.sum(values**2 * probs - 2.0 * s * values * int1 + variance * int2)
    return math.sqrt(max(float(w2sq), 0.0))


def lattice_w2_exact(n: int) -> float:
    """Exact W2 between (2 Bin(n, ½) − n)/√n and N(0, 1) (spec §6.10, Rademacher lattice)."""
    n = integer("n", n, 1, 10**6)
    j = np.arange(n + 1)
    logp = np.array(
        [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in j]
    ) - n * math.log(2.0)
    return _w2_cells((2.0 * j - n) / math.sqrt(n), np.exp(logp), 1.0)


# ---------------------------------------------------------------------------------------------
# Rao–Blackwell mixture
# ---------------------------------------------------------------------------------------------


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
    r""":math:`W_2(\sum_b w_b\mathcal N(0,v_b),\ \mathcal N(0,K))` (equal weights by default)."""
    v = np.ascontiguousarray(np.asarray(variances, dtype=np.float64).ravel())
    if v.size == 0 or not np.all(np.isfinite(v)) or np.min(v) < 0.0:
        raise ValueError("variances must be a non-empty array of finite values >= 0")
    k = real("variance", variance, 0.0)
    w = np.full(v.size, 1.0 / v.size) if weights is None else np.asarray(weights, dtype=np.float64)
    w = np.ascontiguousarray(w / w.sum())
    z, gw = hermegauss(RB_NODES)
    return math.sqrt(max(_mixture_w2sq(np.sqrt(v), w, math.sqrt(k), z, gw / gw.sum()), 0.0))


def bin_variances(variances: np.ndarray, n_bins: int = RB_BINS) -> np.ndarray:
    """Means of ``variances`` over ``n_bins`` equal-count quantile bins (sorted)."""
    v = np.sort(np.asarray(variances, dtype=np.float64).ravel())
    n_bins = min(n_bins, v.size)
    edges = np.linspace(0, v.size, n_bins + 1).round().astype(np.int64)
    sums = np.add.reduceat(v, edges[:-1])
    return sums / np.diff(edges)


def w2_rao_blackwell(cond_var: np.ndarray, variance: float, n_bins: int = RB_BINS) -> float:
    """Rao–Blackwell W2 of a Gaussian-readout output: mixture of N(0, ŝ²_m) against N(0, K)."""
    return w2_mixture(bin_variances(cond_var, n_bins), variance)


def gelbrich_lower(cov_emp: np.ndarray, cov: np.ndarray, mean: np.ndarray | None = None) -> float:
    r"""Gelbrich (Bures) lower bound
    :math:`\sqrt{|m|^2 + \mathrm{tr}(A + B - 2(A^{1/2}BA^{1/2})^{1/2})}`."""
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
    r"""Upper bound :math:`\sqrt{\overline{(\hat s_m - \sqrt K)^2}}` from coupling
    :math:`\hat s_m Z` with :math:`\sqrt K Z` (same Z). Spec §6.9."""
    s = np.sqrt(np.maximum(np.asarray(cond_var, dtype=np.float64), 0.0))
    return math.sqrt(float(np.mean((s - math.sqrt(real("variance", variance, 0.0))) ** 2)))


# ---------------------------------------------------------------------------------------------
# floors, cumulants, proxies, slopes
# ---------------------------------------------------------------------------------------------


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
    """Noise floor of the quantile estimator for N(0, variance) samples of size M.

    Monte Carlo over ``n_rep`` Gaussian samples (fixed ``seed``, cached); W2 scales with σ.
    Returns ``mean``, ``lo``/``hi`` (2.5–97.5 %), ``rms`` (√E Ŵ², used by the floor correction)
    and ``two_sample`` (the mean floor of the two-sample estimator).
    """
    m = integer("M", m, 2, 10**7)
    n_rep = integer("n_rep", n_rep, 2, 1000)
    s = math.sqrt(real("variance", variance, 0.0))
    mean, lo, hi, rms, two = _floor_cached(m, n_rep, integer("seed", seed, 0))
    return {"mean": s * mean, "lo": s * lo, "hi": s * hi, "rms": s * rms, "two_sample": s * two}


def floor_corrected(w2: np.ndarray | float, floor_rms: float) -> np.ndarray:
    r""":math:`\sqrt{\max(\hat W^2 - F_M^2, 0)}`."""
    return np.sqrt(np.maximum(np.asarray(w2, dtype=float) ** 2 - floor_rms**2, 0.0))


def sample_cumulants(samples: np.ndarray) -> tuple[float, float]:
    """(skewness, excess kurtosis) of samples about their mean; SEs ≈ √(6/M), √(24/M)."""
    y = _samples(samples)
    d = y - y.mean()
    m2 = float(np.mean(d * d))
    return float(np.mean(d**3)) / m2**1.5, float(np.mean(d**4)) / m2**2 - 3.0


def cornish_fisher_w2(
    sd: float, skewness: np.ndarray | float, excess_kurtosis: np.ndarray | float
) -> np.ndarray:
    r"""Cornish–Fisher proxy :math:`\sigma_y\sqrt{\kappa_3^2/18 + \kappa_4^2/96}` (spec §6.5)."""
    k3 = np.asarray(skewness, dtype=float)
    k4 = np.asarray(excess_kurtosis, dtype=float)
    return sd * np.sqrt(k3**2 / 18.0 + k4**2 / 96.0)


def fit_slope(widths: np.ndarray, w2: np.ndarray, floor: float | None = None) -> tuple[float, int]:
    """Least-squares slope of log W2 against log n over points with W2 > 2·floor.

    Returns (slope, number of points used); slope is NaN with fewer than 2 points.
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


def warmup() -> None:
    """Compile (or load from the numba cache) the jitted estimator cores."""
    norm_ppf(np.array([0.01, 0.5, 0.99]))
    w2_mixture(np.array([0.5, 1.0, 2.0]), 1.0)
