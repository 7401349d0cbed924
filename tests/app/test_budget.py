"""The shared work budget, without a model."""

from __future__ import annotations

import pytest

from app.models.budget import (
    MAX_JOB_BYTES,
    MAX_JOB_SECONDS,
    Cost,
    OverBudget,
    check,
    largest_fitting,
)


def linear(n: int) -> Cost:
    """A job whose memory and time grow linearly: 1 MiB and 0.1 s per unit."""
    return Cost(bytes=n * 2**20, seconds=0.1 * n, what="toy study")


def test_problem_names_the_limit() -> None:
    assert Cost(1.0, 1.0, "x").problem() == ""
    memory = Cost(2 * MAX_JOB_BYTES, 1.0, "ensemble").problem()
    assert "ensemble" in memory and "MiB" in memory and "limit" in memory
    slow = Cost(1.0, 2 * MAX_JOB_SECONDS, "sweep").problem()
    assert f"{MAX_JOB_SECONDS:.0f} s" in slow
    with pytest.raises(OverBudget, match="limit"):
        check(Cost(2 * MAX_JOB_BYTES, 1.0, "ensemble"))


def test_largest_fitting_scales_down_to_the_limit() -> None:
    assert largest_fitting(linear, 10) == (10, "")
    m, notice = largest_fitting(linear, 10_000)
    # time binds first: 0.1 s per unit within MAX_JOB_SECONDS
    assert m == int(MAX_JOB_SECONDS / 0.1) and "Scaled down" in notice
    assert linear(m).fits() and not linear(m + 1).fits()
    with pytest.raises(OverBudget):
        largest_fitting(lambda n: Cost(2 * MAX_JOB_BYTES, 0.0, "x"), 5)


def test_a_job_past_its_deadline_stops_with_a_message() -> None:
    import time

    from app.models.jobs import BackgroundJob, Cancelled

    def slow(progress) -> None:
        while True:
            if not progress(0.5):
                raise Cancelled
            time.sleep(0.01)

    job = BackgroundJob(deadline_s=0.2, name="slow")
    job.start(slow)
    assert job.wait(10)
    assert not job.running and job.message == "Stopped at the 0.2 s limit: lower the sizes."
