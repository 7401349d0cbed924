"""Every Adaptive SGD preset tells its story (issue 12): a caption in plain words, the panel
that shows it, and a pace: at the preset's speed its indicator turns True after 10–60 s of
play (300–1800 frames at 30 frames/s), measured in frames (model.step() calls), never seconds.

Frames measured at seed 1 (the default): teaching default 502, authors' quadratic 544, both
scaling rules 480, double well 442, SGD 550 (the weak-order preset has no indicator: its story
is the weak-error study across step sizes, not a moment of one run).
"""

from __future__ import annotations

import re

import pytest

from app.models.adaptive.model import AdaptiveModel
from app.models.adaptive.params import PLAY_UNITS
from app.models.base import CUSTOM_PRESET
from app.models.story import pace_frames
from app.tabs.adaptive.tab import AdaptiveTab
from app.tabs.panel import TabPanel
from app.url_state import coerce_value

#: TeX that must not reach plain text: ^{…}, _{…} and backslash commands.
TEX = re.compile(r"\^\{|_\{|\\[A-Za-z]+")
#: What an identifier looks like (snake_case or a bare lower-case code word).
IDENTIFIER = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")

PRESETS = list(AdaptiveModel.presets)
PACED = [name for name in PRESETS if AdaptiveModel.stories[name].indicator]


@pytest.fixture(scope="module")
def tab() -> AdaptiveTab:
    view = AdaptiveTab()
    yield view
    view.close()


def test_every_preset_has_a_story_in_plain_words():
    assert set(AdaptiveModel.stories) == set(PRESETS)
    for name, story in AdaptiveModel.stories.items():
        assert not TEX.search(story.look_for), name
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", story.look_for.strip()) if s]
        assert 2 <= len(sentences) <= 4, (name, len(sentences))


def test_story_panels_are_panels_of_the_tab_and_indicators_are_methods(tab: AdaptiveTab):
    for name, story in AdaptiveModel.stories.items():
        if story.panel:
            assert isinstance(getattr(tab, story.panel, None), TabPanel), (name, story.panel)
        if story.indicator:
            assert callable(getattr(AdaptiveModel, story.indicator, None)), story.indicator
    # the only preset without an indicator is the weak-error study's
    assert [n for n in PRESETS if n not in PACED] == ["Weak order, ballistic"]


def test_choosing_a_preset_moves_its_panel_to_the_top(tab: AdaptiveTab):
    for name in PRESETS:
        tab.model.preset = name
        panel = AdaptiveModel.stories[name].panel
        shown = list(tab._spotlight.objects)
        if panel:
            assert shown == [getattr(tab, panel).view()], name
            if AdaptiveModel.stories[name].indicator:  # a run's moment: it follows Play
                assert getattr(tab, panel).every_frame
        else:
            assert shown == [], name
    tab.model.preset = PRESETS[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", PACED)
def test_indicator_turns_true_inside_the_pace_window(name: str):
    low, high = pace_frames(AdaptiveModel.frame_interval)
    model = AdaptiveModel()
    model.apply_preset(name)
    indicator = getattr(model, AdaptiveModel.stories[name].indicator)
    assert not indicator(), "already true at t = 0"
    frames = 0
    while not indicator() and frames < high:
        assert model.step(), f"{name}: the run ended before its indicator turned True"
        frames += 1
    print(f"\n{name}: indicator after {frames} frames ({frames / 30:.1f} s at 30 frames/s)")
    assert low <= frames <= high, (name, frames)


def test_step_button_shows_the_next_stored_frame(tab: AdaptiveTab):
    import panel as pn

    tab.model.preset = "Weak order, ballistic"  # 17 stored frames, 300 frames of play
    buttons = [
        w for w in tab.controls.select(pn.widgets.Button) if w.label == "Step"
    ]  # the shared Step button, retargeted
    assert len(buttons) == 1
    for frame in (1, 2, 3):
        buttons[0].clicks += 1
        assert tab.model.time_index == frame
    tab.model.time_index = len(tab.model.run["t"]) - 1
    assert not tab.model.step_frame() and "horizon" in tab.model.status
    tab.model.preset = PRESETS[0]


@pytest.mark.slow
def test_every_run_plays_in_play_units_over_speed_frames():
    for name in PRESETS:
        model = AdaptiveModel(preset=name)
        frames = 0
        while model.step():
            frames += 1
        assert frames == -(-PLAY_UNITS // model.speed), name
        assert model.time_index == len(model.run["t"]) - 1
        assert "Reached the horizon" in model.status


def test_scrubbing_then_playing_continues_from_the_frame_shown():
    model = AdaptiveModel()
    model.time_index = 100
    assert model.t == pytest.approx(model.run["t"][100])
    model.step()
    assert model.time_index in (100, 101)
    while model.time_index == 100:
        model.step()
    assert model.time_index == 101


def test_labels_are_words_and_links_keep_the_identifiers():
    model = AdaptiveModel()
    for name in model.scientific_params():
        p = model.param[name]
        assert not IDENTIFIER.match(p.label), (name, p.label)
        assert not TEX.search(p.label) and not TEX.search(p.doc or ""), name
        names = getattr(p, "names", None)
        if names:  # a Selector with {label: value} objects: words shown, identifiers linked
            for label, value in names.items():
                assert not IDENTIFIER.match(label), (name, label)
                assert coerce_value(p, name, str(value)) == (value, None)
                if label != str(value):  # a label is no link value
                    assert coerce_value(p, name, label)[1] is not None
    for preset in PRESETS:
        assert not IDENTIFIER.match(preset)
    assert model.param.optimizer.names["Adam"] == "adam"
    assert coerce_value(model.param.scaling_rule, "scaling_rule", "linear") == ("linear", None)


def test_a_link_with_an_identifier_selects_the_labelled_option():
    model = AdaptiveModel()
    value, notice = coerce_value(model.param.landscape, "landscape", "double_well")
    assert notice is None
    model.landscape = value
    assert model.landscape == "double_well" and model.preset == CUSTOM_PRESET


def test_plain_text_of_the_tab_has_no_tex(tab: AdaptiveTab):
    from bokeh.models import Legend

    texts = []
    for panel in tab.panels:
        for fig_name in ("figure", "vfigure"):
            fig = getattr(panel, fig_name, None)
            if fig is None:
                continue
            texts.append(fig.title.text)
            texts += [ax.axis_label or "" for ax in (*fig.xaxis, *fig.yaxis)]
            for legend in fig.select({"type": Legend}):
                for item in legend.items:
                    label = item.label
                    texts.append(str(getattr(label, "value", label) or ""))
    for name in PRESETS:
        tab.model.preset = name
        tab._update_plots()
        texts += [tab.hero.caption.object, tab.hero.readout.object, tab.model.status]
    tab.model.preset = PRESETS[0]
    for text in texts:
        assert not TEX.search(text), text


def test_weak_order_preset_starts_its_study_on_the_next_poll_only():
    model = AdaptiveModel()
    model.apply_preset("Weak order, ballistic")  # as a link does: the preset, then overrides
    model.weak_paths = 1000
    assert not model.weak_job.running  # a throwaway model never starts it
    model.poll()
    assert model.weak_job.running or model.weak_job.result is not None
    assert model.weak_job.wait(300) and model.weak_job.result is not None
    model.poll()  # once only
    assert not model.weak_job.running
