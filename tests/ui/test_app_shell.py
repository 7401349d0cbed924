"""Smoke test of the served app through the browser harness: every registered tab opens from
its link and shows a rendered plot, with no browser error (the ``page`` fixture checks)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from app.browser import wait_for_bokeh
from app.main import TABS


def test_landing_page_lists_every_tab(open_app: Callable[..., Page]) -> None:
    page = open_app(plot=None)
    headers = page.locator(".bk-tab").all_inner_texts()
    assert headers[0] == "About"
    assert [tab.title for tab in TABS] == headers[1:]


@pytest.mark.parametrize("slug", [tab.slug for tab in TABS])
def test_tab_link_renders_a_plot(
    slug: str, open_app: Callable[..., Page], screenshot: Callable[[Page, str], object]
) -> None:
    page = open_app(f"?tab={slug}")  # waits for a visible, fully rendered plot
    title = next(tab.title for tab in TABS if tab.slug == slug)
    assert "bk-active" in (
        page.locator(".bk-tab", has_text=title).first.get_attribute("class") or ""
    )
    screenshot(page, f"tab-{slug}")


def test_tabs_are_built_when_first_opened(open_app: Callable[..., Page]) -> None:
    """Views are built lazily: from the landing page, a card's button and then a tab header each
    open a tab that renders its plots, and the link follows the open tab."""
    page = open_app(plot=None)
    first, second = TABS[0], TABS[-1]
    page.locator("button", has_text=f"Open {first.title}").first.click()
    wait_for_bokeh(page)
    page.wait_for_url(f"**tab={first.slug}**")
    page.locator(".bk-tab", has_text=second.title).first.click()
    wait_for_bokeh(page)
    page.wait_for_url(f"**tab={second.slug}**")
    page.locator(".bk-tab", has_text=first.title).first.click()  # built once, shown again
    wait_for_bokeh(page)
    page.wait_for_url(f"**tab={first.slug}**")


#: How far the page is scrolled: the window, or the template's scrolling main area.
SCROLLED_JS = (
    "Math.max(window.scrollY, ...[...document.querySelectorAll('#main, .main, #content')]"
    ".map(el => el.scrollTop))"
)


def test_a_card_s_button_opens_its_tab_at_its_top(open_app: Callable[..., Page]) -> None:
    """The About page scrolled down to the last card: its button opens the tab at its top
    (Play and the hero), not where the About page was scrolled to."""
    page = open_app(plot=None)
    last = TABS[-1]
    button = page.locator("button", has_text=f"Open {last.title}").first
    button.scroll_into_view_if_needed()
    assert page.evaluate(SCROLLED_JS) > 0
    button.click()
    page.wait_for_url(f"**tab={last.slug}**")
    page.wait_for_function(f"({SCROLLED_JS}) === 0", timeout=5_000)


def test_title_names_the_tab_and_the_theme_survives_tab_switches(
    open_app: Callable[..., Page],
) -> None:
    first, second = TABS[1], TABS[3]
    page = open_app(f"?tab={first.slug}&theme=dark")
    expect(page).to_have_title(f"{first.title} — noisescope", timeout=15_000)
    page.locator(".bk-tab", has_text=second.title).first.click()
    expect(page).to_have_title(f"{second.title} — noisescope", timeout=15_000)
    page.wait_for_url(f"**tab={second.slug}**theme=dark**")
    icons = page.evaluate("[...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")
    assert any(href.startswith("data:image/svg+xml") for href in icons), icons
