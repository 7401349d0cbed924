"""Public API of kernels/exploration.py: validation, determinism, orderings, REINFORCE."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import exploration as ex
from kernels.common.progress import Cancelled


def explore(mdp, gamma, c, K, eps=0.1, **kw):
    return ex.curious_explorer(mdp, gamma=gamma, coverage_c=c, n_explore=K, explore_eps=eps, **kw)


def iters(mdp, nu, gamma, lr, T, x, **kw):
    return ex.policy_gradient(mdp, restart=nu, gamma=gamma, lr=lr, n_iters=T, target_frac=x, **kw)[
        "iters_to_target"
    ]


def restarts(mdp, mu, beta=0.5):
    return {
        "rho": mdp.rho,
        "mu": mu,
        "blend": ex.blend_restart(mdp.rho, mu, beta),
        "uniform": ex.uniform_restart(mdp),
    }


# ---------------------------------------------------------------- layouts and API shape
def test_make_mdp_exposes_the_binding_api():
    for layout in ex.LAYOUTS:
        mdp = ex.make_mdp(layout)
        P = mdp.dense_P()
        assert P.shape == (mdp.n_states, mdp.n_actions, mdp.n_states)
        assert mdp.rho.shape == (mdp.n_states,) and mdp.rho.sum() == 1.0
        assert np.all(P[mdp.absorbing, :, :][:, :, mdp.absorbing].sum(axis=(1, 2)) > 0)
        for s in np.flatnonzero(mdp.absorbing):  # absorbing states self-loop with no reward
            assert np.all(P[s, :, s] == 1.0) and np.all(mdp.dense_R()[s] == 0.0)


def test_layout_sizes():
    assert ex.make_mdp("lock", size=16).n_states == 17
    assert ex.make_mdp("corridor").n_states == 20
    assert ex.make_mdp("deep_sea", size=10).n_states == 56  # triangle 55 + terminal
    assert ex.make_mdp("frozen_lake_8x8").n_states == 64
    mdp = ex.make_mdp("distractor_rooms", distractor_reward=0.3)
    assert mdp.absorbing.sum() == 2 and np.isclose(mdp.dense_R().max(), 1.0)
    assert np.isclose(np.sort(np.unique(mdp.rew))[-2], 0.3)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ex.make_mdp("maze"), "layout must be one of"),
        (lambda: ex.make_mdp("lock", size=99), r"size must be an integer in \[4, 30\]"),
        (lambda: ex.make_mdp("deep_sea", size=2), r"size must be an integer in \[3, 30\]"),
        (lambda: ex.make_mdp("four_rooms", slip=0.9), r"slip must be a finite number in \[0"),
        (lambda: ex.make_mdp("lock", n_actions=7), r"n_actions must be an integer in \[2, 4\]"),
        (lambda: ex.make_mdp("four_rooms", colour="red"), "unknown parameters"),
    ],
)
def test_bad_layout_parameters_get_clear_messages(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_solver_arguments_get_clear_messages():
    mdp = ex.make_mdp("lock", size=5)
    with pytest.raises(ValueError, match="gamma must be a finite number"):
        explore(mdp, 1.5, 1.0, 3)
    with pytest.raises(ValueError, match="coverage_c must be a finite number"):
        explore(mdp, 0.9, 0.0, 3)
    with pytest.raises(ValueError, match=r"n_explore must be an integer in \[0, 100\]"):
        explore(mdp, 0.9, 1.0, -1)
    with pytest.raises(ValueError, match="restart must be a probability vector"):
        ex.policy_gradient(mdp, restart=np.ones(6), gamma=0.9, lr=1, n_iters=5, target_frac=0.5)
    with pytest.raises(ValueError, match=r"restart must have shape \(6,\)"):
        ex.policy_gradient(mdp, restart=np.ones(3) / 3, gamma=0.9, lr=1, n_iters=5, target_frac=0.5)
    with pytest.raises(ValueError, match="method must be one of"):
        ex.policy_gradient(
            mdp, restart=mdp.rho, gamma=0.9, lr=1, n_iters=5, target_frac=0.5, method="ppo"
        )
    with pytest.raises(ValueError, match="policy rows must be probability vectors"):
        ex.state_visitation(mdp, np.ones((6, 2)), mdp.rho, 0.9)


def test_tiny_delta_empties_u_at_once_without_error():
    mdp = ex.make_mdp("four_rooms")
    # min D̄_0 ≈ 1.0e-4 on S_v (67 states), so c = 0.005 puts δ below every state
    res = explore(mdp, 0.95, 0.005, 10)
    assert res["k_stop"] == 1 and res["n_iters"] == 0
    # μ is then the uniform policy's visitation restricted to S_v
    d0 = res["visitations"][0]
    valid = res["candidates"]
    np.testing.assert_allclose(res["mu"][valid], d0[valid] / d0[valid].sum(), atol=1e-15)


# ---------------------------------------------------------------- spec presets, explorer
def test_teaching_default_explorer_matches_the_spec_figures():
    mdp = ex.make_mdp("four_rooms")
    res = explore(mdp, 0.95, 0.1, 10)
    sizes = res["poorly_visited"].sum(axis=1)
    assert sizes[0] == 22 and res["candidates"].sum() == 67  # |U_1| = 22 of 67
    assert res["k_stop"] == 8  # U_8 = ∅
    cov = ex.coverage_curves(mdp, res, 0.95)
    # spec: H(D̄)/log|S_v| rises 0.72 → 0.91, ‖d*/D̄‖∞ falls ≈140 → ≈5 (2-digit figures)
    assert cov["entropy"][0] == pytest.approx(0.72, abs=0.01)
    assert cov["entropy"][-1] == pytest.approx(0.91, abs=0.01)
    assert cov["mismatch"][0] == pytest.approx(140, rel=0.05)
    assert cov["mismatch"][-1] == pytest.approx(5, rel=0.1)


def test_deep_sea_explorer_puts_mass_on_the_reward_cell():
    mdp = ex.make_mdp("deep_sea", size=10)
    res = explore(mdp, 0.99, 0.1, 20)
    assert res["k_stop"] <= 3  # U empties within 2 iterations
    goal = mdp.goal_states[0]
    assert res["mu"][goal] == pytest.approx(0.008, abs=0.001)
    d0 = res["visitations"][0]
    uniform_share = d0[goal] / d0[res["candidates"]].sum()
    assert res["mu"][goal] / uniform_share > 30  # spec: ≈45×
    # c = 1 never empties U in a time-layered MDP
    assert explore(mdp, 0.99, 1.0, 20)["k_stop"] == 0


def test_raw_threshold_rule_fails_on_deep_sea():
    mdp = ex.make_mdp("deep_sea", size=10)
    res = explore(mdp, 0.99, 0.1, 10, threshold_rule="raw")
    d0 = res["visitations"][0]
    assert d0[mdp.absorbing].sum() == pytest.approx(0.9, abs=0.02)  # the terminal holds ≈0.9
    sizes = res["poorly_visited"].sum(axis=1)
    assert res["k_stop"] == 0 and np.all((sizes >= 25) & (sizes <= 45))  # spec: 30–40 of 55


def test_keeping_terminals_wastes_restarts():
    mdp = ex.make_mdp("corridor")
    res = explore(mdp, 0.99, 0.1, 10)
    terminal = ex.explorer_metrics(mdp, res, 0.99)["terminal_mass"]
    assert terminal == pytest.approx(0.75, abs=0.02)  # spec §3: corridor, c = 0.1
    kept = explore(mdp, 0.99, 0.1, 10, exclude_terminal=False)
    assert kept["mu"][mdp.absorbing].sum() > 0.5
    lake = ex.make_mdp("frozen_lake_8x8")
    assert ex.explorer_metrics(lake, explore(lake, 0.99, 0.1, 20), 0.99)[
        "terminal_mass"
    ] == pytest.approx(0.54, abs=0.02)


@pytest.mark.parametrize("kind", ["bonus", "maxent"])
def test_smooth_intrinsic_rewards_spread_the_mixture(kind):
    mdp = ex.make_mdp("four_rooms")
    res = explore(mdp, 0.95, 0.1, 6, intrinsic_reward=kind)
    cov = ex.coverage_curves(mdp, res, 0.95)
    assert res["n_iters"] >= 1
    assert cov["entropy"][-1] > cov["entropy"][0]  # more even than the uniform policy's D_0


# ---------------------------------------------------------------- orderings (spec §6.15)
def test_lock_ordering_mu_before_blend_before_rho():
    mdp = ex.make_mdp("lock", size=16)
    res = explore(mdp, 0.99, 1.0, 16)
    n = {k: iters(mdp, nu, 0.99, 1.0, 5000, 0.5) for k, nu in restarts(mdp, res["mu"]).items()}
    assert None not in n.values()
    assert n["mu"] < n["blend"] < n["rho"]
    assert n["uniform"] <= n["mu"]  # the oracle wide coverage is the fastest reference


def test_teaching_default_rho_beats_mu():
    mdp = ex.make_mdp("four_rooms")
    res = explore(mdp, 0.95, 0.1, 10)
    n = {k: iters(mdp, nu, 0.95, 5.0, 2000, 0.9) for k, nu in restarts(mdp, res["mu"]).items()}
    assert n["rho"] < n["mu"]
    # spec counts ρ ≈220, μ ≈300, ν_β ≈170, uniform ≈540 (±1 convention, tie-breaking)
    assert n["blend"] < n["rho"] < n["mu"] < n["uniform"]


def test_distractor_traps_rho_but_not_mu():
    mdp = ex.make_mdp("distractor_rooms", distractor_reward=0.1)
    res = explore(mdp, 0.95, 0.1, 10)
    trapped = ex.policy_gradient(
        mdp, restart=mdp.rho, gamma=0.95, lr=5.0, n_iters=20_000, target_frac=0.9
    )
    assert trapped["iters_to_target"] is None
    # the plateau is the distractor policy: 0.1γ³/γ¹⁵
    assert trapped["values"][-1] / trapped["v_star"] == pytest.approx(0.1 / 0.95**12, abs=2e-3)
    assert iters(mdp, res["mu"], 0.95, 5.0, 1000, 0.9) is not None


def test_frozen_lake_mu_beats_rho():
    mdp = ex.make_mdp("frozen_lake_8x8")
    res = explore(mdp, 0.99, 0.1, 20)
    n_mu = iters(mdp, res["mu"], 0.99, 5.0, 3000, 0.9)
    n_rho = iters(mdp, mdp.rho, 0.99, 5.0, 3000, 0.9)
    assert n_mu is not None and n_rho is not None and n_mu < n_rho


# ---------------------------------------------------------------- PG mechanics
def test_iteration_count_convention_and_stop_at_target():
    mdp = ex.make_mdp("lock", size=8)
    full = ex.policy_gradient(
        mdp, restart=mdp.rho, gamma=0.99, lr=1.0, n_iters=3000, target_frac=0.5
    )
    t = full["iters_to_target"]
    values = full["values"]
    assert len(values) == 3001
    assert values[t] >= 0.5 * full["v_star"] > values[t - 1]  # first t after t updates
    assert values[0] == pytest.approx(mdp.rho @ ex.policy_values(mdp, np.full((9, 2), 0.5), 0.99))
    stopped = ex.policy_gradient(
        mdp, restart=mdp.rho, gamma=0.99, lr=1.0, n_iters=3000, target_frac=0.5, stop_at_target=True
    )
    assert stopped["iters_to_target"] == t and len(stopped["values"]) == t + 1
    np.testing.assert_array_equal(stopped["values"], values[: t + 1])  # same numbers


def test_cancel_raises_with_partial_values():
    mdp = ex.make_mdp("four_rooms")
    calls = []

    def progress(fraction):
        calls.append(fraction)
        return False

    with pytest.raises(Cancelled) as info:
        ex.policy_gradient(
            mdp,
            restart=mdp.rho,
            gamma=0.95,
            lr=5.0,
            n_iters=5000,
            target_frac=0.9,
            progress=progress,
        )
    assert calls and 0 < info.value.steps_done < 5000
    assert len(info.value.partial) == info.value.steps_done + 1


def test_reinforce_is_deterministic_given_the_seed():
    mdp = ex.make_mdp("lock", size=6)
    kw = dict(
        restart=mdp.rho,
        gamma=0.99,
        lr=0.5,
        n_iters=50,
        target_frac=0.5,
        method="sampled",
        batch=4,
        horizon=18,
    )
    a = ex.policy_gradient(mdp, rng=np.random.default_rng(7), **kw)
    b = ex.policy_gradient(mdp, rng=7, **kw)
    c = ex.policy_gradient(mdp, rng=8, **kw)
    np.testing.assert_array_equal(a["values"], b["values"])
    np.testing.assert_array_equal(a["theta"], b["theta"])
    assert not np.array_equal(a["theta"], c["theta"])
    assert a["env_steps"].shape == (50,) and np.all(a["env_steps"] <= 4 * 18)


def test_reinforce_first_goal_and_steps():
    mdp = ex.make_mdp("lock", size=4)
    out = ex.policy_gradient(
        mdp,
        restart=mdp.rho,
        gamma=0.99,
        lr=0.5,
        n_iters=200,
        target_frac=0.9,
        method="sampled",
        rng=1,
        batch=8,
        horizon=12,
    )
    assert out["first_goal_episode"] is not None and out["first_goal_episode"] >= 1
    assert out["iters_to_target"] is not None
    assert np.all(out["env_steps"] >= 8)  # every episode takes at least one step


@pytest.mark.slow
def test_reinforce_gradient_is_unbiased():
    # mean of single-episode REINFORCE steps (lr = 1, B = 1, θ = 0) ≈ exact ∇V(ν) at θ = 0
    from kernels.exploration.core import reinforce_chunk
    from tests.oracles import exploration_reference as ref

    mdp = ex.make_mdp("lock", size=4)
    gamma = 0.9
    nu = np.full(mdp.n_states, 1 / mdp.n_states)
    R = mdp.dense_R()
    exact = ref.pg_gradient(mdp.dense_P(), R, np.zeros(R.shape), nu, gamma)
    n = 40_000
    H = 200  # γ^200 ≈ 7e-10: truncation bias below the noise
    rng = np.random.default_rng(9)
    total = np.zeros_like(exact)
    sq = np.zeros_like(exact)
    for _ in range(n // 1000):
        grads = np.empty((1000, *exact.shape))
        for j in range(1000):
            theta = np.zeros_like(exact)
            reinforce_chunk(
                mdp.nxt,
                mdp.prob,
                mdp.rew,
                R,
                nu,
                mdp.rho,
                gamma,
                1.0,
                mdp.acyclic,
                mdp.absorbing,
                0.5,
                theta,
                rng.random((1, 1, 2 * H + 1)),
                0,
                np.empty(1),
                np.empty(1, dtype=np.int64),
                np.full(1, -1, dtype=np.int64),
            )
            grads[j] = theta
        total += grads.sum(axis=0)
        sq += (grads**2).sum(axis=0)
    mean = total / n
    se = np.sqrt(np.maximum(sq / n - mean**2, 0) / n)
    assert np.all(np.abs(mean - exact) <= 5 * se + 1e-12)  # 5 standard errors: α ≈ 6e-7 each


@pytest.mark.slow
def test_lock_reinforce_mu_beats_rho_on_average():
    # spec preset 6 (N = 10): μ-restart reaches 0.5 V* in ≈40–50 updates, ρ in ≈60–110
    mdp = ex.make_mdp("lock", size=10)
    res = explore(mdp, 0.99, 1.0, 10)
    counts = {}
    for name, nu in (("rho", mdp.rho), ("mu", res["mu"])):
        counts[name] = [
            iters(mdp, nu, 0.99, 0.5, 1500, 0.5, method="sampled", rng=seed, batch=8, horizon=30)
            for seed in range(3)
        ]
    assert None not in counts["rho"] + counts["mu"]
    assert np.mean(counts["mu"]) < np.mean(counts["rho"])


# ---------------------------------------------------------------- explorer variants (spec §3)
def test_soft_vi_solves_its_fixed_point_and_tends_to_the_greedy_policy():
    from kernels.exploration.solvers import soft_value_iteration

    mdp = ex.make_mdp("four_rooms", slip=0.1)
    gamma, tau = 0.95, 0.05
    rng = np.random.default_rng(13)
    R = (rng.random((mdp.n_states, 4)) < 0.2).astype(float)
    Q = np.zeros_like(R)
    soft_value_iteration(mdp.nxt, mdp.prob, R, gamma, tau, 1e-12, 100_000, Q)
    V = tau * np.log(np.exp(Q / tau).sum(axis=1))
    residual = Q - R - gamma * mdp.dense_P() @ V
    assert np.max(np.abs(residual)) < 1e-10  # stopped at change < 1e-12, contraction γ
    hard = explore(mdp, gamma, 0.1, 3, eps=0.0)
    soft = explore(mdp, gamma, 0.1, 3, eps=0.0, inner_solver="soft_vi", temperature=1e-3)
    U = hard["poorly_visited"][0]
    # τ → 0: the soft policy's mass on U_1 approaches the optimal one (up to ties' weights)
    assert soft["visitations"][1][U].sum() == pytest.approx(
        hard["visitations"][1][U].sum(), rel=1e-3
    )


def test_pg_inner_solver_seeks_the_poorly_visited_set():
    mdp = ex.make_mdp("four_rooms")
    res = explore(mdp, 0.95, 0.1, 3, inner_solver="pg", inner_steps=50, inner_lr=5.0)
    U = res["poorly_visited"][0]
    assert res["visitations"][1][U].sum() > 3 * res["visitations"][0][U].sum()


def test_state_action_sets_count_pairs():
    mdp = ex.make_mdp("four_rooms")
    c = 1.5
    res = explore(mdp, 0.95, c, 4, poorly_set="state_actions")
    pairs = res["poorly_visited_pairs"]
    n_pairs = res["candidates"].sum() * mdp.n_actions
    assert res["delta"] == pytest.approx(c / n_pairs)
    assert np.all(pairs.sum(axis=(1, 2)) >= n_pairs * (1 - 1 / c))  # counting bound on pairs
    np.testing.assert_array_equal(res["poorly_visited"], pairs.any(axis=2))
    # the curious reward lives on pairs: R_k(s, a) = 1{(s, a) ∈ U_k}
    np.testing.assert_array_equal(res["intrinsic_rewards"][1] == 1.0, pairs[0])


def test_explorer_bundle_carries_the_facade_keywords():
    from kernels.exploration.explorer import ExplorerParams, run_explorer

    mdp = ex.make_mdp("lock", size=6)
    kwargs = dict(gamma=0.9, coverage_c=1.0, n_explore=4, explore_eps=0.1, inner_solver="soft_vi")
    facade = ex.curious_explorer(mdp, **kwargs)
    direct = run_explorer(mdp, ExplorerParams(**kwargs))
    for key in ("mu", "mixtures", "policies", "poorly_visited"):
        np.testing.assert_array_equal(facade[key], direct[key])
    assert ExplorerParams(**kwargs).temperature == 0.05  # the facade's defaults


def test_policy_gradient_bundle_carries_the_facade_keywords():
    from kernels.common.progress import throttled_progress
    from kernels.exploration.driver import PGSettings, run_policy_gradient

    mdp = ex.make_mdp("lock", size=5)
    v_star = ex.optimal_policy(mdp, 0.9)["v_rho"]
    out = ex.policy_gradient(
        mdp,
        restart=mdp.rho,
        gamma=0.9,
        lr=1.0,
        n_iters=30,
        target_frac=0.5,
        method="sampled",
        rng=3,
        batch=2,
        horizon=6,
        v_star=v_star,
    )
    settings = PGSettings(
        nu=mdp.rho,
        gamma=0.9,
        lr=1.0,
        T=30,
        target=0.5 * v_star,
        v_star=v_star,
        method="sampled",
        B=2,
        H=6,
        stop_at_target=False,
    )
    direct = run_policy_gradient(mdp, settings, np.random.default_rng(3), throttled_progress(None))
    np.testing.assert_array_equal(out["values"], direct["values"])
    np.testing.assert_array_equal(out["env_steps"], direct["env_steps"])


def test_deep_sea_mapping_is_public_and_validated():
    from kernels.exploration.mdp import deep_sea_mapping

    np.testing.assert_array_equal(ex.deep_sea_mapping(6, 4), deep_sea_mapping(6, 4))
    assert ex.deep_sea_mapping(6, 4).shape == (6, 6)
    with pytest.raises(ValueError, match="size"):
        ex.deep_sea_mapping(2, 0)
