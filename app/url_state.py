"""Query-string state: parse (clamping bad values with a notice) and build reproducible links.

A link carries ``tab``, the seed, the preset (unless Custom) and every scientific parameter that
differs from its default, so opening it reproduces the same numbers. Parsing never raises:
malformed values are ignored and out-of-range values are clamped, each with a notice the app
shows to the user.

We do not use ``pn.state.location.sync`` for the initial load because it applies raw query values
with ``param.update`` and fails on the first out-of-range value; parsing here validates every value
against the param's bounds/objects first. This module does not import Panel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import param

from app.models.base import CUSTOM_PRESET, SimulationModel

#: Query keys owned by the app shell or by Panel's template (theme toggle), never notices.
SHELL_KEYS = frozenset({"tab", "lesson", "theme"})
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def url_param_names(model: SimulationModel) -> tuple[str, ...]:
    """Names a link may carry for this model, in the order they are applied."""
    return ("preset", "seed", *model.scientific_params())


def parse_query(
    model: SimulationModel, query: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """Validate ``query`` against ``model``'s params.

    Returns ``(values, notices)``: values safe to pass to ``model.param.update`` (the preset, if
    any, first) and human-readable notices for every ignored or clamped entry.
    """
    allowed = url_param_names(model)
    values: dict[str, Any] = {}
    notices: list[str] = []
    for key, raw in query.items():
        if key in SHELL_KEYS:
            continue
        if key not in allowed:
            notices.append(f"Ignored unknown link parameter '{key}'.")
            continue
        value, notice = coerce_value(model.param[key], key, raw)
        if notice:
            notices.append(notice)
        if value is not _IGNORED:
            values[key] = value
    if "preset" in values:
        values = {"preset": values.pop("preset"), **values}
    return values, notices


def apply_query(model: SimulationModel, query: Mapping[str, str]) -> list[str]:
    """Parse ``query`` and apply it to ``model`` (preset first, then overrides); return notices."""
    values, notices = parse_query(model, query)
    preset = values.pop("preset", None)
    if preset not in (None, CUSTOM_PRESET):
        model.apply_preset(preset)
    if values:
        # unchanged values fire no watcher, so a link that repeats its preset's values keeps it
        model.param.update(**values)
    return notices


def build_query(model: SimulationModel, tab: str, lesson: bool = False) -> str:
    """The query string (with ``?``) that reproduces ``model``'s current numbers."""
    items: dict[str, Any] = {"tab": tab}
    if lesson:
        items["lesson"] = 1
    if model.preset != CUSTOM_PRESET:
        items["preset"] = model.preset
    items["seed"] = model.seed
    for name in model.scientific_params():
        value = getattr(model, name)
        if value != model.param[name].default:
            items[name] = format_value(value)
    return "?" + urlencode(items)


#: Significant digits of a float in a link: a slider's arithmetic leaves residues such as
#: 0.5049999999999999 (shown as 0.505); twelve digits keep every value a control can set.
LINK_DIGITS = 12


def format_value(value: Any) -> str:
    """Short text for a param value: floats with :data:`LINK_DIGITS` significant digits."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.{LINK_DIGITS}g}"
    return str(value)


class _Ignored:
    pass


_IGNORED = _Ignored()
#: What :func:`coerce_value` returns for a value it had to ignore (its notice says why).
IGNORED = _IGNORED


def coerce_value(p: param.Parameter, name: str, raw: str) -> tuple[Any, str | None]:
    """Convert query text to a valid value for ``p``: ``(value, notice)``; never raises."""
    text = str(raw).strip()
    if isinstance(p, param.Boolean):
        if text.lower() in _TRUE:
            return True, None
        if text.lower() in _FALSE:
            return False, None
        return _IGNORED, f"Ignored '{name}={text}': expected 1 or 0."
    if isinstance(p, param.Selector):
        objects = list(p.objects)
        for obj in objects:
            if text == str(obj):
                return obj, None
        shown = ", ".join(str(o) for o in objects)
        return _IGNORED, f"Ignored '{name}={text}': expected one of {shown}."
    if isinstance(p, param.Number):  # Integer is a Number subclass
        try:
            number = float(text)
        except ValueError:
            return _IGNORED, f"Ignored '{name}={text}': not a number."
        if not math.isfinite(number):
            return _IGNORED, f"Ignored '{name}={text}': not a finite number."
        if isinstance(p, param.Integer):
            if number != int(number):
                return _IGNORED, f"Ignored '{name}={text}': expected a whole number."
            number = int(number)
        return _clamp(p, name, number)
    if isinstance(p, param.String):
        return text, None
    return _IGNORED, f"Ignored '{name}': this parameter cannot be set from a link."


def _clamp(p: param.Number, name: str, number: float) -> tuple[Any, str | None]:
    low, high = p.bounds if p.bounds is not None else (None, None)
    clamped = number
    if low is not None and number < low:
        clamped = low
    if high is not None and number > high:
        clamped = high
    if clamped != number:
        lo_text = "-inf" if low is None else f"{low:g}"
        hi_text = "inf" if high is None else f"{high:g}"
        return clamped, f"'{name}={number:g}' is outside [{lo_text}, {hi_text}]: using {clamped:g}."
    return number, None
