"""One session's sweep on one tab: its definition (the panel's controls and the ``sweep_*``
link keys), its run on the shared cluster, its partial results and cancellation.

Panel-free: the tab's sweep panel (:mod:`app.tabs.sweep`) shows these params and calls
:meth:`SweepSession.start`, :meth:`SweepSession.cancel` and :meth:`SweepSession.cell_point`.
Results arrive on a helper thread (param changes fire there; the view marshals them).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import param

from app.sweeps import cluster
from app.sweeps.cache import ReplicateCache
from app.sweeps.engine import PENDING, Plan, SweepCancelled, diverged, execute, plan_sweep
from app.sweeps.grid import (
    MAX_REPLICATES,
    MAX_RESOLUTION,
    Axis,
    SweepDefinition,
    SweepError,
    default_axis,
    integer_param,
    parse_axis,
    preset_values,
)
from app.sweeps.registry import model_sweep
from app.sweeps.results import cell_summary, to_dataset
from app.text import shorten

__all__ = ["NO_AXIS", "SweepSession"]

#: The y selector's entry for a one-parameter sweep.
NO_AXIS = "none"
#: Link keys of a sweep definition.
QUERY_KEYS = ("sweep_x", "sweep_y", "sweep_outcome", "sweep_reps")
#: Settings :meth:`SweepSession.reset_definition` returns to their declared defaults (the axis
#: names, their ranges and the outcome follow from the tab's sweep).
RESET_TO_DEFAULT = ("x_n", "y_n", "y_lo", "y_hi", "y_log", "replicates", "in_url")


class SweepSession(param.Parameterized):
    """The sweep panel's state for one tab in one session."""

    x = param.Selector(default=None, objects=[], label="x parameter", doc="Swept along x.")
    x_lo = param.Number(default=0.0, label="x from", doc="First value of x.")
    x_hi = param.Number(default=1.0, label="x to", doc="Last value of x.")
    x_n = param.Integer(default=8, bounds=(1, MAX_RESOLUTION), label="x points")
    x_log = param.Boolean(default=False, label="log x", doc="Space x values geometrically.")
    y = param.Selector(default=NO_AXIS, objects=[NO_AXIS], label="y parameter")
    y_lo = param.Number(default=0.0, label="y from")
    y_hi = param.Number(default=1.0, label="y to")
    y_n = param.Integer(default=8, bounds=(1, MAX_RESOLUTION), label="y points")
    y_log = param.Boolean(default=False, label="log y")
    outcome = param.Selector(default=None, objects=[], label="Outcome", doc="What each cell shows.")
    replicates = param.Integer(
        default=4, bounds=(1, MAX_REPLICATES), label="Replicates", doc="Runs per cell (mean ± SE)."
    )
    running = param.Boolean(default=False, doc="True while the sweep computes.")
    progress = param.Number(default=0.0, bounds=(0.0, 1.0))
    message = param.String(default="", doc="What the sweep is doing or how it ended.")
    error = param.String(default="", doc="Why the last sweep could not run.")
    plan = param.Parameter(default=None, doc="The current sweep's plan and (partial) results.")
    generation = param.Integer(default=0, doc="Incremented whenever results arrive.")
    in_url = param.Boolean(default=False, doc="Whether the link carries this sweep.")

    def __init__(self, slug: str, cache: ReplicateCache | None = None, **params: Any) -> None:
        super().__init__(**params)
        self.slug = slug
        self.sweep = model_sweep(slug)
        self.cache = cache if cache is not None else ReplicateCache()
        # label -> name: the selectors show what the controls call each parameter
        labels = {self._label(name): name for name in self.sweep.parameters}
        self.param.x.objects = labels
        self.param.y.objects = {"(none: one-parameter sweep)": NO_AXIS, **labels}
        self.param.outcome.objects = {
            o.label + (f" ({o.unit})" if o.unit else ""): o.name for o in self.sweep.outcomes
        }
        self.param.watch(self._x_changed, ["x"])
        self.param.watch(self._y_changed, ["y"])
        self.reset_definition()
        self._cancel = threading.Event()
        self._lock = threading.Lock()

    # ------------------------------------------------------------- definition
    def _label(self, name: str) -> str:
        return str(self.sweep.params_class.param[name].label or name)

    def _set_axis(self, prefix: str, axis: Axis) -> None:
        self.param.update(
            {
                f"{prefix}_lo": axis.lo,
                f"{prefix}_hi": axis.hi,
                f"{prefix}_n": axis.n,
                f"{prefix}_log": axis.log,
            }
        )

    def reset_definition(self) -> None:
        """Give the panel a fresh session's settings: the tab's headline pair on their default
        ranges, the first outcome, the default replicates, and no sweep in the link. The
        results of a sweep already run stay (only Run sweep replaces them)."""
        self.param.update({name: self.param[name].default for name in RESET_TO_DEFAULT})
        x, y = self.sweep.headline
        self.param.update(x=x, y=y, outcome=self.sweep.outcomes[0].name)
        # unchanged names fire no watcher: their ranges are set here
        self._set_axis("x", default_axis(self.sweep, x, self.x_n))
        if y != NO_AXIS:
            self._set_axis("y", default_axis(self.sweep, y, self.y_n))

    def restore_query(self, query: Mapping[str, str]) -> list[str]:
        """Show exactly the sweep settings of a link the tab showed before (Back or Forward).

        A link names only the sweep it carries: the settings it does not name return to a fresh
        session's (:meth:`reset_definition`) before its ``sweep_*`` keys are applied
        (:meth:`apply_query`). Nothing starts running.

        Parameters
        ----------
        query : mapping of str to str
            The link's query (keys other than ``sweep_*`` are ignored).

        Returns
        -------
        list of str
            Notices for what was ignored or clamped.
        """
        self.reset_definition()
        return self.apply_query({k: v for k, v in query.items() if k in QUERY_KEYS})

    def _x_changed(self, event: param.parameterized.Event) -> None:
        if event.new == self.y:
            self.y = NO_AXIS
        self._set_axis("x", default_axis(self.sweep, event.new, self.x_n))

    def _y_changed(self, event: param.parameterized.Event) -> None:
        if event.new == NO_AXIS:
            return
        if event.new == self.x:
            self.y = NO_AXIS
            return
        self._set_axis("y", default_axis(self.sweep, event.new, self.y_n))

    def axes(self) -> tuple[Axis, Axis | None]:
        x = Axis(self.x, self.x_lo, self.x_hi, self.x_n, self.x_log)
        y = None if self.y == NO_AXIS else Axis(self.y, self.y_lo, self.y_hi, self.y_n, self.y_log)
        return x, y

    def definition(self, live: Mapping[str, Any], seed: int) -> SweepDefinition:
        """The sweep at the live view's parameters ``live``: only values the user moved away
        from the tab's default preset are fixed, so the sweep's own lighter settings
        (``ModelSweep.fixed``) hold otherwise."""
        x, y = self.axes()
        reference = preset_values(self.sweep)
        fixed = {n: v for n, v in live.items() if n in reference and v != reference[n]}
        return SweepDefinition(self.slug, x, y, self.outcome, self.replicates, seed, fixed)

    # ------------------------------------------------------------------ links
    def to_query(self) -> dict[str, str]:
        """The ``sweep_*`` keys of the current definition (empty unless :attr:`in_url`)."""
        if not self.in_url:
            return {}
        x, y = self.axes()
        query = {"sweep_x": x.text(), "sweep_outcome": self.outcome}
        query["sweep_reps"] = str(self.replicates)
        # "none" too: without sweep_y a link opens on the tab's headline y (a 2-D sweep)
        query["sweep_y"] = NO_AXIS if y is None else y.text()
        return query

    def apply_query(self, query: Mapping[str, str]) -> list[str]:
        """Load ``sweep_*`` keys from a link; returns notices for what was ignored or clamped."""
        notices: list[str] = []
        updates: dict[str, Any] = {}
        for key, prefix in (("sweep_x", "x"), ("sweep_y", "y")):
            if key not in query:
                continue
            text = query[key]
            if prefix == "y" and text.strip().lower() in ("", NO_AXIS):
                updates["y"] = NO_AXIS
                continue
            try:
                axis = parse_axis(text)
                if axis.name not in self.sweep.parameters:
                    raise SweepError(f"{self.slug} cannot sweep {axis.name!r}")
            except SweepError as error:
                notices.append(f"Ignored '{key}': {shorten(str(error), 160)}.")
                continue
            low, high = self.sweep.params_class.param[axis.name].bounds
            lo, hi = min(max(axis.lo, low), high), min(max(axis.hi, low), high)
            n = min(max(axis.n, 1), MAX_RESOLUTION)
            if (lo, hi, n) != (axis.lo, axis.hi, axis.n):
                notices.append(f"'{key}' was clamped to {axis.name}={lo:g}:{hi:g}:{n}.")
            updates[prefix] = axis.name
            updates.update({f"{prefix}_lo": lo, f"{prefix}_hi": hi, f"{prefix}_n": n})
            updates[f"{prefix}_log"] = axis.log and min(lo, hi) > 0
        if "sweep_outcome" in query:
            if query["sweep_outcome"] in self.param.outcome.objects:
                updates["outcome"] = query["sweep_outcome"]
            else:
                notices.append("Ignored 'sweep_outcome': not an outcome of this tab.")
        if "sweep_reps" in query:
            try:
                reps = int(query["sweep_reps"])
                clamped = min(max(reps, 1), MAX_REPLICATES)
                if clamped != reps:
                    notices.append(f"'sweep_reps={reps}' is outside 1 to 64: using {clamped}.")
                updates["replicates"] = clamped
            except ValueError:
                notices.append("Ignored 'sweep_reps': not a whole number.")
        # the axis names first (their watchers reset the ranges), then the ranges on top
        for name in ("x", "y"):
            if name in updates:
                setattr(self, name, updates.pop(name))
        self.param.update(updates)
        self.in_url = any(key in query for key in QUERY_KEYS)
        return notices

    # ---------------------------------------------------------------- running
    def start(self, live: Mapping[str, Any], seed: int) -> None:
        """Plan the sweep at ``live`` and run it on the shared cluster in the background
        (cancelling this session's previous sweep)."""
        self.cancel()
        self.in_url = True
        try:
            plan = plan_sweep(self.definition(live, seed))
        except (SweepError, KeyError) as error:
            self.param.update(error=shorten(str(error.args[0] if error.args else error)))
            return
        cancel = threading.Event()
        with self._lock:
            self._cancel = cancel
        self.param.update(
            plan=plan,
            running=True,
            progress=0.0,
            error="",
            message=" ".join(plan.notices) or "Starting the sweep cluster…",
        )
        threading.Thread(
            target=self._run, args=(plan, cancel), name=f"sweep-{self.slug}", daemon=True
        ).start()

    def _run(self, plan: Plan, cancel: threading.Event) -> None:
        def arrived(current: Plan) -> None:
            if cancel.is_set():
                return
            self.param.update(
                progress=current.done / max(current.total, 1),
                message=f"{current.done} of {current.total} runs done",
                generation=self.generation + 1,
            )

        outcome = {"error": "", "message": ""}
        try:
            client = cluster.SHARED.client()
            execute(plan, client, self.cache, on_update=arrived, cancel=cancel)
            outcome["message"] = f"Done: {plan.total} runs" + (
                f" ({len(plan.messages)} refused by the kernels)" if plan.messages else ""
            )
        except SweepCancelled:
            outcome["message"] = "Cancelled."
        except (cluster.ClusterUnavailable, SweepError) as error:
            outcome["error"] = shorten(str(error))
        except Exception as error:  # the app keeps serving whatever the cluster does
            outcome["error"] = shorten(f"The sweep failed: {type(error).__name__}: {error}")
        if cancel.is_set() and not outcome["error"]:
            outcome["message"] = "Cancelled."
        self.param.update(running=False, generation=self.generation + 1, **outcome)

    def cancel(self) -> None:
        """Stop this session's sweep (its queued and running tasks are cancelled)."""
        with self._lock:
            self._cancel.set()

    def cell_point(self, cell: int) -> dict[str, Any]:
        """The swept parameters' values at cell ``cell`` of the current plan."""
        if self.plan is None or not 0 <= cell < len(self.plan.cells):
            return {}
        values = self.plan.cells[cell]
        return {axis.name: values[axis.name] for axis in self.plan.definition.axes}

    # --------------------------------------------------------------- readouts
    def table(self) -> dict[str, Any] | None:
        """What the panel draws of the current plan: per cell its centre and edges on each
        axis, mean, standard error, finite replicates ``n``, and whether a replicate diverged;
        None before the first sweep."""
        plan = self.plan
        if plan is None:
            return None
        definition = plan.definition
        mean, stderr, n = cell_summary(plan.values[definition.outcome])
        blown = diverged(plan.values[definition.outcome], plan.status).any(axis=1)
        pending = (plan.status == PENDING).all(axis=1)
        columns: dict[str, Any] = {
            "mean": mean,
            "stderr": stderr,
            "n": n,
            "diverged": blown,
            "pending": pending,
        }
        for label, axis in zip(("x", "y"), definition.axes, strict=False):
            values = np.array([cell[axis.name] for cell in plan.cells], dtype=float)
            centres = axis.values(integer_param(self.sweep, axis.name))
            lo_edges, hi_edges = cell_edges(centres, axis.log)
            index = np.searchsorted(centres, values) if axis.n > 1 else np.zeros(len(values), int)
            index = np.clip(index, 0, len(centres) - 1)
            columns[label] = values
            columns[f"{label}_lo"] = lo_edges[index]
            columns[f"{label}_hi"] = hi_edges[index]
        return columns

    def boundary(self, live: Mapping[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
        """The model's closed-form boundary in the current plan's (x, y) plane at the live
        values (``[]`` for a one-parameter sweep or a pair without one)."""
        plan = self.plan
        if plan is None or plan.definition.y is None or self.sweep.boundary is None:
            return []
        x, y = plan.definition.x, plan.definition.y
        values = {**plan.cells[0], **{k: v for k, v in live.items() if k not in (x.name, y.name)}}
        x_range = (min(x.lo, x.hi), max(x.lo, x.hi))
        y_range = (min(y.lo, y.hi), max(y.lo, y.hi))
        try:
            return list(self.sweep.boundary(values, x.name, y.name, x_range, y_range))
        except (ValueError, ZeroDivisionError, FloatingPointError):
            return []

    def dataset(self) -> Any:
        """The current results as an xarray Dataset (None before the first sweep)."""
        return None if self.plan is None else to_dataset(self.plan)


def cell_edges(centres: np.ndarray, log: bool) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edges of the cells around sorted ``centres``: midpoints between
    neighbours (geometric on a log axis), half a spacing beyond the ends."""
    c = np.asarray(centres, dtype=float)
    if len(c) == 1:
        width = abs(c[0]) * 0.1 or 0.5
        return c - width, c + width
    t = np.log(c) if log else c
    mid = (t[1:] + t[:-1]) / 2
    lo = np.concatenate([[t[0] - (mid[0] - t[0])], mid])
    hi = np.concatenate([mid, [t[-1] + (t[-1] - mid[-1])]])
    return (np.exp(lo), np.exp(hi)) if log else (lo, hi)
