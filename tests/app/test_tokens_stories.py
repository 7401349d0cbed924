"""Every token preset tells its story: a caption, the panel that shows it, and a pace.

Each preset's indicator (a model method, :class:`app.models.story.Story`) must turn True after
between :func:`app.models.story.pace_frames` frames of play, one ``model.step()`` per frame:
10 to 60 s at 30 frames per second, narratable in front of a class. Frames are counted, never
timed. Measured at seed 1 (every preset runs seed 1): teaching default 628 frames, independent
noise 1000, odd activation 613, odd activation plus bias 950, tanh in d = 32 1000, sigmoid in
d = 32 540, repulsive attention 1000, strong noise 611, mean vs median 500.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from app.models.story import pace_frames
from app.models.tokens.model import TokensModel
from app.models.tokens.params import ACTIVATION_LABELS, MEAN_VS_MEDIAN
from app.tabs.panel import TabPanel
from app.tabs.tokens.tab import TokensTab
from app.url_state import apply_query, build_query, coerce_value
from kernels.common.activations import ACTIVATIONS

#: TeX a student must never read in plain text.
TEX = re.compile(r"\^\{|_\{|\\[A-Za-z]+")

#: Frames measured at seed 1 (module docstring): the test asserts the window, these document
#: the pace and catch an unnoticed change of it.
MEASURED_FRAMES = {
    "Teaching default: noise alone synchronizes": 628,
    "Independent noise": 1000,
    "Odd activation: two antipodal clusters": 613,
    "Odd activation plus bias: one cluster": 950,
    "Dimension decides: tanh never collapses": 1000,
    "Dimension decides: sigmoid collapses": 540,
    "Repulsive attention beats weak noise": 1000,
    "Strong noise beats repulsive attention": 611,
    MEAN_VS_MEDIAN: 500,
}


@pytest.fixture(scope="module")
def tab() -> TokensTab:
    return TokensTab()


def test_every_preset_has_a_story() -> None:
    assert set(TokensModel.stories) == set(TokensModel.presets)
    for name, story in TokensModel.stories.items():
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", story.look_for.strip()) if s]
        assert 2 <= len(sentences) <= 3, (name, sentences)


def test_no_tex_in_any_caption() -> None:
    for name, story in TokensModel.stories.items():
        assert not TEX.search(story.look_for), name
        assert "$" not in story.look_for, name


def test_story_panels_are_panels_of_the_tab(tab: TokensTab) -> None:
    for name, story in TokensModel.stories.items():
        if story.panel:
            assert isinstance(getattr(tab, story.panel, None), TabPanel), (name, story.panel)
    # the mean-vs-median effect lives in the ensemble panel (issue 12)
    assert TokensModel.stories[MEAN_VS_MEDIAN].panel == "ensemble"


def test_indicators_are_model_methods() -> None:
    model = TokensModel()
    for name, story in TokensModel.stories.items():
        assert story.indicator, f"{name}: every token preset is a moment in the run"
        method = getattr(model, story.indicator, None)
        assert callable(method), (name, story.indicator)
        assert method() is False, f"{name}: {story.indicator} is True before the run"


def test_choosing_a_preset_shows_its_story_and_moves_its_panel(tab: TokensTab) -> None:
    tab.model.preset = MEAN_VS_MEDIAN
    assert tab._story.visible and tab.model.stories[MEAN_VS_MEDIAN].look_for in tab._story.object
    assert tab._spotlight.objects == [tab.ensemble.view()]
    tab.model.preset = "Independent noise"
    assert tab._spotlight.objects == []


def _frames_until(model: TokensModel, indicator: str, limit: int) -> int:
    """Frames (``model.step()`` calls at the preset's speed) until ``indicator`` is True; the
    first frame past ``limit`` if it never is."""
    check = getattr(model, indicator)
    frames = 0
    while not check() and frames <= limit:
        assert model.step() or check(), "the run stopped before its indicator"
        frames += 1
    return frames


@pytest.mark.slow  # about 15 s for the nine presets, frame by frame
@pytest.mark.parametrize("name", list(TokensModel.presets))
def test_preset_unfolds_at_a_narratable_pace(name: str) -> None:
    model = TokensModel()
    model.apply_preset(name)
    story = model.stories[name]
    if name == MEAN_VS_MEDIAN:
        # its indicator reads the ensemble, which a live session starts by itself
        model.run_ensemble()
        assert model.ensemble.wait(300) and model.ensemble.result is not None
        assert model.ensemble_summary().n_real == 1024  # the whole ensemble fits the budget
    low, high = pace_frames(model.frame_interval)
    frames = _frames_until(model, story.indicator, high)
    print(f"{name}: {frames} frames ({frames / 30:.1f} s at 30 frames/s)")
    assert low <= frames <= high, f"{name}: {frames} frames, outside [{low}, {high}]"
    assert frames == pytest.approx(MEASURED_FRAMES[name], rel=0.1)


def test_indicators_tell_the_phenomenon_apart() -> None:
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


def test_mean_median_split_waits_for_an_up_to_date_ensemble() -> None:
    model = TokensModel(preset=MEAN_VS_MEDIAN)
    model.step(800)
    assert not model.has_mean_median_split()  # no ensemble yet
    model.run_ensemble()
    assert model.ensemble.wait(300)
    assert model.has_mean_median_split()
    model.sigma_noise = 0.5  # the ensemble is stale now
    assert not model.has_mean_median_split()


def test_presets_set_their_pace_and_seed() -> None:
    model = TokensModel()
    for name, values in TokensModel.presets.items():
        assert "speed" in values and values.get("seed") == 1, name
        model.apply_preset(name)
        assert model.speed == values["speed"]
    model.speed = 40
    model.apply_preset("Strong noise beats repulsive attention")
    assert model.speed == 2


# ---------------------------------------------------------------- human labels
SELECTORS = (
    "activation",
    "attn_kind",
    "init",
    "energy_kind",
    "noise_sharing",
    "hidden_weights",
    "splitting",
    "manifold",
)


def test_selector_options_are_words_not_identifiers() -> None:
    model = TokensModel()
    for name in SELECTORS:
        names = model.param[name].names
        assert names, f"{name} shows its identifiers"
        assert set(names.values()) == set(model.param[name].objects)
        for label in names:
            assert "_" not in label and label.strip() == label, (name, label)
    assert model.param["activation"].names["leaky ReLU"] == "leaky_relu"
    assert model.param["attn_kind"].names["softmax (SA)"] == "sa"
    assert set(ACTIVATION_LABELS) == set(ACTIVATIONS)


def test_links_keep_the_identifiers_of_labelled_options() -> None:
    model = TokensModel()
    model.param.update(activation="leaky_relu", attn_kind="usa", splitting="strang")
    query = build_query(model, "tokens")
    assert "activation=leaky_relu" in query and "attn_kind=usa" in query
    assert "splitting=strang" in query
    fresh = TokensModel()
    notices = apply_query(fresh, dict(p.split("=") for p in query.lstrip("?").split("&")))
    assert notices == []
    assert (fresh.activation, fresh.attn_kind, fresh.splitting) == ("leaky_relu", "usa", "strang")
    value, notice = coerce_value(model.param["energy_kind"], "energy_kind", "mean_norm")
    assert (value, notice) == ("mean_norm", None)
    # a label is not a link value: it is ignored with a notice, never applied
    value, notice = coerce_value(model.param["attn_kind"], "attn_kind", "softmax (SA)")
    assert notice and "expected one of" in notice


def test_widgets_show_the_labels(tab: TokensTab) -> None:
    select = next(
        w
        for w in tab._controls.select(lambda o: getattr(o, "name", "") == "s activation")
        if hasattr(w, "options")
    )
    assert "ReLU" in select.options and select.options["ReLU"] == "relu"


def test_preset_and_slider_labels_are_words() -> None:
    model = TokensModel()
    for name in model.presets:
        assert not re.fullmatch(r"[a-z_]+", name), name
    for name in model.scientific_params():
        label = model.param[name].label
        assert label != name and not re.fullmatch(r"[a-z_]+", label), label
        assert "_" not in label.replace("σ_", ""), label


# ---------------------------------------------------------------- no TeX on screen
def test_no_tex_in_the_tabs_plain_text(tab: TokensTab) -> None:
    from bokeh.models import Axis, Legend, Plot, Title

    tab.model.dim = 32  # the projected title
    tab.hero.update()
    texts: list[str] = []
    for panel in tab.panels:
        for fig in [v for v in vars(panel).values() if isinstance(v, Plot)]:
            for title in fig.select(type=Title):
                texts.append(title.text or "")
            for axis in fig.select(type=Axis):
                texts.append(str(axis.axis_label or ""))
            for legend in fig.select(type=Legend):
                texts.extend(str(getattr(item.label, "value", item.label)) for item in legend.items)
    layout = tab.__panel__()
    for obj in layout.select(lambda o: isinstance(getattr(o, "object", None), str)):
        if "ns-equation" in getattr(obj, "css_classes", []):
            continue  # KaTeX display equations of the model card render
        texts.append(obj.object)
    texts.extend(tab.model.param[n].doc for n in tab.model.scientific_params())
    bad = [t for t in texts if TEX.search(t)]
    assert not bad, bad
    assert any("S³¹" in t for t in texts)  # the hero's title in d = 32
    tab.model.dim = 3
    assert np.isfinite(tab.model.x).all()
