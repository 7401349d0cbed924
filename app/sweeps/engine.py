"""Run a sweep: plan its replicates, take what the cache has, batch the rest into tasks and
run them in-process or on a Dask cluster, collecting results as they arrive (issue 15, items
3-7).

A task is a batch of replicates of one tab (:func:`run_replicates`), sized so a task computes
for about a second: Dask's per-task cost (a few milliseconds) stays a small fraction of the
work, and the first cells still arrive within seconds. Every replicate's seed comes from
(seed, cell, replicate) alone, so how the batches fall, how many workers run them and whether a
worker dies and its tasks rerun elsewhere never changes a number.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.sweeps.cache import ReplicateCache
from app.sweeps.grid import SweepDefinition, SweepError, cell_values, validate
from app.sweeps.registry import model_sweep
from app.sweeps.seeds import replicate_seed
from app.sweeps.spec import ModelSweep
from app.text import shorten

__all__ = [
    "MAX_SWEEP_SECONDS",
    "PENDING",
    "Plan",
    "SweepCancelled",
    "diverged",
    "plan_sweep",
    "run_replicates",
]

#: The most estimated single-core compute one sweep may ask for (20 minutes: a 2-core laptop
#: with one worker per spare core finishes it in well under half an hour).
MAX_SWEEP_SECONDS = 1200.0
#: A task computes for about this long (bounded below by one replicate).
TASK_SECONDS = 1.0
#: Status codes of a replicate.
PENDING, OK, DIVERGED, FAILED = 0, 1, 2, 3
STATUS_NAMES = {PENDING: "pending", OK: "ok", DIVERGED: "diverged", FAILED: "failed"}


class SweepCancelled(RuntimeError):
    """The sweep was cancelled before every replicate finished."""


def run_replicates(slug: str, items: Sequence[tuple[int, int, dict[str, Any], int]]) -> list[dict]:
    """Run replicates ``(cell, replicate, values, seed)`` of tab ``slug``: one Dask task.

    Returns one record per item: ``cell``, ``replicate``, ``outcomes`` (name → float),
    ``status`` (:data:`OK`; :data:`DIVERGED` when the run raised a floating-point error;
    :data:`FAILED` when the kernels refused the combination), ``message`` and ``seconds``
    (the replicate's wall time on the worker). An infinite
    outcome marks a run diverged for that outcome (:func:`diverged`); a NaN one is undefined
    at that point and counts in no mean.
    """
    sweep = model_sweep(slug)
    names = [outcome.name for outcome in sweep.outcomes]
    records = []
    for cell, replicate, values, seed in items:
        message = ""
        start = time.perf_counter()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                raw = sweep.run(values, seed)
                outcomes = {name: float(raw[name]) for name in names}
                status = OK
            except (FloatingPointError, OverflowError, ZeroDivisionError) as error:
                outcomes, status = dict.fromkeys(names, math.nan), DIVERGED
                message = shorten(str(error))
            except ValueError as error:
                outcomes, status = dict.fromkeys(names, math.nan), FAILED
                message = shorten(str(error))
        records.append(
            {
                "cell": cell,
                "replicate": replicate,
                "outcomes": outcomes,
                "status": status,
                "message": message,
                "seconds": time.perf_counter() - start,
            }
        )
    return records


def diverged(values: np.ndarray, status: np.ndarray) -> np.ndarray:
    """Which replicates diverged for one outcome: its value is infinite, or the whole run
    raised a floating-point error (``values`` and ``status``: cells × replicates)."""
    return np.isinf(values) | (status == DIVERGED)


@dataclass
class Plan:
    """A validated sweep: its cells, replicates, seeds, cost and (as they arrive) results.

    ``values[o]`` has shape ``(n_cells, replicates)`` for every outcome ``o`` (NaN until
    known); ``status`` has the same shape (:data:`PENDING` until known).
    """

    sweep: ModelSweep
    definition: SweepDefinition
    notices: list[str]
    cells: list[dict[str, Any]]
    seconds_per_cell: np.ndarray
    values: dict[str, np.ndarray]
    status: np.ndarray
    messages: list[str]

    @property
    def estimated_seconds(self) -> float:
        """Estimated single-core seconds of every replicate."""
        return float(self.seconds_per_cell.sum() * self.definition.replicates)

    def items(self) -> list[tuple[int, int]]:
        """``(cell, replicate)`` of every replicate, replicate-major: the first pass over the
        grid gives every cell a first value, so a heatmap fills in everywhere early."""
        reps, n = self.definition.replicates, len(self.cells)
        return [(cell, rep) for rep in range(reps) for cell in range(n)]

    def seed_of(self, cell: int, replicate: int) -> int:
        return replicate_seed(self.definition.seed, cell, replicate)

    def record(self, result: dict) -> None:
        """Store one replicate's record from :func:`run_replicates`."""
        cell, rep = result["cell"], result["replicate"]
        for name, value in result["outcomes"].items():
            if name in self.values:
                self.values[name][cell, rep] = value
        self.status[cell, rep] = result["status"]
        if result.get("message") and len(self.messages) < 20:
            self.messages.append(result["message"])

    @property
    def done(self) -> int:
        return int(np.count_nonzero(self.status != PENDING))

    @property
    def total(self) -> int:
        return int(self.status.size)

    def batches(self, pending: Sequence[tuple[int, int]]) -> list[list[tuple[int, int]]]:
        """Consecutive groups of ``pending`` computing about :data:`TASK_SECONDS` each."""
        groups: list[list[tuple[int, int]]] = []
        current: list[tuple[int, int]] = []
        load = 0.0
        for item in pending:
            current.append(item)
            load += float(self.seconds_per_cell[item[0]])
            if load >= TASK_SECONDS:
                groups.append(current)
                current, load = [], 0.0
        if current:
            groups.append(current)
        return groups

    def task_items(self, group: Sequence[tuple[int, int]]) -> list[tuple[int, int, dict, int]]:
        return [(c, r, self.cells[c], self.seed_of(c, r)) for c, r in group]


def plan_sweep(definition: SweepDefinition, max_seconds: float | None = MAX_SWEEP_SECONDS) -> Plan:
    """Validate ``definition`` against its tab and price it.

    Raises :class:`SweepError` when the estimated compute exceeds ``max_seconds`` (None: no
    limit), naming the limit and the estimate.
    """
    sweep = model_sweep(definition.slug)
    checked, notices = validate(sweep, definition)
    cells = cell_values(sweep, checked)
    seconds = np.array([max(float(sweep.seconds(values)), 1e-4) for values in cells])
    estimate = float(seconds.sum() * checked.replicates)
    if max_seconds is not None and estimate > max_seconds:
        raise SweepError(
            f"this sweep needs about {estimate / 60:.0f} min of compute "
            f"({checked.n_cells} cells × {checked.replicates} replicates), over the limit of "
            f"{max_seconds / 60:.0f} min: use fewer cells or replicates, or a shorter horizon"
        )
    shape = (len(cells), checked.replicates)
    return Plan(
        sweep=sweep,
        definition=checked,
        notices=notices,
        cells=cells,
        seconds_per_cell=seconds,
        values={o.name: np.full(shape, np.nan) for o in sweep.outcomes},
        status=np.zeros(shape, dtype=np.int8),
        messages=[],
    )


def execute(
    plan: Plan,
    client: Any = None,
    cache: ReplicateCache | None = None,
    on_update: Callable[[Plan], None] | None = None,
    cancel: threading.Event | None = None,
    update_interval: float = 0.25,
) -> Plan:
    """Compute every pending replicate of ``plan``; returns ``plan`` filled in.

    ``client`` is a ``distributed.Client`` (None: run in this process, in order). Cached
    replicates are taken first; new ones are stored as they arrive. ``on_update(plan)`` is
    called at most every ``update_interval`` seconds while results arrive, and once at the end.
    Setting ``cancel`` stops the sweep (its Dask futures are cancelled) and raises
    :class:`SweepCancelled`.
    """
    cancel = cancel or threading.Event()
    slug = plan.definition.slug
    keys: dict[tuple[int, int], str] = {}
    pending = []
    for cell, rep in plan.items():
        if plan.status[cell, rep] != PENDING:
            continue
        if cache is not None:
            key = cache.key(slug, plan.cells[cell], plan.seed_of(cell, rep))
            keys[cell, rep] = key
            entry = cache.get(key)
            if entry is not None:
                plan.record(entry)
                continue
        pending.append((cell, rep))
    last = [0.0]

    def arrived(records: list[dict], force: bool = False) -> None:
        for record in records:
            plan.record(record)
            key = keys.get((record["cell"], record["replicate"]))
            if cache is not None and key is not None and record["status"] != FAILED:
                cache.put(key, record)
        now = time.monotonic()
        if on_update is not None and (force or now - last[0] >= update_interval):
            last[0] = now
            on_update(plan)

    arrived([], force=True)
    if client is None:  # one replicate at a time: cancel takes effect at once
        for item in pending:
            if cancel.is_set():
                raise SweepCancelled("cancelled")
            arrived(run_replicates(slug, plan.task_items([item])))
    else:
        _execute_on_dask(plan, client, plan.batches(pending), arrived, cancel)
    arrived([], force=True)
    return plan


def _execute_on_dask(
    plan: Plan,
    client: Any,
    groups: list[list[tuple[int, int]]],
    arrived: Callable[[list[dict]], None],
    cancel: threading.Event,
) -> None:
    slug = plan.definition.slug
    # priority -rank: the k-th task of every session's sweep has the same priority, so the
    # scheduler interleaves concurrent sweeps instead of finishing the first one submitted
    futures = [
        client.submit(
            run_replicates, slug, plan.task_items(group), pure=False, priority=-rank, retries=1
        )
        for rank, group in enumerate(groups)
    ]
    remaining = set(futures)
    finished: queue.Queue = queue.Queue()
    for future in futures:
        future.add_done_callback(finished.put)
    try:
        while remaining:
            if cancel.is_set():
                raise SweepCancelled("cancelled")
            try:
                future = finished.get(timeout=0.2)
            except queue.Empty:  # nothing finished within 0.2 s: look at cancel again
                continue
            remaining.discard(future)
            if future.status == "cancelled":
                raise SweepCancelled("the cluster dropped this sweep's tasks")
            if future.status != "finished":
                raise SweepError(f"a task failed: {shorten(str(future.exception()))}")
            arrived(future.result())
    finally:
        if remaining:
            client.cancel(list(remaining))
