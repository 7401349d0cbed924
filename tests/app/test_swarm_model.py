"""The Swarm escapes model driven through its params, without a browser."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest

from app.models.base import CUSTOM_PRESET
from app.models.swarm import TEACHING_DEFAULT, SwarmModel
from app.models.swarm.outcomes import kramers_lines
from app.url_state import apply_query, build_query
from kernels.swarm.theory import barrier_constant, double_well_points


def wait_for(job, timeout: float = 60.0) -> None:
    start = time.monotonic()
    while job.running and time.monotonic() - start < timeout:
        time.sleep(0.02)
    assert not job.running, "the background job did not finish"
    assert not job.error, job.error


def test_fresh_model_is_the_teaching_default() -> None:
    model = SwarmModel()
    assert model.preset == TEACHING_DEFAULT
    # 15 steps per frame: the escape takes ~20 s of play (issue 12; tests/app/test_stories.py)
    assert model.seed == 0 and model.speed == 15
    assert model.swarm.x.shape == (10, 2)
    # spec §5 P1: the start is the shallow well at (0.945649, 0) with spread 0.05
    assert np.allclose(model.swarm.x.mean(axis=0), [0.945649, 0.0], atol=0.05)
    number, verdict = model.stability()
    assert number == pytest.approx(0.95, abs=0.01) and verdict == "stable"


def test_teaching_default_swarm_escapes_and_the_ghosts_stay() -> None:
    model = SwarmModel()
    while model.step():
        pass
    hits = model.hit_times()
    # spec §5 P1 with seed 0: the swarm reaches the deep well, the Langevin ghosts do not
    assert np.isfinite(hits["softmin"]) and hits["softmin"] < model.t_max
    assert np.isnan(hits["langevin"])
    assert model.history["best"][-1] < 0 < model.history["best_langevin"][-1]
    assert model.t == pytest.approx(model.t_max)


def test_ghosts_share_the_swarm_noise() -> None:
    # at β = 0 with κ = N the swarm is independent Langevin: it must track its ghosts exactly
    model = SwarmModel(beta0=0.0)
    model.step(500)
    np.testing.assert_allclose(model.swarm.x, model.ghosts["langevin"].x, atol=1e-10)


def test_same_seed_same_numbers_and_export() -> None:
    a, b = SwarmModel(seed=3), SwarmModel(seed=3)
    a.step(700)
    b.step(300)
    b.step(400)
    assert np.array_equal(a.swarm.x, b.swarm.x)
    data = np.load(io.BytesIO(a.export_npz()))
    assert json.loads(str(data["metadata"]))["seed"] == 3
    assert data["x"].shape == (10, 2)
    csv = a.export_csv()
    assert "best_langevin" in csv and "# beta0 = 20.0" in csv


def test_every_preset_applies_and_steps() -> None:
    for name in SwarmModel.presets:
        model = SwarmModel(preset=name)
        assert model.preset == name
        assert model.step()
        assert np.all(np.isfinite(model.swarm.x))
    p5 = SwarmModel(preset="Ackley, small noise")
    assert p5.speed == 30 and p5.show_cbo and p5.swarm.x.shape == (20, 2)
    assert np.all((p5.x0 >= 2.0) & (p5.x0 <= 4.0))  # corner start U[2, 4]²


def test_leaders_and_explorers_preset_splits_the_swarm() -> None:
    model = SwarmModel(preset="Leaders and explorers")
    model.step(2000)  # t = 10 at h = 0.005, σ = 0
    snap = model.snapshot()
    leaders = snap["f"] < 1e-6
    assert leaders.any()
    assert np.all(snap["f"][~leaders] > snap["level"])  # outside the dashed circle
    assert np.all(np.diff(model.history["J"]) <= 1e-12)  # J only decreases (§6.9)


def test_a_preset_sets_its_speed_and_a_custom_change_keeps_the_users() -> None:
    model = SwarmModel(preset="Ackley, small noise")
    assert model.speed == 30
    model.speed = 200
    model.beta0 = 20.0  # Custom now: the speed the user chose stays
    assert model.preset == CUSTOM_PRESET and model.speed == 200
    model.preset = "Weak coupling"  # a preset without its own speed takes the default
    assert model.speed == model.param.speed.default


def test_live_change_keeps_the_run_and_restart_change_resets_it() -> None:
    model = SwarmModel()
    model.step(500)
    model.beta0 = 40.0
    assert model.preset == CUSTOM_PRESET and model.n_steps_done == 500
    model.step(10)
    assert model.snapshot()["beta"] == 40.0
    model.n_particles = 12
    assert model.n_steps_done == 0 and model.swarm.x.shape == (12, 2)
    model.dim = 1
    assert model.swarm.x.shape == (12, 1)
    model.step(10)


def test_unstable_parameters_show_the_badge_and_divergence_pauses() -> None:
    model = SwarmModel(
        objective="styblinski_tang", boundary="none", dt=1e-2, n_particles=50, init="uniform"
    )
    number, verdict = model.stability()
    assert number > 1 and "UNSTABLE" in verdict
    model.playing = True
    for _ in range(200):
        if not model.step():
            break
    assert model.diverged and not model.playing
    assert "diverged" in model.divergence_message
    ackley = SwarmModel(objective="ackley")
    assert ackley.stability()[0] is None and "cusp" in ackley.stability()[1]


def test_url_round_trip_and_clamping() -> None:
    model = SwarmModel()
    notices = apply_query(model, {"beta0": "5000", "sigma0": "banana", "objective": "ackley"})
    assert model.beta0 == 1000.0 and model.objective == "ackley"
    assert any("beta0" in n for n in notices) and any("sigma0" in n for n in notices)
    query = build_query(model, "swarm")
    assert "objective=ackley" in query and "beta0=1000" in query


def test_study_runs_in_the_background_with_common_noise() -> None:
    model = SwarmModel(n_runs=10, t_max=5.0)
    model.run_study()
    wait_for(model.study)
    result = model.study.result
    assert set(result["methods"]) == {"softmin", "langevin", "cbo", "pso"}
    assert len(result["methods"]["softmin"].hit_time) == 10
    assert result["annealing"].budget == 10 * round(5.0 / 2e-3)
    # a second session's study gives the same numbers (determinism, no hidden state)
    again = SwarmModel(n_runs=10, t_max=5.0)
    again.run_study()
    wait_for(again.study)
    np.testing.assert_array_equal(
        again.study.result["methods"]["softmin"].best, result["methods"]["softmin"].best
    )


def test_study_can_be_cancelled() -> None:
    model = SwarmModel(n_runs=2000, t_max=500.0)
    model.run_study()
    time.sleep(0.2)
    model.study.cancel()
    time.sleep(0.3)
    assert not model.study.running and model.study.message == "Cancelled."
    assert model.study.result is None


def test_sweep_and_kramers_jobs() -> None:
    model = SwarmModel(n_runs=40, t_max=3.0)
    model.run_sweep()
    wait_for(model.sweep, 120)
    res = model.sweep.result
    assert len(res["beta"]["values"]) == len(res["beta"]["softmin"]) >= 5
    assert np.all((res["sigma"]["langevin"] >= 0) & (res["sigma"]["langevin"] <= 1))
    model.run_kramers()
    wait_for(model.kramers, 120)
    k = model.kramers.result
    assert np.all(np.diff(k["inv_sigma2"]) < 0)  # sigmas increase
    assert np.all(k["mean_langevin"] > 0)


# ------------------------------------------------ what the views show, computed by the model
def test_landscape_is_cached_per_scene_and_gives_the_level_set() -> None:
    model = SwarmModel()
    scene = model.landscape()
    assert scene is model.landscape()  # the same object while nothing changes
    assert scene.grid.shape == (200, 200) and scene.curve_x is None
    lo, hi = model.box
    snap = model.snapshot()
    xs, ys = scene.level_lines(snap["level"])
    assert xs and all(len(x) == len(y) for x, y in zip(xs, ys, strict=True))
    # every point of the dashed line lies on {f = J + 1/β} up to the grid's resolution
    pts = np.column_stack([np.concatenate(xs), np.concatenate(ys)])
    assert np.all((pts >= lo - 1e-9) & (pts <= hi + 1e-9))
    np.testing.assert_allclose(model.values(pts), snap["level"], atol=0.05)
    assert scene.level_lines(float("inf")) == ([], [])
    model.tilt = 0.2
    assert model.landscape() is not scene  # a new scene when the tilt moves
    model.dim = 1
    curve = model.landscape()
    assert curve.grid is None and len(curve.curve_x) == 600
    np.testing.assert_allclose(curve.curve_f, model.values(curve.curve_x[:, None]))
    (line_x,), (line_y,) = curve.level_lines(1.5)
    assert list(line_x) == [lo, hi] and list(line_y) == [1.5, 1.5]


def test_effective_tilt_kappa_and_best_value() -> None:
    model = SwarmModel()
    assert model.effective_tilt == model.tilt == 0.1 and model.kappa == 10.0
    assert model.best_value == pytest.approx(float(np.min(model.snapshot()["f"])))
    model.step(100)
    assert model.best_value == model.swarm.best == model.history["best"][-1]
    model.kappa_mode = "1"
    assert model.kappa == 1.0
    model.objective = "ackley"
    assert model.effective_tilt == 0.0


def test_explorer_potential_has_the_smaller_bump() -> None:
    model = SwarmModel()
    cut = model.explorer_potential()
    assert cut["y"].shape == cut["f"].shape == cut["U"].shape == (400,)
    # U only flattens f above the leader's value m: it never exceeds f there
    above = cut["f"] > cut["leader"]
    assert np.all(cut["U"][above] <= cut["f"][above] + 1e-12)
    assert cut["barrier"] == double_well_points(0.1).barrier_shallow  # ΔV of the shallow well
    assert 0 < cut["bump"] < cut["barrier"]
    model.beta0 = 0.0
    assert model.explorer_potential()["bump"] is None
    model.objective = "quadratic"
    assert model.explorer_potential()["barrier"] is None


def test_study_outcomes_come_from_the_model() -> None:
    model = SwarmModel(n_runs=10, t_max=5.0)
    assert model.study_distributions() is None and model.study_summary() is None
    assert model.sweep_curves() is None and model.kramers_plot() is None
    model.run_study()
    wait_for(model.study)
    dist = model.study_distributions()
    assert dist["label"] == "hitting time t" and dist["edges"][-1] == 5.0
    for m, s in model.study.result["methods"].items():
        assert dist["counts"][m].sum() == np.isfinite(s.hit_time).sum()
        xs, ys = dist["ecdf"][m]
        assert xs[0] == 0.0 and len(xs) == len(ys)
        assert np.all(np.diff(ys) >= 0) and ys[-1] == pytest.approx(s.success_rate)
    by_evals = model.study_distributions(by_evaluations=True)
    assert by_evals["label"].startswith("evaluations")
    summary = model.study_summary()
    assert (summary["n_runs"], summary["t_max"], summary["dim"]) == (10, 5.0, 2)
    names = [row["name"] for row in summary["rows"]]
    assert names[:4] == ["softmin", "langevin", "cbo", "pso"]
    assert names[4].startswith("dual annealing") and summary["rows"][4]["se"] is None


def test_kramers_plot_lines_have_the_theory_slopes() -> None:
    x = np.array([4.0, 8.0, 16.0])
    result = {
        "inv_sigma2": x,
        "mean_langevin": np.exp(np.array([1.0, 2.0, 4.0])),
        "mean_softmin": np.exp(np.array([1.0, 1.5, 2.0])),
        "args": {"tilt": 0.1, "n_particles": 10, "kappa_mode": "N", "beta0": 20.0},
    }
    plot = kramers_lines(result)
    np.testing.assert_allclose(plot["log_mean_langevin"], [1.0, 2.0, 4.0])
    slopes = np.diff(plot["kramers"]) / np.diff(x)
    dv = double_well_points(0.1).barrier_shallow
    np.testing.assert_allclose(slopes, 2 * dv)
    heuristic = 2 * min(dv, 10 * (barrier_constant(10) - 1) / 20.0)
    np.testing.assert_allclose(np.diff(plot["heuristic"]) / np.diff(x), heuristic)
    assert plot["kramers"][0] == 1.0 and plot["heuristic"][0] == 1.0  # anchored at max σ


def test_view_cadences_are_documented_model_classvars() -> None:
    from app.tabs.panel import READOUT_INTERVAL_S

    assert 0 < SwarmModel.level_set_interval < READOUT_INTERVAL_S
    assert SwarmModel.frame_interval == 0.0  # the hero animates at the tick rate
