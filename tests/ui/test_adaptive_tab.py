"""The Adaptive SGD tab in a real browser: preset, play, scaling rule, weak-error study."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from app.browser import click_button

TAB = "?tab=adaptive"


def chip(page: Page, label: str) -> str:
    selector = f".ns-chip:has(.ns-chip-label:text-is('{label}')) .ns-chip-value"
    return page.locator(selector).first.inner_text()


def test_preset_play_and_pause(open_app: Callable[..., Page], screenshot) -> None:
    # a horizon far enough that the run cannot end (and pause itself) before "Pause" is clicked:
    # at T = 10 it reached the horizon within the 1.5 s of play and the click found no button
    page = open_app(TAB + "&preset=SGD+and+its+SME&t_final=50")
    expect(page.locator(".bk-Canvas >> visible=true").first).to_be_visible()
    assert chip(page, "t") == "0"
    click_button(page, "Play")
    page.wait_for_timeout(1500)
    click_button(page, "Pause")
    # the server may still be working through queued frames: on a loaded two-core machine the
    # pause took up to 6 s to show, before and after the layout refactor alike
    expect(page.locator("button:has-text('Play')").first).to_be_visible(timeout=15_000)
    page.wait_for_timeout(1000)  # the last frame's update may still be in flight
    paused = chip(page, "t")
    assert float(paused) > 0
    page.wait_for_timeout(500)
    assert chip(page, "t") == paused
    screenshot(page, "adaptive-after-play")


def test_scaling_rule_switch_reruns_the_study(open_app: Callable[..., Page], screenshot) -> None:
    page = open_app(TAB + "&n_paths=64&t_final=4")
    card = page.locator(".ns-panel:has-text('Scaling rules')").first
    card.scroll_into_view_if_needed()
    expect(card).to_contain_text("Rule: square-root rule", timeout=60_000)  # the first tick
    select = page.locator(".bk-input-group:has(label:has-text('Scaling rule')) select").first
    select.select_option(label="linear rule")  # the link keeps the identifier, the menu words
    expect(card).to_contain_text("Rule: linear rule", timeout=60_000)
    expect(page).to_have_url(re.compile(r"scaling_rule=linear(&|$)"))
    screenshot(page, "adaptive-scaling")


def test_weak_error_study_runs_with_progress(open_app: Callable[..., Page], screenshot) -> None:
    # the preset's story is the study: choosing the preset starts it (the link's smaller
    # weak_paths then makes the preset Custom, so the panel stays in its place below)
    page = open_app(TAB + "&preset=Weak+order%2C+ballistic&weak_paths=1000")
    card = page.locator(".ns-panel:has-text('Weak error vs step')").first
    card.scroll_into_view_if_needed()
    expect(card).to_contain_text("coupled paths per τ", timeout=180_000)
    expect(card).to_contain_text("SME2 with W2: slope")
    click_button(page, "Run weak-error study")  # again: the same arguments come from the cache
    expect(card).to_contain_text("coupled paths per τ", timeout=60_000)
    screenshot(page, "adaptive-weak-error")


def test_diverging_step_shows_the_stability_limit(open_app: Callable[..., Page]) -> None:
    page = open_app(TAB + "&preset=SGD+and+its+SME&log2_tau=-1&a11=5&a22=5")
    banner = page.locator(".ns-divergence").first
    expect(banner).to_be_visible(timeout=30_000)
    expect(banner).to_contain_text("stability limit")
    expect(page.locator("button:has-text('Play')").first).to_be_visible()


def test_out_of_range_link_is_clamped_with_a_notice(open_app: Callable[..., Page]) -> None:
    page = open_app(TAB + "&log2_tau=5&n_paths=0")
    notice = page.locator(".ns-url-notice").first
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("log2_tau=5")
    click_button(page, "Step")
    expect(
        page.locator(".ns-chip:has(.ns-chip-label:text-is('t')) .ns-chip-value").first
    ).not_to_have_text("0", timeout=15_000)
