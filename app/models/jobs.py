"""Long fixed computations off the event loop: a cancellable background job with progress.

A job runs ``fn(progress)`` in a worker thread; ``fn`` calls ``progress(fraction)`` now and then
and must stop early (raise :class:`Cancelled`) when it returns False. Numba cores release the
GIL (``nogil=True``), so the animation and other sessions keep running meanwhile. Results and
errors arrive as param changes, which may fire on the worker thread: views marshal them onto
their own event loop.

Every session shares one :class:`JobPool`, which deals its workers out fairly: each job has an
*owner* (:attr:`BackgroundJob.owner`, set per session by
:meth:`app.models.base.SimulationModel.set_job_owner`; a job without one is its own owner), each
owner has its own queue, and one owner's studies cannot hold back another's (issue 14 item 4).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import param

from kernels.common.progress import Cancelled, ProgressFn

__all__ = ["BackgroundJob", "Cancelled", "JobPool", "ProgressFn"]

LOG = logging.getLogger(__name__)

#: Seconds after which a job is stopped at its next progress report, whatever its estimate
#: said (app/models/budget.py keeps estimates to half of this; this is the guarantee). The
#: clock starts when a worker takes the job up, not while it waits in its owner's queue.
JOB_DEADLINE_S = 55.0
#: Niceness added to each worker thread (Linux schedules threads on their own): the event loop
#: thread, which draws every session's frames and answers every click, then gets a core
#: before the studies do whenever it wants one (CFS weights 1024 vs 110: about 9 to 1), and
#: the studies still use every cycle the loop leaves. The fairness rules below are between
#: jobs, which all run at this one niceness.
JOB_NICENESS = 10


def _cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _lower_priority(increment: int) -> None:
    """Add ``increment`` to the calling thread's niceness (its own, not the process's: on
    Linux a thread id names one thread to ``setpriority``); elsewhere, or if refused, keep
    it."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + increment)
    except (AttributeError, OSError):  # no setpriority here (Windows)
        pass


@dataclass(eq=False)
class _Task:
    run: Callable[[], None]
    #: set when the job was cancelled (or restarted): a queued task is then dropped unrun
    cancelled: threading.Event
    #: set by ``run`` when it ends, or by the pool when it drops the task
    done: threading.Event


class JobPool:
    """Worker threads shared by every session, served to the jobs' owners in turn.

    Fairness rule: whenever a worker is free it takes the next job of the waiting owner with
    the fewest running jobs, among owners below ``per_owner`` running jobs; owners with equally
    many take turns (in the order they started waiting, an owner going to the back of the line
    after each job it is given); each owner's own jobs run in the order they were started. So
    one owner may use ``per_owner`` workers while nobody else waits, and an owner that starts
    waiting is served by the next free worker, before the busy owner's next job. With the
    defaults (``workers`` = cores + 1, ``per_owner`` = cores) a worker is always spare for a
    second owner even while the first keeps every core's worth of jobs running: its job starts
    at once and the OS shares the cores (a single-threaded job gets at least
    ``cores / (cores + 1)`` of a core, within twice its solo time; jobs that run threads of
    their own, such as Numba's parallel loops, share less evenly).

    Share rule: the parts of a job that hold the GIL (numpy's random draws, Python loops) do
    not run in parallel, so three GIL-bound jobs would give the newcomer a third of the GIL.
    Therefore, while ``n`` owners have running jobs, each may keep ``per_owner // n`` of them
    (at least one) *active*: a job beyond its owner's share pauses at its next progress report
    (:meth:`checkpoint`) until the share allows it again. Paused time does not count towards a
    job's deadline.

    Parameters
    ----------
    workers : int, optional
        Worker threads (default: cores + 1). They start with the first job.
    per_owner : int, optional
        Most jobs of one owner running at once (default: cores).
    fair : bool
        False: one first-come-first-served queue for every owner (the former scheduler, kept
        for ``benchmarks/bench_jobs.py``).
    """

    def __init__(
        self, workers: int | None = None, per_owner: int | None = None, fair: bool = True
    ) -> None:
        self.workers = _cores() + 1 if workers is None else int(workers)
        self.per_owner = _cores() if per_owner is None else int(per_owner)
        self.fair = fair
        self._reset()

    def _check_fork(self) -> None:
        if self._pid != os.getpid():
            self._reset()

    def _reset(self) -> None:
        # a forked server process (``--num-procs``) inherits no threads: it starts its own
        self._pid = os.getpid()
        self._cond = threading.Condition()
        #: owner -> its waiting tasks; dict order is the turn order (served owners go last)
        self._queues: dict[Hashable, deque[_Task]] = {}
        self._running: dict[Hashable, int] = {}
        #: owner -> its jobs paused at a progress report (share rule); counted in _running too
        self._paused: dict[Hashable, int] = {}
        self._started = False

    def submit(
        self,
        owner: Hashable,
        run: Callable[[], None],
        cancelled: threading.Event,
        done: threading.Event,
    ) -> None:
        """Queue ``run()`` for ``owner``, to run when the fairness rule gives it a worker.

        Parameters
        ----------
        owner : Hashable
            Whose queue the task joins (a session key, or the job itself).
        run : callable
            The work; it must set ``done`` when it ends (an exception it lets out is logged).
        cancelled : threading.Event
            Once set, the task is dropped unrun if no worker has taken it up yet.
        done : threading.Event
            Set by the pool when it drops the task.
        """
        self._check_fork()
        key = owner if self.fair else JobPool  # unfair: one queue for everyone
        with self._cond:
            if not self._started:
                self._started = True
                for i in range(self.workers):
                    name = f"noisescope-job-{i}"
                    threading.Thread(target=self._serve, name=name, daemon=True).start()
            self._drop_cancelled()  # e.g. the run this one replaces, if still queued
            self._queues.setdefault(key, deque()).append(_Task(run, cancelled, done))
            self._cond.notify_all()

    def drop_cancelled(self) -> None:
        """Drop every queued task whose job was cancelled (their ``done`` is set at once)."""
        self._check_fork()
        with self._cond:
            self._drop_cancelled()

    def checkpoint(self, owner: Hashable, cancelled: threading.Event) -> float:
        """At a running job's progress report: pause while its owner has more active jobs than
        its share (class docstring); return the seconds paused.

        Parameters
        ----------
        owner : Hashable
            The job's owner, as given to :meth:`submit`.
        cancelled : threading.Event
            Ends the pause at once when set.
        """
        if not self.fair:
            return 0.0
        with self._cond:
            if self._active(owner) <= self._share():
                return 0.0
            start = time.monotonic()
            self._paused[owner] = self._paused.get(owner, 0) + 1
            try:
                # this job counts as paused: it may go on once one more active job fits
                while not cancelled.is_set() and self._active(owner) >= self._share():
                    self._cond.wait(0.1)
            finally:
                self._paused[owner] -= 1
                if not self._paused[owner]:
                    del self._paused[owner]
            return time.monotonic() - start

    def _active(self, owner: Hashable) -> int:
        return self._running.get(owner, 0) - self._paused.get(owner, 0)

    def _share(self) -> int:
        return max(1, self.per_owner // max(1, len(self._running)))

    def wait_idle(self, timeout: float) -> bool:
        """Block until no task waits or runs (at most ``timeout`` seconds); True if idle.

        ``noisescope serve --num-procs`` calls it before forking: a task running in the parent
        at the fork would never finish in the children (they inherit no threads), and a session
        following its result would wait forever."""
        self._check_fork()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queues or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
            return True

    def waiting(self) -> int:
        """Tasks queued and not yet taken up by a worker (cancelled ones included)."""
        with self._cond:
            return sum(len(queue) for queue in self._queues.values())

    def _drop_cancelled(self) -> None:
        for owner, queue in list(self._queues.items()):
            for task in [t for t in queue if t.cancelled.is_set()]:
                queue.remove(task)
                task.done.set()
            if not queue:
                del self._queues[owner]

    def _pick(self) -> tuple[Hashable, _Task] | None:
        """The fairness rule (class docstring): the next owner and task, or None."""
        self._drop_cancelled()
        waiting = [owner for owner in self._queues if self._running.get(owner, 0) < self.per_owner]
        if not waiting:
            return None
        # turn order: the first of equals wins
        best = min(waiting, key=lambda owner: self._running.get(owner, 0))
        fewest = self._running.get(best, 0)
        queue = self._queues.pop(best)
        task = queue.popleft()
        if queue:
            self._queues[best] = queue  # its turn is over: to the back of the line
        self._running[best] = fewest + 1
        return best, task

    def _serve(self) -> None:
        _lower_priority(JOB_NICENESS)
        while True:
            with self._cond:
                while (picked := self._pick()) is None:
                    self._cond.wait()
            owner, task = picked
            try:
                task.run()
            except BaseException:  # a worker outlives any job
                LOG.exception("background job crashed its worker")
                task.done.set()
            finally:
                with self._cond:
                    self._running[owner] -= 1
                    if not self._running[owner]:
                        del self._running[owner]
                    self._cond.notify_all()


#: The pool every job of the process runs on (a benchmark may swap in another).
POOL = JobPool()


class BackgroundJob(param.Parameterized):
    """One cancellable computation with a progress fraction and a result."""

    progress = param.Number(default=0.0, bounds=(0.0, 1.0), doc="Fraction done.")
    running = param.Boolean(default=False, doc="True while the worker runs.")
    message = param.String(default="", doc="What the job is doing or how it ended.")
    result = param.Parameter(default=None, doc="The last completed result.")
    error = param.String(default="", doc="Error message of the last failed run.")

    def __init__(self, deadline_s: float = JOB_DEADLINE_S, **params: Any) -> None:
        super().__init__(**params)
        #: a run is stopped at its first progress report after this many seconds of running
        self.deadline_s = deadline_s
        #: whose turn this job waits for in :data:`POOL` (a session key); None: its own
        self.owner: Hashable | None = None
        self._cancel = threading.Event()
        self._generation = 0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._done.set()
        self._pool = POOL

    def start(self, fn: Callable[[ProgressFn], Any], label: str = "Computing") -> None:
        """Run ``fn(progress)`` in the background, cancelling any run still going."""
        with self._lock:
            self._cancel.set()
            self._cancel = cancel = threading.Event()
            self._generation += 1
            generation = self._generation
            self._done = done = threading.Event()
        timed_out = threading.Event()
        self.param.update(progress=0.0, running=True, message=f"{label}…", error="")
        self._pool = pool = POOL
        owner = self if self.owner is None else self.owner

        started = time.monotonic()  # again when a worker takes the job up

        def progress(fraction: float) -> bool:
            nonlocal started
            started += pool.checkpoint(owner, cancel)  # paused time is not run time
            if cancel.is_set():
                return False
            if time.monotonic() - started > self.deadline_s:
                timed_out.set()
                return False
            if generation == self._generation:
                self.progress = min(max(float(fraction), 0.0), 1.0)
            return True

        def work() -> None:
            nonlocal started
            started = time.monotonic()
            try:
                finish()
            finally:
                done.set()

        def finish() -> None:
            try:
                value = fn(progress)
            except Cancelled:
                if generation == self._generation:
                    message = (
                        f"Stopped at the {self.deadline_s:g} s limit: lower the sizes."
                        if timed_out.is_set()
                        else "Cancelled."
                    )
                    self.param.update(running=False, message=message)
                return
            except Exception as exc:  # a failed study must not take the session down
                # the user sees the error; the log gets one line (the traceback at DEBUG)
                LOG.warning("%s failed: %s: %s", self.name, type(exc).__name__, exc)
                LOG.debug("%s failed", self.name, exc_info=True)
                if generation == self._generation:
                    self.param.update(
                        running=False, error=f"{type(exc).__name__}: {exc}", message="Failed."
                    )
                return
            if generation == self._generation and not cancel.is_set():
                self.param.update(result=value, progress=1.0, running=False, message="Done.")

        pool.submit(owner, work, cancel, done)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the last started run has ended and its result or error, with every
        watcher of them, has been delivered; False on timeout."""
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """Ask the running computation to stop at its next progress report (a run still
        queued never starts)."""
        self._cancel.set()
        self._pool.drop_cancelled()
        if self.running:
            self.param.update(running=False, message="Cancelled.")
