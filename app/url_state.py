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
        p = model.param[name]
        if value != p.default:
            items[name] = format_value(value, *_slider_grid(p))
    return "?" + urlencode(items)


def _slider_grid(p: param.Parameter) -> tuple[float | None, float | None]:
    """The step and the start of ``p``'s slider (Panel starts it at the soft lower bound)."""
    if not isinstance(p, param.Number):
        return None, None
    return p.step, p.get_soft_bounds()[0]


#: The most decimals a slider step is written with: a double carries 15 to 17 significant digits.
MAX_DECIMALS = 15
#: How far from its slider's nearest position (start + k·step) a float may lie, as a fraction
#: of the step, and still be written rounded. A slider's floating-point arithmetic leaves a
#: residue of a few units in the last place of the range (0.5049999999999999 for 0.505: 1e-16),
#: at most 1.1e-13 over every position of every tab's sliders, measured, on the widest one (the
#: signature tab's head_c, 0.001 to 1000 in steps of 0.001: 1.1e-10 of its step); a value a
#: preset, a typed number or a sweep cell puts off the grid lies much further from it and is
#: written exactly.
GRID_TOLERANCE = 1e-9


def step_decimals(step: float, start: float | None = None) -> int:
    """The decimals a slider's values need: those of its step and of its start.

    Values of a slider are ``start + k * step``; a step of 0.005 needs 3 decimals, 0.25 needs
    2, 10 needs none, and a slider from 0.001 in steps of 0.01 (0.001, 0.011, ...) needs 3.
    The slider format (:mod:`app.tabs.base`) and the links (:func:`format_value`) both use
    this rule.

    Parameters
    ----------
    step : float
        The slider's step (positive).
    start : float, optional
        The slider's first value; None counts as 0.

    Returns
    -------
    int
        The fewest decimals that write the step and the start exactly (to 1e-9 of each: their
        own binary residue), at most :data:`MAX_DECIMALS`.
    """
    needed = 0
    for number in (step, start or 0.0):
        number = abs(float(number))
        while needed < MAX_DECIMALS and abs(round(number, needed) - number) > 1e-9 * number:
            needed += 1
    return needed


def format_value(value: Any, step: float | None = None, start: float | None = None) -> str:
    """Text for a param value in a link.

    A float on its slider's grid (``start + k * step`` up to :data:`GRID_TOLERANCE` of a
    step) is written with the decimals the grid needs (:func:`step_decimals`):
    ``0.5049999999999999`` from a slider in steps of 0.005 is ``0.505``, what the slider shows.
    Any other float (off the grid, or of a param without a step) is written exactly: the
    shortest text that reads back to the same double, so the link reproduces the run bit for
    bit.

    Parameters
    ----------
    value : Any
        The param's value (bool, int, float, str, ...).
    step, start : float, optional
        The step and the first value of the param's slider, if it has one.

    Returns
    -------
    str
        ``1``/``0`` for booleans, whole floats without ``.0``, ``str`` for anything else.
    """
    if isinstance(value, bool):
        return "1" if value else "0"
    if not isinstance(value, float):
        return str(value)
    if step is not None and step > 0 and math.isfinite(value):
        origin = start or 0.0
        position = round((value - origin) / step)
        if abs(value - (origin + position * step)) <= GRID_TOLERANCE * step:
            decimals = step_decimals(step, start)
            text = f"{round(value, decimals):.{decimals}f}"
            text = text.rstrip("0").rstrip(".") if "." in text else text
            return "0" if text == "-0" else text
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


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
