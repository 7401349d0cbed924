"""The Token synchronization model driven through its params, without a browser."""

from __future__ import annotations

import io
import json
import time
from urllib.parse import parse_qsl

import numpy as np
import pytest

from app.models.base import CUSTOM_PRESET
from app.models.tokens.model import TEACHING_DEFAULT, TokensModel
from app.url_state import apply_query, build_query


def _run_to_end(model: TokensModel) -> None:
    while model.step(500):
        pass


def test_fresh_model_is_the_teaching_default():
    model = TokensModel()
    assert model.preset == TEACHING_DEFAULT
    assert model.x.shape == (32, 3)
    np.testing.assert_allclose(np.linalg.norm(model.x, axis=1), 1.0, atol=1e-12)
    assert model.speed == 1  # the teaching pace: one layer per frame (issue 12)


def test_teaching_default_synchronizes_by_the_horizon():
    model = TokensModel()
    _run_to_end(model)
    # spec §5: with seed 1 every run is below diameter 0.1 by t = 10
    assert model.t == pytest.approx(model.t_max)
    assert model.history["diameter"][-1] < 0.1
    assert model.history["clusters"][-1] == 1
    assert "horizon" in model.status or model.n_steps_done == round(model.t_max / model.dt)


def test_independent_noise_preset_stays_spread():
    model = TokensModel(preset="Independent noise")
    _run_to_end(model)
    # no synchronization: |x̄| stays O(N^-1/2) ≈ 0.18 (spec §5); 0.5 is far from collapse (1.0)
    assert model.history["mean_norm"][-1] < 0.5
    assert model.history["diameter"][-1] > 1.0


def test_every_preset_applies_and_steps():
    for name in TokensModel.presets:
        model = TokensModel(preset=name)
        assert model.preset == name
        assert model.step(10)
        assert np.all(np.isfinite(model.x))


def test_live_change_keeps_the_run_and_restart_change_resets_it():
    model = TokensModel()
    model.step(200)
    model.sigma_noise = 1.0
    assert model.n_steps_done == 200 and model.preset == CUSTOM_PRESET
    model.n_tokens = 8
    assert model.n_steps_done == 0 and model.x.shape == (8, 3)


def test_same_seed_same_tokens_and_history_stride():
    a, b = TokensModel(seed=5), TokensModel(seed=5)
    a.step(300)
    for _ in range(3):
        b.step(100)
    np.testing.assert_array_equal(a.x, b.x)
    assert len(a.history["t"]) == len(b.history["t"]) == 1 + 300 // a.record_stride


def test_url_round_trip_reproduces_tokens():
    a = TokensModel()
    a.param.update(sigma_noise=1.3, activation="tanh", dim=4, seed=9, hidden_weights="fixed")
    link = build_query(a, "tokens")
    b = TokensModel()
    assert apply_query(b, dict(parse_qsl(link.lstrip("?")))) == []
    a.step(150)
    b.step(150)
    np.testing.assert_array_equal(a.x, b.x)


def test_bad_link_values_give_notices_and_a_working_model():
    model = TokensModel()
    notices = apply_query(model, {"dim": "5", "sigma_noise": "-3", "activation": "<script>"})
    assert len(notices) == 3
    assert model.sigma_noise == 0.0 and model.dim == 3 and model.activation == "relu"
    assert model.step(10)


def test_divergence_is_detected_and_pauses():
    model = TokensModel()
    model.playing = True
    model.x[0, 0] = np.nan  # what an overflowing euclidean run produces
    model.step(5)
    assert model.diverged and not model.playing
    assert "σ_n" in model.divergence_message


def test_equiangular_start_that_does_not_fit_falls_back_with_notice():
    model = TokensModel(init="equiangular")  # N = 32 needs d ≥ 33
    assert model.init_notice and model.x.shape == (32, 3)


def test_export_contains_history_and_parameters():
    model = TokensModel(seed=4)
    model.step(100)
    archive = np.load(io.BytesIO(model.export_npz()))
    meta = json.loads(str(archive["metadata"]))
    assert meta["seed"] == 4 and meta["activation"] == "relu" and meta["n_steps_done"] == 100
    assert archive["tokens"].shape == (len(model.history["t"]), 32, 3)
    assert archive["energy"].shape == (len(model.history["t"]),)
    assert "diameter" in model.export_csv().splitlines()[-len(model.history["t"]) - 1]


def test_theory_readouts_match_the_spec_table():
    model = TokensModel(sigma_noise=1.0)
    theory = model.theory()
    # spec §6.1: ReLU has E s² = E s'² = 1/2 and λ_dist = -1/2 in every dimension
    assert theory["kappa1"] == pytest.approx(0.5, abs=1e-4)
    assert theory["lambda_dist"] == pytest.approx(-0.5, abs=1e-3)
    assert theory["moment_threshold"] == pytest.approx(0.5, abs=1e-3)


def _wait(job, timeout=60.0):
    deadline = time.monotonic() + timeout
    while job.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not job.running, "background job did not finish"


def test_ensemble_runs_in_background_and_can_be_cancelled():
    model = TokensModel(n_real=8, t_max=2.0)
    model.run_ensemble()
    _wait(model.ensemble)
    result = model.ensemble.result
    assert result is not None and result["x"].shape[1:] == (8, 32, 3)
    assert result["t"][-1] == pytest.approx(2.0)
    energy = model.energy(result["x"])
    assert energy.shape == (len(result["t"]), 8)
    model.energy_kind = "distance"  # display only: the positions stay valid
    assert model.ensemble.result is not None and not model.ensemble_study.stale
    model.sigma_noise = 1.5  # parameters changed: the result is marked stale until a rerun
    assert model.ensemble_study.stale and "stale" in model.ensemble.message
    model.param.update(n_real=1024, t_max=40.0)
    stale = model.ensemble.result
    model.run_ensemble()
    time.sleep(0.05)
    model.ensemble.cancel()
    _wait(model.ensemble)
    assert model.ensemble.result is stale and model.ensemble.message == "Cancelled."


# ------------------------------------------------- numbers the panels show (computed here)
def test_diameter_fit_near_synchronization_matches_the_prediction():
    model = TokensModel()
    _run_to_end(model)
    fit = model.diameter_fit()
    assert fit.t.shape == fit.diameter.shape == (len(model.history["t"]),)
    assert fit.diameter.min() >= 1e-9  # floored where round-off starts
    assert fit.predicted == pytest.approx(model.theory()["lambda_dist"])
    assert np.isfinite(fit.slope) and fit.fit_t[0] == pytest.approx(fit.t_start)
    assert fit.fit_line.shape == fit.theory_line.shape == fit.fit_t.shape
    # the predicted line starts where the fitted one does
    assert fit.theory_line[0] == pytest.approx(fit.fit_line[0])
    # teaching default: the measured rate is close to λ_dist = -2 (σ_n = 2, ReLU)
    assert fit.slope == pytest.approx(fit.predicted, rel=0.3)


def test_diameter_fit_is_empty_before_synchronization():
    fit = TokensModel().diameter_fit()
    assert np.isnan(fit.slope) and fit.fit_t.size == fit.fit_line.size == 0


def test_similarity_depth_folds_antipodal_pairs():
    model = TokensModel(activation="tanh")
    model.step(300)
    t, frac, low = model.similarity_depth()
    assert low == -1.0 and frac.shape == (len(t), 40)
    np.testing.assert_allclose(frac.sum(axis=1), 1.0)
    _, folded, low2 = model.similarity_depth(absolute=True)
    assert low2 == 0.0 and folded.shape == (len(t), 20)
    np.testing.assert_allclose(folded.sum(axis=1), 1.0)
    np.testing.assert_allclose(folded[:, -1], frac[:, -1] + frac[:, 0])


def test_gram_is_the_tokens_overlaps():
    model = TokensModel(dim=8)
    np.testing.assert_allclose(model.gram(), model.x @ model.x.T, atol=1e-14)


def test_theory_curves_follow_the_parameters_and_are_reused():
    model = TokensModel(sigma_noise=1.0)
    curves = model.kernel_curves()
    assert curves["rho"].shape == curves["kappa"].shape == curves["b"].shape == (201,)
    # the two-point motion vanishes at synchronization
    assert curves["b"][-1] == pytest.approx(0.0, abs=1e-12)
    assert curves["a"][-1] == pytest.approx(0.0, abs=1e-12)
    assert model.kernel_curves() is curves  # same parameters: the same arrays
    plane = model.phase_plane()
    assert plane.lam.shape == (len(plane.alpha), len(plane.sigma2))
    # ReLU: λ_dist = -σ_n²/2 - α, zero on the line α = -σ_n²/2 (spec §6.2)
    np.testing.assert_allclose(plane.line, -plane.sigma2 / 2, atol=1e-6)
    model.activation = "tanh"
    assert model.kernel_curves() is not curves and model.phase_plane() is not plane


def test_sign_map_has_one_cell_per_activation_and_dimension():
    model = TokensModel()
    table = model.sign_map()
    assert table.shape == (len(model.sign_map_activations), len(model.sign_map_dims))
    relu = model.sign_map_activations.index("relu")
    np.testing.assert_allclose(table[relu], -0.5, atol=1e-3)  # spec §6.1 at σ_n = 1
    assert model.sign_map() is table
    model.sigma_noise = 3.0  # the map is drawn at σ_n = 1: unchanged
    assert model.sign_map() is table


def test_ensemble_summary_statistics_and_predicted_rates():
    model = TokensModel(n_real=8, t_max=2.0)
    assert model.ensemble_summary() is None
    model.run_ensemble()
    _wait(model.ensemble)
    summary = model.ensemble_summary()
    energy = model.energy(model.ensemble.result["x"])
    assert summary.n_real == 8 and summary.t.shape == (energy.shape[0],)
    np.testing.assert_allclose(summary.stats["mean"], np.maximum(energy, 0.0).mean(axis=1))
    assert np.all(summary.low <= summary.high)
    assert summary.median_rate == pytest.approx(2.0 * model.theory()["lambda_dist"])
    assert summary.half_t.shape == summary.mean_theory.shape == summary.median_theory.shape
    assert model.ensemble_summary() is summary  # reused until something changes
    model.energy_kind = "distance"
    assert model.energy_exponent() == pytest.approx(model.energy_q / 2)
    assert model.ensemble_summary() is not summary


def test_the_ensemble_job_summarizes_its_result_off_the_event_loop(monkeypatch):
    model = TokensModel(n_real=8, t_max=2.0)
    model.run_ensemble()
    _wait(model.ensemble)

    def on_the_loop(result):
        raise AssertionError("summarized when the result arrived, on the event loop")

    monkeypatch.setattr(model, "_summarize_ensemble", on_the_loop)
    summary = model.ensemble_summary()  # the job's worker made it
    assert summary is not None and summary.n_real == 8
    monkeypatch.undo()
    model.energy_kind = "distance"  # a live change after the job: summarized anew, here
    assert model.ensemble_summary() is not summary


def test_a_result_its_job_drops_leaves_the_shown_summary_in_place(monkeypatch):
    """Pause, move the seed, play: the ensemble started for the new seed finishes in its
    worker but its job drops it (the seed moved on); the summary of the result on show must
    not be evicted by it, or the next redraw recomputes it on the event loop."""
    model = TokensModel(n_real=8, t_max=2.0)
    model.run_ensemble()
    _wait(model.ensemble)
    shown = model.ensemble_summary()
    args = {**model.ensemble_args(), "seed": model.seed + 1}
    dropped = model._summarized_ensemble(lambda *_: None, 8, args)  # a worker's, never shown
    assert dropped is not model.ensemble.result

    def on_the_loop(result):
        raise AssertionError("the shown result was summarized again, on the event loop")

    monkeypatch.setattr(model, "_summarize_ensemble", on_the_loop)
    assert model.ensemble_summary() is shown


def test_ensemble_rerun_is_stale_from_the_start_and_polled():
    model = TokensModel(n_real=4, t_max=1.0)
    assert model.ensemble_study.stale  # a fresh model fills it on the first poll
    model.poll()
    assert not model.ensemble_study.stale
    _wait(model.ensemble)
    first = model.ensemble.result
    model.energy_q = 1.0  # display only: no rerun
    assert not model.ensemble_study.stale
    model.seed = 3
    assert model.ensemble_study.stale
    model.ensemble_study.debounce_s = 0.0
    model.poll()
    _wait(model.ensemble)
    assert model.ensemble.result is not first


def test_advanced_studies_run_in_the_model(monkeypatch):
    from app.models.tokens import studies

    real_strong, real_variance = (
        studies.tokens.strong_error_study,
        studies.tokens.statistic_variance_study,
    )
    small_strong = dict(levels=(2, 3), ref_level=5, n_paths=4, width=4, n_tokens=2)
    small_var = dict(n_tokens_list=(4, 8), n_noise=3, n_samples=3, t_max=0.1)
    monkeypatch.setattr(
        studies.tokens, "strong_error_study", lambda **kw: real_strong(**{**kw, **small_strong})
    )
    monkeypatch.setattr(
        studies.tokens,
        "statistic_variance_study",
        lambda **kw: real_variance(**{**kw, **small_var}),
    )
    model = TokensModel()
    assert model.strong_error_curves() is None and model.variance_curves() is None
    model.run_strong_error()
    model.run_variance()
    _wait(model.strong_error)
    _wait(model.variance)
    strong = model.strong_error_curves()
    assert strong.h.shape == strong.error.shape == strong.reference.shape == (2,)
    assert strong.reference[-1] == strong.error[-1]  # slope-1/2 line through the finest step
    np.testing.assert_allclose(
        strong.reference / strong.reference[-1], np.sqrt(strong.h / strong.h[-1])
    )
    variance = model.variance_curves()
    np.testing.assert_array_equal(variance.n, [4.0, 8.0])
    assert variance.reference[0] == variance.over_tokens[0]
    assert np.isfinite(variance.slope_tokens) and np.isfinite(variance.slope_noise)


def test_studies_draw_from_their_own_streams():
    from app.models.tokens import studies

    kwargs = dict(levels=(2,), ref_level=4, n_paths=2, width=2, n_tokens=2)
    a = studies.strong_error(progress=lambda f: True, seed=1, kwargs=kwargs)
    b = studies.strong_error(progress=lambda f: True, seed=1, kwargs=kwargs)
    np.testing.assert_array_equal(a.error, b.error)
    x, notice = studies.start_tokens("equiangular", 4, 3, np.random.default_rng(0), 0.5)
    assert x.shape == (4, 3) and "uniform" in notice


def test_readouts_fit_a_synthetic_exponential():
    from app.models.tokens import readouts

    t = np.linspace(0.0, 10.0, 201)
    diameter = 2.0 * np.exp(-1.5 * t)
    fit = readouts.diameter_fit(t, diameter, predicted=-1.5)
    assert fit.slope == pytest.approx(-1.5, abs=1e-9)
    np.testing.assert_allclose(fit.theory_line, fit.fit_line, rtol=1e-9)
    energy = np.exp(-t)[:, None] * np.array([1.0, 2.0, 4.0])[None, :]
    summary = readouts.ensemble_summary(t, energy, p=1.0, lambda_r=-1.0, mean_rate=-1.0)
    assert summary.slopes["median"] == pytest.approx(-1.0)
    np.testing.assert_allclose(summary.median_theory, summary.stats["median"][t >= 5.0])
    assert summary.merged == 0


def test_paths_merged_in_floating_point_count_as_zero_energy():
    from app.models.tokens import readouts

    t = np.linspace(0.0, 10.0, 201)
    energy = np.exp(-t)[:, None] * np.array([1.0, 2.0, 4.0, 8.0])[None, :]
    energy[t > 6.0, :2] = 0.0  # two of four paths: tokens equal in float64 after t = 6
    energy[t > 8.0, 2] = -1e-40  # round-off below zero is a zero too
    summary = readouts.ensemble_summary(t, energy, p=1.0, lambda_r=-1.0, mean_rate=-1.0)
    assert summary.merged == 3
    median, geometric = summary.stats["median"], summary.stats["geometric mean"]
    middle, late = (t > 6.0) & (t <= 8.0), t > 8.0
    np.testing.assert_allclose(median[middle], 2.0 * np.exp(-t[middle]))  # (0 + 4e^-t) / 2
    assert np.all(median[late] == 0.0)
    assert np.all(geometric[t > 6.0] == 0.0) and np.all(geometric[t <= 6.0] > 0.0)
    assert summary.stats["mean"][-1] == pytest.approx(8.0 * np.exp(-10.0) / 4)
    # a statistic that reaches 0 in the second half (t >= 5) has no slope; the mean, positive
    # throughout, has one (its steps down at t = 6 and 8 make it steeper than e^-t)
    assert np.isnan(summary.slopes["median"]) and np.isnan(summary.slopes["geometric mean"])
    assert summary.slopes["mean"] < -1.0
