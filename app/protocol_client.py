"""A protocol-level client of the app: one ``bokeh.client`` session over Bokeh's websocket
protocol, no rendering. Used by the load benchmark (``benchmarks/bench_load.py``) and by the
tests that need the server's own handling of a browser's messages (``tests/app``).

All clients share the calling thread's Tornado loop: messages move only while :func:`pump` runs
it, and :func:`start_receivers` gives every client a task that applies the server's patches.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

# Panel's Bokeh models must be registered for a client to deserialize the app's document.
import panel.models
import panel.models.katex
import panel.models.location
import panel.models.markup  # noqa: F401
from bokeh.client import pull_session
from bokeh.events import DocumentReady
from bokeh.models import LayoutDOM, Markup, Plot, Tabs, Toggle
from tornado.ioloop import IOLoop

import app.main  # noqa: F401  (registers the page's own models: keyboard, labels)
from app.on_screen import NONE_SHOWN, SINK_CLASS
from app.tabs.base import PANELS_READY

#: Patch events that carry plot data (skipped by a client that does not apply them).
DATA_EVENTS = frozenset({"ColumnDataChanged", "ColumnsStreamed", "ColumnsPatched"})
#: Frames a run plays between two of :meth:`Client.poke`'s interactions.
POKE_AFTER_FRAMES = 10
#: Seconds a poked client waits after Pause before it moves the slider (the frames already on
#: their way arrive meanwhile).
PAUSE_SETTLE_S = 0.2
#: Selector of the plots in a tab's content (:meth:`Client.shows_tab`).
PLOTS = {"type": Plot}
#: The Play toggle's label, playing or not ("▶ Play", "❚❚ Pause").
PLAY = re.compile(r"\bPlay$|\bPause$")
#: Classes of the app's tab strip and sidebar (:func:`app.main.create_app`).
TABS_CLASS = "ns-tabs"
SIDEBAR_CLASS = "ns-sidebar"
#: Seconds after which a slider move, a Play or a tab switch that got no answer counts as
#: unanswered.
ANSWER_TIMEOUT_S = 10.0
T_CHIP = re.compile(r'ns-chip-label">t</span><span class="ns-chip-value">([-+0-9.eE]+)<')


class Client:
    """One protocol-level session: counts frames and reads the simulated time."""

    def __init__(
        self,
        url: str,
        tab: str,
        query: dict[str, str] | None = None,
        apply_data: bool = True,
        seeds: Iterator[int] | None = None,
    ) -> None:
        """Open ``url?tab=TAB&QUERY``. Without ``apply_data`` the client counts the server's
        frames but does not decode their plot data (a load benchmark's many clients would
        otherwise use more CPU than the server they measure). ``seeds``: the Seed values
        :meth:`poke` moves to in turn (default: one more than the page shows; clients that
        start at the same seed then ask for the same runs, which the server may share)."""
        self.apply_data = apply_data
        self._seeds = seeds
        # one shared event loop for every client (bokeh.client makes one per connection)
        arguments = {"tab": tab, **(query or {})}
        self.session = pull_session(url=url, io_loop=IOLoop.current(), arguments=arguments)
        self.frames = 0
        self.first_frame_at: float | None = None
        self.play_at = 0.0
        #: Seconds from each slider move of :meth:`poke` to the frame that answered it, and
        #: from each Play that followed to the first frame of the resumed run.
        self.answers: list[float] = []
        self.resumes: list[float] = []
        #: Seconds from each tab switch of :meth:`poke_tab` to the patch that shows the other
        #: tab's hero, and from the switch back to the one that shows the playing tab's.
        self.switches: list[float] = []
        self.returns: list[float] = []
        #: Interactions that got no answer within :data:`ANSWER_TIMEOUT_S`.
        self.unanswered = 0
        #: "playing", then "pausing" (since when), "moved" (when, the ``t`` shown before),
        #: "resuming" (since when): one :meth:`poke` cycle; "away" and "back" (since when, the
        #: tab's index): one :meth:`poke_tab` cycle.
        self._poke: tuple[str, float, float] = ("playing", 0.0, 0.0)
        self._home = 0
        self._t_chip: Markup | None = None
        self._page_models: dict[str, Any] = {}
        self._frames_at_answer = 0
        original = self.session._handle_patch

        def counted(message: Any) -> None:
            original(message)
            self.frames += 1
            if self.first_frame_at is None and self.play_at:
                self.first_frame_at = time.perf_counter()
            self._answered()

        self.session._handle_patch = counted  # type: ignore[method-assign]
        # what BokehJS sends once it has rendered the page: until then Panel holds the
        # session's Bokeh-level edits (a plot's new data) as "not yet connected"
        self.session.document.callbacks.send_event(DocumentReady())

    async def receive(self) -> None:
        """Read and apply the server's messages for as long as the loop runs (what
        ``loop_until_closed`` does, without blocking the loop the other clients share)."""
        connection = self.session._connection
        # the connection's own state machine recurses once per message (RecursionError after
        # about a thousand frames): read and apply the messages in a flat loop instead
        while (message := await connection._pop_message()) is not None:
            if message.msgtype == "PATCH-DOC":
                if not self.apply_data:
                    events = message.content["events"]
                    events[:] = [e for e in events if e.get("kind") not in DATA_EVENTS]
                self.session._handle_patch(message)

    def complete(self) -> bool:
        """Whether the page holds every panel of its tab: the first one comes with the
        document, the others once the page reports it has shown it (the client's
        ``DocumentReady``; :func:`app.sessions.after_first_paint`)."""
        return any(
            PANELS_READY in (model.css_classes or [])
            for model in self.session.document.select({"type": LayoutDOM})
        )

    def sim_time(self) -> float | None:
        """The simulated time the open tab's ``t`` chip shows, or None."""
        if self._t_chip is None:
            tabs = self.tabs()
            content = tabs.tabs[tabs.active].child
            self._t_chip = next(
                (m for m in content.select({"type": Markup}) if T_CHIP.search(_text(m))), None
            )
        match = T_CHIP.search(_text(self._t_chip)) if self._t_chip is not None else None
        return float(match.group(1)) if match else None

    def show(self, keys: str) -> None:
        """Report the panels ``keys`` (space-separated, ``"tokens-0"``) as the ones on screen,
        as a page's script does (:mod:`app.on_screen`): while playing, the server then redraws
        only those. A page at 1024 × 768 shows its tab's hero, key ``<tab>-0``."""
        for model in self.session.document.models:
            if SINK_CLASS in (getattr(model, "css_classes", None) or ()):
                model.value = keys or NONE_SHOWN
                return
        raise LookupError("the page has no on-screen report input")

    def tabs(self) -> Tabs:
        """The page's tab strip (index 0 is the About page, then the tabs in order)."""
        return self._page_model("tabs", Tabs, TABS_CLASS)

    def _page_model(self, name: str, kind: type, css_class: str) -> Any:
        """The page's one model of type ``kind`` with class ``css_class`` (the tab strip, the
        sidebar: they live as long as the page), looked up once: a lookup scans every model of
        the document, and these are asked for at each patch of a tab switch."""
        found = self._page_models.get(name)
        if found is None:
            found = self._page_models[name] = next(
                model
                for model in self.session.document.select({"type": kind})
                if css_class in (model.css_classes or [])
            )
        return found

    def shows_tab(self, index: int) -> bool:
        """Whether tab ``index`` is the active one and its content, with a plot, is in the
        page (a tab's first visit builds it)."""
        tabs = self.tabs()
        return tabs.active == index and any(True for _ in tabs.tabs[index].child.select(PLOTS))

    def _shown_controls(self) -> LayoutDOM | None:
        """The sidebar's shown item: the open tab's controls (each tab visited keeps its own
        there, hidden while another tab is open), as far as the server has said."""
        sidebar = self._page_model("sidebar", LayoutDOM, SIDEBAR_CLASS)
        shown = [item for item in sidebar.children if item.visible]
        return shown[0] if len(shown) == 1 else None

    def _shows_own_controls(self) -> bool:
        """Whether the sidebar shows the controls :attr:`toggle` belongs to (the tab switch
        has reached the server and come back: the page's own ``active`` is set at once)."""
        shown = self._shown_controls()
        return shown is not None and any(m is self.toggle for m in shown.select({"type": Toggle}))

    def _find_controls(self) -> bool:
        """Take the open tab's Play toggle and Seed slider and forget the last tab's ``t``
        chip; False if the page does not hold them (yet)."""
        self._t_chip = None
        shown = self._shown_controls()
        if shown is None:
            return False
        toggle = next((m for m in shown.select({"type": Toggle}) if PLAY.search(m.label)), None)
        seed = next((m for m in shown.references() if getattr(m, "title", None) == "Seed"), None)
        if toggle is None or seed is None:
            return False
        self.toggle, self.seed = toggle, seed
        return True

    def play(self) -> None:
        if not self._find_controls():
            raise LookupError("the page has no Play toggle and Seed slider")
        self.play_at = time.perf_counter()
        self.toggle.active = True
        self.last_t = self.sim_time() or 0.0
        self.sim_total = 0.0

    def keep_playing(self) -> None:
        """Add the simulated time since the last look; a run that reached its horizon (and
        paused itself) restarts with the next seed and plays on."""
        state, since, _ = self._poke
        waited = time.perf_counter() - since
        if state in ("away", "back"):  # another tab's chips are on the page
            if waited > ANSWER_TIMEOUT_S:
                self.unanswered += 1
                if state == "away":
                    self._switch_home()
                else:
                    self._home_again()
            return
        t = self.sim_time()
        if t is not None:
            self.sim_total += t - self.last_t if t >= self.last_t else t
            self.last_t = t
        if state == "pausing" and waited >= PAUSE_SETTLE_S:
            self._move_slider()
        elif state in ("moved", "resuming") and waited > ANSWER_TIMEOUT_S:
            self.unanswered += 1
            self.toggle.active = True
            self._interaction_done()
        if state != "playing":
            return  # paused by poke, not by the horizon
        if not self.toggle.active:
            self.seed.value = self._next_seed()
            self.toggle.active = True

    def _next_seed(self) -> int:
        """The Seed value to move to: the next of ``seeds``, or one more than shown."""
        return next(self._seeds) if self._seeds else int(self.seed.value) + 1

    def poke(self) -> bool:
        """Start one interaction of a student with a playing page: press Pause, move the Seed
        slider one step (:data:`PAUSE_SETTLE_S` later, from :meth:`keep_playing`), and press
        Play once the page shows the new seed's run. Timed into :attr:`answers` (slider move
        → the restarted run's first frame, its ``t`` chip back below what it showed) and
        :attr:`resumes` (Play → the next frame). False (and nothing done) while a cycle is
        under way or fewer than :data:`POKE_AFTER_FRAMES` frames came since the last one."""
        if not self._can_poke():
            return False
        self.toggle.active = False
        self._poke = ("pausing", time.perf_counter(), 0.0)
        return True

    def _can_poke(self) -> bool:
        """No interaction under way, :data:`POKE_AFTER_FRAMES` frames since the last one, and
        the run playing (one that reached its horizon is restarted by keep_playing)."""
        return (
            self._poke[0] == "playing"
            and self.frames - self._frames_at_answer >= POKE_AFTER_FRAMES
            and bool(self.toggle.active)
        )

    def poke_tab(self, index: int) -> bool:
        """Another interaction: switch to tab ``index`` (its first visit builds it) and, once
        the page shows that tab's hero, back to the playing tab, which plays on. A switch
        counts as answered when the server's reply has come too: the sidebar shows the other
        tab's controls (on the way back, the playing tab's, the same models: the page keeps
        each tab's). Timed into :attr:`switches` and :attr:`returns`. False (and nothing done)
        as for :meth:`poke`."""
        if not self._can_poke():
            return False
        tabs = self.tabs()
        self._home = tabs.active
        self._poke = ("away", time.perf_counter(), float(index))
        tabs.active = index
        return True

    def _switch_home(self) -> None:
        self._poke = ("back", time.perf_counter(), float(self._home))
        self.tabs().active = self._home

    def _home_again(self) -> None:
        """Back on the playing tab: its ``t`` chip is looked up again, the cycle is over."""
        self._t_chip = None
        self._interaction_done()

    def _interaction_done(self) -> None:
        self._poke = ("playing", 0.0, 0.0)
        self._frames_at_answer = self.frames

    def _move_slider(self) -> None:
        t = self.sim_time()
        if t is None or t <= 0.0:  # nothing to restart: back to playing
            self.toggle.active = True
            self._poke = ("playing", 0.0, 0.0)
            return
        self._poke = ("moved", time.perf_counter(), t)
        self.seed.value = self._next_seed()

    def _answered(self) -> None:
        """Called with each frame: advance a :meth:`poke` cycle that waits for one."""
        state, since, shown = self._poke
        if state == "moved":
            t = self.sim_time()
            if t is not None and t < shown:  # the new seed's run is on the page
                now = time.perf_counter()
                self.answers.append(now - since)
                self.toggle.active = True
                self._poke = ("resuming", now, 0.0)
        elif state == "resuming":
            self.resumes.append(time.perf_counter() - since)
            self._interaction_done()
        elif state == "away" and self.shows_tab(int(shown)) and not self._shows_own_controls():
            self.switches.append(time.perf_counter() - since)
            self._switch_home()
        elif state == "back" and self.shows_tab(int(shown)) and self._shows_own_controls():
            self.returns.append(time.perf_counter() - since)
            self._home_again()

    def close(self) -> None:
        self.session.close()


def _text(model: Markup) -> str:
    return html.unescape(model.text) if isinstance(model.text, str) else ""


def pump(seconds: float) -> None:
    """Run the shared client event loop for ``seconds`` (messages arrive only meanwhile)."""
    IOLoop.current().run_sync(lambda: asyncio.sleep(seconds), timeout=seconds + 60)


def wait_for_panels(clients: Sequence[Client], timeout: float = 120.0) -> None:
    """Pump the client loop until every client's page holds all its tab's panels (their
    receivers must run: :func:`start_receivers`)."""
    deadline = time.perf_counter() + timeout
    while not all(client.complete() for client in clients):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the tab's other panels did not arrive within {timeout} s")
        pump(0.1)


def start_receivers(clients: Sequence[Client]) -> None:
    """One receiving task per client on the shared loop (they run whenever it is pumped)."""

    async def spawn() -> None:
        for client in clients:
            client.task = asyncio.ensure_future(client.receive())

    IOLoop.current().run_sync(spawn)
