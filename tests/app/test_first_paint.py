"""A page's first plot first (issue 14, item 4): a tab's first panel is built with the page,
its other panels once the page has shown it, in a spare turn of the server
(:func:`app.sessions.after_first_paint`, :meth:`app.tabs.base.SimulationTab._build_rest`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bokeh.models import Div, ImportedStyleSheet, LayoutDOM, Tabs

from app import sessions
from app.protocol_client import Client, pump, start_receivers, wait_for_panels
from app.serve_process import ServeProcess
from app.tabs.base import PANELS_READY
from app.tabs.tokens.tab import TokensTab

BUILD_S = 0.1  # a page's build, shortened


@pytest.fixture
def patched() -> Iterator[None]:
    yield
    sessions.restore()


class Context:
    """A session context as :func:`app.sessions._in_spare_turn` reads it."""

    def __init__(self) -> None:
        self.destroyed = False


class Doc:
    """A session's document: next-tick callbacks run on the loop's next iteration."""

    def __init__(self) -> None:
        self.session_context = Context()

    def add_next_tick_callback(self, fn: Any) -> None:
        asyncio.get_running_loop().call_soon(fn)


class Sessions:
    """What Bokeh's ``create_session_if_needed`` reads."""

    def __init__(self) -> None:
        self._sessions: dict[str, Any] = {}
        self._pending_sessions: dict[str, Any] = {}


def test_outside_a_server_a_tab_is_built_whole() -> None:
    tab = TokensTab()
    assert tab.complete
    assert PANELS_READY in tab._panels.css_classes
    assert {"hero", "depth", "diameter", "ensemble", "kernel", "phase"} <= set(vars(tab))


def test_the_other_panels_wait_for_every_new_page_and_a_closed_page_drops_them(
    patched: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []

    async def create(self: Sessions, session_id: str, request: Any = None, token: Any = None):
        time.sleep(BUILD_S)  # a build holds the loop
        order.append(session_id)
        self._sessions[session_id] = session_id

    monkeypatch.setitem(sessions._ORIGINAL, "create", create)

    async def burst() -> None:
        context = Sessions()
        closed = Doc()
        closed.session_context.destroyed = True
        pages = [sessions._create_in_turn(context, f"page {k}") for k in range(3)]
        first = asyncio.ensure_future(pages[0])
        await asyncio.sleep(0)  # page 0's build holds the turn, pages 1 and 2 queue behind it
        rest = [asyncio.ensure_future(page) for page in pages[1:]]
        later = [
            sessions._in_spare_turn(Doc(), lambda: order.append("other panels")),
            sessions._in_spare_turn(closed, lambda: order.append("closed page's panels")),
        ]
        await asyncio.gather(first, *rest, *later)

    asyncio.run(burst())
    # the other panels of a shown page wait until no new page waits for its first build
    assert order == ["page 0", "page 1", "page 2", "other panels"]


def test_a_page_gets_its_first_plot_then_its_other_panels(tmp_path: Path) -> None:
    with ServeProcess(log_path=tmp_path / "server.log") as server:
        client = Client(server.base_url, "tokens", apply_data=False)
        document = client.session.document
        first = len(document.models)
        texts = " ".join(str(getattr(m, "text", "")) for m in document.models)
        assert not client.complete()
        assert "Tokens on the sphere" in texts  # the hero's figure title
        assert "Loading the other panels" in texts
        # the client reported the page shown (DocumentReady): the other panels follow
        start_receivers([client])
        wait_for_panels([client], timeout=60)
        after = len(document.models)
        panels = [m for m in document.select({"type": LayoutDOM}) if PANELS_READY in m.css_classes]
        texts = " ".join(str(getattr(m, "text", "")) for m in document.models)
        client.close()
        log = server.log_text()
    assert len(panels) == 1
    assert "Loading the other panels" not in texts
    # the first document holds well under half the page (tokens: ~370 of ~910 models)
    assert first < 0.5 * after, (first, after)
    assert "Traceback" not in log, log[-3000:]


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


def test_panels_built_while_the_page_shows_another_tab_load_nothing_from_the_cdn(
    tmp_path: Path,
) -> None:
    with ServeProcess(log_path=tmp_path / "server.log") as server:
        client = Client(server.base_url, "tokens", apply_data=False)
        document = client.session.document
        tabs = next(iter(document.select({"type": Tabs})))
        tabs.active = 2  # the visitor moves on before the tokens tab's other panels come
        start_receivers([client])
        pump(3.0)
        tabs.active = 1  # and back: the panels built meanwhile are shown now
        wait_for_panels([client], timeout=60)
        sheets = [m for m in document.models if isinstance(m, ImportedStyleSheet)]
        urls = {str(sheet.url) for sheet in sheets}
        client.close()
    assert urls and not [url for url in urls if "cdn.holoviz" in url]
