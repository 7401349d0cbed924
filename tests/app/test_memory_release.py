"""The memory passes (app/memory.py): pages frozen out of the cycle collector only once every
open page's browser is connected, thawed and collected after a frozen page closes, and every
pass paced by its own cost."""

from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace
from typing import Any

import pytest

from app import memory


class FakePage:
    """A document as :mod:`app.memory` sees it: a session with a count of connections."""

    def __init__(self, connections: int = 0) -> None:
        self.session_context = SimpleNamespace(session=SimpleNamespace(connection_count=0))
        self.connect(connections)

    def connect(self, connections: int = 1) -> None:
        self.session_context.session.connection_count = connections


@pytest.fixture
def reset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fresh pass state; the real collector is put back as it was afterwards."""
    monkeypatch.setattr(memory, "_last", {"ended": 0.0, "seconds": 0.0, "frozen": 0.0})
    monkeypatch.setattr(memory, "_pages", weakref.WeakKeyDictionary())
    memory._closed.clear()
    memory._closed_frozen.clear()
    yield
    gc.unfreeze()
    memory._closed.clear()
    memory._closed_frozen.clear()


@pytest.fixture
def clock(reset: None, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A settable monotonic clock; a full collection takes 0.1 s of it. The collector's
    calls are recorded, not made."""
    fake: dict[str, Any] = {"now": 1000.0, "calls": []}
    monkeypatch.setattr(memory.time, "monotonic", lambda: fake["now"])

    def collect(generation: int = 2) -> int:
        fake["now"] += 0.1
        fake["calls"].append("collect" if generation == 2 else f"collect young ({generation})")
        return 0

    monkeypatch.setattr(memory.gc, "collect", collect)
    monkeypatch.setattr(memory.gc, "freeze", lambda: fake["calls"].append("freeze"))
    monkeypatch.setattr(memory.gc, "unfreeze", lambda: fake["calls"].append("unfreeze"))
    return fake


def _later(clock: dict[str, Any]) -> None:
    """Past the pacing of any pass so far."""
    clock["now"] += 60.0
    clock["calls"].clear()


def test_nothing_to_do_without_pages_or_closes(clock: dict[str, Any]) -> None:
    assert memory.tend() is None
    assert clock["calls"] == []


def test_a_costly_pass_holds_the_next_back_in_proportion(clock: dict[str, Any]) -> None:
    memory.note_session_closed()
    assert memory.tend() == "collect"  # took 0.1 s of the loop
    memory.note_session_closed()
    wait = 0.1 / memory.RELEASE_DUTY  # 2 s: the loop spends at most 5 % in memory passes
    clock["now"] += 0.9 * wait
    assert memory.tend() is None
    clock["now"] += 0.2 * wait
    assert memory.tend() == "collect"  # the closed session was not lost


def test_pages_are_frozen_once_every_open_page_is_connected(clock: dict[str, Any]) -> None:
    student, crawler = FakePage(), FakePage()
    memory.open_page(student)
    memory.open_page(crawler)
    assert memory.tend() is None  # no browser connected yet
    student.connect()
    assert memory.tend() is None  # a GET without a websocket would be frozen with them
    crawler.connect()
    assert memory.tend() == "freeze"
    # only the young generations: the pages built since the last freeze are alive
    assert clock["calls"] == ["collect young (1)", "freeze"]
    _later(clock)
    assert memory.tend() is None  # nothing new to freeze
    newcomer = FakePage(connections=1)
    memory.open_page(newcomer)
    assert memory.tend() == "freeze"


def test_a_closed_frozen_page_is_thawed_and_the_rest_frozen_again(clock: dict[str, Any]) -> None:
    left, stays = FakePage(connections=1), FakePage(connections=1)
    memory.open_page(left)
    memory.open_page(stays)
    assert memory.tend() == "freeze"
    _later(clock)
    left.connect(0)
    memory.note_session_closed(left)
    assert memory.tend() == "thaw"
    assert clock["calls"] == ["unfreeze", "collect", "freeze"]


def test_a_page_never_frozen_closes_without_a_thaw(clock: dict[str, Any]) -> None:
    crawler = FakePage()
    memory.open_page(crawler)
    memory.note_session_closed(crawler)
    assert memory.tend() == "collect"
    assert "unfreeze" not in clock["calls"]


def test_a_thaw_waits_for_unconnected_pages_before_freezing_again(
    clock: dict[str, Any],
) -> None:
    left, stays = FakePage(connections=1), FakePage(connections=1)
    memory.open_page(left)
    memory.open_page(stays)
    assert memory.tend() == "freeze"
    _later(clock)
    crawler = FakePage()
    memory.open_page(crawler)
    memory.note_session_closed(left)
    assert memory.tend() == "thaw"
    assert clock["calls"] == ["unfreeze", "collect"]  # the crawler's page is not frozen
    _later(clock)
    assert memory.tend() is None
    memory.note_session_closed(crawler)
    assert memory.tend() == "freeze"  # the page that stays is frozen again
    _later(clock)
    assert memory.tend() == "collect"  # the crawler's memory


def test_frozen_pages_are_thawed_now_and_then_without_a_close(clock: dict[str, Any]) -> None:
    page = FakePage(connections=1)
    memory.open_page(page)
    assert memory.tend() == "freeze"
    clock["now"] += memory.THAW_EVERY_S - 1.0
    assert memory.tend() is None
    clock["now"] += 2.0  # the freeze ended 0.1 s after it started (its collection)
    assert memory.tend() == "thaw"


def test_a_closed_frozen_pages_cycles_are_freed(reset: None) -> None:
    """With the real collector: a page frozen with a reference cycle is freed by the thaw after
    its close, not before."""
    page = FakePage(connections=1)
    page.cycle = page  # type: ignore[attr-defined]
    alive = weakref.ref(page)
    memory.open_page(page)
    assert memory.tend() == "freeze"
    assert gc.get_freeze_count() > 0
    memory.note_session_closed(page)
    del page
    gc.collect()
    assert alive() is not None  # frozen: a collection does not see it
    memory._last["ended"] = memory._last["seconds"] = 0.0
    assert memory.tend() == "thaw"
    assert alive() is None


def test_startup_objects_are_frozen_out_of_later_collections(reset: None) -> None:
    frozen = memory.freeze_startup_objects()
    assert frozen > 0 and gc.get_freeze_count() == frozen


def test_the_collector_is_paused_for_a_build_and_restored_as_it_was() -> None:
    assert gc.isenabled()
    with memory.paused_collector():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), memory.paused_collector():
        raise RuntimeError("a build that fails")
    assert gc.isenabled()  # a failed build leaves the collector running
    gc.disable()
    try:
        with memory.paused_collector():
            pass
        assert not gc.isenabled()  # paused by someone else: still paused
    finally:
        gc.enable()
