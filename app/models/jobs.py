"""Long fixed computations off the event loop: a cancellable background job with progress.

A job runs ``fn(progress)`` in a worker thread; ``fn`` calls ``progress(fraction)`` now and then
and must stop early (raise :class:`Cancelled`) when it returns False. Numba cores release the
GIL (``nogil=True``), so the animation and other sessions keep running meanwhile. Results and
errors arrive as param changes, which may fire on the worker thread: views marshal them onto
their own event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import param

from kernels.common.progress import Cancelled, ProgressFn

__all__ = ["BackgroundJob", "Cancelled", "ProgressFn"]

LOG = logging.getLogger(__name__)

#: Seconds after which a job is stopped at its next progress report, whatever its estimate
#: said (app/models/budget.py keeps estimates to half of this; this is the guarantee).
JOB_DEADLINE_S = 55.0

#: Shared by every session of the process: at most two heavy jobs at once on a 2-core server.
_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="noisescope-job")


class BackgroundJob(param.Parameterized):
    """One cancellable computation with a progress fraction and a result."""

    progress = param.Number(default=0.0, bounds=(0.0, 1.0), doc="Fraction done.")
    running = param.Boolean(default=False, doc="True while the worker runs.")
    message = param.String(default="", doc="What the job is doing or how it ended.")
    result = param.Parameter(default=None, doc="The last completed result.")
    error = param.String(default="", doc="Error message of the last failed run.")

    def __init__(self, deadline_s: float = JOB_DEADLINE_S, **params: Any) -> None:
        super().__init__(**params)
        #: a run is stopped at its first progress report after this many seconds
        self.deadline_s = deadline_s
        self._cancel = threading.Event()
        self._generation = 0
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._done.set()

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

        started = time.monotonic()

        def progress(fraction: float) -> bool:
            if cancel.is_set():
                return False
            if time.monotonic() - started > self.deadline_s:
                timed_out.set()
                return False
            if generation == self._generation:
                self.progress = min(max(float(fraction), 0.0), 1.0)
            return True

        def work() -> None:
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

        _EXECUTOR.submit(work)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the last started run has ended and its result or error, with every
        watcher of them, has been delivered; False on timeout."""
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """Ask the running computation to stop at its next progress report."""
        self._cancel.set()
        if self.running:
            self.param.update(running=False, message="Cancelled.")
