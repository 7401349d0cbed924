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
    monkeypatch.setattr(memory, "_last", {"ended": 0.0, "seconds": 0.0})
    memory._closed.clear()
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
