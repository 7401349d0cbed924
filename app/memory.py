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

__all__ = ["note_session_closed", "release_after_closed_sessions", "trim_heap"]

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


def release_after_closed_sessions() -> bool:
    """Collect cycles and trim the heap if a session closed since the last call.

    Returns True when it did. A full collection of the server's heap takes tens of
    milliseconds, so this runs every few seconds, never per message."""
    if not _closed.is_set():
        return False
    _closed.clear()
    gc.collect()
    trim_heap()
    return True
