r"""1-D 2-Wasserstein estimators against the Gaussian limit, and the normal quantile they use.

Spec ``models/widenet.md`` §3e, §6.10, §6.13. In one dimension the optimal coupling is monotone,
so for samples :math:`y_{(1)} \le \dots \le y_{(M)}`:

* ``quantile``: :math:`\hat W^2 = \frac1M\sum_i (y_{(i)} - \sqrt K\,\Phi^{-1}(u_i))^2`,
  :math:`u_i = (i-\tfrac12)/M` (equal to POT's ``wasserstein_1d(p=2)`` against the quantile grid);
* ``two_sample``: the same against a sorted Gaussian sample of size M;
* ``rao_blackwell`` (Gaussian readout) and the bounds: :mod:`kernels.widenet.rao_blackwell`;
* the estimators' noise floors, cumulants and the Cornish–Fisher proxy:
  :mod:`kernels.widenet.diagnostics`.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from kernels.common.validation import integer, real

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
    r"""Standard normal quantile :math:`\Phi^{-1}` elementwise.

    .. math:: \Phi(\Phi^{-1}(p)) = p,\qquad \Phi(x) = \tfrac12\operatorname{erfc}(-x/\sqrt2),

    by Acklam's rational approximation refined with two Halley steps (relative error ~1e-15;
    numpy + numba only, no scipy in the kernels) [literature].

    Parameters
    ----------
    p : float or array of any shape
        Probabilities in [0, 1] (0 and 1 give ∓inf).

    Returns
    -------
    ndarray, same shape as ``p``
        :math:`\Phi^{-1}(p)`.
    """
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


def check_samples(samples: object) -> np.ndarray:
    """``samples`` flattened to float64: at least 2 values, all finite (else ``ValueError``)."""
    y = np.asarray(samples, dtype=np.float64).ravel()
    if y.size < 2:
        raise ValueError(f"samples must hold at least 2 values; got {y.size}")
    if not np.all(np.isfinite(y)):
        raise ValueError("samples must be finite")
    return y


def quantile_moments(samples: np.ndarray) -> tuple[float, float, float]:
    r"""Sufficient statistics of the quantile estimator, so that a live target reuses samples.

    .. math::
        S_2 = \frac1M\sum_i y_{(i)}^2,\quad C = \frac1M\sum_i y_{(i)}z_i,\quad
        Z_2 = \frac1M\sum_i z_i^2,\qquad \hat W^2(K) = S_2 - 2\sqrt K\,C + K Z_2,

    with :math:`z_i = \Phi^{-1}((i-\frac12)/M)` [derived].

    Parameters
    ----------
    samples : array (M,) (any shape is flattened), M >= 2
        Network outputs at one input.

    Returns
    -------
    (S2, C, Z2) : tuple of float
    """
    y = np.sort(check_samples(samples))
    z = quantile_grid(y.size)
    return float(y @ y) / y.size, float(y @ z) / y.size, float(z @ z) / y.size


def w2_from_moments(
    s2: np.ndarray | float, c: np.ndarray | float, z2: np.ndarray | float, variance: float
) -> np.ndarray:
    r"""W2 against :math:`\mathcal N(0, K)` from :func:`quantile_moments` (any broadcastable shape).

    .. math:: \hat W(K) = \sqrt{\max(S_2 - 2\sqrt K\,C + K Z_2,\ 0)}

    (clipped at 0 for round-off) [derived].

    Parameters
    ----------
    s2, c, z2 : float or arrays of one broadcastable shape
        The statistics of :func:`quantile_moments`.
    variance : float
        K, the target variance.

    Returns
    -------
    ndarray, the broadcast shape of ``s2``, ``c``, ``z2``
    """
    sq = math.sqrt(variance)
    return np.sqrt(
        np.maximum(np.asarray(s2) - 2.0 * sq * np.asarray(c) + variance * np.asarray(z2), 0.0)
    )


def w2_quantile(samples: np.ndarray, variance: float) -> float:
    r"""1-D :math:`W_2` between the empirical law of ``samples`` and :math:`\mathcal N(0,K)`.

    .. math::
        \hat W = \Big(\frac1M\sum_{i=1}^M \big(y_{(i)} - \sqrt K\,\Phi^{-1}((i-\tfrac12)/M)\big)^2
        \Big)^{1/2}

    (not squared): in one dimension W2 is the L² distance of the quantile functions, here
    against the Gaussian quantiles at the mid-points (spec §3e) [literature: the 1-D formula;
    derived: the mid-point grid].

    Parameters
    ----------
    samples : array (M,) (any shape is flattened), M >= 2, finite
        Network outputs at one input.
    variance : float >= 0
        K, the variance of the Gaussian limit.

    Returns
    -------
    float
        :math:`\hat W`.
    """
    y = np.sort(check_samples(samples))
    k = real("variance", variance, 0.0)
    d = y - math.sqrt(k) * quantile_grid(y.size)
    return math.sqrt(float(d @ d) / y.size)


def w2_two_sample(a: np.ndarray, b: np.ndarray) -> float:
    r"""Exact 1-D :math:`W_2` between two empirical laws with equal weights (monotone coupling).

    .. math:: W_2^2 = \int_0^1 \big(F_a^{-1}(u) - F_b^{-1}(u)\big)^2\,du
        = \frac1M\sum_i (a_{(i)} - b_{(i)})^2 \ \text{if both sizes are } M

    (unequal sizes: the integral over the merged quantile breakpoints) [literature].

    Parameters
    ----------
    a : array (Ma,), Ma >= 2
    b : array (Mb,), Mb >= 2
        Samples (any shape is flattened), finite.

    Returns
    -------
    float
    """
    x = np.sort(check_samples(a))
    y = np.sort(check_samples(b))
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
    r"""Exact W2 between the empirical law of ``samples`` and :math:`\mathcal N(0, K)` by cell-wise
    integration of the quantile functions (spec §6.10):

    .. math::
        \int_a^b\Phi^{-1} = \varphi(\Phi^{-1}(a)) - \varphi(\Phi^{-1}(b)),\qquad
        \int_a^b(\Phi^{-1})^2 = (b-a) + t\varphi(t)\big|_{\Phi^{-1}(a)}
        - t\varphi(t)\big|_{\Phi^{-1}(b)}

    over the cells :math:`[(i-1)/M, i/M]` [derived].

    Parameters
    ----------
    samples : array (M,), M >= 2, finite
    variance : float >= 0
        K.

    Returns
    -------
    float
    """
    y = np.sort(check_samples(samples))
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
    r"""Exact W2 between :math:`(2\,\mathrm{Bin}(n, \frac12) - n)/\sqrt n` and
    :math:`\mathcal N(0, 1)`: the linear one-hidden-layer network with Rademacher weights and no
    bias (spec §6.10).

    .. math::
        W_2^2 = \sum_{j=0}^n \int_{F_{j-1}}^{F_j}\Big(\frac{2j-n}{\sqrt n} - \Phi^{-1}(u)\Big)^2du,
        \qquad F_j = P(\mathrm{Bin}(n,\tfrac12) \le j)

    (cells as in :func:`w2_exact_cells`) [derived].

    Parameters
    ----------
    n : int in [1, 10**6]
        The width.

    Returns
    -------
    float
    """
    n = integer("n", n, 1, 10**6)
    j = np.arange(n + 1)
    logp = np.array(
        [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in j]
    ) - n * math.log(2.0)
    return _w2_cells((2.0 * j - n) / math.sqrt(n), np.exp(logp), 1.0)


def warmup() -> None:
    """Compile (or load from the numba cache) the jitted estimator cores."""
    norm_ppf(np.array([0.01, 0.5, 0.99]))
