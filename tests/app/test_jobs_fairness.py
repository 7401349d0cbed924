"""Fair background jobs across sessions (issue 14 item 4): per-owner queues, owners served in
turn, a spare worker for a newly waiting owner, queued cancelled jobs never run.

Every test runs its jobs on a pool of its own (explicit sizes: the rule, not this machine's core
count, is under test), so jobs other tests left running cannot disturb it. Jobs are gated by
events or sleep: the tests measure the scheduler, not the CPU.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest

from app.models import jobs
from app.models.jobs import BackgroundJob, Cancelled, JobPool, ProgressFn
from tests.app.toy_model import ToyModel

#: Seconds any single wait may take before the test fails (a deadlock, not a slow machine).
TIMEOUT = 5.0


def _use_pool(monkeypatch: pytest.MonkeyPatch, **sizes: int | bool) -> JobPool:
    pool = JobPool(**sizes)
    monkeypatch.setattr(jobs, "POOL", pool)
    return pool


class Recorder:
    """Jobs that log their start and end and wait for their own gate (or sleep)."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.ended: list[str] = []
        self.gates: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def fn(self, name: str, sleep_s: float | None = None) -> Callable[[ProgressFn], str]:
        gate = self.gates.setdefault(name, threading.Event())

        def run(progress: ProgressFn) -> str:
            with self._lock:
                self.started.append(name)
            if sleep_s is not None:
                time.sleep(sleep_s)
            else:
                assert gate.wait(TIMEOUT), f"{name} was never released"
            with self._lock:
                self.ended.append(name)
            return name

        return run

    def job(self, name: str, owner: str | None, sleep_s: float | None = None) -> BackgroundJob:
        job = BackgroundJob(name=name)
        job.owner = owner
        job.start(self.fn(name, sleep_s))
        return job

    def until(self, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            assert time.monotonic() < deadline, f"timed out; started {self.started}"
            time.sleep(0.002)

    def release(self, *names: str) -> None:
        for name in names or list(self.gates):
            self.gates[name].set()


@pytest.mark.parametrize(("workers", "per_owner"), [(3, 2), (2, 2)])
def test_a_newly_waiting_owner_goes_before_the_busy_owners_third_job(
    monkeypatch: pytest.MonkeyPatch, workers: int, per_owner: int
) -> None:
    pool = _use_pool(monkeypatch, workers=workers, per_owner=per_owner)
    rec = Recorder()
    a_jobs = [rec.job(f"A{i}", "A") for i in range(8)]
    rec.until(lambda: len(rec.started) == 2)
    b_job = rec.job("B0", "B")
    if workers > per_owner:  # the spare worker: B starts at once, A's third still waits
        rec.until(lambda: "B0" in rec.started)
    else:  # no spare: the next free worker serves B before A's third
        assert pool.waiting() == 7
        rec.release("A0")
        rec.until(lambda: "B0" in rec.started)
    assert rec.started[:3] == ["A0", "A1", "B0"]
    rec.release()
    assert all(job.wait(TIMEOUT) for job in [*a_jobs, b_job])
    assert sorted(rec.started) == sorted(job.name for job in [*a_jobs, b_job])
    assert rec.started[3:] == [f"A{i}" for i in range(2, 8)]  # A's own jobs in their order
    assert [job.result for job in a_jobs] == [f"A{i}" for i in range(8)]


def test_owners_with_equally_many_running_take_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_pool(monkeypatch, workers=1, per_owner=1)
    rec = Recorder()
    blocker = rec.job("Z", "Z")  # holds the only worker while the others queue
    rec.until(lambda: rec.started == ["Z"])
    queued = [rec.job(f"{owner}{i}", owner) for owner in "ABC" for i in range(3)]
    rec.release()
    assert all(job.wait(TIMEOUT) for job in [blocker, *queued])
    assert rec.started == ["Z", "A0", "B0", "C0", "A1", "B1", "C1", "A2", "B2", "C2"]


def _b_time_under_load(rec: Recorder, solo_s: float) -> float:
    """Seconds for owner B's ``solo_s`` sleep while owner A has queued 8 sleeps of 0.3 s."""
    a_jobs = [rec.job(f"A{i}", "A", sleep_s=0.3) for i in range(8)]
    rec.until(lambda: len(rec.started) >= 2)
    start = time.perf_counter()
    b_job = rec.job("B", "B", sleep_s=solo_s)
    assert b_job.wait(TIMEOUT)
    elapsed = time.perf_counter() - start
    for job in a_jobs:
        job.cancel()
    return elapsed


def test_another_owners_job_takes_at_most_twice_its_solo_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_pool(monkeypatch, workers=3, per_owner=2)
    rec = Recorder()
    start = time.perf_counter()
    assert rec.job("solo", "B", sleep_s=0.2).wait(TIMEOUT)
    solo = time.perf_counter() - start
    # the bound of issue 14 item 4; sleeping jobs need no core, so the spare worker starts B's
    # job at once and it takes about its solo time
    assert _b_time_under_load(rec, 0.2) <= 2 * solo


def test_the_former_first_come_first_served_pool_breaks_that_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the test above can fail: two FIFO workers make B wait for A's 8 jobs, 4 rounds of 0.3 s,
    # so B takes about 1.4 s: over 1.5 times the 2 × 0.2 s bound (the margin is for a fast solo)
    _use_pool(monkeypatch, workers=2, fair=False)
    assert _b_time_under_load(Recorder(), 0.2) > 2 * 0.2 * 1.5


def test_a_busy_owner_keeps_only_its_share_active_while_another_owner_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_pool(monkeypatch, workers=3, per_owner=2)
    steps = {"A0": 0, "A1": 0}
    stop = threading.Event()

    def busy(name: str) -> Callable[[ProgressFn], None]:
        def run(progress: ProgressFn) -> None:
            while not stop.is_set():
                if not progress(0.5):
                    raise Cancelled
                steps[name] += 1
                time.sleep(0.002)

        return run

    def advancing(seconds: float = 0.3) -> set[str]:
        before = dict(steps)
        time.sleep(seconds)
        return {name for name in steps if steps[name] > before[name]}

    a_jobs = []
    for name in steps:
        job = BackgroundJob(name=name)
        job.owner = "A"
        job.start(busy(name))
        a_jobs.append(job)
    assert advancing() == {"A0", "A1"}  # alone, A uses its whole per-owner limit
    rec = Recorder()
    b_job = rec.job("B0", "B")
    rec.until(lambda: rec.started == ["B0"])
    time.sleep(0.05)  # A's jobs reach their next progress report
    assert len(advancing()) == 1  # two owners: one active job each
    rec.release()
    assert b_job.wait(TIMEOUT)
    assert advancing() == {"A0", "A1"}  # alone again: the paused job goes on
    stop.set()
    assert all(job.wait(TIMEOUT) for job in a_jobs)
    assert all(job.result is None and not job.error for job in a_jobs)


def test_paused_time_does_not_count_towards_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_pool(monkeypatch, workers=3, per_owner=2)
    work_s, deadline_s = 0.3, 0.45
    ended: list[float] = []

    def work(progress: ProgressFn) -> None:
        # work_s of its own time between progress reports (however slow the machine), so its
        # run time stays under the deadline; a pause inside progress() is not counted
        done = 0.0
        while done < work_s:
            if not progress(done / work_s):
                raise Cancelled
            lap = time.monotonic()
            time.sleep(0.01)
            done += time.monotonic() - lap
        ended.append(time.monotonic())

    rec = Recorder()
    b_job = rec.job("B0", "B")  # held: two owners run, so A keeps one job active
    rec.until(lambda: rec.started == ["B0"])
    start = time.monotonic()
    a_jobs = [BackgroundJob(deadline_s=deadline_s, name=f"A{i}") for i in range(2)]
    for job in a_jobs:
        job.owner = "A"
        job.start(work)
    assert all(job.wait(TIMEOUT) for job in a_jobs)
    rec.release()
    assert b_job.wait(TIMEOUT)
    # one of A's jobs paused until the other ended: it took about 2 × work_s > its deadline
    assert max(ended) - start > deadline_s
    assert [job.message for job in a_jobs] == ["Done.", "Done."]


def test_a_cancelled_queued_job_never_runs_and_ends_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = _use_pool(monkeypatch, workers=2, per_owner=2)
    rec = Recorder()
    busy = [rec.job(f"A{i}", "A") for i in range(2)]
    rec.until(lambda: len(rec.started) == 2)
    queued = rec.job("queued", "A")
    restarted = rec.job("restarted", "A")
    restarted.start(rec.fn("second run"))  # the first run, still queued, is dropped
    assert pool.waiting() == 2
    assert restarted.wait(0) is False  # the second run waits
    queued.cancel()
    assert queued.wait(TIMEOUT / 10)  # dropped from the queue: no worker needed
    assert not queued.running and queued.message == "Cancelled."
    assert pool.waiting() == 1  # the restarted job's second run
    rec.release()
    assert all(job.wait(TIMEOUT) for job in [*busy, restarted])
    assert sorted(rec.started) == ["A0", "A1", "second run"]
    assert restarted.result == "second run" and queued.result is None


def test_jobs_without_an_owner_run_each_as_their_own_owner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_pool(monkeypatch, workers=2, per_owner=1)
    rec = Recorder()
    unowned = [rec.job(f"N{i}", None) for i in range(2)]
    # one owner could run only one at a time (per_owner = 1): two owners run both
    rec.until(lambda: len(rec.started) == 2)
    rec.release()
    assert all(job.wait(TIMEOUT) for job in unowned)
    assert [job.result for job in unowned] == ["N0", "N1"]


def test_the_deadline_counts_from_when_a_worker_takes_the_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_pool(monkeypatch, workers=1, per_owner=1)
    rec = Recorder()
    blocker = rec.job("blocker", "A", sleep_s=0.4)
    job = BackgroundJob(deadline_s=0.3, name="queued behind")
    job.owner = "A"

    def short(progress: ProgressFn) -> str:  # 0.1 s of work, well inside its 0.3 s
        for _ in range(10):
            if not progress(0.5):
                raise Cancelled
            time.sleep(0.01)
        return "done"

    job.start(short)
    assert blocker.wait(TIMEOUT) and job.wait(TIMEOUT)
    assert job.result == "done" and job.message == "Done."


class _StudyModel(ToyModel):
    def __init__(self, **params: object) -> None:
        self.direct = BackgroundJob(name="direct")
        super().__init__(**params)
        self.rerun_when_idle(BackgroundJob(name="in a study"), lambda: None, watch=["noise"])


def test_set_job_owner_reaches_every_job_of_a_model() -> None:
    model = _StudyModel()
    model.set_job_owner("session-1")
    assert model.direct.owner == "session-1"
    assert [study.job.owner for study in model._reruns] == ["session-1"]


def test_each_session_queues_its_models_jobs_under_its_own_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app import main
    from app.models.base import SimulationModel

    owned: list[tuple[SimulationModel, object]] = []
    set_owner = SimulationModel.set_job_owner

    def spy(model: SimulationModel, owner: object) -> None:
        owned.append((model, owner))
        set_owner(model, owner)

    monkeypatch.setattr(SimulationModel, "set_job_owner", spy)
    monkeypatch.setattr(main, "_session_query", lambda: {"tab": "tokens"})
    main.create_app()
    main.create_app()
    assert len(owned) == 2 and owned[0][1] != owned[1][1]
    for model, owner in owned:
        assert model.ensemble.owner == owner and model.ensemble_study.job.owner == owner


def test_jobs_run_below_the_event_loop_s_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker thread is JOB_NICENESS nicer than the thread that started it (capped at 19, the
    nicest), so the loop drawing every session's frames gets a core before the studies do."""
    assert jobs.JOB_NICENESS > 0
    _use_pool(monkeypatch, workers=1)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    job = BackgroundJob(name="niceness")
    job.start(lambda progress: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert job.wait(TIMEOUT)
    assert job.result == min(19, mine + jobs.JOB_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine  # not the process
