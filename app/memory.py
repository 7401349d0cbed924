"""Keep the cycle collector off open pages, and give memory back once pages close.

Three costs of CPython's memory management grow with the number of open pages:

* **Full collections.** The interpreter's automatic full collection scans every tracked object:
  about 63 000 per open page, 24 ms per page, so with 10 pages open the loop stopped for
  200–330 ms every few seconds. Once every open page's browser is connected, :func:`tend`
  moves everything alive into the permanent generation (``gc.freeze``); later collections scan
  only what was made since. A page no browser opened (a crawler's GET) or one whose browser
  left is never frozen: its session is about to be discarded, and frozen its memory would wait
  for the next thaw.
* **The allocator's high-water mark.** CPython frees a destroyed session's objects into the C
  allocator, which keeps most of the pages (glibc's malloc returns only the top of its heap).
  After a page closes, :func:`tend` collects its cycles (thawing the frozen objects first if the
  page was frozen) and asks glibc to return free pages (``malloc_trim``).
* **Collections during a page's build.** A page's build makes about 60 000 objects, all of
  which live as long as the page: the automatic collections it triggers find nothing to free
  and, in a burst of pages, scan the pages built before it again (8 full collections in 40
  builds, 2.0 s of 13 s). :func:`paused_collector` holds them off for the build; the objects
  it made are examined once, by the first collection after it.

:func:`tend` runs every second on the server's loop, paced by its own cost
(:data:`RELEASE_DUTY`)."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "freeze_startup_objects",
    "note_session_closed",
    "open_page",
    "paused_collector",
    "tend",
    "trim_heap",
]

_closed = threading.Event()
#: Set when a page closed whose objects were frozen: only a thaw frees them.
_closed_frozen = threading.Event()
#: Open pages (their documents) → whether their objects are frozen.
_pages: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


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


@contextmanager
def paused_collector() -> Iterator[None]:
    """No automatic garbage collection inside the block (a page's build, whose objects all
    live on); the collector runs again after it, as it was. Measured over 40 builds of the
    tokens page kept alive: 13.0-14.9 s with the collector, 11.6-11.7 s paused (full
    collections 8 -> 0)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def open_page(document: Any) -> None:
    """Called when a session's document is built: the page counts until it is destroyed
    (:func:`note_session_closed`) and is frozen once its browser is connected."""
    with _lock:
        _pages[document] = False


def note_session_closed(document: Any = None) -> None:
    """Called when a session is destroyed: the next pass has work to do."""
    with _lock:
        frozen = _pages.pop(document, False) if document is not None else False
    (_closed_frozen if frozen else _closed).set()


#: The passes may hold the loop for at most this fraction of the time since the last one: a
#: thaw costs about 24 ms per open or just-closed page (2.3 s after 40 pages closed at once),
#: so a burst of closes is followed by one pass, not one every few seconds.
RELEASE_DUTY = 0.05
#: Seconds after which frozen pages are thawed and collected once even if none closed: cycles
#: among frozen objects that died since (a plot's replaced models) are freed.
THAW_EVERY_S = 300.0
#: The oldest generation a freeze pass collects before freezing (0 and 1: what is young).
YOUNG = 1
_last = {"ended": 0.0, "seconds": 0.0, "frozen": 0.0}


def _connected(document: Any) -> bool:
    context = getattr(document, "session_context", None)
    session = getattr(context, "session", None)
    return session is not None and session.connection_count > 0


def _freezable() -> bool:
    """Every open page's browser is connected (vacuously so with no page open)."""
    with _lock:
        documents = list(_pages)
    return all(_connected(document) for document in documents)


def _mark_frozen(frozen: bool) -> None:
    with _lock:
        for document in list(_pages):
            _pages[document] = frozen


def _work() -> str | None:
    """What the next pass has to do, if anything."""
    now = time.monotonic()
    with _lock:
        unfrozen = not all(_pages.values())
        frozen = any(_pages.values())
    if _closed_frozen.is_set() or (frozen and now - _last["frozen"] >= THAW_EVERY_S):
        return "thaw"
    if unfrozen and _freezable():
        return "freeze"
    if _closed.is_set():
        return "collect"
    return None


def tend() -> str | None:
    """One memory pass, unless the last one was too recent for its cost
    (:data:`RELEASE_DUTY`):

    * ``"thaw"`` after a frozen page closed (or :data:`THAW_EVERY_S` after the last freeze):
      unfreeze, collect every generation, trim the heap, and freeze again if every open
      page's browser is connected;
    * ``"freeze"`` when a page built since the last freeze is connected and so is every other:
      collect the young generations, then freeze everything alive;
    * ``"collect"`` after a page that was never frozen closed: collect and trim.

    Returns what it did, or None. It runs every second on the server's loop, never per
    message."""
    work = _work()
    if work is None or time.monotonic() - _last["ended"] < _last["seconds"] / RELEASE_DUTY:
        return None
    start = time.monotonic()
    if work == "thaw":
        _closed_frozen.clear()
        _closed.clear()
        gc.unfreeze()
        _mark_frozen(False)
        gc.collect()
        trim_heap()
        if _freezable():
            _freeze()
    elif work == "freeze":
        # the young generations only: a full collection scans every page built since the
        # last freeze (about 1 s on the loop after a burst of 40 pages), all of it alive;
        # a cycle that died among them is freed by the next thaw
        gc.collect(YOUNG)
        _freeze()
    else:
        _closed.clear()
        gc.collect()
        trim_heap()
    _last["ended"] = time.monotonic()
    _last["seconds"] = _last["ended"] - start
    return work


def _freeze() -> None:
    gc.freeze()
    _mark_frozen(True)
    _last["frozen"] = time.monotonic()


def freeze_startup_objects() -> int:
    """Exclude every object alive now (modules, kernels, start-up caches) from all later
    garbage collections (``gc.freeze``): each full collection then scans only what sessions
    made, and a forked server process does not touch the pages it shares with its parent
    (until a thaw: :func:`tend`). The heap the warm-up freed goes back to the system. Returns
    the number of objects frozen."""
    gc.collect()
    gc.freeze()
    trim_heap()
    return gc.get_freeze_count()
