"""Names for the controls Bokeh and the template draw without one (issue 12, item 10).

Screen readers announce a control by its accessible name. Bokeh's slider handles, the number
inputs' up/down buttons, checkboxes whose label is a sibling, and the template's theme switch
have none, and the sidebar's list holds plain divs. :class:`AccessibleNames` is an invisible
``ReactiveHTML`` element whose script walks the page (through the shadow roots) and gives each
such element a name taken from the label the page already shows. It repeats every few seconds,
cheaply, because panels and tabs render their widgets lazily.
"""

from __future__ import annotations

import param
from panel.reactive import ReactiveHTML

__all__ = ["FOCUS_RING", "AccessibleNames"]

#: Every focusable element shows where the keyboard is (inside every component's shadow root).
FOCUS_RING = ":focus-visible { outline: 3px solid #f2a900 !important; outline-offset: 2px; }"


class AccessibleNames(ReactiveHTML):
    """Gives unnamed controls an accessible name (see module docstring)."""

    named = param.Integer(default=0, doc="Controls named by the last pass (for tests).")

    # No ${named} in the template: a param shown there is a child of the element, and Panel
    # answers each change of it made in the browser with new children, which re-renders the
    # element and lays out the whole page (app/shortcuts.py). The script's ``data.named =``
    # still sends it to Python (ReactiveHTML links the params its scripts assign).
    _template = '<div id="names" style="display: none"></div>'

    _scripts = {
        "render": """
        if (window.__noisescopeNames) return;
        window.__noisescopeNames = true;
        const text = (el) => (el && el.textContent || '').replace(/\\s+/g, ' ').trim();
        let count = 0;
        const name = (el, label) => { if (label && !el.getAttribute('aria-label')) {
                                        el.setAttribute('aria-label', label.slice(0, 80));
                                        count += 1; } };
        const pass = (root) => {
          for (const el of root.querySelectorAll('*')) {
            if (el.shadowRoot) pass(el.shadowRoot);
          }
          for (const handle of root.querySelectorAll('[role="slider"]')) {
            const title = root.querySelector('.bk-slider-title');
            name(handle, title ? text(title).replace(/:.*$/, '') || text(title) : 'slider');
          }
          for (const button of root.querySelectorAll('.bk-spin-btn-up')) name(button, 'increase');
          for (const button of root.querySelectorAll('.bk-spin-btn-down')) name(button, 'decrease');
          for (const button of root.querySelectorAll('.copybtn')) name(button, 'copy the example');
          for (const box of root.querySelectorAll('input[type="checkbox"]')) {
            // a group's boxes sit in <label>s; Bokeh's lone Checkbox puts its box and then its
            // label (div.bk-label) at the top of its shadow root, where the box has no parent
            // element (each of them was named 'checkbox')
            const next = box.nextElementSibling;
            const sibling = next && next.classList.contains('bk-label') ? next : null;
            name(box, text(box.closest('label') || sibling || box.parentElement) || 'checkbox');
          }
          for (const input of root.querySelectorAll('input:not([type="checkbox"]), select')) {
            const group = input.closest('.bk-input-group');
            const label = group && group.querySelector('label');
            name(input, text(label) || (input.type === 'file' ? 'choose a file to upload' : ''));
          }
          for (const list of root.querySelectorAll('ul.nav'))
            list.setAttribute('role', 'presentation');
          const theme = root.querySelector('#theme-switch, .theme-switch input, fast-switch');
          if (theme) name(theme, 'dark theme');
        };
        const run = () => {
          count = 0;
          try { pass(document); } catch (error) { /* never break the page */ }
          if (count) data.named = data.named + count;
        };
        run();
        setInterval(run, 3000);
        """
    }
