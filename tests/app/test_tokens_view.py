"""The Token synchronization view without a browser: panels follow the model."""

from __future__ import annotations

import time

import numpy as np
import panel as pn
import pytest

from app.tabs.tokens.tab import TokensTab


@pytest.fixture
def tab() -> TokensTab:
    view = TokensTab()
    assert view.model.ensemble.result is None and not view.model.ensemble.running
    view.tick()  # the first tick of a live session starts the ensemble
    deadline = time.monotonic() + 60
    while view.model.ensemble.running and time.monotonic() < deadline:
        time.sleep(0.02)
    return view


def test_hero_sources_follow_the_tokens(tab: TokensTab):
    tab.model.step(200)
    data = tab.hero._points.data
    assert len(data["x"]) == tab.model.n_tokens
    assert "layer k" in tab.hero.readouts.object and ">200<" in tab.hero.readouts.object
    # orthographic projection of unit vectors stays inside the unit disk
    assert np.all(np.hypot(data["x"], data["y"]) <= 1 + 1e-12)


def test_depth_and_diameter_panels_grow_with_the_run(tab: TokensTab):
    tab.model.step(500)
    n_records = len(tab.model.history["t"])
    assert tab.depth._source.data["image"][0].shape[1] == n_records
    assert len(tab.diameter._measured.data["t"]) == n_records


def test_theory_panels_follow_live_parameters(tab: TokensTab):
    before = tab.kernel.readouts.object
    tab.model.activation = "tanh"
    assert tab.kernel.readouts.object != before
    assert "0.3943" in tab.kernel.readouts.object  # E tanh(Z)² (spec §6.1)
    assert tab.phase._current.data["activation"] == ["tanh"]


def test_stale_ensemble_reruns_after_the_parameters_rest(tab: TokensTab, monkeypatch):
    assert tab.model.ensemble.result is not None  # filled after the first tick
    stale = tab.model.ensemble.result
    tab.model.sigma_noise = 1.0
    tab.tick()
    assert not tab.model.ensemble.running  # still within the debounce
    monkeypatch.setattr(tab.model.ensemble_study, "debounce_s", 0.0)
    tab.tick()
    deadline = time.monotonic() + 60
    while tab.model.ensemble.result is stale and time.monotonic() < deadline:
        time.sleep(0.02)
    assert tab.model.ensemble.result is not stale
    assert len(tab.ensemble._lines["median"].data["t"]) == len(tab.model.ensemble.result["t"])


def _control_labels(view: TokensTab) -> set[str]:
    """The labels of the sidebar's widgets, every card opened (their contents are built when
    first opened)."""
    for card in view._controls.select(pn.Card):
        card.collapsed = False
    return {w.label for w in view._controls.select(lambda obj: hasattr(obj, "label"))}


def test_lesson_mode_has_no_advanced_controls():
    full, lesson = TokensTab(), TokensTab(lesson=True)
    assert "σ_b bias scale" in _control_labels(full)
    assert "σ_b bias scale" not in _control_labels(lesson)


def test_the_advanced_controls_are_built_when_their_card_is_first_opened():
    view = TokensTab()
    (advanced,) = [card for card in view._controls.select(pn.Card) if card.title == "Advanced"]
    assert not advanced.objects  # a tab's first visit does not build what it does not show
    advanced.collapsed = False
    (bias,) = [w for w in advanced.select(pn.widgets.Widget) if w.label == "σ_b bias scale"]
    advanced.collapsed = True
    advanced.collapsed = False
    assert [w for w in advanced.select(pn.widgets.Widget) if w.label == "σ_b bias scale"] == [bias]
    bias.value = 0.25  # linked both ways to the model
    assert view.model.sigma_b == 0.25


def test_closing_the_session_stops_play_and_cancels_jobs():
    view = TokensTab()
    view.model.param.update(n_real=1024, t_max=40.0)
    view.model.playing = True
    view.model.run_ensemble()
    view.close()
    assert not view.model.playing
    assert not view.model.ensemble.running and view.model.ensemble.message == "Cancelled."


def test_controls_follow_the_models_display_order():
    view = TokensTab()
    labels = [
        w.label
        for w in view._controls.select(lambda obj: hasattr(obj, "label"))
        if w.label in {"σ_n noise strength", "s activation", "N tokens", "d dimension"}
    ]
    assert labels == ["σ_n noise strength", "s activation", "d dimension", "N tokens"]


def test_every_control_is_explained_in_the_glossary():
    view = TokensTab()
    glossary = view._glossary()
    for name in view.model.scientific_params():
        p = view.model.param[name]
        assert p.doc and f"**{p.label}**: {p.doc}" in glossary
    assert "restarts the run" in glossary and "applies live" in glossary


def test_every_panel_is_a_registered_tab_panel(tab: TokensTab):
    from app.tabs.panel import TabPanel

    assert all(isinstance(p, TabPanel) for p in tab.panels)
    assert [p for p in tab.panels if p.every_frame] == [tab.hero]
    assert {tab.depth, tab.diameter, tab.ensemble, tab.kernel, tab.phase, tab.advanced} <= set(
        tab.panels
    )


def test_model_card_comes_from_the_card_file(tab: TokensTab):
    from app.tabs.model_card import load_card

    sections = load_card("tokens")
    assert [kind for kind, _ in sections].count("tex") == 3
    texts = [getattr(obj, "object", "") for obj in tab.__panel__().select(lambda o: True)]
    assert any(isinstance(t, str) and "Synchronization rate" in t for t in texts)


def test_advanced_panel_draws_the_models_study_results(tab: TokensTab):
    from kernels.tokens import StrongErrorStudy, VarianceStudy

    h = np.array([0.1, 0.05, 0.025])
    tab.model.strong_error.result = StrongErrorStudy(h, np.sqrt(h), 0.01 * h, 0.5, 1e-4)
    n = np.array([8, 16, 32])
    tab.model.variance.result = VarianceStudy(
        n, 0.4 / np.sqrt(n), np.full(3, 0.3), -0.5, 0.0, "mean_first_coordinate"
    )
    np.testing.assert_allclose(tab.advanced._strong.data["error"], np.sqrt(h))
    np.testing.assert_allclose(tab.advanced._strong_ref.data["error"], np.sqrt(h))
    assert "0.50" in tab.advanced.strong_readout.object
    np.testing.assert_allclose(tab.advanced._var_ref.data["var"], 0.4 / np.sqrt(n))
    assert "−0.50 and 0" in tab.advanced.variance_readout.object


def test_view_angles_redraw_the_hero(tab: TokensTab):
    before = np.array(tab.hero._points.data["x"])
    tab.hero.look.view_azimuth = -120.0
    assert not np.allclose(tab.hero._points.data["x"], before)
