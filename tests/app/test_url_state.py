"""Links: parsing never raises, clamps with a notice, and round-trips the numbers."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import numpy as np
import param

from app.models.base import CUSTOM_PRESET
from app.url_state import apply_query, build_query, parse_query
from tests.app.toy_model import ToyModel


def _query(text: str) -> dict[str, str]:
    return dict(parse_qsl(text.lstrip("?")))


def test_round_trip_reproduces_the_same_numbers():
    a = ToyModel(seed=11)
    a.param.update(noise=0.37, kind="b", flag=True, n=9)
    link = build_query(a, "toy")
    b = ToyModel()
    assert apply_query(b, _query(link)) == []
    assert b.param_values() == a.param_values()
    a.step(20)
    b.step(20)
    np.testing.assert_array_equal(a.x, b.x)


def test_preset_link_keeps_preset_name():
    a = ToyModel()
    a.preset = "Big"
    link = build_query(a, "toy")
    assert "preset=Big" in link
    b = ToyModel()
    apply_query(b, _query(link))
    assert b.preset == "Big" and b.n == 10


def test_out_of_range_values_are_clamped_with_notice():
    values, notices = parse_query(ToyModel(), {"noise": "99", "n": "-5"})
    assert values == {"noise": 10.0, "n": 1}
    assert len(notices) == 2 and all("outside" in n for n in notices)


def test_garbage_is_ignored_with_notice_never_raised():
    model = ToyModel()
    before = model.param_values()
    notices = apply_query(
        model,
        {
            "noise": "banana",
            "n": "2.5",
            "kind": "zzz",
            "flag": "maybe",
            "growth": "nan",
            "seed": "1e99",
            "bogus": "1",
            "tab": "toy",
            "theme": "dark",
            "preset": "Nope",
        },
    )
    after = model.param_values()
    assert after["noise"] == before["noise"] and after["kind"] == before["kind"]
    assert after["seed"] == 2**31 - 1  # 1e99 is a whole number: clamped, with a notice
    joined = " ".join(notices)
    for key in ("noise", "n=2.5", "kind", "flag", "growth", "seed", "bogus", "preset"):
        assert key in joined
    assert "theme" not in joined and "tab" not in joined


def test_custom_preset_not_written_and_defaults_omitted():
    model = ToyModel()
    model.noise = 0.2
    assert model.preset == CUSTOM_PRESET
    query = _query(build_query(model, "toy", lesson=True))
    assert query == {"tab": "toy", "lesson": "1", "seed": "1", "noise": "0.2"}


def test_notice_text_from_a_link_cannot_inject_markup():
    from app.text import escape_markdown

    raw = "<img src=x onerror=alert(1)> [link](javascript:alert(1)) **bold** sigma_noise"
    safe = escape_markdown(raw)
    assert "<" not in safe and ">" not in safe
    assert "](" not in safe and "**" not in safe
    assert "sigma\\_noise" in safe  # renders as sigma_noise


def test_link_numbers_drop_slider_residues() -> None:
    from app.url_state import format_value

    assert format_value(0.5049999999999999, 0.005, 0.005) == "0.505"
    assert format_value(0.1 + 0.2, 0.1, 0.0) == "0.3"
    assert format_value(1e-5 + 20 * 1e-4, 1e-4, 1e-5) == "0.00201"  # the start's decimals too
    assert format_value(2.0) == "2"
    assert format_value(-1e-17, 0.005, -1.0) == "0"  # not "-0"
    # without a step nothing is rounded: the shortest text that reads back exactly
    assert format_value(0.1 + 0.2) == "0.30000000000000004"
    assert format_value(1e-7) == "1e-07"
    assert float(format_value(0.123456789012)) == 0.123456789012


def test_the_decimals_a_step_needs_are_one_rule_for_sliders_and_links() -> None:
    from app.tabs.base import _number_format
    from app.url_state import step_decimals

    steps = {10.0: 0, 1.0: 0, 0.5: 1, 0.25: 2, 0.1: 1, 0.05: 2, 0.125: 3, 0.005: 3, 1e-4: 4}
    assert {step: step_decimals(step) for step in steps} == steps
    assert step_decimals(0.01, 0.001) == 3 and step_decimals(0.001, 1e-6) == 6
    # the slider shows at least two decimals, more when its step needs them
    assert [_number_format(s) for s in (None, 2.0, 0.5, 0.05, 0.125, 1e-4)] == [
        "0.[00]",
        "0.[00]",
        "0.00",
        "0.00",
        "0.000",
        "0.0000",
    ]
    # a slider starting off its step's grid shows its start's decimals too: 0.011, not 0.01
    assert _number_format(0.01, 0.001) == "0.000" and _number_format(2.0, 0.5) == "0.00"


def _stepped_params() -> list[tuple[str, Any, str]]:
    """(tab, model, name) of every float param with a slider step, on every tab."""
    from app.main import TABS

    found = []
    for tab in TABS:
        model = tab.model_class()
        for name in model.scientific_params():
            p = model.param[name]
            if isinstance(p, param.Number) and not isinstance(p, param.Integer) and p.step:
                found.append((tab.slug, model, name))
    return found


def test_slider_values_are_written_with_the_step_decimals_and_read_back_in_place() -> None:
    from app.url_state import step_decimals

    residues = 0
    stepped = _stepped_params()
    assert len({slug for slug, _, _ in stepped}) == 6  # every tab has stepped sliders
    for slug, model, name in stepped:
        p = model.param[name]
        lo, hi = p.get_soft_bounds()
        decimals = step_decimals(p.step, lo)
        positions = round((hi - lo) / p.step)
        for k in sorted({1, 2, 3, 7, 101, positions // 3, positions - 1} & set(range(positions))):
            value = lo + k * p.step  # what a slider computes, in floating point
            if value == p.default:
                continue  # a link leaves defaults out
            residues += repr(value) != repr(round(value, decimals))
            model.param.update({name: value})
            link = _query(build_query(model, slug))
            text = link[name]
            where = f"{slug}.{name}: k={k}, {value!r} -> {text}"
            assert len(text.partition(".")[2]) <= decimals, where
            back, notices = parse_query(model, {name: text})
            assert notices == [] and round((back[name] - lo) / p.step) == k, where
            # what moved is the slider's own residue: far below a step (see GRID_TOLERANCE)
            assert abs(back[name] - value) <= 1e-9 * p.step, where
        model.param.update({name: p.default})
    assert residues > 20  # the check met slider residues such as 0.5049999999999999


def test_values_off_the_slider_grid_are_written_exactly() -> None:
    for slug, model, name in _stepped_params():
        p = model.param[name]
        lo, hi = p.get_soft_bounds()
        # a preset's value finer than the step, and a cell of a log-scaled sweep (of a linear
        # one where the range is negative)
        if hi > 0:
            cell = float(np.geomspace(max(lo, p.step), hi, 8)[3])
        else:
            cell = float(np.linspace(lo, hi, 15)[4])
        for value in (lo + 2.37 * p.step, cell):
            k = round((value - lo) / p.step)
            assert abs(value - (lo + k * p.step)) > 1e-6 * p.step  # off the slider's grid
            model.param.update({name: value})
            text = _query(build_query(model, slug))[name]
            fresh = type(model)()
            assert apply_query(fresh, {name: text}) == []
            assert getattr(fresh, name) == value, f"{slug}.{name}: {value!r} -> {text}"
        model.param.update({name: p.default})
