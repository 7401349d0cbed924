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
    assert model.speed == 100


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
    assert model.ensemble.result is not None and model.ensemble_stale_since is None
    model.sigma_noise = 1.5  # parameters changed: the result is marked stale until a rerun
    assert model.ensemble_stale_since is not None and "stale" in model.ensemble.message
    model.param.update(n_real=1024, t_max=40.0)
    stale = model.ensemble.result
    model.run_ensemble()
    time.sleep(0.05)
    model.ensemble.cancel()
    _wait(model.ensemble)
    assert model.ensemble.result is stale and model.ensemble.message == "Cancelled."
