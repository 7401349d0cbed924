"""Bounded work: every run, ensemble, study and upload is costed before anything is allocated.

A lecturer's laptop serves a class, and a link can set every slider to its maximum at once. Each
model therefore estimates, from all the parameters of a piece of work together (particles ×
steps × realizations × width × dimension …), the memory it will hold and the time it will take
on the 2-core reference machine, and checks that :class:`Cost` against the limits here *before*
it allocates or starts anything. Work over budget is either refused or scaled down (fewer
realizations, a shorter horizon, a coarser grid), and the user reads a notice naming the limit.

The limits leave room for two jobs at once (the job pool has two workers) within 1 GB, and keep
one job's *estimated* time to half the 60 s that any job may take: estimates come from operation
counts times a per-operation cost measured by the model's benchmark, so a factor of two absorbs
their error and a busy machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: Memory one run or job may hold (two jobs run at once: together under 1 GB).
MAX_JOB_BYTES = 400 * 2**20
#: Estimated seconds one job may take on the 2-core machine (the hard limit is 60 s).
MAX_JOB_SECONDS = 30.0
#: Memory the animated run of a session may keep (its recorded history).
MAX_RUN_BYTES = 200 * 2**20


@dataclass(frozen=True)
class Cost:
    """The estimated footprint of one piece of work."""

    #: bytes the work allocates at its peak (arrays it creates and keeps)
    bytes: float
    #: seconds it takes on the 2-core reference machine
    seconds: float
    #: what it is, for the notice ("ensemble of R runs", "hitting-time study")
    what: str

    def problem(
        self, max_bytes: float = MAX_JOB_BYTES, max_seconds: float = MAX_JOB_SECONDS
    ) -> str:
        """Why the work is over budget, or ``""`` if it fits."""
        if self.bytes > max_bytes:
            return (
                f"The {self.what} would need about {_mib(self.bytes)}; the limit is "
                f"{_mib(max_bytes)}."
            )
        if self.seconds > max_seconds:
            return (
                f"The {self.what} would take about {self.seconds:.3g} s; the limit is "
                f"{max_seconds:g} s."
            )
        return ""

    def fits(self, max_bytes: float = MAX_JOB_BYTES, max_seconds: float = MAX_JOB_SECONDS) -> bool:
        return not self.problem(max_bytes, max_seconds)


class OverBudget(ValueError):
    """Work refused because its :class:`Cost` is over the limits (the message names them)."""


def check(
    cost: Cost, max_bytes: float = MAX_JOB_BYTES, max_seconds: float = MAX_JOB_SECONDS
) -> None:
    """Raise :class:`OverBudget` if ``cost`` is over the limits."""
    problem = cost.problem(max_bytes, max_seconds)
    if problem:
        raise OverBudget(f"{problem} Lower the sizes, or use fewer runs or steps.")


def largest_fitting(
    cost_of: Callable[[int], Cost],
    n: int,
    minimum: int = 1,
    max_bytes: float = MAX_JOB_BYTES,
    max_seconds: float = MAX_JOB_SECONDS,
) -> tuple[int, str]:
    """The largest ``m`` in ``[minimum, n]`` whose ``cost_of(m)`` fits (costs grow with ``m``),
    and a notice if that is less than ``n`` (``""`` otherwise). Raises :class:`OverBudget` if
    even ``minimum`` does not fit."""
    if cost_of(n).fits(max_bytes, max_seconds):
        return n, ""
    check(cost_of(minimum), max_bytes, max_seconds)
    lo, hi = minimum, n  # cost_of(lo) fits, cost_of(hi) does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if cost_of(mid).fits(max_bytes, max_seconds) else (lo, mid)
    reason = cost_of(n).problem(max_bytes, max_seconds)
    return lo, f"{reason} Scaled down to {lo} (from {n})."


def _mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.0f} MiB"
