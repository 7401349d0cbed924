r"""Pointwise activations s(x) and their derivatives, shared by every kernel.

Inside numba an activation is an integer id (see :data:`ACTIVATIONS`); ``activate(aid, x)`` and
``activate_prime(aid, x)`` are scalar ``@njit`` functions that other jitted cores inline.
Array wrappers (:func:`apply_activation`, :func:`apply_activation_prime`) serve numpy code
(Gauss–Hermite moments, oracles).

Definitions (GELU is the exact :math:`x\Phi(x)`, leaky ReLU has slope :data:`LEAKY_SLOPE`):
linear :math:`x`, relu :math:`\max(x,0)`, tanh, erf, gelu :math:`x\Phi(x)`,
silu :math:`x/(1+e^{-x})`, sigmoid :math:`1/(1+e^{-x})`, softplus :math:`\log(1+e^x)`, sin.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.common.validation import choice

#: Activation names in id order; the id is the index in this tuple.
ACTIVATIONS: tuple[str, ...] = (
    "linear",
    "relu",
    "leaky_relu",
    "tanh",
    "erf",
    "gelu",
    "silu",
    "sigmoid",
    "softplus",
    "sin",
)
#: Activations with s(-x) = -s(x): antipodal pairs stay antipodal under common noise (σ_b = 0).
ODD_ACTIVATIONS: frozenset[str] = frozenset({"linear", "tanh", "erf", "sin"})
#: Negative-side slope of leaky ReLU (the PyTorch default).
LEAKY_SLOPE = 0.01

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRTPI = 2.0 / math.sqrt(math.pi)


def check_activation(name: object) -> str:
    """``name`` if it is an activation name; ``ValueError`` listing the allowed names otherwise."""
    return choice("activation", name, ACTIVATIONS)


def activation_id(name: str) -> int:
    """Integer id of an activation name; ``ValueError`` listing the allowed names otherwise."""
    return ACTIVATIONS.index(check_activation(name))


@njit(cache=True, nogil=True, inline="always")
def _sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True, nogil=True)
def activate(aid: int, x: float) -> float:
    """s(x) for activation id ``aid``."""
    if aid == 0:
        return x
    if aid == 1:
        return x if x > 0.0 else 0.0
    if aid == 2:
        return x if x > 0.0 else LEAKY_SLOPE * x
    if aid == 3:
        return math.tanh(x)
    if aid == 4:
        return math.erf(x)
    if aid == 5:
        return 0.5 * x * (1.0 + math.erf(x * _INV_SQRT2))
    if aid == 6:
        return x * _sigmoid(x)
    if aid == 7:
        return _sigmoid(x)
    if aid == 8:
        # log(1 + e^x) without overflow
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))
    return math.sin(x)


@njit(cache=True, nogil=True)
def activate_prime(aid: int, x: float) -> float:
    """s'(x) for activation id ``aid`` (ReLU-type kinks take the right derivative at 0)."""
    if aid == 0:
        return 1.0
    if aid == 1:
        return 1.0 if x > 0.0 else 0.0
    if aid == 2:
        return 1.0 if x > 0.0 else LEAKY_SLOPE
    if aid == 3:
        t = math.tanh(x)
        return 1.0 - t * t
    if aid == 4:
        return _TWO_OVER_SQRTPI * math.exp(-x * x)
    if aid == 5:
        return 0.5 * (1.0 + math.erf(x * _INV_SQRT2)) + x * _INV_SQRT2PI * math.exp(-0.5 * x * x)
    if aid == 6:
        sg = _sigmoid(x)
        return sg * (1.0 + x * (1.0 - sg))
    if aid == 7:
        sg = _sigmoid(x)
        return sg * (1.0 - sg)
    if aid == 8:
        return _sigmoid(x)
    return math.cos(x)


@njit(cache=True, nogil=True)
def _apply(aid: int, x: np.ndarray, derivative: bool) -> np.ndarray:
    flat = x.ravel()
    out = np.empty(flat.size)
    for i in range(flat.size):
        out[i] = activate_prime(aid, flat[i]) if derivative else activate(aid, flat[i])
    return out.reshape(x.shape)


def apply_activation(name: str, x: np.ndarray) -> np.ndarray:
    """s(x) elementwise for a float array of any shape."""
    return _apply(activation_id(name), np.ascontiguousarray(x, dtype=np.float64), False)


def apply_activation_prime(name: str, x: np.ndarray) -> np.ndarray:
    """s'(x) elementwise for a float array of any shape."""
    return _apply(activation_id(name), np.ascontiguousarray(x, dtype=np.float64), True)


def warmup() -> None:
    """Compile the activation cores for every id."""
    probe = np.linspace(-2.0, 2.0, 5)
    for name in ACTIVATIONS:
        apply_activation(name, probe)
        apply_activation_prime(name, probe)
