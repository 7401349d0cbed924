"""Cross-checks of the Exploration maps kernels against gymnasium and Monte Carlo rollouts."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from kernels import exploration as ex


def gymnasium_tensor(env) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P[s, a, s'], expected reward R[s, a] and terminal mask from ``env.unwrapped.P``."""
    table = env.unwrapped.P
    S, A = len(table), len(table[0])
    P = np.zeros((S, A, S))
    R = np.zeros((S, A))
    terminal = np.zeros(S, dtype=bool)
    for s in range(S):
        for a in range(A):
            for p, t, r, done in table[s][a]:
                P[s, a, t] += p
                R[s, a] += p * r
                if done and t == s and p == 1.0:
                    terminal[s] = True
    return P, R, terminal


def test_frozen_lake_dynamics_equal_gymnasium():
    env = gymnasium.make(
        "FrozenLake-v1",
        map_name="8x8",
        is_slippery=True,
        success_rate=1 / 3,
        reward_schedule=(1, 0, 0),
    )
    P, R, terminal = gymnasium_tensor(env)
    mdp = ex.make_mdp("frozen_lake_8x8")
    assert mdp.n_states == P.shape[0] and mdp.n_actions == P.shape[1]
    np.testing.assert_allclose(mdp.dense_P(), P, rtol=0, atol=1e-12)  # spec §6.14: exact
    np.testing.assert_allclose(mdp.dense_R(), R, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(mdp.absorbing, terminal)
    start = env.unwrapped.initial_state_distrib
    np.testing.assert_array_equal(mdp.rho, start)
    env.close()


def test_frozen_lake_rollouts_follow_the_same_law():
    # sampling gymnasium's own env.step: the empirical next-state law from the start state
    # matches our tensor (4 actions × 3000 draws; 5σ of a binomial proportion)
    env = gymnasium.make("FrozenLake-v1", map_name="8x8", is_slippery=True)
    mdp = ex.make_mdp("frozen_lake_8x8")
    P = mdp.dense_P()
    n = 3000
    for a in range(4):
        counts = np.zeros(64)
        env.reset(seed=a)
        for _ in range(n):
            env.unwrapped.s = 9  # an interior frozen cell
            obs, *_ = env.step(a)
            counts[obs] += 1
        p = P[9, a]
        assert np.all(np.abs(counts / n - p) <= 5 * np.sqrt(p * (1 - p) / n) + 1e-12)
    env.close()


def _rollout_states(mdp, pi, nu, gamma, rng, n, mode):
    """Monte Carlo visitation: geometric stopping or truncated discounted counts."""
    P = mdp.dense_P()
    S = mdp.n_states
    cdf_pi = np.cumsum(pi, axis=1)
    cdf_P = np.cumsum(P, axis=2)
    est = np.zeros(S)
    for _ in range(n):
        s = rng.choice(S, p=nu)
        if mode == "geometric":
            T = rng.geometric(1 - gamma) - 1  # T ~ Geom(1−γ) on {0, 1, ...}
            for _ in range(T):
                a = min(np.searchsorted(cdf_pi[s], rng.random(), side="right"), pi.shape[1] - 1)
                s = min(np.searchsorted(cdf_P[s, a], rng.random(), side="right"), S - 1)
            est[s] += 1
        else:
            weight = 1.0
            while weight >= 1e-6:
                est[s] += (1 - gamma) * weight
                if mdp.absorbing[s]:  # the self-loop adds the geometric tail at once
                    est[s] += weight * gamma
                    break
                a = min(np.searchsorted(cdf_pi[s], rng.random(), side="right"), pi.shape[1] - 1)
                s = min(np.searchsorted(cdf_P[s, a], rng.random(), side="right"), S - 1)
                weight *= gamma
    return est / n


@pytest.mark.slow
def test_monte_carlo_visitation_matches_the_linear_solve():
    # spec §6.12: S = 68 four rooms, n = 5000 rollouts
    mdp = ex.make_mdp("four_rooms", slip=0.1)
    gamma = 0.9
    rng = np.random.default_rng(11)
    pi = np.full((mdp.n_states, 4), 0.25)
    d = ex.state_visitation(mdp, pi, mdp.rho, gamma)
    n, S = 5000, mdp.n_states
    geo = _rollout_states(mdp, pi, mdp.rho, gamma, rng, n, "geometric")
    assert np.abs(geo - d).sum() < 1.5 * np.sqrt(S / n)  # spec: observed 0.072 < 0.175
    counts = _rollout_states(mdp, pi, mdp.rho, gamma, rng, n, "truncated")
    assert np.abs(counts - d).sum() < 0.3 * np.sqrt(S / n)  # spec: observed 0.012 < 0.035


@pytest.mark.slow
def test_mixture_linearity_by_sampling_the_component():
    # drawing π_j with probability α_j per episode visits Σ_j α_j d^{π_j}
    mdp = ex.make_mdp("four_rooms")
    gamma = 0.9
    res = ex.curious_explorer(mdp, gamma=gamma, coverage_c=0.1, n_explore=3, explore_eps=0.1)
    pols = res["policies"]
    alpha = np.full(len(pols), 1 / len(pols))
    rng = np.random.default_rng(12)
    n = 4000
    est = np.zeros(mdp.n_states)
    draws = rng.choice(len(pols), size=n, p=alpha)
    for j in range(len(pols)):
        m = int((draws == j).sum())
        est += m * _rollout_states(mdp, pols[j], mdp.rho, gamma, rng, m, "truncated")
    est /= n
    mixture = res["mixtures"][-1]  # the uniform mixture D_n
    assert np.abs(est - mixture).sum() < 0.3 * np.sqrt(mdp.n_states / n) * 2  # + component noise
