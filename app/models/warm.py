"""Results of long computations kept for every session of the process, computed once.

A :class:`SharedResults` store holds finished results by a hashable key and the background
jobs computing them. A tab starts the computation its first view needs once per process when
it is built (:meth:`SharedResults.warm`; ``noisescope serve`` builds every tab once at start-up,
``app.main.warm_views``), so the first visitor finds it done; a session asking for a key
the store holds adopts the result at once, and one asking while it is being computed follows
that job (:meth:`SharedResults.job`) instead of computing it a second time. Used by the
Wasserstein-convergence sweeps (:data:`app.models.widenet.model.SHARED`) and the Adaptive SGD
weak-error study (:data:`app.models.adaptive.studies.WEAK_STUDIES`). A session's own job can
also ask the store (:meth:`SharedResults.once`): the token-synchronization ensembles
(:data:`app.models.tokens.studies.ENSEMBLES`), which a class clicking the same preset asks for
within seconds.

A store given a ``disk_slug`` also keeps the results it computes with ``persist=True`` on disk
(:meth:`SharedResults.load`), named by the key and a digest of the model's code, so a 20 s
start-up study is computed once per machine and installation, not at every server start.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from app.models.files import cache_folder, write_atomically
from app.models.jobs import BackgroundJob, Cancelled, ProgressFn

__all__ = ["CACHE_ENV", "SharedResults"]

#: Environment variable naming the folder of the disk cache of start-up results.
CACHE_ENV = "NOISESCOPE_WARM_CACHE"


#: Seconds between two looks of a job waiting in :meth:`SharedResults.once` at the job it waits
#: for (and at its own cancellation).
WAIT_POLL_S = 0.1


class _Running:
    """A computation of :meth:`SharedResults.once` under way: its progress, and its result
    once ``done`` is set (None if it failed or was cancelled)."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.progress = 0.0
        self.result: Any = None


class SharedResults:
    """Finished results by key, and the jobs computing some of them, shared by every session.

    Results are shared by reference: treat them as read-only. The store keeps only the keys
    :meth:`keeps` accepts, at most ``max_size`` of them (the least recently used go first).

    Parameters
    ----------
    name : str
        Name of the jobs :meth:`start` runs (in the log).
    max_size : int, optional
        Most results kept (None: bounded by :meth:`keeps` alone).
    disk_slug : str, optional
        The model whose code the results depend on: results started with ``persist=True`` are
        also written to the disk cache (``$NOISESCOPE_WARM_CACHE``, default
        ``~/.cache/noisescope/warm``) and :meth:`load` reads them back.
    """

    def __init__(
        self, name: str, max_size: int | None = None, disk_slug: str | None = None
    ) -> None:
        self.name = name
        self.max_size = max_size
        self.disk_slug = disk_slug
        self._lock = threading.Lock()
        self._results: OrderedDict[Hashable, Any] = OrderedDict()
        self._jobs: dict[Hashable, BackgroundJob] = {}
        self._running: dict[Hashable, _Running] = {}
        self._warm_lock = threading.Lock()
        #: the start-up job (:meth:`warm`) and whether it was started
        self.warm_job: BackgroundJob | None = None
        self.warm_started = False

    def keeps(self, key: Hashable) -> bool:
        """Whether a result of ``key`` may be kept (every key; subclasses narrow it)."""
        return True

    def get(self, key: Hashable) -> Any | None:
        """The kept result of ``key``, or None."""
        with self._lock:
            result = self._results.get(key)
            if result is not None:
                self._results.move_to_end(key)
            return result

    def job(self, key: Hashable) -> BackgroundJob | None:
        """The job of this store computing ``key`` now (None if there is none): a session
        follows it rather than computing the same result twice."""
        with self._lock:
            return self._jobs.get(key)

    def running(self, key: Hashable) -> bool:
        """True while a job of this store computes ``key``."""
        return self.job(key) is not None

    def put(self, key: Hashable, result: Any) -> None:
        """Keep ``result`` as the result of ``key`` if :meth:`keeps` accepts the key."""
        if not self.keeps(key):
            return
        with self._lock:
            self._results[key] = result
            self._results.move_to_end(key)
            while self.max_size is not None and len(self._results) > self.max_size:
                self._results.popitem(last=False)

    def disk_path(self, key: Hashable) -> Path | None:
        """The disk cache file of ``key`` (None for a store without ``disk_slug``): named by
        the store, the key's text and the digest of the model's code (an edited kernel or
        model never reads an old result)."""
        if self.disk_slug is None:
            return None
        from app.sweeps.cache import code_digest

        folder = cache_folder(CACHE_ENV, "warm")
        text = f"{self.name}|{key!r}|{code_digest(self.disk_slug)}"
        stem = "".join(c if c.isalnum() else "-" for c in self.name)
        return folder / f"{stem}-{hashlib.sha256(text.encode()).hexdigest()[:24]}.pickle"

    def load(self, key: Hashable) -> bool:
        """Keep the disk cache's result of ``key`` if there is a readable one; True if so."""
        path = self.disk_path(key)
        if path is None or not path.exists():
            return False
        try:  # the app's own file in the user's cache, like numba's cache beside it
            with path.open("rb") as handle:
                result = pickle.load(handle)
        except Exception:  # unreadable (a partial or older file): compute it again
            return False
        self.put(key, result)
        return self.get(key) is not None

    def _save(self, key: Hashable, result: Any) -> None:
        path = self.disk_path(key)
        if path is not None:  # unwritable: the next start computes it again
            write_atomically(path, lambda h: pickle.dump(result, h, pickle.HIGHEST_PROTOCOL))

    def start(
        self,
        key: Hashable,
        fn: Callable[[ProgressFn], Any],
        label: str,
        persist: bool = False,
    ) -> BackgroundJob:
        """Compute ``fn(progress)`` in a background job and keep its result as that of ``key``;
        until it ends, :meth:`job` returns the job.

        Parameters
        ----------
        key : hashable
            What ``fn`` computes.
        fn : callable
            ``fn(progress) -> result`` (runs on the job pool; see
            :class:`app.models.jobs.BackgroundJob`).
        label : str
            The job's message while it runs.
        persist : bool, optional
            Also write the result to the disk cache (see ``disk_slug``).

        Returns
        -------
        BackgroundJob
            The job (its ``result`` is the result once it is done).
        """
        job = BackgroundJob(name=self.name)
        with self._lock:
            self._jobs[key] = job

        def run(progress: ProgressFn) -> Any:
            try:
                result = fn(progress)
            except RuntimeError as exc:
                if "interpreter shutdown" in str(exc):  # a short-lived process ended first
                    raise Cancelled from exc
                raise
            else:
                self.put(key, result)
                if persist:
                    self._save(key, result)
                return result
            finally:
                with self._lock:
                    self._jobs.pop(key, None)

        job.start(run, label)
        return job

    def warm(self, start: Callable[[], BackgroundJob | None]) -> BackgroundJob | None:
        """Call ``start`` (which starts the computation a tab's first view needs, e.g. with
        :meth:`start`, and returns its job or None) once per process; return its job."""
        with self._warm_lock:
            if not self.warm_started:
                self.warm_started = True
                self.warm_job = start()
        return self.warm_job

    def once(
        self,
        key: Hashable,
        fn: Callable[[ProgressFn], Any],
        progress: ProgressFn,
        keep: Callable[[Any], bool] | None = None,
    ) -> Any:
        """``fn(progress)``, computed once for every session asking for ``key`` at the same
        time: called from a session's own job, it returns the kept result of ``key``, or waits
        for the job of another session computing it now (reporting that job's progress), or
        computes it and keeps it if ``keep(result)`` (default: always).

        A waiting job holds its worker, but the job it waits for is running already, so the
        wait ends. If that job fails or is cancelled, the waiting one computes the result
        itself; cancelling the waiting job (``progress`` returns False) raises
        :class:`~app.models.jobs.Cancelled` within :data:`WAIT_POLL_S`."""
        while True:
            with self._lock:
                result = self._results.get(key)
                if result is not None:
                    self._results.move_to_end(key)
                    return result
                running = self._running.get(key)
                if running is None:
                    running = self._running[key] = _Running()
                    break
            while not running.done.wait(WAIT_POLL_S):
                if progress(running.progress) is False:
                    raise Cancelled
            if running.result is not None:
                return running.result
            # the job computing it failed or was cancelled: compute it here

        def report(fraction: float) -> bool:
            running.progress = fraction
            return progress(fraction) is not False

        try:
            result = fn(report)
            if keep is None or keep(result):
                self.put(key, result)
            running.result = result
        finally:  # waiting jobs wake up, with the result or to compute it themselves
            with self._lock:
                self._running.pop(key, None)
            running.done.set()
        return result

    def clear(self) -> None:
        """Forget every kept result (tests)."""
        with self._lock:
            self._results.clear()
