"""The Wasserstein-convergence view without a browser: panels follow the model's sweep."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.tabs.widenet.tab import WidenetTab
from tests.app.test_widenet_model import SMALL, finish


@pytest.fixture
def tab() -> WidenetTab:
    view = WidenetTab()
    view.model.param.update(**SMALL)
    assert view.model.result is None and len(view.w2._w2.data["x"]) == 0
    view.tick()  # a live session's first tick starts the sweep
    assert view.model.sweep.running or view.model.result is not None
    finish(view.model)
    view._refresh()
    return view


def test_panels_show_the_sweep(tab: WidenetTab):
    c = tab.model.curves()
    np.testing.assert_array_equal(tab.w2._w2.data["y"], np.maximum(c["w2"], 1e-6))
    assert len(tab.w2._lines["Gaussian baseline"].data["x"]) == 5
    assert "fitted slope" in tab.w2.readouts.object
    assert len(tab.law._qq.data["x"]) > 100 and len(tab.law._bars.data["top"]) == 80
    assert len(tab.lindeberg._stairs.data["x"]) == 3
    assert len(tab.cumulants._src["exact kurtosis (L=1)"].data["x"]) == 5  # L = 1: exact
    assert tab.covariance.card.collapsed  # one input: nothing to compare


def test_live_width_redraws_panel_a_without_a_new_sweep(tab: WidenetTab):
    before = np.array(tab.law._bars.data["top"])
    result = tab.model.result
    tab.model.width = 2
    assert tab.model.result is result
    assert '<span class="ns-chip-value">2</span>' in tab.law.readouts.object
    assert not np.array_equal(before, tab.law._bars.data["top"])


def test_two_inputs_open_the_covariance_panel(tab: WidenetTab):
    tab.model.n_inputs = 2
    finish(tab.model)
    tab._refresh()
    assert not tab.covariance.card.collapsed
    assert tab.covariance._img.data["image"][0].shape == (2, 2)
    assert len(tab.covariance._err.data["x"]) == 5


def test_close_cancels_jobs(tab: WidenetTab):
    tab.model.seed = 7
    tab.tick()
    tab.close()
    time.sleep(0.05)
    assert not tab.model.sweep.running


def test_panels_are_registered_tab_panels(tab: WidenetTab):
    from app.tabs.panel import TabPanel

    assert tab.panels == [
        tab.w2,
        tab.law,
        tab.lindeberg,
        tab.cumulants,
        tab.covariance,
        tab.sweep_panel,
    ]
    assert all(isinstance(p, TabPanel) for p in tab.panels)
    assert [p.every_frame for p in tab.panels] == [False, True, False, False, False, False]


def test_model_card_comes_from_the_card_file(tab: WidenetTab):
    from app.tabs.model_card import load_card

    sections = load_card("widenet")
    assert [kind for kind, _ in sections] == ["md", "tex", "md", "tex", "md", "tex", "md"]
    assert sections[-1][1].startswith("Ŵ is biased up by the noise floor")
