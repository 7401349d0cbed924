"""A sweep's definition: one or two axes over a model's numeric parameters, the outcome, the
replicates, the seed and the other parameters' values; parsed from text (CLI, URL) with every
out-of-range entry clamped and named in a notice (issue 15, items 2, 4 and 7).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import param

from app.models.base import CUSTOM_PRESET
from app.sweeps.spec import ModelSweep
from app.url_state import IGNORED, coerce_value, format_value

__all__ = [
    "MAX_REPLICATES",
    "MAX_RESOLUTION",
    "Axis",
    "SweepDefinition",
    "SweepError",
    "baseline_values",
    "cell_values",
    "default_axis",
    "integer_param",
    "parse_axis",
    "preset_values",
    "validate",
]

#: Most points along one axis (a 32 × 32 heatmap at most).
MAX_RESOLUTION = 32
#: Most replicates per cell.
MAX_REPLICATES = 64


class SweepError(ValueError):
    """A sweep that cannot run as asked; the message says why and what to change."""


@dataclass(frozen=True)
class Axis:
    """``n`` values of parameter ``name`` from ``lo`` to ``hi``, evenly spaced on a linear or a
    log scale (integer parameters round each value)."""

    name: str
    lo: float
    hi: float
    n: int
    log: bool = False

    def values(self, integer: bool = False) -> np.ndarray:
        """The grid values, ``lo`` and ``hi`` included (``lo`` alone when ``n == 1``)."""
        if self.n == 1:
            grid = np.array([self.lo], dtype=float)
        elif self.log:
            grid = np.geomspace(self.lo, self.hi, self.n)
        else:
            grid = np.linspace(self.lo, self.hi, self.n)
        return np.round(grid) if integer else grid

    def text(self) -> str:
        """``NAME=LO:HI:N[:log]``, what :func:`parse_axis` reads."""
        lo, hi = format_value(float(self.lo)), format_value(float(self.hi))
        return f"{self.name}={lo}:{hi}:{self.n}" + (":log" if self.log else "")


def parse_axis(text: str) -> Axis:
    """Read ``NAME=LO:HI:N[:log]`` (``SweepError`` with the expected form otherwise)."""
    form = "expected NAME=LO:HI:N or NAME=LO:HI:N:log"
    name, sep, rest = str(text).strip().partition("=")
    parts = rest.split(":")
    if not sep or not name or len(parts) not in (3, 4):
        raise SweepError(f"cannot read the axis {text[:80]!r}: {form}")
    if len(parts) == 4 and parts[3].strip().lower() not in ("log", "lin"):
        raise SweepError(f"cannot read the axis {text[:80]!r}: the scale must be log or lin")
    try:
        lo, hi = float(parts[0]), float(parts[1])
        n = int(parts[2])
    except ValueError:
        raise SweepError(f"cannot read the axis {text[:80]!r}: {form}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise SweepError(f"the axis {name} needs finite ends; got {lo:g} and {hi:g}")
    return Axis(name.strip(), lo, hi, n, len(parts) == 4 and parts[3].strip().lower() == "log")


def default_axis(sweep: ModelSweep, name: str, n: int = 8) -> Axis:
    """``n`` points over the sweep's proposed range for the parameter, else its soft bounds
    (its bounds where it has none), on a log
    scale when the range spans more than a factor of 20 and stays positive."""
    p = sweep.params_class.param[name]
    lo, hi = sweep.ranges.get(name, p.get_soft_bounds())
    log = lo is not None and lo > 0 and hi / lo > 20
    if isinstance(p, param.Integer):
        n = min(n, int(hi - lo) + 1)  # no repeated rows of a small integer range
    return Axis(name, float(lo), float(hi), n, log)


def preset_values(sweep: ModelSweep) -> dict[str, Any]:
    """Every scientific parameter's value in a fresh tab: the declared default, with the
    model's default preset over it."""
    cls = sweep.params_class
    values = {name: cls.param[name].default for name in cls.scientific_params()}
    preset = getattr(cls, "default_preset", None)
    if preset and preset != CUSTOM_PRESET:
        values.update(cls.presets.get(preset, {}))
    return values


def baseline_values(sweep: ModelSweep) -> dict[str, Any]:
    """The values a sweep starts from: :func:`preset_values` with the sweep's own ``fixed``
    values (a lighter horizon, say) over them."""
    return {**preset_values(sweep), **sweep.fixed}


@dataclass(frozen=True)
class SweepDefinition:
    """Everything that determines a sweep's numbers.

    ``fixed`` holds the non-swept parameters that differ from :func:`baseline_values` (the live
    view's values, or ``--set NAME=VALUE``).
    """

    slug: str
    x: Axis
    y: Axis | None = None
    outcome: str = ""
    replicates: int = 4
    seed: int = 1
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def axes(self) -> tuple[Axis, ...]:
        return (self.x,) if self.y is None else (self.x, self.y)

    @property
    def shape(self) -> tuple[int, ...]:
        """``(nx,)`` or ``(ny, nx)``: rows are y, as in an image."""
        return (self.x.n,) if self.y is None else (self.y.n, self.x.n)

    @property
    def n_cells(self) -> int:
        return int(np.prod(self.shape))

    def to_query(self) -> dict[str, str]:
        """The ``sweep_*`` link keys that reproduce this definition (with the tab's own keys)."""
        query = {
            "sweep_x": self.x.text(),
            "sweep_outcome": self.outcome,
            "sweep_reps": str(self.replicates),
        }
        if self.y is not None:
            query["sweep_y"] = self.y.text()
        return query


def integer_param(sweep: ModelSweep, name: str) -> bool:
    return isinstance(sweep.params_class.param[name], param.Integer)


def _check_axis(sweep: ModelSweep, axis: Axis, notices: list[str]) -> Axis:
    if axis.name not in sweep.parameters:
        raise SweepError(
            f"{sweep.slug} cannot sweep {axis.name!r}; choose one of {', '.join(sweep.parameters)}"
        )
    low, high = sweep.params_class.param[axis.name].bounds
    lo = min(max(axis.lo, low), high)
    hi = min(max(axis.hi, low), high)
    if (lo, hi) != (axis.lo, axis.hi):
        notices.append(
            f"{axis.name}: the range {axis.lo:g} to {axis.hi:g} is outside the bounds "
            f"[{low:g}, {high:g}]: using {lo:g} to {hi:g}."
        )
    lo, hi = min(lo, hi), max(lo, hi)  # cells run from low to high whatever the order given
    n = min(max(int(axis.n), 1), MAX_RESOLUTION)
    if n != axis.n:
        notices.append(f"{axis.name}: {axis.n} points is outside 1 to {MAX_RESOLUTION}: using {n}.")
    log = axis.log
    if log and min(lo, hi) <= 0:
        notices.append(f"{axis.name}: a log scale needs positive ends: using a linear scale.")
        log = False
    if integer_param(sweep, axis.name) and n > int(hi - lo) + 1 and not log:
        notices.append(
            f"{axis.name}: {lo:g} to {hi:g} holds {int(hi - lo) + 1} whole numbers: "
            f"using {int(hi - lo) + 1} points."
        )
        n = int(hi - lo) + 1
    if lo == hi and n > 1:
        notices.append(f"{axis.name}: the range is a single value: using 1 point.")
        n = 1
    return Axis(axis.name, lo, hi, n, log)


def validate(sweep: ModelSweep, definition: SweepDefinition) -> tuple[SweepDefinition, list[str]]:
    """Clamp ``definition`` into what ``sweep`` allows: ``(definition, notices)``.

    Out-of-range ends, resolutions, replicates and fixed values are clamped with a notice;
    an unknown parameter or outcome, or the same parameter on both axes, raises
    :class:`SweepError`.
    """
    notices: list[str] = []
    x = _check_axis(sweep, definition.x, notices)
    y = None if definition.y is None else _check_axis(sweep, definition.y, notices)
    if y is not None and y.name == x.name:
        raise SweepError(f"both axes sweep {x.name}; choose two different parameters")
    outcome = definition.outcome or sweep.outcomes[0].name
    sweep.outcome(outcome)  # KeyError naming the choices
    replicates = min(max(int(definition.replicates), 1), MAX_REPLICATES)
    if replicates != definition.replicates:
        notices.append(
            f"{definition.replicates} replicates is outside 1 to {MAX_REPLICATES}: "
            f"using {replicates}."
        )
    fixed: dict[str, Any] = {}
    allowed = sweep.params_class.scientific_params()
    for name, raw in definition.fixed.items():
        if name not in allowed:
            raise SweepError(f"{sweep.slug} has no parameter {name!r}")
        value, notice = coerce_value(sweep.params_class.param[name], name, str(raw))
        if notice:
            notices.append(notice)
        if value is not IGNORED:
            fixed[name] = value
    seed = min(max(int(definition.seed), 0), 2**31 - 1)
    checked = replace(
        definition, x=x, y=y, outcome=outcome, replicates=replicates, seed=seed, fixed=fixed
    )
    return checked, notices


def cell_values(sweep: ModelSweep, definition: SweepDefinition) -> list[dict[str, Any]]:
    """The full parameter point of every cell, in cell order (x fastest, then y)."""
    base = {**baseline_values(sweep), **definition.fixed}
    xs = definition.x.values(integer_param(sweep, definition.x.name))
    if definition.y is None:
        points = [{definition.x.name: x} for x in xs]
    else:
        ys = definition.y.values(integer_param(sweep, definition.y.name))
        points = [{definition.x.name: x, definition.y.name: y} for y in ys for x in xs]
    cells = []
    for point in points:
        values = dict(base)
        for name, value in point.items():
            values[name] = int(value) if integer_param(sweep, name) else float(value)
        cells.append(values)
    return cells
