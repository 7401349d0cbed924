"""The Adaptive SGD view without a browser: panels follow the model."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.tabs.adaptive.hero import TRAIL_FRAMES
from app.tabs.adaptive.tab import AdaptiveTab
from kernels.adaptive import studies as studies
from tests.app.adaptive_live import settled


@pytest.fixture
def tab() -> AdaptiveTab:
    view = settled(AdaptiveTab())
    yield view
    view.close()


def test_hero_draws_a_readable_default_and_follows_the_cursor(tab: AdaptiveTab):
    hero = tab.hero
    assert len(hero._contours.data["xs"]) > 3  # loss contours of the quadratic
    tab.model.time_index = 20
    for key, name in (("chain", "chain"), ("sde", "sde1")):
        assert len(hero._paths[key].data["xs"]) == 3  # three sample paths each, not 32
        assert len(hero._paths[key].data["xs"][0]) == 21  # up to the cursor (TRAIL_FRAMES)
        assert len(hero._now[key].data["x"]) == 3  # their markers, not 128
        assert len(hero._mean[key].data["x"]) == 21
        # the cloud is one 2σ ellipse at the cursor, centred on its mean
        cloud = tab.model.run[name]["theta"][20]
        assert np.mean(hero._cloud[key].data["x"][:-1]) == pytest.approx(cloud[:, 0].mean())
    assert len(hero._ode.data["x"]) == 21  # the noise-free path
    assert "η" in hero.readout.object and "0.125" in hero.readout.object


def test_hero_legend_lists_only_what_is_drawn(tab: AdaptiveTab):
    items = tab.hero._items
    assert [item.label.value for item in items.values()] == [
        "chain (discrete)",
        "SDE1, same noise",
        "ODE (no noise)",
    ]
    assert items["ode"].visible
    tab.model.sde_order = "ode"  # the ODE is then the red equation: no second green entry
    settled(tab).hero.update()
    assert items["sde"].label.value == "ODE, same noise" and not items["ode"].visible
    assert tab.hero._ode.data["x"] == []
    tab.model.preset = "Teaching default: RMSprop and its SDE"


def test_scrubbing_the_time_slider_redraws(tab: AdaptiveTab):
    tab.model.time_index = 100
    # the sample paths' recent trail, the mean path's whole history
    assert len(tab.hero._paths["chain"].data["xs"][0]) == TRAIL_FRAMES + 1
    assert len(tab.hero._mean["chain"].data["x"]) == 101
    np.testing.assert_allclose(
        tab.hero._now["chain"].data["x"], tab.model.run["chain"]["theta"][100, :3, 0]
    )


def test_moments_panel_unfolds_up_to_the_cursor(tab: AdaptiveTab):
    tab.model.time_index = 50
    tab.moments.update()
    n = len(tab.model.run["t"])
    for key in ("chain", "ode", "sde1", "sme2"):
        assert len(tab.moments._lines[key].data["y"]) == 51  # solid up to the cursor
        assert len(tab.moments._future[key].data["y"]) == n - 50  # faint afterwards
    assert len(tab.moments._u.data["xs"]) == 2  # batch-equivalent RMSprop: u(t) per coordinate
    assert tab.moments._vpane.visible
    tab.model.preset = "SGD and its SME"
    settled(tab).moments.update()
    assert not tab.moments._vpane.visible  # SGD has no second moment: no empty plot
    assert len(tab.moments._theory.data["x"]) == 1  # the exact moments, from t = 0
    tab.model.preset = "Teaching default: RMSprop and its SDE"


def test_double_well_hero_is_a_density_over_time_with_the_wells(tab: AdaptiveTab):
    tab.model.preset = "Double well (authors)"
    settled(tab).model.time_index = 10
    hero = tab.hero
    assert hero.figure.xaxis.axis_label == "time t"
    assert hero._contours.data["xs"] == []
    image = hero._density.data["image"][0]
    assert image.shape[1] == len(tab.model.run["t"])
    assert np.all(np.isfinite(image[:, :11])) and np.all(np.isnan(image[:, 11:]))
    assert all(span.visible for span in hero._wells)
    assert len(hero._paths["chain"].data["xs"]) == 8
    assert "left well, chain" in hero.readout.object
    tab.model.preset = "Teaching default: RMSprop and its SDE"
    settled(tab)
    assert not any(span.visible for span in hero._wells)


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


def test_scaling_panel_redraws_on_a_new_result_or_cursor_only(tab: AdaptiveTab):
    tab.scaling.update()
    assert list(tab.scaling._curves.data["xs"]) == []  # no result yet
    tab.scaling._curves.data = {"xs": ["marker"], "ys": [[]], "color": ["red"], "label": ["x"]}
    tab.scaling.update()  # same (empty) result, same cursor: nothing redrawn
    assert tab.scaling._curves.data["xs"] == ["marker"]
    tab.model.scaling_job.result = studies.scaling_study(
        "rmsprop", tau=2**-6, n_paths=8, t_max=0.5, kappas=(1,)
    )
    tab.scaling.update()
    assert len(tab.scaling._curves.data["xs"]) == 1
    played = len(tab.scaling._curves.data["xs"][0])
    tab.model.time_index = 10  # the cursor moves on: more of each curve is solid
    tab.scaling.update()
    assert len(tab.scaling._curves.data["xs"][0]) > played


def test_model_card_comes_from_the_card_file(tab: AdaptiveTab):
    from app.tabs.model_card import load_card

    sections = load_card("adaptive")
    assert [kind for kind, _ in sections].count("tex") == 4
    assert sections[0] == (
        "md",
        "**Discrete optimizers** [paper], with gₖ = ∇f(θₖ) + zₖ, Cov z = Σ(θ):",
    )
    assert all(text.startswith("$") and text.endswith("$") for k, text in sections if k == "tex")
