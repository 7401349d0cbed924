"""Frames give way to answers: when the server's event loop falls behind, every playing page
slows down together, so that Play, Pause and slider moves still answer quickly.

Each playing page asks for a frame every 25 ms (``app.main.TICK_MS``) or at its model's
``frame_interval``. With twenty pages of the tokens tab the loop is full: every callback waits
behind the others' frames (lag p50 62-69 ms) and a moved slider takes several of these waits
before its new run is on the page (p50 459-513 ms, ``bench_load.py``). :class:`FramePacer` measures
the loop's lag with a probe every :data:`PROBE_S` and sets a shortest interval between two
frames of any page, :meth:`FramePacer.min_interval`: lengthened by :data:`STRETCH` while the
mean lag of the last :data:`WINDOW_S` is above :data:`LAG_HIGH_S`, shortened by the same factor
while it is below :data:`LAG_LOW_S`, and never above :data:`LONGEST_S` (5 frames/s). Every page
gets the same interval: all slow down together, none starves. [derived for this app]

A process runs one pacer (:func:`start`, from ``noisescope serve``); without it (a notebook, the
tests) :data:`PACER` keeps its interval at 0 and frames follow their models alone.
"""

from __future__ import annotations

import time
from collections import deque

from tornado.ioloop import IOLoop

__all__ = ["LAG_HIGH_S", "LAG_LOW_S", "LONGEST_S", "PACER", "FramePacer", "start"]

#: Seconds between two probes of the loop's lag.
PROBE_S = 0.05
#: Seconds of probes whose mean lag decides (ten probes).
WINDOW_S = 0.5
#: Mean lag above which frames slow down: a click waits a few loop turns before its answer is
#: on the page, so each turn's wait must stay a small part of the 300 ms an answer may take
#: (``bench_load.py``, 20 pages of tokens: 30 ms here gave a slider answer p50 of 306-414 ms,
#: 15 ms 176-216 ms, the same frames per second; once answers no longer waited for Panel's
#: debounce and the ensemble summary, 15 ms gave p50 110 ms / p95 237 ms and 10 ms
#: 82-85 / 162-277 ms, 13.2-14.1 frames/s each at both).
LAG_HIGH_S = 0.010
#: Mean lag below which frames speed up again (the loop has room to spare).
LAG_LOW_S = 0.004
#: Factor by which the shortest interval grows or shrinks per decision.
STRETCH = 1.15
#: The shortest interval's first step up from none (a 25 ms tick: 40 frames/s at most).
FIRST_S = 0.025
#: The longest the shortest interval gets: pages never fall below 5 frames/s for the pacer.
LONGEST_S = 0.2


class FramePacer:
    """The shortest interval between two frames of any page, from the loop's lag.

    :meth:`observe` takes one lag measurement; every :data:`WINDOW_S` of them, :meth:`decide`
    moves the interval by :data:`STRETCH` according to their mean.
    """

    def __init__(self) -> None:
        self._interval = 0.0
        self._lags: deque[float] = deque(maxlen=max(1, round(WINDOW_S / PROBE_S)))
        self._loop: IOLoop | None = None

    def min_interval(self) -> float:
        """Seconds every page waits at least between two frames (0: no limit)."""
        return self._interval

    def observe(self, lag: float) -> None:
        """One probe's lag, in seconds; decides once a window is full."""
        self._lags.append(max(0.0, lag))
        if len(self._lags) == self._lags.maxlen:
            self.decide(sum(self._lags) / len(self._lags))
            self._lags.clear()

    def decide(self, mean_lag: float) -> None:
        """Lengthen the interval if ``mean_lag`` is high, shorten it if low."""
        if mean_lag > LAG_HIGH_S:
            self._interval = min(LONGEST_S, max(FIRST_S, self._interval * STRETCH))
        elif mean_lag < LAG_LOW_S and self._interval > 0.0:
            shorter = self._interval / STRETCH
            self._interval = shorter if shorter >= FIRST_S else 0.0

    def start(self, loop: IOLoop | None = None) -> None:
        """Probe the loop of the calling thread (or ``loop``) from now on: each probe asks to
        run :data:`PROBE_S` later, and its lag is how much later than that it ran."""
        if self._loop is not None:
            return
        self._loop = loop = loop or IOLoop.current()

        def probe(due: float) -> None:
            if self._loop is not loop:
                return  # stopped
            now = time.monotonic()
            self.observe(now - due)
            loop.call_later(PROBE_S, probe, now + PROBE_S)

        loop.call_later(PROBE_S, probe, time.monotonic() + PROBE_S)

    def stop(self) -> None:
        """Stop probing; frames follow their models alone again."""
        self._loop = None
        self._interval = 0.0
        self._lags.clear()


#: The process's pacer.
PACER = FramePacer()


def start(loop: IOLoop | None = None) -> None:
    """Pace the frames of this process's pages by the lag of its loop (``noisescope serve``)."""
    PACER.start(loop)
