"""Links: parsing never raises, clamps with a notice, and round-trips the numbers."""

from __future__ import annotations

from urllib.parse import parse_qsl

import numpy as np

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

    assert format_value(0.5049999999999999) == "0.505"
    assert format_value(0.1 + 0.2) == "0.3"
    assert format_value(1e-7) == "1e-07"
    assert format_value(2.0) == "2"
    assert float(format_value(0.123456789012)) == 0.123456789012
