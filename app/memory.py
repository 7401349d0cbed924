"""Give memory back to the operating system once closed sessions are gone.

CPython frees a destroyed session's objects into the C allocator, which keeps most of the pages
(glibc's malloc returns only the top of its heap). Under session churn the server then holds
the high-water mark of every burst of page loads. :func:`release_after_closed_sessions`, run
now and then on the server's loop, collects reference cycles and asks glibc to return free
pages (``malloc_trim``), only when a session has closed since the last call."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
import time

__all__ = [
    "freeze_startup_objects",
    "note_session_closed",
    "release_after_closed_sessions",
    "trim_heap",
]

_closed = threading.Event()


def _load_trim():  # type: ignore[no-untyped-def]
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)  # glibc only (not musl, not macOS)
    if trim is not None:
        trim.argtypes = [ctypes.c_size_t]
        trim.restype = ctypes.c_int
    return trim


_TRIM = _load_trim()


def trim_heap() -> bool:
    """Return free heap pages to the system; False where the C library cannot."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


def note_session_closed() -> None:
    """Called when a session is destroyed: the next release pass has work to do."""
    _closed.set()


#: A release pass may hold the loop for at most this fraction of the time since the last one:
#: a full collection costs about 10 ms per open or just-closed session (2.3 s after 40 pages
#: closed at once), so a burst of closes is followed by one pass, not one every few seconds.
RELEASE_DUTY = 0.05
_last = {"ended": 0.0, "seconds": 0.0}


def release_after_closed_sessions() -> bool:
    """Collect cycles and trim the heap if a session closed since the last call, unless the
    last pass was too recent for its cost (:data:`RELEASE_DUTY`).

    Returns True when it did. It runs every few seconds on the server's loop, never per
    message."""
    if not _closed.is_set():
        return False
    if time.monotonic() - _last["ended"] < _last["seconds"] / RELEASE_DUTY:
        return False  # the closed sessions wait for the next pass
    _closed.clear()
    start = time.monotonic()
    gc.collect()
    trim_heap()
    _last["ended"] = time.monotonic()
    _last["seconds"] = _last["ended"] - start
    return True


def freeze_startup_objects() -> int:
    """Exclude every object alive now (modules, kernels, start-up caches) from all later
    garbage collections (``gc.freeze``): each full collection then scans only what sessions
    made, and a forked server process does not touch the pages it shares with its parent.
    The heap the warm-up freed goes back to the system. Returns the number of objects
    frozen."""
    gc.collect()
    gc.freeze()
    trim_heap()
    return gc.get_freeze_count()
