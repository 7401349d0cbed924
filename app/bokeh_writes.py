"""Messages reach each browser in the order the server made them.

A PATCH-DOC message names a model in full the first time it goes to the browser and by its id
afterwards: making the message marks its models as sent. So the messages of one connection must
be written in the order they were made, or the browser meets an id before the model and BokehJS
throws ``reference p… isn't known`` (the plot stops updating). Two writers break that order:

* Bokeh makes a message when a locked callback changes the document
  (``ServerSession._document_patched``) and writes it after the callback returns, waiting for
  the connection's write lock;
* Panel's ``pn.io.hold``, when it runs without the document lock, writes its messages at once
  (``dispatch_tornado``), or, while the write lock is held, makes them at once and writes them
  from a task that polls the lock every 10 ms (``schedule_write_events``): a Bokeh message made
  later, already waiting on the lock, goes first.

Both happened in the browser tests (a sweep whose cached result arrives at once, issue 14).
Panel's own writes also left tornado's write futures of a closing socket unawaited, which logged
``Task exception was never retrieved`` tracebacks.

:func:`install` gives every connection one outbox: a message is queued when it is made and one
task per connection writes the queue in order, each message's frames at once under Bokeh's
write lock. Panel's
two write paths queue there too (its FastAPI server already sends through ``send_message``).
A connection that closed drops what is left; nothing is logged as a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any

import panel.io.document as panel_document
from bokeh.server.views.ws import WSHandler
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError, WebSocketHandler

__all__ = ["install", "installed", "uninstall"]

log = logging.getLogger(__name__)

_ORIGINAL = {
    "send_message": WSHandler.send_message,
    "dispatch_tornado": panel_document.dispatch_tornado,
    "schedule_write_events": panel_document.schedule_write_events,
}


class _Outbox:
    """A connection's messages in the order they were made, and the task writing them."""

    __slots__ = ("queue", "writer")

    def __init__(self) -> None:
        self.queue: deque[tuple[Any, asyncio.Future[None]]] = deque()
        self.writer: asyncio.Task[None] | None = None


def _send_message(self: WSHandler, message: Any) -> asyncio.Future[None]:
    """Queue ``message`` now; the returned future is done once it is written (or dropped
    because the connection closed). Replaces Bokeh's coroutine, which took its place in the
    write order only when it was awaited."""
    outbox = self.__dict__.get("_ns_outbox")
    if outbox is None:
        outbox = self.__dict__["_ns_outbox"] = _Outbox()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    outbox.queue.append((message, done))
    if outbox.writer is None or outbox.writer.done():
        outbox.writer = asyncio.ensure_future(_write_in_order(self, outbox))
    return done


async def _write_in_order(handler: WSHandler, outbox: _Outbox) -> None:
    queue = outbox.queue
    while queue:
        message, done = queue.popleft()
        try:
            if handler.ws_connection is None or handler.ws_connection.is_closing():
                _drop(queue)  # the page closed; Bokeh's on_close cleans the session up
            else:
                await _write_whole(handler, message)
        except (WebSocketClosedError, StreamClosedError):
            _drop(queue)
        except Exception as error:  # a message that cannot be written must not stop the rest
            log.warning("a message to the browser was not sent: %r", error)
        finally:
            if not done.done():
                done.set_result(None)


async def _write_whole(handler: WSHandler, message: Any) -> None:
    """Queue every frame of ``message`` on the socket at once, then wait until they are
    written. Bokeh awaits each frame before queuing the next: a document of 60 frames then
    waited for 60 turns of a busy loop (page builds in between) and arrived last of a burst."""
    frames: list[str | bytes] = [message.header_json, message.metadata_json, message.content_json]
    for buffer in message._buffers:
        frames += [json.dumps(buffer.ref), buffer.to_bytes()]
    written: list[Any] = []
    try:
        with await handler.write_lock.acquire():  # Bokeh's other writers (none left) take it
            for frame in frames:
                binary = isinstance(frame, bytes)
                written.append(WebSocketHandler.write_message(handler, frame, binary=binary))
    finally:  # every frame's outcome is collected, so none is reported as never retrieved
        outcomes = await asyncio.gather(*written, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def _drop(queue: deque[tuple[Any, asyncio.Future[None]]]) -> None:
    while queue:
        _, done = queue.popleft()
        if not done.done():
            done.set_result(None)


def _dispatch_tornado(
    conn: Any, events: list[Any] | None = None, msg: Any = None
) -> list[asyncio.Future[None]]:
    """Panel's immediate write: make the message now and queue it in the connection's outbox."""
    socket = conn._socket
    ws_conn = getattr(socket, "ws_connection", None)
    if not ws_conn or ws_conn.is_closing():
        return []
    if msg is None:
        if not events:
            return []
        msg = conn.protocol.create("PATCH-DOC", events)
    return [socket.send_message(msg)]


def _schedule_write_events(doc: Any, connections: list[Any], events: list[Any]) -> None:
    """Panel's deferred write (used while a write is in flight): queuing keeps it in order, so
    it needs no polling task."""
    for conn in connections:
        _dispatch_tornado(conn, events)


def install() -> None:
    """Write every connection's messages in the order they are made (idempotent)."""
    WSHandler.send_message = _send_message  # type: ignore[assignment,method-assign]
    panel_document.dispatch_tornado = _dispatch_tornado
    panel_document.schedule_write_events = _schedule_write_events


def uninstall() -> None:
    """Bokeh's and Panel's own writers back (the tests compare the two)."""
    WSHandler.send_message = _ORIGINAL["send_message"]  # type: ignore[method-assign]
    panel_document.dispatch_tornado = _ORIGINAL["dispatch_tornado"]
    panel_document.schedule_write_events = _ORIGINAL["schedule_write_events"]


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    return WSHandler.send_message is _send_message
