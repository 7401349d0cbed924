"""WidenetModel without a browser: sweep job, cache, live params, presets, export, bad input."""

from __future__ import annotations

import io
import json
import math
import time

import numpy as np
import pytest

from app.models.widenet.model import WidenetModel
from app.models.widenet.params import FIRST_LAYER_TRAP, LATTICE, TEACHING_DEFAULT

SMALL = dict(n_nets=2000, n_replicates=3, width_min=2, width_max=32, width=8)


def finish(model: WidenetModel, timeout: float = 60.0) -> None:
    """Start pending work like a session tick would, and wait for the jobs to end."""
    model.poll()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if model.sweep.running or model.lindeberg.running:
            time.sleep(0.02)
            continue
        if model.sweep_pending or model.lindeberg_pending:
            model.poll()
            continue
        break
    assert not model.sweep.error, model.sweep.error


@pytest.fixture
def model() -> WidenetModel:
    m = WidenetModel(**SMALL)
    assert m.result is None and m.sweep_pending and not m.sweep.running  # no work until a tick
    finish(m)
    return m


def test_sweep_fills_the_curves(model: WidenetModel):
    c = model.curves()
    assert list(c["widths"]) == [2, 4, 8, 16, 32]
    assert c["estimator"] == "quantile"  # centred_exp readout: no Rao–Blackwell
    assert np.all(np.diff(c["w2"]) < 0)  # distances shrink with the width
    assert -0.8 < c["slope"] < -0.2  # skewed weights: ≈ n^-1/2 (wide bracket: M = 2000)
    assert c["baseline"] is not None and c["baseline"][-1] < c["w2"][-1]
    assert model.lindeberg.result is not None  # cheap: started by itself after the sweep
    assert model.shown_samples().shape == (2000, 1)
    assert "Sampled 3 × 2,000 networks" in model.status


def test_live_params_reuse_the_cached_samples(model: WidenetModel):
    result = model.result
    base = model.curves()["w2"]
    model.estimator = "two_sample"
    two = model.curves()["w2"]
    model.floor_correction = True
    corrected = model.curves()["w2"]
    model.first_layer_kernel = "gaussian_formula"
    model.width = 30
    assert model.result is result and not model.sweep.running and not model.sweep_pending
    assert not np.array_equal(base, two) and np.all(corrected <= two)
    assert model.shown_width() == 32
    assert model.preset == "Custom"


def test_restart_params_hit_the_cache_on_return(model: WidenetModel):
    first = model.result
    model.activation = "tanh"
    assert model.result is None and model.sweep_pending
    finish(model)
    model.activation = "relu"
    assert model.result is first and not model.sweep_pending
    assert model.sweep.message == "Done (cached)."


def test_rao_blackwell_and_bounds_with_a_gaussian_readout():
    m = WidenetModel(weight_law="gaussian", **SMALL)
    finish(m)
    c = m.curves()
    assert c["estimator"] == "rao_blackwell" and c["lower"] is not None
    assert np.all(c["lower"] <= c["w2"]) and np.all(c["w2"] <= c["upper"])


def test_first_layer_trap_plateau():
    # spec §3a: tanh, Rademacher, Gaussian formula: W2 levels off at |√K_true − √K_gauss| ≈ 0.10
    m = WidenetModel(preset=FIRST_LAYER_TRAP, n_nets=4000, width_min=64, width_max=256)
    finish(m)
    c = m.curves()
    assert c["w2"][-1] == pytest.approx(0.100847, abs=0.015)  # floor at M = 4000 ≈ 0.01
    m.first_layer_kernel = "true_law"
    assert m.curves()["w2"][-1] < 0.03


def test_play_steps_through_widths_without_becoming_custom():
    m = WidenetModel()  # the teaching default: widths 2..256 from 2; no sampling needed
    assert m.preset == TEACHING_DEFAULT and m.shown_width() == 2
    seen = []
    for _ in range(9):
        assert m.step()
        seen.append(m.shown_width())
    assert seen == [4, 8, 16, 32, 64, 128, 256, 2, 4]  # doubling, cyclic through the sweep
    assert m.walked() == [2, *seen]
    assert m.preset == TEACHING_DEFAULT  # the animation is not a user edit
    m.reset()
    assert m.walked() == [4]  # a fresh run starts its walk at the width shown


def test_force_gaussian_first_layer_and_lindeberg_order(model: WidenetModel):
    lin = model.lindeberg.result
    assert lin["order"] == "readout_first" and lin["w2"].size == 3
    assert list(lin["layer1_swapped"]) == [False, False, True]
    model.first_layer_law = "force_gaussian"
    assert model.config.layer_laws == ("gaussian", "centred_exp")


def test_too_large_sweep_gets_a_message():
    m = WidenetModel(n_hidden=4, width_min=512, width_max=1024, n_nets=100_000)
    assert not m.sweep_pending and "Too large" in m.sweep.message
    m.poll()
    assert not m.sweep.running


def test_student_t_bounds_and_export(model: WidenetModel):
    with pytest.raises(ValueError):
        model.t_dof = 3.0  # param bounds [4.5, 30]: the URL layer clamps, the model refuses
    body = [line for line in model.export_csv().splitlines() if not line.startswith("#")]
    assert body[0].split(",")[:3] == ["width", "w2", "w2_err"] and len(body) == 1 + 5
    data = np.load(io.BytesIO(model.export_npz()))
    assert data["w2"].shape == (5,)
    assert json.loads(str(data["metadata"]))["weight_law"] == "centred_exp"
    assert math.isfinite(float(data["w2"][0]))


def test_lattice_preset_matches_the_exact_lattice_curve():
    # spec §6.10: Monte Carlo matches the exact cell-wise W2 within the floor; slope ≈ −1/2
    m = WidenetModel(preset=LATTICE)
    finish(m)
    c = m.curves()
    assert np.all(np.abs(c["w2"] - c["lattice"]) < c["floor"])
    assert -0.55 <= c["slope"] <= -0.45


# ----------------------------------------------------------------- what the panels are given


def test_output_law_of_the_width_shown(model: WidenetModel):
    law = model.output_law()
    y = model.shown_samples()[:, 0]
    assert law["width"] == model.shown_width() == 8
    assert law["counts"].size == 80 and law["edges"].size == 81
    # a density: the histogram integrates to one, the QQ points are sorted order statistics
    assert float(np.sum(law["counts"] * np.diff(law["edges"]))) == pytest.approx(1.0)
    assert np.all(np.diff(law["qq_y"]) >= 0) and law["qq_y"][0] == y.min()
    assert np.all(law["env_lo"] <= law["qq_x"]) and np.all(law["qq_x"] <= law["env_hi"])
    assert law["variance"] == pytest.approx(float(model.target()[0, 0]))
    assert law["sample_variance"] == pytest.approx(float(np.var(y)))
    assert law["skew"] > 0  # centred exponential weights: right skew at width 8
    assert law["skew_se"] == pytest.approx(math.sqrt(6 / 2000))
    assert WidenetModel(**SMALL).output_law() is None  # before the sweep


def test_output_law_curves_equal_scipy_stats(model: WidenetModel):
    """The density, QQ abscissae and envelope (computed with scipy.special to keep
    scipy.stats out of the server) equal scipy.stats' normal and beta laws."""
    from scipy.stats import beta, norm

    law = model.output_law()
    sd = math.sqrt(law["variance"])
    m_n = model.shown_samples().shape[0]
    i = np.unique(np.linspace(0, m_n - 1, law["qq_x"].size).round().astype(int)) + 1
    # both sides evaluate the same special functions: agreement to rounding (1e-12 relative)
    np.testing.assert_allclose(law["density_y"], norm.pdf(law["density_x"], scale=sd), rtol=1e-12)
    np.testing.assert_allclose(law["qq_x"], sd * norm.ppf((i - 0.5) / m_n), rtol=1e-12)
    for key, q in (("env_lo", 0.025), ("env_hi", 0.975)):
        want = sd * norm.ppf(beta.ppf(q, i, m_n - i + 1))
        np.testing.assert_allclose(law[key], want, rtol=1e-9, atol=1e-12)


def test_w2_plot_lines_and_pending_floor(model: WidenetModel):
    plot = model.w2_plot()
    c = plot["curves"]
    np.testing.assert_array_equal(plot["w2"], np.maximum(c["w2"], 1e-6))
    x, y = plot["lines"]["slope −1/2"]
    assert y[0] == plot["w2"][0] and y[-1] == pytest.approx(y[0] * (x[-1] / x[0]) ** -0.5)
    assert "fitted slope" in plot["lines"] and "Gaussian baseline" in plot["lines"]
    assert "Gelbrich lower (Gaussian readout)" not in plot["lines"]  # centred_exp readout
    assert np.all(plot["w2_lo"] <= plot["w2"]) and np.all(plot["w2"] <= plot["w2_hi"])
    fresh = WidenetModel(**SMALL).w2_plot()
    widths, lo, hi = fresh["floor"]
    assert fresh["curves"] is None and widths == [2, 4, 8, 16, 32] and lo[0] < hi[0]


def test_lindeberg_plot_summarises_the_exchange(model: WidenetModel):
    lin = model.lindeberg_plot()
    res = model.lindeberg.result
    assert list(lin["hybrid"]) == [0, 1, 2] and list(lin["increment_x"]) == [0.5, 1.5]
    assert lin["drop"] == pytest.approx(res["w2"][0] - res["w2"][-2])
    assert lin["sum_increments"] == pytest.approx(float(res["increments"][:-1].sum()))
    assert 0 < lin["floor"] < 1
    model.seed = 5  # a restart clears the exchange
    assert model.lindeberg_plot() is None


def test_covariance_plot_with_two_inputs():
    m = WidenetModel(n_inputs=2, **SMALL)
    assert m.covariance_plot() is None
    finish(m)
    cov = m.covariance_plot()
    k_mat = m.target()
    assert cov["k"] == 2 and cov["diff"].shape == (2, 2)
    np.testing.assert_allclose(cov["diff"], m.covariance() - k_mat)
    assert cov["rel_frobenius"].shape == (5,) and cov["gelbrich_by_width"].shape == (5,)
    # one hidden layer: the covariance is exact up to Monte Carlo noise at every width
    assert cov["frobenius"] < 0.1 and cov["gelbrich"] < 0.1 and cov["cond"] >= 1
    assert len(cov["points"][0]) == 2000 and len(cov["ellipses"]["w"]) == 2


def test_exact_cumulant_curves_for_one_hidden_layer(model: WidenetModel):
    c = model.curves()
    n = c["widths"].astype(float)
    np.testing.assert_allclose(c["exact_skew"], abs(c["exact"]["skew_sqrt_n"]) / np.sqrt(n))
    np.testing.assert_allclose(c["exact_kurt"], abs(c["exact"]["kurt_n"]) / n)


# ---------------------------------------------------------------- the sweep's rerun schedule


def test_sweep_is_a_rerunning_study_started_by_the_first_poll():
    m = WidenetModel(**SMALL)
    assert m.sweep_study in m._reruns and m.sweep_study.job is m.sweep
    assert m.sweep_pending and m.sweep.message == "Waiting to sample…"
    m.poll()  # the base's clock starts it (no debounce: restart widgets are throttled)
    assert m.sweep.running and not m.sweep_pending
    m.seed = 3  # a restart cancels it and waits for the next tick
    assert m.sweep_pending and not m.sweep.running
    finish(m)
    assert m.result is not None and m.result["config"].seed == 3


def test_play_pace_is_the_models_frame_interval():
    # one doubling of the width per 3 s (the stories pace: tests/app/test_stories.py)
    assert WidenetModel.frame_interval == 3.0 and WidenetModel.sweep_debounce_s == 0.0


def test_study_helpers():
    from app.models.widenet.studies import lindeberg_weights, powers_of_two, sweep_weights

    assert powers_of_two(2, 256) == (2, 4, 8, 16, 32, 64, 128, 256)
    assert powers_of_two(3, 100) == (4, 8, 16, 32, 64, 128)
    cfg = WidenetModel(**SMALL).config
    assert sweep_weights(cfg) == 4 * 32 * 2000 * (3 + 3)
    assert lindeberg_weights(cfg, 8) == 2000 * 32 * 3
