"""Every Exploration maps preset tells its story (issue 12): a caption in plain words, the panel
that shows it, and a pace: its indicator turns True inside the window of frames.

Frames are ``model.step()`` calls at the preset's own speed (1 step per frame for all six);
nothing here reads a clock. Play runs the explorer's act first (its length is the preset's
pace, ``EXPLORER_ACT_STEPS``), then reveals the learning curves, which a live session computes
in the background as soon as the tab opens (``learn_at_next_poll``, well under a second): here
they are computed before the first frame.

Measured (frames to the indicator at 4 frames a second, window 40–240 frames = 10–60 s):

=============================  ======================  ======  =======
preset                         indicator               frames  seconds
=============================  ======================  ======  =======
Four rooms: curiosity spreads  has_covered                 70     17.5
Combination lock               mu_reached_target           58     14.5
Distractor trap                mu_reached_target           86     21.5
DeepSea                        all_seeds_found_reward      70     17.5
FrozenLake                     mu_reached_target          100     25.0
Lock with REINFORCE            mu_reached_target           51     12.8
=============================  ======================  ======  =======
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import panel as pn
import param
import pytest
from bokeh.models import Legend
from bokeh.plotting import figure as Figure

from app.models.exploration import ExplorationModel
from app.models.exploration.params import (
    DEFAULT_EXPLORER_ACT_STEPS,
    EXPLORER_ACT_STEPS,
    PRESETS,
)
from app.models.story import pace_frames
from app.tabs.exploration.tab import ExplorationTab
from app.tabs.panel import TabPanel
from app.url_state import apply_query, build_query, coerce_value

#: TeX where plain text is expected: superscript or subscript groups, backslash commands.
TEX = re.compile(r"\^\{|_\{|\\[A-Za-z]+")
#: An identifier shown to the user: lowercase words joined by underscores (four_rooms).
IDENTIFIER = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")
#: Frames measured per preset (module docstring); the test asserts the window, these document.
MEASURED = {
    "Four rooms: curiosity spreads": 70,
    "Combination lock": 58,
    "Distractor trap": 86,
    "DeepSea": 70,
    "FrozenLake": 100,
    "Lock with REINFORCE": 51,
}


@pytest.fixture(scope="module")
def tab() -> ExplorationTab:
    return ExplorationTab()


def test_every_preset_has_a_story_with_a_panel_and_an_indicator(tab: ExplorationTab) -> None:
    stories = ExplorationModel.stories
    assert set(stories) == set(PRESETS)
    for name, story in stories.items():
        assert not TEX.search(story.look_for), name
        assert 2 <= story.look_for.count(". ") + 1 <= 5, name  # a few sentences
        if story.panel:
            assert isinstance(getattr(tab, story.panel), TabPanel), name
        assert story.indicator, name  # every preset's point is a moment in the run
        assert callable(getattr(ExplorationModel, story.indicator)), name


def frames_to_indicator(name: str) -> tuple[int | None, tuple[int, int]]:
    """Frames (``step()`` calls at the preset's speed) until the preset's indicator is True."""
    model = ExplorationModel()
    model.apply_preset(name)
    model.run_learning()  # a live session's first tick starts it; done within a second
    assert model.learning.wait(60) and model.learning.result is not None
    indicator = getattr(model, model.story().indicator)
    low, high = pace_frames(model.frame_interval)
    model.playing = True
    assert not indicator()  # a fresh run has not shown it yet
    for frame in range(1, high + 1):
        model.step()
        if indicator():
            return frame, (low, high)
    return None, (low, high)


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_story_unfolds_inside_the_pace_window(name: str) -> None:
    frames, (low, high) = frames_to_indicator(name)
    seconds = None if frames is None else frames * ExplorationModel.frame_interval
    print(f"{name}: {frames} frames ({seconds} s at {1 / ExplorationModel.frame_interval:g}/s)")
    assert frames is not None and low <= frames <= high, (frames, low, high)
    assert frames == MEASURED[name]


def test_presets_pace_themselves_and_open_at_k_zero() -> None:
    model = ExplorationModel()
    for name, values in PRESETS.items():
        model.apply_preset(name)
        assert model.speed == values.get("speed", ExplorationModel.param.speed.default)
        assert (model.k_view, model.pg_view, model.episode_share) == (0, 0, 0)
        steps = EXPLORER_ACT_STEPS.get(name, DEFAULT_EXPLORER_ACT_STEPS)
        assert model.explorer_act_steps == steps
        assert steps <= model.substeps * model.n_iters < steps + model.n_iters
        if model.story().panel:  # the curves tell the story: μ is built in a few seconds
            assert model.substeps * model.n_iters <= 40
    model.lr = 2.0  # Custom: the last preset's pace stays
    assert model.preset == "Custom" and model.explorer_act_steps == 16


# ------------------------------------------------------------------ labels
def test_presets_options_and_labels_are_words() -> None:
    for name in PRESETS:
        assert not IDENTIFIER.search(name), name
    model = ExplorationModel()
    for name in model.display_order:
        p = model.param[name]
        assert p.label and not IDENTIFIER.search(p.label), (name, p.label)
        assert not TEX.search(p.label) and not TEX.search(p.doc or ""), name
        if isinstance(p, param.Selector):
            shown = list(p.names) if p.names else [str(o) for o in p.objects]
            assert all(not IDENTIFIER.search(label) for label in shown), (name, shown)
            assert all(label[0].isupper() for label in shown), (name, shown)


def test_selector_widgets_show_words_and_links_keep_identifiers() -> None:
    model = ExplorationModel()
    layout = pn.widgets.Select.from_param(model.param.layout)
    assert "Rooms with a distractor" in layout.options
    assert layout.options["Rooms with a distractor"] == "distractor_rooms"
    model.param.update(layout="distractor_rooms", inner_solver="soft_vi")
    query = build_query(model, "exploration")  # the link carries identifiers, not labels
    assert "layout=distractor_rooms" in query and "inner_solver=soft_vi" in query
    # a link with the identifier still reads back
    assert coerce_value(model.param.layout, "layout", "deep_sea") == ("deep_sea", None)
    assert coerce_value(model.param.gradient, "gradient", "sampled") == ("sampled", None)
    _, notice = coerce_value(model.param.inner_solver, "inner_solver", "Soft value iteration")
    assert notice is not None and "soft_vi" in notice  # the link names identifiers
    other = ExplorationModel()
    assert apply_query(other, {"layout": "frozen_lake_8x8", "gradient": "sampled"}) == []
    assert other.layout == "frozen_lake_8x8" and other.gradient == "sampled"


# ------------------------------------------------------------------ no TeX in plain text
def plain_texts(obj: Any) -> list[str]:
    """Texts a user reads in ``obj``: Markdown/HTML panes (LaTeX panes excluded: KaTeX draws
    them), and the titles, axis labels and legend labels of Bokeh figures."""
    texts: list[str] = []
    if isinstance(obj, pn.pane.LaTeX):
        return texts
    if isinstance(obj, pn.Param):  # generated controls
        obj = obj.layout
    if isinstance(obj, pn.pane.Bokeh):
        obj = obj.object
    if isinstance(obj, Figure):
        texts.append(obj.title.text if obj.title is not None else "")
        texts += [axis.axis_label or "" for axis in (*obj.xaxis, *obj.yaxis)]
        for legend in obj.select(type=Legend):
            texts += [str(getattr(item.label, "value", item.label)) for item in legend.items]
        return texts
    if isinstance(obj, pn.pane.Markdown | pn.pane.HTML | pn.pane.Str):
        texts.append(str(obj.object))
    if isinstance(obj, pn.widgets.Widget):
        texts.append(str(getattr(obj, "name", "")))
        texts.append(str(getattr(obj, "label", "")))
    for child in getattr(obj, "objects", []) or []:
        texts += plain_texts(child)
    return texts


@pytest.mark.parametrize("name", list(PRESETS))
def test_no_tex_in_the_tabs_plain_text(tab: ExplorationTab, name: str) -> None:
    tab.model.preset = name
    tab.model.step(tab.model.substeps // 2)  # between two iterations: dynamic titles too
    texts = plain_texts(tab.content) + plain_texts(tab.controls)
    texts.append(tab.model.status)
    assert len(texts) > 80
    joined = "\n".join(texts)
    for shown in ("Slip probability p", "|Uₖ₊₁| / |Sᵥ|", "V(πₜ) / V* from the start ρ", "π"):
        assert shown in joined  # the scan reaches controls, legends, axis labels, chips
    found = {t for t in texts if TEX.search(t)}
    assert not found, found


def test_readout_chips_follow_the_player() -> None:
    model = ExplorationModel()
    tab = ExplorationTab(model=model)
    model.step(model.substeps + 2)
    tab.maps.update()
    chips = tab.maps.readouts.object
    assert ">1 / 7<" in chips and ">π₂: " in chips
    assert np.isclose(tab.coverage.markers[0].location, 1 + model.episode_share)
