"""Which panels the page shows: the browser tells the server, so that a playing run redraws only
what someone can see.

While a run plays, each tab redraws its hero every frame and its other panels a few times a
second (:meth:`app.tabs.base.SimulationTab._update_plots`). Most of them are below the fold: on
a 1024 × 768 projector, or a laptop, the page shows the hero and perhaps one more panel. Their
redraws cost the server a third of its event loop with twenty pages playing the tokens tab
(py-spy), and the browser a repaint of figures nobody sees. A tab skips the panels the page
reports off the screen while it plays, marks them stale, and redraws them when they come on
screen or the run stops.

The page's script :data:`SCRIPT` watches every element with the class :data:`WATCH_CLASS` (a
tab tags each panel's layout with it and ``ns-key-<key>``) with an ``IntersectionObserver`` and
writes the keys of those on screen into the value of the page's hidden :func:`report_input`.
Until a page reports, every panel counts as shown (a notebook, a client without a browser).
"""

from __future__ import annotations

import panel as pn

__all__ = [
    "KEY_PREFIX",
    "NONE_SHOWN",
    "SCAN_INTERVAL_MS",
    "SCRIPT",
    "SINK_CLASS",
    "WATCH_CLASS",
    "report_input",
    "shown_keys",
]

#: The page's script (served by the app, loaded after BokehJS): its constants are these.
SCRIPT = "assets/on_screen.js"
#: Class of every element whose visibility is reported.
WATCH_CLASS = "ns-watch"
#: Prefix of the class carrying the element's key (``ns-key-swarm-3``).
KEY_PREFIX = "ns-key-"
#: Class of the hidden text input the script writes its reports into.
SINK_CLASS = "ns-on-screen"
#: The report of a page that shows no watched element (the empty value means "no report").
NONE_SHOWN = "-"
#: Milliseconds between two scans of the page for watched elements not yet observed.
SCAN_INTERVAL_MS = 1500


def report_input() -> pn.widgets.TextInput:
    """The hidden input whose value is the page's report (a plain Bokeh property: a report costs
    the server one property change)."""
    return pn.widgets.TextInput(value="", visible=False, css_classes=[SINK_CLASS], margin=0)


def shown_keys(report: str) -> frozenset[str] | None:
    """The keys of a report (space-separated keys, :data:`NONE_SHOWN` for none); None for no
    report yet."""
    if not report:
        return None
    return frozenset(report.split()) - {NONE_SHOWN}
