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
    # B (the hero) rings the width shown, A draws it: both follow Play's every frame
    assert [p.every_frame for p in tab.panels] == [True, True, False, False, False, False]


def test_play_moves_the_ring_on_the_hero(tab: WidenetTab):
    shown = tab.w2._shown.data
    assert list(shown["x"]) == [8] and shown["label"] == ["n = 8"]
    assert '<span class="ns-chip-value">8</span>' in tab.w2.readouts.object
    tab.model.step()
    tab._refresh()
    shown = tab.w2._shown.data
    i = list(tab.model.curves()["widths"]).index(16)
    assert list(shown["x"]) == [16] and shown["y"] == [tab.model.curves()["w2"][i]]
    assert "Ŵ ÷ Gaussian" in tab.w2.readouts.object  # the gap the story names


def test_legend_lists_only_what_is_drawn(tab: WidenetTab):
    # a line's legend entry is a column of its data, one field per line: no rows, no entry
    from bokeh.core.property.vectorization import Field
    from bokeh.models import LegendItem

    labels = [item.label for item in tab.w2.figure.select({"type": LegendItem})]
    fields = {label.field for label in labels if isinstance(label, Field)}
    assert fields == set(tab.w2._fields.values()) and len(fields) == 8

    def names(line: str) -> list[str]:
        return list(tab.w2._lines[line].data[tab.w2._fields[line]])

    assert set(names("Gaussian baseline")) == {"Gaussian baseline"}
    assert len(names("slope −1/2")) == len(tab.w2._lines["slope −1/2"].data["x"]) > 0
    # no Gaussian readout, no lattice: the bounds and the exact lattice curve are not drawn
    for line in ("coupling upper bound", "Gelbrich lower bound", "exact W₂ (lattice)"):
        assert names(line) == []
    tab.model.weight_law = "gaussian"
    finish(tab.model)
    tab._refresh()
    assert set(names("coupling upper bound")) == {"coupling upper bound"}
    assert len(names("Gelbrich lower bound")) == 5


def test_model_card_comes_from_the_card_file(tab: WidenetTab):
    from app.tabs.model_card import load_card

    sections = load_card("widenet")
    assert [kind for kind, _ in sections] == ["md", "tex", "md", "tex", "md", "tex", "md"]
    assert sections[-1][1].startswith("Ŵ is biased up by the noise floor")
