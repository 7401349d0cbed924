"""The Exploration maps model driven through its params, without a browser."""

from __future__ import annotations

import io
import json
import time
from urllib.parse import parse_qsl

import numpy as np
import pytest

from app.models.base import CUSTOM_PRESET
from app.models.exploration import TEACHING_DEFAULT, ExplorationModel
from app.models.exploration.params import EXPLORER_PARAMS, ExplorationParams
from app.url_state import apply_query, build_query


def wait(model: ExplorationModel, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while model.learning.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not model.learning.running


def run_curves(model: ExplorationModel) -> dict:
    model.run_learning()
    wait(model)
    assert model.learning.error == "", model.learning.error
    return model.learning.result


def test_fresh_model_is_the_teaching_default():
    model = ExplorationModel()
    assert model.preset == TEACHING_DEFAULT and model.layout == "four_rooms"
    assert model.n_iters == 7  # U_8 = ∅ (spec §5.1)
    assert model.k_view == 0 and model.pg_view == 0  # a run opens at π₀, no curve shown
    assert "U emptied after k = 7: 7 curious policies" in model.explorer_notice
    frame = model.frame_arrays(0)
    assert frame["poorly"].sum() == 22  # |U_1| = 22 of 67


def test_teaching_default_curves_match_the_spec_ordering():
    curves = run_curves(ExplorationModel())["curves"]
    n90 = {key: c["iters_90"][0] for key, c in curves.items()}
    assert n90["blend"] < n90["rho"] < n90["mu"] < n90["uniform"]  # spec §5.1, §6.15
    assert len(curves["rho"]["mean"]) == 2001


def test_every_preset_builds_and_learns():
    for name in ExplorationModel.presets:
        model = ExplorationModel(preset=name, n_pg_iters=100)
        assert model.preset == CUSTOM_PRESET  # an explicit argument on top of the preset
        model.preset = name
        model.n_pg_iters = 100
        result = run_curves(model)
        assert set(result["curves"]) == {"rho", "mu", "blend", "uniform"}
        for curve in result["curves"].values():
            assert np.all(np.isfinite(curve["mean"])) and curve["mean"].max() <= 1 + 1e-9


def test_lock_preset_mu_beats_rho():
    model = ExplorationModel(preset="Combination lock")
    curves = run_curves(model)["curves"]
    first = {key: c["iters_target"][0] for key, c in curves.items()}
    assert first["mu"] < first["blend"] < first["rho"]


def test_live_params_reuse_the_explorer_and_restart_params_rebuild_it():
    model = ExplorationModel()
    explorer = model.explorer
    model.restart_beta = 0.2
    model.lr = 2.0
    assert model.explorer is explorer  # μ reused
    assert model.learning_study.stale
    blend = model.restarts()["blend"]
    np.testing.assert_allclose(blend, 0.2 * model.mdp.rho + 0.8 * explorer["mu"])
    model.coverage_c = 0.3
    assert model.explorer is not explorer
    # the cache hands back the same (read-only) result for the same parameters
    model.coverage_c = 0.1
    assert model.explorer is explorer and not explorer["mu"].flags.writeable


def test_distractor_reward_is_live_and_changes_only_learning():
    model = ExplorationModel(preset="Distractor trap")
    explorer = model.explorer
    v_before = model.optimal["v_rho"]
    model.distractor_reward = 0.5
    assert model.explorer is explorer
    assert model.optimal["v_rho"] == pytest.approx(v_before)  # the goal still wins
    rewards = np.unique(model.mdp.rew)
    assert np.isclose(rewards, 0.5).any()


def test_player_scrubs_and_loops_over_iterations():
    model = ExplorationModel()
    frame = model.frame
    model.k_view = 3  # scrubbing redraws
    assert model.frame == frame + 1
    model.k_view = 0
    m = model.substeps
    assert m * model.n_iters >= 60  # the explorer's act: about 64 steps whatever K
    model.step(1)  # one batch of π₁'s episodes joins the mixture
    assert model.k_view == 0 and model.episode_share == pytest.approx(1 / m)
    model.step(m - 1)
    assert model.k_view == 1 and model.episode_share == 0
    model.k_view = 0  # a scrub shows whole iterations
    assert model.episode_share == 0


def test_partial_mixture_runs_from_one_iteration_to_the_next():
    model = ExplorationModel()
    res, m = model.explorer, model.substeps
    model.step(2 * m + m // 2)  # half of π₃'s episodes in
    frame = model.frame_arrays()
    f = model.episode_share
    assert model.k_view == 2 and f == pytest.approx((m // 2) / m)
    expected = (3 * res["mixtures"][2] + f * res["visitations"][3]) / (3 + f)
    np.testing.assert_allclose(frame["mixture"], expected, rtol=1e-12)
    assert frame["mixture"].sum() == pytest.approx(1.0)
    np.testing.assert_array_equal(frame["poorly"], res["poorly_visited"][2])  # π₃'s target
    np.testing.assert_array_equal(frame["policy"], res["policies"][3])
    summary = model.frame_summary()
    assert (summary["k"], summary["policy"], summary["share"]) == (2, 3, pytest.approx(f))
    # at f = 1 the mixture is D₃ exactly
    model.step(m - m // 2)
    np.testing.assert_allclose(model.frame_arrays()["mixture"], res["mixtures"][3], rtol=1e-12)


def test_play_builds_mu_then_reveals_the_curves_and_stops():
    model = ExplorationModel(n_pg_iters=200)
    explorer_steps = model.substeps * model.n_iters
    model.playing = True
    for _ in range(explorer_steps):
        assert model.step(1)
    assert model.k_view == model.n_iters and model.has_covered()
    assert "Building μ" in model.status
    model.step(1)  # curves not computed yet: the player holds, the run goes on
    assert model.pg_view == 0 and "waiting" in model.status
    run_curves(model)
    model.step(1)
    assert model.pg_view == 1 and "policy gradient" in model.status
    assert model.learning_series(steps_view=False)["rho"]["x"].tolist() == [0, 1]
    while model.step(5):
        pass
    assert model.pg_view == 200 and not model.playing
    assert "End of the run" in model.status
    model.reset()
    assert (model.k_view, model.pg_view, model.episode_share) == (0, 0, 0)


def test_reveal_is_geometric_and_show_all_shows_everything():
    model = ExplorationModel()
    run_curves(model)
    model.step(model.substeps * model.n_iters)
    shown = []
    while model.pg_view < 2000:
        model.step(1)
        shown.append(model.pg_view)
    assert shown[:20] == list(range(1, 21))  # one update at a time at first
    assert shown[-1] == 2000 and 100 < len(shown) < 140  # then 5 % more per step
    model.pg_view = 0
    model.reveal_all()
    assert model.pg_view == 2000
    series = model.learning_series(steps_view=False)["mu"]
    assert series["x"][-1] == 2000 and len(series["x"]) <= 602  # thinned for the browser


def test_tiny_delta_gives_a_message_not_an_error():
    # DeepSea N = 5, c = 0.01: δ below every share, U empty at once
    sea = ExplorationModel(preset="DeepSea")
    sea.param.update(size=5, coverage_c=0.01)
    assert sea.n_iters == 0 and "no state is poorly visited" in sea.explorer_notice


def test_same_seed_same_sampled_curves():
    a = ExplorationModel(preset="Lock with REINFORCE")
    a.n_pg_iters = 150
    b = ExplorationModel(preset="Lock with REINFORCE")
    b.n_pg_iters = 150
    ra, rb = run_curves(a), run_curves(b)
    for key in ra["curves"]:
        np.testing.assert_array_equal(ra["curves"][key]["mean"], rb["curves"][key]["mean"])
    b.seed = 5
    rc = run_curves(b)
    assert not np.array_equal(ra["curves"]["rho"]["mean"], rc["curves"]["rho"]["mean"])
    # environment steps of μ-restarts include the explorer's nominal cost K·B·H
    mu_steps = ra["curves"]["mu"]["env_steps"]
    assert mu_steps[0] == a.explorer_cost() == a.n_iters * a.batch * a.horizon


def test_learning_job_can_be_cancelled():
    model = ExplorationModel(preset="Combination lock", n_pg_iters=30000, size=30)
    model.gradient = "sampled"
    model.run_learning()
    time.sleep(0.2)
    model.learning.cancel()
    wait(model)
    assert model.learning.message == "Cancelled." and model.learning.result is None


def test_url_round_trip_reproduces_the_explorer():
    model = ExplorationModel(preset="DeepSea")
    model.param.update(size=12, mapping_seed=4)
    query = dict(parse_qsl(build_query(model, "exploration").lstrip("?")))
    other = ExplorationModel()
    notices = apply_query(other, query)
    assert notices == []
    np.testing.assert_array_equal(other.explorer["mu"], model.explorer["mu"])


def test_bad_link_values_are_clamped_with_notices():
    model = ExplorationModel()
    notices = apply_query(
        model, {"size": "999", "coverage_c": "-3", "layout": "maze", "gamma": "banana"}
    )
    assert len(notices) == 4
    assert model.size == 30 and model.coverage_c == pytest.approx(0.01)
    assert model.layout == "four_rooms" and np.isfinite(model.explorer["mu"]).all()


def test_export_contains_maps_coverage_and_curves():
    model = ExplorationModel()
    run_curves(model)
    with np.load(io.BytesIO(model.export_npz())) as data:
        meta = json.loads(str(data["metadata"]))
        assert meta["layout"] == "four_rooms" and meta["seed"] == 1
        assert data["mixtures"].shape == (8, 68)
        assert data["value_ratio_mu"].shape == (2001,)
    csv = model.export_csv()
    assert csv.startswith("# model") and "value_ratio_rho" in csv


def test_explorer_variants_are_restart_params():
    model = ExplorationModel()
    explorer = model.explorer
    model.inner_solver = "soft_vi"
    assert model.explorer is not explorer and model.n_iters >= 1
    model.param.update(inner_solver="vi", poorly_set="state_actions")
    pairs = model.explorer["poorly_visited_pairs"]
    assert pairs.shape == (model.n_iters + 1, 68, 4)
    assert model.explorer["delta"] == pytest.approx(0.1 / (67 * 4))


def test_params_class_holds_the_declarations_and_the_model_the_behaviour():
    assert issubclass(ExplorationModel, ExplorationParams)
    assert ExplorationParams.restart_params == EXPLORER_PARAMS
    assert set(ExplorationParams.display_order) == set(ExplorationParams.scientific_params())
    assert not hasattr(ExplorationParams, "run_learning")
    assert ExplorationModel.frame_interval == pytest.approx(0.25)  # the player's pace


def test_learning_reruns_once_live_params_rest():
    model = ExplorationModel()
    model.poll()  # a fresh model starts nothing by itself (pins, notebooks)
    assert not model.learning.running and model.learning.result is None
    model.learning_study.debounce_s = 0.0
    model.restart_beta = 0.3
    assert model.learning_study.stale and "stale" in model.learning.message
    time.sleep(0.01)
    model.poll()
    wait(model)
    assert model.learning.result is not None and not model.learning_study.stale
    model.poll()  # up to date: nothing starts
    assert not model.learning.running
    model.coverage_c = 0.3  # a restart param: the explorer and the curves are stale
    assert model.learning_study.stale


def test_learn_at_next_poll_skips_the_debounce():
    model = ExplorationModel()
    model.learn_at_next_poll()
    model.poll()
    wait(model)
    assert model.learning.result is not None


def test_frame_summary_and_coverage_series():
    model = ExplorationModel()
    s = model.frame_summary(0)
    assert (s["k"], s["n_iters"], s["n_poorly"], s["n_valid"]) == (0, 7, 22, 67)
    assert s["delta"] == pytest.approx(0.1 / 67)
    assert s["entropy"] == pytest.approx(model.coverage["entropy"][0])
    assert model.frame_summary()["k"] == model.k_view == 0
    series = model.coverage_series()
    assert len(series["k"]) == 8 and series["min_mass"].min() > 0
    np.testing.assert_array_equal(series["frac"], model.coverage["frac_poorly"])


def test_map_geometry_arrows_and_values():
    model = ExplorationModel()
    geometry = model.map_geometry()
    assert len(geometry["drawn"]) == 68 and geometry["grid_shape"] == (11, 11)
    assert len(geometry["walls"]["x"]) == 121 - 68
    assert (geometry["start"]["x"][0], geometry["start"]["y"][0]) == (1.0, 1.0)
    assert model.map_geometry() is geometry  # cached per MDP
    assert model.greedy_arrows(model.frame_arrays(0)["policy"])["text"] == []  # π₀ uniform
    arrows = model.greedy_arrows(model.frame_arrays(1)["policy"])
    assert len(arrows["text"]) > 20 and len(arrows["x"]) == len(arrows["text"])
    low, high = model.map_colour_range()
    assert 0 < low < high <= 1
    values = model.map_values(model.explorer["mixtures"][0], low)
    np.testing.assert_allclose(values, np.maximum(model.explorer["mixtures"][0], low))
    sea = ExplorationModel(preset="DeepSea")
    assert set(sea.greedy_arrows(sea.frame_arrays(1)["policy"])["text"]) <= {"↙", "↘"}


def test_learned_policy_maps_and_learning_series():
    model = ExplorationModel(n_pg_iters=100)
    assert model.learned_policy_maps() == {"rho": None, "mu": None}
    assert model.learning_series(steps_view=False) is None
    run_curves(model)
    maps = model.learned_policy_maps()
    assert maps["mu"]["value"].shape == (68,) and maps["mu"]["value"].min() > 0
    assert len(model.learning_series(steps_view=False)["rho"]["x"]) == 1  # t = 0 shown
    model.reveal_all()
    series = model.learning_series(steps_view=False)
    np.testing.assert_array_equal(series["rho"]["x"], np.arange(101))
    steps = model.learning_series(steps_view=True)
    nominal = model.batch * model.horizon
    np.testing.assert_array_equal(steps["rho"]["x"], np.arange(101) * nominal)
    assert steps["mu"]["x"][0] == model.explorer_cost()


def test_learning_settings_are_one_frozen_bundle():
    from app.models.exploration.studies import LearningSettings

    model = ExplorationModel()
    settings = model.learning_settings()
    assert isinstance(settings, LearningSettings)
    assert settings.n_seeds == 1 and settings.method == "exact"  # exact PG: one seed
    assert set(settings.restarts) == {"rho", "mu", "blend", "uniform"}
    assert settings.explorer_cost == model.explorer_cost()
