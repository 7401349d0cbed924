"""With :mod:`app.bokeh_writes`, a connection's messages are written in the order they are made.

A message names a model in full the first time and by id after that, so a message written
before an older one can name a model the browser does not have yet (BokehJS: ``reference p…
isn't known``; seen in the browser tests, issue 14). Each test interleaves Bokeh's writer
(locked callbacks: the message is made at once and written when awaited, behind the write lock)
with Panel's (``pn.io.hold`` without the document lock), as the server does, on a recording
socket; each fails with Bokeh's and Panel's own writers (checked by ``test_..._own_writers``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import panel.io.document as panel_document
import pytest
from bokeh.document import Document
from bokeh.document.events import ModelChangedEvent
from bokeh.models import Column, Div
from bokeh.protocol import Protocol
from bokeh.server.connection import ServerConnection
from bokeh.server.views.ws import WSHandler
from tornado.locks import Lock

from app import bokeh_writes
from tests.app.patches import without


class Wire:
    """The websocket under a handler: keeps every frame; each write completes a loop turn
    later, as a network write does, so other tasks run between a message's frames."""

    def __init__(self) -> None:
        self.frames: list[str | bytes] = []
        self.closing = False

    def write_message(self, message: str | bytes, binary: bool = False) -> asyncio.Future[None]:
        self.frames.append(message)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(done.set_result, None)
        return done

    def is_closing(self) -> bool:
        return self.closing


class Connection:
    """Bokeh's ``ServerConnection`` without a session: its protocol, socket and patch sender."""

    send_patch_document = ServerConnection.send_patch_document

    def __init__(self) -> None:
        self.wire = Wire()
        self._socket = object.__new__(WSHandler)  # Bokeh's handler, minus tornado's request
        self._socket.ws_connection = self.wire
        self._socket.write_lock = Lock()
        self.protocol = Protocol()


def order_errors(frames: list[str | bytes]) -> list[str]:
    """Model ids the written frames name (``{"id": ...}``) before the frame that defines them,
    as BokehJS would report them. Every model of ``KNOWN`` is in the browser already."""
    defined: set[str] = set(KNOWN)
    errors: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if set(node) == {"id"} and node["id"] not in defined:
                errors.append(f"reference {node['id']} isn't known")
            if node.get("type") == "object" and "id" in node:
                defined.add(node["id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for frame in frames:
        if isinstance(frame, str):
            walk(json.loads(frame))
    return errors


KNOWN: set[str] = set()


@pytest.fixture
def document() -> tuple[Document, Column, Div]:
    """A document the browser has (a column), and a div just added to it (not sent yet)."""
    doc = Document()
    column = Column()
    doc.add_root(column)
    KNOWN.clear()
    KNOWN.update(model.id for model in doc.models)
    doc.models.flush_synced()
    div = Div(text="new")
    column.children = [div]
    return doc, column, div


def panel_hold(doc: Document, conn: Connection, events: list[Any]) -> None:
    """What ``pn.io.hold`` does on exit without the document lock (``panel.io.document.
    unlocked``): write now, or make the message now and write it later while a write holds
    the lock."""
    if conn._socket.write_lock._block._value == 0:
        panel_document.schedule_write_events(doc, [conn], events)
    else:
        panel_document.write_events(doc, [conn], events)


async def panel_during_a_bokeh_write(doc: Document, conn: Connection, column: Column, div: Div):
    """Bokeh writes a change; while it holds the write lock Panel sends the div; then a locked
    callback changes the div (its message names the div by id)."""
    first = asyncio.ensure_future(
        conn.send_patch_document(ModelChangedEvent(doc, column, "width", 300))
    )
    await asyncio.sleep(0)  # the first message has the write lock, its header is on the wire
    panel_hold(doc, conn, [ModelChangedEvent(doc, column, "children", [div])])
    later = asyncio.ensure_future(
        conn.send_patch_document(ModelChangedEvent(doc, div, "text", "b"))
    )
    await asyncio.gather(first, later)
    await asyncio.sleep(0.1)  # Panel's own deferred writer polls every 10 ms


async def panel_inside_a_locked_callback(doc: Document, conn: Connection, column: Column, div: Div):
    """A locked callback sends the div (Bokeh makes the message, writes it after the callback),
    then holds Panel's events: Panel's message names the div and is written at once."""
    pending = conn.send_patch_document(ModelChangedEvent(doc, column, "children", [div]))
    panel_hold(doc, conn, [ModelChangedEvent(doc, div, "text", "b")])
    await pending
    await asyncio.sleep(0.1)


SCENARIOS: dict[str, Callable[..., Any]] = {
    "Panel during a Bokeh write": panel_during_a_bokeh_write,
    "Panel inside a locked callback": panel_inside_a_locked_callback,
}


@pytest.fixture
def own_writers() -> Iterator[None]:
    """Bokeh's and Panel's own writers for the test's duration."""
    with without(bokeh_writes):
        yield


@pytest.fixture
def ordered_writers() -> Iterator[None]:
    was = bokeh_writes.installed()
    bokeh_writes.install()
    yield
    if not was:
        bokeh_writes.uninstall()


def run(scenario: Callable[..., Any], document: tuple[Document, Column, Div]) -> Connection:
    conn = Connection()
    asyncio.run(scenario(document[0], conn, *document[1:]))
    return conn


@pytest.mark.parametrize("name", SCENARIOS)
def test_messages_are_written_in_the_order_they_are_made(
    ordered_writers: None, document: tuple[Document, Column, Div], name: str
) -> None:
    conn = run(SCENARIOS[name], document)
    assert order_errors(conn.wire.frames) == []
    assert sum('"ModelChanged"' in str(frame) for frame in conn.wire.frames) == 3 - (
        name == "Panel inside a locked callback"
    )


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_scenarios_reorder_messages_with_bokehs_and_panels_own_writers(
    own_writers: None, document: tuple[Document, Column, Div], name: str
) -> None:
    """The scenarios above are the failure: with the libraries' writers the browser would meet
    the div's id before the div."""
    conn = run(SCENARIOS[name], document)
    assert order_errors(conn.wire.frames) == [f"reference {document[2].id} isn't known"]


def test_a_closed_page_drops_its_queue_quietly(
    ordered_writers: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Messages to a page that closed are dropped: every sender's wait ends, nothing logged."""
    doc = Document()
    column = Column()
    doc.add_root(column)
    conn = Connection()

    async def scenario() -> None:
        await conn.send_patch_document(ModelChangedEvent(doc, column, "width", 100))
        sends = [
            conn.send_patch_document(ModelChangedEvent(doc, column, "width", width))
            for width in (200, 300)
        ]
        conn.wire.closing = True  # the browser left after the first message
        panel_document.write_events(doc, [conn], [ModelChangedEvent(doc, column, "width", 400)])
        await asyncio.wait_for(asyncio.gather(*sends), timeout=5)

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert len(conn.wire.frames) == 3  # the first message's header, metadata and content
    assert [record for record in caplog.records if record.levelno >= logging.WARNING] == []
