"""Which panels the page shows: the browser tells the server, so that a playing run redraws only
what someone can see.

While a run plays, each tab redraws its hero every frame and its other panels a few times a
second (:meth:`app.tabs.base.SimulationTab._update_plots`). Most of them are below the fold: on
a 1024 × 768 projector, or a laptop, the page shows the hero and perhaps one more panel. Their
redraws cost the server a third of its event loop with twenty pages playing the tokens tab
(py-spy), and the browser a repaint of figures nobody sees (the swarm tab painted 20 frames/s
with them, 24 without, bench_app). A tab skips the panels the page reports off the screen while
it plays, marks them stale, and redraws them when they come on screen or the run stops.

:class:`OnScreen` is an invisible ``JSComponent``. Its script watches every element
with the class ``ns-watch`` (a tab tags each panel's layout with it and ``ns-key-<key>``) with
an ``IntersectionObserver`` and reports the keys of those on screen, space-separated, in
:attr:`OnScreen.shown`. Panels built later are found by a scan every
:data:`SCAN_INTERVAL_MS`. Until a page reports, every panel counts as shown (a notebook, a
client without a browser).
"""

from __future__ import annotations

import param
from panel.custom import JSComponent

__all__ = ["KEY_PREFIX", "SCAN_INTERVAL_MS", "WATCH_CLASS", "OnScreen", "shown_keys"]

#: Class of every element whose visibility is reported.
WATCH_CLASS = "ns-watch"
#: Prefix of the class carrying the element's key (``ns-key-swarm-3``).
KEY_PREFIX = "ns-key-"
#: Milliseconds between two scans of the page for watched elements not yet observed.
SCAN_INTERVAL_MS = 1500
#: Pixels around the window within which an element counts as shown (one about to scroll in
#: is redrawn before it arrives).
MARGIN_PX = 200


def shown_keys(report: str) -> frozenset[str]:
    """The keys of a report (space-separated keys)."""
    return frozenset(report.split())


class OnScreen(JSComponent):
    """Reports the keys of the watched elements on screen in :attr:`shown`."""

    shown = param.String(default="", doc="Space-separated keys of the watched elements shown.")
    reports = param.Integer(default=0, doc="Incremented on every report.")

    # a JSComponent, not a ReactiveHTML: a ReactiveHTML re-renders its template for each change
    # that comes from the browser, which makes Bokeh walk the page's whole model graph again
    # (about 95 ms of the server's loop per report on a page of a thousand models, py-spy)
    _esm = f"""
      export function render({{ model }}) {{

        if (window.__noisescopeOnScreen) {{ window.__noisescopeOnScreen.sink = model; return; }}
        const store = window.__noisescopeOnScreen = {{sink: model}};
        // watched element -> whether it intersects the window (with the margin)
        const intersecting = new Map();
        const keyOf = (el) => {{
          for (const name of el.classList) if (name.startsWith('{KEY_PREFIX}'))
            return name.slice({len(KEY_PREFIX)});
          return null;
        }};
        let pending = null;
        const report = () => {{
          pending = null;
          const keys = new Set();
          for (const [el, on] of intersecting) if (on && el.isConnected) keys.add(keyOf(el));
          keys.delete(null);
          const text = [...keys].sort().join(' ');
          if (store.sink.shown === text) return;
          store.sink.shown = text;
          store.sink.reports = store.sink.reports + 1;
        }};
        const observer = new IntersectionObserver((entries) => {{
          for (const entry of entries) intersecting.set(entry.target, entry.isIntersecting);
          if (pending === null) pending = setTimeout(report, 100);
        }}, {{rootMargin: '{MARGIN_PX}px'}});
        const scan = (root) => {{
          for (const el of root.querySelectorAll('*')) {{
            if (el.classList.contains('{WATCH_CLASS}') && !intersecting.has(el)) {{
              intersecting.set(el, false);
              observer.observe(el);
            }}
            if (el.shadowRoot) scan(el.shadowRoot);
          }}
        }};
        const tick = () => {{
          let gone = false;
          for (const el of intersecting.keys()) if (!el.isConnected) {{
            intersecting.delete(el); observer.unobserve(el); gone = true;
          }}
          scan(document);
          if (gone && pending === null) pending = setTimeout(report, 100);
        }};
        tick();
        setInterval(tick, {SCAN_INTERVAL_MS});
      }}
    """
