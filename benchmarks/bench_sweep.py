"""Sweep benchmark (issue 15, item 9): per tab, its default sweep (the headline pair, 8 × 8
cells, 4 replicates, cache off).

* compute: the replicates' own seconds, summed (measured in-process, one core);
* estimate / measured: the model's ``seconds()`` estimate over that (budgets rely on it);
* wall time on a LocalCluster with 1 and with 2 worker processes (clusters already running),
  and their ratio (target >= 1.7 on a 2-core machine);
* scheduling overhead: (1-worker wall - the replicates' seconds on the worker) / those seconds
  (target <= 5 %);
* first cell: seconds from asking to the first result, with the cluster already running and
  with a cold start of the cluster (target <= 3 s);
* another session's animation while a sweep runs: frames per second of one protocol-level
  client playing the tokens tab on ``noisescope serve`` (see bench_load), idle and while a
  2-worker sweep computes, and their ratio.

Usage: ``python benchmarks/bench_sweep.py [--tab tokens] [--no-fps]``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.sweeps import cluster  # noqa: E402
from app.sweeps.engine import execute, plan_sweep  # noqa: E402
from app.sweeps.grid import SweepDefinition, default_axis  # noqa: E402
from app.sweeps.registry import SWEEP_SLUGS, model_sweep  # noqa: E402


def default_definition(slug: str, seed: int = 1) -> SweepDefinition:
    sweep = model_sweep(slug)
    x, y = sweep.headline
    return SweepDefinition(slug, default_axis(sweep, x), default_axis(sweep, y), "", 4, seed)


class Timed:
    """``on_update`` hook recording when the first result arrived and the workers' seconds."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None

    def __call__(self, plan: Any) -> None:
        if self.first is None and plan.done:
            self.first = time.perf_counter() - self.start


def timed_run(slug: str, client: Any, seed: int) -> tuple[float, float, float]:
    """(wall seconds, first-result seconds, replicate seconds) of a default sweep."""
    plan = plan_sweep(default_definition(slug, seed), max_seconds=None)
    seconds: list[float] = []
    original = plan.record

    def record(result: dict) -> None:
        seconds.append(float(result.get("seconds", 0.0)))
        original(result)

    plan.record = record  # type: ignore[method-assign]
    hook = Timed()
    execute(plan, client, on_update=hook, update_interval=0)
    return time.perf_counter() - hook.start, hook.first or float("nan"), sum(seconds)


def measure_tab(slug: str, one: Any, two: Any) -> dict[str, Any]:
    estimate = plan_sweep(default_definition(slug), max_seconds=None).estimated_seconds
    _, _, compute = timed_run(slug, None, seed=1)
    wall1, first1, worker1 = timed_run(slug, one, seed=2)
    wall2, first2, _ = timed_run(slug, two, seed=3)
    return {
        "case": f"{slug}: {'×'.join(model_sweep(slug).headline)}, 8×8×4",
        "compute s": round(compute, 2),
        "estimate / measured": round(estimate / compute, 2) if compute else None,
        "1 worker s": round(wall1, 2),
        "2 workers s": round(wall2, 2),
        "1 / 2 workers": round(wall1 / wall2, 2),
        "overhead %": round(100 * (wall1 - worker1) / worker1, 1) if worker1 else None,
        "first cell s (warm)": round(min(first1, first2), 2),
    }


def cold_first_cell(slug: str) -> float:
    start = time.perf_counter()
    client = cluster.connect(None, 2)
    try:
        hook = Timed()
        hook.start = start
        plan = plan_sweep(default_definition(slug, seed=4), max_seconds=None)
        execute(plan, client, on_update=hook, update_interval=0)
        return hook.first or float("nan")
    finally:
        local = client.cluster
        client.close()
        local.close()


def animation_during_sweep(seconds: float) -> dict[str, Any]:
    """Tokens fps of one protocol client, idle and while a 2-worker sweep runs."""
    import bench_load

    from app.serve_process import ServeProcess

    with ServeProcess() as server:
        idle = bench_load.measure(server, "tokens", 1, seconds)["fps median"]
        client = cluster.connect(None, 2)
        stop = threading.Event()

        def sweep_forever() -> None:
            seed = 100
            while not stop.is_set():
                plan = plan_sweep(default_definition("tokens", seed), max_seconds=None)
                execute(plan, client, cancel=stop)
                seed += 1

        worker = threading.Thread(target=lambda: _quiet(sweep_forever), daemon=True)
        worker.start()
        time.sleep(2.0)
        busy = bench_load.measure(server, "tokens", 1, seconds)["fps median"]
        stop.set()
        worker.join(timeout=30)
        local = client.cluster
        client.close()
        local.close()
    return {
        "case": "tokens animation, 1 session, while a 2-worker sweep runs",
        "fps idle": idle,
        "fps during sweep": busy,
        "during / idle": round(busy / idle, 2) if idle else None,
    }


def _quiet(fn: Any) -> None:
    from app.sweeps.engine import SweepCancelled

    try:
        fn()
    except SweepCancelled:
        pass


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tab", action="append", choices=SWEEP_SLUGS, help="default: every tab")
    parser.add_argument("--no-fps", action="store_true", help="skip the animation measurement")
    parser.add_argument("--seconds", type=float, default=8.0, help="fps window (default: 8)")
    args = parser.parse_args(argv)
    rows = [
        {
            "case": "cold start of a 2-worker cluster to the first tokens cell",
            "first cell s (cold)": round(cold_first_cell("tokens"), 2),
        }
    ]
    one, two = cluster.connect(None, 1), cluster.connect(None, 2)
    try:
        for slug in args.tab or SWEEP_SLUGS:
            rows.append(measure_tab(slug, one, two))
            print(rows[-1], flush=True)
    finally:
        for client in (one, two):
            local = client.cluster
            client.close()
            local.close()
    if not args.no_fps:
        rows.append(animation_during_sweep(args.seconds))
    return rows


if __name__ == "__main__":
    from run_all import markdown_table

    print(markdown_table(main()))
