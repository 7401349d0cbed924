r"""The Curious Explorer loop (spec ``models/exploration.md`` §2, reconstruction [derived]).

π_0 is uniform and D_0 = d^{π_0}_ρ. For k = 1..K: D̄_{k−1} is D_{k−1} restricted to the valid set
and renormalised; the poorly visited set is U_k = {s : D̄_{k−1}(s) < δ}, δ = c/|S_v| (stop when
it is empty); the curious policy π_k is ε-greedy on the optimal Q of the intrinsic reward 1_U
(value iteration, ties split uniformly); D_k = (1/(k+1)) Σ_{j≤k} d^{π_j}_ρ. The output restart
distribution is μ = D_K restricted to the valid set and renormalised. Curiosity identity:
V^π_{1_U}(ρ) = d^π_ρ(U)/(1−γ), so the curious policy maximises the discounted mass on U.

Miani, Parton, Romito, *Curious Explorer: a provable exploration strategy in Policy Learning*,
arXiv:2106.15503 [paper: the idea; the exact loop is this app's reconstruction].
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kernels.exploration.core import exact_pg_chunk
from kernels.exploration.mdp import TabularMDP
from kernels.exploration.solvers import (
    soft_value_iteration,
    solve_values_and_visitation,
    value_iteration,
)

__all__ = [
    "INNER_SOLVERS",
    "INTRINSIC_REWARDS",
    "POORLY_SETS",
    "THRESHOLD_RULES",
    "TIE_TOL",
    "VI_TOL",
    "ExplorerParams",
    "greedy_policy",
    "run_explorer",
    "visitation",
]

THRESHOLD_RULES = ("renormalised", "raw")
INTRINSIC_REWARDS = ("indicator", "bonus", "maxent")
POORLY_SETS = ("states", "state_actions")
INNER_SOLVERS = ("vi", "soft_vi", "pg")
#: Value-iteration stopping rule (sup-norm change) and greedy tie tolerance (spec §2).
VI_TOL = 1e-10
TIE_TOL = 1e-12
VI_MAX_SWEEPS = 200_000


class ExplorerParams(NamedTuple):
    """Validated settings of one explorer run (the keywords of ``exploration.curious_explorer``).

    ``gamma`` γ; ``coverage_c`` c of δ = c/|S_v|; ``n_explore`` K; ``explore_eps`` ε-mixing;
    ``exclude_terminal``, ``threshold_rule``, ``intrinsic_reward``, ``include_pi0``,
    ``poorly_set``: the explorer variant; ``inner_solver``, ``temperature`` τ, ``inner_steps``
    and ``inner_lr``: how each curious policy is computed.
    """

    gamma: float
    coverage_c: float
    n_explore: int
    explore_eps: float
    exclude_terminal: bool = True
    threshold_rule: str = "renormalised"
    intrinsic_reward: str = "indicator"
    include_pi0: bool = True
    poorly_set: str = "states"
    inner_solver: str = "vi"
    temperature: float = 0.05
    inner_steps: int = 50
    inner_lr: float = 5.0


def visitation(mdp: TabularMDP, pi: np.ndarray, nu: np.ndarray, gamma: float) -> np.ndarray:
    """d^π_ν (S,) by an exact solve (one LU, or one sweep on acyclic layouts).

    d^π_ν ≥ 0 exactly; the LU solve leaves rounding residues of either sign (|d| ≲ 1e-17,
    measured on FrozenLake and the rooms with ε = 0) where π never goes. They are set to 0: a
    negative share would make the smooth bonus √(δ/D̄) NaN, and the NaN reward an all-NaN Q
    whose greedy policy divides 0 by 0 (found by tests/app/test_exploration_hostile.py).
    """
    S = mdp.n_states
    V, d = np.empty(S), np.empty(S)
    solve_values_and_visitation(
        mdp.nxt,
        mdp.prob,
        pi,
        np.zeros(S),
        nu,
        gamma,
        mdp.acyclic,
        mdp.absorbing,
        True,
        np.empty((S, S)),
        np.empty(S, dtype=np.int64),
        V,
        d,
    )
    return np.maximum(d, 0.0, out=d)


def greedy_policy(Q: np.ndarray, eps: float = 0.0, tie_tol: float = TIE_TOL) -> np.ndarray:
    """(1−ε)·greedy(Q) + ε·uniform, greedy ties (|Q − max| ≤ tie_tol) split uniformly."""
    top = Q >= Q.max(axis=1, keepdims=True) - tie_tol
    greedy = top / top.sum(axis=1, keepdims=True)
    return (1.0 - eps) * greedy + eps / Q.shape[1]


def optimal_q(mdp: TabularMDP, R: np.ndarray, gamma: float) -> np.ndarray:
    """Optimal Q (S, A) of the state-action reward R by Jacobi value iteration (tol 1e-10)."""
    Q = np.zeros((mdp.n_states, mdp.n_actions))
    R = np.ascontiguousarray(R, dtype=np.float64)
    value_iteration(mdp.nxt, mdp.prob, R, gamma, VI_TOL, VI_MAX_SWEEPS, Q)
    return Q


def _intrinsic(kind: str, U: np.ndarray, Dbar: np.ndarray, delta: float, cand: np.ndarray):
    """Intrinsic reward of the curious step, same shape as ``U`` (0 outside ``cand``)."""
    r = np.zeros(U.shape)
    if kind == "indicator":
        r[U] = 1.0
    elif kind == "bonus":
        with np.errstate(divide="ignore"):
            r[cand] = np.minimum(1.0, np.sqrt(delta / Dbar[cand]))
    else:  # maxent: −log(D̄ + 1e-4), shifted to be ≥ 0 on the candidates [Hazan et al. 2019]
        raw = -np.log(Dbar[cand] + 1e-4)
        r[cand] = raw - raw.min()
    return r


def _curious_policy(mdp: TabularMDP, R: np.ndarray, p: ExplorerParams) -> np.ndarray:
    """π_k from the intrinsic reward R (S, A): ε-mixed VI-greedy, soft-VI or PG policy."""
    gamma, eps, solver, tau = p.gamma, p.explore_eps, p.inner_solver, p.temperature
    inner_steps, inner_lr = p.inner_steps, p.inner_lr
    A = mdp.n_actions
    R = np.ascontiguousarray(R, dtype=np.float64)
    if solver == "vi":
        return greedy_policy(optimal_q(mdp, R, gamma), eps)
    if solver == "soft_vi":
        Q = np.zeros((mdp.n_states, A))
        soft_value_iteration(mdp.nxt, mdp.prob, R, gamma, tau, VI_TOL, VI_MAX_SWEEPS, Q)
        z = np.exp((Q - Q.max(axis=1, keepdims=True)) / tau)
        return (1.0 - eps) * z / z.sum(axis=1, keepdims=True) + eps / A
    theta = np.zeros((mdp.n_states, A))  # "pg": inner_steps of exact softmax PG from ρ
    exact_pg_chunk(
        mdp.nxt,
        mdp.prob,
        R,
        mdp.rho,
        mdp.rho,
        gamma,
        inner_lr,
        mdp.acyclic,
        mdp.absorbing,
        theta,
        inner_steps,
        inner_steps,
        np.empty(inner_steps),
    )
    z = np.exp(theta - theta.max(axis=1, keepdims=True))
    return (1.0 - eps) * z / z.sum(axis=1, keepdims=True) + eps / A


def run_explorer(mdp: TabularMDP, p: ExplorerParams) -> dict[str, np.ndarray | int | float]:
    """The explorer loop on validated settings ``p`` (see ``exploration.curious_explorer``).

    With ``poorly_set="state_actions"`` the mixture, the threshold δ = c/(|S_v||A|) and the
    reward live on pairs, D(s, a) = (1/(k+1)) Σ_j d^{π_j}_ρ(s) π_j(a|s) (PC-PG-like);
    ``poorly_visited`` then marks the states with at least one poorly visited action.
    """
    gamma, threshold_rule, include_pi0 = p.gamma, p.threshold_rule, p.include_pi0
    S, A = mdp.n_states, mdp.n_actions
    reach = mdp.reachable()
    cand = reach & ~mdp.absorbing if p.exclude_terminal else reach.copy()
    n_cand = int(cand.sum())
    pairs = p.poorly_set == "state_actions"
    delta = p.coverage_c / (
        (n_cand if threshold_rule == "renormalised" else S) * (A if pairs else 1)
    )
    K = p.n_explore
    policies = np.empty((K + 1, S, A))
    visits = np.empty((K + 1, S))
    mixtures = np.empty((K + 1, S))
    poorly = np.zeros((K + 1, S), dtype=bool)
    poorly_pairs = np.zeros((K + 1, S, A), dtype=bool)
    rewards = np.zeros((K + 1, S, A))
    policies[0] = 1.0 / A
    visits[0] = visitation(mdp, policies[0], mdp.rho, gamma)
    running = visits[0].copy()
    first_pairs = visits[0][:, None] * policies[0]
    running_pairs = first_pairs.copy()
    mixtures[0] = running
    mix_pairs = running_pairs.copy()
    cand_pairs = np.repeat(cand[:, None], A, axis=1)
    n_done, k_stop = 0, 0
    for k in range(1, K + 2):
        D = mix_pairs if pairs else mixtures[k - 1]
        mask = cand_pairs if pairs else cand
        Dbar = _restrict(D, mask) if threshold_rule == "renormalised" else D
        U = mask & (Dbar < delta)
        poorly[k - 1] = U.any(axis=1) if pairs else U
        poorly_pairs[k - 1] = U if pairs else U[:, None]
        if not U.any():
            k_stop = k
            break
        if k == K + 1:
            break  # U_{K+1} is recorded for display; no further policy
        r = _intrinsic(p.intrinsic_reward, U, Dbar, delta, mask)
        R = r if pairs else np.repeat(r[:, None], A, axis=1)
        rewards[k] = R
        policies[k] = _curious_policy(mdp, R, p)
        visits[k] = visitation(mdp, policies[k], mdp.rho, gamma)
        running += visits[k]
        running_pairs += visits[k][:, None] * policies[k]
        n_mix = k + 1 if include_pi0 else k
        mixtures[k] = (running if include_pi0 else running - visits[0]) / n_mix
        mix_pairs = (running_pairs if include_pi0 else running_pairs - first_pairs) / n_mix
        n_done = k
    n = n_done + 1
    mu = _restrict(mixtures[n_done], cand)
    return {
        "mu": mu,
        "mixtures": mixtures[:n].copy(),
        "visitations": visits[:n].copy(),
        "policies": policies[:n].copy(),
        "poorly_visited": poorly[:n].copy(),
        "poorly_visited_pairs": poorly_pairs[:n].copy(),
        "intrinsic_rewards": rewards[:n].copy(),
        "n_iters": n_done,
        "k_stop": k_stop,
        "delta": delta,
        "candidates": cand,
        "reachable": reach,
    }


def _restrict(D: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """D restricted to ``mask`` and renormalised (zeros elsewhere)."""
    out = np.where(mask, D, 0.0)
    total = out.sum()
    return out / total if total > 0 else out
