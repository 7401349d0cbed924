"""Sessions under a burst of pages (:mod:`app.sessions`, issue 14): documents are built one at a
time with the loop's other work between two builds, a page's other panels wait for a spare turn
(no new page waiting for its first build), and a session waits for its page's websocket longer
than a closed page's session lingers."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from bokeh.document import Document
from bokeh.models import Div
from bokeh.server.session import ServerSession
from tornado.ioloop import IOLoop

from app import sessions
from app.sessions import SESSION_LIFETIME_MS, UNOPENED_SESSION_MS

BUILD_S = 0.15  # a document build, shortened (about 1 s per page in the app)
PAGES = 5


@pytest.fixture
def patched() -> Iterator[None]:
    yield
    sessions.restore()


class Context:
    """What Bokeh's ``create_session_if_needed`` reads: the sessions it knows."""

    def __init__(self) -> None:
        self._sessions: dict[str, Any] = {}
        self._pending_sessions: dict[str, Any] = {}


async def bokeh_like_create(self: Context, session_id: str, request: Any = None, token: Any = None):
    """Bokeh's session creation as the loop sees it: no pause between the request and the
    synchronous document build."""
    if session_id in self._sessions:
        return self._sessions[session_id]
    time.sleep(BUILD_S)
    self._sessions[session_id] = session_id
    return session_id


def largest_loop_gap(create: Any) -> float:
    """``PAGES`` new sessions requested at once while a probe ticks every 10 ms: the longest
    the probe waited for the loop, in seconds."""
    context = Context()

    async def burst() -> float:
        gaps: list[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        ticking = asyncio.ensure_future(probe())
        await asyncio.sleep(0.05)
        await asyncio.gather(*(create(context, f"s{k}") for k in range(PAGES)))
        done.set()
        await ticking
        assert set(context._sessions) == {f"s{k}" for k in range(PAGES)}
        return max(gaps)

    return asyncio.run(burst())


def test_a_burst_of_pages_builds_one_at_a_time_with_the_loop_served_between(
    patched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sessions._ORIGINAL, "create", bokeh_like_create)
    # Bokeh's own order: every build back to back, the probe waits for all of them
    assert largest_loop_gap(bokeh_like_create) >= PAGES * BUILD_S
    sessions.take_turns()
    # in turns: the probe waits for one build at most (plus scheduling slack on a busy CI
    # machine, well under a second build)
    assert largest_loop_gap(sessions._create_in_turn) < 1.7 * BUILD_S


def test_a_page_websocket_for_a_known_session_does_not_wait_for_a_build(
    patched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The websocket of a page already built finds its session without queuing behind new
    builds."""
    monkeypatch.setitem(sessions._ORIGINAL, "create", bokeh_like_create)
    context = Context()
    context._sessions["known"] = "known"

    async def scenario() -> float:
        sessions._turn["lock"] = lock = asyncio.Lock()
        await lock.acquire()  # a build in progress
        start = time.perf_counter()
        found = await asyncio.wait_for(sessions._create_in_turn(context, "known"), timeout=1)
        assert found == "known"
        lock.release()
        return time.perf_counter() - start

    assert asyncio.run(scenario()) < BUILD_S


def test_a_session_waits_for_its_page_longer_than_a_closed_page_lingers(patched: None) -> None:
    """Kept UNOPENED_SESSION_MS until its page connects; once the page connected and left,
    the usual SESSION_LIFETIME_MS (Bokeh discards when ``connection_count == 0 and
    milliseconds_since_last_unsubscribe > lifetime``)."""
    sessions.wait_for_websockets()
    sessions.wait_for_websockets()  # idempotent: the grace is not added twice
    session = ServerSession("s", Document(), IOLoop.current())
    waited = session.milliseconds_since_last_unsubscribe
    grace = UNOPENED_SESSION_MS - SESSION_LIFETIME_MS
    assert -grace <= waited < -(grace - 1000)  # 1 s of slack for a slow machine
    session.unsubscribe(object())  # type: ignore[arg-type]  # the page came and left
    assert 0 <= session.milliseconds_since_last_unsubscribe < 1000


def test_a_build_waits_for_pages_already_built_to_get_their_documents(
    patched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page whose websocket is open and whose document is not sent yet goes before the next
    build; a page that never asks for its document holds builds back at most
    MAX_BUILD_WAIT_S."""
    monkeypatch.setitem(sessions._ORIGINAL, "create", bokeh_like_create)
    monkeypatch.setattr(sessions, "MAX_BUILD_WAIT_S", 0.5)
    context = Context()

    async def scenario() -> tuple[float, float]:
        sessions._serving[1] = time.monotonic()  # a built page's websocket opened
        asyncio.get_running_loop().call_later(0.2, sessions._serving.pop, 1)  # document sent
        start = time.perf_counter()
        await sessions._create_in_turn(context, "next")
        served_first = time.perf_counter() - start - BUILD_S
        sessions._serving[2] = time.monotonic()  # a page that never pulls its document
        start = time.perf_counter()
        await sessions._create_in_turn(context, "after")
        return served_first, time.perf_counter() - start - BUILD_S

    served_first, capped = asyncio.run(scenario())
    assert 0.2 <= served_first < 0.45  # waited for the document, not for the cap
    assert 0.5 <= capped < 0.75  # the cap, plus scheduling slack


class SessionContext:
    """A session context as :func:`app.sessions._in_spare_turns` reads it."""

    def __init__(self) -> None:
        self.destroyed = False


class Doc:
    """A session's document: next-tick callbacks run on the loop's next iteration."""

    def __init__(self) -> None:
        self.session_context = SessionContext()

    def add_next_tick_callback(self, fn: Any) -> None:
        asyncio.get_running_loop().call_soon(fn)


def test_the_other_panels_wait_for_every_new_page_and_a_closed_page_drops_them(
    patched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []

    async def create(self: Context, session_id: str, request: Any = None, token: Any = None):
        time.sleep(BUILD_S)  # a build holds the loop
        order.append(session_id)
        self._sessions[session_id] = session_id

    monkeypatch.setitem(sessions._ORIGINAL, "create", create)

    async def burst() -> None:
        context = Context()
        closed = Doc()
        closed.session_context.destroyed = True
        pages = [sessions._create_in_turn(context, f"page {k}") for k in range(3)]
        first = asyncio.ensure_future(pages[0])
        await asyncio.sleep(0)  # page 0's build holds the turn, pages 1 and 2 queue behind it
        rest = [asyncio.ensure_future(page) for page in pages[1:]]
        later = [
            sessions._in_spare_turns(Doc(), lambda: order.append("other panels")),
            sessions._in_spare_turns(closed, lambda: order.append("closed page's panels")),
        ]
        await asyncio.gather(first, *rest, *later)

    asyncio.run(burst())
    # the other panels of a shown page wait until no new page waits for its first build
    assert order == ["page 0", "page 1", "page 2", "other panels"]


def test_a_build_in_steps_runs_one_step_per_turn_and_stops_with_its_session(
    patched: None,
) -> None:
    """A generator build runs one step per next-tick callback, with the loop's other work
    between two steps; a session destroyed between two steps drops the rest."""
    order: list[str] = []

    def build(name: str, document: Doc) -> Any:
        for step in range(3):
            order.append(f"{name} {step}")
            if name == "closing" and step == 1:
                document.session_context.destroyed = True  # the page closes meanwhile
            yield

    async def scenario() -> None:
        live, closing = Doc(), Doc()
        ticks = asyncio.ensure_future(_other_work(order))
        await asyncio.gather(
            sessions._in_spare_turns(live, lambda: build("live", live)),
            sessions._in_spare_turns(closing, lambda: build("closing", closing)),
        )
        ticks.cancel()

    asyncio.run(scenario())
    steps = [entry for entry in order if entry != "other"]
    assert [s for s in steps if s.startswith("live")] == ["live 0", "live 1", "live 2"]
    assert [s for s in steps if s.startswith("closing")] == ["closing 0", "closing 1"]
    # never two steps of one build without the loop's other work in between
    for before, after in itertools.pairwise(order):
        assert before == "other" or after == "other" or before[:4] != after[:4], order


async def _other_work(order: list[str]) -> None:
    """The loop's other work: one entry per turn of the loop."""
    while True:
        order.append("other")
        await asyncio.sleep(0)


def test_callback_checks_are_skipped_unless_bokeh_is_told_otherwise(
    patched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def wrong(attr: str) -> None:  # Bokeh's on_change callbacks take (attr, old, new)
        pass

    monkeypatch.delenv("BOKEH_PERFORM_ERROR_DIAGNOSTICS", raising=False)
    with pytest.raises(ValueError, match="signature"):
        Div().on_change("text", wrong)
    sessions.skip_callback_checks()
    Div().on_change("text", wrong)  # not inspected
    sessions.restore()
    monkeypatch.setenv("BOKEH_PERFORM_ERROR_DIAGNOSTICS", "true")
    sessions.skip_callback_checks()
    with pytest.raises(ValueError, match="signature"):
        Div().on_change("text", wrong)
