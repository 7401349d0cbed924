"""Every preset of every tab tells its story (issue 12): a caption in plain words, the panel that
shows it, its key controls, and a pace; words, not identifiers, in every label; links that keep
the identifiers; no TeX in any plain text.

The shared checks are parametrized over the six tabs; what only one tab has (its indicators'
twins, its first view, its player) follows at the end, one section per tab.

Pace: at the preset's own speed its indicator (a model method, :class:`app.models.story.Story`)
turns True inside :func:`app.models.story.pace_frames` of the model's ``frame_interval``:
10–60 s of play, i.e. 300–1800 frames at 30 frames/s, 40–240 at exploration's 4 frames/s and
3–20 at widenet's one frame per 3 s. Frames are ``model.step()`` calls, never seconds.

Frames measured (:data:`MEASURED_FRAMES`, seed 1 unless the preset sets its own):

- tokens (every preset runs seed 1): teaching default 628, independent noise 1000, odd
  activation 613, odd activation plus bias 950, tanh in d = 32 1000, sigmoid in d = 32 540,
  repulsive attention 1000, strong noise 611, mean vs median 500.
- swarm (each preset's own seed): escape race 606 (t = 18.2 at 15 steps of h = 2e-3 per
  frame), small-noise gap 739 (t = 26.6, 18 steps per frame; no Langevin ghost crosses),
  leaders and explorers 554 (t = 2.8, one step of h = 0.005 per frame), Ackley 949 (t = 14.2,
  30 steps of h = 5e-4 per frame, seed 2). Weak coupling has no indicator: its point is a state
  seen from the first frame (flat weights, no explorers), not a moment of the run. Before issue
  12 the escape race escaped after 37 frames (about 1.2 s).
- widenet (one doubling of the width per frame, every 3 s; the walk starts at the preset's
  first width): skewed weights 6 (n = 2 → 128: W₂ ten times the baseline's), uniform 4
  (n = 4 → 64: inside twice the noise floor), Rademacher lattice 5 (n = 4 → 128: ten times the
  baseline's), first-layer trap 5 (n = 2 → 64: 16, 32, 64 on the plateau), bounds 4
  (n = 16 → 256: upper bound ten times W₂). The Lindeberg exchange is a study, not a moment.
- adaptive: teaching default 502, authors' quadratic 544, both scaling rules 480, double well
  442, SGD 550 (the weak-order preset has no indicator: its story is the weak-error study
  across step sizes, not a moment of one run).
- signature: teaching default 406 frames at 30 per second (13.5 s), Noise hurts 117 at 6
  (19.5 s), Shape-driven failure 48 at 3 (16 s), Multichannel areas 90 at 5 (18 s), Law, not
  shape 84 at 4 (21 s), Brownian check 36 at 2 (18 s); the near-deterministic limit has no
  indicator (its point is visible from the first frame).
- exploration (4 frames a second, 1 step per frame; Play runs the explorer's act first, its
  length the preset's pace ``EXPLORER_ACT_STEPS``, then reveals the learning curves, which a
  live session computes in the background as soon as the tab opens, well under a second: here
  they are computed before the first frame): four rooms 70 (17.5 s, has_covered), combination
  lock 58 (14.5 s), distractor trap 86 (21.5 s), DeepSea 70 (17.5 s,
  all_seeds_found_reward), FrozenLake 100 (25.0 s), lock with REINFORCE 51 (12.8 s).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import numpy as np
import panel as pn
import param
import pytest
from bokeh.core.property.vectorization import Field, Value
from bokeh.models import ColumnDataSource, Legend, Plot

from app.main import TABS
from app.models.adaptive.model import AdaptiveModel
from app.models.adaptive.params import PLAY_UNITS
from app.models.base import CUSTOM_PRESET, SimulationModel
from app.models.exploration import ExplorationModel
from app.models.exploration.params import DEFAULT_EXPLORER_ACT_STEPS, EXPLORER_ACT_STEPS
from app.models.signature.data import LABELS
from app.models.signature.model import SignatureModel
from app.models.signature.params import FEATURE_LABELS, KERNEL_LABELS
from app.models.story import Story, pace_frames
from app.models.swarm.model import SwarmModel
from app.models.swarm.params import OBJECTIVE_LABELS, objective_label
from app.models.tokens.model import TokensModel
from app.models.tokens.params import ACTIVATION_LABELS, MEAN_VS_MEDIAN
from app.models.widenet.model import SHARED, WidenetModel, warm_shared_sweep
from app.models.widenet.params import FIRST_LAYER_TRAP, TEACHING_DEFAULT
from app.tabs.base import SimulationTab
from app.tabs.panel import TabPanel
from app.tabs.widenet.tab import WidenetTab
from app.url_state import apply_query, build_query, coerce_value, url_param_names
from kernels import swarm
from kernels.common.activations import ACTIVATIONS
from kernels.swarm.objectives import OBJECTIVES
from kernels.widenet import WEIGHT_LAWS
from tests.app.test_widenet_model import finish as finish_sweeps

#: TeX that must not reach plain text: ^{…}, _{…}, backslash commands, and the caret exponent
#: ``n^-1/2``.
TEX = re.compile(r"\^\{|_\{|\\[A-Za-z]+|\^-")
#: An identifier from the code shown to the user (``centred_exp``, ``first_layer_trap``).
IDENTIFIER = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")

TAB_CLASSES: dict[str, type[SimulationTab]] = {t.slug: t for t in TABS}
SLUGS = list(TAB_CLASSES)
#: The models a test runs without a view (a tab's own may defer work to its view: adaptive).
MODELS: dict[str, type[SimulationModel]] = {
    "tokens": TokensModel,
    "swarm": SwarmModel,
    "widenet": WidenetModel,
    "adaptive": AdaptiveModel,
    "signature": SignatureModel,
    "exploration": ExplorationModel,
}

#: Sentences in a preset's caption: two, and at most this many.
MOST_SENTENCES = {
    "tokens": 3,
    "swarm": 4,
    "widenet": 5,
    "adaptive": 4,
    "signature": 3,
    "exploration": 5,
}
#: Presets whose point is not a moment of the run (no indicator, no pace).
UNPACED = {
    "tokens": set(),
    "swarm": {"Weak coupling"},
    "widenet": {"Lindeberg exchange, layer by layer"},
    "adaptive": {"Weak order, ballistic"},
    "signature": {"Near-deterministic limit"},
    "exploration": set(),
}
#: Panels some presets must bring to the top ("": the hero shows it).
PANELS = {
    "tokens": {MEAN_VS_MEDIAN: "ensemble", "Independent noise": ""},
    "signature": {
        "Brownian check": "brownian",
        "Multichannel areas (BasicMotions)": "signature",
        "Teaching default: smoothing helps": "",
    },
}
#: Frames to each paced preset's indicator (module docstring).
MEASURED_FRAMES: dict[str, dict[str, int]] = {
    "tokens": {
        "Teaching default: noise alone synchronizes": 628,
        "Independent noise": 1000,
        "Odd activation: two antipodal clusters": 613,
        "Odd activation plus bias: one cluster": 950,
        "Dimension decides: tanh never collapses": 1000,
        "Dimension decides: sigmoid collapses": 540,
        "Repulsive attention beats weak noise": 1000,
        "Strong noise beats repulsive attention": 611,
        MEAN_VS_MEDIAN: 500,
    },
    "swarm": {
        "Escape race (teaching default)": 606,
        "Small-noise gap": 739,
        "Leaders and explorers": 554,
        "Ackley, small noise": 949,
    },
    "widenet": {
        "Skewed weights (teaching default)": 6,
        "Uniform weights: fast 1/n": 4,
        "Rademacher lattice: symmetric yet slow": 5,
        "First-layer trap: a plateau": 5,
        "Gaussian weights between two bounds": 4,
    },
    "adaptive": {
        "Teaching default: RMSprop and its SDE": 502,
        "Authors' quadratic (ballistic SME2)": 544,
        "Square-root rule, Adam": 480,
        "Naive linear rule, Adam": 480,
        "Double well (authors)": 442,
        "SGD and its SME": 550,
    },
    "signature": {
        "Teaching default: smoothing helps": 406,
        "Noise hurts (GunPoint)": 117,
        "Shape-driven failure (ArrowHead)": 48,
        "Multichannel areas (BasicMotions)": 90,
        "Law, not shape (synthetic OU)": 84,
        "Brownian check": 36,
    },
    "exploration": {
        "Four rooms: curiosity spreads": 70,
        "Combination lock": 58,
        "Distractor trap": 86,
        "DeepSea": 70,
        "FrozenLake": 100,
        "Lock with REINFORCE": 51,
    },
}
#: Relative tolerance on :data:`MEASURED_FRAMES` (0: exact; the runs are seeded).
FRAMES_TOLERANCE = {
    "tokens": 0.1,
    "swarm": 0.1,
    "widenet": 0.0,
    "adaptive": 0.1,
    "signature": 0.1,
    "exploration": 0.0,
}
#: A link with identifiers of labelled options: applied, kept in the rebuilt link, read back.
LINKS = {
    "tokens": {"activation": "leaky_relu", "attn_kind": "usa", "splitting": "strang"},
    "swarm": {"objective": "styblinski_tang", "init": "uniform", "sigma_schedule": "log_cooling"},
    "widenet": {"estimator": "two_sample"},
    "adaptive": {"landscape": "double_well", "scaling_rule": "linear"},
    "signature": {"dataset": "gunpoint", "kernel": "matern32"},
    "exploration": {"layout": "distractor_rooms", "inner_solver": "soft_vi"},
}
#: A preset whose link carries its name and identifiers other than the defaults.
LINK_PRESETS = {
    "tokens": "Odd activation: two antipodal clusters",
    "swarm": "Leaders and explorers",
    "widenet": FIRST_LAYER_TRAP,
    "adaptive": "Square-root rule, Adam",
    "signature": "Noise hurts (GunPoint)",
    "exploration": "DeepSea",
}
#: A selector widget shows the label and sets the identifier: (param, label, identifier).
WIDGET_LABELS = {
    "tokens": ("activation", "ReLU", "relu"),
    "swarm": ("objective", "Tilted double well", "tilted_double_well"),
    "widenet": ("weight_law", "Centred exponential (skewed)", "centred_exp"),
    "adaptive": ("optimizer", "Adam", "adam"),
    "signature": ("dataset", "GunPoint (UCR, 50/150, length 150)", "gunpoint"),
    "exploration": ("layout", "Rooms with a distractor", "distractor_rooms"),
}
#: Tabs whose plain text is scanned under every preset (the others: their first view).
TEXT_PER_PRESET = {"swarm", "adaptive", "exploration"}
#: Text the scan must reach (controls, legends, axis labels, chips), so a scan that reads
#: nothing cannot pass.
SHOWN_TEXT = {
    "tokens": ("S³¹",),  # the hero's title in d = 32
    "swarm": ("Langevin",),
    "widenet": ("W₂",),
    "adaptive": ("θ₂",),
    "signature": ("Data set",),
    "exploration": ("Slip probability p", "|Uₖ₊₁| / |Sᵥ|", "V(πₜ) / V* from the start ρ", "π"),
}


def finish(model: SimulationModel) -> None:
    """Let the model's background work end (a job must not outlive its test)."""
    run_job = getattr(model, "run_job", None)  # adaptive runs are computed off a view's loop
    if run_job is not None:
        assert run_job.wait(120)
    if isinstance(model, SignatureModel):
        assert model.features_job.wait(120)
    elif isinstance(model, WidenetModel):
        finish_sweeps(model, timeout=300)


_TABS: dict[str, SimulationTab] = {}


@pytest.fixture(scope="module")
def tab_of() -> Iterator[Callable[[str], SimulationTab]]:
    """``tab_of(slug)``: the tab's view, built once for the module and closed at its end."""

    def get(slug: str) -> SimulationTab:
        if slug not in _TABS:
            view = TAB_CLASSES[slug]()
            finish(view.model)
            _TABS[slug] = view
        return _TABS[slug]

    yield get
    for view in _TABS.values():
        finish(view.model)
        view.close()
    _TABS.clear()


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _paced() -> list[tuple[str, str]]:
    return [(s, n) for s in SLUGS for n, story in MODELS[s].stories.items() if story.indicator]


# ------------------------------------------------------------------ the stories
@pytest.mark.parametrize("slug", SLUGS)
def test_every_preset_has_a_story_in_plain_words(slug: str) -> None:
    model = MODELS[slug]
    assert issubclass(TAB_CLASSES[slug].model_class, model)  # the tab's model, or its base
    assert set(model.stories) == set(model.presets)
    for name, story in model.stories.items():
        assert isinstance(story, Story)
        assert not TEX.search(story.look_for) and "$" not in story.look_for, name
        assert not IDENTIFIER.search(story.look_for), (name, story.look_for)
        count = len(_sentences(story.look_for))
        assert 2 <= count <= MOST_SENTENCES[slug], (name, count)
    assert {n for n, s in model.stories.items() if not s.indicator} == UNPACED[slug]
    assert set(MEASURED_FRAMES[slug]) == {n for n, s in model.stories.items() if s.indicator}


@pytest.mark.parametrize("slug", SLUGS)
def test_every_story_names_two_or_three_key_controls_a_link_carries(slug: str) -> None:
    model = MODELS[slug]
    for name, story in model.stories.items():
        assert 2 <= len(story.controls) <= 3, (name, story.controls)
        assert len(set(story.controls)) == len(story.controls), (name, story.controls)
        for control in story.controls:
            assert control in model.scientific_params(), (name, control)
            assert control in url_param_names(model), (name, control)


@pytest.mark.parametrize("slug", SLUGS)
def test_story_panels_are_panels_of_the_tab_and_indicators_are_methods(
    slug: str, tab_of: Callable[[str], SimulationTab]
) -> None:
    tab, model = tab_of(slug), MODELS[slug]
    for name, story in model.stories.items():
        if story.panel:
            assert isinstance(getattr(tab, story.panel, None), TabPanel), (name, story.panel)
        if story.indicator:
            assert callable(getattr(model, story.indicator, None)), (name, story.indicator)
    for name, panel in PANELS.get(slug, {}).items():
        assert model.stories[name].panel == panel, name


@pytest.mark.parametrize("slug", SLUGS)
def test_choosing_a_preset_shows_its_story_and_moves_its_panel_to_the_top(
    slug: str, tab_of: Callable[[str], SimulationTab]
) -> None:
    tab = tab_of(slug)
    names = list(tab.model.presets)
    for name in names:
        tab.model.preset = name
        story = tab.model.stories[name]
        assert tab._story.visible and story.look_for in tab._story.object, name
        shown = list(tab._spotlight.objects)
        assert shown == ([getattr(tab, story.panel).view()] if story.panel else []), name
        if slug == "adaptive" and story.panel and story.indicator:
            assert getattr(tab, story.panel).every_frame  # a run's moment: it follows Play
    tab.model.preset = names[0]
    finish(tab.model)


@pytest.mark.parametrize("slug", SLUGS)
def test_presenter_bar_shows_each_presets_key_controls(slug: str) -> None:
    """Presenter mode: the bar holds exactly the preset's key controls, labelled and
    formatted as in the sidebar; they follow the preset and stay when a drag makes it
    Custom."""
    tab = TAB_CLASSES[slug](lesson=True)
    model = tab.model
    sidebar = {w.name: w for w in tab.controls.select(pn.widgets.Widget)}

    def shown() -> list[pn.widgets.Widget]:
        return [w for w in tab.key_controls.select(pn.widgets.Widget) if w.name]

    try:
        for name, story in model.stories.items():
            model.preset = name
            widgets = shown()
            assert [w.name for w in widgets] == [model.param[c].label for c in story.controls]
            for widget, control in zip(widgets, story.controls, strict=True):
                assert widget.value == getattr(model, control), (name, control)
                twin = sidebar.get(widget.name)  # advanced ones are not in the lesson sidebar
                if twin is not None and hasattr(twin, "format"):
                    assert widget.format == twin.format, (name, control)
        story = model.story()
        before = [w.name for w in shown()]
        # drag a slider, a live one if there is one (a restart one may resample a sweep)
        sliders = {
            c: w
            for w in shown()
            for c in story.controls
            if model.param[c].label == w.name
            and isinstance(w, pn.widgets.FloatSlider | pn.widgets.IntSlider)
        }
        control = next((c for c in sliders if c in model.live_params), next(iter(sliders)))
        slider = sliders[control]
        new = slider.end if getattr(model, control) != slider.end else slider.start
        with param.edit_constant(slider):  # a drag, released
            slider.param.update(value=new, value_throttled=new)
        assert getattr(model, control) == new and model.preset == CUSTOM_PRESET
        assert [w.name for w in shown()] == before  # Custom keeps the last preset's
    finally:
        finish(model)
        tab.close()


@pytest.mark.slow
@pytest.mark.parametrize(("slug", "name"), _paced(), ids=[f"{s}-{n}" for s, n in _paced()])
def test_indicator_turns_true_inside_the_pace_window(slug: str, name: str) -> None:
    """Fresh model, the preset, whatever a live session computes at once, then one
    model.step() per frame until the indicator turns True: inside the pace window."""
    model = MODELS[slug](preset=name)
    if slug == "widenet":
        finish(model)  # the sweep in, from the start-up store or sampled now
    elif slug == "exploration":
        model.run_learning()  # a live session's first tick starts it; done within a second
        assert model.learning.wait(60) and model.learning.result is not None
        model.playing = True
    elif name == MEAN_VS_MEDIAN:
        # its indicator reads the ensemble, which a live session starts by itself
        model.run_ensemble()
        assert model.ensemble.wait(300) and model.ensemble.result is not None
        assert model.ensemble_summary().n_real == 1024  # the whole ensemble fits the budget
    low, high = pace_frames(model.frame_interval)
    if slug == "widenet":
        assert (low, high) == (3, 20)  # 10–60 s at one doubling of the width per 3 s
    indicator = getattr(model, model.stories[name].indicator)
    assert not indicator(), "already true before Play"
    frames = 0
    while not indicator() and frames < high:
        going = model.step()
        frames += 1
        assert going or indicator(), f"{name}: the run ended before its indicator turned True"
    finish(model)
    print(f"\n{slug} {name}: indicator after {frames} frames")
    assert indicator(), f"{name}: nothing happened in {high} frames"
    assert low <= frames <= high, (name, frames, (low, high))
    assert frames == pytest.approx(MEASURED_FRAMES[slug][name], rel=FRAMES_TOLERANCE[slug])
    assert model.preset == name  # Play is not a user edit


# ------------------------------------------------------------------ labels and links
@pytest.mark.parametrize("slug", SLUGS)
def test_labels_are_words_and_links_keep_the_identifiers(slug: str) -> None:
    model = MODELS[slug]
    for preset in model.presets:
        assert not IDENTIFIER.search(preset), preset
    for name in (*model.scientific_params(), "seed", "preset"):
        p = model.param[name]
        assert p.label and not IDENTIFIER.search(p.label), (name, p.label)
        assert not TEX.search(p.label) and not TEX.search(p.doc or ""), name
        names = getattr(p, "names", None)
        if names:  # a Selector with {label: value} objects: words shown, identifiers linked
            for label, value in names.items():
                assert not IDENTIFIER.search(label) and label.strip() == label, (name, label)
                assert coerce_value(p, name, str(value)) == (value, None)
                if label != str(value):  # a label is no link value
                    assert coerce_value(p, name, label)[1] is not None, (name, label)
        elif isinstance(p, param.Selector) and not isinstance(p, param.Boolean):
            # unlabelled options are numbers (d: 1, 2; r: 1, 2, 4, 8) or the preset names
            assert name == "preset" or all(isinstance(v, int) for v in p.objects), name


@pytest.mark.parametrize("slug", SLUGS)
def test_a_link_with_identifiers_selects_the_labelled_options(slug: str) -> None:
    link = LINKS[slug]
    model = MODELS[slug]()
    assert apply_query(model, link) == []
    assert {k: str(getattr(model, k)) for k in link} == link
    assert model.preset == CUSTOM_PRESET
    query = dict(parse_qsl(build_query(model, slug).lstrip("?")))
    assert {k: query[k] for k in link} == link  # the link carries identifiers, not labels
    again = MODELS[slug]()
    assert apply_query(again, query) == []
    assert again.param_values() == model.param_values()
    for other in (model, again):
        finish(other)


@pytest.mark.parametrize("slug", SLUGS)
def test_a_preset_link_round_trips_its_name_and_identifiers(slug: str) -> None:
    name = LINK_PRESETS[slug]
    model = MODELS[slug](preset=name)
    query = dict(parse_qsl(build_query(model, slug).lstrip("?")))
    assert query["preset"] == name
    changed = 0
    for key, value in model.param_values().items():
        p = model.param[key]
        if getattr(p, "names", None) and value != p.default:
            assert query[key] == str(value), key  # the identifier, not the label
            changed += 1
    assert changed or slug in ("swarm", "adaptive", "signature"), "no labelled option moved"
    again = MODELS[slug]()
    assert apply_query(again, query) == []
    assert again.preset == name and again.param_values() == model.param_values()
    for other in (model, again):
        finish(other)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_widget_shows_the_label_and_sets_the_identifier(
    slug: str, tab_of: Callable[[str], SimulationTab]
) -> None:
    name, label, value = WIDGET_LABELS[slug]
    tab = tab_of(slug)
    select = next(
        w for w in tab.controls.select(pn.widgets.Select) if w.name == tab.model.param[name].label
    )
    assert select.options[label] == value and value not in select.options
    select.value = value
    assert getattr(tab.model, name) == value
    finish(tab.model)


# ------------------------------------------------------------------ no TeX in plain text
def _plain_texts(obj: Any) -> list[str]:
    """Texts a user reads in ``obj``: Markdown, HTML and Str panes (LaTeX panes and the
    model card's KaTeX equations excluded: they render), card titles, widget names and
    options, and the titles, axis labels, legend entries, text glyphs and tooltips of Bokeh
    figures."""
    texts: list[str] = []
    if isinstance(obj, pn.pane.LaTeX) or "ns-equation" in (getattr(obj, "css_classes", []) or []):
        return texts
    if isinstance(obj, pn.Param):  # generated controls
        obj = obj.layout
    if isinstance(obj, pn.pane.Bokeh):
        for fig in obj.object.select({"type": Plot}) if obj.object is not None else []:
            texts += _figure_texts(fig)
        return texts
    if isinstance(obj, pn.pane.Markdown | pn.pane.HTML | pn.pane.Str):
        texts.append(str(obj.object or ""))
    if isinstance(obj, pn.Card):
        texts.append(str(obj.title))
    if isinstance(obj, pn.widgets.Widget):
        texts += [str(getattr(obj, "name", "") or ""), str(getattr(obj, "label", "") or "")]
        options = getattr(obj, "options", None)
        if isinstance(options, dict):
            texts += list(map(str, options))
    for child in getattr(obj, "objects", None) or []:
        texts += _plain_texts(child)
    return texts


def _figure_texts(fig: Plot) -> list[str]:
    texts = [fig.title.text if fig.title is not None else ""]
    texts += [axis.axis_label or "" for axis in fig.axis]
    for legend in fig.select({"type": Legend}):
        for item in legend.items:
            label = item.label
            if isinstance(label, Field):  # an entry per value of a data column
                texts += [str(v) for v in item.renderers[0].data_source.data[label.field]]
            elif isinstance(label, Value):
                texts.append(str(label.value))
            else:
                texts.append(str(label or ""))
    for source in fig.select({"type": ColumnDataSource}):
        texts += [str(v) for v in source.data.get("label", [])]  # text glyphs ("n = 8")
    for tool in fig.tools:
        tips = getattr(tool, "tooltips", None)
        if isinstance(tips, list):
            texts += [str(tip[0]) for tip in tips]
    return texts


def _tab_texts(tab: SimulationTab) -> list[str]:
    """Everything of the tab a user reads as plain text, as its model is now."""
    tab._refresh()
    model = tab.model
    texts = _plain_texts(tab.content) + _plain_texts(tab.controls)
    texts += [model.status, tab._story.object, tab.title, tab.claim, tab.provenance]
    for name in model.param:
        p = model.param[name]
        texts += [str(p.label), str(p.doc or ""), *map(str, getattr(p, "names", None) or {})]
    return [*texts, *model.presets]


def _no_tex_cases() -> list[tuple[str, str]]:
    cases = []
    for slug in SLUGS:
        names = list(MODELS[slug].presets) if slug in TEXT_PER_PRESET else [""]
        cases += [(slug, name) for name in names]
    return cases


@pytest.mark.parametrize(
    ("slug", "name"), _no_tex_cases(), ids=[f"{s}-{n}" for s, n in _no_tex_cases()]
)
def test_no_tex_in_the_tabs_plain_text(
    slug: str, name: str, tab_of: Callable[[str], SimulationTab]
) -> None:
    tab = tab_of(slug)
    model = tab.model
    if name:
        model.preset = name
        model.step(getattr(model, "substeps", 2) // 2)  # between two iterations: dynamic titles
    elif slug == "tokens":
        model.dim = 32  # the projected title
    texts = _tab_texts(tab)
    assert len(texts) > 60
    joined = "\n".join(texts)
    for shown in SHOWN_TEXT[slug]:
        assert shown in joined, shown  # the scan reaches controls, legends, axis labels, chips
    found = sorted({t for t in texts if TEX.search(t)})
    if slug == "tokens":
        model.dim = 3
        assert np.isfinite(model.x).all()
    model.preset = next(iter(model.presets))
    finish(model)
    assert not found, found


# ------------------------------------------------------------------ tokens
def test_tokens_indicators_are_false_before_the_run() -> None:
    model = TokensModel()
    for name, story in TokensModel.stories.items():
        assert getattr(model, story.indicator)() is False, (name, story.indicator)


def test_tokens_indicators_tell_the_phenomenon_apart() -> None:
    """Each indicator fires on its own phenomenon, not on its twin preset's."""
    spread = TokensModel(preset="Independent noise")
    spread.step(round(0.5 * spread.t_max / spread.dt))
    assert spread.has_stayed_spread() and not spread.has_synchronized()
    odd = TokensModel(preset="Odd activation: two antipodal clusters")
    odd.step(1500)
    assert odd.has_antipodal_clusters() and not odd.has_synchronized()
    one = TokensModel()
    one.step(1000)
    assert one.has_synchronized() and not one.has_antipodal_clusters()
    assert not one.has_stayed_spread()


def test_tokens_mean_median_split_waits_for_an_up_to_date_ensemble() -> None:
    model = TokensModel(preset=MEAN_VS_MEDIAN)
    model.step(800)
    assert not model.has_mean_median_split()  # no ensemble yet
    model.run_ensemble()
    assert model.ensemble.wait(300)
    assert model.has_mean_median_split()
    model.sigma_noise = 0.5  # the ensemble is stale now
    assert not model.has_mean_median_split()


def test_tokens_presets_set_their_pace_and_seed() -> None:
    model = TokensModel()
    for name, values in TokensModel.presets.items():
        assert "speed" in values and values.get("seed") == 1, name
        model.apply_preset(name)
        assert model.speed == values["speed"]
    model.speed = 40
    model.apply_preset("Strong noise beats repulsive attention")
    assert model.speed == 2


def test_tokens_options_and_sliders_are_labelled() -> None:
    model = TokensModel()
    for name in ("activation", "attn_kind", "init", "energy_kind", "noise_sharing"):
        names = model.param[name].names
        assert names and set(names.values()) == set(model.param[name].objects), name
        assert all("_" not in label for label in names), (name, names)
    for name in ("hidden_weights", "splitting", "manifold"):
        assert set(model.param[name].names.values()) == set(model.param[name].objects), name
    assert model.param["activation"].names["leaky ReLU"] == "leaky_relu"
    assert model.param["attn_kind"].names["softmax (SA)"] == "sa"
    assert set(ACTIVATION_LABELS) == set(ACTIVATIONS)
    for name in model.scientific_params():
        label = model.param[name].label
        assert label != name and not re.fullmatch(r"[a-z_]+", label), label
        assert "_" not in label.replace("σ_", ""), label
    # a label is not a link value: it is ignored with a notice, never applied
    _, notice = coerce_value(model.param["attn_kind"], "attn_kind", "softmax (SA)")
    assert notice and "expected one of" in notice
    assert coerce_value(model.param["energy_kind"], "energy_kind", "mean_norm") == (
        "mean_norm",
        None,
    )


# ------------------------------------------------------------------ swarm
def test_swarm_small_noise_gap_is_a_gap_and_weak_coupling_has_no_explorers() -> None:
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


def test_swarm_leaders_and_explorers_split_only_once_explorers_reach_the_walls() -> None:
    model = SwarmModel(preset="Leaders and explorers")
    while not model.has_split():
        assert model.step()
    snap = model.snapshot()
    leaders = snap["f"] < 1e-8
    assert 1 <= leaders.sum() < model.n_particles
    assert snap["explorers"][~leaders].all()
    assert model.at_wall_fraction(snap["x"][~leaders]) == 1.0


def test_swarm_offers_every_option_the_kernels_know() -> None:
    model = SwarmModel()
    assert set(OBJECTIVE_LABELS.values()) == set(OBJECTIVES)
    assert list(model.param.init.objects) == list(swarm.INITS)
    assert list(model.param.boundary.objects) == list(swarm.BOUNDARIES)
    assert list(model.param.beta_schedule.objects) == list(swarm.BETA_SCHEDULES)
    assert list(model.param.sigma_schedule.objects) == list(swarm.SIGMA_SCHEDULES)
    assert list(model.param.kappa_mode.objects) == list(swarm.KAPPA_MODES)
    assert list(model.param.energy_form.objects) == list(swarm.ENERGY_FORMS)
    assert objective_label("tilted_double_well") == "Tilted double well"
    again = SwarmModel()
    assert apply_query(again, {"objective": "Styblinski–Tang"})  # the label is no link value
    assert again.objective == "tilted_double_well"
    assert "Shallow well" in pn.Param(model, parameters=["init"]).widget("init").options


def test_swarm_legends_list_only_what_is_drawn(tab_of: Callable[[str], SimulationTab]) -> None:
    tab = tab_of("swarm")
    model = tab.model
    model.preset = next(iter(model.presets))
    for shown in (False, True, False):
        model.show_cbo = shown
        tab._refresh()
        for item in (tab.hero._ghost_items["cbo"], tab.series._ghost_items["cbo"]):
            assert item.visible == shown
        assert tab.hero._ghost_items["langevin"].visible
        assert not tab.hero._ghost_items["pso"].visible
    model.preset = next(iter(model.presets))


# ------------------------------------------------------------------ widenet
def test_widenet_indicators_read_the_walk_not_the_slider() -> None:
    model = WidenetModel(seed=1)
    finish(model)
    assert not model.gap_to_baseline_opened()
    model.width = 256  # a slider move is not Play's walk (and makes the preset Custom)
    assert not model.gap_to_baseline_opened()
    assert not model.reached_floor() and not model.bounds_gap_opened()
    assert not model.plateau_held()  # the true first-layer target: no plateau


def test_widenet_first_view_draws_at_once_from_the_start_up_sweep() -> None:
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


def test_widenet_shared_store_keeps_only_preset_sweeps() -> None:
    model = WidenetModel(n_nets=2000, n_replicates=3, width_min=2, width_max=8)
    finish(model)
    assert model.config not in SHARED.keys() and SHARED.get(model.config) is None
    assert len(SHARED.keys()) == len(WidenetModel.presets)


def test_widenet_offers_every_weight_law_the_kernels_know() -> None:
    law = WidenetModel.param.weight_law
    assert coerce_value(law, "weight_law", "centred_exp") == ("centred_exp", None)
    assert set(law.objects) == set(WEIGHT_LAWS)


# ------------------------------------------------------------------ adaptive
def test_adaptive_step_button_shows_the_next_stored_frame(
    tab_of: Callable[[str], SimulationTab],
) -> None:
    tab = tab_of("adaptive")
    tab.model.preset = "Weak order, ballistic"  # 17 stored frames, 300 frames of play
    finish(tab.model)
    buttons = [w for w in tab.controls.select(pn.widgets.Button) if w.label == "Step"]
    assert len(buttons) == 1  # the shared Step button, retargeted
    for frame in (1, 2, 3):
        buttons[0].clicks += 1
        assert tab.model.time_index == frame
    tab.model.time_index = len(tab.model.run["t"]) - 1
    assert not tab.model.step_frame() and "horizon" in tab.model.status
    tab.model.preset = next(iter(tab.model.presets))


@pytest.mark.slow
def test_adaptive_every_run_plays_in_play_units_over_speed_frames() -> None:
    for name in AdaptiveModel.presets:
        model = AdaptiveModel(preset=name)
        frames = 0
        while model.step():
            frames += 1
        assert frames == -(-PLAY_UNITS // model.speed), name
        assert model.time_index == len(model.run["t"]) - 1
        assert "Reached the horizon" in model.status


def test_adaptive_scrubbing_then_playing_continues_from_the_frame_shown() -> None:
    model = AdaptiveModel()
    model.time_index = 100
    assert model.t == pytest.approx(model.run["t"][100])
    model.step()
    assert model.time_index in (100, 101)
    while model.time_index == 100:
        model.step()
    assert model.time_index == 101


def test_adaptive_weak_order_preset_starts_its_study_on_the_next_poll_only() -> None:
    model = AdaptiveModel()
    model.apply_preset("Weak order, ballistic")  # as a link does: the preset, then overrides
    model.weak_paths = 1000
    assert not model.weak_job.running  # a throwaway model never starts it
    model.poll()
    assert model.weak_job.running or model.weak_job.result is not None
    assert model.weak_job.wait(300) and model.weak_job.result is not None
    model.poll()  # once only
    assert not model.weak_job.running


# ------------------------------------------------------------------ signature
def test_signature_near_deterministic_preset_needs_no_wait() -> None:
    """Its story has no indicator: the expected signature is within 5 % from the start."""
    model = SignatureModel(preset="Near-deterministic limit")
    assert model.expected_signature_settled()
    finish(model)


def test_signature_play_draws_one_path_per_step_from_the_classifiers_samples() -> None:
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
    finish(model)


def test_signature_option_labels_are_the_data_sets_kernels_and_features() -> None:
    model = SignatureModel.param
    assert set(model.dataset.names) == {LABELS[v] for v in model.dataset.objects}
    assert set(model.kernel.names) == set(KERNEL_LABELS.values())
    assert set(model.feature_mode.names) == set(FEATURE_LABELS.values())


# ------------------------------------------------------------------ exploration
def test_exploration_presets_pace_themselves_and_open_at_k_zero() -> None:
    model = ExplorationModel()
    for name, values in ExplorationModel.presets.items():
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


def test_exploration_options_are_capitalised_words_and_labels_read_back() -> None:
    model = ExplorationModel()
    for name in model.display_order:
        p = model.param[name]
        if isinstance(p, param.Selector) and not isinstance(p, param.Boolean):
            shown = list(p.names) if p.names else [str(o) for o in p.objects]
            assert all(label[0].isupper() for label in shown), (name, shown)
    assert coerce_value(model.param.layout, "layout", "deep_sea") == ("deep_sea", None)
    assert coerce_value(model.param.gradient, "gradient", "sampled") == ("sampled", None)
    _, notice = coerce_value(model.param.inner_solver, "inner_solver", "Soft value iteration")
    assert notice is not None and "soft_vi" in notice  # the link names identifiers
    other = ExplorationModel()
    assert apply_query(other, {"layout": "frozen_lake_8x8", "gradient": "sampled"}) == []
    assert other.layout == "frozen_lake_8x8" and other.gradient == "sampled"


def test_exploration_readout_chips_follow_the_player() -> None:
    model = ExplorationModel()
    tab = TAB_CLASSES["exploration"](model=model)
    model.step(model.substeps + 2)
    tab.maps.update()
    chips = tab.maps.readouts.object
    assert ">1 / 7<" in chips and ">π₂: " in chips
    assert np.isclose(tab.coverage.markers[0].location, 1 + model.episode_share)
    tab.close()
