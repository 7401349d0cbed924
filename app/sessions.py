"""How the server creates and keeps sessions when many pages open at once (issue 14).

Bokeh builds a page's document on the event loop when the page's GET arrives
(``ApplicationContext.create_session_if_needed``), about a second of Python per page here.
Two of its defaults hurt a burst of pages (a class opening the lecturer's link together):

* every GET that arrived starts its build as soon as its turn comes, so builds run back to
  back: a health check, a playing session's frame, or the websocket of a page already built
  waited for all of them, and every page of a burst got its document after the last build.
  :func:`take_turns` builds one page at a time, lets everything that became ready run between
  two builds, and first serves the pages already built (their websocket opened, their
  document not sent yet): a page's wait grows with its place in the queue;
* a session whose page has not connected yet is discarded after the short lifetime meant for
  closed pages; its websocket then arrived after the other pages' builds and Bokeh built the
  document a second time (every page of a burst of 40 paid two builds).
  :func:`wait_for_websockets` keeps such a session longer.

A page is also cheaper to show: a tab builds its first panel with the page and the others
once the page has shown it (:func:`after_first_paint`), in a spare turn, when no new page
waits for its build: a class opening the link together first sees every page's first plot,
then every page's other panels.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import panel as pn
from bokeh.server.contexts import ApplicationContext
from bokeh.server.session import ServerSession
from bokeh.server.views.ws import WSHandler
from bokeh.settings import settings
from bokeh.util.token import get_session_id
from panel.reactive import Syncable
from tornado.ioloop import IOLoop

from app import memory

__all__ = [
    "CHANGE_DEBOUNCE_MS",
    "SESSION_LIFETIME_MS",
    "UNOPENED_SESSION_MS",
    "after_first_paint",
    "answer_promptly",
    "skip_callback_checks",
    "take_turns",
    "wait_for_websockets",
]

#: Milliseconds a session outlives its closed page (Bokeh's default is 15 s, checked every 17 s).
SESSION_LIFETIME_MS = 5000
#: Milliseconds a session built for a page waits for that page's websocket: Bokeh's default
#: lifetime. With builds taking turns a page's websocket comes within a build or two of its
#: page; longer would let a flood of GETs without websockets hold many documents.
UNOPENED_SESSION_MS = 15_000

#: Seconds the loop runs other work before each build: a few iterations, so that a request or
#: a frame whose callback needs more than one hop (a timer, then its task) completes.
TURN_GAP_S = 0.005
#: Seconds a build waits at most for pages already built to receive their documents.
MAX_BUILD_WAIT_S = 2.0
#: Seconds a page's open websocket counts as waiting for its document (a client that never
#: asks for it stops holding builds back).
SERVING_TIMEOUT_S = 10.0
#: Seconds between two looks for a spare turn (:func:`after_first_paint`).
SPARE_TURN_POLL_S = 0.05

#: Milliseconds Panel waits after a change from the browser before handling it (Panel's own:
#: 50). Changes that arrive meanwhile are handled together, as they are while the callback
#: waits its turn on a busy loop.
CHANGE_DEBOUNCE_MS = 5

_ORIGINAL = {
    "debounce": Syncable._debounce,
    "session_init": ServerSession.__init__,
    "create": ApplicationContext.create_session_if_needed,
    "open": WSHandler._async_open,
    "close": WSHandler.on_close,
    "pull": ServerSession._handle_pull,
}
_turn: dict[str, Any] = {}
#: What a finished step of :func:`after_first_paint` gives in place of its next value.
_END = object()
#: id of a page's websocket handler → when it opened, until its document is sent.
_serving: dict[int, float] = {}


def wait_for_websockets(grace_ms: int = UNOPENED_SESSION_MS) -> None:
    """Keep a session whose page has not connected yet for ``grace_ms``; once its page
    connected and left, it lingers :data:`SESSION_LIFETIME_MS` as before.

    Bokeh discards a session without connections once ``milliseconds_since_last_unsubscribe``
    passes the lifetime, counting from the session's creation when nothing connected yet: the
    creation time is moved ``grace_ms - SESSION_LIFETIME_MS`` into the future."""
    original = _ORIGINAL["session_init"]

    def init(self: ServerSession, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._last_unsubscribe_time += grace_ms - SESSION_LIFETIME_MS

    ServerSession.__init__ = init  # type: ignore[method-assign]


async def _create_in_turn(
    self: ApplicationContext, session_id: Any, request: Any = None, token: Any = None
) -> ServerSession:
    """Bokeh's session creation, one new document at a time, after :data:`TURN_GAP_S` of the
    loop's other work and the documents of pages already built (at most
    :data:`MAX_BUILD_WAIT_S`)."""
    create = _ORIGINAL["create"]
    if session_id in self._sessions or session_id in self._pending_sessions:
        return await create(self, session_id, request, token)  # a page's websocket: no build
    lock = _lock()
    _turn["queued"] = _turn.get("queued", 0) + 1
    try:
        await lock.acquire()
    finally:
        _turn["queued"] -= 1
    try:
        deadline = time.monotonic() + MAX_BUILD_WAIT_S
        await asyncio.sleep(TURN_GAP_S)  # what became ready during the last build runs first
        while _pages_waiting() and time.monotonic() < deadline:
            await asyncio.sleep(TURN_GAP_S)
        with memory.paused_collector():  # the page's objects live on: nothing to collect
            return await create(self, session_id, request, token)
    finally:
        lock.release()


def _lock() -> asyncio.Lock:
    lock = _turn.get("lock")
    if lock is None:
        lock = _turn["lock"] = asyncio.Lock()
    return lock


@contextlib.contextmanager
def batched(document: Any) -> Iterator[None]:
    """The changes made inside reach the page in one message (Panel's ``hold``), and Bokeh
    works out the document's set of models once, at the end. Otherwise it does that after each
    change of a property that holds models (``DocumentModelManager.recompute``), and Panel's
    ``_preprocess`` walks the whole layout too; each walk costs about 15 µs per model of the
    document (:mod:`app.bokeh_walk`; 30 with Bokeh's own walk), and a page holds about 1000
    models per tab it has shown. A document that has no roots yet (a page being built) has
    nothing to walk."""
    if document is None or not document.roots:
        yield
        return
    with pn.io.hold(document), document.models.freeze():
        yield


def after_first_paint(document: Any, build: Callable[[], Iterable[None] | None]) -> None:
    """Run ``build`` (which adds to ``document``) once the page has shown what was built with
    it, in spare turns: when no new page waits for its build and no built page for its
    document. A ``build`` that returns an iterator (a generator) runs one step of it per spare
    turn, so the loop's other work (other pages' frames and answers) runs between its steps.
    Outside a server session (tests, notebooks, the warm-up) it runs now, to the end.

    The page reports that it has shown its document (BokehJS's ``DocumentReady``, Panel's
    ``onload``); each step then waits for a spare turn, holds the build turn while it runs
    (as a new page's build would) and runs as the document's next-tick callback (with the
    document locked, as every callback). A session closed meanwhile drops the rest."""
    context = getattr(document, "session_context", None)
    if context is None:
        for _ in build() or ():
            pass
        return
    loop = IOLoop.current()  # Panel may run onload callbacks on its thread pool

    def loaded() -> None:
        loop.add_callback(lambda: asyncio.ensure_future(_in_spare_turns(document, build)))

    pn.state.onload(loaded)


async def _in_spare_turns(document: Any, build: Callable[[], Iterable[None] | None]) -> None:
    lock = _lock()
    context = document.session_context
    state: dict[str, Any] = {"steps": None, "finished": False}

    def step() -> None:
        try:
            with memory.paused_collector():  # what it builds lives as long as the page
                if state["steps"] is None:
                    state["steps"] = iter(build() or ())
                state["finished"] = next(state["steps"], _END) is _END
        except BaseException:
            state["finished"] = True  # Bokeh's callback logs it; no step after a failed one
            raise

    while not state["finished"]:
        while _turn.get("queued", 0) or lock.locked() or _pages_waiting():
            if context.destroyed:
                return
            await asyncio.sleep(SPARE_TURN_POLL_S)
        async with lock:
            done = asyncio.get_running_loop().create_future()

            def run(done: asyncio.Future[None] = done) -> None:
                try:
                    step()
                finally:
                    done.set_result(None)

            document.add_next_tick_callback(run)
            # a session destroyed before its turn drops the callback: stop waiting then
            while not done.done() and not context.destroyed:
                await asyncio.wait([done], timeout=SPARE_TURN_POLL_S)
        if context.destroyed:
            return


def _pages_waiting() -> bool:
    stale = time.monotonic() - SERVING_TIMEOUT_S
    for key in [key for key, opened in _serving.items() if opened < stale]:
        del _serving[key]
    return bool(_serving)


async def _open(self: WSHandler, token: str) -> None:
    """A page's websocket: while its session is built and its document not sent, new builds
    wait."""
    try:
        known = get_session_id(token) in self.application_context._sessions
    except Exception:  # Bokeh's own open reports a bad token
        known = False
    if known:
        _serving[id(self)] = time.monotonic()
    try:
        await _ORIGINAL["open"](self, token)
    except BaseException:
        _serving.pop(id(self), None)
        raise


def _on_close(self: WSHandler) -> None:
    _serving.pop(id(self), None)
    _ORIGINAL["close"](self)


async def _handle_pull(self: ServerSession, message: Any, connection: Any) -> Any:
    try:
        return await _ORIGINAL["pull"](self, message, connection)
    finally:
        _serving.pop(id(connection._socket), None)


def skip_callback_checks() -> None:
    """Turn off what Bokeh calls its "expensive error diagnostics" unless
    ``BOKEH_PERFORM_ERROR_DIAGNOSTICS`` says otherwise: the signature check of every
    ``on_change`` callback (``inspect.signature``), about 500 per page, all of them Panel's own
    property links: 0.1 s of a tab's 0.4 s first build. A wrong callback still fails when called;
    only a misspelt attribute's error loses its suggestion."""
    if os.environ.get("BOKEH_PERFORM_ERROR_DIAGNOSTICS") is None:
        settings.perform_error_diagnostics.set_value(False)


def answer_promptly(debounce_ms: int = CHANGE_DEBOUNCE_MS) -> None:
    """Handle a change from the browser (Play, Pause, a slider's release, a select)
    ``debounce_ms`` after it arrives instead of Panel's 50 ms: with one page open, those
    50 ms were half of a moved slider's answer (91-102 ms from the move to the new run's
    first frame, ``bench_load.py``). A dragged slider's many values still arrive as one
    change while the first waits: Panel adds them to it (``Syncable._server_change``)."""
    Syncable._debounce = debounce_ms


def take_turns() -> None:
    """Build new sessions' documents one at a time, with the loop's other work, and the
    documents of pages already built, in between."""
    ApplicationContext.create_session_if_needed = _create_in_turn  # type: ignore[method-assign]
    WSHandler._async_open = _open  # type: ignore[method-assign]
    WSHandler.on_close = _on_close  # type: ignore[method-assign]
    ServerSession._handle_pull = _handle_pull  # type: ignore[method-assign]


def restore() -> None:
    """Bokeh's own session creation and lifetime, and Panel's debounce, back (tests)."""
    Syncable._debounce = _ORIGINAL["debounce"]
    ServerSession.__init__ = _ORIGINAL["session_init"]  # type: ignore[method-assign]
    ApplicationContext.create_session_if_needed = _ORIGINAL["create"]  # type: ignore[method-assign]
    WSHandler._async_open = _ORIGINAL["open"]  # type: ignore[method-assign]
    WSHandler.on_close = _ORIGINAL["close"]  # type: ignore[method-assign]
    ServerSession._handle_pull = _ORIGINAL["pull"]  # type: ignore[method-assign]
    settings.perform_error_diagnostics.unset_value()
    _turn.clear()
    _serving.clear()
