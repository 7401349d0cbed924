r"""Diagnostics of token configurations: distances, similarities, energies, rates.

Every function takes tokens of shape ``(..., N, d)`` (one configuration, a trajectory of frames
or an ensemble) and reduces over the last two axes, vectorized over the leading ones. They are
the measured side of spec ``models/tokens.md`` §3–§6 (Agazzi, Bruno, Mosig García, Saviozzi,
Romito, arXiv:2604.26898): the diameter :math:`\max_{i<j}|x_i-x_j|`, the mean vector
:math:`|\bar x|`, histograms of :math:`\langle x_i,x_j\rangle`, the interaction energies
(a)–(c) of §3, :func:`fit_log_slope`, the measured exponential rate to compare with
:func:`kernels.tokens.theory.lyapunov_exponent`, and :func:`kuramoto_order_parameter`, the
stationary synchronization of the circle (§6.8) that the measured :math:`|\bar x|` approaches.

Pairwise quantities are computed from differences :math:`x_i-x_j`, not from
:math:`1-\langle x_i,x_j\rangle`, so distances and energies near synchronization (down to
~1e-30) keep their relative accuracy. Cluster counts and the fraction of synchronized pairs
are in :mod:`kernels.tokens.clusters`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from kernels.common.activations import check_activation
from kernels.common.dual_kernel import activation_moments
from kernels.common.validation import choice, integer, real
from kernels.tokens.special import bessel_ie
from kernels.tokens.theory import MAX_ABS_ALPHA, noise_scales

__all__ = [
    "ENERGY_KINDS",
    "SlopeFit",
    "diameter",
    "energy",
    "fit_log_slope",
    "gram",
    "kuramoto_order_parameter",
    "mean_vector_norm",
    "similarity_histogram",
    "warmup",
]

#: Interaction energies of :func:`energy` (spec §3 (a), (b), (c)).
ENERGY_KINDS: tuple[str, ...] = ("glpr", "mean_norm", "distance")
_ENERGY_CODE = {"glpr": 1, "mean_norm": 2, "distance": 3}


class SlopeFit(NamedTuple):
    """Least-squares fit :math:`\\log y \\approx \\text{intercept} + \\text{slope}\\, t`."""

    slope: float
    intercept: float
    t_start: float
    t_stop: float
    n_points: int


def frames_view(x: object, name: str = "x") -> tuple[np.ndarray, tuple[int, ...]]:
    """x (..., N, d) as a contiguous (n_frames, N, d) array, and the leading shape."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim < 2:
        raise ValueError(f"{name} must have shape (..., N, d); got shape {arr.shape}")
    lead = arr.shape[:-2]
    return np.ascontiguousarray(arr.reshape((-1, *arr.shape[-2:]))), lead


def per_frame(out: np.ndarray, lead: tuple[int, ...]) -> np.ndarray:
    """Per-frame results back to the leading shape (a scalar for a single configuration)."""
    return out.reshape(lead) if lead else out[0]


@njit(cache=True, nogil=True, error_model="numpy")
def _energy_term(kind, gm1, beta):
    """One (i, j) term of the energies (a), (b) from G_ij - 1 = gm1 (the sum is divided by N^2).

    (a) GLPR: -(e^{beta(G-1)} - 1) e^beta / (2 beta), which is -(G-1)/2 at beta = 0;
    (b) mean norm: -(G-1).
    """
    if kind == 2:
        return -gm1
    if beta == 0.0:
        return -0.5 * gm1
    return -math.expm1(beta * gm1) * math.exp(beta) / (2.0 * beta)


@njit(cache=True, nogil=True, error_model="numpy")
def _pair_stats_core(x, kind, beta, q, out):
    """Per frame: 0 diameter, 1 glpr energy, 2 mean-norm energy, 3 distance energy.

    Uses D_ij = |x_i - x_j|^2 and G_ij - 1 = ((|x_i|^2-1) + (|x_j|^2-1) - D_ij)/2, which are
    exact to round-off even when tokens nearly coincide (unlike 1 - <x_i, x_j>).
    """
    nf, n, d = x.shape
    nm = np.empty(n)
    for f in range(nf):
        xf = x[f]
        for i in range(n):
            acc = 0.0
            for k in range(d):
                acc += xf[i, k] * xf[i, k]
            nm[i] = acc - 1.0
        best = 0.0
        total = 0.0
        for i in range(n):
            for j in range(i + 1, n):
                dd = 0.0
                for k in range(d):
                    t = xf[i, k] - xf[j, k]
                    dd += t * t
                if kind == 0:
                    best = max(best, dd)
                elif kind == 3:
                    total += dd ** (0.5 * q)
                else:
                    total += _energy_term(kind, 0.5 * (nm[i] + nm[j] - dd), beta)
        if kind == 0:
            out[f] = math.sqrt(best)
        else:
            # off-diagonal pairs counted twice; diagonal terms (|x_i|^2 - 1 ~ 0) added for (a), (b)
            total *= 2.0
            if kind != 3:
                for i in range(n):
                    total += _energy_term(kind, nm[i], beta)
            out[f] = total / (n * n)


def _pair_stat(x: object, kind: int, beta: float, q: float) -> np.ndarray:
    xf, lead = frames_view(x)
    out = np.empty(xf.shape[0])
    _pair_stats_core(xf, kind, beta, q, out)
    return per_frame(out, lead)


def diameter(x: np.ndarray) -> np.ndarray:
    r"""Largest pairwise distance of each token configuration (spec §4 panel 3).

    .. math:: \operatorname{diam}(x) = \max_{i<j}|x_i-x_j|

    Computed from the differences :math:`x_i-x_j`, so diameters down to ~1e-30 keep their
    relative accuracy. Provenance [derived] (the synchronization measure; its decay rate is
    :math:`\lambda_{\rm dist}`, spec §6.2); paper: arXiv:2604.26898.

    Parameters
    ----------
    x : ndarray, shape (..., N, d)
        Tokens (one configuration, a trajectory or an ensemble).

    Returns
    -------
    ndarray, shape (...)
        The diameter of each configuration (a float for a single (N, d) configuration).
    """
    return _pair_stat(x, 0, 0.0, 0.0)


def mean_vector_norm(x: np.ndarray) -> np.ndarray:
    r"""Norm of the mean token, 1 at synchronization, :math:`O(N^{-1/2})` for a spread cloud.

    .. math:: |\bar x| = \Big|\frac1N\sum_{i=1}^N x_i\Big|

    Provenance [literature] (GLPR arXiv:2312.10794; energy (b) is :math:`1-|\bar x|^2`);
    paper: arXiv:2604.26898.

    Parameters
    ----------
    x : ndarray, shape (..., N, d)
        Tokens.

    Returns
    -------
    ndarray, shape (...)
    """
    arr = np.asarray(x, dtype=np.float64)
    return np.linalg.norm(arr.mean(axis=-2), axis=-1)


def gram(x: np.ndarray) -> np.ndarray:
    r"""Gram matrix of the tokens (the hero's heatmap for d > 3).

    .. math:: G_{ij} = \langle x_i, x_j\rangle

    Provenance [literature] (the similarities of GLPR arXiv:2312.10794); paper:
    arXiv:2604.26898.

    Parameters
    ----------
    x : ndarray, shape (..., N, d)
        Tokens.

    Returns
    -------
    ndarray, shape (..., N, N)
    """
    arr = np.asarray(x, dtype=np.float64)
    return arr @ np.swapaxes(arr, -1, -2)


@njit(cache=True, nogil=True, error_model="numpy")
def _hist_core(x, bins, absolute, out):
    nf, n, d = x.shape
    lo = 0.0 if absolute else -1.0
    scale = bins / (1.0 - lo)
    npairs = n * (n - 1) // 2
    for f in range(nf):
        xf = x[f]
        for b in range(bins):
            out[f, b] = 0.0
        for i in range(n):
            for j in range(i + 1, n):
                gij = 0.0
                for k in range(d):
                    gij += xf[i, k] * xf[j, k]
                if absolute:
                    gij = abs(gij)
                b = int((gij - lo) * scale)
                b = min(max(b, 0), bins - 1)
                out[f, b] += 1.0
        if npairs > 0:
            for b in range(bins):
                out[f, b] /= npairs


def similarity_histogram(traj: np.ndarray, bins: int = 40, absolute: bool = False) -> np.ndarray:
    r"""Histogram of the off-diagonal similarities :math:`\langle x_i,x_j\rangle` per frame.

    Parameters
    ----------
    traj : ndarray, shape (n_frames, N, d) or (N, d)
    bins : int
        Equal bins on [-1, 1] (or [0, 1] for ``absolute``); values outside are clipped to the
        end bins. Edges: ``np.linspace(-1 or 0, 1, bins + 1)``.
    absolute : bool
        Histogram :math:`|\langle x_i,x_j\rangle|` (odd activations pile up at ±1).

    Returns
    -------
    ndarray, shape (n_frames, bins)
        Fraction of the :math:`N(N-1)/2` pairs in each bin (rows sum to 1; zeros if N = 1).

    Notes
    -----
    Provenance [literature] (the similarity histograms of GLPR arXiv:2312.10794); paper:
    arXiv:2604.26898.
    """
    nb = integer("bins", bins, 1)
    arr = np.asarray(traj, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"traj must have shape (n_frames, N, d); got shape {arr.shape}")
    out = np.zeros((arr.shape[0], nb))
    _hist_core(np.ascontiguousarray(arr), nb, bool(absolute), out)
    return out


def energy(x: np.ndarray, kind: str, beta: float = 1.0, q: float = 0.5) -> np.ndarray:
    r"""Interaction energies of spec §3, over leading axes: x (..., N, d) -> (...).

    * ``"glpr"`` (a) [literature, GLPR]:
      :math:`\frac{1}{2\beta}\bigl(e^\beta - N^{-2}\sum_{ij}e^{\beta\langle x_i,x_j\rangle}\bigr)`
      (:math:`\beta\to0`: :math:`\tfrac12(1-|\bar x|^2)`);
    * ``"mean_norm"`` (b): :math:`1-|\bar x|^2`;
    * ``"distance"`` (c): :math:`N^{-2}\sum_{ij}|x_i-x_j|^q`.

    All three vanish exactly at synchronization; they are evaluated from pairwise differences
    so that values down to ~1e-30 are meaningful (tokens assumed on the sphere for (a), (b)).
    Provenance: (a) [literature], (b), (c) [derived] (spec §3); paper: arXiv:2604.26898.

    Parameters
    ----------
    x : ndarray, shape (..., N, d)
        Tokens.
    kind : {"glpr", "mean_norm", "distance"}
        Energy (a), (b) or (c).
    beta : float
        Inverse temperature of (a), in [0, 700].
    q : float
        Exponent of (c), in (0, 100].

    Returns
    -------
    ndarray, shape (...)
    """
    k = _ENERGY_CODE[choice("kind", kind, ENERGY_KINDS)]
    b = real("beta", beta, 0.0, 700.0)
    qq = real("q", q, 0.0, 100.0, lo_open=True)
    return _pair_stat(x, k, b, qq)


def fit_log_slope(
    t: np.ndarray,
    y: np.ndarray,
    *,
    floor: float = 1e-6,
    t_min: float | None = None,
    t_max: float | None = None,
    full: bool = False,
) -> float | SlopeFit:
    r"""Least-squares slope of :math:`\log y` against :math:`t` (the measured rate).

    Default window (the "late part above round-off"): the run is cut at the first point where
    ``y`` is not finite or drops below ``floor`` (1e-6, where a diameter stops being a clean
    exponential in double precision), and the fit uses the later half (in time) of what is
    left, where the linearization near synchronization holds. ``t_min``/``t_max`` override the
    window ends. Compare the slope of ``diameter`` with :math:`\lambda_{\rm dist}` and of a
    squared distance or energy with :math:`\lambda_r = 2\lambda_{\rm dist}` (spec §6.2).

    .. math:: \min_{a,b}\sum_{t_k\in\text{window}}\big(\log y_k - a - b\,t_k\big)^2

    Provenance [derived] (the measured side of spec §6.2); paper: arXiv:2604.26898.

    Parameters
    ----------
    t, y : ndarray, shape (n,)
        Times and positive values (e.g. :func:`diameter` of each recorded frame).
    floor : float
        Values at or below it end the usable run.
    t_min, t_max : float, optional
        Window ends (default: the later half of the usable run).
    full : bool
        Return a :class:`SlopeFit` rather than the slope.

    Returns
    -------
    float or SlopeFit
        The slope (nan if fewer than 3 points qualify); ``full=True`` returns
        :class:`SlopeFit` with the intercept and window for drawing the fitted line.
    """
    tt = np.asarray(t, dtype=np.float64).ravel()
    yy = np.asarray(y, dtype=np.float64).ravel()
    if tt.shape != yy.shape:
        raise ValueError(f"t and y must have the same length; got {tt.shape} and {yy.shape}")
    fl = real("floor", floor, 0.0, math.inf)
    ok = np.isfinite(yy) & (yy > fl) & np.isfinite(tt)
    bad = np.flatnonzero(~ok)
    stop = int(bad[0]) if bad.size else tt.size
    lo_t = tt[0] if tt.size else 0.0
    hi_t = tt[stop - 1] if stop > 0 else lo_t
    start_t = lo_t + 0.5 * (hi_t - lo_t) if t_min is None else float(t_min)
    stop_t = hi_t if t_max is None else float(t_max)
    sel = np.zeros(tt.size, dtype=bool)
    sel[:stop] = True
    if t_min is not None or t_max is not None:
        sel = ok.copy()
    sel &= (tt >= start_t) & (tt <= stop_t)
    npts = int(sel.sum())
    if npts < 3:
        fit = SlopeFit(math.nan, math.nan, start_t, stop_t, npts)
    else:
        slope, intercept = np.polyfit(tt[sel], np.log(yy[sel]), 1)
        fit = SlopeFit(float(slope), float(intercept), start_t, stop_t, npts)
    return fit if full else fit.slope


# ---------------------------------------------------------------------------------------------
# §6.8: the Kuramoto order parameter (d = 2), the synchronization measure of the circle
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _kuramoto_root(coupling_over_d: float) -> float:
    """Positive root x of I1(x)/I0(x) = x/K by bisection (unique for K > 2); returns r = x/K."""
    k = coupling_over_d
    lo = 0.0
    hi = k  # I1/I0 < 1, so x = K r < K
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        g = bessel_ie(1, mid) / bessel_ie(0, mid) - mid / k
        if g > 0.0:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-16 * hi:
            break
    return 0.5 * (lo + hi) / k


def kuramoto_order_parameter(
    alpha: float,
    sigma_noise: float,
    activation: str = "relu",
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
) -> float:
    r"""Stationary Kuramoto order parameter (d = 2, USA, :math:`\beta = 0`, independent noise).

    Each token diffuses on the circle with :math:`D = \sigma_n^2\kappa_1/2` and the attention is
    the Kuramoto coupling :math:`K = \alpha`. The uniform state is stable iff
    :math:`\alpha \le 2D = \sigma_n^2\kappa_1` (then r = 0); otherwise

    .. math:: r = \frac{I_1(\alpha r/D)}{I_0(\alpha r/D)},\qquad r > 0.

    ReLU, :math:`\sigma_n = 1`, :math:`\alpha = 1` gives r = 0.8315. With :math:`\sigma_n = 0`
    and :math:`\alpha > 0`, r = 1. Provenance [literature: Bertini–Giacomin–Pakdaman 2010;
    mapping derived] (spec §6.8); paper: arXiv:2604.26898.

    Parameters
    ----------
    alpha : float
        Coupling, :math:`|\alpha| \le 10^3`.
    sigma_noise : float
        :math:`\sigma_n \ge 0`.
    activation, sigma_w, sigma_b
        Define :math:`\kappa_1` (:func:`activation_moments`).

    Returns
    -------
    float
        r in [0, 1].
    """
    a = real("alpha", alpha, -MAX_ABS_ALPHA, MAX_ABS_ALPHA)
    act = check_activation(activation)
    sn, sw, sb = noise_scales(sigma_noise, sigma_w, sigma_b)
    k1, _ = activation_moments(act, sw, sb)
    diff = 0.5 * sn * sn * k1
    if a <= 2.0 * diff:  # incoherent state stable (includes α <= 0)
        return 0.0
    if diff == 0.0:
        return 1.0
    return float(_kuramoto_root(a / diff))


def warmup() -> None:
    """Compile (or load from the numba cache) the jitted cores on tiny inputs."""
    x = np.eye(3)[None]
    diameter(x)
    similarity_histogram(x, bins=2)
    kuramoto_order_parameter(1.0, 1.0)
