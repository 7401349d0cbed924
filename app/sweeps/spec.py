"""What a model offers to parameter sweeps (issue 15): its outcomes, its sweepable parameters,
its headline pair, one replicate's run and an optional closed-form boundary.

Each model package declares one :class:`ModelSweep` named ``SWEEP`` in
``app/models/<slug>/sweep.py``; the engine (:mod:`app.sweeps.engine`), the CLI and the tab's
sweep panel find it by slug (:func:`app.sweeps.registry.model_sweep`) and know nothing else
about the model. Everything here is picklable by reference (module-level functions), so a Dask
worker process can run a replicate from the slug alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = ["Curve", "ModelSweep", "Outcome"]

#: A polyline in parameter space: ``(x values, y values)``, NaN separating pieces.
Curve = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Outcome:
    """One scalar a replicate reports.

    Attributes
    ----------
    name : str
        Identifier used in URLs, the CLI and file names (``final_log_diameter``).
    label : str
        What the user reads: plain Unicode, no TeX (``final log-diameter``).
    unit : str
        Unit shown after the value, ``""`` for dimensionless.
    better : {"higher", "lower", "none"}
        Which direction is better (colour maps and summaries use it).
    doc : str
        One sentence: what is measured, and how.
    """

    name: str
    label: str
    unit: str = ""
    better: Literal["higher", "lower", "none"] = "none"
    doc: str = ""


@dataclass(frozen=True)
class ModelSweep:
    """A model's sweep interface.

    Attributes
    ----------
    slug : str
        The tab's slug (``tokens``).
    params_class : type
        The model's param class (``TokensParams``): defaults, bounds, soft bounds and labels of
        every parameter come from it.
    parameters : tuple of str
        Numeric parameters that may be swept, most useful first. Each must be a
        ``param.Number`` or ``param.Integer`` with bounds on ``params_class``.
    headline : tuple of (str, str)
        The pair proposed first (x, y), both in ``parameters``.
    outcomes : tuple of Outcome
        Everything :attr:`run` returns, the default outcome first.
    run : callable
        ``run(values, seed) -> {outcome name: float}``: one replicate to the horizon at the
        parameter point ``values`` (every parameter of ``params_class`` by name, already
        validated and within bounds; only scientific parameters, no seed or speed) with
        integer ``seed`` (from :func:`app.sweeps.seeds.replicate_seed`). Deterministic given
        its arguments. An infinite value means the run diverged (the cell is drawn as
        diverged); NaN means the outcome is undefined at this point (left out of the mean).
        Raises ``ValueError`` for a combination the kernels refuse. Module-level, so it
        pickles by reference.
    seconds : callable
        ``seconds(values) -> float``: estimated single-core seconds of one replicate on the
        2-core reference machine (budgets and batching use it).
    boundary : callable or None
        ``boundary(values, x, y, x_range, y_range) -> list of Curve``: closed-form boundary in
        the (x, y) plane at the other parameters ``values``; ``[]`` when this pair has none.
    boundary_label : str
        Legend text of the boundary (``λ = 0: noise balances attention``).
    fixed : mapping
        Parameter values a sweep uses unless the user sets them (for example a lighter
        horizon than the live view's); empty to use the live values.
    ranges : mapping
        ``name -> (lo, hi)``: the range an axis over ``name`` proposes where the parameter's
        soft bounds would waste the grid (a log scale is used when ``hi / lo > 20``).
    """

    slug: str
    params_class: type
    parameters: tuple[str, ...]
    headline: tuple[str, str]
    outcomes: tuple[Outcome, ...]
    run: Callable[[Mapping[str, Any], int], dict[str, float]]
    seconds: Callable[[Mapping[str, Any]], float]
    boundary: Callable[..., list[Curve]] | None = None
    boundary_label: str = ""
    fixed: Mapping[str, Any] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def outcome(self, name: str) -> Outcome:
        """The outcome called ``name`` (``KeyError`` naming the choices otherwise)."""
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        choices = ", ".join(o.name for o in self.outcomes)
        raise KeyError(f"{self.slug} has no outcome {name!r}; choose one of {choices}")
