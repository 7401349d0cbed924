"""The Exploration maps tab in a real browser: scrub the explorer, run the learning curves."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from app.browser import drag_slider

TAB = "?tab=exploration"


def chip_locator(page: Page, label: str):
    return page.locator(
        f".ns-chip:has(.ns-chip-label:text-is('{label}')) .ns-chip-value >> visible=true"
    ).first


def k_handle() -> str:
    return ".bk-input-group:has(.bk-slider-title:has-text('k iteration shown')) .noUi-handle"


def test_scrub_the_explorer_and_run_the_learning_curves(
    open_app: Callable[..., Page], screenshot: Callable[[Page, str], object]
) -> None:
    page = open_app(TAB)
    expect(chip_locator(page, "k")).to_have_text("7 / 7")
    expect(chip_locator(page, "|U_{k+1}|")).to_have_text("0 / 67")  # U emptied at k = 8
    # scrub back to π₀: the poorly visited set of the uniform policy's visitation
    drag_slider(page, k_handle(), dx=-2000)
    expect(chip_locator(page, "k")).to_have_text("0 / 7", timeout=15_000)
    expect(chip_locator(page, "|U_{k+1}|")).to_have_text("22 / 67")
    screenshot(page, "exploration-k0")
    page.locator("button:has-text('Step')").first.click()
    expect(chip_locator(page, "k")).to_have_text("1 / 7", timeout=15_000)
    # Play advances the player by itself (one iteration per ~0.7 s), Pause stops it
    page.locator("button:has-text('Play')").first.click()
    expect(chip_locator(page, "k")).to_have_text("3 / 7", timeout=15_000)
    page.locator("button:has-text('Pause')").first.click()
    paused = chip_locator(page, "k").inner_text()
    page.wait_for_timeout(1500)
    assert chip_locator(page, "k").inner_text() == paused

    # the first ticks of the session fill the learning curves; then a rerun by the button
    table = page.locator(".ns-metric-table").first
    expect(table).to_contain_text("iters to 0.9 V*", timeout=30_000)
    expect(table).to_contain_text("222")  # ρ-restart, teaching default (spec ≈220)
    page.locator("button:has-text('Run learning curves')").first.click()
    expect(page.locator("pre:has-text('Done.')").first).to_be_visible(timeout=30_000)
    page.locator(".ns-metric-table").first.scroll_into_view_if_needed()
    screenshot(page, "exploration-curves")


def test_lock_preset_and_environment_steps_view(open_app: Callable[..., Page], screenshot) -> None:
    page = open_app(TAB + "&preset=Combination+lock")
    expect(chip_locator(page, "layout")).to_have_text("Combination lock")
    expect(chip_locator(page, "k")).to_have_text("16 / 16")
    table = page.locator(".ns-metric-table").first
    expect(table).to_contain_text("μ (explorer)", timeout=30_000)
    page.locator("button:has-text('environment steps')").first.click()
    expect(page.locator("text=nominal").first).to_be_visible(timeout=15_000)
    screenshot(page, "exploration-lock")


def test_garbage_link_is_clamped_with_a_notice(open_app: Callable[..., Page]) -> None:
    page = open_app(TAB + "&size=999&coverage_c=-1&layout=maze&gamma=banana")
    notice = page.locator(".ns-url-notice").first
    expect(notice).to_be_visible()
    for fragment in ("size=999", "layout=maze", "gamma=banana"):
        expect(notice).to_contain_text(fragment)
    expect(chip_locator(page, "layout")).to_have_text("Four rooms")
