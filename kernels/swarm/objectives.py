r"""The landscapes of the Swarm escapes tab (spec ``models/swarm.md`` §2, objectives table).

Every objective is evaluated, value and gradient together, by :func:`values_grads`, which
switches on an integer id (spec §8: one routine, no function objects in the jitted cores):

* ``tilted_double_well``: :math:`(x_1^2-1)^2/4 + \sum_{k\ge2} x_k^2/2 + a x_1` on
  :math:`[-2,2]^d`;
* ``quadratic``: :math:`|x|^2/2` on :math:`[-3,3]^d`;
* ``ackley``: :math:`-20e^{-0.2\sqrt{\mathrm{mean}\,x^2}} - e^{\mathrm{mean}\cos 2\pi x} + 20 + e`
  on :math:`[-5,5]^d` (the cusp term of the gradient is set to 0 at the origin);
* ``rastrigin``: :math:`10d + \sum(x_k^2 - 10\cos 2\pi x_k)` on :math:`[-5.12,5.12]^d`;
* ``styblinski_tang``: :math:`\tfrac12\sum(x_k^4 - 16x_k^2 + 5x_k)` on :math:`[-5,5]^d`;
* ``rosenbrock``: :math:`\sum 100(x_{k+1}-x_k^2)^2 + (1-x_k)^2` on :math:`[-2.048,2.048]^d`.

Pure numpy + numba.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from kernels.common.normals import FASTMATH_CONTRACT, fast_exp, sin_cos_2pi
from kernels.common.validation import real

__all__ = [
    "OBJECTIVES",
    "ObjectiveInfo",
    "check_points",
    "grid_values",
    "objective_grad",
    "objective_id",
    "objective_value",
    "values_grads",
    "warmup",
]


class ObjectiveInfo(NamedTuple):
    """Id used by the jitted cores, default box ``[lo, hi]^d`` and gradient Lipschitz constant
    ``lipschitz`` on the box (None: not globally Lipschitz, the Ackley cusp)."""

    id: int
    lo: float
    hi: float
    lipschitz: float | None


#: name -> ObjectiveInfo (spec §2 objectives table).
OBJECTIVES: dict[str, ObjectiveInfo] = {
    "tilted_double_well": ObjectiveInfo(0, -2.0, 2.0, 11.0),
    "quadratic": ObjectiveInfo(1, -3.0, 3.0, 1.0),
    "ackley": ObjectiveInfo(2, -5.0, 5.0, None),
    "rastrigin": ObjectiveInfo(3, -5.12, 5.12, 396.8),
    "styblinski_tang": ObjectiveInfo(4, -5.0, 5.0, 134.0),
    "rosenbrock": ObjectiveInfo(5, -2.048, 2.048, 5.97e3),
}

_TWO_PI = 2.0 * math.pi


def objective_id(name: str) -> int:
    """The integer id of an objective name (``ValueError`` listing the names otherwise)."""
    if not isinstance(name, str) or name not in OBJECTIVES:
        raise ValueError(
            f"objective must be one of {', '.join(map(repr, OBJECTIVES))}; got {name!r}"
        )
    return OBJECTIVES[name].id


@njit(cache=True, nogil=True, fastmath=FASTMATH_CONTRACT, error_model="numpy")
def values_grads(
    obj: int, x: np.ndarray, tilt: float, f: np.ndarray, g: np.ndarray, want_grad: bool
) -> None:
    """f and (optionally) ∇f of every row of ``x`` (n, d) into ``f`` (n,) and ``g`` (n, d).

    One branch on the objective per call, then a loop over the rows: dispatching per row would
    cost more than the arithmetic of the cheap objectives. sin/cos(2πx) and exp come from the
    branch-free polynomials of :mod:`kernels.common.normals` (a few ulp; several times faster
    than libm calls). Without gradients ``g`` may be a (1, 1) placeholder.
    """
    n, d = x.shape
    if obj == 0:  # tilted double well
        for i in range(n):
            x1 = x[i, 0]
            v = 0.25 * (x1 * x1 - 1.0) ** 2 + tilt * x1
            for k in range(1, d):
                v += 0.5 * x[i, k] * x[i, k]
            f[i] = v
            if want_grad:
                g[i, 0] = (x1 * x1 - 1.0) * x1 + tilt
                for k in range(1, d):
                    g[i, k] = x[i, k]
    elif obj == 1:  # quadratic
        for i in range(n):
            v = 0.0
            for k in range(d):
                v += 0.5 * x[i, k] * x[i, k]
                if want_grad:
                    g[i, k] = x[i, k]
            f[i] = v
    elif obj == 2:  # ackley
        for i in range(n):
            s2 = 0.0
            sc = 0.0
            for k in range(d):
                s2 += x[i, k] * x[i, k]
                sc += sin_cos_2pi(x[i, k])[1]
            r = math.sqrt(s2 / d)
            e1 = fast_exp(-0.2 * r)
            e2 = fast_exp(sc / d)
            f[i] = -20.0 * e1 - e2 + 20.0 + math.e
            if want_grad:
                a = 4.0 * e1 / (d * r) if r > 0.0 else 0.0  # the cusp at 0: that term is 0
                b = _TWO_PI * e2 / d
                for k in range(d):
                    g[i, k] = a * x[i, k] + b * sin_cos_2pi(x[i, k])[0]
    elif obj == 3:  # rastrigin
        for i in range(n):
            v = 10.0 * d
            for k in range(d):
                xk = x[i, k]
                sn, cs = sin_cos_2pi(xk)
                v += xk * xk - 10.0 * cs
                if want_grad:
                    g[i, k] = 2.0 * xk + 10.0 * _TWO_PI * sn
            f[i] = v
    elif obj == 4:  # styblinski-tang
        for i in range(n):
            v = 0.0
            for k in range(d):
                xk = x[i, k]
                v += 0.5 * (xk * xk * xk * xk - 16.0 * xk * xk + 5.0 * xk)
                if want_grad:
                    g[i, k] = 2.0 * xk * xk * xk - 16.0 * xk + 2.5
            f[i] = v
    else:  # rosenbrock
        for i in range(n):
            v = 0.0
            if want_grad:
                for k in range(d):
                    g[i, k] = 0.0
            for k in range(d - 1):
                u = x[i, k + 1] - x[i, k] * x[i, k]
                w = 1.0 - x[i, k]
                v += 100.0 * u * u + w * w
                if want_grad:
                    g[i, k] += -400.0 * x[i, k] * u - 2.0 * w
                    g[i, k + 1] += 200.0 * u
            f[i] = v


def check_points(x: object, dim_max: int = 10_000) -> np.ndarray:
    """``x`` as a C-contiguous float64 array of shape (n, d), n ≥ 1, 1 ≤ d ≤ ``dim_max``, all
    finite (``ValueError`` otherwise)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1 or not 1 <= arr.shape[1] <= dim_max:
        raise ValueError(f"x must have shape (n, d) with n >= 1, d >= 1; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("x must be finite")
    return np.ascontiguousarray(arr)


def objective_value(name: str, x: np.ndarray, tilt: float = 0.1) -> np.ndarray:
    r"""The landscape f at each row of ``x``.

    The objectives of the module docstring, e.g. the tilted double well

    .. math::

        f(x) = \tfrac14(x_1^2-1)^2 + \tfrac12\sum_{k\ge2}x_k^2 + a x_1 .

    Provenance: [paper] (the double-well and Ackley experiments); the other benchmark
    functions and the exact double well are [literature] / [derived] (spec §2 table).

    Parameters
    ----------
    name : str
        One of :data:`OBJECTIVES`.
    x : ndarray, shape (n, d)
        Points (finite).
    tilt : float
        The tilt a of the tilted double well, in [-10, 10] (ignored by the others).

    Returns
    -------
    ndarray, shape (n,)
        f(x_i).
    """
    obj = objective_id(name)
    pts = check_points(x)
    f = np.empty(len(pts))
    values_grads(obj, pts, real("tilt", tilt, -10.0, 10.0), f, np.empty((1, 1)), False)
    return f


def objective_grad(name: str, x: np.ndarray, tilt: float = 0.1) -> np.ndarray:
    r"""The gradient ∇f at each row of ``x``; Ackley's cusp term is set to 0 at the origin.

    E.g. for the tilted double well

    .. math::

        \partial_1 f = x_1(x_1^2-1) + a,\qquad \partial_k f = x_k\ (k\ge 2).

    Provenance: [derived] (closed-form gradients of the spec §2 objectives).

    Parameters
    ----------
    name : str
        One of :data:`OBJECTIVES`.
    x : ndarray, shape (n, d)
        Points (finite).
    tilt : float
        The tilt a of the tilted double well, in [-10, 10].

    Returns
    -------
    ndarray, shape (n, d)
        ∇f(x_i).
    """
    obj = objective_id(name)
    pts = check_points(x)
    f = np.empty(len(pts))
    g = np.empty_like(pts)
    values_grads(obj, pts, real("tilt", tilt, -10.0, 10.0), f, g, True)
    return g


def grid_values(name: str, lo: float, hi: float, tilt: float, n: int = 200) -> np.ndarray:
    """f on an n×n grid of [lo, hi]² (2-D cut, rows = x₂, columns = x₁), for contour plots."""
    axis = np.linspace(lo, hi, n)
    xx, yy = np.meshgrid(axis, axis)
    pts = np.ascontiguousarray(np.column_stack([xx.ravel(), yy.ravel()]))
    f = np.empty(len(pts))
    values_grads(objective_id(name), pts, float(tilt), f, np.empty((1, 1)), False)
    return f.reshape(n, n)


def warmup() -> None:
    """Compile (or load from the numba cache) the objective routines."""
    x = np.zeros((2, 2))
    f = np.empty(2)
    g = np.empty((2, 2))
    for info in OBJECTIVES.values():
        values_grads(info.id, x, 0.1, f, g, True)
    values_grads(0, x, 0.1, f, np.empty((1, 1)), False)
