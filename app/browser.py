"""Headless Chromium helpers shared by the browser tests (``tests/ui``) and the app benchmark.

Needs the ``test`` or ``bench`` extra (Playwright) and Debian's chromium: Playwright drives the
system browser through ``executable_path``; its own browser download is never used.

Panel 1.9 renders every component inside an open shadow root. Playwright's CSS selectors
(``page.locator(".bk-Canvas")``) pierce open shadow roots, but ``document.querySelector`` in
page JavaScript does not, so the helpers below locate elements from Python and only ask
JavaScript about ``window.Bokeh``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM_ENV = "NOISESCOPE_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: Flags for a quiet, reproducible headless run (no sandbox: CI containers run as root).
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Playwright selector of a plot canvas that is actually on screen (not in a hidden tab).
VISIBLE_PLOT = ".bk-Canvas >> visible=true"

#: True once Bokeh has built the page's document (the websocket session is up).
BOKEH_DOCUMENT_JS = "() => !!window.Bokeh && Bokeh.documents.length > 0"

#: True once the Bokeh view that owns ``element`` (e.g. a plot's ``.bk-Canvas``, which lives in
#: the shadow root of its plot view's element) has finished rendering. Per view on purpose: a
#: document-wide ``is_idle`` never comes for pages holding a plot that cannot finish (e.g. a log
#: axis over empty data) or one inside a collapsed card.
_VIEW_FINISHED_JS = """
(element) => {
  const host = element.getRootNode().host;
  const find = (view) => {
    if (view.el === host) return view;
    if (typeof view.children !== "function") return null;
    for (const child of view.children()) {
      const found = find(child);
      if (found) return found;
    }
    return null;
  };
  for (const root of Bokeh.index) {
    const view = find(root);
    if (view) return view.has_finished();
  }
  return false;
}
"""

#: Installs ``window.__nsHook``: times of server-made changes that touch models whose type matches
#: the pattern (default: data sources, i.e. plotted data; a replaced figure brings new ones), of
#: the animation frames that painted them, and of pointer releases. ``ev.sync === false`` marks a
#: change applied from a server message (the browser's own widget edits have ``sync === true``).
_HOOK_JS = """
(pattern) => {
  if (window.__nsHook) return true;
  const re = new RegExp(pattern);
  const hook = {updates: [], frames: [], releases: [], pending: false};
  // A change counts if it targets a matching model or brings one in (e.g. a rebuilt figure).
  const brings = (value) => {
    if (Array.isArray(value)) return value.some(brings);
    if (value == null || typeof value.references !== "function") return false;
    for (const ref of value.references()) if (re.test(ref.type)) return true;
    return false;
  };
  const onChange = (ev) => {
    if (ev.sync !== false || ev.model == null) return;
    if (!re.test(ev.model.type) && !brings(ev.value)) return;
    hook.updates.push(performance.now());
    if (hook.pending) return;
    hook.pending = true;
    // First rAF: the frame that paints this update starts; second rAF: it has been painted.
    requestAnimationFrame(() => {
      hook.pending = false;
      requestAnimationFrame(() => hook.frames.push(performance.now()));
    });
  };
  for (const doc of Bokeh.documents) doc.on_change(onChange, false);
  window.addEventListener("pointerup", () => hook.releases.push(performance.now()), true);
  window.__nsHook = hook;
  return true;
}
"""


#: Installs ``window.__nsSent[name]``: the attributes the server changes on the ReactiveHTML
#: elements whose data model's type starts with ``name`` (``ev.sync === false``: changes the
#: browser makes itself are not recorded).
_SENT_TO_ELEMENT_JS = """
(name) => {
  const sent = ((window.__nsSent = window.__nsSent || {})[name] = []);
  for (const doc of Bokeh.documents) {
    doc.on_change((ev) => {
      const model = ev.model;
      if (ev.sync !== false || model == null || !/ReactiveHTML$/.test(model.type)) return;
      if (model.data && model.data.type.startsWith(name)) sent.push(ev.attr);
    }, false);
  }
}
"""
#: The value of attribute ``attr`` of the data of the first ReactiveHTML element whose data
#: model's type starts with ``name``.
_ELEMENT_DATA_JS = """
([name, attr]) => {
  for (const doc of Bokeh.documents) {
    for (const model of doc._all_models.values()) {
      if (/ReactiveHTML$/.test(model.type) && model.data && model.data.type.startsWith(name)) {
        return model.data[attr];
      }
    }
  }
  return null;
}
"""


def record_changes_sent_to(page: Page, name: str) -> None:
    """Start recording the changes the server makes to the ReactiveHTML elements named
    ``name`` (the class name of the Python element, e.g. ``Shortcuts``):
    :func:`changes_sent_to` lists them."""
    page.evaluate(_SENT_TO_ELEMENT_JS, name)


def changes_sent_to(page: Page, name: str) -> list[str]:
    """The attributes changed by the server on the elements named ``name`` since
    :func:`record_changes_sent_to`."""
    return page.evaluate("(name) => window.__nsSent[name]", name)


def element_data(page: Page, name: str, attr: str) -> Any:
    """The value of param ``attr`` of the first ReactiveHTML element named ``name`` in the page."""
    return page.evaluate(_ELEMENT_DATA_JS, [name, attr])


class BrowserMissing(RuntimeError):
    """The configured Chromium binary does not exist or is not executable."""


def chromium_path() -> Path:
    """Chromium binary: ``$NOISESCOPE_CHROMIUM`` or Debian's ``/usr/bin/chromium``."""
    return Path(os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM)


def launch_chromium(playwright: Playwright) -> Browser:
    """Launch headless system Chromium. Playwright gives every launch a fresh temporary
    ``--user-data-dir``, so no profile state leaks between runs."""
    path = chromium_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BrowserMissing(
            f"Chromium not found at {path}. Browser tests need it: run 'make browser' "
            f"(installs Debian's chromium) or point ${CHROMIUM_ENV} at a Chromium binary."
        )
    return playwright.chromium.launch(
        executable_path=str(path), headless=True, args=list(CHROMIUM_ARGS)
    )


def wait_for_bokeh(page: Page, plot: str | None = VISIBLE_PLOT, timeout_ms: float = 60_000) -> None:
    """Wait until Bokeh has built the page's document and, unless ``plot`` is None, until the
    first element matching ``plot`` (default: a visible plot canvas) is on screen, the plot
    that owns it has finished rendering and the open tab holds all its panels (the first
    comes with the page, the others just after: :meth:`SimulationTab._build_rest`)."""
    from app.tabs.base import PANELS_READY

    page.wait_for_function(BOKEH_DOCUMENT_JS, timeout=timeout_ms)
    if plot is None:
        return
    target = page.locator(plot).first
    target.wait_for(state="visible", timeout=timeout_ms)
    page.wait_for_function(_VIEW_FINISHED_JS, arg=target.element_handle(), timeout=timeout_ms)
    if page.locator(".ns-panels").count():
        page.locator(f".{PANELS_READY}").first.wait_for(state="attached", timeout=timeout_ms)


def install_update_hook(page: Page, model_type_pattern: str = "DataSource$") -> None:
    """Start recording server-made updates of matching Bokeh models (see :func:`hook_state`).
    Call after :func:`wait_for_bokeh`; installing twice is a no-op."""
    page.evaluate(_HOOK_JS, model_type_pattern)


def hook_state(page: Page) -> dict[str, Any]:
    """``updates``, ``frames`` and ``releases`` (``performance.now()`` ms) plus ``now``."""
    return page.evaluate("() => ({...window.__nsHook, pending: undefined, now: performance.now()})")


def drag_slider(page: Page, handle: str, dx: float, steps: int = 8, hold_ms: float = 0) -> None:
    """Press the first slider handle matching ``handle``, move it ``dx`` pixels sideways in
    ``steps`` moves, hold still ``hold_ms`` and release it (a person's drag: the throttled
    value Panel sends to the server changes on release)."""
    box = page.locator(handle).first.bounding_box()
    if box is None:
        raise AssertionError(f"slider handle {handle!r} is not on screen")
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=steps)
    if hold_ms:
        page.wait_for_timeout(hold_ms)
    page.mouse.up()


def click_button(page: Page, name: str) -> None:
    """Click the first button whose accessible name is ``name``, with an icon prefix at most
    ("▶ Play", "❚❚ Pause", "Step"): an exact name, because the sidebar follows the main area
    in the page and a panel's "Step …" button would come first by substring."""
    label = re.compile(rf"^\W*{re.escape(name)}$")
    page.get_by_role("button", name=label).first.click()


def save_screenshot(page: Page, path: Path) -> Path:
    """Full-page PNG at ``path`` (parent folders created); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
