r"""Public API of the Exploration maps tab: MDP layouts, exact visitation, Curious Explorer, PG.

After Miani, Parton, Romito, *Curious Explorer: a provable exploration strategy in Policy
Learning*, arXiv:2106.15503 (IEEE TPAMI 46(12), 2024), illustrative re-implementation: the
paper's abstract gives the idea (intrinsic rewards on poorly visited states, a sequence of
increasingly exploratory policies, a restart distribution μ from their visitations); the loop,
threshold and layouts here are this app's reconstruction [derived] (spec
``models/exploration.md`` §2).

* :func:`make_mdp` builds a layout (:class:`~kernels.exploration.mdp.TabularMDP`).
* :func:`state_visitation` is d^π_ν = (1−γ)(I − γP_π^T)^{-1} ν.
* :func:`curious_explorer` runs the explorer loop and returns μ and the mixtures D_k.
* :func:`policy_gradient` runs exact softmax PG or sampled REINFORCE from a restart ν and
  records V^{π_t}(ρ).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels.common.progress import ProgressFn, throttled_progress
from kernels.common.validation import choice, integer, real, resolve_rng
from kernels.exploration.diagnostics import coverage_curves, explorer_metrics
from kernels.exploration.driver import run_policy_gradient
from kernels.exploration.explorer import (
    INNER_SOLVERS,
    INTRINSIC_REWARDS,
    POORLY_SETS,
    THRESHOLD_RULES,
    greedy_policy,
    optimal_q,
    run_explorer,
    visitation,
)
from kernels.exploration.mdp import LAYOUTS, SIZE_LIMITS, TabularMDP, build_layout
from kernels.exploration.solvers import solve_values_and_visitation

__all__ = [
    "INNER_SOLVERS",
    "INTRINSIC_REWARDS",
    "LAYOUTS",
    "POORLY_SETS",
    "SIZE_LIMITS",
    "THRESHOLD_RULES",
    "TabularMDP",
    "blend_restart",
    "coverage_curves",
    "curious_explorer",
    "explorer_metrics",
    "make_mdp",
    "optimal_policy",
    "policy_gradient",
    "policy_values",
    "state_visitation",
    "uniform_restart",
    "warmup",
]


def make_mdp(layout: str, **params: Any) -> TabularMDP:
    """Build an MDP layout (spec §2).

    Parameters
    ----------
    layout : str
        One of ``four_rooms``, ``distractor_rooms``, ``corridor``, ``lock``, ``deep_sea``,
        ``frozen_lake_8x8``.
    **params
        ``slip`` in [0, 0.5] (grids, corridor, lock: probability that the move or action is
        replaced by a uniformly random other one), ``size`` (lock N in [4, 30], DeepSea N in
        [3, 30], corridor L in [5, 60]), ``n_actions`` (lock, 2–4), ``distractor_reward``
        (distractor rooms, [0, 1]), ``mapping_seed`` and ``deterministic`` (DeepSea),
        ``success_rate`` (FrozenLake, default 1/3).

    Returns
    -------
    TabularMDP
        With ``n_states``, ``n_actions``, ``rho`` and ``dense_P()`` (S, A, S).
    """
    unknown = set(params) - {
        "slip",
        "size",
        "n_actions",
        "distractor_reward",
        "mapping_seed",
        "deterministic",
        "success_rate",
    }
    if unknown:
        raise ValueError(f"make_mdp got unknown parameters {sorted(unknown)}")
    return build_layout(layout, **params)


def _gamma(gamma: object) -> float:
    return real("gamma", gamma, 0.0, 0.9999, lo_open=True)


def _distribution(name: str, nu: object, n_states: int) -> np.ndarray:
    arr = np.asarray(nu, dtype=np.float64)
    if arr.shape != (n_states,):
        raise ValueError(f"{name} must have shape ({n_states},); got {arr.shape}")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or abs(arr.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name} must be a probability vector (non-negative, summing to 1)")
    return np.ascontiguousarray(arr)


def _policy(mdp: TabularMDP, policy: object) -> np.ndarray:
    pi = np.asarray(policy, dtype=np.float64)
    if pi.shape != (mdp.n_states, mdp.n_actions):
        raise ValueError(
            f"policy must have shape ({mdp.n_states}, {mdp.n_actions}); got {pi.shape}"
        )
    if not np.all(np.isfinite(pi)) or pi.min() < 0 or np.max(np.abs(pi.sum(1) - 1)) > 1e-9:
        raise ValueError("policy rows must be probability vectors")
    return np.ascontiguousarray(pi)


def state_visitation(
    mdp: TabularMDP, policy: np.ndarray, nu: np.ndarray, gamma: float
) -> np.ndarray:
    r"""Discounted state visitation d^π_ν = (1−γ)(I − γP_π^T)^{-1} ν, shape (S,).

    Sums to 1 (absorbing states self-loop). Exact: one LU of I − γP_π, or one triangular sweep
    on acyclic layouts (DeepSea).
    """
    gamma = _gamma(gamma)
    return visitation(mdp, _policy(mdp, policy), _distribution("nu", nu, mdp.n_states), gamma)


def policy_values(
    mdp: TabularMDP, policy: np.ndarray, gamma: float, R: np.ndarray | None = None
) -> np.ndarray:
    r"""V^π = (I − γP_π)^{-1} r_π (S,) for state-action rewards R (default: the layout's)."""
    gamma = _gamma(gamma)
    pi = _policy(mdp, policy)
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
    """Q* by value iteration, the greedy π* (ties split) and its exact values V* (S,)."""
    gamma = _gamma(gamma)
    R = mdp.dense_R() if R is None else np.asarray(R, dtype=np.float64)
    Q = optimal_q(mdp, R, gamma)
    pi = greedy_policy(Q)
    V = policy_values(mdp, pi, gamma, R)
    return {"Q": Q, "policy": pi, "V": V, "v_rho": float(mdp.rho @ V)}


def curious_explorer(
    mdp: TabularMDP,
    *,
    gamma: float,
    coverage_c: float,
    n_explore: int,
    explore_eps: float,
    exclude_terminal: bool = True,
    threshold_rule: str = "renormalised",
    intrinsic_reward: str = "indicator",
    include_pi0: bool = True,
    poorly_set: str = "states",
    inner_solver: str = "vi",
    temperature: float = 0.05,
    inner_steps: int = 50,
    inner_lr: float = 5.0,
    rng: object = None,
) -> dict[str, Any]:
    r"""Run the Curious Explorer (spec §2) and return the restart distribution μ.

    Parameters
    ----------
    gamma : float in (0, 0.9999]
    coverage_c : float in (0, 100]
        c of the threshold δ = c/|S_v|.
    n_explore : int in [0, 100]
        K, the maximum number of curious policies.
    explore_eps : float in [0, 1]
        ε-mixing of each curious policy with the uniform policy.
    exclude_terminal : bool
        Drop absorbing states from U and μ (default).
    threshold_rule : ``"renormalised"`` (D over S_v, δ = c/|S_v|) or ``"raw"`` (D over all
        states, δ = c/|S|).
    intrinsic_reward : ``"indicator"`` 1_U, ``"bonus"`` min(1, √(δ/D̄)) or ``"maxent"``
        −log(D̄ + 10⁻⁴) shifted to ≥ 0.
    include_pi0 : bool
        Keep the uniform π_0 in the mixture.
    poorly_set : ``"states"`` (default) or ``"state_actions"`` (U over pairs (s, a), δ =
        c/(|S_v||A|), PC-PG-like [literature: Agarwal, Henaff, Kakade, Sun 2020]).
    inner_solver : ``"vi"`` (value iteration, ε-greedy; default), ``"soft_vi"`` (softmax of the
        soft-optimal Q at ``temperature`` τ in (0, 10]) or ``"pg"`` (``inner_steps`` of exact
        softmax PG from ρ with step ``inner_lr``); each then ε-mixed.
    rng : ignored
        The exact explorer draws nothing; accepted for a uniform signature.

    Returns
    -------
    dict
        ``mu`` (S,), ``mixtures`` (n+1, S) D_0..D_n, ``visitations`` (n+1, S) d^{π_k}_ρ,
        ``policies`` (n+1, S, A), ``poorly_visited`` (n+1, S) (row k: U_{k+1}, computed from
        D_k), ``n_iters`` n, ``k_stop`` (the k with U_k = ∅, 0 if U never emptied), ``delta``,
        ``candidates`` (the valid set S_v, bool).
    """
    gamma = _gamma(gamma)
    c = real("coverage_c", coverage_c, 0.0, 100.0, lo_open=True)
    K = integer("n_explore", n_explore, 0, 100)
    eps = real("explore_eps", explore_eps, 0.0, 1.0)
    rule = choice("threshold_rule", threshold_rule, THRESHOLD_RULES)
    kind = choice("intrinsic_reward", intrinsic_reward, INTRINSIC_REWARDS)
    if rng is not None:
        resolve_rng(rng)
    pset = choice("poorly_set", poorly_set, POORLY_SETS)
    solver = choice("inner_solver", inner_solver, INNER_SOLVERS)
    tau = real("temperature", temperature, 0.0, 10.0, lo_open=True)
    steps = integer("inner_steps", inner_steps, 1, 100_000)
    inner_lr = real("inner_lr", inner_lr, 0.0, 1000.0, lo_open=True)
    result = run_explorer(
        mdp,
        gamma=gamma,
        coverage_c=c,
        n_explore=K,
        explore_eps=eps,
        exclude_terminal=bool(exclude_terminal),
        threshold_rule=rule,
        intrinsic_reward=kind,
        include_pi0=bool(include_pi0),
        poorly_set=pset,
        inner_solver=solver,
        temperature=tau,
        inner_steps=steps,
        inner_lr=inner_lr,
    )
    if not result["candidates"].any():
        raise ValueError("the layout has no valid (reachable, non-absorbing) state")
    return result


def blend_restart(rho: np.ndarray, mu: np.ndarray, beta: float) -> np.ndarray:
    """ν_β = βρ + (1−β)μ."""
    beta = real("restart_beta", beta, 0.0, 1.0)
    return beta * np.asarray(rho, dtype=float) + (1.0 - beta) * np.asarray(mu, dtype=float)


def uniform_restart(mdp: TabularMDP) -> np.ndarray:
    """Uniform over the valid set S_v (the "oracle wide coverage" reference)."""
    valid = mdp.valid_states()
    return valid / valid.sum()


def policy_gradient(
    mdp: TabularMDP,
    *,
    restart: np.ndarray,
    gamma: float,
    lr: float,
    n_iters: int,
    target_frac: float,
    method: str = "exact",
    rng: object = None,
    batch: int = 8,
    horizon: int = 100,
    stop_at_target: bool = False,
    v_star: float | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    r"""Softmax policy gradient from θ_0 = 0 ascending V(ν) for the restart ν (spec §2).

    Parameters
    ----------
    restart : ndarray (S,)
        ν, a probability vector (ρ, μ, ν_β or uniform).
    lr : float in (0, 1000]
        η.
    n_iters : int in [1, 10⁶]
        T, the update cap.
    target_frac : float in (0, 1]
        x; success is V^{π_t}(ρ) ≥ x·V*(ρ).
    method : ``"exact"`` or ``"sampled"`` (REINFORCE, ``batch`` episodes truncated at
        ``horizon``; needs ``rng``).
    stop_at_target : bool
        Stop at the first t reaching the target.
    v_star : float, optional
        V*(ρ) if already known (saves a value iteration).
    progress : callable, optional
        ``progress(fraction) -> bool``; False cancels (raises :class:`Cancelled`, ``partial``
        holds the values so far).

    Returns
    -------
    dict
        ``values`` (t+1,) V^{π_t}(ρ) for t = 0..T (updates applied), ``iters_to_target`` (first
        t with values[t] ≥ x·V*(ρ), None if never), ``v_star``, ``theta`` (S, A), ``policy``;
        sampled also ``env_steps`` (T,) steps sampled per update and ``first_goal_episode``
        (1-based, None if no episode reached the goal).
    """
    gamma = _gamma(gamma)
    nu = _distribution("restart", restart, mdp.n_states)
    lr = real("lr", lr, 0.0, 1000.0, lo_open=True)
    T = integer("n_iters", n_iters, 1, 1_000_000)
    x = real("target_frac", target_frac, 0.0, 1.0, lo_open=True)
    method = choice("method", method, ("exact", "sampled"))
    B = integer("batch", batch, 1, 1024)
    H = integer("horizon", horizon, 1, 100_000)
    report = throttled_progress(progress)
    if v_star is None:
        v_star = optimal_policy(mdp, gamma)["v_rho"]
    return run_policy_gradient(
        mdp,
        nu=nu,
        gamma=gamma,
        lr=lr,
        T=T,
        target=x * v_star,
        v_star=v_star,
        method=method,
        generator=resolve_rng(rng) if method == "sampled" else None,
        B=B,
        H=H,
        stop_at_target=bool(stop_at_target),
        report=report,
    )


def warmup() -> None:
    """Compile every jitted core and run the public API once on a tiny lock."""
    from kernels.exploration import core as exploration_pg
    from kernels.exploration import solvers as exploration_solvers

    exploration_solvers.warmup()
    exploration_pg.warmup()
    mdp = make_mdp("lock", size=4)
    res = curious_explorer(mdp, gamma=0.9, coverage_c=1.0, n_explore=2, explore_eps=0.1)
    for method in ("exact", "sampled"):
        policy_gradient(
            mdp,
            restart=res["mu"],
            gamma=0.9,
            lr=1.0,
            n_iters=2,
            target_frac=0.5,
            method=method,
            rng=0,
            batch=1,
            horizon=4,
        )
