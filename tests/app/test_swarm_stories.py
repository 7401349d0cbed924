"""Every Swarm escapes preset tells its story (issue 12): a caption in plain words, the panel
that shows it, and a pace: at the preset's speed its indicator turns True after 10–60 s of
play (300–1800 frames at 30 frames/s), measured in frames (model.step() calls), never seconds.

Frames measured with each preset's own seed: escape race 606 (t = 18.2 at 15 steps of
h = 2e-3 per frame), small-noise gap 739 (t = 26.6, 18 steps per frame; no Langevin ghost
crosses), leaders and explorers 554 (t = 2.8, one step of h = 0.005 per frame), Ackley 949
(t = 14.2, 30 steps of h = 5e-4 per frame, seed 2). Weak coupling has no indicator: its point
is a state seen from the first frame (flat weights, no explorers), not a moment of the run.
Before issue 12 the escape race escaped after 37 frames (about 1.2 s).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import panel as pn
import param
import pytest
from bokeh.models import Legend

from app.models.base import CUSTOM_PRESET
from app.models.story import pace_frames
from app.models.swarm.model import SwarmModel
from app.models.swarm.params import OBJECTIVE_LABELS, objective_label
from app.tabs.panel import TabPanel
from app.tabs.swarm.tab import SwarmTab
from app.url_state import apply_query, build_query, coerce_value
from kernels import swarm
from kernels.swarm.objectives import OBJECTIVES

#: TeX that must not reach plain text: ^{…}, _{…} and backslash commands.
TEX = re.compile(r"\^\{|_\{|\\[A-Za-z]+")
#: What an identifier looks like (snake_case or a bare lower-case code word with digits).
IDENTIFIER = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")

PRESETS = list(SwarmModel.presets)
PACED = [name for name in PRESETS if SwarmModel.stories[name].indicator]


@pytest.fixture(scope="module")
def tab() -> Iterator[SwarmTab]:
    view = SwarmTab()
    yield view
    view.close()


def test_every_preset_has_a_story_in_plain_words() -> None:
    assert set(SwarmModel.stories) == set(PRESETS)
    for name, story in SwarmModel.stories.items():
        assert not TEX.search(story.look_for), name
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", story.look_for.strip()) if s]
        assert 2 <= len(sentences) <= 4, (name, len(sentences))
    assert [n for n in PRESETS if n not in PACED] == ["Weak coupling"]


def test_story_panels_are_panels_of_the_tab_and_indicators_are_methods(tab: SwarmTab) -> None:
    for name, story in SwarmModel.stories.items():
        if story.panel:
            assert isinstance(getattr(tab, story.panel, None), TabPanel), (name, story.panel)
        if story.indicator:
            assert callable(getattr(SwarmModel, story.indicator, None)), story.indicator


def test_choosing_a_preset_moves_its_panel_to_the_top(tab: SwarmTab) -> None:
    for name in PRESETS:
        tab.model.preset = name
        panel = SwarmModel.stories[name].panel
        shown = list(tab._spotlight.objects)
        assert shown == ([getattr(tab, panel).view()] if panel else []), name
        assert SwarmModel.stories[name].look_for in tab._story.object
    tab.model.preset = PRESETS[0]


@pytest.mark.parametrize("name", PACED)
def test_indicator_turns_true_inside_the_pace_window(name: str) -> None:
    low, high = pace_frames(SwarmModel.frame_interval)
    model = SwarmModel(preset=name)
    indicator = getattr(model, SwarmModel.stories[name].indicator)
    assert not indicator(), "already true at t = 0"
    frames = 0
    while not indicator() and frames < high:
        assert model.step(), f"{name}: the run ended before its indicator turned True"
        frames += 1
    print(f"\n{name}: indicator after {frames} frames ({frames / 30:.1f} s at 30 frames/s)")
    assert low <= frames <= high, (name, frames)


def test_small_noise_gap_is_a_gap_and_weak_coupling_has_no_explorers() -> None:
    gap = SwarmModel(preset="Small-noise gap")
    while not gap.escaped_ahead_of_langevin():
        assert gap.step()
    assert gap.has_escaped()
    while gap.step():  # the Langevin ghosts stay in the shallow well to the horizon
        pass
    assert gap.escaped_ahead_of_langevin()
    weak = SwarmModel(preset="Weak coupling")
    for _ in range(300):
        weak.step()
        snap = weak.snapshot()
        assert not snap["explorers"].any()
        assert snap["w"].max() < 2.0 / weak.n_particles  # the bars stay flat near 1/N


def test_leaders_and_explorers_split_only_once_explorers_reach_the_walls() -> None:
    model = SwarmModel(preset="Leaders and explorers")
    while not model.has_split():
        assert model.step()
    snap = model.snapshot()
    leaders = snap["f"] < 1e-8
    assert 1 <= leaders.sum() < model.n_particles
    assert snap["explorers"][~leaders].all()
    assert model.at_wall_fraction(snap["x"][~leaders]) == 1.0


def test_labels_are_words_and_links_keep_the_identifiers() -> None:
    model = SwarmModel()
    for name in model.scientific_params():
        p = model.param[name]
        assert not IDENTIFIER.match(p.label), (name, p.label)
        assert not TEX.search(p.label) and not TEX.search(p.doc or ""), name
        names = getattr(p, "names", None)
        if names:  # a Selector with {label: value} objects: words shown, identifiers linked
            for label, value in names.items():
                assert not IDENTIFIER.match(label), (name, label)
                assert coerce_value(p, name, str(value)) == (value, None)
                assert coerce_value(p, name, label)[1] is not None  # a label is no link value
        elif isinstance(p, param.Selector) and not isinstance(p, param.Boolean):
            assert all(isinstance(v, int) for v in p.objects), (name, p.objects)  # d: 1, 2
    for preset in PRESETS:
        assert not IDENTIFIER.match(preset)
    # every option the kernels know is offered, under its identifier
    assert set(OBJECTIVE_LABELS.values()) == set(OBJECTIVES)
    assert list(model.param.init.objects) == list(swarm.INITS)
    assert list(model.param.boundary.objects) == list(swarm.BOUNDARIES)
    assert list(model.param.beta_schedule.objects) == list(swarm.BETA_SCHEDULES)
    assert list(model.param.sigma_schedule.objects) == list(swarm.SIGMA_SCHEDULES)
    assert list(model.param.kappa_mode.objects) == list(swarm.KAPPA_MODES)
    assert list(model.param.energy_form.objects) == list(swarm.ENERGY_FORMS)
    assert objective_label("tilted_double_well") == "Tilted double well"


def test_a_link_with_an_identifier_selects_the_labelled_option() -> None:
    model = SwarmModel()
    notices = apply_query(
        model, {"objective": "styblinski_tang", "init": "uniform", "sigma_schedule": "log_cooling"}
    )
    assert notices == []
    assert model.objective == "styblinski_tang" and model.init == "uniform"
    assert model.sigma_schedule == "log_cooling" and model.preset == CUSTOM_PRESET
    query = build_query(model, "swarm")
    assert "objective=styblinski_tang" in query and "sigma_schedule=log_cooling" in query
    again = SwarmModel()
    assert apply_query(again, {"objective": "Styblinski–Tang"})  # the label is no link value
    assert again.objective == "tilted_double_well"


def test_the_widget_shows_the_label_and_sets_the_identifier() -> None:
    model = SwarmModel()
    widgets = pn.Param(model, parameters=["objective", "init"])
    select = widgets.widget("objective")
    assert "Tilted double well" in select.options and "tilted_double_well" not in select.options
    select.value = "ackley"
    assert model.objective == "ackley"
    assert "Shallow well" in widgets.widget("init").options


def _plain_text(layout: object) -> Iterator[str]:
    """The text of every Markdown, HTML and Str pane and of every Bokeh figure (titles, axis
    labels, legend labels, tooltips) under ``layout``; LaTeX panes (KaTeX) are not plain."""
    if isinstance(layout, pn.pane.LaTeX):
        return
    if isinstance(layout, pn.pane.Markdown | pn.pane.HTML | pn.pane.Str):
        yield str(layout.object or "")
    if isinstance(layout, pn.pane.Bokeh) and layout.object is not None:
        fig = layout.object
        yield fig.title.text if fig.title is not None else ""
        yield from (axis.axis_label or "" for axis in (*fig.xaxis, *fig.yaxis))
        for legend in fig.select({"type": Legend}):
            for item in legend.items:
                yield str(getattr(item.label, "value", item.label) or "")
        for tool in fig.tools:
            for tip in getattr(tool, "tooltips", None) or ():
                yield str(tip[0])
    if isinstance(layout, pn.widgets.Widget):
        yield str(getattr(layout, "name", "") or "")
        options = getattr(layout, "options", None)
        if isinstance(options, dict):
            yield from map(str, options)
    for child in getattr(layout, "objects", None) or ():
        yield from _plain_text(child)


def test_plain_text_of_the_tab_has_no_tex(tab: SwarmTab) -> None:
    texts: list[str] = []
    for name in PRESETS:
        tab.model.preset = name
        tab.model.step()
        tab._refresh()
        texts += list(_plain_text(tab._panels))
        texts += list(_plain_text(tab._controls))
        texts += [tab._story.object, tab.model.status]
    tab.model.preset = PRESETS[0]
    assert any("softmin swarm" in t for t in texts) or any("Langevin" in t for t in texts)
    for text in texts:
        assert not TEX.search(text), text


def test_legends_list_only_what_is_drawn(tab: SwarmTab) -> None:
    model = tab.model
    model.preset = PRESETS[0]
    for shown in (False, True, False):
        model.show_cbo = shown
        tab._refresh()
        for item in (tab.hero._ghost_items["cbo"], tab.series._ghost_items["cbo"]):
            assert item.visible == shown
        assert tab.hero._ghost_items["langevin"].visible
        assert not tab.hero._ghost_items["pso"].visible
    model.preset = PRESETS[0]
