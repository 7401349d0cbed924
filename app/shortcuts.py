"""Keyboard shortcuts for a lecturer (issue 12, item 2): Space plays or pauses, → and ← step
through the tab's presets, R resets, ? shows the list. They work from anywhere on the page
except inside a text field, a select box or a slider (where the keys keep their own meaning).
The same element reports the browser's Back and Forward (``popstate``), so the app can move to
the tab and parameters of the link it went back to (item 9), and arranges the tab bar for the
keyboard and narrow screens (items 1 and 10): the keyboard reaches the tab bar right after the
header's controls, before the open tab's content and the sidebar's controls, and the open tab's
header is scrolled into view when the strip of titles is wider than the window.

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

    # No ${param} in the template: a param shown there is a child of the element, and Panel
    # answered each change of one made in the browser by sending the element new children (a
    # new Markdown pane per param), so the browser rendered the element again and Bokeh laid
    # out the whole page again (about 95 ms of the browser's main thread per key press, Chrome
    # profile of a tab at 1024 x 768). The params still reach Python because the script assigns
    # them as ``data.<param> =`` (ReactiveHTML links the params its scripts assign, see its
    # ``_script_assignment``): a key press is one change of the data model, nothing redrawn.
    _template = '<div id="shortcuts" style="display: none"></div>'

    _scripts = {
        "render": """
        window.__noisescopeShortcuts = data;
        if (window.__noisescopeShortcutsInstalled) return;
        window.__noisescopeShortcutsInstalled = true;
        window.addEventListener('popstate', () => {
          // the element's data, named `data` so that its params reach Python (see _template)
          const data = window.__noisescopeShortcuts;
          const search = window.location.search;
          data.popped = search;
          data.pops = data.pops + 1;
          // Panel's Location still holds the link the app wrote last, so writing that link
          // again (the tab Back left, clicked once more) would change nothing and never reach
          // the address bar. Tell it, and the server, the link Back moved to; it pushes every
          // change onto the history, which here would cut the forward history: for this one
          // change a push replaces the current entry (with the same link) instead.
          for (const doc of Bokeh.documents) for (const model of doc.all_models) {
            if (!/Location$/.test(model.type) || model.search === search) continue;
            const push = window.history.pushState;
            window.history.pushState = (...args) => window.history.replaceState(...args);
            try { model.search = search; } finally { window.history.pushState = push; }
          }
        });
        // The keyboard follows the document's order. The template puts the sidebar (the open
        // tab's controls) before the main area, and Bokeh puts a tab bar after its tabs'
        // content: move the sidebar after the main area (CSS still draws it on the left, see
        // SIDEBAR_FIRST in app/main.py) and the tab bar before the content (its grid area
        // keeps it on top). The open tab's header is scrolled into the strip's view.
        const host = (root) => {
          for (const el of root.querySelectorAll('*')) {
            if (!el.shadowRoot) continue;
            if (el.classList.contains('ns-tabs')) return el;
            const found = host(el.shadowRoot);
            if (found) return found;
          }
          return null;
        };
        // the open tab's title is scrolled into view when it changes or the strip is resized,
        // not on every change in the tabs (a title the visitor scrolled to stays in view)
        let tabs = null, strip = null, shown = null;
        const resize = new ResizeObserver(() => { shown = null; arrange(); });
        const arrange = () => {
          const main = document.getElementById('main');
          const sidebar = document.getElementById('sidebar');
          const after = Node.DOCUMENT_POSITION_FOLLOWING;
          if (main && sidebar && sidebar.compareDocumentPosition(main) & after) main.after(sidebar);
          if (!tabs || !tabs.isConnected) tabs = host(document);
          if (!tabs) return false;
          const root = tabs.shadowRoot;
          const header = root.querySelector('.bk-header');
          const first = [...root.children].find((el) => !['STYLE', 'LINK'].includes(el.tagName));
          if (header && first && first !== header) root.insertBefore(header, first);
          const wrapper = root.querySelector('.bk-headers-wrapper');
          const active = root.querySelector('.bk-tab.bk-active');
          if (wrapper && wrapper !== strip) { strip = wrapper; resize.observe(wrapper); }
          if (wrapper && active && active !== shown) {
            shown = active;
            const box = wrapper.getBoundingClientRect(), tab = active.getBoundingClientRect();
            if (tab.left < box.left) wrapper.scrollLeft -= box.left - tab.left;
            else if (tab.right > box.right) wrapper.scrollLeft += tab.right - box.right;
          }
          if (!root.__nsArranged) {
            root.__nsArranged = true;
            new MutationObserver(() => arrange()).observe(
              root, {childList: true, subtree: true, attributes: true, attributeFilter: ['class']});
          }
          return true;
        };
        const start = (left) => { if (!arrange() && left > 0) setTimeout(start, 200, left - 1); };
        start(150);  // the tab bar renders at about the same time as this element: up to 30 s
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
          const data = window.__noisescopeShortcuts;  // named so on purpose, see _template
          data.action = action;
          data.presses = data.presses + 1;
        });
        """
    }
