r"""Exact tabular solves for the Exploration maps tab: visitation, policy values, value iteration.

For a policy π (S, A) on padded sparse transitions ``nxt``/``prob`` (S, A, M):

* visitation :math:`d^\pi_\nu = (1-\gamma)(I-\gamma P_\pi^T)^{-1}\nu`;
* values :math:`V^\pi = (I-\gamma P_\pi)^{-1} r_\pi`, :math:`r_\pi(s)=\sum_a\pi(a|s)R(s,a)`;
* optimal :math:`Q(s,a) = R(s,a) + \gamma\sum_{s'}P(s'|s,a)\max_{a'}Q(s',a')` by Jacobi value
  iteration (Jacobi keeps the symmetric ties of a grid exact up to rounding).

Both linear systems share one LU factorization of :math:`I-\gamma P_\pi` (own partial-pivoting
LU: single-threaded, deterministic, no BLAS oversubscription, spec §8). On acyclic layouts
(DeepSea) the systems are triangular in state order and are solved by one sweep, with the
absorbing self-loops eliminated analytically. Spec ``models/exploration.md`` §2, §8 [derived].
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "policy_matrix",
    "soft_value_iteration",
    "solve_values_and_visitation",
    "value_iteration",
    "warmup",
]


@njit(cache=True, nogil=True)
def policy_matrix(nxt, prob, pi, P_out):
    """Dense P_π(s, s') = Σ_a π(a|s) P(s'|s,a) into ``P_out`` (S, S)."""
    S, A, M = nxt.shape
    P_out[:] = 0.0
    for s in range(S):
        for a in range(A):
            w = pi[s, a]
            if w == 0.0:
                continue
            for m in range(M):
                p = prob[s, a, m]
                if p != 0.0:
                    P_out[s, nxt[s, a, m]] += w * p


@njit(cache=True, nogil=True)
def _lu_factor(Mx, piv):
    """In-place LU with partial pivoting: P·Mx = L·U (unit lower L below the diagonal)."""
    n = Mx.shape[0]
    for k in range(n):
        best = k
        big = abs(Mx[k, k])
        for i in range(k + 1, n):
            v = abs(Mx[i, k])
            if v > big:
                big = v
                best = i
        piv[k] = best
        if best != k:
            for j in range(n):
                tmp = Mx[k, j]
                Mx[k, j] = Mx[best, j]
                Mx[best, j] = tmp
        inv = 1.0 / Mx[k, k]
        for i in range(k + 1, n):
            Mx[i, k] *= inv
        for i in range(k + 1, n):
            f = Mx[i, k]
            if f != 0.0:
                for j in range(k + 1, n):
                    Mx[i, j] -= f * Mx[k, j]


@njit(cache=True, nogil=True)
def _lu_solve(LU, piv, b, x):
    """Solve (P^T L U) x = b given the factorization of :func:`_lu_factor`."""
    n = LU.shape[0]
    x[:] = b
    for k in range(n):
        p = piv[k]
        if p != k:
            tmp = x[k]
            x[k] = x[p]
            x[p] = tmp
    for i in range(n):
        acc = x[i]
        for j in range(i):
            acc -= LU[i, j] * x[j]
        x[i] = acc
    for i in range(n - 1, -1, -1):
        acc = x[i]
        for j in range(i + 1, n):
            acc -= LU[i, j] * x[j]
        x[i] = acc / LU[i, i]


@njit(cache=True, nogil=True)
def _lu_solve_transposed(LU, piv, b, x):
    """Solve M^T x = b for the M factorized by :func:`_lu_factor` (M^T = U^T L^T P)."""
    n = LU.shape[0]
    x[:] = b
    for i in range(n):  # U^T y = b (lower triangular)
        acc = x[i]
        for j in range(i):
            acc -= LU[j, i] * x[j]
        x[i] = acc / LU[i, i]
    for i in range(n - 1, -1, -1):  # L^T z = y (unit upper triangular)
        acc = x[i]
        for j in range(i + 1, n):
            acc -= LU[j, i] * x[j]
        x[i] = acc
    for k in range(n - 1, -1, -1):  # undo the row swaps
        p = piv[k]
        if p != k:
            tmp = x[k]
            x[k] = x[p]
            x[p] = tmp


@njit(cache=True, nogil=True)
def _acyclic_solves(nxt, prob, pi, r_pi, nu, gamma, absorbing, want_d, V, d):
    """Triangular solves when transient transitions go to higher indices or absorbing states."""
    S, A, M = nxt.shape
    for s in range(S):
        if absorbing[s]:
            V[s] = r_pi[s] / (1.0 - gamma)
    for s in range(S - 1, -1, -1):
        if absorbing[s]:
            continue
        acc = r_pi[s]
        for a in range(A):
            w = pi[s, a]
            if w == 0.0:
                continue
            for m in range(M):
                p = prob[s, a, m]
                if p != 0.0:
                    acc += gamma * w * p * V[nxt[s, a, m]]
        V[s] = acc
    if not want_d:
        return
    for s in range(S):
        d[s] = (1.0 - gamma) * nu[s]
    for s in range(S):  # push forward: d[s] is final once all predecessors are done
        if absorbing[s]:
            continue
        for a in range(A):
            w = pi[s, a]
            if w == 0.0:
                continue
            for m in range(M):
                p = prob[s, a, m]
                if p != 0.0:
                    d[nxt[s, a, m]] += gamma * w * p * d[s]
    for s in range(S):
        if absorbing[s]:  # d = (1-γ)ν + γ·inflow + γ d  ⇒  d = [(1-γ)ν + γ·inflow]/(1-γ)
            d[s] = d[s] / (1.0 - gamma)


@njit(cache=True, nogil=True)
def solve_values_and_visitation(
    nxt, prob, pi, r_pi, nu, gamma, acyclic, absorbing, want_d, work, piv, V, d
):
    """V^π into ``V`` and (if ``want_d``) d^π_ν into ``d``; ``work`` (S, S), ``piv`` (S,)."""
    if acyclic:
        _acyclic_solves(nxt, prob, pi, r_pi, nu, gamma, absorbing, want_d, V, d)
        return
    S = nxt.shape[0]
    policy_matrix(nxt, prob, pi, work)
    for i in range(S):
        for j in range(S):
            work[i, j] = -gamma * work[i, j]
        work[i, i] += 1.0
    _lu_factor(work, piv)
    _lu_solve(work, piv, r_pi, V)
    if want_d:
        b = (1.0 - gamma) * nu
        _lu_solve_transposed(work, piv, b, d)


@njit(cache=True, nogil=True)
def value_iteration(nxt, prob, R, gamma, tol, max_iter, Q):
    """Optimal Q of rewards ``R`` (S, A) by Jacobi sweeps until the sup-norm change < ``tol``.

    Returns the number of sweeps. ``Q`` (S, A) is the starting point and the output.
    """
    S, A, M = nxt.shape
    Vmax = np.empty(S)
    for it in range(max_iter):
        for s in range(S):
            best = Q[s, 0]
            for a in range(1, A):
                if Q[s, a] > best:
                    best = Q[s, a]
            Vmax[s] = best
        change = 0.0
        for s in range(S):
            for a in range(A):
                acc = 0.0
                for m in range(M):
                    p = prob[s, a, m]
                    if p != 0.0:
                        acc += p * Vmax[nxt[s, a, m]]
                q = R[s, a] + gamma * acc
                diff = abs(q - Q[s, a])
                if diff > change:
                    change = diff
                Q[s, a] = q
        if change < tol:
            return it + 1
    return max_iter


@njit(cache=True, nogil=True)
def soft_value_iteration(nxt, prob, R, gamma, tau, tol, max_iter, Q):
    """Soft-optimal Q = R + γ P [τ log Σ_a exp(Q/τ)] by Jacobi sweeps until change < ``tol``.

    Returns the number of sweeps; ``Q`` (S, A) is the starting point and the output.
    """
    S, A, M = nxt.shape
    Vsoft = np.empty(S)
    for it in range(max_iter):
        for s in range(S):
            top = Q[s, 0]
            for a in range(1, A):
                if Q[s, a] > top:
                    top = Q[s, a]
            acc = 0.0
            for a in range(A):
                acc += np.exp((Q[s, a] - top) / tau)
            Vsoft[s] = top + tau * np.log(acc)
        change = 0.0
        for s in range(S):
            for a in range(A):
                acc = 0.0
                for m in range(M):
                    p = prob[s, a, m]
                    if p != 0.0:
                        acc += p * Vsoft[nxt[s, a, m]]
                q = R[s, a] + gamma * acc
                diff = abs(q - Q[s, a])
                if diff > change:
                    change = diff
                Q[s, a] = q
        if change < tol:
            return it + 1
    return max_iter


def warmup() -> None:
    """Compile the cores on a two-state chain (both the LU and the acyclic path)."""
    nxt = np.array([[[1], [0]], [[1], [1]]], dtype=np.int64)
    prob = np.ones((2, 2, 1))
    pi = np.full((2, 2), 0.5)
    r = np.array([0.5, 0.0])
    nu = np.array([1.0, 0.0])
    absorbing = np.array([False, True])
    V, d = np.empty(2), np.empty(2)
    for acyclic in (False, True):
        solve_values_and_visitation(
            nxt,
            prob,
            pi,
            r,
            nu,
            0.9,
            acyclic,
            absorbing,
            True,
            np.empty((2, 2)),
            np.empty(2, dtype=np.int64),
            V,
            d,
        )
    value_iteration(nxt, prob, np.ones((2, 2)), 0.9, 1e-10, 1000, np.zeros((2, 2)))
    soft_value_iteration(nxt, prob, np.ones((2, 2)), 0.9, 0.1, 1e-10, 1000, np.zeros((2, 2)))
