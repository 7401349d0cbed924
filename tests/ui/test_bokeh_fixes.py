"""The repaint fixes of assets/bokeh_fixes.js in a real page: loaded, and legends that keep their
items while the data behind them changes, and still follow what they list."""

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
        "InlineStyleSheet._update",
        "LegendView._render_items",
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
