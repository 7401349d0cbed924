"""The view every tab shares: transport controls, presets, seed, status, banner, download.

A tab subclasses :class:`SimulationTab`, sets its metadata (``slug``, ``title``, ``claim``,
paper and provenance), builds its first panel (:class:`app.tabs.panel.TabPanel`) in
:meth:`_build_first` and the others in :meth:`_build_panels`, registering each with
:meth:`add_panel`; the latter yields the tab's rows, which the base puts in place a few per
turn of the server's loop. The base redraws them in place (inside ``pn.io.hold``) whenever
the model's ``frame`` changes: the hero every frame, secondary panels at most every
:data:`SECONDARY_PERIOD_S` while playing (each repaint costs the browser milliseconds; the eye
follows the hero), everything when playing stops. The app shell drives the animation by
calling :meth:`tick` from one periodic callback.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

import panel as pn
import param
from tornado.ioloop import IOLoop

from app import pacing, sessions
from app.models.base import SimulationModel
from app.models.jobs import BackgroundJob
from app.on_screen import KEY_PREFIX, WATCH_CLASS
from app.sweeps.registry import SWEEP_SLUGS
from app.sweeps.session import SweepSession
from app.tabs.panel import TabPanel, held
from app.tabs.plotting import OFF_STAGE, STYLESHEET
from app.tabs.sweep import SweepPanel
from app.url_state import step_decimals

CONTROL_WIDTH = 320
#: CSS class of a tab's panels once all of them are built (:meth:`SimulationTab._build_rest`).
PANELS_READY = "ns-panels-ready"
#: Room in pixels for the key controls beside the presenter bar's buttons at 1024 × 768 with
#: the sidebar hidden (the tab is 962 px wide there; the buttons with their margins take 440).
KEY_CONTROLS_WIDTH = 520
#: Seconds of the loop a step of :meth:`SimulationTab._build_rest` may take before it lets the
#: loop's other work run: rows are added to the step until it has taken this long. A row costs
#: 40-270 ms, and each step also pays one pass over the page's models (about 15 µs a model,
#: 2000-5000 models): one row per step added a third to a first visit's total.
BUILD_STEP_S = 0.1
#: Fewest seconds between two redraws of a secondary panel while playing.
SECONDARY_PERIOD_S = 0.25
#: Fewest seconds between two updates of a background job's progress bar on the page
#: (:meth:`SimulationTab.job_controls`).
PROGRESS_PERIOD_S = 0.25
#: Presenter mode: the stage (presenter bar, status, story and the preset's panel) is one
#: window tall under the app's header (64 px) and tab bar (72 px with the main area's margins),
#: less 10 px of the main area's bottom margin (measured at 1024 × 768, tests/ui/test_presenter.py)
STAGE_CSS = ":host(.ns-stage) { height: calc(100vh - 146px) !important; flex: none !important; }"
#: A layout whose children may size themselves by its height (``cqh`` units).
SIZE_CONTAINER = ":host { container-type: size; }"
#: The stage's height as Panel sees it (STAGE_CSS sets the real one).
STAGE_NOMINAL_PX = 600
#: Presenter mode: the fewest pixels a hero plot keeps on the stage (a plot squeezed further
#: shows nothing; the stage then overflows, which tests/ui/test_presenter.py catches).
STAGE_MIN_PLOT_PX = 120
#: A presenter-stage layout has no minimum height of its own: BokehJS keeps the height a
#: "max" layout had when more of its children were visible (see :func:`_fill_stage`).
UNPINNED = ":host { min-height: 0 !important; }"


class SimulationTab(pn.viewable.Viewer):
    """Base view of a tab; ``model`` is the tab's :class:`SimulationModel`."""

    #: URL/registry key, e.g. "tokens".
    slug: ClassVar[str] = ""
    #: Tab title.
    title: ClassVar[str] = ""
    #: One-sentence claim for the landing card.
    claim: ClassVar[str] = ""
    #: Paper citation and link.
    paper_citation: ClassVar[str] = ""
    paper_url: ClassVar[str] = ""
    #: One-line provenance note for the landing card.
    provenance: ClassVar[str] = ""
    #: The model class this tab views.
    model_class: ClassVar[type[SimulationModel]] = SimulationModel
    #: Label of the model's ``speed`` slider, or None for tabs whose Play does not step a
    #: simulation clock (the slider would do nothing).
    speed_label: ClassVar[str | None] = "Steps per frame"
    #: While playing, redraw one secondary panel per period in turn instead of all at once
    #: (for a hero that needs every millisecond of the browser's frame).
    secondary_in_turns: ClassVar[bool] = False
    #: Attribute name of the tab's hero panel: presenter mode puts it on the stage for a
    #: preset whose story names no panel of its own.
    hero_panel: ClassVar[str] = "hero"
    #: Whether the model's background studies (:meth:`SimulationModel.poll`) start before the
    #: tab's other panels are built: only for a tab whose first panel draws a study (the
    #: widenet W₂ sweep). Otherwise a page's studies wait for the panels that show them, and
    #: a class opening the link together spends the server on first plots first (the tokens
    #: ensemble of each page took a third of the CPU of a burst of 40 pages).
    studies_before_panels: ClassVar[bool] = False

    def __init__(self, model: SimulationModel | None = None, lesson: bool = False, **params: Any):
        super().__init__(**params)
        self.model = model if model is not None else self.model_class()
        self.lesson = lesson
        self._document = pn.state.curdoc
        self._loop_thread = threading.get_ident()
        self._loop = _running_loop()  # None outside a server (tests, notebooks)
        #: held while the model steps and while the panels redraw. With ``--num-threads`` the
        #: clock's tick runs on a worker thread while a redraw runs on the session's loop: a
        #: panel read the run's arrays mid-step (t of 81 points, y of 80) and two ticks could
        #: step at once
        self._frame_lock = threading.RLock()
        self._closed = False
        self._jobs: list[BackgroundJob] = []
        self.panels: list[TabPanel] = []
        self._secondary_at = 0.0
        self._turn = 0
        #: keys of the panels the page shows (:meth:`show_on_screen`); None until it reports
        self._on_screen: frozenset[str] | None = None
        self._stepped_at = 0.0
        self._controls = self._build_controls()
        #: the sweep panel's settings exist with the page (a link's ``sweep_*`` keys apply to
        #: them at once); the panel itself comes with the other panels
        self.sweep_session: SweepSession | None = (
            SweepSession(self.slug) if self.slug in SWEEP_SLUGS else None
        )
        #: whether every panel is built (the first one comes with the page, the others once
        #: the page shows it: :meth:`_build_rest`)
        self.complete = False
        first = self._build_first()
        self._watch_views()
        #: the note under the first panel while the others are built (:meth:`_build_rest`)
        self._pending = pn.pane.Markdown(
            "Loading the other panels…",
            css_classes=["ns-pending"],
            stylesheets=[STYLESHEET],
            sizing_mode="stretch_width",
        )
        #: the tab's panels, first the first panel and a note that the others are coming
        self._panels = pn.Column(
            *([first] if first is not None else []),
            self._pending,
            sizing_mode="stretch_width",
            css_classes=["ns-panels"],
        )
        self._story = pn.pane.Markdown(
            "",
            css_classes=["ns-story", "ns-story-lesson"] if self.lesson else ["ns-story"],
            stylesheets=[STYLESHEET],
            sizing_mode="stretch_width",
            margin=(0, 10),
        )
        # presenter mode: the spotlit panel fills what the stage leaves (see _stage)
        self._spotlight = pn.Column(
            sizing_mode="stretch_width",
            css_classes=["ns-spotlight"],
            stylesheets=[UNPINNED] if lesson else [],
            **_stage_fill(lesson),
        )
        #: (parent, index, view, undo) of the panel moved to the top; ``undo`` restores the
        #: sizes presenter mode gave it (:func:`_fill_stage`)
        self._spotlit: tuple[Any, int, Any, list[tuple[Any, dict[str, Any]]]] | None = None
        self._show_story()
        self.model.param.watch(lambda *_: self.call_on_loop(self._show_story), ["preset"])
        self.model.param.watch(self._on_frame, ["frame"])
        # when playing stops (pause, horizon, divergence) draw the final state everywhere
        self.model.param.watch(lambda e: e.new or self.call_on_loop(self._refresh), ["playing"])
        self._update_plots()
        #: the plots and readouts; the app puts them in its main area and :attr:`controls` in
        #: its sidebar (which the audience can hide), a notebook shows both side by side
        top = [self._header(), self._story, self._spotlight]
        self.content = pn.Column(
            *([self._stage(top)] if self.lesson else top),
            self._panels,
            sizing_mode="stretch_width",
        )
        self.controls = self._controls
        self._layout: pn.Row | None = None
        sessions.after_first_paint(self._document, self._build_rest)

    # -------------------------------------------------------------- subclass
    def _build_first(self) -> pn.viewable.Viewable | None:
        """Build the panel a page shows first (the hero; registered with :meth:`add_panel`)
        and return its layout, or None. It is built with the page; :meth:`_build_panels`
        builds the others once the page shows it."""
        return None

    def _build_panels(self) -> Iterable[pn.viewable.Viewable]:
        """Build the panels not built by :meth:`_build_first` (each registered with
        :meth:`add_panel`) and yield the rows of the tab's layout, top to bottom, the first
        panel's row first. As a generator it builds each row in its own turn of the server's
        loop (:meth:`_build_rest`)."""
        raise NotImplementedError

    def _build_rest(self) -> Iterator[None]:
        """The panels after the first (:meth:`_build_panels`) and the sweep panel, put in
        place under the first panel, which stays where it is drawn (in the spotlight too), a
        few rows per step, each drawn as it comes, the note that they are coming last.

        A page of a tab is about a thousand Bokeh models, a second of the server's time to
        build and a third to send (the tokens tab's 11 figures); its first panel is a third
        of that. Built later, in spare turns (:func:`app.sessions.after_first_paint`, one step
        per turn), the others do not delay other pages' first plots when a class opens the
        link together, and a student opening a tab does not hold up the frames and answers
        of the others for the whole build (0.3-0.45 s of the loop in one turn, in-process):
        each step adds rows until it has taken :data:`BUILD_STEP_S`."""
        rows: Iterator[pn.viewable.Viewable] | None = None
        index = 0
        while True:
            started = time.perf_counter()
            with self._frame_lock, sessions.batched(self._document):
                if self._closed or self.complete:
                    return
                drawn = len(self.panels)
                if rows is None:
                    rows = iter(self._build_panels())
                while (row := next(rows, None)) is not None:
                    self._place(index, row)
                    index += 1
                    if time.perf_counter() - started >= BUILD_STEP_S:
                        break
                self._watch_views()
                self._redraw(self.panels[drawn:])
            if row is None:
                break
            yield
        if time.perf_counter() - started >= BUILD_STEP_S:
            yield  # the sweep panel and the last touches in a step of their own
        with self._frame_lock, sessions.batched(self._document):
            if self._closed:
                return
            if self.sweep_session is not None:
                drawn = len(self.panels)
                self._place(index, self._sweep_view())
                self._watch_views()
                self._redraw(self.panels[drawn:])
            self._panels.objects = [o for o in self._panels.objects if o is not self._pending]
            self._panels.css_classes = ["ns-panels", PANELS_READY]
            self.complete = True
            self._show_story()

    def _place(self, index: int, row: pn.viewable.Viewable) -> None:
        """Put ``row`` at ``index`` of the tab's panels: in place of the first panel's layout
        drawn with the page (index 0), else before the note that the others are coming. The
        first panel keeps the spotlight if the row is its layout (its spacer keeps the place)."""
        objects = list(self._panels.objects)
        if index == 0 and self._spotlit is not None:
            parent, spot, view, _ = self._spotlit
            if parent is self._panels and spot == 0 and row is view:
                row = objects[0]  # the spacer keeping its place
            else:
                self._unspotlight()
                objects = list(self._panels.objects)
        if objects[index] is not self._pending:
            objects[index] = row
        else:
            objects.insert(index, row)
        self._panels.objects = objects

    def _stage(self, top: list[pn.viewable.Viewable]) -> pn.Column:
        """Presenter mode: the presenter bar above ``top`` (status line, story and spotlight)
        in a column exactly as tall as the window leaves under the app's header and tab bar
        (``.ns-stage`` in assets/noisescope.css); the spotlight, and the preset's panel in it,
        take what the bar, the status and the story leave. The other panels follow below."""
        return pn.Column(
            self._presenter_bar(),
            *top,
            css_classes=["ns-stage"],
            stylesheets=[STAGE_CSS],
            sizing_mode="stretch_width",
            # a nominal height, replaced by STAGE_CSS's: with a height Panel does not make
            # the stage, and every layout around it up to the page, stretch in height after
            # the spotlight (which would collapse the page to the window's height)
            height=STAGE_NOMINAL_PX,
        )

    def _presenter_bar(self) -> pn.Row:
        """Presenter mode (``?lesson=1``): Play, the preset sequence, Reset and the current
        preset's key controls (:attr:`app.models.story.Story.controls`) in one row above the
        story, so the sidebar can stay hidden and the hero and its caption fill the projector.

        The key controls follow the preset (→, Next, the Preset box); on Custom (a control
        moved, or a link without a preset) the last preset's stay, so that dragging one does
        not take it away. They are kept in :attr:`key_controls`."""
        model = self.model
        # 5 px margins (Panel's are 10 on each side): everything fits one row at 1024 px
        play = pn.widgets.Toggle.from_param(
            model.param.playing, label="▶ Play / ❚❚ Pause", color="primary", width=150, margin=5
        )
        previous = pn.widgets.Button(
            label="◀ Previous", width=100, margin=5, description="The previous preset (key ←)"
        )
        previous.on_click(lambda _: self.step_preset(-1))
        following = pn.widgets.Button(
            label="Next ▶", width=80, margin=5, description="The next preset (key →)"
        )
        following.on_click(lambda _: self.step_preset(1))
        reset = pn.widgets.Button(
            label="Reset", width=70, margin=5, description="Restart from t = 0 (key R)"
        )
        reset.on_click(lambda _: model.reset())
        #: the key controls shown, one pn.Param per distinct set (built once, kept: presets
        #: come back as the lecturer steps through them)
        self.key_controls = pn.Row(margin=0, css_classes=["ns-key-controls"])
        built: dict[tuple[str, ...], pn.Param] = {}

        def show_key_controls() -> None:
            story = model.story()
            if story is None or not story.controls:
                return  # Custom: the last preset's controls stay
            if story.controls not in built:
                width = KEY_CONTROLS_WIDTH // len(story.controls) - 10  # 10: its margins
                built[story.controls] = self._param_widgets(list(story.controls), width=width)
            shown = built[story.controls]
            if list(self.key_controls.objects) != [shown]:
                self.key_controls.objects = [shown]

        show_key_controls()
        model.param.watch(lambda *_: self.call_on_loop(show_key_controls), ["preset"])
        return pn.Row(
            play,
            previous,
            following,
            reset,
            self.key_controls,
            css_classes=["ns-presenter-bar"],
            sizing_mode="stretch_width",
        )

    def shortcut(self, action: str) -> None:
        """Apply a keyboard shortcut (:mod:`app.shortcuts`): play/pause, next or previous
        preset, reset."""
        model = self.model
        if action == "play":
            model.playing = not model.playing
        elif action == "reset":
            model.reset()
        elif action in ("next", "previous"):
            self.step_preset(1 if action == "next" else -1)

    def step_preset(self, direction: int) -> None:
        """Load the next (``+1``) or previous (``-1``) preset in the tab's order, wrapping
        around; from Custom, the first or the last."""
        names = list(self.model.presets)
        if not names:
            return
        if self.model.preset in names:
            index = (names.index(self.model.preset) + direction) % len(names)
        else:
            index = 0 if direction > 0 else len(names) - 1
        # one message to the page for the preset's many changes (params, widgets, status,
        # story, every panel's redraw), not one per change: each costs the browser a relayout
        with sessions.batched(self._document):
            self.model.preset = names[index]

    def _show_story(self) -> None:
        """The preset's "what to look for" under the status line, and the panel that shows
        its effect moved to the top of the tab (back to its place when the preset changes).
        In presenter mode a preset without a panel of its own shows the tab's hero there
        (:attr:`hero_panel`), stretched to the stage's height (:func:`_fill_stage`)."""
        story = self.model.story()
        self._story.object = f"**{self.model.preset}.** {story.look_for}" if story else ""
        self._story.visible = story is not None
        name = (story.panel or (self.hero_panel if self.lesson else "")) if story else ""
        panel = getattr(self, name, None) if name else None
        view = panel.view() if isinstance(panel, TabPanel) else None
        if self._spotlit is not None and (view is None or view is not self._spotlit[2]):
            self._unspotlight()
        if view is None or self._spotlit is not None:
            return
        found = _parent_of(self._panels, view)
        if found is None:
            return
        parent, index = found
        objects = list(parent.objects)
        objects[index] = pn.Spacer(height=0)
        parent.objects = objects
        if isinstance(view, pn.Card):
            view.collapsed = False
        undo = _apply(_fill_stage(view)) if self.lesson else []
        self._spotlight.objects = [view]
        self._spotlit = (parent, index, view, undo)

    def _unspotlight(self) -> None:
        """The spotlit panel back to its place, with its own sizes."""
        parent, index, moved, undo = self._spotlit
        self._spotlight.objects = []
        _apply(undo)
        objects = list(parent.objects)
        objects[index] = moved
        parent.objects = objects
        self._spotlit = None

    def _sweep_view(self) -> pn.viewable.Viewable:
        """The shared sweep panel (:mod:`app.tabs.sweep`) under the tab's own panels."""
        panel = self.add_panel(SweepPanel(self.model, self.sweep_session, self.call_on_loop))
        self.sweep_panel = panel
        # the live-view star follows the swept parameters
        self.update_on_params(list(self.sweep_session.sweep.parameters), panel)
        return panel.view()

    def add_panel(self, panel: TabPanel) -> TabPanel:
        """Register ``panel`` for the redraw schedule under the key ``<slug>-<index>``; return
        it."""
        panel.key = f"{self.slug}-{len(self.panels)}"
        self.panels.append(panel)
        return panel

    def _watch_views(self) -> None:
        """Tag each built panel's layout for the page's report of what it shows
        (:mod:`app.on_screen`)."""
        for panel in self.panels:
            view = panel.view()
            tag = KEY_PREFIX + panel.key
            if tag not in view.css_classes:
                view.css_classes = [*view.css_classes, WATCH_CLASS, tag]

    def show_on_screen(self, keys: frozenset[str]) -> None:
        """The page shows the panels ``keys`` (:class:`app.on_screen.OnScreen`): those of them
        left stale while the run played off the screen are redrawn now."""
        self._on_screen = keys
        stale = [p for p in self.panels if p.stale and p.key in keys]
        if stale:

            def redraw() -> None:
                with self._frame_lock:  # never mid-step (see __init__)
                    self._redraw(stale)

            self.call_on_loop(redraw)

    def _redraw(self, panels: Iterable[TabPanel]) -> None:
        """Redraw ``panels``, except, while the run plays, those the page reports off the screen:
        they are marked stale, and redrawn when they come on screen (:meth:`show_on_screen`)
        or the run stops (:meth:`_update_plots`)."""
        playing = self.model.playing
        for panel in panels:
            if not playing or self._shown(panel):
                panel.stale = False
                panel.update()
            else:
                panel.stale = True

    def _shown(self, panel: TabPanel) -> bool:
        """Whether the page shows ``panel`` (or has not said; the hero always counts)."""
        return self._on_screen is None or panel.every_frame or panel.key in self._on_screen

    def update_on(self, job: BackgroundJob, *panels: TabPanel) -> None:
        """Redraw ``panels`` when ``job`` delivers a result (possibly on a worker thread)."""
        job.param.watch(lambda *_: self.call_on_loop(lambda: self._redraw(panels)), ["result"])

    def update_on_params(self, names: list[str], *panels: TabPanel) -> None:
        """Redraw ``panels`` when any of the model's params ``names`` changes."""
        self.model.param.watch(lambda *_: self.call_on_loop(lambda: self._redraw(panels)), names)

    def _update_plots(self) -> None:
        """Paused: every panel that follows the run, and those left stale. Playing: the
        every-frame panels, and at most every :data:`SECONDARY_PERIOD_S` the panels on screen
        that follow the run (all of them, or the next in turn when :attr:`secondary_in_turns`).
        A fresh run (step 0: a reset, a restart parameter, a preset) redraws every panel (while
        playing, every panel on screen: :meth:`_redraw`)."""
        if self.model.n_steps_done == 0:
            self._redraw(self.panels)
            return
        if not self.model.playing:
            self._redraw([p for p in self.panels if p.follows_run or p.every_frame or p.stale])
            return
        chosen = [p for p in self.panels if p.every_frame]
        followers = [p for p in self.panels if p.follows_run and not p.every_frame]
        now = time.monotonic()
        if followers and now - self._secondary_at >= SECONDARY_PERIOD_S:
            self._secondary_at = now
            shown = [p for p in followers if self._shown(p)]
            if self.secondary_in_turns and shown:
                shown = [shown[self._turn % len(shown)]]
                self._turn += 1
            for panel in followers:
                panel.stale = panel.stale or not self._shown(panel)
            chosen += shown
        self._redraw(chosen)

    # ------------------------------------------------------------ animation
    def tick(self) -> None:
        """Advance one animation frame if playing (skip if the previous frame still runs, or
        if the model's ``frame_interval`` or the server's shortest interval between frames,
        :mod:`app.pacing`, has not elapsed), then let the model start pending work (once the
        panels are built, see :attr:`studies_before_panels`)."""
        if self.model.playing and self._frame_lock.acquire(blocking=False):
            try:
                now = time.monotonic()
                interval = max(self.model.frame_interval, pacing.PACER.min_interval())
                if now - self._stepped_at >= interval:
                    self._stepped_at = now
                    self.model.step()
            finally:
                self._frame_lock.release()
        if not self._closed and (self.complete or self.studies_before_panels):
            self.model.poll()

    def _on_frame(self, event: param.parameterized.Event) -> None:
        self.call_on_loop(self._refresh)

    def _refresh(self) -> None:
        with self._frame_lock, pn.io.hold(self._document):  # never mid-step (see __init__)
            self._update_plots()

    def call_on_loop(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` now on the session's event loop, or schedule it there from a worker.

        A worker never touches the document: it hands ``fn`` to the loop (tornado's
        ``add_callback`` is thread-safe), which adds it as the document's next-tick callback.
        Added from the worker, the callback's registration event could land in the document's
        held events while the loop was dispatching them (Panel's ``hold`` copies the list, then
        empties it) and be lost: a finished job whose result never reached the page."""
        if threading.get_ident() == self._loop_thread or self._document is None:
            held(fn, self._document)  # Panel may be running us without the document lock
        elif self._loop is not None:
            self._loop.add_callback(self._next_tick, fn)
        else:
            self._next_tick(fn)

    def _next_tick(self, fn: Callable[[], None]) -> None:
        if self._document.session_context is not None and not self._closed:
            self._document.add_next_tick_callback(fn)
        # else: the session is gone; a finishing background job has nobody to tell

    def close(self) -> None:
        """The session ended: stop playing and cancel this tab's background jobs."""
        self._closed = True
        self.model.playing = False
        for job in self._jobs:
            job.cancel()
        if self.sweep_session is not None:
            self.sweep_session.cancel()

    # -------------------------------------------------------------- controls
    def _build_controls(self) -> pn.Column:
        model = self.model
        play = pn.widgets.Toggle.from_param(
            model.param.playing, label="▶ Play", color="primary", width=90
        )

        def relabel(event: param.parameterized.Event) -> None:
            play.label = "❚❚ Pause" if event.new else "▶ Play"

        model.param.watch(relabel, ["playing"])
        step = pn.widgets.Button(label="Step", width=70, description="Advance one frame")
        step.on_click(lambda _: model.step())
        reset = pn.widgets.Button(label="Reset", width=70, description="Restart from t = 0")
        reset.on_click(lambda _: model.reset())
        new_seed = pn.widgets.Button(
            label="New seed", width=90, description="Draw a fresh random seed and restart"
        )
        new_seed.on_click(lambda _: model.new_seed())
        seed = pn.widgets.IntInput.from_param(model.param.seed, label="Seed", width=120)
        preset = pn.widgets.Select.from_param(model.param.preset, label="Preset")
        previous = pn.widgets.Button(
            label="◀ Previous", width=100, description="The previous preset (key ←)"
        )
        previous.on_click(lambda _: self.step_preset(-1))
        following = pn.widgets.Button(
            label="Next ▶", width=100, description="The next preset (key →)"
        )
        following.on_click(lambda _: self.step_preset(1))
        speed = (
            pn.widgets.IntSlider.from_param(model.param.speed, label=self.speed_label)
            if self.speed_label
            else None
        )
        transport = pn.Column(
            preset,
            pn.Row(previous, following),
            pn.Row(play, step, reset),
            *([speed] if speed else []),
            pn.Row(seed, new_seed, align="end"),
            self._downloads(),
            sizing_mode="stretch_width",
        )
        order = model.display_order or model.scientific_params()
        science = self._param_widgets([p for p in order if p not in model.advanced_params])
        # a plain rule: Panel's Divider links its stylesheet from the CDN even when serving
        # every other resource itself (the page must load nothing from another host)
        rule = pn.pane.HTML("<hr>", sizing_mode="stretch_width", margin=(4, 5))
        sections = [transport, rule, science]
        if not self.lesson:
            advanced = [p for p in order if p in model.advanced_params]
            sections.append(
                _card_built_when_opened("Advanced", lambda: self._param_widgets(advanced))
            )
        sections.append(
            _card_built_when_opened(
                "What the controls mean",
                lambda: pn.pane.Markdown(self._glossary(), styles={"font-size": "12px"}),
                css_classes=["ns-glossary"],
            )
        )
        # the stylesheet takes the controls out of the tab order while the sidebar is hidden
        return pn.Column(
            *sections, width=CONTROL_WIDTH, css_classes=["ns-controls"], stylesheets=[STYLESHEET]
        )

    def _glossary(self) -> str:
        """One line per control from the params' own docs (sliders have no tooltip)."""
        model = self.model
        shown = [
            n
            for n in (model.display_order or model.scientific_params())
            if not (self.lesson and n in model.advanced_params)
        ]
        lines = []
        for name in shown:
            p = model.param[name]
            when = "restarts the run" if name in model.restart_params else "applies live"
            lines.append(f"- **{p.label}**: {p.doc} *({when})*")
        return "\n".join(lines)

    def _param_widgets(self, names: list[str], width: int | None = None) -> pn.Param:
        """Widgets generated from the params (bounds, labels, tooltips come from the model).

        Parameters
        ----------
        names : list of str
            The model's params to show, in this order.
        width : int, optional
            None (the default): a column of widgets filling the sidebar. A number: a compact
            row of widgets this many pixels wide, 10 px apart (the presenter bar's key
            controls).

        Returns
        -------
        pn.Param
            The widgets, linked both ways to the model's params: sliders show as many
            decimals as their step needs, and a restart param changes once on release.
        """
        restart = set(self.model.restart_params)
        widgets: dict[str, dict[str, Any]] = {}
        for name in names:
            p = self.model.param[name]
            options: dict[str, Any] = {} if width is None else {"width": width, "margin": 5}
            if isinstance(p, param.Number):
                if not isinstance(p, param.Integer):
                    options["format"] = _number_format(p.step, p.get_soft_bounds()[0])
                if name in restart:
                    options["throttled"] = True  # restart once on release, not every drag step
            if options:
                widgets[name] = options
        # the sidebar's column is as wide as the sidebar; a row is as wide as its widgets
        if width is None:
            size: dict[str, Any] = {"width": CONTROL_WIDTH - 20}
        else:
            size = {"default_layout": pn.Row, "margin": 0}
        return pn.Param(
            self.model,
            parameters=names,
            widgets=widgets,
            show_name=False,
            # in the order given (pn.Param's default is declaration order)
            sort=lambda item: names.index(item[0]) if item[0] in names else -1,
            **size,
        )

    def _downloads(self) -> pn.Row:
        stem = f"noisescope_{self.slug}"
        npz = pn.widgets.FileDownload(
            callback=lambda: io.BytesIO(self.model.export_npz()),
            filename=f"{stem}.npz",
            label="Download run (.npz)",
            color="light",
            width=140,
        )
        csv = pn.widgets.FileDownload(
            callback=lambda: io.StringIO(self.model.export_csv()),
            filename=f"{stem}.csv",
            label="(.csv)",
            color="light",
            width=80,
        )
        return pn.Row(npz, csv)

    def _header(self) -> pn.Column:
        status = pn.pane.Markdown(
            self.model.param.status,
            css_classes=["ns-status", "ns-status-lesson"] if self.lesson else ["ns-status"],
            stylesheets=[STYLESHEET],
            margin=(0, 10),
            min_height=30,
        )
        banner = pn.pane.Alert(
            self.model.param.divergence_message,
            alert_type="danger",
            visible=self.model.param.diverged,
            css_classes=["ns-divergence"],
        )
        return pn.Column(status, banner, sizing_mode="stretch_width")

    def job_controls(self, job: BackgroundJob, label: str, start: Callable[[], None]) -> pn.Column:
        """A run button, a cancel button and a progress bar for a background job, with its
        message underneath (beside them it overflowed half-width cards).

        A job reports its progress every few tens of milliseconds, and each change reached the
        page as a message of its own (a frame for the browser to restyle and paint, 15 of them
        in the second after a preset on the tokens tab, as its ensemble reran): the bar follows
        the progress at most every :data:`PROGRESS_PERIOD_S` (the last report always reaches
        it), a job's start, end and message at once."""
        self._jobs.append(job)
        run = pn.widgets.Button(label=label, color="primary")
        run.on_click(lambda _: start())
        cancel = pn.widgets.Button(label="Cancel", disabled=True)
        cancel.on_click(lambda _: job.cancel())
        # fixed sizes and no visibility toggles: a change here must not relayout the page
        bar = pn.indicators.Progress(value=0, max=100, width=160, height=20, margin=(14, 10))
        message = pn.pane.Str("", height=24, margin=(0, 10), sizing_mode="stretch_width")
        #: monotonic time of the last sync, and whether a progress sync is scheduled
        state: dict[str, Any] = {"at": -PROGRESS_PERIOD_S, "pending": False}

        def sync(*_: Any) -> None:
            state["pending"] = False
            state["at"] = time.monotonic()
            # param sends only values that changed (a button's ``disabled`` flip is costly in
            # the browser: assets/bokeh_fixes.js, fix 5)
            bar.value = round(100 * job.progress)
            cancel.disabled = not job.running
            run.disabled = job.running
            message.object = job.error or job.message

        def on_progress(*_: Any) -> None:  # possibly on the job's worker thread
            if state["pending"]:
                return  # the scheduled sync shows this report too
            state["pending"] = True
            wait = state["at"] + PROGRESS_PERIOD_S - time.monotonic()
            self._call_on_loop_after(wait, sync)

        job.param.watch(lambda *e: self.call_on_loop(sync), ["running", "message", "error"])
        job.param.watch(on_progress, ["progress"])
        sync()  # a job may have run before its view (a study kept from start-up): show it
        return pn.Column(pn.Row(run, cancel, bar), message, sizing_mode="stretch_width")

    def _call_on_loop_after(self, delay: float, fn: Callable[[], None]) -> None:
        """:meth:`call_on_loop` ``fn`` in ``delay`` seconds (at once outside a server, or if
        ``delay`` is not positive)."""
        if delay <= 0 or self._loop is None or self._document is None:
            self.call_on_loop(fn)
            return
        loop = self._loop
        # tornado's add_callback is the one thread-safe entry; call_later then runs on the loop
        loop.add_callback(lambda: loop.call_later(delay, self._next_tick, fn))

    def __panel__(self) -> pn.viewable.Viewable:
        if self._layout is None:
            self._layout = pn.Row(self.controls, self.content, sizing_mode="stretch_width")
        return self._layout


def _card_built_when_opened(
    title: str, build: Callable[[], pn.viewable.Viewable], **params: Any
) -> pn.Card:
    """A collapsed card whose contents are built when it is first opened.

    The sidebar's collapsed cards (the advanced params' widgets, the glossary) were most of
    the controls' widgets, and the controls most of the cost of a tab's first visit: built
    with the tab, they held the server's loop for every student opening it, to show nothing."""
    card = pn.Card(title=title, collapsed=True, **params)

    def fill(event: param.parameterized.Event) -> None:
        if not event.new and not card.objects:
            card.objects = [build()]

    card.param.watch(fill, ["collapsed"])
    return card


def _parent_of(layout: Any, target: Any) -> tuple[Any, int] | None:
    """The layout directly holding ``target`` inside ``layout`` and its index there."""
    for index, child in enumerate(getattr(layout, "objects", [])):
        if child is target:
            return layout, index
        found = _parent_of(child, target)
        if found is not None:
            return found
    return None


def _stage_fill(lesson: bool) -> dict[str, Any]:
    """Layout options of a presenter-mode container that takes the stage's leftover height.

    A height policy, not ``sizing_mode="stretch_both"``: Panel infers a layout's sizing mode
    from its children's, so one stretching child would make the stage and every layout around
    it up to the page stretch in height too (the page then collapses to the window's height,
    the panels below drawn over the stage). A policy is not inherited, and Bokeh's column gives
    a child with policy "max" the room its siblings leave."""
    return {"height_policy": "max"} if lesson else {}


def _fill_stage(view: Any) -> list[tuple[Any, dict[str, Any]]]:
    """The changes that make ``view`` fill the presenter stage's height: its first plots (those
    in the first layout holding any) and every layout around them take the height left
    (:func:`_stage_fill`); a card drops its title bar and every caption hides (the story
    above names the preset and says what to look for). Plots further down (a table's maps
    under a panel's curves) keep their sizes. A list of ``(object, {attribute: value})`` for
    :func:`_apply`."""
    changes: list[tuple[Any, dict[str, Any]]] = []

    def hide_extras(obj: Any) -> None:
        if {"ns-caption", OFF_STAGE} & set(getattr(obj, "css_classes", [])):
            changes.append((obj, {"visible": False}))
        elif isinstance(obj, pn.Card):
            changes.append((obj, {"hide_header": True}))
        for child in getattr(obj, "objects", []):
            hide_extras(child)

    def stretch(pane: pn.pane.Bokeh, parent: Any) -> None:
        figure = pane.object
        fixed_aspect = figure.sizing_mode in (None, "fixed") or "scale" in figure.sizing_mode
        if not (fixed_aspect and figure.width and figure.height):
            changes.append((figure, {**_stage_fill(True), "min_height": STAGE_MIN_PLOT_PX}))
            changes.append((pane, _stage_fill(True)))
            return
        # a figure drawn at a fixed aspect (a landscape) takes the height, and its width
        # follows by its width : height. With policies, not sizing_mode="scale_height":
        # Bokeh lets a sizing mode override the policies, and Panel passes a "scale" mode on
        # to every layout around it, which then shrink to their content. The width comes
        # from the height of the layout holding the figure (a CSS size container): Chromium
        # sizes a flex item's width from its aspect ratio before it stretches its height
        ratio = figure.width / figure.height
        grow = {"sizing_mode": None, "width_policy": "min", **_stage_fill(True)}
        width = (
            f":host {{ width: calc(100cqh * {ratio:.4f}) !important; max-width: none !important; }}"
        )
        stylesheets = [*figure.stylesheets, width]
        # no cap on the widths, the figure's (in the stylesheet: Panel keeps the pane's cap on
        # it) and its layout's: the height bounds them, and a capped width would distort
        changes.append(
            (figure, {**grow, "min_height": STAGE_MIN_PLOT_PX, "stylesheets": stylesheets})
        )
        changes.append((pane, grow))
        if not any(SIZE_CONTAINER in str(sheet) for sheet in parent.stylesheets):
            sheets = [*parent.stylesheets, SIZE_CONTAINER]
            changes.append((parent, {"stylesheets": sheets, "max_width": None}))

    def visit(obj: Any) -> bool:
        children = list(getattr(obj, "objects", []))
        panes = [c for c in children if isinstance(c, pn.pane.Bokeh) and c.object is not None]
        if isinstance(obj, pn.Column) and len(panes) > 1:
            # plots stacked in a column would split the stage's height (and each keeps the
            # height its legend needs): the first one is the preset's, the others hide
            changes.extend((pane, {"visible": False}) for pane in panes[1:] if pane.visible)
            panes = panes[:1]
        for pane in panes:
            stretch(pane, obj)
        if panes or any(visit(child) for child in children):  # the first plots only
            # no minimum height from the layout's earlier contents: BokehJS keeps the height a
            # "max" layout had when a child was visible (the adaptive moments card kept the
            # 574 px of its two plots after its second one hid for SGD)
            pending = [v["stylesheets"] for o, v in changes if o is obj and "stylesheets" in v]
            sheets = pending[-1] if pending else obj.stylesheets  # the size container's too
            changes.append((obj, {**_stage_fill(True), "stylesheets": [*sheets, UNPINNED]}))
            return True
        return False

    hide_extras(view)
    visit(view)
    return changes


def _apply(changes: list[tuple[Any, dict[str, Any]]]) -> list[tuple[Any, dict[str, Any]]]:
    """Set each object's attributes; return the changes that undo them (in reverse order)."""
    undo = []
    for target, values in changes:
        undo.append((target, {name: getattr(target, name) for name in values}))
        for name, value in values.items():
            setattr(target, name, value)
    return undo[::-1]


def _number_format(step: float | None, start: float | None = None) -> str:
    """A numeral.js slider format with as many decimals as the param's step and the slider's
    start need (at least two; the rule is :func:`app.url_state.step_decimals`, which the links
    use too): a slider from 0.001 in steps of 0.01 shows 0.011, not 0.01."""
    if step is None or (step >= 1 and step_decimals(step, start) == 0):
        return "0.[00]"
    return "0." + "0" * max(2, step_decimals(step, start))


def _running_loop() -> IOLoop | None:
    """The event loop running this thread (a server session's), else None."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None
    return IOLoop.current()
