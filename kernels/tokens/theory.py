r"""Analytic predictions of the token-synchronization model: two-point rates near synchronization.

Everything here follows the spec ``models/tokens.md`` §2 (two-point motion) and §6.1–6.5, written
for Agazzi, Bruno, Mosig García, Saviozzi, Romito, *Stochastic scaling limits and synchronization
by noise in deep transformer models*, arXiv:2604.26898. Only the abstract and introduction of the
paper were available: the formulas are tagged [derived] (derived for the model implemented here
and checked numerically) or [literature] as in the spec.

Notation: :math:`\kappa` is the NNGP dual kernel (:mod:`kernels.common.dual_kernel`),
:math:`\kappa_1 = \kappa(1)`, :math:`\kappa_1' = \kappa'(1)`, :math:`d` the dimension,
:math:`\sigma_n` the noise strength, :math:`r = 1 - \rho` the pair distance near
synchronization, and :math:`\alpha_{\rm eff}` the effective attention strength
(:func:`attention_effective_strength`).

The rest of the theory has its own modules: the noise-free attention limits in
:mod:`kernels.tokens.deterministic`, the exact two-point SDE simulator in
:mod:`kernels.tokens.two_point_sde`, the Kuramoto order parameter in
:mod:`kernels.tokens.diagnostics` and the Bessel functions in :mod:`kernels.tokens.special`.
No jitted code here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from kernels.common.activations import check_activation
from kernels.common.dual_kernel import activation_moments, dual_kernel
from kernels.common.validation import choice, integer, real, real_array
from kernels.tokens.params import ATTN_KINDS

__all__ = [
    "ATTN_KINDS",
    "MAX_ABS_ALPHA",
    "MAX_BETA",
    "MAX_DIM",
    "MAX_SIGMA_NOISE",
    "activation_moments",
    "attention_effective_strength",
    "critical_dimension",
    "lyapunov_exponent",
    "moment_growth_rate",
    "moment_threshold",
    "noise_scales",
    "one_token_correlation",
    "phase_line_alpha",
    "sign_map",
    "two_point_coefficients",
    "weight_scales",
]

PAPER = "Agazzi, Bruno, Mosig García, Saviozzi, Romito, arXiv:2604.26898"
#: Bounds accepted by the wrappers (the spec's sliders sit well inside them).
MAX_BETA = 20.0
MAX_ABS_ALPHA = 1e3
MAX_SIGMA_NOISE = 1e3
MAX_DIM = 1_000_000


# ---------------------------------------------------------------------------------------------
# validation (messages from kernels.common.validation), shared by the other theory modules
# ---------------------------------------------------------------------------------------------


def weight_scales(sigma_w: object, sigma_b: object) -> tuple[float, float]:
    """Validated hidden weight and bias scales (σ_w, σ_b), each >= 0."""
    return real("sigma_w", sigma_w, 0.0, math.inf), real("sigma_b", sigma_b, 0.0, math.inf)


def noise_scales(sigma_noise: object, sigma_w: object, sigma_b: object) -> tuple[float, ...]:
    """Validated (σ_n, σ_w, σ_b): σ_n in [0, :data:`MAX_SIGMA_NOISE`], σ_w, σ_b >= 0."""
    sn = real("sigma_noise", sigma_noise, 0.0, MAX_SIGMA_NOISE)
    return (sn, *weight_scales(sigma_w, sigma_b))


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
    sn, sw, sb = noise_scales(sigma_noise, sigma_w, sigma_b)
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
    sn, sw, sb = noise_scales(sigma_noise, sigma_w, sigma_b)
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
    sw, sb = weight_scales(sigma_w, sigma_b)
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
    sw, sb = weight_scales(sigma_w, sigma_b)
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
    sn, sw, sb = noise_scales(sigma_noise, sigma_w, sigma_b)
    k1, _ = activation_moments(act, sw, sb)
    return np.exp(-0.5 * sn * sn * (d - 1.0) * k1 * ta)
