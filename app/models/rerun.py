"""A background study that reruns by itself once the user stops moving its parameters.

Several tabs keep a study (an ensemble, learning curves, a scaling study) in step with the
controls: a change cancels the running study and marks its result stale; the stale result stays
on screen, labelled, until the rerun replaces it; the rerun starts only once the parameters
have rested for :data:`RERUN_DEBOUNCE_S`, so dragging a slider does not start and cancel a
study per pixel. The clock is the model's :meth:`SimulationModel.poll`, which the app calls on
every animation tick of a live session (throwaway and notebook models never start a study).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.models.jobs import BackgroundJob

#: Seconds the parameters must rest before a stale study reruns.
RERUN_DEBOUNCE_S = 0.5

#: Default message of a stale study.
STALE_MESSAGE = "Parameters changed: the plot is stale, rerunning…"


class RerunningStudy:
    """``job`` run by ``start()``; :meth:`mark_stale` on a change, :meth:`poll` on each tick.

    A new study is stale from the start (``stale_since = 0``): the first tick of a live session
    fills it in.
    """

    def __init__(
        self,
        job: BackgroundJob,
        start: Callable[[], None],
        *,
        stale_message: str = STALE_MESSAGE,
        debounce_s: float = RERUN_DEBOUNCE_S,
    ) -> None:
        self.job = job
        self._start = start
        self.stale_message = stale_message
        self.debounce_s = debounce_s
        #: monotonic time of the last change that made the result stale (None: up to date)
        self.stale_since: float | None = 0.0

    @property
    def stale(self) -> bool:
        return self.stale_since is not None

    def mark_stale(self, *_: object) -> None:
        """The parameters changed: cancel a running study, label the result stale (it stays on
        screen until the rerun replaces it: blanking it costs a repaint for nothing)."""
        if self.job.running:
            self.job.cancel()
        self.job.message = self.stale_message
        self.stale_since = time.monotonic()

    def run_at_next_poll(self) -> None:
        """If stale, start at the next :meth:`poll` without waiting for the debounce (a live
        view opening: throwaway models never start a study)."""
        if self.stale_since is not None:
            self.stale_since = 0.0

    def settle(self) -> None:
        """The result is up to date without a run (found in a cache, or refused as too large)."""
        self.stale_since = None

    def run(self) -> None:
        """Start the study now (a button, or the debounce elapsed)."""
        self.stale_since = None
        self._start()

    def poll(self, now: float | None = None) -> bool:
        """Rerun if stale and the parameters have rested long enough; True if it started."""
        if self.stale_since is None:
            return False
        now = time.monotonic() if now is None else now
        if now - self.stale_since <= self.debounce_s:
            return False
        self.run()
        return True
