"""The Adaptive SGD view without a browser: panels follow the model."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.tabs.adaptive.tab import AdaptiveTab
from kernels.adaptive import studies as studies


@pytest.fixture
def tab() -> AdaptiveTab:
    view = AdaptiveTab()
    yield view
    view.close()


def test_hero_draws_both_clouds_and_follows_the_cursor(tab: AdaptiveTab):
    hero = tab.hero
    assert len(hero._contours.data["xs"]) > 3  # loss contours of the quadratic
    tab.model.step(20)
    for key in ("chain", "sde"):
        assert len(hero._paths[key].data["xs"]) == 32  # 32 shown paths each
        assert len(hero._paths[key].data["xs"][0]) == 21  # up to the cursor
        assert len(hero._now[key].data["x"]) == 128
    # ellipses at the marks passed plus the cursor
    assert len(hero._ellipses["chain"].data["xs"]) >= 1
    assert "η" in hero.readout.object and "0.125" in hero.readout.object


def test_scrubbing_the_time_slider_redraws(tab: AdaptiveTab):
    tab.model.time_index = 100
    assert len(tab.hero._paths["chain"].data["xs"][0]) == 101
    np.testing.assert_allclose(
        tab.hero._now["chain"].data["x"], tab.model.run["chain"]["theta"][100, :, 0]
    )


def test_moments_panel_has_all_models_and_the_u_closed_form(tab: AdaptiveTab):
    tab.moments.update()
    for key in ("chain", "ode", "sde1", "sme2"):
        assert len(tab.moments._lines[key].data["y"]) == len(tab.model.run["t"])
    assert len(tab.moments._u.data["xs"]) == 2  # batch-equivalent RMSprop: u(t) per coordinate


def test_double_well_hero_is_paths_over_time(tab: AdaptiveTab):
    tab.model.preset = "Double well (authors)"
    tab.model.step(10)
    assert tab.hero.figure.xaxis.axis_label == "time t"
    assert tab.hero._contours.data["xs"] == []


def test_scaling_and_weak_panels_draw_results(tab: AdaptiveTab):
    tab.model.scaling_job.result = studies.scaling_study(
        "rmsprop", tau=2**-6, n_paths=16, t_max=1.0, kappas=(1, 2)
    )
    tab.scaling.update()
    assert len(tab.scaling._curves.data["xs"]) == 2
    weak = studies.weak_error_study(
        "rmsprop",
        taus=(2**-2, 2**-3),
        n_paths=64,
        h=2**-5,
        orders=("ode", "sme2"),
        c2=1.0,
        noise_std=1.0,
        A=np.eye(2),
    )
    tab.model.weak_job.result = weak
    tab.weak.update()
    assert len(tab.weak._lines["sme2"].data["x"]) == 2
    assert "slope" in tab.weak.summary.object


def test_first_tick_starts_the_scaling_study(tab: AdaptiveTab):
    tab.tick()
    deadline = time.monotonic() + 60
    while tab.model.scaling_job.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert tab.model.scaling_job.result is not None


def test_panels_share_the_tab_panel_interface(tab: AdaptiveTab):
    from app.tabs.panel import TabPanel

    assert all(isinstance(p, TabPanel) for p in tab.panels) and len(tab.panels) == 6  # + sweep
    assert [p for p in tab.panels if p.every_frame] == [tab.hero]


def test_study_panels_redraw_only_on_a_new_result(tab: AdaptiveTab):
    tab.scaling.update()
    assert list(tab.scaling._curves.data["xs"]) == []  # no result yet
    tab.scaling._curves.data = {"xs": ["marker"], "ys": [[]], "color": ["red"], "label": ["x"]}
    tab.scaling.update()  # same (empty) result: nothing redrawn
    assert tab.scaling._curves.data["xs"] == ["marker"]
    tab.model.scaling_job.result = studies.scaling_study(
        "rmsprop", tau=2**-6, n_paths=8, t_max=0.5, kappas=(1,)
    )
    tab.scaling.update()
    assert len(tab.scaling._curves.data["xs"]) == 1


def test_model_card_comes_from_the_card_file(tab: AdaptiveTab):
    from app.tabs.model_card import load_card

    sections = load_card("adaptive")
    assert [kind for kind, _ in sections].count("tex") == 4
    assert sections[0] == (
        "md",
        "**Discrete optimizers** [paper], with g_k = ∇f(θ_k) + z_k, Cov z = Σ(θ):",
    )
    assert all(text.startswith("$") and text.endswith("$") for k, text in sections if k == "tex")
