"""The Swarm escapes tab in a real browser: what a person sees and can do."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from app.browser import click_button, hook_state, install_update_hook

TAB = "?tab=swarm"


def chip(page: Page, label: str) -> str:
    selector = f".ns-chip:has(.ns-chip-label:text-is('{label}')) .ns-chip-value"
    return page.locator(selector).first.inner_text()


def chip_locator(page: Page, label: str):
    return page.locator(f".ns-chip:has(.ns-chip-label:text-is('{label}')) .ns-chip-value").first


def test_preset_plays_and_the_swarm_moves(open_app: Callable[..., Page], screenshot) -> None:
    page = open_app(TAB + "&preset=Small-noise+gap")
    expect(page.locator(".bk-tab.bk-active")).to_have_text("Swarm escapes")
    assert chip(page, "β(t)") == "100" and chip(page, "σ(t)") == "0.18"
    assert chip(page, "t") == "0.00"
    install_update_hook(page)
    before = len(hook_state(page)["updates"])
    click_button(page, "Play")
    expect(chip_locator(page, "t")).not_to_have_text("0.00", timeout=15_000)
    page.wait_for_timeout(1500)
    click_button(page, "Pause")
    assert len(hook_state(page)["updates"]) > before + 5  # particles were re-sent frame by frame
    page.wait_for_timeout(500)  # the readouts refresh at 2 Hz while playing, then once more
    paused = chip(page, "t")
    page.wait_for_timeout(500)
    assert chip(page, "t") == paused and float(paused) > 0
    screenshot(page, "swarm-after-play")


def test_hitting_time_study_runs_with_progress(open_app: Callable[..., Page], screenshot) -> None:
    page = open_app(TAB + "&n_runs=20&t_max=20")
    button = page.locator("button:has-text('Run hitting-time study')").first
    button.scroll_into_view_if_needed()
    button.click()
    card = page.locator(".ns-panel:has-text('Hitting times over many runs')").first
    expect(
        card.locator(".bk-panel-models-markup-HTML, .bk-Progress, progress").first
    ).to_be_attached()
    expect(card).to_contain_text("Done.", timeout=60_000)
    expect(card).to_contain_text("dual annealing", timeout=10_000)
    expect(card).to_contain_text("softmin")
    screenshot(page, "swarm-study")


def test_garbage_link_is_clamped_with_a_notice(open_app: Callable[..., Page]) -> None:
    page = open_app(TAB + "&beta0=99999&sigma0=banana&objective=%3Cb%3E")
    notice = page.locator(".ns-url-notice").first
    expect(notice).to_be_visible()
    for fragment in ("beta0", "sigma0", "objective"):
        expect(notice).to_contain_text(fragment)
    assert chip(page, "β(t)") == "1e+03"  # clamped to the bound and still running
    click_button(page, "Step")
    expect(chip_locator(page, "t")).not_to_have_text("0.00", timeout=15_000)


def test_fits_a_projector_with_the_story_and_the_race_above_the_fold(
    page: Page, open_app: Callable[..., Page], screenshot
) -> None:
    # issue 12: at 1024 × 768 (sidebar open) nothing of the tab runs off the right edge, the
    # preset's story is shown, and both landscapes (swarm and ghosts) are fully on screen
    page.set_viewport_size({"width": 1024, "height": 768})
    open_app(TAB)
    expect(page.locator(".ns-story").first).to_contain_text("Escape race (teaching default).")
    width = page.evaluate("() => document.documentElement.clientWidth")
    plots = page.locator(".bk-Figure")
    expect(plots.first).to_be_visible()
    boxes = [plots.nth(i).bounding_box() for i in range(plots.count())]
    shown = [b for b in boxes if b is not None and b["width"] > 0]
    assert len(shown) >= 2
    for box in shown:
        assert box["x"] + box["width"] <= width + 0.5, box
    hero = sorted(shown, key=lambda b: (b["y"], b["x"]))[:2]
    assert all(b["y"] + b["height"] <= 768 for b in hero), hero  # the race, above the fold
    assert hero[0]["y"] == hero[1]["y"]  # side by side
    for selector in (".ns-chip", ".ns-panel"):
        items = page.locator(selector)
        for i in range(items.count()):
            box = items.nth(i).bounding_box()
            if box is not None and box["width"] > 0:
                assert box["x"] + box["width"] <= width + 0.5, (selector, i, box)
    screenshot(page, "swarm-1024")
