"""The app shell: tab registry, template, landing page, URL state and the animation clock.

``create_app()`` builds a fresh, independent app for each browser session: its own models,
random generators and periodic callback, so one user's actions never change another's numbers.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import panel as pn
from panel.io.callbacks import PeriodicCallback

from app.tabs.adaptive import AdaptiveTab
from app.tabs.base import SimulationTab
from app.tabs.exploration import ExplorationTab
from app.tabs.signature import SignatureTab
from app.tabs.tokens import TokensTab
from app.tabs.widenet import WidenetTab
from app.url_state import apply_query, build_query, escape_markdown

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

# One line per tab, in landing-page order (each tab module's class, imported above).
TABS: tuple[type[SimulationTab], ...] = (
    TokensTab,
    WidenetTab,
    AdaptiveTab,
    SignatureTab,
    ExplorationTab,
)

#: Milliseconds between animation ticks (the frame guard drops ticks that overlap).
TICK_MS = 25
#: Seconds between URL rewrites while parameters move (avoids flooding browser history).
URL_WRITE_INTERVAL = 0.4

pn.extension("katex", notifications=True, design="fast")


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

    views: dict[str, SimulationTab] = {}
    for tab_class in TABS:
        model = tab_class.model_class()
        if tab_class.slug == active_slug:
            notices.extend(apply_query(model, query))
        views[tab_class.slug] = tab_class(model=model, lesson=lesson)

    tabs = pn.Tabs(dynamic=True, sizing_mode="stretch_width", css_classes=["ns-tabs"])
    tabs.append(("About", _landing_page(tabs)))
    for view in views.values():
        tabs.append((view.title, view))
    if active_slug in views:
        tabs.active = 1 + slugs.index(active_slug)

    notice = pn.pane.Alert(
        "**Some link parameters were adjusted.** " + escape_markdown(" ".join(notices)),
        alert_type="warning",
        visible=bool(notices),
        css_classes=["ns-url-notice"],
        sizing_mode="stretch_width",
    )
    template = pn.template.FastListTemplate(
        title="noisescope",
        main=[pn.Column(notice, tabs, sizing_mode="stretch_width")],
        theme_toggle=True,
        main_max_width="1800px",
        accent="#2f6f9f",
        header_background="#1d3f5c",
    )
    _start_clock(tabs, views, lesson)
    return template


def _active_view(tabs: pn.Tabs, views: dict[str, SimulationTab]) -> SimulationTab | None:
    if tabs.active == 0:
        return None
    return list(views.values())[tabs.active - 1]


def _start_clock(tabs: pn.Tabs, views: dict[str, SimulationTab], lesson: bool) -> None:
    """One periodic callback per session: animate the active tab, keep the URL current."""
    state = {"dirty": True, "last_write": 0.0, "query": None}

    def mark_dirty(*_: Any) -> None:
        state["dirty"] = True

    tabs.param.watch(mark_dirty, ["active"])
    for view in views.values():
        view.model.param.watch(mark_dirty, ["seed", "preset", *view.model.scientific_params()])

    def tick() -> None:
        view = _active_view(tabs, views)
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
            for view in views.values():
                view.close()

        pn.state.on_session_destroyed(close_views)


def _write_url(view: SimulationTab | None, lesson: bool, state: dict[str, Any]) -> None:
    location = pn.state.location
    if location is None:
        return
    if view is None:
        query = "?tab=about" + ("&lesson=1" if lesson else "")
    else:
        query = build_query(view.model, view.slug, lesson=lesson)
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


def _landing_page(tabs: pn.Tabs) -> pn.Column:
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
    return pn.Column(intro, pn.FlexBox(*cards), sizing_mode="stretch_width")


def _tab_card(index: int, tab: type[SimulationTab], tabs: pn.Tabs) -> pn.Card:
    thumbnail_path = ASSETS_DIR / "thumbnails" / f"{tab.slug}.png"
    thumbnail = (
        pn.pane.PNG(thumbnail_path, width=300) if thumbnail_path.exists() else pn.Spacer(height=0)
    )
    open_button = pn.widgets.Button(label=f"Open {tab.title}", color="primary")

    def open_tab(_: Any) -> None:
        tabs.active = index

    open_button.on_click(open_tab)
    text = pn.pane.Markdown(
        f"{tab.claim}\n\n"
        f"*Paper:* [{tab.paper_citation}]({tab.paper_url})\n\n"
        f"<small>{tab.provenance}</small>",
        width=320,
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
