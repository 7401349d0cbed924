"""With ``noisescope serve --num-threads`` the clock's tick runs on a worker thread while the
session's loop redraws: a redraw must never read the model mid-step (issue 14: a panel read
``t`` of 81 points and ``y`` of 80), and two ticks must never step the model at once."""

from __future__ import annotations

import threading
import time
from typing import Any

from app.main import TABS

TOKENS = next(tab for tab in TABS if tab.slug == "tokens")
#: How long the slowed step holds the model (s): long enough for the other thread to arrive.
STEP_S = 0.3


def _slowed_view() -> tuple[Any, dict[str, Any]]:
    """A tokens view whose model's step takes STEP_S and records when it is inside."""
    view = TOKENS(model=TOKENS.model_class(), lesson=False)
    seen: dict[str, Any] = {"inside": False, "steps": 0, "overlap": False, "mid_step": []}
    step = view.model.step

    def slow_step(*args: Any, **kwargs: Any) -> Any:
        if seen["inside"]:
            seen["overlap"] = True
        seen["inside"] = True
        seen["steps"] += 1
        try:
            time.sleep(STEP_S)
            return step(*args, **kwargs)
        finally:
            seen["inside"] = False

    view.model.step = slow_step  # type: ignore[method-assign]
    # (without a document the stepping thread redraws inside its own step, as in a notebook:
    # only the other thread's redraw counts)
    view._update_plots = lambda: seen["mid_step"].append(  # type: ignore[method-assign]
        (threading.get_ident(), seen["inside"])
    )
    view.model.playing = True
    view._stepped_at = 0.0
    return view, seen


def test_a_redraw_waits_for_a_step_on_another_thread() -> None:
    view, seen = _slowed_view()
    try:
        worker = threading.Thread(target=view.tick)
        worker.start()
        while not seen["inside"]:
            time.sleep(0.005)
        view._refresh()  # the loop's redraw, while the worker steps
        worker.join()
        assert seen["steps"] == 1
        loop = [inside for ident, inside in seen["mid_step"] if ident == threading.get_ident()]
        assert loop == [False]  # the loop's redraw waited for the step to end
    finally:
        view.close()


def test_two_ticks_never_step_at_once() -> None:
    view, seen = _slowed_view()
    try:
        workers = [threading.Thread(target=view.tick) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert not seen["overlap"]
        assert seen["steps"] == 1  # the others found the frame still running and skipped
    finally:
        view.close()
