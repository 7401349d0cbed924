r"""Jitted cores of the Swarm escapes tab: softmin weights and one block of steps of any method.

Spec ``models/swarm.md`` §2 (discretization) and §3 (baselines). :func:`run_block` advances one
realization by ``n_steps`` Euler–Maruyama steps of the softmin swarm, independent overdamped
Langevin, consensus-based optimization (CBO) or gbest particle swarm (PSO), reading pre-drawn
normals ``xi`` (n_steps, N, d) (and, for PSO, uniforms ``u`` (n_steps, 2, N, d)). Softmin,
Langevin and CBO read the same ``xi`` in the same layout: common random numbers.

Layout of the parameter arrays (built by :func:`kernels.swarm.params.make_params`):

* ``fpar`` float64: 0 tilt a, 1 step h, 2 β₀, 3 rate r, 4 β_max, 5 σ₀, 6 κ, 7 step_clip
  (0 = off), 8 box lo, 9 box hi, 10 CBO λ, 11 CBO σ_c, 12 PSO w, 13 PSO c₁, 14 PSO c₂,
  15 hit radius (≤ 0: no hitting test);
* ``ipar`` int64: 0 β schedule (0 constant, 1 linear, 2 exponential, 3 logarithmic), 1 σ
  schedule (0 constant, 1 log_cooling), 2 boundary (0 reflect, 1 periodic, 2 none), 3 energy
  form (0 weighted_mean, 1 log_sum_exp), 4 CBO noise (0 isotropic, 1 anisotropic), 5 stop at
  the first hit, or, for CBO, once the swarm has collapsed onto its consensus point (0/1);
* ``state`` float64: 0 time t, 1 best-so-far f;
* ``counters`` int64: 0 f evaluations, 1 ∇f evaluations, 2 clipped particle-steps, 3 step of
  the first hit (−1: none yet), 4 steps done.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.common.normals import FASTMATH_CONTRACT, fast_exp
from kernels.swarm.objectives import values_grads

__all__ = [
    "METHOD_IDS",
    "beta_at",
    "run_block",
    "sigma_at",
    "softmin_stats",
    "warmup",
]

#: method name -> id of :func:`run_block`.
METHOD_IDS = {"softmin": 0, "langevin": 1, "cbo": 2, "pso": 3}
_LOG2 = math.log(2.0)
#: CBO spread (max |x_i - m|) below which a study stops the run as collapsed: drift and noise
#: both scale with the spread, so the swarm can no longer travel more than a few spreads, far
#: below any hit radius (≥ 0.25 here).
COLLAPSED = 1e-6


@njit(cache=True, nogil=True)
def beta_at(kind: int, t: float, beta0: float, rate: float, beta_max: float) -> float:
    """β(t) of spec §2 (constant, linear, exponential, logarithmic), capped at β_max."""
    if kind == 0:
        b = beta0
    elif kind == 1:
        b = beta0 + rate * t
    elif kind == 2:
        b = beta0 * math.exp(min(rate * t, 700.0))
    else:
        b = beta0 * math.log(math.e + rate * t)
    return min(b, beta_max)


@njit(cache=True, nogil=True)
def sigma_at(kind: int, t: float, sigma0: float) -> float:
    """σ(t): constant, or log cooling σ₀√(log 2 / log(2 + t)) (SA law with σ² = 2T)."""
    if kind == 0:
        return sigma0
    return sigma0 * math.sqrt(_LOG2 / math.log(2.0 + t))


@njit(cache=True, nogil=True, fastmath=FASTMATH_CONTRACT, error_model="numpy")
def softmin_stats(
    f: np.ndarray, beta: float, log_sum_exp: bool, w: np.ndarray, c: np.ndarray
) -> float:
    r"""Weights :math:`w_i\propto e^{-\beta(f_i-\min f)}`, coefficients :math:`c_i` and :math:`J`.

    Weighted mean: :math:`J=\sum w_i f_i`, :math:`c_i = w_i(1-\beta(f_i-J))`; log-sum-exp:
    :math:`J = \min f - \beta^{-1}\log\sum e^{-\beta(f_i-\min f)}` (at β = 0, where it is
    :math:`-\infty`, the mean is returned for display) and :math:`c_i = w_i`.
    """
    n = f.shape[0]
    fmin = f[0]
    for i in range(1, n):
        fmin = min(fmin, f[i])
    z = 0.0
    for i in range(n):
        w[i] = fast_exp(-beta * (f[i] - fmin))  # ≤ 0 argument: no overflow
        z += w[i]
    j = 0.0
    for i in range(n):
        w[i] /= z
        j += w[i] * f[i]
    if log_sum_exp:
        for i in range(n):
            c[i] = w[i]
        if beta > 0.0:
            return fmin - math.log(z) / beta
        return j
    for i in range(n):
        c[i] = w[i] * (1.0 - beta * (f[i] - j))
    return j


@njit(cache=True, nogil=True, inline="always")
def _wall(y: float, lo: float, hi: float, kind: int) -> float:
    if kind == 0:  # reflect (clamped if a single step crosses the whole box)
        if y < lo:
            y = 2.0 * lo - y
        if y > hi:
            y = 2.0 * hi - y
        return min(max(y, lo), hi) if y == y else y
    if kind == 1:  # periodic
        return lo + (y - lo) % (hi - lo) if y == y else y
    return y


@njit(cache=True, nogil=True, fastmath=FASTMATH_CONTRACT, error_model="numpy")
def run_block(
    method: int,
    obj: int,
    fpar: np.ndarray,
    ipar: np.ndarray,
    x: np.ndarray,
    v: np.ndarray,
    pbest_x: np.ndarray,
    pbest_f: np.ndarray,
    best_x: np.ndarray,
    state: np.ndarray,
    counters: np.ndarray,
    xi: np.ndarray,
    u: np.ndarray,
    n_steps: int,
    best_hist: np.ndarray,
    frames: np.ndarray,
    stride: int,
    hit_target: np.ndarray,
) -> int:
    """Advance ``x`` (N, d) in place by up to ``n_steps`` steps of ``method``; return steps done.

    ``best_hist[k]`` receives the best-so-far f over the positions before step k of the block.
    When ``stride > 0``, ``frames[s // stride - 1]`` receives x after global step s whenever
    ``stride`` divides s (s counted by ``counters[4]`` from 1). PSO keeps its velocities ``v``
    and personal bests ``pbest_x``, ``pbest_f``; ``best_x`` (d,) is the best point so far.
    With ``ipar[5] == 1`` the block stops right after the first step whose starting positions
    hit the target (a particle within sup-norm ``fpar[15]`` of ``hit_target``).
    """
    n, d = x.shape
    tilt, h = fpar[0], fpar[1]
    beta0, rate, beta_max, sigma0 = fpar[2], fpar[3], fpar[4], fpar[5]
    kappa, clip, lo, hi = fpar[6], fpar[7], fpar[8], fpar[9]
    lam, sig_c, pw, pc1, pc2, radius = fpar[10], fpar[11], fpar[12], fpar[13], fpar[14], fpar[15]
    bkind, skind, wall, lse, aniso, stop = ipar[0], ipar[1], ipar[2], ipar[3], ipar[4], ipar[5]
    f = np.empty(n)
    g = np.empty((n, d))
    w = np.empty(n)
    c = np.empty(n)
    m = np.empty(d)
    sqh = math.sqrt(h)
    want_grad = method <= 1
    for k in range(n_steps):
        t = state[0]
        values_grads(obj, x, tilt, f, g, want_grad)
        counters[0] += n
        if want_grad:
            counters[1] += n
        # best so far and the hitting test, on the positions before this step
        hit = False
        for i in range(n):
            if f[i] < state[1]:
                state[1] = f[i]
                for q in range(d):
                    best_x[q] = x[i, q]
            if radius > 0.0 and not hit:
                inside = True
                for q in range(d):
                    if abs(x[i, q] - hit_target[q]) > radius:
                        inside = False
                        break
                hit = inside
        best_hist[k] = state[1]
        if hit and counters[3] < 0:
            counters[3] = counters[4]
            if stop == 1:
                return k
        beta = beta_at(bkind, t, beta0, rate, beta_max)
        if method == 0 or method == 1:
            sigma = sigma_at(skind, t, sigma0)
            if method == 0:
                softmin_stats(f, beta, lse == 1, w, c)
            for i in range(n):
                scale = -h * kappa * c[i] if method == 0 else -h
                if clip > 0.0:
                    norm = 0.0
                    for q in range(d):
                        norm += (scale * g[i, q]) ** 2
                    norm = math.sqrt(norm)
                    if norm > clip:
                        scale *= clip / norm
                        counters[2] += 1
                for q in range(d):
                    y = x[i, q] + scale * g[i, q] + sigma * sqh * xi[k, i, q]
                    x[i, q] = _wall(y, lo, hi, wall)
        elif method == 2:  # CBO: consensus point m_alpha with alpha = beta(t)
            softmin_stats(f, beta, True, w, c)
            for q in range(d):
                m[q] = 0.0
            for i in range(n):
                for q in range(d):
                    m[q] += w[i] * x[i, q]
            spread = 0.0
            for i in range(n):
                dist = 0.0
                for q in range(d):
                    dist += (x[i, q] - m[q]) ** 2
                spread = max(spread, dist)
            if stop == 1 and spread < COLLAPSED**2:
                # collapsed onto its consensus: drift and noise both scale with |x - m|, so the
                # swarm cannot travel further than ~|x - m| and a hit is no longer possible
                return k
            for i in range(n):
                dist = 0.0
                for q in range(d):
                    dist += (x[i, q] - m[q]) ** 2
                dist = math.sqrt(dist)
                for q in range(d):
                    drift = x[i, q] - m[q]
                    amp = drift if aniso == 1 else dist  # anisotropic: (x - m) ⊙ ξ
                    y = x[i, q] - lam * h * drift + sig_c * sqh * amp * xi[k, i, q]
                    x[i, q] = _wall(y, lo, hi, wall)
        else:  # gbest PSO (one iteration per step; h only sets the time axis)
            for i in range(n):
                if f[i] < pbest_f[i]:
                    pbest_f[i] = f[i]
                    for q in range(d):
                        pbest_x[i, q] = x[i, q]
            for i in range(n):
                for q in range(d):
                    vel = (
                        pw * v[i, q]
                        + pc1 * u[k, 0, i, q] * (pbest_x[i, q] - x[i, q])
                        + pc2 * u[k, 1, i, q] * (best_x[q] - x[i, q])
                    )
                    y = x[i, q] + vel
                    if wall == 0 and (y < lo or y > hi):
                        vel = -vel  # bounce off the wall
                    v[i, q] = vel
                    x[i, q] = _wall(y, lo, hi, wall)
        state[0] = t + h
        counters[4] += 1
        if stride > 0 and counters[4] % stride == 0:
            idx = counters[4] // stride - 1
            if 0 <= idx < frames.shape[0]:
                for i in range(n):
                    for q in range(d):
                        frames[idx, i, q] = x[i, q]
    return n_steps


def warmup() -> None:
    """Compile (or load from the numba cache) the cores on tiny inputs."""
    n, d = 2, 2
    fpar = np.array(
        [0.1, 1e-3, 1.0, 0.1, 10.0, 0.1, 2.0, 0.0, -2.0, 2.0, 1.0, 0.7, 0.9, 0.5, 0.3, 0.1]
    )
    ipar = np.zeros(6, dtype=np.int64)
    for method in range(4):
        x = np.full((n, d), 0.5)
        run_block(
            method,
            0,
            fpar,
            ipar,
            x,
            np.zeros((n, d)),
            x.copy(),
            np.full(n, np.inf),
            np.zeros(d),
            np.array([0.0, np.inf]),
            np.array([0, 0, 0, -1, 0], dtype=np.int64),
            np.zeros((2, n, d)),
            np.full((2, 2, n, d), 0.5),
            2,
            np.empty(2),
            np.empty((1, n, d)),
            1,
            np.zeros(d),
        )
    softmin_stats(np.zeros(2), 1.0, False, np.empty(2), np.empty(2))
    beta_at(0, 0.0, 1.0, 0.1, 10.0)
    sigma_at(1, 0.0, 1.0)
