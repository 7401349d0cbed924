"""Keyboard shortcuts for a lecturer (issue 12, item 2): Space plays or pauses, → and ← step
through the tab's presets, R resets, ? shows the list. They work from anywhere on the page
except inside a text field, a select box or a slider (where the keys keep their own meaning).
The same element reports the browser's Back and Forward (``popstate``), so the app can move to
the tab and parameters of the link it went back to (item 9).

:class:`Shortcuts` is an invisible ``ReactiveHTML`` element whose script listens on the
document and reports each key as an action name; the app shell (:mod:`app.main`) applies it
to the open tab.
"""

from __future__ import annotations

import param
from panel.reactive import ReactiveHTML

__all__ = ["HELP", "Shortcuts"]

#: What the help overlay lists (Markdown).
HELP = """### Keyboard shortcuts

| key | does |
|---|---|
| Space | play / pause |
| → | next preset |
| ← | previous preset |
| R | reset the run |
| ? | this list |

The keys work anywhere on the page except while typing in a field or moving a slider.
"""


class Shortcuts(ReactiveHTML):
    """Reports ``action`` ("play", "next", "previous", "reset", "help") and bumps ``presses``
    on every shortcut key the page receives."""

    action = param.String(default="", doc="The last shortcut's action.")
    presses = param.Integer(default=0, doc="Incremented on every shortcut (same key twice too).")
    popped = param.String(default="", doc="The query string Back or Forward moved to.")
    pops = param.Integer(default=0, doc="Incremented on every Back or Forward.")

    # the params appear in the template, each in an element with an id: ReactiveHTML sends a
    # change made in the browser to Python only for params bound that way
    _template = (
        '<div id="shortcuts" style="display: none">'
        '<span id="action">${action}</span><span id="presses">${presses}</span>'
        '<span id="popped">${popped}</span><span id="pops">${pops}</span>'
        "</div>"
    )

    _scripts = {
        "render": """
        window.__noisescopeShortcuts = data;
        if (window.__noisescopeShortcutsInstalled) return;
        window.__noisescopeShortcutsInstalled = true;
        window.addEventListener('popstate', () => {
          const sink = window.__noisescopeShortcuts;
          sink.popped = window.location.search;
          sink.pops = sink.pops + 1;
        });
        const actions = {' ': 'play', 'ArrowRight': 'next', 'ArrowLeft': 'previous',
                         'r': 'reset', 'R': 'reset', '?': 'help'};
        document.addEventListener('keydown', (event) => {
          const action = actions[event.key];
          if (!action || event.ctrlKey || event.metaKey || event.altKey) return;
          const target = event.composedPath()[0] || event.target;
          const tag = (target.tagName || '').toLowerCase();
          const role = (target.getAttribute && target.getAttribute('role')) || '';
          if (['input', 'textarea', 'select'].includes(tag) || target.isContentEditable) return;
          if (role === 'slider' || (tag === 'button' && event.key === ' ')) return;
          event.preventDefault();
          const sink = window.__noisescopeShortcuts;
          sink.action = action;
          sink.presses = sink.presses + 1;
        });
        """
    }
