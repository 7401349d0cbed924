"""The Exploration maps tab in a real browser: open at k = 0, play the explorer, reveal the
learning curves, and the lecture presets' story panel on top."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from app.browser import click_button, drag_slider

TAB = "?tab=exploration"


def chip_locator(page: Page, label: str):
    return page.locator(
        f".ns-chip:has(.ns-chip-label:text-is('{label}')) .ns-chip-value >> visible=true"
    ).first


def slider_handle(title: str) -> str:
    return f".bk-input-group:has(.bk-slider-title:has-text('{title}')) .noUi-handle"


def test_play_the_explorer_then_the_learning_curves(
    open_app: Callable[..., Page], screenshot: Callable[[Page, str], object]
) -> None:
    page = open_app(TAB)
    # a run opens at π₀: its visits, and the 22 poorly visited cells the next policy targets
    expect(chip_locator(page, "iteration k")).to_have_text("0 / 7")
    expect(chip_locator(page, "poorly visited |Uₖ₊₁|")).to_have_text("22 / 67")
    screenshot(page, "exploration-k0")
    # Step: a batch of π₁'s episodes joins the mixture (ten batches per iteration)
    click_button(page, "Step")
    expect(chip_locator(page, "episodes run")).to_have_text("π₁: 10%", timeout=15_000)
    # Play: four frames a second, one iteration every 2.5 s; Pause stops it
    click_button(page, "Play")
    expect(chip_locator(page, "iteration k")).to_have_text("2 / 7", timeout=15_000)
    click_button(page, "Pause")
    page.wait_for_timeout(600)  # a frame already on its way still lands
    paused = chip_locator(page, "episodes run").inner_text()
    page.wait_for_timeout(1500)
    assert chip_locator(page, "episodes run").inner_text() == paused
    # scrub to the last iteration: U is empty (the explorer's stopping rule)
    drag_slider(page, slider_handle("Explorer iteration shown k"), dx=2000)
    expect(chip_locator(page, "iteration k")).to_have_text("7 / 7", timeout=15_000)
    expect(chip_locator(page, "poorly visited |Uₖ₊₁|")).to_have_text("0 / 67")

    # the first ticks of the session computed the curves; none is shown before Play reaches
    # them, "Show all updates" shows them whole
    table = page.locator(".ns-metric-table").first
    expect(table).to_contain_text("iters to 0.9 V*", timeout=30_000)
    expect(table).to_contain_text("222")  # ρ-restart, teaching default (spec ≈220)
    page.locator("button:has-text('Show all updates')").first.click()
    expect(page.locator(".bk-slider-title:has-text('PG updates shown t')").first).to_contain_text(
        "2000", timeout=15_000
    )
    page.locator("button:has-text('Run learning curves')").first.click()
    expect(page.locator("pre:has-text('Done.')").first).to_be_visible(timeout=30_000)
    page.locator(".ns-metric-table").first.scroll_into_view_if_needed()
    screenshot(page, "exploration-curves")


def test_lock_preset_puts_the_curves_on_top_and_plays_them(
    open_app: Callable[..., Page], screenshot
) -> None:
    page = open_app(TAB + "&preset=Combination+lock")
    story = page.locator(".ns-story").first
    expect(story).to_contain_text("A 16-state lock")
    expect(chip_locator(page, "iteration k")).to_have_text("0 / 16")
    # the learning panel is the story's panel: above the explorer maps
    curves = page.locator(".bk-slider-title:has-text('PG updates shown t')").first
    maps = page.locator(".bk-slider-title:has-text('Explorer iteration shown k')").first
    assert curves.bounding_box()["y"] < maps.bounding_box()["y"]
    expect(page.locator(".ns-metric-table").first).to_contain_text("μ (explorer)", timeout=30_000)
    # Play: the explorer's short act (16 steps, 4 s), then the curves grow
    click_button(page, "Play")
    expect(curves).not_to_contain_text("shown t: 0", timeout=20_000)
    click_button(page, "Pause")
    assert curves.bounding_box()["y"] < 768  # what Play moves is above the fold
    page.locator("button:has-text('environment steps')").first.click()
    expect(page.locator("text=nominal").first).to_be_visible(timeout=15_000)
    screenshot(page, "exploration-lock")


def test_garbage_link_is_clamped_with_a_notice(open_app: Callable[..., Page]) -> None:
    page = open_app(TAB + "&size=999&coverage_c=-1&layout=maze&gamma=banana")
    notice = page.locator(".ns-url-notice").first
    expect(notice).to_be_visible()
    for fragment in ("size=999", "layout=maze", "gamma=banana"):
        expect(notice).to_contain_text(fragment)
    # the layout kept its default, shown in words; c clamped to 0.01: one explorer iteration
    layout = page.locator(".bk-input-group:has(label:text-is('Layout')) select").first
    expect(layout).to_have_value("Four rooms")
    expect(chip_locator(page, "iteration k")).to_have_text("0 / 1")
