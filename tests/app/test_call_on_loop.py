"""A background job's result reaches its page: a worker thread hands the redraw to the session's
loop and never touches the document itself. Added from the worker, the next-tick callback's
registration event could fall into the document's held events while the loop was dispatching
them and be lost (the signature tab's accuracy chip stayed at "computing…" in CI, issue 14)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from bokeh.document import Document
from panel.io.state import set_curdoc

from app.main import TABS

TOKENS = next(tab for tab in TABS if tab.slug == "tokens")


def test_a_worker_hands_its_callback_to_the_loop_thread() -> None:
    added: list[int] = []

    async def scenario() -> None:
        doc = Document()
        with set_curdoc(doc):
            view = TOKENS(model=TOKENS.model_class(), lesson=False)
        context = object()
        doc._session_context = lambda: context  # type: ignore[assignment]  # a live session
        doc.add_next_tick_callback = lambda fn: added.append(threading.get_ident())  # type: ignore[method-assign,assignment,return-value]

        def redraw() -> Any:
            return None

        worker = threading.Thread(target=view.call_on_loop, args=(redraw,))
        worker.start()
        worker.join()
        assert added == []  # the worker added nothing to the document
        await asyncio.sleep(0.05)  # the loop's turn
        view.close()

    asyncio.run(scenario())
    assert added == [threading.get_ident()]  # added once, by the loop's thread
