"""The memory release pass: only after a session closed, and paced by its own cost."""

from __future__ import annotations

import gc

import pytest

from app import memory


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A settable monotonic clock; a full collection takes 0.1 s of it."""
    now = [1000.0]
    monkeypatch.setattr(memory.time, "monotonic", lambda: now[0])

    def slow_collect(*_: object) -> int:
        now[0] += 0.1
        return 0

    monkeypatch.setattr(memory.gc, "collect", slow_collect)
    # this process's objects are neither thawed nor frozen by the paced passes below
    monkeypatch.setattr(memory.gc, "freeze", lambda: None)
    monkeypatch.setattr(memory.gc, "unfreeze", lambda: None)
    monkeypatch.setattr(memory, "_last", {"ended": 0.0, "seconds": 0.0})
    memory._closed.clear()
    memory._frozen.clear()
    return now


def test_nothing_to_release_without_a_closed_session(clock: list[float]) -> None:
    assert memory.release_after_closed_sessions() is False


def test_a_costly_pass_holds_the_next_back_in_proportion(clock: list[float]) -> None:
    memory.note_session_closed()
    assert memory.release_after_closed_sessions() is True  # took 0.1 s of the loop
    memory.note_session_closed()
    wait = 0.1 / memory.RELEASE_DUTY  # 2 s: the loop spends at most 5 % in release passes
    clock[0] += 0.9 * wait
    assert memory.release_after_closed_sessions() is False
    clock[0] += 0.2 * wait
    assert memory.release_after_closed_sessions() is True  # the closed session was not lost


def test_startup_objects_are_frozen_out_of_later_collections() -> None:
    try:
        frozen = memory.freeze_startup_objects()
        assert frozen > 0 and gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_frozen_sessions_get_a_pass_without_a_close_after_a_while(clock: list[float]) -> None:
    memory.note_session_closed()
    assert memory.release_after_closed_sessions() is True
    memory.freeze_built_session()  # a page built since; nothing closed
    clock[0] += 0.9 * memory.REFREEZE_S
    assert memory.release_after_closed_sessions() is False
    clock[0] += 0.2 * memory.REFREEZE_S
    assert memory.release_after_closed_sessions() is True
    assert memory.release_after_closed_sessions() is False  # nothing frozen or closed since


class _Node:
    """A reference cycle: only the cycle collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_a_built_session_is_out_of_automatic_collections_until_the_release_pass() -> None:
    import weakref

    memory._last.update(ended=0.0, seconds=0.0)
    node = _Node()
    alive = weakref.ref(node)
    try:
        memory.freeze_built_session()
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()  # what the interpreter's automatic full collection does: frozen is skipped
        assert alive() is not None
        memory.note_session_closed()
        assert memory.release_after_closed_sessions() is True
        assert alive() is None  # thawed, collected; the survivors are frozen again
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        memory._frozen.clear()
