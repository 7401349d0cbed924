"""Measure what a piece of work really costs: peak resident memory above the start and wall
time. Shared by every tab's maxima test (``tests/app/test_<slug>_budget.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Hard limits of issue 13: no link or control makes the server allocate more than 1 GB or
#: run one job for more than 60 s on the 2-core machine.
HARD_BYTES = 1e9
HARD_SECONDS = 60.0


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def measure(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """``(peak bytes above the start, seconds, result)`` of ``work()``. The peak is the
    process's resident high-water mark (numba's allocations included, which tracemalloc does
    not see), reset before the work by writing 5 to ``/proc/self/clear_refs``."""
    Path("/proc/self/clear_refs").write_text("5")
    start_rss = _status("VmRSS")
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    return max(0.0, _status("VmHWM") - start_rss), seconds, result
