"""Smoke test of the served app through the browser harness: every registered tab opens from
its link and shows a rendered plot, with no browser error (the ``page`` fixture checks)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

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
