"""Progress reporting and cancellation for long kernel computations (shared by every kernel).

A long entry point takes ``progress: ProgressFn | None``: a callable ``progress(fraction) -> bool``
with ``fraction`` in [0, 1]. Returning False asks the computation to stop; the kernel then raises
:class:`Cancelled` at its next chunk boundary (a few ms of work), carrying what it computed so far.

Kernels wrap the caller's callback once with :func:`throttled_progress` and call the wrapper after
every chunk: the wrapper forwards at most one call per :data:`PROGRESS_INTERVAL` seconds (plus the
forced final one), so a fast loop does not flood a UI with updates. Pure Python: no numba here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

__all__ = [
    "PROGRESS_INTERVAL",
    "Cancelled",
    "ProgressFn",
    "Reporter",
    "throttled_progress",
]

#: A user progress callback: ``progress(done_fraction) -> bool``; False cancels.
ProgressFn = Callable[[float], bool]
#: The wrapper kernels call: ``report(fraction, force=False) -> bool`` (False: stop now).
Reporter = Callable[[float, bool], bool]
#: Minimum seconds between two forwarded progress callbacks.
PROGRESS_INTERVAL = 0.05


class Cancelled(Exception):
    """Raised when a ``progress`` callback returned False.

    ``partial`` holds what was computed before the cancellation (for
    :func:`kernels.tokens.simulate_ensemble` the recorded frames so far, shape
    ``(n_frames_done, R, N, d)``; ``None`` for studies) and ``steps_done`` the number of steps
    (layers) completed.
    """

    def __init__(self, message: str = "cancelled", partial: Any = None, steps_done: int = 0):
        super().__init__(message)
        self.partial = partial
        self.steps_done = steps_done


def throttled_progress(
    progress: ProgressFn | None, interval: float = PROGRESS_INTERVAL
) -> Reporter:
    """Wrap a user progress callback: throttled, clamped to [0, 1], False means cancel.

    Parameters
    ----------
    progress : callable or None
        ``progress(fraction) -> bool``. Any return value other than ``False`` (``None``
        included) means "continue". ``None`` gives a reporter that always continues.
    interval : float
        Calls closer than ``interval`` seconds to the last forwarded one are dropped (and
        answered True), unless ``force`` is set.

    Returns
    -------
    callable
        ``report(fraction, force=False) -> bool``.

    Raises
    ------
    ValueError
        If ``progress`` is neither None nor callable.
    """
    if progress is None:
        return lambda fraction, force=False: True
    if not callable(progress):
        raise ValueError(f"progress must be a callable(fraction) -> bool or None; got {progress!r}")
    last = [-math.inf]

    def report(fraction: float, force: bool = False) -> bool:
        now = time.perf_counter()
        if not force and now - last[0] < interval:
            return True
        last[0] = now
        return progress(min(max(float(fraction), 0.0), 1.0)) is not False

    return report
