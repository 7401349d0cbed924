"""Validation and the chunked policy-gradient driver of :mod:`kernels.exploration.core`.

:func:`check_gamma`, :func:`check_distribution` and :func:`check_policy` validate the facade's
arguments. :func:`run_policy_gradient` runs the jitted exact-PG or REINFORCE cores chunk by
chunk between progress reports, records V^{π_t}(ρ) for t = 0..T and the first t reaching the
target. REINFORCE uniforms are drawn per chunk from the caller's Generator, so the numbers do
not depend on where chunks end.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from kernels.common.progress import Cancelled, Reporter
from kernels.common.validation import real
from kernels.exploration.core import exact_pg_chunk, reinforce_chunk
from kernels.exploration.mdp import TabularMDP

#: Reward of a transition that counts as "reached the goal" for episodes-to-first-goal.
GOAL_REWARD = 0.5
#: Updates per jitted chunk between progress reports.
EXACT_CHUNK = 200
REINFORCE_CHUNK = 20


def check_gamma(gamma: object) -> float:
    """γ in (0, 0.9999]."""
    return real("gamma", gamma, 0.0, 0.9999, lo_open=True)


def check_distribution(name: str, nu: object, n_states: int) -> np.ndarray:
    """A probability vector of shape (S,) (non-negative, summing to 1 within 1e-9)."""
    arr = np.asarray(nu, dtype=np.float64)
    if arr.shape != (n_states,):
        raise ValueError(f"{name} must have shape ({n_states},); got {arr.shape}")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or abs(arr.sum() - 1.0) > 1e-9:
        raise ValueError(f"{name} must be a probability vector (non-negative, summing to 1)")
    return np.ascontiguousarray(arr)


def check_policy(mdp: TabularMDP, policy: object) -> np.ndarray:
    """A policy of shape (S, A) whose rows are probability vectors."""
    pi = np.asarray(policy, dtype=np.float64)
    if pi.shape != (mdp.n_states, mdp.n_actions):
        raise ValueError(
            f"policy must have shape ({mdp.n_states}, {mdp.n_actions}); got {pi.shape}"
        )
    if not np.all(np.isfinite(pi)) or pi.min() < 0 or np.max(np.abs(pi.sum(1) - 1)) > 1e-9:
        raise ValueError("policy rows must be probability vectors")
    return np.ascontiguousarray(pi)


class PGSettings(NamedTuple):
    """Validated settings of one policy-gradient run (see ``exploration.policy_gradient``).

    ``nu`` (S,) the restart ν; ``gamma`` γ; ``lr`` η; ``T`` the update cap; ``target`` x·V*(ρ)
    and ``v_star`` V*(ρ); ``method`` ``"exact"`` or ``"sampled"``; ``B`` episodes per update
    and ``H`` their truncation (sampled); ``stop_at_target``: stop at the first t reaching it.
    """

    nu: np.ndarray
    gamma: float
    lr: float
    T: int
    target: float
    v_star: float
    method: str
    B: int
    H: int
    stop_at_target: bool


def run_policy_gradient(
    mdp: TabularMDP,
    settings: PGSettings,
    generator: np.random.Generator | None,
    report: Reporter,
) -> dict[str, Any]:
    """Exact PG or REINFORCE from θ = 0 (see ``exploration.policy_gradient``); ``generator``
    draws REINFORCE's uniforms (None for exact PG), ``report`` gets the fraction done."""
    nu, gamma, lr, T = settings.nu, settings.gamma, settings.lr, settings.T
    target, v_star, method = settings.target, settings.v_star, settings.method
    B, H, stop_at_target = settings.B, settings.H, settings.stop_at_target
    R = np.ascontiguousarray(mdp.dense_R())
    theta = np.zeros((mdp.n_states, mdp.n_actions))
    values = np.empty(T + 1)
    steps = np.zeros(T, dtype=np.int64)
    first_goal = np.full(1, -1, dtype=np.int64)
    done = 0  # updates applied
    hit: int | None = None
    chunk = EXACT_CHUNK if method == "exact" else REINFORCE_CHUNK
    while True:
        n_up = min(chunk, T - done)
        if method == "exact":
            last = done + n_up == T
            exact_pg_chunk(
                mdp.nxt,
                mdp.prob,
                R,
                nu,
                mdp.rho,
                gamma,
                lr,
                mdp.acyclic,
                mdp.absorbing,
                theta,
                n_up + int(last),
                n_up,
                values[done:],
            )
        else:
            uniforms = generator.random((n_up, B, 2 * H + 1))
            reinforce_chunk(
                mdp.nxt,
                mdp.prob,
                mdp.rew,
                R,
                nu,
                mdp.rho,
                gamma,
                lr,
                mdp.acyclic,
                mdp.absorbing,
                GOAL_REWARD,
                theta,
                uniforms,
                done * B,
                values[done:],
                steps[done:],
                first_goal,
            )
            if done + n_up == T:  # the value after the last update
                exact_pg_chunk(
                    mdp.nxt,
                    mdp.prob,
                    R,
                    nu,
                    mdp.rho,
                    gamma,
                    lr,
                    mdp.acyclic,
                    mdp.absorbing,
                    theta.copy(),
                    1,
                    0,
                    values[T:],
                )
        recorded = done + n_up + (1 if done + n_up == T else 0)
        if hit is None:
            reached = np.flatnonzero(values[done:recorded] >= target)
            if reached.size:
                hit = done + int(reached[0])
        done += n_up
        if (stop_at_target and hit is not None) or done >= T:
            break
        if not report(done / T):
            raise Cancelled(
                "policy gradient cancelled", partial=values[: done + 1].copy(), steps_done=done
            )
    report(1.0, True)
    n_keep = min(done, hit) + 1 if (stop_at_target and hit is not None) else T + 1
    out: dict[str, Any] = {
        "values": values[:n_keep].copy(),
        "iters_to_target": hit,
        "v_star": float(v_star),
        "target": float(target),
        "theta": theta,
        "policy": _softmax(theta),
    }
    if method == "sampled":
        out["env_steps"] = steps[: n_keep - 1].copy()
        out["first_goal_episode"] = int(first_goal[0]) if first_goal[0] > 0 else None
    return out


def _softmax(theta: np.ndarray) -> np.ndarray:
    z = np.exp(theta - theta.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)
