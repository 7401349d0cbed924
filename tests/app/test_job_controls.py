"""A background job's controls (:meth:`app.tabs.base.SimulationTab.job_controls`) send the page
its progress at most every :data:`app.tabs.base.PROGRESS_PERIOD_S`, and nothing that did not
change: each change was a message of its own and a restyle and relayout of the page (15 in the
second after a preset on the tokens tab, as the ensemble reran). A preset stepped to with the
keyboard or the presenter bar reaches the page as one message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn
import pytest
from bokeh.document import Document
from panel.io.state import set_curdoc

from app.main import TABS
from app.models.jobs import BackgroundJob
from app.tabs import base

TOKENS = next(tab for tab in TABS if tab.slug == "tokens")


class _Loop:
    """A session's loop as the tab sees it: later calls are kept, to run when the test says."""

    def __init__(self) -> None:
        self.later: list[tuple[float, Callable[..., Any], tuple[Any, ...]]] = []

    def add_callback(self, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        self.later.append((delay, fn, args))


def _live_view() -> tuple[Any, _Loop]:
    """A tokens view whose document acts as a live session's, on a fake loop."""
    doc = Document()
    with set_curdoc(doc):
        view = TOKENS(model=TOKENS.model_class(), lesson=False)
    context = object()
    doc._session_context = lambda: context  # type: ignore[assignment]  # a live session
    doc.add_next_tick_callback = lambda fn: fn()  # type: ignore[method-assign,assignment,return-value]
    loop = _Loop()
    view._loop = loop
    return view, loop


def _column_parts(column: pn.Column) -> tuple[Any, Any, Any, Any]:
    row, message = column.objects
    run, cancel, bar = row.objects
    return run, cancel, bar, message


def _writes(obj: Any, name: str) -> list[Any]:
    seen: list[Any] = []
    obj.param.watch(lambda event: seen.append(event.new), [name])
    return seen


def test_progress_reaches_the_page_at_most_once_a_period_and_its_last_value_always(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(base, "PROGRESS_PERIOD_S", 60.0)
    view, loop = _live_view()
    job = BackgroundJob(name="probe")
    run, cancel, bar, message = _column_parts(view.job_controls(job, "Run", lambda: None))
    values = _writes(bar, "value")
    job.param.update(running=True, message="Computing…")
    for step in range(1, 101):  # a job reporting its progress a hundred times
        job.progress = step / 100
    # the job's start was shown (at 0 %): the reports wait for one call a period later
    assert values == []
    assert [delay > 50 for delay, _, _ in loop.later] == [True]
    _, fn, args = loop.later.pop()
    fn(*args)
    assert values == [100]  # the last report shown
    job.progress = 0.999  # the same percentage: nothing to send
    _, fn, args = loop.later.pop()
    fn(*args)
    assert values == [100]
    assert (run.disabled, cancel.disabled, message.object) == (True, False, "Computing…")
    view.close()


def test_job_controls_write_nothing_unchanged() -> None:
    view, _ = _live_view()
    job = BackgroundJob(name="probe")
    run, cancel, bar, message = _column_parts(view.job_controls(job, "Run", lambda: None))
    written = [_writes(run, "disabled"), _writes(cancel, "disabled"), _writes(message, "object")]
    job.param.update(running=True, message="Computing…")
    job.progress = 0.5
    job.message = "Computing…"  # again: nothing to send
    job.param.trigger("running")
    assert written == [[True], [False], ["Computing…"]]
    job.param.update(running=False, progress=1.0, message="Done.")
    assert written == [[True, False], [False, True], ["Computing…", "Done."]]
    assert bar.value == 100
    view.close()


def test_a_preset_stepped_to_is_held_to_reach_the_page_in_one_message() -> None:
    view, _ = _live_view()
    doc = view._document
    doc.add_root(view.content.get_root(doc))
    held: list[Any] = []
    for name in ("preset", "frame"):  # the preset and the redraw
        view.model.param.watch(lambda _: held.append(doc.callbacks.hold_value), [name])
    assert doc.callbacks.hold_value is None
    with set_curdoc(doc):
        view.step_preset(1)
    assert len(held) >= 2 and all(value is not None for value in held)
    assert doc.callbacks.hold_value is None  # and then sent
    view.close()
