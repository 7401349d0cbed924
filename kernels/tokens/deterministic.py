r"""Noise-free limits of attention: the equiangular ODE and the exact pair overlap (spec §6.7).

With :math:`\sigma_n = 0` the tokens follow attention alone; N equiangular tokens stay
equiangular and their common overlap solves a scalar ODE (Rigollet arXiv:2512.01868
[literature]); two tokens with :math:`\beta = 0` have a closed form [derived]. These are the
references of the deterministic checks of spec ``models/tokens.md`` §6.7; Agazzi, Bruno, Mosig
García, Saviozzi, Romito, arXiv:2604.26898.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.common.validation import choice, integer, real, real_array
from kernels.tokens.params import ATTN_CODE, ATTN_KINDS
from kernels.tokens.theory import MAX_ABS_ALPHA, MAX_BETA

__all__ = ["equiangular_rate", "equiangular_rho", "pair_rho_beta0", "warmup"]


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


def warmup() -> None:
    """Compile (or load from the numba cache) the RK4 core for every attention kind."""
    for kind in ATTN_KINDS:
        equiangular_rho(np.array([0.1]), n_tokens=3, rho0=0.2, alpha=1.0, beta=1.0, attn_kind=kind)
