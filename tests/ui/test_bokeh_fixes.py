"""The repaint fixes of assets/bokeh_fixes.js in a real page: loaded; glyph renderers' empty
elements left alone while their data moves; legends that keep their items while the data behind
them changes, and still follow what they list; a plot that lays out only itself when its axes
change size."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from app.browser import click_button, hook_state, install_update_hook

TAB = "?tab=swarm"
#: The Langevin ghosts' legend entry: its renderer's data changes at every frame while playing.
LANGEVIN_ITEM = ".bk-item:has(.bk-label:text-is('Langevin'))"
CBO_ITEM = ".bk-item:has(.bk-label:text-is('CBO'))"
#: An entry of the time-series panel, whose legend hides a line when its entry is clicked.
MEAN_ITEM = ".bk-item:has(.bk-label:text-is('mean f'))"


def toggle(page: Page, label: str) -> None:
    """Click the visible checkbox labelled ``label`` (Panel puts the box and its label side by
    side in the widget's shadow root)."""
    text = page.locator(f".bk-label:text-is('{label}')").locator("visible=true").first
    text.evaluate("(el) => el.getRootNode().querySelector('input[type=checkbox]').click()")


def test_the_page_loads_every_bokeh_fix(open_app: Callable[..., Page]) -> None:
    # a BokehJS upgrade that renames a patched method makes the page quietly slow again: this
    # fails first, and says which fix to look at
    page = open_app(TAB)
    assert page.evaluate("() => Bokeh.__noisescopeFixes") == [
        "RendererView.update_position",
        "DataRendererView.update_position",
        "InlineStyleSheet._update",
        "LegendView._render_items",
        "PlotView._invalidate_layout_if_needed",
        "AbstractButtonView.connect_signals",
    ]


def test_a_legend_keeps_its_items_while_the_data_behind_them_changes(
    open_app: Callable[..., Page],
) -> None:
    page = open_app(TAB)
    item = page.locator(LANGEVIN_ITEM).first
    expect(item).to_be_visible()
    item.evaluate("(el) => { el.dataset.nsMark = 'kept'; }")
    install_update_hook(page)
    click_button(page, "Play")
    page.wait_for_function("() => window.__nsHook.frames.length >= 10", timeout=15_000)
    click_button(page, "Pause")
    assert len(hook_state(page)["updates"]) >= 10
    # BokehJS 3.9 alone rebuilds the entry (new element, new canvas) at every frame
    assert item.evaluate("(el) => el.isConnected && el.dataset.nsMark") == "kept"


def test_a_legend_still_follows_its_items_and_renderers(open_app: Callable[..., Page]) -> None:
    page = open_app(TAB)
    # an entry the server hides has no label: showing it again rebuilds the legend's items
    studies = page.locator(CBO_ITEM).count()  # the study panels list CBO too
    toggle(page, "CBO ghosts")
    expect(page.locator(CBO_ITEM)).to_have_count(studies + 1)
    expect(page.locator(f"{CBO_ITEM} canvas")).to_have_count(studies + 1)
    toggle(page, "CBO ghosts")
    expect(page.locator(CBO_ITEM)).to_have_count(studies)
    # a clicked entry (click_policy "hide") stays inactive while its data keeps changing
    mean = page.locator(MEAN_ITEM).first
    mean.scroll_into_view_if_needed()
    mean.click()
    expect(mean).to_have_class("bk-item bk-inactive")
    install_update_hook(page)
    click_button(page, "Play")
    page.wait_for_function("() => window.__nsHook.frames.length >= 20", timeout=15_000)
    click_button(page, "Pause")
    expect(mean).to_have_class("bk-item bk-inactive")
    mean.click()
    expect(mean).to_have_class("bk-item")


#: Counts style changes of every glyph renderer's element (an empty box in the plot's frame).
_WATCH_GLYPH_STYLES_JS = """(elements) => {
  window.__nsStyleWrites = 0;
  const observer = new MutationObserver((records) => { window.__nsStyleWrites += records.length; });
  for (const el of elements) observer.observe(el, {attributes: true, attributeFilter: ["style"]});
  return elements.length;
}"""


def test_glyph_renderers_elements_are_not_restyled_while_the_data_moves(
    open_app: Callable[..., Page],
) -> None:
    # BokehJS 3.9 moves each glyph renderer's (empty) element onto its data's box at every
    # paint: a style change per renderer per frame, and a style and layout pass forced by the
    # next read of a computed style
    page = open_app(TAB)
    glyphs = page.locator(".bk-GlyphRenderer").element_handles()
    assert page.evaluate(_WATCH_GLYPH_STYLES_JS, glyphs) >= 10
    install_update_hook(page)
    click_button(page, "Play")
    page.wait_for_function("() => window.__nsHook.frames.length >= 10", timeout=15_000)
    click_button(page, "Pause")
    assert page.evaluate("() => window.__nsStyleWrites") == 0


#: Marks the layout root's and one figure's layout passes, then asks that figure to lay out
#: again, as it does when its axes change size (``_needs_layout``), and repaints it.
_RELAYOUT_JS = """(frame_width) => {
  const figures = [];
  const walk = (view) => {
    if (view.model.type === "Figure" && view.is_displayed) figures.push(view);
    if (typeof view.children === "function") for (const child of view.children()) walk(child);
  };
  for (const root of Bokeh.index) walk(root);
  const plot = figures[0];
  let root = plot;
  while (root.parent != null && root.parent.compute_layout !== undefined) root = root.parent;
  if (frame_width !== null) plot.model.frame_width = frame_width;
  const calls = {root: 0, plot: 0};
  const count = (view, key) => {
    const after = view.after_layout;
    view.after_layout = function () { calls[key] += 1; return after.call(this); };
  };
  count(root, "root");
  count(plot, "plot");
  plot._needs_layout = true;
  plot.repaint();
  delete root.after_layout;
  delete plot.after_layout;
  return {calls, same_root: root === plot};
}"""


def test_a_plot_whose_axes_change_size_lays_out_only_itself(
    open_app: Callable[..., Page],
) -> None:
    page = open_app(TAB)
    result = page.evaluate(_RELAYOUT_JS, None)
    assert not result["same_root"]  # the figure sits in Panel's layouts
    # BokehJS 3.9 lays out the whole page (about 100 ms on the swarm tab) for every such change
    assert result["calls"] == {"root": 0, "plot": 1}


def test_a_plot_whose_size_follows_its_frame_still_lays_out_the_page(
    open_app: Callable[..., Page],
) -> None:
    page = open_app(TAB)
    # a fixed frame: the plot's outer box grows with its axes, its neighbours move
    result = page.evaluate(_RELAYOUT_JS, 300)
    assert result["calls"]["root"] >= 1


#: Marks the tokens tab's "Run R realizations" button element and records every change of its
#: ``disabled`` attribute (in ``window.__nsRunButton``).
WATCH_RUN_BUTTON_JS = """
() => {
  const state = (window.__nsRunButton = { changes: [], el: null });
  const find = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'BUTTON' && el.textContent.trim() === 'Run R realizations') return el;
      if (el.shadowRoot) { const found = find(el.shadowRoot); if (found) return found; }
    }
    return null;
  };
  state.el = find(document);
  new MutationObserver(() => state.changes.push(state.el.hasAttribute('disabled')))
    .observe(state.el, { attributes: true, attributeFilter: ['disabled'] });
}
"""


def test_a_button_disabled_and_enabled_keeps_its_element(open_app: Callable[..., Page]) -> None:
    """A job's Run button is disabled while the job runs and enabled after: the same element
    takes the attribute (BokehJS alone renders the button anew each time, and lays out the
    whole page)."""
    page = open_app("?tab=tokens")
    button = page.get_by_role("button", name="Run R realizations").first
    button.scroll_into_view_if_needed()
    expect(button).to_be_enabled(timeout=60_000)  # the start-up ensemble has finished
    page.evaluate(WATCH_RUN_BUTTON_JS)
    button.click()
    page.wait_for_function(
        "() => window.__nsRunButton.changes.join() === 'true,false'", timeout=60_000
    )
    assert page.evaluate("() => window.__nsRunButton.el.isConnected")
    expect(button).to_be_enabled()
