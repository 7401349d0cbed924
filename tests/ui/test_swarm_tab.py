"""The Swarm escapes tab in a real browser: what a person sees and can do."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from app.browser import click_button, hook_state, install_update_hook

TAB = "?tab=swarm"
#: Init script: records every text a canvas draws (``window.__nsTexts``) with its box in the
#: canvas's pixels, so a test can see where Bokeh put the tick labels (they are not in the DOM).
RECORD_CANVAS_TEXT = """
(() => {
  const fill = CanvasRenderingContext2D.prototype.fillText;
  window.__nsTexts = [];
  CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
    const m = this.measureText(text);
    const t = this.getTransform();
    const sx = t.a * x + t.c * y + t.e, sy = t.b * x + t.d * y + t.f;
    window.__nsTexts.push({canvas: this.canvas, text: String(text), horizontal: t.b === 0,
      left: sx - m.actualBoundingBoxLeft, right: sx + m.actualBoundingBoxRight,
      top: sy - m.actualBoundingBoxAscent, bottom: sy + m.actualBoundingBoxDescent});
    return fill.call(this, text, x, y, ...rest);
  };
})();
"""
#: A tick label: a number, Bokeh's minus sign included.
TICK_LABEL = re.compile(r"^[−-]?\d+(\.\d+)?$")
#: Fewest pixels between two neighbouring tick labels.
LABEL_GAP_PX = 3


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


def hero_tick_labels(page: Page) -> list[dict[str, Any]]:
    """The numbers the two landscape plots drew in their latest paint, with their boxes and
    the plot (0 or 1) that drew each."""
    canvases = [page.locator(".bk-Figure").nth(i).locator("canvas").first for i in range(2)]
    handles = [canvas.element_handle() for canvas in canvases]
    page.evaluate("() => { window.__nsTexts = []; }")
    click_button(page, "Step")  # a new frame repaints both plots
    page.wait_for_function(
        "(canvases) => canvases.every((c) => window.__nsTexts.some((t) => t.canvas === c))",
        arg=handles,
    )
    drawn = page.evaluate(
        """(canvases) => window.__nsTexts
            .filter((t) => canvases.includes(t.canvas))
            .map((t) => ({...t, canvas: canvases.indexOf(t.canvas)}))""",
        handles,
    )
    return [t for t in drawn if t["horizontal"] and TICK_LABEL.match(t["text"])]


@pytest.mark.parametrize("width, height", [(800, 700), (1024, 768), (1440, 900)])
def test_hero_tick_labels_never_overlap(
    page: Page, open_app: Callable[..., Page], width: int, height: int
) -> None:
    """The landscapes shrink with the window while their ticks stay 0.5 apart: at 800 px the
    x labels ran into one another (−2 over −1.5). Each plot keeps at least three labels per
    axis, each a few pixels clear of its neighbours."""
    page.add_init_script(RECORD_CANVAS_TEXT)
    page.set_viewport_size({"width": width, "height": height})
    open_app(TAB)
    labels = hero_tick_labels(page)
    for plot in (0, 1):
        mine = [t for t in labels if t["canvas"] == plot]
        # the x axis's labels share a baseline; the y axis's each have their own
        rows: dict[float, list[dict[str, Any]]] = {}
        for label in mine:
            rows.setdefault(round(label["bottom"], 1), []).append(label)
        x_labels = max(rows.values(), key=len)
        y_labels = [t for t in mine if t not in x_labels]
        assert len(x_labels) >= 3 and len(y_labels) >= 3, (plot, mine)
        x_labels.sort(key=lambda t: t["left"])
        for a, b in itertools.pairwise(x_labels):
            assert b["left"] - a["right"] >= LABEL_GAP_PX, (width, plot, a, b)
        y_labels.sort(key=lambda t: t["top"])
        for a, b in itertools.pairwise(y_labels):
            assert b["top"] - a["bottom"] >= LABEL_GAP_PX, (width, plot, a, b)


def test_checkboxes_are_announced_by_their_labels(open_app: Callable[..., Page]) -> None:
    """A screen reader names each checkbox by the label beside it (app/accessibility.py); the
    fallback name 'checkbox' was every lone Bokeh Checkbox's (its label is a sibling div)."""
    page = open_app(TAB)
    for label in ("Langevin ghosts", "CBO ghosts", "PSO ghosts"):
        expect(page.get_by_role("checkbox", name=label, exact=True)).to_have_count(1)
    sweep = page.locator(".ns-panel:has-text('Sweep: how an outcome')").first
    sweep.scroll_into_view_if_needed()
    sweep.locator(".card-header").first.click()
    for label in ("log x", "log y"):
        box = sweep.get_by_role("checkbox", name=label, exact=True)
        expect(box).to_be_visible()
    expect(page.get_by_role("checkbox", name="checkbox", exact=True)).to_have_count(0)
