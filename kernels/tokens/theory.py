r"""Analytic predictions for the token-synchronization model, and the exact two-point ρ-diffusion.

Everything here follows the spec ``models/tokens.md`` §2 (two-point motion) and §6.2–6.8, written
for Agazzi, Bruno, Mosig García, Saviozzi, Romito, *Stochastic scaling limits and synchronization
by noise in deep transformer models*, arXiv:2604.26898. Only the abstract and introduction of the
paper were available: the formulas are tagged [derived] (derived for the model implemented here
and checked numerically) or [literature] as in the spec.

Notation: :math:`\kappa` is the NNGP dual kernel (:mod:`kernels.common.dual_kernel`),
:math:`\kappa_1 = \kappa(1)`, :math:`\kappa_1' = \kappa'(1)`, :math:`d` the dimension,
:math:`\sigma_n` the noise strength, :math:`r = 1 - \rho` the pair distance near
synchronization, and :math:`\alpha_{\rm eff}` the effective attention strength
(:func:`attention_effective_strength`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit

from kernels.common.activations import check_activation
from kernels.common.dual_kernel import (
    activation_moments,
    dual_kernel,
    interp_kappa,
    kappa_table,
)
from kernels.common.dual_kernel import warmup as _warmup_dual_kernel
from kernels.common.validation import choice, integer, real, real_array
from kernels.tokens.core import ATTN_CODE, ATTN_KINDS

__all__ = [
    "ATTN_KINDS",
    "activation_moments",
    "attention_effective_strength",
    "bessel_i0",
    "bessel_i0e",
    "bessel_i1",
    "bessel_i1e",
    "critical_dimension",
    "equiangular_rate",
    "equiangular_rho",
    "kuramoto_order_parameter",
    "lyapunov_exponent",
    "moment_growth_rate",
    "moment_threshold",
    "one_token_correlation",
    "pair_rho_beta0",
    "phase_line_alpha",
    "sign_map",
    "simulate_rho_diffusion",
    "two_point_coefficients",
    "warmup",
]

PAPER = "Agazzi, Bruno, Mosig García, Saviozzi, Romito, arXiv:2604.26898"
#: Bounds accepted by the wrappers (the spec's sliders sit well inside them).
MAX_BETA = 20.0
MAX_ABS_ALPHA = 1e3
MAX_SIGMA_NOISE = 1e3
MAX_DIM = 1_000_000
#: Normals drawn per chunk in :func:`simulate_rho_diffusion` (32 MB of float64).
_CHUNK_DRAWS = 1 << 22


# ---------------------------------------------------------------------------------------------
# validation (messages from kernels.common.validation)
# ---------------------------------------------------------------------------------------------


def _weight_scales(sigma_w: object, sigma_b: object) -> tuple[float, float]:
    return real("sigma_w", sigma_w, 0.0, math.inf), real("sigma_b", sigma_b, 0.0, math.inf)


def _noise_params(sigma_noise: object, sigma_w: object, sigma_b: object) -> tuple[float, ...]:
    sn = real("sigma_noise", sigma_noise, 0.0, MAX_SIGMA_NOISE)
    return (sn, *_weight_scales(sigma_w, sigma_b))


def _attention(attn_kind: object, attn_strength: object, beta: object) -> float:
    kind = choice("attn_kind", attn_kind, ATTN_KINDS)
    alpha = real("attn_strength", attn_strength, -MAX_ABS_ALPHA, MAX_ABS_ALPHA)
    b = real("beta", beta, 0.0, MAX_BETA)
    if kind == "off" or alpha == 0.0:
        return 0.0
    return alpha if kind == "sa" else alpha * math.exp(b)


# ---------------------------------------------------------------------------------------------
# §6.2–6.3: rates near synchronization
# ---------------------------------------------------------------------------------------------


def attention_effective_strength(attn_kind: str, attn_strength: float, beta: float) -> float:
    r"""Effective attention strength :math:`\alpha_{\rm eff}` near consensus.

    .. math::
        \alpha_{\rm eff} = \begin{cases} \alpha & \text{SA} \\ \alpha e^{\beta} & \text{USA}
        \\ 0 & \text{attention off}\end{cases}

    Near :math:`\rho = 1` the pair drift of attention is :math:`-2\alpha_{\rm eff}\,r`
    (spec §6.2, §6.7). Provenance [derived]; paper: arXiv:2604.26898.

    Parameters
    ----------
    attn_kind : {"sa", "usa", "off"}
    attn_strength : float
        :math:`\alpha`, finite, :math:`|\alpha| \le 10^3` (< 0 is repulsive).
    beta : float
        Inverse temperature :math:`\beta \in [0, 20]`.

    Returns
    -------
    float
    """
    return _attention(attn_kind, attn_strength, beta)


def two_point_coefficients(
    rho: np.ndarray | float,
    *,
    activation: str,
    dim: int,
    sigma_noise: float = 1.0,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Drift and squared diffusion of the overlap :math:`\rho = \langle x, y\rangle` of two tokens.

    With attention off, :math:`d\rho = b(\rho)\,dt + \sqrt{a(\rho)}\,dB` (Itô) where

    .. math::
        b(\rho) = \sigma_n^2\big[(d-2+\rho^2)\kappa(\rho) - (d-1)\rho\kappa_1\big],\qquad
        a(\rho) = 2\sigma_n^2 (1-\rho^2)\big(\kappa_1 - \rho\kappa(\rho)\big).

    Provenance [derived] (spec §2 "Two-point motion", table §6.4); paper: arXiv:2604.26898.

    Parameters
    ----------
    rho : array_like, any shape
        Overlaps in [-1, 1].
    activation : str
        One of :data:`kernels.common.activations.ACTIVATIONS`.
    dim : int
        Dimension :math:`d \ge 2` of the sphere's ambient space.
    sigma_noise, sigma_w, sigma_b : float
        Noise strength :math:`\sigma_n \ge 0` and hidden weight / bias scales (>= 0).

    Returns
    -------
    b, a : ndarray, shape of ``rho``
    """
    act = check_activation(activation)
    d = integer("dim", dim, 2, MAX_DIM)
    sn, sw, sb = _noise_params(sigma_noise, sigma_w, sigma_b)
    r = real_array("rho", rho, -1.0 - 1e-12, 1.0 + 1e-12)
    r = np.clip(r, -1.0, 1.0)
    kappa1, _ = activation_moments(act, sw, sb)
    kap = dual_kernel(act, r, sw, sb)
    sn2 = sn * sn
    b = sn2 * ((d - 2.0 + r * r) * kap - (d - 1.0) * r * kappa1)
    a = 2.0 * sn2 * (1.0 - r) * (1.0 + r) * (kappa1 - r * kap)
    return b, np.maximum(a, 0.0)


def _radial_rates(
    activation, dim, sigma_noise, sigma_w, sigma_b, attn_kind, attn_strength, beta
) -> tuple[float, float]:
    """Validated (λ_r, s_r²) of the near-synchronization motion dr = r(μ_r dt + s_r dB).

    Takes the arguments of :func:`lyapunov_exponent`, in its order.
    """
    act = check_activation(activation)
    d = integer("dim", dim, 2, MAX_DIM)
    sn, sw, sb = _noise_params(sigma_noise, sigma_w, sigma_b)
    a_eff = _attention(attn_kind, attn_strength, beta)
    k1, k1p = activation_moments(act, sw, sb)
    sn2 = sn * sn
    lam_r = -2.0 * a_eff + sn2 * (-(d - 1.0) * k1 + (d - 3.0) * k1p)
    s_r2 = 4.0 * sn2 * (k1 + k1p)
    return lam_r, s_r2


def lyapunov_exponent(
    activation: str,
    dim: int,
    sigma_noise: float = 1.0,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    attn_kind: str = "sa",
    attn_strength: float = 0.0,
    beta: float = 1.0,
) -> float:
    r"""Top Lyapunov exponent :math:`\lambda_{\rm dist}` of the distance of two nearby tokens.

    Near :math:`\rho = 1`, :math:`r = 1-\rho` solves :math:`dr = r(\mu_r\,dt + s_r\,dB)` with
    :math:`\mu_r = \sigma_n^2[(3-d)\kappa_1 + (d-1)\kappa_1'] - 2\alpha_{\rm eff}` and
    :math:`s_r^2 = 4\sigma_n^2(\kappa_1+\kappa_1')`, so :math:`\log r` has slope
    :math:`\lambda_r = \mu_r - s_r^2/2` and the distance :math:`|x-y| = \sqrt{2r}` has

    .. math::
        \lambda_{\rm dist} = \tfrac12\lambda_r,\qquad
        \lambda_r = -2\alpha_{\rm eff} + \sigma_n^2\big[-(d-1)\kappa_1 + (d-3)\kappa_1'\big].

    Synchronization is local iff :math:`\lambda_{\rm dist} < 0`. Provenance [derived]
    (spec §6.2, table §6.1); paper: arXiv:2604.26898.

    Parameters
    ----------
    activation : str
        One of :data:`kernels.common.activations.ACTIVATIONS`.
    dim : int
        :math:`d \ge 2`.
    sigma_noise, sigma_w, sigma_b : float
        :math:`\sigma_n, \sigma_w, \sigma_b \ge 0`.
    attn_kind, attn_strength, beta
        As in :func:`attention_effective_strength`.

    Returns
    -------
    float
        :math:`\lambda_{\rm dist}`.
    """
    lam_r, _ = _radial_rates(
        activation, dim, sigma_noise, sigma_w, sigma_b, attn_kind, attn_strength, beta
    )
    return 0.5 * lam_r


def critical_dimension(activation: str, sigma_w: float = 1.0, sigma_b: float = 0.0) -> float:
    r"""Dimension :math:`d^*` above which common noise alone no longer synchronizes.

    With attention off, :math:`\lambda_r = 0` at

    .. math::
        d^* = \frac{3\kappa_1' - \kappa_1}{\kappa_1' - \kappa_1}\quad\text{if }\kappa_1' > \kappa_1,
        \qquad d^* = \infty \text{ ("never") otherwise.}

    :math:`d^*` does not depend on :math:`\sigma_n`. A relative margin of 1e-12 treats
    :math:`\kappa_1' = \kappa_1` (every positively 1-homogeneous s with :math:`\sigma_b = 0`)
    as "never" despite round-off. Provenance [derived] (spec §6.2, table §6.1); paper:
    arXiv:2604.26898.

    Returns
    -------
    float
        :math:`d^* > 3`, or ``math.inf``.
    """
    act = check_activation(activation)
    sw, sb = _weight_scales(sigma_w, sigma_b)
    k1, k1p = activation_moments(act, sw, sb)
    if k1p - k1 <= 1e-12 * max(abs(k1), abs(k1p)):
        return math.inf
    return (3.0 * k1p - k1) / (k1p - k1)


def moment_growth_rate(
    p: np.ndarray | float,
    activation: str,
    dim: int,
    sigma_noise: float = 1.0,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    attn_kind: str = "sa",
    attn_strength: float = 0.0,
    beta: float = 1.0,
) -> np.ndarray:
    r"""Exponential growth rate :math:`g(p)` of :math:`\mathbb{E}[r^p]` near synchronization.

    .. math:: g(p) = p\lambda_r + \tfrac12 p^2 s_r^2,\qquad s_r^2 = 4\sigma_n^2(\kappa_1+\kappa_1').

    :math:`g(1)` is the slope of :math:`\log\mathbb{E} r`; :math:`g'(0) = \lambda_r` that of
    :math:`\mathbb{E}\log r`. Provenance [derived] (spec §6.3); paper: arXiv:2604.26898.

    Parameters
    ----------
    p : array_like, any shape
        Moment orders (finite reals).
    activation, dim, sigma_noise, sigma_w, sigma_b, attn_kind, attn_strength, beta
        As in :func:`lyapunov_exponent`.

    Returns
    -------
    ndarray, shape of ``p``
    """
    pa = real_array("p", p, -math.inf, math.inf)
    lam_r, s_r2 = _radial_rates(
        activation, dim, sigma_noise, sigma_w, sigma_b, attn_kind, attn_strength, beta
    )
    return pa * lam_r + 0.5 * pa * pa * s_r2


def moment_threshold(
    activation: str,
    dim: int,
    sigma_noise: float = 1.0,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    attn_kind: str = "sa",
    attn_strength: float = 0.0,
    beta: float = 1.0,
) -> float:
    r"""Largest moment order :math:`p^*` whose moment :math:`\mathbb{E}[r^p]` still decays.

    .. math::
        p^* = -\frac{2\lambda_r}{s_r^2}
        = \frac{2\alpha_{\rm eff}/\sigma_n^2 + (d-1)\kappa_1 - (d-3)\kappa_1'}
               {2(\kappa_1+\kappa_1')},

    :math:`\mathbb{E}[r^p] \to 0` for :math:`0 < p < p^*`. :math:`p^* \le 0` means every
    positive moment grows. Without noise (:math:`s_r = 0`) this returns :math:`+\infty` if
    :math:`\lambda_r < 0`, :math:`-\infty` if :math:`\lambda_r > 0` and 0 if :math:`\lambda_r = 0`.
    Energies first order in r (GLPR gap, :math:`1-|\bar x|^2`) decay on average iff
    :math:`p^* > 1`; :math:`N^{-2}\sum|x_i-x_j|^q` iff :math:`q < 2p^*`. Provenance [derived]
    (spec §6.3); paper: arXiv:2604.26898.

    Returns
    -------
    float
    """
    lam_r, s_r2 = _radial_rates(
        activation, dim, sigma_noise, sigma_w, sigma_b, attn_kind, attn_strength, beta
    )
    if s_r2 > 0.0:
        return -2.0 * lam_r / s_r2
    if lam_r < 0.0:
        return math.inf
    return -math.inf if lam_r > 0.0 else 0.0


def phase_line_alpha(
    sigma_noise: np.ndarray | float,
    activation: str,
    dim: int,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    attn_kind: str = "sa",
    beta: float = 1.0,
) -> np.ndarray:
    r"""Attention strength on the :math:`\lambda_{\rm dist} = 0` line of the two-token phase plane.

    .. math::
        \alpha_{\rm eff}^{\,0} = \tfrac12\sigma_n^2\big[(d-3)\kappa_1' - (d-1)\kappa_1\big],

    a straight line in the :math:`(\sigma_n^2, \alpha)` plane; tokens synchronize locally for
    :math:`\alpha_{\rm eff} > \alpha_{\rm eff}^{\,0}`. For ReLU at :math:`d=3` it is
    :math:`\alpha = -\sigma_n^2/2`. Returned as the attention strength :math:`\alpha` of
    ``attn_kind``: :math:`\alpha_{\rm eff}^{\,0}` for SA (the default, so the return value *is*
    :math:`\alpha_{\rm eff}`), :math:`\alpha_{\rm eff}^{\,0} e^{-\beta}` for USA. Provenance
    [derived] (spec §6.2); paper: arXiv:2604.26898.

    Parameters
    ----------
    sigma_noise : array_like, any shape
        :math:`\sigma_n \ge 0`.
    activation, dim, sigma_w, sigma_b
        As in :func:`lyapunov_exponent`.
    attn_kind : {"sa", "usa"}
    beta : float
        In [0, 20]; only used for USA.

    Returns
    -------
    ndarray, shape of ``sigma_noise``
    """
    sn = real_array("sigma_noise", sigma_noise, 0.0, MAX_SIGMA_NOISE)
    act = check_activation(activation)
    d = integer("dim", dim, 2, MAX_DIM)
    sw, sb = _weight_scales(sigma_w, sigma_b)
    if attn_kind not in ("sa", "usa"):
        raise ValueError(
            f"attn_kind must be one of sa, usa (a phase line needs attention); got {attn_kind!r}"
        )
    b = real("beta", beta, 0.0, MAX_BETA)
    k1, k1p = activation_moments(act, sw, sb)
    a_eff = 0.5 * sn * sn * ((d - 3.0) * k1p - (d - 1.0) * k1)
    return a_eff if attn_kind == "sa" else a_eff * math.exp(-b)


def sign_map(
    activations: Sequence[str],
    dims: Sequence[int],
    sigma_noise: float = 1.0,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    attn_kind: str = "sa",
    attn_strength: float = 0.0,
    beta: float = 1.0,
) -> np.ndarray:
    r"""Table of :math:`\lambda_{\rm dist}` over activations × dimensions (the sign map panel).

    Entry ``[i, j]`` is :func:`lyapunov_exponent` ``(activations[i], dims[j], ...)``; negative
    means tokens synchronize. Provenance [derived] (spec §6.1–6.2, §4 panel 6); paper:
    arXiv:2604.26898.

    Returns
    -------
    ndarray, shape (len(activations), len(dims))
    """
    if isinstance(activations, str):
        raise ValueError("activations must be a sequence of activation names, not a string")
    acts = list(activations)
    ds = list(dims)
    out = np.empty((len(acts), len(ds)))
    for i, act in enumerate(acts):
        for j, d in enumerate(ds):
            out[i, j] = lyapunov_exponent(
                act, d, sigma_noise, sigma_w, sigma_b, attn_kind, attn_strength, beta
            )
    return out


def one_token_correlation(
    t: np.ndarray | float,
    *,
    activation: str,
    dim: int,
    sigma_noise: float = 1.0,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
) -> np.ndarray:
    r"""Autocorrelation :math:`\mathbb{E}\langle X_t, X_0\rangle` of one token (no attention).

    One token is Brownian motion on :math:`S^{d-1}` with generator
    :math:`(\sigma_n^2\kappa_1/2)\Delta_S`, so

    .. math:: \mathbb{E}\langle X_t, X_0\rangle = \exp\!\big(-\sigma_n^2(d-1)\kappa_1 t/2\big).

    Provenance [derived] (spec §6.5); paper: arXiv:2604.26898.

    Parameters
    ----------
    t : array_like, any shape
        Times :math:`t \ge 0`.

    Returns
    -------
    ndarray, shape of ``t``
    """
    ta = real_array("t", t, 0.0, math.inf)
    act = check_activation(activation)
    d = integer("dim", dim, 2, MAX_DIM)
    sn, sw, sb = _noise_params(sigma_noise, sigma_w, sigma_b)
    k1, _ = activation_moments(act, sw, sb)
    return np.exp(-0.5 * sn * sn * (d - 1.0) * k1 * ta)


# ---------------------------------------------------------------------------------------------
# §6.7: deterministic limits
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _equiangular_rhs(rho: float, n: float, alpha: float, beta: float, kind: int) -> float:
    if kind == 1:  # SA: e^{βρ}/(e^β + (N-1)e^{βρ}) = 1/(e^{β(1-ρ)} + N - 1)
        return (
            2.0
            * alpha
            * (1.0 - rho)
            * ((n - 1.0) * rho + 1.0)
            / (math.exp(beta * (1.0 - rho)) + n - 1.0)
        )
    if kind == 2:
        return (2.0 * alpha / n) * math.exp(beta * rho) * (1.0 - rho) * ((n - 1.0) * rho + 1.0)
    return 0.0


@njit(cache=True, nogil=True)
def _equiangular_core(
    times: np.ndarray,
    rho0: float,
    n: float,
    alpha: float,
    beta: float,
    kind: int,
    h_max: float,
    out: np.ndarray,
) -> None:
    """Classical RK4 through the sorted ``times``, landing exactly on each of them."""
    rho = rho0
    t = 0.0
    for i in range(times.size):
        span = times[i] - t
        if span > 0.0:
            m = math.ceil(span / h_max)
            h = span / m
            for _ in range(m):
                k1 = _equiangular_rhs(rho, n, alpha, beta, kind)
                k2 = _equiangular_rhs(rho + 0.5 * h * k1, n, alpha, beta, kind)
                k3 = _equiangular_rhs(rho + 0.5 * h * k2, n, alpha, beta, kind)
                k4 = _equiangular_rhs(rho + h * k3, n, alpha, beta, kind)
                rho += h * (k1 + 2.0 * k2 + 2.0 * k3 + k4) / 6.0
            t = times[i]
        out[i] = rho


def _equiangular_params(
    n_tokens: object, alpha: object, beta: object, attn_kind: object
) -> tuple[int, float, float, int]:
    n = integer("n_tokens", n_tokens, 2, 100_000)
    a = real("alpha", alpha, -MAX_ABS_ALPHA, MAX_ABS_ALPHA)
    b = real("beta", beta, 0.0, MAX_BETA)
    kind = ATTN_CODE[choice("attn_kind", attn_kind, ATTN_KINDS)]
    return n, a, b, kind


def equiangular_rate(
    rho: np.ndarray | float, *, n_tokens: int, alpha: float, beta: float, attn_kind: str
) -> np.ndarray:
    r"""Right-hand side :math:`\dot\rho = f(\rho)` of the equiangular attention ODE (no noise).

    .. math::
        \text{SA: } f = \frac{2\alpha e^{\beta\rho}(1-\rho)((N-1)\rho+1)}
                               {e^{\beta}+(N-1)e^{\beta\rho}},
        \qquad
        \text{USA: } f = \frac{2\alpha}{N} e^{\beta\rho}(1-\rho)((N-1)\rho+1).

    Provenance [literature: Rigollet arXiv:2512.01868] (spec §6.7); paper: arXiv:2604.26898.

    Returns
    -------
    ndarray, shape of ``rho``
    """
    n, a, b, kind = _equiangular_params(n_tokens, alpha, beta, attn_kind)
    r = real_array("rho", rho, -1.0, 1.0)
    flat = r.ravel()
    out = np.array([_equiangular_rhs(float(x), float(n), a, b, kind) for x in flat])
    return out.reshape(r.shape)


def equiangular_rho(
    t: np.ndarray | float,
    *,
    n_tokens: int,
    rho0: float,
    alpha: float,
    beta: float,
    attn_kind: str,
) -> np.ndarray:
    r"""Common overlap :math:`\rho(t)` of N equiangular tokens under pure attention (no noise).

    Start :math:`x_i = \sqrt{\rho_0}e_0 + \sqrt{1-\rho_0}e_i` (:math:`d \ge N+1`); the
    configuration stays equiangular and :math:`\rho` solves :math:`\dot\rho = f(\rho)`
    (:func:`equiangular_rate`). Solved by classical RK4 with step
    :math:`h \le \min(10^{-3}, 0.05/L)`, :math:`L = \max|f'|` on :math:`[-1/(N-1), 1]`, landing
    exactly on every requested time: the global error is :math:`O(h^4)` and below 1e-10 for the
    spec's parameters (checked against ``scipy.integrate.solve_ivp`` at rtol 1e-12). Near
    consensus :math:`1-\rho \sim e^{-2\alpha t}` (SA) or :math:`e^{-2\alpha e^\beta t}` (USA).
    Provenance [literature: Rigollet arXiv:2512.01868] (spec §6.7); paper: arXiv:2604.26898.

    Parameters
    ----------
    t : array_like, any shape
        Times :math:`t \ge 0` (any order).
    n_tokens : int
        :math:`N \ge 2`.
    rho0 : float
        Initial overlap in :math:`[-1/(N-1), 1]` (a Gram matrix must be positive semidefinite).
    alpha : float
        Attention strength, :math:`|\alpha| \le 10^3`.
    beta : float
        Inverse temperature in [0, 20].
    attn_kind : {"sa", "usa", "off"}
        ``off`` returns :math:`\rho_0` at every time.

    Returns
    -------
    ndarray, shape of ``t``
    """
    n, a, b, kind = _equiangular_params(n_tokens, alpha, beta, attn_kind)
    lo = -1.0 / (n - 1)
    r0 = real("rho0", rho0, lo, 1.0)
    ta = real_array("t", t, 0.0, 1e6)
    flat = ta.ravel()
    if flat.size == 0:
        return ta.copy()
    times = np.unique(flat)
    # Lipschitz bound of f on the invariant interval, by finite differences on a fine grid
    grid = np.linspace(lo, 1.0, 2001)
    f = np.array([_equiangular_rhs(float(x), float(n), a, b, kind) for x in grid])
    lip = float(np.max(np.abs(np.diff(f)) / np.diff(grid))) if kind else 0.0
    h_max = min(1e-3, 0.05 / lip) if lip > 0.0 else 1e-3
    if times[-1] / h_max > 2e8:
        raise ValueError(
            f"t must be <= {2e8 * h_max:.3g} for these parameters (RK4 step {h_max:.2g} "
            f"would need more than 2e8 steps); got max t = {times[-1]!r}"
        )
    out_sorted = np.empty(times.size)
    _equiangular_core(times, r0, float(n), a, b, kind, h_max, out_sorted)
    return out_sorted[np.searchsorted(times, flat)].reshape(ta.shape)


def pair_rho_beta0(t: np.ndarray | float, alpha: float, rho0: float) -> np.ndarray:
    r"""Exact overlap of two tokens under attention with :math:`\beta = 0` and no noise.

    For N = 2 and :math:`\beta = 0` both SA and USA give :math:`\dot\rho = \alpha(1-\rho^2)`, so

    .. math:: \rho(t) = \tanh\!\big(\alpha t + \operatorname{artanh}\rho_0\big).

    Provenance [derived] (spec §6.7); paper: arXiv:2604.26898.

    Parameters
    ----------
    t : array_like, any shape
        Times :math:`t \ge 0`.
    alpha : float
        :math:`|\alpha| \le 10^3`.
    rho0 : float
        In [-1, 1]; :math:`\pm 1` are fixed points.

    Returns
    -------
    ndarray, shape of ``t``
    """
    ta = real_array("t", t, 0.0, math.inf)
    a = real("alpha", alpha, -MAX_ABS_ALPHA, MAX_ABS_ALPHA)
    r0 = real("rho0", rho0, -1.0, 1.0)
    if abs(r0) == 1.0:
        return np.full(ta.shape, r0)
    return np.tanh(a * ta + math.atanh(r0))


# ---------------------------------------------------------------------------------------------
# §6.8: Bessel functions and the Kuramoto order parameter
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _bessel_ie(nu: int, x: float) -> float:
    """exp(-|x|) I_nu(|x|) for nu in {0, 1}.

    |x| <= 20: the power series sum (x/2)^{2k+nu}/(k!(k+nu)!) has positive terms (no
    cancellation; relative error ~ k eps). |x| > 20: the asymptotic expansion
    e^{-x} I_nu(x) ~ (2 pi x)^{-1/2} sum_k (-1)^k a_k(nu)/x^k,
    a_k = prod_{j<=k}(4nu^2-(2j-1)^2)/(k! 8^k), truncated at its smallest term, which is below
    e^{-2x} < 1e-17.
    """
    ax = abs(x)
    if ax <= 20.0:
        half = 0.5 * ax
        term = 1.0 if nu == 0 else half
        total = term
        q = half * half
        for k in range(1, 200):
            term *= q / (k * (k + nu))
            total += term
            if term < 1e-17 * total:
                break
        return total * math.exp(-ax)
    mu = 4.0 * nu * nu
    term = 1.0
    total = 1.0
    for k in range(1, 100):
        new = -term * (mu - (2.0 * k - 1.0) ** 2) / (k * 8.0 * ax)
        if abs(new) >= abs(term):
            break
        term = new
        total += term
        if abs(term) < 1e-17 * abs(total):
            break
    return total / math.sqrt(2.0 * math.pi * ax)


@njit(cache=True, nogil=True)
def _bessel_many(nu: int, scaled: bool, x: np.ndarray, out: np.ndarray) -> None:
    for i in range(x.size):
        v = _bessel_ie(nu, x[i])
        if not scaled:
            v *= math.exp(abs(x[i]))
        if nu == 1 and x[i] < 0.0:
            v = -v
        out[i] = v


def _bessel(nu: int, scaled: bool, x: np.ndarray | float) -> np.ndarray:
    arr = real_array("x", x, -math.inf, math.inf)
    flat = np.ascontiguousarray(arr.ravel())
    out = np.empty(flat.size)
    with np.errstate(over="ignore"):
        _bessel_many(nu, scaled, flat, out)
    return out.reshape(arr.shape)


def bessel_i0(x: np.ndarray | float) -> np.ndarray:
    r"""Modified Bessel function :math:`I_0(x)` (numpy + numba only; overflows to inf past ~713).

    Returns an array of the shape of ``x``; agrees with ``scipy.special.i0`` to ~1e-14 relative.
    """
    return _bessel(0, False, x)


def bessel_i1(x: np.ndarray | float) -> np.ndarray:
    r"""Modified Bessel function :math:`I_1(x)` (odd in x); shape of ``x``."""
    return _bessel(1, False, x)


def bessel_i0e(x: np.ndarray | float) -> np.ndarray:
    r"""Exponentially scaled :math:`e^{-|x|}I_0(x)`; shape of ``x``."""
    return _bessel(0, True, x)


def bessel_i1e(x: np.ndarray | float) -> np.ndarray:
    r"""Exponentially scaled :math:`e^{-|x|}I_1(x)`; shape of ``x``."""
    return _bessel(1, True, x)


@njit(cache=True, nogil=True)
def _kuramoto_root(coupling_over_d: float) -> float:
    """Positive root x of I1(x)/I0(x) = x/K by bisection (unique for K > 2); returns r = x/K."""
    k = coupling_over_d
    lo = 0.0
    hi = k  # I1/I0 < 1, so x = K r < K
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        g = _bessel_ie(1, mid) / _bessel_ie(0, mid) - mid / k
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
    sn, sw, sb = _noise_params(sigma_noise, sigma_w, sigma_b)
    k1, _ = activation_moments(act, sw, sb)
    diff = 0.5 * sn * sn * k1
    if a <= 2.0 * diff:  # incoherent state stable (includes α <= 0)
        return 0.0
    if diff == 0.0:
        return 1.0
    return float(_kuramoto_root(a / diff))


# ---------------------------------------------------------------------------------------------
# §2, §6.3–6.4: the exact two-point ρ-diffusion
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _rho_diffusion_core(
    rho: np.ndarray,
    normals: np.ndarray,
    rho_nodes: np.ndarray,
    kappa_nodes: np.ndarray,
    dim: float,
    sn2: float,
    attn_code: int,
    alpha: float,
    beta: float,
    dt: float,
) -> None:
    """Advance ``rho`` in place by normals.shape[0] Euler–Maruyama steps (one row per step)."""
    n_steps, n_paths = normals.shape
    sqdt = math.sqrt(dt)
    kappa1 = kappa_nodes[0]  # κ(1) of the same table, so b(1) = a(1) = 0 exactly
    dm1 = dim - 1.0
    dm2 = dim - 2.0
    for k in range(n_steps):
        for p in range(n_paths):
            r = rho[p]
            kap = interp_kappa(r, rho_nodes, kappa_nodes)
            one_m = 1.0 - r
            one_p = 1.0 + r
            drift = sn2 * ((dm2 + r * r) * kap - dm1 * r * kappa1)
            var = 2.0 * sn2 * one_m * one_p * (kappa1 - r * kap)
            if attn_code == 1:
                drift += 2.0 * alpha * one_m * one_p / (math.exp(beta * one_m) + 1.0)
            elif attn_code == 2:
                drift += alpha * math.exp(beta * r) * one_m * one_p
            r += drift * dt + math.sqrt(var if var > 0.0 else 0.0) * sqdt * normals[k, p]
            if r > 1.0:
                r = 1.0
            elif r < -1.0:
                r = -1.0
            rho[p] = r


def simulate_rho_diffusion(
    rho0: np.ndarray | float,
    *,
    activation: str,
    dim: int,
    sigma_noise: float,
    t_max: float,
    dt: float,
    n_paths: int,
    rng: np.random.Generator,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    attn_kind: str = "sa",
    attn_strength: float = 0.0,
    beta: float = 1.0,
    n_records: int | None = None,
) -> np.ndarray:
    r"""Euler–Maruyama paths of the exact two-token overlap diffusion (N = 2, common noise).

    .. math::
        d\rho = \big[b(\rho) + A(\rho)\big]dt + \sqrt{a(\rho)}\,dB,

    with :math:`b, a` of :func:`two_point_coefficients` and the N = 2 attention drift of §6.7,
    :math:`A_{\rm SA} = 2\alpha e^{\beta\rho}(1-\rho)(1+\rho)/(e^\beta + e^{\beta\rho})`,
    :math:`A_{\rm USA} = \alpha e^{\beta\rho}(1-\rho)(1+\rho)`. After each step :math:`\rho` is
    clipped to [-1, 1]; :math:`\rho = 1` is absorbing (so is -1 for odd s with
    :math:`\sigma_b = 0`).

    :math:`\kappa` is read inside the jitted loop from
    :func:`kernels.common.dual_kernel.kappa_table` (4001 nodes uniform in :math:`\arccos\rho`,
    linear interpolation in :math:`\rho`): absolute interpolation error < 1e-7 everywhere and
    relative error < 2e-4 in :math:`\kappa_1-\kappa(\rho)` near :math:`\rho = 1`, far below
    the :math:`O(\Delta t)` Euler bias (see that function for the table's quadrature error at
    large variances). The step is :math:`h = t_{\max}/\lceil t_{\max}/\Delta t\rceil \le \Delta t`.

    Randomness: standard normals are drawn from ``rng`` in chunks of whole steps (step-major),
    so the same seed and arguments give bit-identical output, independent of ``n_records``.
    Provenance [derived] (spec §2, §6.3, §6.4); paper: arXiv:2604.26898.

    Parameters
    ----------
    rho0 : float or array_like, shape (n_paths,)
        Initial overlap(s) in [-1, 1].
    activation : str
        One of :data:`kernels.common.activations.ACTIVATIONS`.
    dim : int
        :math:`d \ge 2`.
    sigma_noise : float
        :math:`\sigma_n \ge 0`.
    t_max : float
        Horizon, in (0, 1e4].
    dt : float
        Maximal step, in (0, t_max].
    n_paths : int
        Number of independent paths, in [1, 1e7].
    rng : numpy.random.Generator
        Source of the Brownian increments.
    sigma_w, sigma_b : float
        Hidden weight and bias scales.
    attn_kind, attn_strength, beta
        As in :func:`attention_effective_strength` (SA/USA drift above; ``off`` none).
    n_records : int, optional
        If given, in [1, number of steps]: return snapshots at steps
        ``round(k * n_steps / n_records)``, k = 0..n_records (times ``k * t_max / n_records``
        when n_records divides the step count).

    Returns
    -------
    ndarray
        Shape (n_paths,) with :math:`\rho(t_{\max})`, or (n_records + 1, n_paths) with the
        initial values in row 0.
    """
    act = check_activation(activation)
    d = integer("dim", dim, 2, MAX_DIM)
    sn, sw, sb = _noise_params(sigma_noise, sigma_w, sigma_b)
    kind = choice("attn_kind", attn_kind, ATTN_KINDS)
    alpha = real("attn_strength", attn_strength, -MAX_ABS_ALPHA, MAX_ABS_ALPHA)
    b = real("beta", beta, 0.0, MAX_BETA)
    t_end = real("t_max", t_max, 0.0, 1e4, lo_open=True)
    step = real("dt", dt, 0.0, t_end, lo_open=True)
    n = integer("n_paths", n_paths, 1, 10_000_000)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    r0 = real_array("rho0", rho0, -1.0, 1.0)
    if r0.ndim > 1 or (r0.ndim == 1 and r0.shape[0] not in (1, n)):
        raise ValueError(f"rho0 must be a scalar or have shape ({n},); got shape {r0.shape}")
    n_steps = max(1, math.ceil(t_end / step - 1e-9))
    h = t_end / n_steps
    if n_records is None:
        record_steps = [n_steps]
    else:
        nr = integer("n_records", n_records, 1, n_steps)
        record_steps = [round(k * n_steps / nr) for k in range(1, nr + 1)]
    attn_code = 0 if kind == "off" or alpha == 0.0 else ATTN_CODE[kind]
    rho_nodes, kappa_nodes = kappa_table(act, sw, sb)

    rho = np.empty(n)
    rho[:] = r0
    snapshots = np.empty((len(record_steps) + 1, n))
    snapshots[0] = rho
    chunk = max(1, min(n_steps, _CHUNK_DRAWS // n))
    done = 0
    for i, target in enumerate(record_steps):
        while done < target:
            m = min(chunk, target - done)
            normals = rng.standard_normal((m, n))
            _rho_diffusion_core(
                rho, normals, rho_nodes, kappa_nodes, float(d), sn * sn, attn_code, alpha, b, h
            )
            done += m
        snapshots[i + 1] = rho
    return snapshots[-1].copy() if n_records is None else snapshots


def warmup() -> None:
    """Compile (or load from the numba cache) every jitted core here and in the dual kernel."""
    _warmup_dual_kernel()
    rng = np.random.default_rng(0)
    for kind in ATTN_KINDS:
        simulate_rho_diffusion(
            0.5,
            activation="relu",
            dim=3,
            sigma_noise=1.0,
            t_max=0.01,
            dt=0.005,
            n_paths=2,
            rng=rng,
            attn_kind=kind,
            attn_strength=0.5,
        )
        equiangular_rho(np.array([0.1]), n_tokens=3, rho0=0.2, alpha=1.0, beta=1.0, attn_kind=kind)
    bessel_i0(np.array([0.5, 30.0]))
    bessel_i1e(np.array([0.5, 30.0]))
    kuramoto_order_parameter(1.0, 1.0)
