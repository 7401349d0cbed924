"""The shared SimulationModel: seeding, presets, restart vs live, divergence, export."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from app.models.base import CUSTOM_PRESET
from tests.app.toy_model import ToyModel


def test_fresh_model_loads_default_preset_and_is_ready():
    model = ToyModel()
    assert model.preset == "Calm"
    assert model.noise == 0.1
    assert model.t == 0.0 and model.n_steps_done == 0
    assert "Ready" in model.status


def test_same_seed_same_numbers_across_instances():
    a, b = ToyModel(seed=7), ToyModel(seed=7)
    a.step(25)
    b.step(10)
    b.step(15)
    np.testing.assert_array_equal(a.x, b.x)
    c = ToyModel(seed=8)
    c.step(25)
    assert not np.array_equal(a.x, c.x)


def test_restart_param_resets_but_live_param_does_not():
    model = ToyModel()
    model.step(5)
    model.growth = 0.7  # live
    assert model.n_steps_done == 5
    assert "next step" in model.status
    model.kind = "b"  # restart
    assert model.n_steps_done == 0 and model.t == 0.0


def test_moving_a_param_makes_preset_custom_and_presets_restore_defaults():
    model = ToyModel()
    model.preset = "Big"
    assert (model.n, model.growth, model.noise) == (10, 0.9, 1.0)  # noise back to default
    model.noise = 2.0
    assert model.preset == CUSTOM_PRESET
    model.preset = "Calm"
    assert (model.n, model.growth, model.noise) == (4, 0.5, 0.1)
    with pytest.raises(ValueError, match="preset must be one of"):
        model.apply_preset("nope")


def test_step_uses_speed_and_time_advances():
    model = ToyModel(speed=3)
    model.step()
    assert model.n_steps_done == 3
    assert model.t == pytest.approx(0.3)


def test_divergence_pauses_and_explains():
    model = ToyModel(growth=1e6)
    model.playing = True
    for _ in range(200):
        if not model.step(10):
            break
    assert model.diverged
    assert not model.playing
    assert "diverged" in model.divergence_message and "reset" in model.divergence_message
    steps = model.n_steps_done
    assert model.step() is False and model.n_steps_done == steps  # frozen, no exception
    model.growth = 0.5
    model.reset()
    assert not model.diverged and model.divergence_message == ""


def test_new_seed_changes_seed_and_restarts():
    model = ToyModel()
    model.step(4)
    old = model.seed
    model.new_seed()
    assert model.seed != old
    assert model.n_steps_done == 0


def test_export_npz_carries_parameters_and_arrays():
    model = ToyModel(seed=3)
    model.step(6)
    archive = np.load(io.BytesIO(model.export_npz()))
    meta = json.loads(str(archive["metadata"]))
    assert meta["seed"] == 3 and meta["noise"] == model.noise and meta["n_steps_done"] == 6
    np.testing.assert_array_equal(archive["x"], model.x)
    assert archive["mean_abs"].shape == (7,)


def test_export_csv_has_header_and_one_row_per_record():
    model = ToyModel(seed=3)
    model.step(6)
    text = model.export_csv()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any(line.startswith("# seed = 3") for line in header)
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body[0] == "mean_abs" and len(body) == 1 + 7
    assert float(body[-1]) == pytest.approx(model.trace[-1])


def test_frame_counter_moves_on_every_visible_change():
    model = ToyModel()
    frame = model.frame
    model.step(1)
    assert model.frame == frame + 1
    model.reset()
    assert model.frame == frame + 2
