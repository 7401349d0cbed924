"""``SharedResults.once`` (app/models/warm.py): a result several sessions' jobs ask for at the
same time is computed once; a failed or cancelled computation does not strand the others; and
the token ensembles use it (app/models/tokens/studies.py)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from app.models.jobs import Cancelled
from app.models.tokens import studies
from app.models.tokens.model import TokensModel
from app.models.warm import SharedResults


def _keep_going(_: float) -> bool:
    return True


def test_a_kept_result_is_returned_without_computing() -> None:
    store = SharedResults("test", max_size=2)
    calls: list[int] = []

    def fn(progress: Any) -> list[int]:
        calls.append(1)
        return [42]

    first = store.once("k", fn, _keep_going)
    assert store.once("k", fn, _keep_going) is first
    assert calls == [1]


def test_jobs_asking_at_once_compute_once_and_share_the_result() -> None:
    store = SharedResults("test", max_size=2)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []
    seen: list[float] = []

    def fn(progress: Any) -> dict[str, int]:
        calls.append(1)
        started.set()
        progress(0.5)
        release.wait(10)
        return {"value": 7}

    def waiter_progress(fraction: float) -> bool:
        seen.append(fraction)
        return True

    with ThreadPoolExecutor(3) as pool:
        owner = pool.submit(store.once, "k", fn, _keep_going)
        assert started.wait(10)
        waiters = [pool.submit(store.once, "k", fn, waiter_progress) for _ in range(2)]
        threading.Event().wait(0.3)  # the waiters look at the running job a few times
        release.set()
        results = [owner.result(10), *(w.result(10) for w in waiters)]
    assert calls == [1]
    assert all(r is results[0] for r in results)
    assert 0.5 in seen  # a waiting job reports the progress of the one it waits for


def test_a_failed_computation_is_taken_over_by_a_waiting_job() -> None:
    store = SharedResults("test", max_size=2)
    started, release = threading.Event(), threading.Event()

    def failing(progress: Any) -> Any:
        started.set()
        release.wait(10)
        raise Cancelled  # its session moved on

    with ThreadPoolExecutor(2) as pool:
        owner = pool.submit(store.once, "k", failing, _keep_going)
        assert started.wait(10)
        waiter = pool.submit(store.once, "k", lambda progress: "own", _keep_going)
        threading.Event().wait(0.2)
        release.set()
        with pytest.raises(Cancelled):
            owner.result(10)
        assert waiter.result(10) == "own"


def test_a_waiting_job_that_is_cancelled_stops_waiting() -> None:
    store = SharedResults("test", max_size=2)
    started, release = threading.Event(), threading.Event()

    def slow(progress: Any) -> str:
        started.set()
        release.wait(10)
        return "done"

    with ThreadPoolExecutor(2) as pool:
        owner = pool.submit(store.once, "k", slow, _keep_going)
        assert started.wait(10)
        waiter = pool.submit(store.once, "k", slow, lambda _: False)
        with pytest.raises(Cancelled):
            waiter.result(5)  # within WAIT_POLL_S, not when the owner ends
        release.set()
        assert owner.result(10) == "done"


def test_a_result_keep_refuses_is_not_kept() -> None:
    store = SharedResults("test", max_size=2)
    store.once("big", lambda progress: "x" * 10, _keep_going, keep=lambda r: len(r) < 5)
    assert store.get("big") is None


def test_two_sessions_with_the_same_params_share_one_read_only_ensemble() -> None:
    studies.ENSEMBLES.clear()
    small = {"n_tokens": 6, "n_real": 4, "t_max": 1.0}
    a, b = TokensModel(**small), TokensModel(**small)
    try:
        a.run_ensemble()
        assert a.ensemble.wait(60)
        b.run_ensemble()
        assert b.ensemble.wait(60)
        assert b.ensemble.result is a.ensemble.result
        assert not a.ensemble.result["x"].flags.writeable
        other = TokensModel(**small, seed=a.seed + 1)
        other.run_ensemble()
        assert other.ensemble.wait(60)
        assert not np.array_equal(other.ensemble.result["x"], a.ensemble.result["x"])
    finally:
        studies.ENSEMBLES.clear()
