"""Each widenet preset tells its story (issue 12): a caption in plain words, the panel that shows
it, an indicator that turns True inside the pace window of Play's frames; words, not
identifiers, in every label; no TeX in any plain text; a first view drawn at once."""

from __future__ import annotations

import re
from typing import Any

import panel as pn
import pytest
from bokeh.core.property.vectorization import Field, Value
from bokeh.models import Axis, ColumnDataSource, LegendItem, Title

from app.models.story import pace_frames
from app.models.widenet.model import SHARED, WidenetModel, warm_shared_sweep
from app.models.widenet.params import TEACHING_DEFAULT
from app.tabs.panel import TabPanel
from app.tabs.widenet.tab import WidenetTab
from app.url_state import coerce_value
from tests.app.test_widenet_model import finish

#: TeX in plain text: ``^{``, ``_{``, backslash commands, and the caret exponent ``n^-1/2``.
TEX = re.compile(r"\^\{|_\{|\\[A-Za-z]+|\^-")
#: An identifier from the code (``centred_exp``, ``first_layer_trap``).
IDENTIFIER = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")
#: Frames (model.step() calls) to each preset's indicator, measured at seed 1 (see the report
#: in test_pace_of_every_preset): the walk starts at the preset's first width.
MEASURED_FRAMES = {
    "Skewed weights (teaching default)": 6,  # n = 2 → 128: W₂ ten times the baseline's
    "Uniform weights: fast 1/n": 4,  # n = 4 → 64: inside twice the noise floor
    "Rademacher lattice: symmetric yet slow": 5,  # n = 4 → 128: ten times the baseline's
    "First-layer trap: a plateau": 5,  # n = 2 → 64: 16, 32, 64 on the plateau
    "Gaussian weights between two bounds": 4,  # n = 16 → 256: upper bound ten times W₂
}


@pytest.fixture(scope="module")
def tab() -> WidenetTab:
    return WidenetTab()


def test_every_preset_has_a_story_in_plain_words(tab: WidenetTab) -> None:
    model = tab.model
    assert set(model.stories) == set(model.presets)
    for name, story in model.stories.items():
        assert not TEX.search(story.look_for), (name, story.look_for)
        assert not IDENTIFIER.search(story.look_for), (name, story.look_for)
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", story.look_for) if s]
        assert 2 <= len(sentences) <= 5, (name, len(sentences))
        if story.panel:
            assert isinstance(getattr(tab, story.panel, None), TabPanel), (name, story.panel)
        if story.indicator:
            assert callable(getattr(model, story.indicator, None)), (name, story.indicator)
        else:
            assert name == "Lindeberg exchange, layer by layer"  # a study, not a moment
    assert set(MEASURED_FRAMES) == {n for n, s in model.stories.items() if s.indicator}


@pytest.mark.slow
@pytest.mark.parametrize("preset", list(MEASURED_FRAMES))
def test_pace_of_every_preset(preset: str) -> None:
    """Fresh model, the preset, its sweep in (from the start-up store or sampled now), then
    one model.step() per frame until the indicator turns True: inside the pace window."""
    model = WidenetModel(seed=1, preset=preset)
    finish(model, timeout=300)
    indicator = getattr(model, model.story().indicator)
    low, high = pace_frames(model.frame_interval)
    assert (low, high) == (3, 20)  # 10–60 s at one doubling of the width per 3 s
    assert not indicator(), "the phenomenon must not be there before Play"
    frames = 0
    while not indicator() and frames < high:
        model.step()
        frames += 1
    assert indicator(), f"{preset}: not after {high} frames (walked {model.walked()})"
    assert low <= frames <= high, (preset, frames)
    assert frames == MEASURED_FRAMES[preset], (preset, frames, model.walked())
    assert model.preset == preset  # Play is not a user edit


def test_indicators_read_the_walk_not_the_slider() -> None:
    model = WidenetModel(seed=1)
    finish(model, timeout=300)
    assert not model.gap_to_baseline_opened()
    model.width = 256  # a slider move is not Play's walk (and makes the preset Custom)
    assert not model.gap_to_baseline_opened()
    assert not model.reached_floor() and not model.bounds_gap_opened()
    assert not model.plateau_held()  # the true first-layer target: no plateau


def _texts(obj: Any) -> list[str]:
    """Plain text a user reads inside a Panel layout: Markdown, HTML, Bokeh titles, axis
    labels and legend entries."""
    out: list[str] = []
    if isinstance(obj, pn.pane.LaTeX):
        return out  # rendered by KaTeX
    if isinstance(obj, pn.pane.Bokeh):
        fig = obj.object
        out += [t.text for t in fig.select({"type": Title})]
        out += [a.axis_label or "" for a in fig.select({"type": Axis})]
        for item in fig.select({"type": LegendItem}):
            label = item.label
            if isinstance(label, Field):  # an entry per value of a data column
                out += [str(v) for v in item.renderers[0].data_source.data[label.field]]
            elif isinstance(label, Value):
                out.append(str(label.value))
        out += [
            str(v)
            for src in fig.select({"type": ColumnDataSource})
            for v in src.data.get("label", [])
        ]  # text glyphs (the ring's "n = 8")
        return out
    if isinstance(obj, pn.pane.Markdown | pn.pane.HTML | pn.pane.Str):
        out.append(str(obj.object))
    if isinstance(obj, pn.Card):
        out.append(str(obj.title))
    for child in getattr(obj, "objects", []):
        out += _texts(child)
    return out


def test_no_tex_in_any_plain_text(tab: WidenetTab) -> None:
    model = tab.model
    finish(model, timeout=300)
    tab._refresh()
    texts = [*_texts(tab._panels), tab.title, tab.claim, tab.provenance, model.status]
    for name in model.param:
        p = model.param[name]
        texts += [str(p.label), str(p.doc or "")]
        texts += list(getattr(p, "names", None) or {})
    texts += list(model.presets)
    assert len(texts) > 60
    bad = [t for t in texts if TEX.search(t)]
    assert not bad, bad


def test_labels_are_words_and_links_keep_the_identifiers() -> None:
    model = WidenetModel()
    for name in model.presets:
        assert not IDENTIFIER.search(name), name
    shown = [*model.scientific_params(), "seed", "preset"]
    for name in shown:
        p = model.param[name]
        assert not IDENTIFIER.search(str(p.label)), (name, p.label)
        names = getattr(p, "names", None)
        if names:
            assert not any(IDENTIFIER.search(label) for label in names), (name, names)
            # a link carries the identifier (app/url_state.coerce_value compares str(obj) over
            # p.objects): it is still read, and the label is not what a link holds
            for label, value in names.items():
                assert coerce_value(p, name, str(value)) == (value, None)
                if label != value:
                    assert coerce_value(p, name, label)[1] is not None
    law = model.param.weight_law
    assert law.names["Centred exponential (skewed)"] == "centred_exp"
    assert coerce_value(law, "weight_law", "centred_exp") == ("centred_exp", None)
    from kernels.widenet import WEIGHT_LAWS

    assert set(law.objects) == set(WEIGHT_LAWS)


def test_first_view_draws_at_once_from_the_start_up_sweep() -> None:
    job = warm_shared_sweep()  # what building the tab at start-up does, once per process
    if job is not None:
        assert job.wait(300) and not job.error, job.error
    model = WidenetModel()
    assert model.preset == TEACHING_DEFAULT
    assert SHARED.get(model.config) is not None
    # the model found it at construction: no sampling, no "Sampling networks…"
    assert model.result is SHARED.get(model.config) and not model.sweep_pending
    assert model.status.startswith("Loaded from the cache")
    view = WidenetTab(model=model)
    assert len(view.w2._w2.data["x"]) == 8 and list(view.w2._shown.data["x"]) == [2]
    assert len(view.law._qq.data["x"]) > 100
    assert warm_shared_sweep() is job  # once per process


def test_the_shared_store_keeps_only_preset_sweeps() -> None:
    model = WidenetModel(n_nets=2000, n_replicates=3, width_min=2, width_max=8)
    finish(model)
    assert model.config not in SHARED.keys() and SHARED.get(model.config) is None
    assert len(SHARED.keys()) == len(WidenetModel.presets)


def test_links_round_trip_identifiers_and_preset_names() -> None:
    from urllib.parse import parse_qsl

    from app.models.widenet.params import FIRST_LAYER_TRAP
    from app.url_state import apply_query, build_query

    a = WidenetModel(preset=FIRST_LAYER_TRAP)
    link = build_query(a, "widenet")
    query = dict(parse_qsl(link.lstrip("?")))
    assert query["preset"] == FIRST_LAYER_TRAP and query["weight_law"] == "rademacher"
    assert query["first_layer_kernel"] == "gaussian_formula"  # the identifier, not the label
    b = WidenetModel()
    assert apply_query(b, query) == []
    assert b.preset == FIRST_LAYER_TRAP and b.param_values() == a.param_values()
    a.estimator = "two_sample"
    query = dict(parse_qsl(build_query(a, "widenet").lstrip("?")))
    assert query["estimator"] == "two_sample"
    c = WidenetModel()
    assert apply_query(c, query) == [] and c.estimator == "two_sample"
