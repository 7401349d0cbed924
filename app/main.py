"""The app shell: tab registry, template, landing page, URL state and the animation clock.

``create_app()`` builds a fresh, independent app for each browser session: its own models,
random generators and periodic callback, so one user's actions never change another's numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import panel as pn
import panel.io.resources as panel_resources
import panel.reactive as panel_reactive
from bokeh.document import Document
from bokeh.models import CustomJS, Div
from panel.io.callbacks import PeriodicCallback
from panel.theme.base import Inherit
from panel.theme.fast import Fast

from app import bokeh_defaults, bokeh_refs, bokeh_walk, bokeh_writes, memory, sessions
from app import on_screen as on_screen_report
from app.accessibility import FOCUS_RING, AccessibleNames
from app.models.base import CUSTOM_PRESET, SimulationModel
from app.shortcuts import HELP, Shortcuts
from app.sweeps.session import SweepSession
from app.tabs.adaptive.tab import AdaptiveTab
from app.tabs.base import SimulationTab
from app.tabs.exploration.tab import ExplorationTab
from app.tabs.signature.tab import SignatureTab
from app.tabs.swarm.tab import SwarmTab
from app.tabs.tokens.tab import TokensTab
from app.tabs.widenet.tab import WidenetTab
from app.text import escape_markdown
from app.url_state import apply_query, build_query

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

# a frame's message names a handful of models: Bokeh's per-message pass over all of them goes
bokeh_refs.install()
bokeh_walk.install()  # the walk over a page's models, without an import per value
bokeh_defaults.install()  # a default read again costs a dict lookup (app/bokeh_defaults.py)
# Bokeh's and Panel's writers share one queue per page, so messages arrive in the order made
bokeh_writes.install()

# One line per tab, in landing-page order (each tab module's class, imported above).
TABS: tuple[type[SimulationTab], ...] = (
    TokensTab,
    SwarmTab,
    WidenetTab,
    AdaptiveTab,
    SignatureTab,
    ExplorationTab,
)

#: Link colours with at least 4.5:1 contrast on the light and the dark theme's cards.
LINK_LIGHT = "#1f5a85"
LINK_DARK = "#9ccbf0"
#: JS: scroll the page (and the template's scrolling main area) back to the top.
SCROLL_TO_TOP = (
    "window.scrollTo(0, 0); "
    "for (const el of document.querySelectorAll('#main, .main, #content')) el.scrollTop = 0;"
)
#: Where the server serves Panel's files, relative to the page (Panel's own ``dist_url``).
SERVER_DIST = "./" + panel_resources.LOCAL_DIST
#: KaTeX's @font-face rules at document level (inside shadow roots they are ignored).
KATEX_FONTS = "assets/katex/katex-fonts.css"
#: Repaint costs of BokehJS removed in the browser (see the file), loaded after BokehJS.
BOKEH_FIXES = "assets/bokeh_fixes.js"
#: Pixels of the sidebar holding the open tab's controls.
SIDEBAR_WIDTH = 340
SIDEBAR_ABOUT = (
    "Open a tab: its controls appear here. The ☰ button in the header hides this column."
)

#: Milliseconds between animation ticks (the frame guard drops ticks that overlap).
TICK_MS = 25
#: Seconds between URL rewrites while parameters move (avoids flooding browser history).
URL_WRITE_INTERVAL = 0.4
#: Link keys of a tab's sweep definition (``sweep_x``, ``sweep_y``, ...).
SWEEP_PREFIX = "sweep_"
SWEEP_URL_PARAMS = (
    *("x", "x_lo", "x_hi", "x_n", "x_log", "y", "y_lo", "y_hi", "y_n", "y_log"),
    *("outcome", "replicates", "in_url"),
)


#: Lets a row of panels wrap (Panel's rows are CSS flex rows that never wrap by default).
ROW_WRAP = ":host { flex-wrap: wrap; }"
#: Bokeh gives a layout the sum of its children's minimum widths as its own minimum (a row of
#: two 420 px cards: 900 px), which pushes a wrapping row off the screen; the row's widest
#: child is minimum enough.
NO_SUMMED_MIN_WIDTH = ":host { min-width: 0 !important; }"
#: A panel card's minimum width (plotting.panel_card's 420 px, or the whole row if narrower).
CARD_MIN_WIDTH = ":host { min-width: min(420px, 100%) !important; }"
#: The tab titles need about 980 px; a projector at 1024 px with the sidebar open leaves about
#: 600. Bokeh's strip of titles scrolls sideways, but as a flex item it never shrank below its
#: content, so the bar cut the last titles off instead. Shrinkable, it scrolls (a thin bar only
#: when the titles overflow; app/shortcuts.py keeps the open tab's title in view). One line, not
#: two: a wrapped bar pushed the swarm tab's hero below the fold at 1024 × 768.
TAB_STRIP = ".bk-headers-wrapper { flex: 1 1 auto; min-width: 0; scrollbar-width: thin; }"
#: A tab that is not open takes no room: BokehJS hides it with ``visibility: hidden`` in the
#: grid cell of the open one, so the page would be as tall as the tallest tab shown so far, and
#: the browser would lay out every hidden tab at each resize (tabs stay in the page once built).
HIDDEN_TABS = ':host > [style*="visibility: hidden"] { display: none; }'
#: The sidebar follows the main area in the document, so the keyboard reaches the tab bar
#: first (app/shortcuts.py moves it there); it is still drawn on the left.
SIDEBAR_FIRST = "#sidebar { order: -1; }"
#: A hidden sidebar (the ☰ toggle) leaves the keyboard's tab order in every browser (the
#: controls' own :host-context rule in assets/noisescope.css covers Chromium only).
SIDEBAR_HIDDEN = "#sidebar.hidden { visibility: hidden; }"


class OfflineFast(Fast):
    """Panel's Fast design without its web font (Open Sans from a third-party host): the page
    loads nothing from any host but this server, so it works in a lecture hall without internet
    and sends no visitor's address elsewhere (the system's sans-serif font stands in)."""

    _resources = {key: value for key, value in Fast._resources.items() if key != "font"}
    # rows of panels wrap onto the next line when the window is narrower than their minimum
    # widths (a projector at 1024 px, the sidebar open) instead of running off the right edge
    modifiers = {
        **Fast.modifiers,
        pn.Row: {"stylesheets": [Inherit, ROW_WRAP, NO_SUMMED_MIN_WIDTH]},
        pn.Column: {"stylesheets": [Inherit, NO_SUMMED_MIN_WIDTH]},
        pn.Tabs: {"stylesheets": [Inherit, NO_SUMMED_MIN_WIDTH]},
        # a card keeps its own minimum (a plot needs room), so a row of cards wraps
        pn.Card: {"stylesheets": [Inherit, CARD_MIN_WIDTH]},
        pn.widgets.Widget: {"stylesheets": [Inherit, FOCUS_RING]},
    }

    def params(self, viewable: Any, doc: Document | None = None) -> Any:
        """Panel's modifiers, with the theme's stylesheets taken from the session's cache also
        for a model not yet attached to its document (``doc`` None: a panel drawn in the
        callback that built it). Panel makes new copies for such a model; its next update then
        puts the cached ones back, and each such change of a property holding models makes
        Bokeh walk the whole document again: 55-190 ms per readout after a tab's first visit,
        once the page had shown a few tabs."""
        return super().params(viewable, doc if doc is not None else pn.state.curdoc)


# Panel finds a design's bundled files under its lower-cased class name ("fast/js/...").
OfflineFast.__name__ = "Fast"


def _never_to_the_cdn(patch: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    """Panel's ``patch_stylesheet`` that never points a stylesheet at Panel's CDN.

    When the design re-applies its modifiers to a component whose Bokeh model is not attached
    to a document (a hidden tab's content, a swapped sidebar, a page built under
    ``SessionTemplate``'s freeze), ``Design._apply_params`` (Panel 1.9.4,
    ``panel/theme/base.py``; ``Reactive._update_model`` likewise) falls back to the CDN as the
    "dist" URL and rewrites the session's shared ``loading.css`` stylesheet to
    ``cdn.holoviz.org``: every component of the page then asks that host for it (an offline
    lecture hall gets errors, an online one sends each visitor's address there). The app
    serves Panel's files itself, so a rewrite to the CDN is dropped and the stylesheet keeps
    its server URL; in a server session, one that still points at the CDN (the design's theme
    sheets start there) is pointed at the server's copy."""

    def patched(stylesheet: Any, dist_url: str) -> None:
        if dist_url == panel_resources.CDN_DIST:
            document = pn.state.curdoc
            if document is None or document.session_context is None:
                return  # not served by this app's server: leave the stylesheet as it is
            # a stylesheet the design made for a model not yet attached (a tab's panels
            # built while the page shows another tab) starts as a CDN address: point it at
            # the server's own copy, as Panel does for the page's first models
            dist_url = SERVER_DIST
        patch(stylesheet, dist_url)

    return patched


# both names: panel.reactive imported the function at its own import (its model updates patch
# with the same fallback), the design looks it up in panel.io.resources at call time
panel_resources.patch_stylesheet = _never_to_the_cdn(panel_resources.patch_stylesheet)
panel_reactive.patch_stylesheet = panel_resources.patch_stylesheet


pn.extension("katex", notifications=True, design=OfflineFast)


class SessionTemplate(pn.template.FastListTemplate):
    """Panel's FastListTemplate adding its roots to the session's document in one step.

    Bokeh recomputes a document's whole model graph after each root it adds; the template adds
    about a dozen (header, sidebar, main, modal, location, ...) to a page of about a thousand
    models, a third of a page's build time. Frozen, the graph is computed once, after the
    last root, and every model gets the design's Bokeh theme once, as it is attached. (While
    frozen, no model is attached: :func:`_never_to_the_cdn` keeps Panel's design from pointing
    their stylesheets at its CDN meanwhile.)
    """

    def _init_doc(
        self,
        doc: Document | None = None,
        comm: Any = None,
        title: str | None = None,
        notebook: bool = False,
        location: Any = True,
    ) -> Document:
        document = doc or pn.state.curdoc
        if document is None:  # Panel makes a fresh document itself
            return super()._init_doc(doc, comm, title, notebook, location)
        with document.models.freeze():
            return super()._init_doc(document, comm, title, notebook, location)


def create_app() -> pn.template.FastListTemplate:
    """A fresh app for one session (reads the link's query string, never raises on it)."""
    query = _session_query()
    lesson = query.get("lesson", "").lower() in {"1", "true", "yes"}
    slugs = [tab.slug for tab in TABS]
    notices: list[str] = []
    active_slug = query.get("tab")
    if active_slug is not None and active_slug not in slugs and active_slug != "about":
        notices.append(f"Unknown tab '{active_slug}': showing the About page.")
        active_slug = None

    # Views are built when their tab is first opened: a visitor pays only for what they look at
    # (building all six took 1.9 s per session; one takes 0.2-0.7 s). Once built, a tab stays
    # in the page while another is open (not Panel's ``dynamic`` tabs, which swap a hidden
    # tab's content for a placeholder and send all of it again when it is shown: 0.3-0.5 s of
    # the server's loop and a rebuild of a thousand views in the browser per switch).
    tabs = pn.Tabs(
        sizing_mode="stretch_width",
        css_classes=["ns-tabs"],
        stylesheets=[TAB_STRIP, HIDDEN_TABS],
    )
    about_page = pn.Column(sizing_mode="stretch_width")
    tabs.append(("About", about_page))
    holders: dict[str, pn.Column] = {}
    for tab_class in TABS:
        holders[tab_class.slug] = pn.Column(sizing_mode="stretch_width")
        tabs.append((tab_class.title, holders[tab_class.slug]))
    views: dict[str, SimulationTab] = {}
    # the panels the page shows: a playing run redraws only those (app/on_screen.py)
    on_screen = on_screen_report.report_input()

    def show_on_screen(targets: Iterable[SimulationTab]) -> None:
        keys = on_screen_report.shown_keys(on_screen.value)
        if keys is not None:  # None: the page has not reported (every panel counts as shown)
            for view in targets:
                view.show_on_screen(keys)

    on_screen.param.watch(lambda *_: show_on_screen(views.values()), ["value"])

    # the open tab's controls live in the template's sidebar: the ☰ button hides them, and
    # the plots take the whole width (a projector at 1024 × 768)
    sidebar = pn.Column(sizing_mode="stretch_width", css_classes=["ns-sidebar"])
    about = pn.pane.Markdown(SIDEBAR_ABOUT, sizing_mode="stretch_width")

    def show_controls(*_: Any) -> None:
        """The open tab's controls (the About text on the About page). A tab's controls stay
        in the sidebar once shown, hidden while another tab is open: showing them again is
        one property change, not a new set of models to build and send."""
        view = views.get(slugs[tabs.active - 1]) if tabs.active > 0 else None
        shown = view.controls if view is not None else about
        if not any(item is shown for item in sidebar.objects):
            sidebar.append(shown)
        for item in sidebar.objects:
            item.visible = item is shown

    def build_view(slug: str, link_query: dict[str, str]) -> SimulationTab:
        """Build tab ``slug``'s model and view (its first panel; the others follow in a spare
        turn) and put it in the page; when it is the open tab (a first visit), show its
        controls in the same message."""
        # one pass over the document's models, and no collection: what it builds lives on
        with sessions.batched(pn.state.curdoc), memory.paused_collector():
            tab_class = TABS[slugs.index(slug)]
            model = tab_class.model_class()
            model.set_job_owner(id(views))  # the session's jobs share its turn in the job pool
            sweep_keys = {k: v for k, v in link_query.items() if k.startswith(SWEEP_PREFIX)}
            model_keys = {k: v for k, v in link_query.items() if not k.startswith(SWEEP_PREFIX)}
            notices.extend(apply_query(model, model_keys))
            view = tab_class(model=model, lesson=lesson)
            if view.sweep_session is not None and sweep_keys:
                notices.extend(view.sweep_session.apply_query(sweep_keys))
            holders[slug].objects = [view.content]
            views[slug] = view
            show_on_screen([view])
            if tabs.active == 1 + slugs.index(slug):
                show_controls()
        return view

    if active_slug in slugs:
        build_view(active_slug, query)
        tabs.active = 1 + slugs.index(active_slug)

    def show_about(*_: Any) -> None:
        """The About page is built when it is first shown: a link to a tab does not pay for
        its cards (25 ms of a page's 290 ms build; thumbnails read and encoded)."""
        if tabs.active == 0 and not about_page.objects:
            about_page.objects = _landing_page(tabs)

    show_about()
    tabs.param.watch(show_about, ["active"])

    notice = pn.pane.Alert(
        "**Some link parameters were adjusted.** " + escape_markdown(" ".join(notices)),
        alert_type="warning",
        visible=bool(notices),
        css_classes=["ns-url-notice"],
        sizing_mode="stretch_width",
    )
    shortcuts = Shortcuts(height=0, width=0, margin=0)
    template = SessionTemplate(
        title="noisescope",
        design=OfflineFast,
        sidebar=[sidebar],
        sidebar_width=SIDEBAR_WIDTH,
        # presenter mode starts with the controls hidden (☰ brings them back)
        collapsed_sidebar=lesson,
        main=[
            pn.Column(
                notice,
                tabs,
                _page_title(tabs),
                shortcuts,
                on_screen,
                AccessibleNames(height=0, width=0, margin=0),
                sizing_mode="stretch_width",
            )
        ],
        favicon="assets/favicon.svg",
        theme_toggle=True,
        # Panel's busy flag is one for the whole server (set while any session's callback
        # runs): its header spinner would turn on every page for each click of any student,
        # one message per open page each time. Each tab shows its own work's progress.
        busy_indicator=None,
        main_max_width="1800px",
        accent="#2f6f9f",
        header_background="#1d3f5c",
    )
    template.config.css_files = [KATEX_FONTS]
    template.config.js_files = {
        "noisescope_bokeh_fixes": BOKEH_FIXES,
        "noisescope_on_screen": on_screen_report.SCRIPT,
    }
    template.config.raw_css.append(FOCUS_RING)  # the header's own controls (theme switch)
    template.config.raw_css.extend([SIDEBAR_FIRST, SIDEBAR_HIDDEN])
    template.modal.append(pn.pane.Markdown(HELP, width=420))
    help_button = pn.widgets.Button(
        label="?",
        button_type="light",
        width=40,
        description="Keyboard shortcuts (press ?)",
        css_classes=["ns-help-button"],
    )
    help_button.on_click(lambda _: template.open_modal())
    template.header.append(help_button)

    def on_shortcut(*_: Any) -> None:
        if shortcuts.action == "help":
            template.open_modal()
            return
        view = views.get(slugs[tabs.active - 1]) if tabs.active > 0 else None
        if view is not None:
            view.shortcut(shortcuts.action)

    shortcuts.param.watch(on_shortcut, ["presses"])
    _start_clock(tabs, slugs, views, build_view, lesson, shortcuts)
    show_controls()
    tabs.param.watch(show_controls, ["active"])  # after the clock's watcher built the view
    return template


def warm_views() -> float:
    """Build and close every tab's view once (imports, data-set loads, first Bokeh models), so
    the first visitor to a tab does not pay for them; return the seconds spent."""
    start = time.perf_counter()
    for tab_class in TABS:
        tab_class(model=tab_class.model_class(), lesson=False).close()
    return time.perf_counter() - start


def _start_clock(
    tabs: pn.Tabs,
    slugs: list[str],
    views: dict[str, SimulationTab],
    build_view: Callable[[str, dict[str, str]], SimulationTab],
    lesson: bool,
    shortcuts: Shortcuts | None = None,
) -> None:
    """One periodic callback per session: animate the active tab, keep the URL current, build a
    tab's view the first time it is opened, follow Back and Forward."""
    state = {"dirty": True, "last_write": 0.0, "query": None}

    def mark_dirty(*_: Any) -> None:
        state["dirty"] = True

    def watch(view: SimulationTab) -> None:
        view.model.param.watch(mark_dirty, ["seed", "preset", *view.model.scientific_params()])
        if view.sweep_session is not None:
            view.sweep_session.param.watch(mark_dirty, list(SWEEP_URL_PARAMS))

    def on_active(event: Any) -> None:
        mark_dirty()
        slug = slugs[event.new - 1] if event.new > 0 else None
        if slug is not None and slug not in views:
            watch(build_view(slug, {}))

    tabs.param.watch(on_active, ["active"])

    def browser_reported(event: Any) -> None:
        """The browser's Location view reports ``window.location`` when it starts. A link
        written before that report is overwritten by it (the written link never reaches the
        address bar), so a report that differs from the last link written asks for it again.
        Back and Forward do not report here (Panel's Location ignores popstate)."""
        if event.new != state["query"]:
            state["query"] = None
            mark_dirty()

    if pn.state.location is not None:
        pn.state.location.param.watch(browser_reported, ["search"])

    def went_back(*_: Any) -> None:
        """Back or Forward: show the tab and the numbers of the link the browser moved to
        (without writing that link again, which would cut the forward history)."""
        query = dict(parse_qsl(shortcuts.popped.lstrip("?"), keep_blank_values=True))
        state["query"] = shortcuts.popped
        slug = query.get("tab")
        if slug not in slugs:
            tabs.active = 0
            return
        if slug in views:
            restore_link(views[slug].model, query, views[slug].sweep_session)
        else:
            watch(build_view(slug, query))
        tabs.active = 1 + slugs.index(slug)
        state["dirty"] = False

    if shortcuts is not None:
        shortcuts.param.watch(went_back, ["pops"])
    for view in views.values():
        watch(view)

    def active_view() -> SimulationTab | None:
        return views.get(slugs[tabs.active - 1]) if tabs.active > 0 else None

    session_context = pn.state.curdoc.session_context if pn.state.curdoc else None

    def tick() -> None:
        session = getattr(session_context, "_session", None)
        if session is not None and session.connection_count == 0:
            # the page is gone (Bokeh destroys the session a few seconds later): a frame now
            # would only be a message to a closed websocket
            return
        view = active_view()
        if view is not None:
            view.tick()
        now = time.monotonic()
        if state["dirty"] and now - state["last_write"] > URL_WRITE_INTERVAL:
            _write_url(view, lesson, state)
            state["dirty"] = False
            state["last_write"] = now

    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        # background=True: the clock must not toggle the page's busy indicator on every tick
        # (two extra websocket messages and a restyle per frame otherwise)
        clock = PeriodicCallback(callback=tick, period=TICK_MS, background=True)
        clock.start()

        def close_views(_: Any) -> None:
            clock.stop()
            for view in list(views.values()):
                view.close()
            memory.note_session_closed(document)

        document = pn.state.curdoc
        memory.open_page(document)
        pn.state.on_session_destroyed(close_views)


def restore_link(
    model: SimulationModel, query: dict[str, str], sweep: SweepSession | None = None
) -> list[str]:
    """Give an open tab exactly the numbers and sweep settings of a link it showed before
    (Back or Forward).

    A link leaves out every parameter at its default (:func:`app.url_state.build_query`), so
    a parameter the link does not name returns to its default before the link is applied (a
    preset does that itself). Likewise the sweep panel returns to a fresh session's settings
    before the link's ``sweep_*`` keys are applied; no sweep starts.

    Parameters
    ----------
    model : SimulationModel
        The open tab's model, which may hold numbers of a later link.
    query : dict of str to str
        The link's query string.
    sweep : SweepSession, optional
        The tab's sweep panel settings, if it has a sweep panel.

    Returns
    -------
    list of str
        Notices about values that were adjusted (see :func:`app.url_state.apply_query`).
    """
    model_keys = {k: v for k, v in query.items() if not k.startswith(SWEEP_PREFIX)}
    if model_keys.get("preset", CUSTOM_PRESET) == CUSTOM_PRESET:
        model.param.update(
            {
                name: model.param[name].default
                for name in model.scientific_params()
                if name not in model_keys
            }
        )
    notices = apply_query(model, model_keys)
    if sweep is not None:
        notices.extend(sweep.restore_query(query))
    return notices


def _page_title(tabs: pn.Tabs) -> pn.pane.Bokeh:
    """A hidden text whose value the browser copies into the page title: the browser tab
    names the open tab ("Swarm escapes — noisescope"; Bokeh leaves a template's title alone).

    The copy is a Bokeh ``CustomJS`` on the text, not a Panel ``jscallback``: Panel's first
    link adds a hook that, at every layout change of every page, walks the whole page looking
    for links (13 % of the server's time for a tab's first visit)."""
    sink = Div(text="", visible=False, name="page title")
    sink.js_on_change("text", CustomJS(code="document.title = cb_obj.text"))

    def show(*_: Any) -> None:
        title = TABS[tabs.active - 1].title if tabs.active > 0 else "About"
        sink.text = f"{title} — noisescope"

    tabs.param.watch(show, ["active"])
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        pn.state.onload(show)  # after the page has loaded and the template set its own title
    return pn.pane.Bokeh(sink, visible=False)


def _write_url(view: SimulationTab | None, lesson: bool, state: dict[str, Any]) -> None:
    location = pn.state.location
    if location is None:
        return
    if view is None:
        query = "?tab=about" + ("&lesson=1" if lesson else "")
    else:
        query = build_query(view.model, view.slug, lesson=lesson)
        if view.sweep_session is not None and view.sweep_session.to_query():
            query += "&" + urlencode(view.sweep_session.to_query())
    if pn.config.theme == "dark":  # the theme survives tab switches and reloads
        query += "&theme=dark"
    if query != state["query"]:
        state["query"] = query
        location.search = query


def _session_query() -> dict[str, str]:
    """The link's query string as text (last value wins); empty outside a server session."""
    args = pn.state.session_args or {}
    query: dict[str, str] = {}
    for key, values in args.items():
        if not values:
            continue
        raw = values[-1]
        query[key] = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return query


def _landing_page(tabs: pn.Tabs) -> list[pn.viewable.Viewable]:
    intro = pn.pane.Markdown(
        """
# noisescope
**An interactive lab for the stochastic dynamics of learning.** Each tab puts one research
result on the screen: drag the noise strength, the depth or the attention and watch the
dynamics change live. Every number on screen is computed in your browser session from a seed:
copy the link to share exactly what you see.
""",
        sizing_mode="stretch_width",
    )
    cards = [_tab_card(i + 1, tab, tabs) for i, tab in enumerate(TABS)]
    return [intro, pn.FlexBox(*cards)]


class _ScrollingButton(pn.widgets.Button):
    """A button that also scrolls the page to its top in the browser: the tab it opens shows
    its top (Play and the hero), not where the About page was scrolled to.

    The scroll is a Bokeh ``CustomJS`` on the button's model, not Panel's ``js_on_click``,
    whose link would make every page walk itself for links at each layout change
    (:func:`_page_title`)."""

    def _get_model(self, doc: Any, root: Any = None, parent: Any = None, comm: Any = None) -> Any:
        model = super()._get_model(doc, root, parent, comm)
        model.js_on_event("button_click", CustomJS(code=SCROLL_TO_TOP))
        return model


def _tab_card(index: int, tab: type[SimulationTab], tabs: pn.Tabs) -> pn.Card:
    thumbnail_path = ASSETS_DIR / "thumbnails" / f"{tab.slug}.png"
    thumbnail = (
        pn.pane.PNG(thumbnail_path, width=300, alt_text=f"{tab.title}: a view of the tab")
        if thumbnail_path.exists()
        else pn.Spacer(height=0)
    )
    open_button = _ScrollingButton(label=f"Open {tab.title}", color="primary")

    def open_tab(_: Any) -> None:
        tabs.active = index

    open_button.on_click(open_tab)
    text = pn.pane.Markdown(
        f"{tab.claim}\n\n"
        f"*Paper:* [{tab.paper_citation}]({tab.paper_url})\n\n"
        f"<small>{tab.provenance}</small>",
        width=320,
        # the accent colour's links are 4.4:1 on the card (AA asks 4.5): a darker (lighter on
        # the dark theme) shade of it
        stylesheets=[f"a {{ color: {LINK_DARK if pn.config.theme == 'dark' else LINK_LIGHT}; }}"],
    )
    return pn.Card(
        thumbnail,
        text,
        open_button,
        title=tab.title,
        collapsible=False,
        width=350,
        css_classes=["ns-tab-card"],
        margin=10,
    )
