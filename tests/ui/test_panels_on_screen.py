"""The page reports which panels it shows (app/on_screen.py): the hero at the top, a panel once
it is scrolled to, nothing of a tab that is not open."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from app.on_screen import SCAN_INTERVAL_MS

#: The page's last report (the value the script wrote into the hidden input), or "".
REPORT = "() => (window.__noisescopeOnScreen && window.__noisescopeOnScreen.shown) || ''"
#: How long a change takes to be reported: a scan for new panels, then the 100 ms debounce.
REPORT_MS = SCAN_INTERVAL_MS + 1000


def shown(page: Page) -> set[str]:
    return set((page.evaluate(REPORT) or "").split())


def wait_for_report(page: Page, predicate: str) -> set[str]:
    """Wait until the reported keys (a JS ``keys`` Set) satisfy ``predicate``; return them."""
    page.wait_for_function(
        f"() => {{ const keys = new Set(({REPORT})().split(' ')); return {predicate}; }}",
        timeout=REPORT_MS + 10_000,
    )
    return shown(page)


def test_the_page_reports_the_panels_on_screen(open_app: Callable[..., Page]) -> None:
    page = open_app("?tab=swarm")
    keys = wait_for_report(page, "keys.has('swarm-0')")
    assert "swarm-0" in keys  # the hero
    last = page.locator(".ns-key-swarm-5").first  # the diagnostics, at the bottom
    assert "swarm-5" not in keys
    last.scroll_into_view_if_needed()
    keys = wait_for_report(page, "keys.has('swarm-5')")
    assert "swarm-0" not in keys  # scrolled out of view (more than the 200 px margin)
    assert not any(key.startswith("tokens-") for key in keys)

    # another tab opened: its hero is shown, the swarm's panels are not
    page.locator(".bk-tab", has_text="Token synchronization").first.click()
    keys = wait_for_report(page, "keys.has('tokens-0')")
    assert not any(key.startswith("swarm-") for key in keys)
