r"""Special functions of the token theory: the modified Bessel functions :math:`I_0, I_1`.

Numpy + numba only (no scipy at run time), for the Kuramoto order parameter of spec
``models/tokens.md`` §6.8 (:func:`kernels.tokens.diagnostics.kuramoto_order_parameter`).
Each agrees with ``scipy.special`` to ~1e-14 relative; :func:`bessel_ie` is the jitted scalar
the other jitted code calls.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.common.validation import real_array

__all__ = ["bessel_i0", "bessel_i0e", "bessel_i1", "bessel_i1e", "bessel_ie", "warmup"]


@njit(cache=True, nogil=True)
def bessel_ie(nu: int, x: float) -> float:
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
        v = bessel_ie(nu, x[i])
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


def warmup() -> None:
    """Compile (or load from the numba cache) the Bessel cores, both branches of the series."""
    bessel_i0(np.array([0.5, 30.0]))
    bessel_i1e(np.array([0.5, 30.0]))
