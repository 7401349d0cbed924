"""The Token synchronization tab in a real browser: what a person sees and can do."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, expect

from app.browser import (
    click_button,
    drag_slider,
    hook_state,
    install_update_hook,
    wait_for_bokeh,
)
from app.tabs.tokens.hero import CAPTION_BASIS

TAB = "?tab=tokens"


def chip(page: Page, label: str) -> str:
    """Text of the readout chip with this label (the first one on the page)."""
    selector = f".ns-chip:has(.ns-chip-label:text-is('{label}')) .ns-chip-value"
    return page.locator(selector).first.inner_text()


def slider_handle(title: str) -> str:
    return f".bk-input-group:has(.bk-slider-title:has-text('{title}')) .noUi-handle"


def step_to(page: Page, layers: int) -> None:
    """Click Step until the layer counter reads ``layers`` (the teaching pace: one layer per
    click)."""
    counter = page.locator(".ns-chip:has(.ns-chip-label:text-is('layer k')) .ns-chip-value")
    for k in range(1, layers + 1):
        click_button(page, "Step")
        expect(counter.first).to_have_text(str(k), timeout=15_000)


def wait_chip_change(page: Page, label: str, old: str, timeout_ms: float = 15_000) -> str:
    """Wait until the chip no longer shows ``old``; return its new text."""
    expect(
        page.locator(f".ns-chip:has(.ns-chip-label:text-is('{label}')) .ns-chip-value").first
    ).not_to_have_text(old, timeout=timeout_ms)
    return chip(page, label)


def test_landing_page_has_a_card_per_tab_that_opens_it(
    open_app: Callable[..., Page], screenshot: Callable[[Page, str], object]
) -> None:
    page = open_app(plot=None)
    card = page.locator(".ns-tab-card").first
    expect(card).to_contain_text("common noise")
    expect(card.locator("a[href*='arxiv.org/abs/2604.26898']")).to_have_count(1)
    expect(card.locator("img")).to_have_count(1)  # the thumbnail
    screenshot(page, "landing")
    click_button(page, "Open Token synchronization")
    expect(page.locator(".bk-tab.bk-active")).to_have_text("Token synchronization")
    # the tab is built when first opened: allow for a busy machine
    expect(page.locator(".bk-Canvas >> visible=true").first).to_be_visible(timeout=60_000)


def test_slider_moves_theory_and_plots(open_app: Callable[..., Page]) -> None:
    page = open_app(TAB)
    before = chip(page, "λ_dist")
    assert before == "-2.000"  # ReLU at σ_n = 2: λ_dist = -σ_n²/2 (spec §6.2)
    install_update_hook(page)
    updates = hook_state(page)["updates"]
    drag_slider(page, slider_handle("σ_n noise strength"), dx=-60)
    after = wait_chip_change(page, "λ_dist", before)
    assert float(after) > float(before)  # less noise, slower synchronization
    assert len(hook_state(page)["updates"]) > len(updates)  # plot data was re-sent


def test_step_play_and_pause(open_app: Callable[..., Page], screenshot) -> None:
    # T = 40 is 8000 layers: the run cannot reach its horizon (and stop by itself) before Pause
    page = open_app(TAB + "&t_max=40")
    assert chip(page, "layer k") == "0"
    click_button(page, "Step")
    assert wait_chip_change(page, "layer k", "0") == "1"  # one layer per frame (the pace)
    click_button(page, "Play")
    page.wait_for_timeout(600)
    click_button(page, "Pause")
    # the button says Play once the server has stopped; frames already sent may still land
    expect(page.locator("button:has-text('Play')").first).to_be_visible(timeout=15_000)
    page.wait_for_timeout(1000)
    paused_at = chip(page, "layer k")
    assert int(paused_at) > 1
    page.wait_for_timeout(1000)
    assert chip(page, "layer k") == paused_at  # paused: nothing moves
    screenshot(page, "tokens-after-play")


def test_copied_link_reproduces_the_numbers(
    open_app: Callable[..., Page], browser, app_url: str
) -> None:
    page = open_app(TAB + "&activation=tanh&seed=3")
    drag_slider(page, slider_handle("σ_n noise strength"), dx=-40)
    page.wait_for_function("() => window.location.search.includes('sigma_noise')")
    step_to(page, 10)
    numbers = {label: chip(page, label) for label in ("diameter", "|x̄|", "λ_dist")}
    link = page.url
    query = parse_qs(urlparse(link).query)
    assert query["tab"] == ["tokens"] and query["activation"] == ["tanh"]
    assert query["seed"] == ["3"]

    other = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        other.goto(link)
        wait_for_bokeh(other)
        step_to(other, 10)
        assert {label: chip(other, label) for label in numbers} == numbers
    finally:
        other.close()


def test_garbage_link_shows_a_notice_not_an_error(
    open_app: Callable[..., Page], screenshot
) -> None:
    page = open_app(TAB + "&sigma_noise=banana&n_tokens=99999&dim=7&activation=%3Cb%3E&x=1")
    notice = page.locator(".ns-url-notice").first
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Some link parameters were adjusted")
    for fragment in ("sigma_noise=banana", "n_tokens=99999", "dim=7", "activation=<b>", "'x'"):
        expect(notice).to_contain_text(fragment)  # pierces the alert's shadow root
    # the app still works with the clamped value
    expect(page.locator(".bk-slider-title:has-text('N tokens')").first).to_contain_text("256")
    click_button(page, "Step")
    assert wait_chip_change(page, "layer k", "0") == "1"
    screenshot(page, "tokens-garbage-link")


def test_hero_caption_goes_under_the_sphere_in_a_narrow_window(
    page: Page, open_app: Callable[..., Page], screenshot
) -> None:
    """At 800 px (the sidebar open) the hero's caption left beside the sphere was one letter
    wide; it goes under the plot there, and stays beside it at a projector's 1024 px."""
    page.set_viewport_size({"width": 800, "height": 700})
    open_app(TAB)
    caption = page.locator(".ns-caption:has-text('The picture.')").first
    hero = page.locator(".bk-Figure").first
    expect(caption).to_be_visible()
    text, plot = caption.bounding_box(), hero.bounding_box()
    assert text is not None and plot is not None
    assert text["width"] >= CAPTION_BASIS, text
    assert text["y"] >= plot["y"] + plot["height"], (text, plot)  # under the plot
    screenshot(page, "tokens-hero-800")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_timeout(1000)  # the relayout
    text, plot = caption.bounding_box(), hero.bounding_box()
    assert text is not None and plot is not None
    assert text["width"] >= CAPTION_BASIS, text
    assert text["x"] >= plot["x"] + plot["width"], (text, plot)  # beside the plot


def test_lesson_mode_hides_advanced_controls(open_app: Callable[..., Page]) -> None:
    page = open_app(TAB + "&lesson=1")
    # presenter mode may hide the controls' column; the key control is still there
    expect(page.locator(".bk-slider-title:has-text('σ_n noise strength')").first).to_be_attached()
    # no σ_b slider (the sweep panel may still offer σ_b as a parameter to sweep)
    expect(page.locator(".bk-slider-title:has-text('σ_b bias scale')")).to_have_count(0)
    expect(page.get_by_text("Advanced", exact=True)).to_have_count(0)
    expect(page.get_by_text("Advanced: convergence", exact=False)).to_have_count(0)
    # the link the app writes keeps lesson mode, so a shared lesson link stays a lesson
    page.wait_for_function("() => window.location.search.includes('lesson=1')")


def test_ensemble_runs_with_progress_and_fills_the_plot(
    open_app: Callable[..., Page], screenshot
) -> None:
    page = open_app(TAB + "&n_real=16&t_max=2")
    # the ensemble starts by itself; its readout replaces the "press Run" hint
    expect(
        page.locator(".ns-chip:has(.ns-chip-label:text-is('R')) .ns-chip-value").first
    ).to_have_text("16", timeout=60_000)
    median_slope = chip(page, "median slope")
    assert re.fullmatch(r"[+-]\d+\.\d\d", median_slope)
    screenshot(page, "tokens-ensemble")


DIVERGING = (
    "&manifold=euclidean&sigma_noise=4&dt=0.02&t_max=40&activation=softplus"
    "&sigma_w=3&sigma_b=3&width=512"
)


def test_divergence_pauses_with_a_banner(open_app: Callable[..., Page], screenshot) -> None:
    page = open_app(TAB + DIVERGING)
    # 500 layers to the blow-up: faster than the teaching pace of one layer per frame
    drag_slider(page, slider_handle("Layers per frame"), dx=200)
    click_button(page, "Play")
    banner = page.locator(".ns-divergence").first
    expect(banner).to_be_visible(timeout=30_000)
    expect(banner).to_contain_text("diverged")
    expect(banner).to_contain_text("lower the noise strength")
    expect(page.locator("button:has-text('Play')").first).to_be_visible()  # paused
    screenshot(page, "tokens-divergence")
    click_button(page, "Reset")
    expect(banner).to_be_hidden()


def test_sessions_are_isolated(open_app: Callable[..., Page], browser, app_url: str) -> None:
    page = open_app(TAB)
    other = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        other.goto(app_url + TAB)
        wait_for_bokeh(other)
        before = chip(other, "λ_dist")
        drag_slider(page, slider_handle("σ_n noise strength"), dx=-80)
        wait_chip_change(page, "λ_dist", before)
        click_button(page, "Step")
        wait_chip_change(page, "layer k", "0", timeout_ms=60_000)
        other.wait_for_timeout(500)
        assert chip(other, "λ_dist") == before
        assert chip(other, "layer k") == "0"
    finally:
        other.close()
