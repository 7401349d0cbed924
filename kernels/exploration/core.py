r"""Downstream policy gradient of the Exploration maps tab: exact softmax PG and REINFORCE.

Tabular softmax π_θ(a|s) ∝ exp θ_{s,a}, θ_0 = 0, ascent on V^{π_θ}(ν) for a restart ν.

* Exact: ∂V(ν)/∂θ_{s,a} = d^{π_θ}_ν(s) π_θ(a|s) A^{π_θ}(s,a)/(1−γ)
  [literature: Agarwal, Kakade, Lee, Mahajan, JMLR 22(98) 2021].
* REINFORCE: B episodes from s_0 ~ ν truncated at H (or at absorption),
  ĝ = (1/B) Σ_episodes Σ_t γ^t G_t ∇log π(a_t|s_t), ∇_{θ_s} log π(a|s) = e_a − π(·|s): the same
  scale as the exact gradient.

V^{π_t}(ρ) is evaluated exactly every iteration (values[t] after t updates). Uniforms are
pre-drawn from the caller's Generator chunk by chunk, so the numbers do not depend on chunking
or threads. Spec ``models/exploration.md`` §2 [derived].
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.exploration.solvers import solve_values_and_visitation

__all__ = ["exact_pg_chunk", "reinforce_chunk", "softmax_policy", "warmup"]


@njit(cache=True, nogil=True)
def softmax_policy(theta, pi):
    """π(a|s) ∝ exp θ_{s,a} into ``pi`` (max-shifted)."""
    S, A = theta.shape
    for s in range(S):
        top = theta[s, 0]
        for a in range(1, A):
            if theta[s, a] > top:
                top = theta[s, a]
        total = 0.0
        for a in range(A):
            e = np.exp(theta[s, a] - top)
            pi[s, a] = e
            total += e
        for a in range(A):
            pi[s, a] /= total


@njit(cache=True, nogil=True)
def _expected_reward(pi, R, r_pi):
    S, A = pi.shape
    for s in range(S):
        acc = 0.0
        for a in range(A):
            acc += pi[s, a] * R[s, a]
        r_pi[s] = acc


@njit(cache=True, nogil=True)
def exact_pg_chunk(
    nxt, prob, R, nu, rho, gamma, lr, acyclic, absorbing, theta, n_values, n_updates, values
):
    """Record V^{π_θ}(ρ) into ``values[i]`` and, for i < n_updates, take an exact ascent step
    on V(ν); θ is updated in place."""
    S, A, M = nxt.shape
    pi = np.empty((S, A))
    r_pi = np.empty(S)
    V = np.empty(S)
    d = np.empty(S)
    work = np.empty((S, S))
    piv = np.empty(S, dtype=np.int64)
    scale = lr / (1.0 - gamma)
    for i in range(n_values):
        softmax_policy(theta, pi)
        _expected_reward(pi, R, r_pi)
        want_d = i < n_updates
        solve_values_and_visitation(
            nxt, prob, pi, r_pi, nu, gamma, acyclic, absorbing, want_d, work, piv, V, d
        )
        v = 0.0
        for s in range(S):
            v += rho[s] * V[s]
        values[i] = v
        if not want_d:
            continue
        for s in range(S):
            if d[s] == 0.0:
                continue
            for a in range(A):
                q = R[s, a]
                for m in range(M):
                    p = prob[s, a, m]
                    if p != 0.0:
                        q += gamma * p * V[nxt[s, a, m]]
                theta[s, a] += scale * d[s] * pi[s, a] * (q - V[s])


@njit(cache=True, nogil=True)
def _sample(cdf_row_weights, u):
    """Index drawn from non-negative weights (summing to ≈1) with one uniform."""
    acc = 0.0
    n = cdf_row_weights.shape[0]
    for i in range(n):
        acc += cdf_row_weights[i]
        if u < acc:
            return i
    # rounding: fall back to the last entry with positive weight
    for i in range(n - 1, -1, -1):
        if cdf_row_weights[i] > 0.0:
            return i
    return n - 1


@njit(cache=True, nogil=True)
def reinforce_chunk(
    nxt,
    prob,
    rew,
    R,
    nu,
    rho,
    gamma,
    lr,
    acyclic,
    absorbing,
    goal_reward,
    theta,
    uniforms,
    episode_offset,
    values,
    steps,
    first_goal,
):
    """REINFORCE updates, one per row of ``uniforms`` (n, B, 2H+1): column 0 draws s_0,
    then pairs (action, transition). ``values[i]`` is V^{π_θ}(ρ) before update i, ``steps[i]``
    the environment steps it sampled; ``first_goal[0]`` the 1-based index of the first episode
    (counting from ``episode_offset``) with a transition reward ≥ ``goal_reward`` (−1: none)."""
    S, A, _M = nxt.shape
    n, B, W = uniforms.shape
    H = (W - 1) // 2
    pi = np.empty((S, A))
    r_pi = np.empty(S)
    V = np.empty(S)
    d = np.empty(S)
    work = np.empty((S, S))
    piv = np.empty(S, dtype=np.int64)
    grad = np.empty((S, A))
    ss = np.empty(H, dtype=np.int64)
    aa = np.empty(H, dtype=np.int64)
    rr = np.empty(H)
    for i in range(n):
        softmax_policy(theta, pi)
        _expected_reward(pi, R, r_pi)
        solve_values_and_visitation(
            nxt, prob, pi, r_pi, nu, gamma, acyclic, absorbing, False, work, piv, V, d
        )
        v = 0.0
        for s in range(S):
            v += rho[s] * V[s]
        values[i] = v
        grad[:] = 0.0
        n_steps = 0
        for b in range(B):
            s = _sample(nu, uniforms[i, b, 0])
            length = 0
            for t in range(H):
                if absorbing[s]:
                    break
                a = _sample(pi[s], uniforms[i, b, 1 + 2 * t])
                m = _sample(prob[s, a], uniforms[i, b, 2 + 2 * t])
                ss[t] = s
                aa[t] = a
                rr[t] = rew[s, a, m]
                if rr[t] >= goal_reward and first_goal[0] < 0:
                    first_goal[0] = episode_offset + i * B + b + 1
                s = nxt[s, a, m]
                length += 1
            n_steps += length
            G = 0.0
            for t in range(length - 1, -1, -1):
                G = rr[t] + gamma * G
                w = gamma**t * G
                st = ss[t]
                for a in range(A):
                    grad[st, a] -= w * pi[st, a]
                grad[st, aa[t]] += w
        steps[i] = n_steps
        for s in range(S):
            for a in range(A):
                theta[s, a] += lr * grad[s, a] / B


def warmup() -> None:
    """Compile both cores on a two-state chain."""
    nxt = np.array([[[1], [0]], [[1], [1]]], dtype=np.int64)
    prob = np.ones((2, 2, 1))
    rew = np.zeros((2, 2, 1))
    rew[0, 0, 0] = 1.0
    R = rew[:, :, 0].copy()
    nu = np.array([1.0, 0.0])
    absorbing = np.array([False, True])
    for acyclic in (False, True):
        theta = np.zeros((2, 2))
        exact_pg_chunk(nxt, prob, R, nu, nu, 0.9, 1.0, acyclic, absorbing, theta, 2, 1, np.empty(2))
        reinforce_chunk(
            nxt,
            prob,
            rew,
            R,
            nu,
            nu,
            0.9,
            1.0,
            acyclic,
            absorbing,
            0.5,
            np.zeros((2, 2)),
            np.random.default_rng(0).random((2, 2, 5)),
            0,
            np.empty(2),
            np.empty(2, dtype=np.int64),
            np.full(1, -1, dtype=np.int64),
        )
