r"""Closed forms of the Swarm escapes tab (spec ``models/swarm.md`` §2, §4.5, §6).

* :func:`barrier_constant`: :math:`s_N` solving :math:`(N-1)e^{s}(s-1)=1`, so that
  :math:`\max_{u>0} g_N(u) = (s_N-1)/\beta` with :math:`g_N(u) = u/(1+(N-1)e^{\beta u})`
  [derived];
* :func:`effective_potential`: :math:`U(y) = m + \kappa g_N(f(y)-m)` seen by one particle when
  the other N−1 sit at the value m [derived];
* :func:`double_well_points`: minima and saddle of the tilted double well along :math:`x_1`;
* :func:`kramers_time`: the Eyring–Kramers mean exit time in 1-D [literature];
* :func:`stability_number`: :math:`h\kappa L(1+(N-1)/e)`, stable below 1 [derived];
* :func:`schedule_curves`: β(t) and σ(t) on a time grid, for plotting.

Pure numpy.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "DoubleWell",
    "barrier_constant",
    "double_well_points",
    "effective_potential",
    "g_n",
    "heuristic_exponent",
    "kramers_time",
    "schedule_curves",
    "stability_number",
]


def barrier_constant(n: int) -> float:
    """:math:`s_N` with :math:`(N-1)e^{s}(s-1) = 1`, :math:`s > 1` (N ≥ 2), by bisection."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"n must be an integer >= 2; got {n!r}")
    lo, hi = 1.0, 2.0  # (N-1) e^2 (2-1) >= e^2 > 1: the root lies in (1, 2]
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if (n - 1) * math.exp(mid) * (mid - 1.0) < 1.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def g_n(u: np.ndarray, n: int, beta: float) -> np.ndarray:
    r""":math:`g_N(u) = u/(1+(N-1)e^{\beta u})`, overflow-safe (→ 0 for large βu)."""
    u = np.asarray(u, dtype=float)
    z = np.clip(beta * u, -700.0, 700.0)
    return u / (1.0 + (n - 1) * np.exp(z))


def effective_potential(
    f_values: np.ndarray, leader_value: float, n: int, beta: float, kappa: float
) -> np.ndarray:
    """U = m + κ g_N(f − m): the landscape one explorer sees (spec §4.5) [derived]."""
    return leader_value + kappa * g_n(np.asarray(f_values) - leader_value, n, beta)


class DoubleWell(NamedTuple):
    """Critical points of :math:`V(x)=(x^2-1)^2/4+ax` (1-D cut of the tilted double well)."""

    deep: float
    shallow: float
    saddle: float
    v_deep: float
    v_shallow: float
    v_saddle: float

    @property
    def barrier_shallow(self) -> float:
        """ΔV from the shallow well over the saddle."""
        return self.v_saddle - self.v_shallow

    @property
    def barrier_deep(self) -> float:
        return self.v_saddle - self.v_deep


def double_well_points(tilt: float) -> DoubleWell:
    """Minima and saddle of :math:`(x^2-1)^2/4 + a x` (|a| < 0.385 for three critical points)."""
    roots = np.sort(np.roots([1.0, 0.0, -1.0, tilt]).real)
    if abs(tilt) >= 2.0 / (3.0 * math.sqrt(3.0)):
        raise ValueError(f"tilt must satisfy |a| < 0.3849 for a double well; got {tilt!r}")

    def v(x: float) -> float:
        return 0.25 * (x * x - 1.0) ** 2 + tilt * x

    left, saddle, right = (float(r) for r in roots)
    deep, shallow = (left, right) if v(left) <= v(right) else (right, left)
    return DoubleWell(deep, shallow, saddle, v(deep), v(shallow), v(saddle))


def kramers_time(barrier: float, curv_min: float, curv_saddle: float, sigma: float) -> float:
    r"""1-D Eyring–Kramers mean exit time of :math:`dX=-V'dt+\sigma dW`:
    :math:`2\pi/\sqrt{V''(x^*)|V''(z)|}\,e^{2\Delta V/\sigma^2}` [literature]."""
    return (
        2.0 * math.pi / math.sqrt(curv_min * abs(curv_saddle)) * math.exp(2.0 * barrier / sigma**2)
    )


def heuristic_exponent(barrier: float, n: int, beta: float, kappa: float, sigma: float) -> float:
    r"""Exponent of the softmin exit time: :math:`2\min(\Delta V,\kappa(s_N-1)/\beta)/\sigma^2`
    when :math:`\Delta V > s_N/\beta`, else :math:`2\Delta V/\sigma^2` [derived heuristic]."""
    s = barrier_constant(n)
    eff = kappa * (s - 1.0) / beta if (beta > 0 and barrier > s / beta) else barrier
    return 2.0 * min(eff, barrier) / sigma**2


def stability_number(dt: float, kappa: float, lipschitz: float, n: int) -> float:
    """:math:`h\\kappa L(1+(N-1)/e)`: the Euler step is stable below 1 (spec §2) [derived]."""
    return dt * kappa * lipschitz * (1.0 + (n - 1) / math.e)


def schedule_curves(
    t: np.ndarray,
    beta_schedule: str,
    beta0: float,
    beta_rate: float,
    beta_max: float,
    sigma_schedule: str,
    sigma0: float,
) -> tuple[np.ndarray, np.ndarray]:
    """β(t) and σ(t) on the grid ``t`` (numpy mirror of the jitted :func:`beta_at`)."""
    t = np.asarray(t, dtype=float)
    if beta_schedule == "constant":
        beta = np.full_like(t, beta0)
    elif beta_schedule == "linear":
        beta = beta0 + beta_rate * t
    elif beta_schedule == "exponential":
        beta = beta0 * np.exp(np.minimum(beta_rate * t, 700.0))
    else:
        beta = beta0 * np.log(math.e + beta_rate * t)
    beta = np.minimum(beta, beta_max)
    if sigma_schedule == "constant":
        sigma = np.full_like(t, sigma0)
    else:
        sigma = sigma0 * np.sqrt(math.log(2.0) / np.log(2.0 + t))
    return beta, sigma
