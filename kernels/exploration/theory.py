r"""Exact quantities of a tabular MDP: visitation, policy values and the optimal policy.

Each is one linear solve (an LU of I − γP_π, or one triangular sweep on acyclic layouts) or a
value iteration, validated and wrapped for the facade :mod:`kernels.exploration`, which
re-exports them [literature: Agarwal, Kakade, Lee, Mahajan, JMLR 22(98) 2021].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels.exploration.driver import check_distribution, check_gamma, check_policy
from kernels.exploration.explorer import greedy_policy, optimal_q, visitation
from kernels.exploration.mdp import TabularMDP
from kernels.exploration.solvers import solve_values_and_visitation

__all__ = ["optimal_policy", "policy_values", "state_visitation"]


def state_visitation(
    mdp: TabularMDP, policy: np.ndarray, nu: np.ndarray, gamma: float
) -> np.ndarray:
    r"""Discounted state visitation of π from the start distribution ν.

    .. math::

        d^{\pi}_{\nu} = (1-\gamma)\,(I-\gamma P_\pi^{\top})^{-1}\nu,\qquad
        P_\pi(s,s') = \sum_a \pi(a|s)\,P(s'|s,a)

    Sums to 1 (absorbing states self-loop). Exact: one LU of I − γP_π, or one triangular sweep
    on acyclic layouts (DeepSea).

    Parameters
    ----------
    mdp : TabularMDP
        S states, A actions.
    policy : ndarray, shape (S, A)
        π(a|s), rows are probability vectors.
    nu : ndarray, shape (S,)
        ν, a probability vector.
    gamma : float in (0, 0.9999]
        Discount γ.

    Returns
    -------
    ndarray, shape (S,)
        d^π_ν.

    Notes
    -----
    [literature: Agarwal, Kakade, Lee, Mahajan, JMLR 22(98) 2021].
    """
    gamma = check_gamma(gamma)
    return visitation(
        mdp, check_policy(mdp, policy), check_distribution("nu", nu, mdp.n_states), gamma
    )


def policy_values(
    mdp: TabularMDP, policy: np.ndarray, gamma: float, R: np.ndarray | None = None
) -> np.ndarray:
    r"""State values of π for the state-action rewards R, by one exact linear solve.

    .. math::

        V^{\pi} = (I-\gamma P_\pi)^{-1} r_\pi,\qquad r_\pi(s) = \sum_a \pi(a|s)\,R(s,a)

    Parameters
    ----------
    mdp : TabularMDP
        S states, A actions.
    policy : ndarray, shape (S, A)
        π(a|s), rows are probability vectors.
    gamma : float in (0, 0.9999]
        Discount γ.
    R : ndarray, shape (S, A), optional
        Rewards (default: the layout's expected rewards ``mdp.dense_R()``).

    Returns
    -------
    ndarray, shape (S,)
        V^π.

    Notes
    -----
    [literature: the Bellman equation of a fixed policy].
    """
    gamma = check_gamma(gamma)
    pi = check_policy(mdp, policy)
    R = mdp.dense_R() if R is None else np.asarray(R, dtype=np.float64)
    S = mdp.n_states
    V, d = np.empty(S), np.empty(S)
    solve_values_and_visitation(
        mdp.nxt,
        mdp.prob,
        pi,
        np.ascontiguousarray(np.sum(pi * R, axis=1)),
        mdp.rho,
        gamma,
        mdp.acyclic,
        mdp.absorbing,
        False,
        np.empty((S, S)),
        np.empty(S, dtype=np.int64),
        V,
        d,
    )
    return V


def optimal_policy(mdp: TabularMDP, gamma: float, R: np.ndarray | None = None) -> dict[str, Any]:
    r"""Q* by value iteration, the greedy π* (ties split uniformly) and its exact values V*.

    .. math::

        Q^*(s,a) = R(s,a) + \gamma\sum_{s'}P(s'|s,a)\max_{a'}Q^*(s',a'),\qquad
        \pi^*(a|s) \propto \mathbb 1\{Q^*(s,a) \ge \max_{a'}Q^*(s,a') - 10^{-12}\}

    Parameters
    ----------
    mdp : TabularMDP
        S states, A actions.
    gamma : float in (0, 0.9999]
        Discount γ.
    R : ndarray, shape (S, A), optional
        Rewards (default: the layout's ``mdp.dense_R()``).

    Returns
    -------
    dict
        ``Q`` (S, A), ``policy`` (S, A), ``V`` (S,) V^{π*} and ``v_rho`` V*(ρ) = ρ·V* (float).

    Notes
    -----
    Value iteration to sup-norm change 1e-10 [literature]; the tie rule [derived] (spec §2).
    """
    gamma = check_gamma(gamma)
    R = mdp.dense_R() if R is None else np.asarray(R, dtype=np.float64)
    Q = optimal_q(mdp, R, gamma)
    pi = greedy_policy(Q)
    V = policy_values(mdp, pi, gamma, R)
    return {"Q": Q, "policy": pi, "V": V, "v_rho": float(mdp.rho @ V)}
