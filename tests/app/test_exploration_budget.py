"""Bounded work of the Exploration maps tab (issue 13): costs, scaling down, refusals, and every
control at its maximum within 1 GB and 60 s."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.models import budget
from app.models.exploration import ExplorationModel, costs
from app.models.exploration.cache import budgeted_key, explore_cached, make_layout
from app.models.exploration.params import EXPLORER_PARAMS
from app.url_state import apply_query
from kernels import exploration as ex
from tests.app.budget_probe import HARD_BYTES, HARD_SECONDS, measure

FOUR_ROOMS = (68, 4, 4)
SOLVERS = tuple(ex.INNER_SOLVERS)
EXPLORER: dict[str, Any] = dict(
    gamma=0.95,
    n_explore=10,
    inner_solver="vi",
    exclude_terminal=True,
)


# ------------------------------------------------------------------ cost functions
@pytest.mark.parametrize("solver", ["vi", "soft_vi", "pg"])
def test_explorer_cost_grows_with_every_size(solver: str) -> None:
    p = {**EXPLORER, "inner_solver": solver}

    def cost(shape: tuple[int, int, int] = FOUR_ROOMS, **over: Any) -> budget.Cost:
        return costs.explorer_cost({**p, **over}, shape, acyclic=False)

    small = cost()
    for large in (
        cost(n_explore=30),
        cost(gamma=0.999),
        cost((200, 4, 4)),
        cost((68, 8, 4)),
    ):
        assert large.seconds > small.seconds
        assert large.bytes >= small.bytes
    assert cost(n_explore=30).bytes > small.bytes


def test_solver_order_and_acyclic_value_iteration() -> None:
    p = {**EXPLORER, "gamma": 0.999, "n_explore": 30}
    by = {s: costs.explorer_cost({**p, "inner_solver": s}, FOUR_ROOMS, False) for s in SOLVERS}
    assert by["soft_vi"].seconds > by["vi"].seconds > by["pg"].seconds
    # acyclic VI with terminals excluded is exact after ≤ S+1 sweeps; with them, geometric
    deep = (466, 2, 2)
    fast = costs.explorer_cost({**p, "exclude_terminal": True}, deep, acyclic=True)
    slow = costs.explorer_cost({**p, "exclude_terminal": False}, deep, acyclic=True)
    assert fast.seconds < slow.seconds / 5
    assert costs.vi_sweeps(0.999) > costs.vi_sweeps(0.95) > 0


@pytest.mark.parametrize("size", ["n_iters", "batch", "horizon", "n_seeds"])
@pytest.mark.parametrize("method", ["exact", "sampled"])
def test_learning_cost_grows_with_every_size(size: str, method: str) -> None:
    base = dict(n_iters=200, batch=4, horizon=50, n_seeds=2)

    def cost(**over: int) -> budget.Cost:
        a = {**base, **over}
        return costs.learning_cost(FOUR_ROOMS, False, method=method, **a)

    small, large = cost(), cost(**{size: base[size] * 4})
    assert large.seconds >= small.seconds and large.bytes >= small.bytes
    if method == "sampled" or size in ("n_iters", "n_seeds"):
        assert large.seconds > small.seconds
    bigger = costs.learning_cost((200, 4, 4), False, method=method, **base)
    assert bigger.seconds > small.seconds and bigger.bytes > small.bytes


def test_explorer_bytes_are_the_result_arrays() -> None:
    """Exact bytes for a small case: the explorer's result arrays at K = n_iters."""
    model = ExplorationModel(coverage_c=3.0, n_explore=4)  # U never empties within K = 4
    result = model.explorer
    assert result["n_iters"] == 4
    arrays = [v for v in result.values() if isinstance(v, np.ndarray)]
    total = sum(a.nbytes for a in arrays)
    assert costs.explorer_bytes(model.mdp.nxt.shape, 4) == total
    cost = costs.explorer_cost(model.param_values(), model.mdp.nxt.shape, model.mdp.acyclic)
    assert cost.bytes >= 2 * total


def test_learning_bytes_count_the_uniforms_and_the_curves() -> None:
    """Exact bytes of REINFORCE's chunk of uniforms (the one large array), and a small study's
    kept arrays under the estimate."""
    B, H, T = 8, 30, 100
    uniforms = np.random.default_rng(0).random((costs.REINFORCE_CHUNK, B, 2 * H + 1))
    sampled = costs.learning_bytes(FOUR_ROOMS, T, "sampled", B, H, 2)
    exact = costs.learning_bytes(FOUR_ROOMS, T, "exact", B, H, 2)
    assert sampled - exact == uniforms.nbytes
    from app.models.exploration.studies import run_learning_curves

    model = ExplorationModel(gradient="sampled", n_pg_iters=T, batch=B, horizon=H, n_seeds=2)
    settings, notice = model.budgeted_learning_settings()
    assert notice == "" and settings is not None
    result = run_learning_curves(settings, lambda f: True)
    kept = sum(
        curve[name].nbytes
        for curve in result["curves"].values()
        for name in ("mean", "low", "high", "env_steps")
    )
    assert 0 < kept <= exact


def test_teaching_defaults_and_presets_fit_unscaled() -> None:
    model = ExplorationModel()
    for name in model.presets:
        model.apply_preset(name)
        assert model.explorer_budget_notice == "", name
        settings, notice = model.budgeted_learning_settings()
        assert notice == "" and settings is not None, name
        assert settings.n_iters == model.n_pg_iters


def test_player_tick_is_short_at_any_speed() -> None:
    top = ExplorationModel.param.speed.bounds[1]
    assert costs.tick_cost(top).seconds == costs.tick_cost(1).seconds < 0.2
    assert costs.tick_cost(top).bytes == 0


def test_explorer_maps_fit_the_run_budget_at_the_largest_layout() -> None:
    p = {**EXPLORER, "n_explore": 30, "inner_solver": "pg"}
    deep = costs.explorer_cost(p, (466, 2, 2), acyclic=True)
    assert deep.bytes < budget.MAX_RUN_BYTES / 10


# ------------------------------------------------------------------ decisions
def test_learning_scales_seeds_first_then_updates() -> None:
    seeds, T, notice = costs.budgeted_learning(FOUR_ROOMS, False, 300, "sampled", 64, 500, 10)
    assert 1 <= seeds < 10 and T == 300
    assert "limit is 30 s" in notice and f"{seeds} seeds (from 10)" in notice
    seeds, T, notice = costs.budgeted_learning(FOUR_ROOMS, False, 30000, "sampled", 64, 500, 10)
    assert seeds == 1 and 1 <= T < 30000
    assert "limit is 30 s" in notice and f"T = {T} updates (from 30000)" in notice
    assert costs.learning_cost(FOUR_ROOMS, False, T, "sampled", 64, 500, 1).fits()
    assert not costs.learning_cost(FOUR_ROOMS, False, T + 1, "sampled", 64, 500, 1).fits()


def test_learning_refused_when_even_one_update_is_over(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ExplorationModel(gradient="sampled")
    monkeypatch.setattr(costs, "SEC_ENV_STEP", 10.0)
    model.run_learning()
    assert model.learning.wait(5)
    assert not model.learning.running and model.learning.result is None
    assert "refused" in model.learning.error and "limit is 30 s" in model.learning.error
    assert model.status == model.learning.error


def test_explorer_refused_keeps_the_last_explorer(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ExplorationModel()
    before = model.explorer
    monkeypatch.setattr(costs, "SEC_SOFT_VI_SA", 1.0)
    budgeted_key.cache_clear()
    try:
        model.inner_solver = "soft_vi"
        assert model.explorer_notice.startswith("Explorer refused:")
        assert "limit is 10 s" in model.explorer_notice
        assert model.explorer is before
    finally:
        budgeted_key.cache_clear()


def test_explorer_scaled_down_link() -> None:
    """DeepSea with soft VI at γ = 0.999 (≈ 20 s of synchronous explorer at K = 30) is scaled
    down to the explorer's budget, through a link."""
    model = ExplorationModel()
    link = {
        "layout": "deep_sea",
        "size": "30",
        "gamma": "0.999",
        "n_explore": "30",
        "inner_solver": "soft_vi",
    }
    requested = (*model.requested_explorer_key(),)
    p = dict(zip(EXPLORER_PARAMS, requested, strict=True))
    p.update(layout="deep_sea", size=30, gamma=0.999, n_explore=30, inner_solver="soft_vi")
    mdp = make_layout(p, 0.1)
    K, notice = costs.budgeted_explorer(p, mdp.nxt.shape, mdp.acyclic)
    assert K < 30 and "limit is 10 s" in notice
    peak, seconds, _ = measure(lambda: apply_query(model, link))
    assert model.n_explore == 30  # the param keeps what the link asked for
    assert model.n_iters <= K
    assert f"Scaled down to K = {K} (from 30)" in model.explorer_notice
    assert seconds < costs.MAX_EXPLORER_SECONDS * 2 and peak < HARD_BYTES


def test_learning_link_is_scaled_with_a_notice() -> None:
    model = ExplorationModel()
    apply_query(
        model,
        {
            "gradient": "sampled",
            "n_pg_iters": "30000",
            "batch": "64",
            "horizon": "500",
            "n_seeds": "10",
        },
    )
    model.run_learning()
    try:
        assert "limit is 30 s" in model.status and "Scaled down to T =" in model.status
        assert "scaled down" in model.learning.message
    finally:
        model.learning.cancel()
        model.learning.wait(30)


# ------------------------------------------------------------------ every control at its maximum
def maxima(layout: str, gradient: str) -> dict[str, Any]:
    """Every numeric param at its upper bound, selectors at their most expensive option."""
    values: dict[str, Any] = {}
    model = ExplorationModel
    for name in (*model.restart_params, *model.live_params):
        p = model.param[name]
        bounds = getattr(p, "bounds", None)
        if bounds is not None and bounds[1] is not None:
            values[name] = bounds[1]
    values.update(
        layout=layout,
        gradient=gradient,
        inner_solver="soft_vi",
        intrinsic_reward="maxent",
        poorly_set="state_actions",
        threshold_rule="renormalised",
        exclude_terminal=False,
        deep_sea_stochastic=True,
        include_pi0=True,
    )
    values.pop("k_view", None)
    return values


@pytest.mark.slow
@pytest.mark.parametrize(
    ("layout", "gradient"),
    [("deep_sea", "sampled"), ("four_rooms", "sampled"), ("four_rooms", "exact")],
)
def test_every_control_at_its_maximum(layout: str, gradient: str) -> None:
    values = maxima(layout, gradient)
    assert values["n_pg_iters"] == 30000 and values["n_explore"] == 30
    budgeted_key.cache_clear()
    explore_cached.cache_clear()
    speed = ExplorationModel.param.speed.bounds[1]
    peak, seconds, model = measure(lambda: ExplorationModel(speed=speed, **values))
    print(f"{layout}/{gradient} construction+reset: {peak / 1e6:.0f} MB, {seconds:.1f} s")
    assert peak < HARD_BYTES and seconds < HARD_SECONDS
    assert "limit is 10 s" in model.explorer_notice  # the explorer was scaled down
    assert model.n_iters < 30

    peak, seconds, _ = measure(lambda: [model.step() for _ in range(5)])
    print(f"{layout}/{gradient} 5 steps at speed {speed}: {peak / 1e6:.0f} MB, {seconds:.3f} s")
    assert peak < HARD_BYTES and seconds < 5 * 0.2

    def learn() -> None:
        model.run_learning()
        assert model.learning.wait(2 * HARD_SECONDS)

    peak, seconds, _ = measure(learn)
    print(f"{layout}/{gradient} learning job: {peak / 1e6:.0f} MB, {seconds:.1f} s")
    assert peak < HARD_BYTES and seconds < HARD_SECONDS
    assert model.learning.error == "", model.learning.error
    result = model.learning.result
    if gradient == "sampled":
        assert "limit is 30 s" in model.status
        assert result["n_iters"] < 30000 and result["n_seeds"] == 1
    else:
        assert result["n_iters"] == 30000  # exact PG at T = 30000 fits the budget
