"""The Wasserstein-convergence tab in a real browser: the sweep runs, the plot and readouts fill
in, live controls redraw from the cache, bad links are clamped."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from app.browser import hook_state, install_update_hook

# a small sweep: M = 2000 networks, 3 replicates, widths 2..64
TAB = "?tab=widenet&n_nets=2000&n_replicates=3&width_max=64"


def chip(page: Page, label: str):
    return page.locator(f".ns-chip:has(.ns-chip-label:text-is('{label}')) .ns-chip-value").first


def wait_sweep_done(page: Page) -> None:
    expect(page.locator("pre:text-matches('^Done')").first).to_be_visible(timeout=60_000)


def test_sweep_fills_the_loglog_plot_and_slope(
    open_app: Callable[..., Page], screenshot: Callable[[Page, str], object]
) -> None:
    page = open_app(TAB)
    expect(page.locator(".bk-active", has_text="Wasserstein convergence").first).to_be_visible()
    wait_sweep_done(page)
    expect(chip(page, "fitted slope")).to_have_text(re.compile(r"^-0\.\d\d$"))
    expect(chip(page, "estimator")).to_have_text("quantile")
    expect(chip(page, "width n")).to_have_text("2")  # the teaching default starts at n = 2
    expect(page.locator(".ns-panel", has_text="W₂ against width").first).to_contain_text("Look for")
    screenshot(page, "widenet-sweep")
    # the Lindeberg exchange starts by itself once the sweep is done
    expect(chip(page, "order")).to_have_text("Readout first", timeout=60_000)


def test_live_estimator_redraws_from_the_cache(
    open_app: Callable[..., Page], screenshot: Callable[[Page, str], object]
) -> None:
    page = open_app(TAB)
    wait_sweep_done(page)
    w2_before = chip(page, "Ŵ at n").inner_text()
    install_update_hook(page)
    updates = len(hook_state(page)["updates"])
    # the sidebar's preset, law, activation, estimator
    select = page.locator(".ns-sidebar select").nth(3)
    # the menu shows words; the link and the model keep the identifier (two_sample)
    expect(select).to_have_value("Automatic")
    select.select_option(label="Two-sample")
    expect(chip(page, "estimator")).to_have_text("two-sample", timeout=10_000)
    # no new sweep: the progress message still reads Done, the distance is estimated anew
    expect(page.locator("pre:text-matches('^Done')").first).to_be_visible()
    assert chip(page, "Ŵ at n").inner_text() != w2_before
    assert len(hook_state(page)["updates"]) > updates
    screenshot(page, "widenet-two-sample")


def test_bad_link_values_are_clamped_with_a_notice(open_app: Callable[..., Page]) -> None:
    page = open_app("?tab=widenet&t_dof=2&n_nets=10&width_max=99999&weight_law=cauchy")
    notice = page.locator(".ns-url-notice").first
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Some link parameters were adjusted")
    expect(chip(page, "estimator")).to_be_visible()
