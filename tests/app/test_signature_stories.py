"""Every preset of the Expected signature tab tells its story (issue 12).

Each preset has a caption in plain Unicode, names the panel that shows its effect (moved to the
top of the tab while it is on) and a model method that turns True once its moment has come;
at the preset's own speed that moment comes 10–60 s after Play. Frames only: one frame is one
``model.step()``, the pace window is :func:`app.models.story.pace_frames` of the model's
``frame_interval`` (``speed`` steps per second).

Measured (seed 1): teaching default 406 frames at 30 per second (13.5 s), Noise hurts 117 at 6
(19.5 s), Shape-driven failure 48 at 3 (16 s), Multichannel areas 90 at 5 (18 s), Law, not
shape 84 at 4 (21 s), Brownian check 36 at 2 (18 s).
"""

from __future__ import annotations

import re

import panel as pn
import pytest
from bokeh.models import Legend, Plot

from app.models.signature.data import LABELS
from app.models.signature.model import SignatureModel
from app.models.signature.params import (
    FEATURE_LABELS,
    KERNEL_LABELS,
    PRESETS,
    STORIES,
    TEACHING_DEFAULT,
)
from app.models.story import Story, pace_frames
from app.tabs.panel import TabPanel
from app.tabs.signature.tab import SignatureTab
from app.url_state import apply_query, build_query, coerce_value

#: TeX in a place that shows plain text.
TEX = re.compile(r"\^\{|_\{|\\[A-Za-z]+")
#: An identifier shown as a label (snake_case).
IDENTIFIER = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")


@pytest.fixture(scope="module")
def tab() -> SignatureTab:
    view = SignatureTab()
    view.model.features_job.wait(120)
    return view


def finish(model: SignatureModel) -> None:
    """Let the model's background features job end (it must not outlive the test)."""
    assert model.features_job.wait(120)


def test_every_preset_has_a_story_in_plain_words(tab: SignatureTab) -> None:
    assert set(STORIES) == set(PRESETS)
    for name, story in STORIES.items():
        assert isinstance(story, Story)
        assert not TEX.search(story.look_for), name
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", story.look_for.strip()) if s]
        assert 2 <= len(sentences) <= 3, (name, len(sentences))
        if story.panel:
            assert isinstance(getattr(tab, story.panel, None), TabPanel), name
        if story.indicator:
            assert callable(getattr(SignatureModel, story.indicator, None)), name


def test_the_preset_panel_moves_to_the_top_and_back(tab: SignatureTab) -> None:
    model = tab.model
    model.preset = "Brownian check"
    assert tab._spotlight.objects == [tab.brownian.view()]
    model.preset = "Multichannel areas (BasicMotions)"
    assert tab._spotlight.objects == [tab.signature.view()]
    model.preset = TEACHING_DEFAULT  # the hero leads
    assert tab._spotlight.objects == []
    finish(model)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n, s in STORIES.items() if s.indicator])
def test_each_preset_unfolds_at_a_narratable_pace(name: str) -> None:
    model = SignatureModel(seed=1)
    model.apply_preset(name)
    indicator = getattr(model, STORIES[name].indicator)
    low, high = pace_frames(model.frame_interval)
    assert not indicator(), "the moment must not have come before Play"
    frames = 0
    while not indicator() and frames < high:
        assert model.step(), "the run ended before its moment"
        frames += 1
    finish(model)
    assert indicator(), f"{name}: nothing happened in {high} frames"
    assert low <= frames <= high, (name, frames, (low, high))


def test_the_near_deterministic_preset_needs_no_wait() -> None:
    """Its story has no indicator: the expected signature is within 5 % from the start."""
    model = SignatureModel(preset="Near-deterministic limit")
    assert STORIES["Near-deterministic limit"].indicator == ""
    assert model.expected_signature_settled()
    finish(model)


def test_play_draws_one_path_per_step_from_the_classifiers_samples() -> None:
    model = SignatureModel(seed=3)
    finish(model)
    assert model.sampler.count == model.n_samples  # the classifier's M paths at a restart
    before = model.series_signature()
    model.step()
    after = model.series_signature()
    assert after["drawn"] == before["drawn"] + 1
    assert len(model.series_view()["paths"]) == model.n_samples + 1
    model.series_index = 5  # another series: its own first M paths
    assert model.sampler.count == model.n_samples
    assert model.series_signature()["drawn"] == model.n_samples
    model.speed = 4
    assert model.frame_interval == pytest.approx(0.25)
    model.speed = 30
    assert model.frame_interval == 0.0


def test_labels_are_words_and_links_keep_identifiers(tab: SignatureTab) -> None:
    model = tab.model
    for name in ("dataset", "kernel", "feature_mode"):
        p = model.param[name]
        assert all(not IDENTIFIER.match(label) for label in p.names), name
        for value in p.objects:  # a link carries the identifier and still reads back
            assert coerce_value(p, name, str(value)) == (value, None)
    assert set(model.param.dataset.names) == {LABELS[v] for v in model.param.dataset.objects}
    assert set(model.param.kernel.names) == set(KERNEL_LABELS.values())
    assert set(model.param.feature_mode.names) == set(FEATURE_LABELS.values())
    for p in model.param.objects().values():
        assert not IDENTIFIER.match(p.label or ""), p.name
    assert not any(IDENTIFIER.match(n) for n in PRESETS)
    # the widgets show the labels
    selects = {w.name: w for w in tab._controls.select(pn.widgets.Select)}
    assert "GunPoint (UCR, 50/150, length 150)" in selects["Data set"].options
    # a link round trip keeps the identifier
    fresh = SignatureModel()
    notices = apply_query(fresh, {"dataset": "gunpoint", "kernel": "matern32"})
    assert notices == [] and fresh.dataset == "gunpoint" and fresh.kernel == "matern32"
    assert "dataset=gunpoint" in build_query(fresh, "signature")
    finish(fresh)
    finish(model)


def test_no_tex_in_plain_text(tab: SignatureTab) -> None:
    """Titles, axis labels, legends, captions and chips of every panel, and the status line."""
    texts: list[str] = [tab.model.status]
    for panel in tab.panels:
        for plot in panel.view().select(pn.pane.Bokeh):
            for model in plot.object.select({"type": Plot}):
                texts.append(model.title.text if model.title else "")
                texts += [axis.axis_label or "" for axis in model.axis]
                for legend in model.select({"type": Legend}):
                    texts += [str(item.label) for item in legend.items]
        for pane in panel.view().select(pn.pane.Markdown):
            texts.append(str(pane.object))
        for pane in panel.view().select(pn.pane.HTML):
            texts.append(str(pane.object))
    for widget in tab._controls.select(pn.widgets.Widget):
        texts.append(str(widget.name))
    found = [t for t in texts if TEX.search(t)]
    assert not found, found
    finish(tab.model)
