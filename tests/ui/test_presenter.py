"""Presenter mode in a real browser (issue 12, item 2): at a projector's 1024 × 768, with the
sidebar hidden, the presenter bar shows the current preset's two or three key controls in one
row above the story; → moves to the next preset and its controls; dragging one moves the
model. Every preset of every tab fits the screen: the story at the lesson size and the
preset's panel stretched under it, nothing to scroll; the hidden sidebar is out of the tab
order (issue 12, item 10)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from app.browser import (
    changes_sent_to,
    drag_slider,
    element_data,
    record_changes_sent_to,
    save_screenshot,
    wait_for_bokeh,
)
from app.main import TABS
from app.models.swarm.model import SwarmModel
from app.serve_process import REPO_ROOT
from app.tabs.base import SimulationTab

WIDTH, HEIGHT = 1024, 768
#: The bar is one row: buttons and sliders are 48 px tall with their margins, a select 64 px
#: (measured at 1024 × 768); two rows would be at least 96.
ONE_ROW_PX = 70
#: Most Tab presses in one round of the page's focusable elements (about 200 in the swarm tab).
MAX_TABS = 600
#: The story's font size in presenter mode (``.ns-story-lesson`` in assets/noisescope.css).
LESSON_FONT = "20px"
#: How far above the window's bottom the preset's panel may end and still count as filling
#: the stage: the stage ends 10 px above it (app.tabs.base.STAGE_CSS), a card's margin is 6 px
#: (app.tabs.plotting.panel_card); a panel of fixed height ends hundreds of pixels higher.
FILL_SLACK_PX = 30
#: One screenshot per preset: ``<slug>/<preset>.png``.
SHOTS = REPO_ROOT / "test-artifacts" / "presenter"
#: Plots of the preset's panel on the stage, on screen.
STAGE_PLOTS = ".ns-spotlight .bk-Canvas >> visible=true"

#: Where the stage's parts are, through the shadow roots (Playwright's locators pierce them,
#: ``document.querySelector`` does not): the story's box and its text's computed font size,
#: the boxes of the stage's plots, and how far the page and the main area scroll or could.
MEASURE_JS = """
() => {
  const all = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      all.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  };
  const story = all.find((el) => el.classList.contains("ns-story"));
  const text = story.shadowRoot.querySelector("p");
  const spotlight = all.find((el) => el.classList.contains("ns-spotlight"));
  const inside = (el) => {
    for (let node = el; node; node = node.parentNode || node.host) {
      if (node === spotlight) return true;
    }
    return false;
  };
  const shown = all.filter(inside).map(box).filter((b) => b.bottom > b.top && b.right > b.left);
  const plots = all
    .filter((el) => el.classList.contains("bk-Canvas") && inside(el))
    .map(box)
    .filter((b) => b.bottom > b.top && b.right > b.left);
  const main = document.querySelector("#main");
  const page = document.documentElement;
  return {
    story: box(story),
    font: getComputedStyle(text).fontSize,
    plots,
    panelBottom: Math.max(...shown.map((b) => b.bottom)),
    page: [page.scrollWidth, page.scrollHeight, window.scrollX, window.scrollY],
    main: [main.scrollWidth - main.clientWidth, main.scrollLeft, main.scrollTop],
  };
}
"""

#: Whether the element with the keyboard focus (followed into shadow roots) lies inside
#: ``.ns-sidebar``, and a short name of it.
FOCUS_JS = """
() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  let inSidebar = false;
  for (let node = el; node; node = node.parentNode || node.host) {
    if (node.classList && node.classList.contains("ns-sidebar")) inSidebar = true;
  }
  const name = el ? `${el.tagName}.${el.className}:${(el.textContent || "").slice(0, 20)}` : "";
  return {inSidebar, name, tag: el ? el.tagName : ""};
}
"""


def key_titles(page: Page) -> Locator:
    """The titles (label, and the value of a slider) of the presenter bar's key controls."""
    return page.locator(".ns-key-controls").first.locator(".bk-slider-title, label")


def labels_of(preset: str) -> list[re.Pattern[str]]:
    """What the key-control titles of ``preset`` start with: the params' labels, in order."""
    model = SwarmModel.param
    names = SwarmModel.stories[preset].controls
    return [re.compile("^" + re.escape(model[name].label)) for name in names]


def chip(page: Page, label: str) -> Locator:
    return page.locator(f".ns-chip:has(.ns-chip-label:text-is('{label}')) .ns-chip-value").first


def test_presenter_bar_shows_and_follows_the_presets_key_controls(
    page: Page, open_app: Callable[..., Page], screenshot
) -> None:
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    open_app("?tab=swarm&lesson=1")
    presets = list(SwarmModel.presets)
    first, second = presets[0], presets[1]
    assert first == "Escape race (teaching default)"
    story = page.locator(".ns-story").first
    expect(story).to_contain_text(f"{first}.")
    titles = key_titles(page)
    expect(titles).to_have_text(labels_of(first), timeout=30_000)

    # one row, inside the window, and the hero starts above the middle of the screen
    bar = page.locator(".ns-presenter-bar").first.bounding_box()
    assert bar is not None and bar["height"] <= ONE_ROW_PX, bar
    assert bar["x"] + bar["width"] <= WIDTH, bar
    keys = page.locator(".ns-key-controls").first.bounding_box()
    assert keys is not None and keys["y"] < bar["y"] + 10, (keys, bar)  # beside the buttons
    hero = page.locator(".bk-Figure").first.bounding_box()
    assert hero is not None and bar["y"] + bar["height"] <= hero["y"] < HEIGHT / 2 + 50, hero
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= WIDTH, width
    screenshot(page, "presenter-swarm-1024")

    # → (the focus on the page, not in a control) loads the next preset and its controls
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("ArrowRight")
    expect(story).to_contain_text(f"{second}.", timeout=30_000)
    expect(titles).to_have_text(labels_of(second), timeout=30_000)
    expect(chip(page, "σ(t)")).to_have_text("0.18", timeout=30_000)

    # dragging σ₀ in the bar moves the model: the chip, the link; the controls stay (Custom)
    sigma = ".ns-key-controls .bk-input-group:has(.bk-slider-title:has-text('σ₀ noise'))"
    drag_slider(page, sigma + " .noUi-handle", dx=60)
    expect(chip(page, "σ(t)")).not_to_have_text("0.18", timeout=30_000)
    expect(page).to_have_url(re.compile(r"[?&]sigma0="), timeout=30_000)
    expect(titles).to_have_text(labels_of(second))
    screenshot(page, "presenter-swarm-1024-dragged")


def stable_measure(page: Page) -> dict[str, Any]:
    """:data:`MEASURE_JS` once two readings 200 ms apart agree and show plots (a preset's panel
    moves to the stage and the plots relayout over a few frames after the story changes; a
    preset that loads another data set redraws its plots), at most 5 s."""
    last = page.evaluate(MEASURE_JS)
    for _ in range(25):
        page.wait_for_timeout(200)
        now = page.evaluate(MEASURE_JS)
        if now == last and now["plots"]:  # a panel being redrawn may have none for a moment
            return now
        last = now
    return last


def file_name(preset: str) -> str:
    return re.sub(r"[^\w.-]+", "_", preset).strip("_")


@pytest.mark.parametrize("tab", TABS, ids=[tab.slug for tab in TABS])
def test_every_preset_fits_a_projector_in_presenter_mode(
    page: Page, open_app: Callable[..., Page], tab: type[SimulationTab]
) -> None:
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    open_app(f"?tab={tab.slug}&lesson=1")
    story = page.locator(".ns-story").first
    presets = list(tab.model_class().presets)
    for index, preset in enumerate(presets):
        if index:
            # → with the focus on the page, not in a control
            page.locator("body").click(position={"x": 5, "y": 5})
            page.keyboard.press("ArrowRight")
        expect(story).to_contain_text(f"{preset}.", timeout=30_000)
        wait_for_bokeh(page, plot=STAGE_PLOTS)
        seen = stable_measure(page)
        save_screenshot(page, SHOTS / tab.slug / f"{file_name(preset)}.png")
        where = f"{tab.slug} / {preset}: {seen}"
        assert seen["font"] == LESSON_FONT, where
        assert seen["story"]["bottom"] <= HEIGHT and seen["story"]["right"] <= WIDTH, where
        # the panel's first plot is on screen under the story, and no plot is cut off by the
        # window's edges (plots further down a long panel, wholly below the fold, may stay)
        assert seen["plots"], where
        first = seen["plots"][0]
        assert first["top"] >= seen["story"]["bottom"] and first["bottom"] <= HEIGHT, where
        for plot in seen["plots"]:
            assert plot["right"] <= WIDTH, where
            assert plot["top"] >= HEIGHT or plot["bottom"] <= HEIGHT, where
        # stretched: the panel reaches down to the stage's bottom, not a fixed small height
        assert seen["panelBottom"] >= HEIGHT - FILL_SLACK_PX, where
        # nothing to scroll sideways, the window does not scroll, the main area is at its top
        page_width, page_height, scroll_x, scroll_y = seen["page"]
        assert page_width <= WIDTH and page_height <= HEIGHT, where
        assert scroll_x == 0 and scroll_y == 0, where
        assert seen["main"] == [0, 0, 0], where


def test_hidden_sidebar_is_out_of_the_tab_order(page: Page, open_app: Callable[..., Page]) -> None:
    """Presenter mode starts with the sidebar hidden: a full round of Tab (until the focus
    comes back to where it started) never lands in it; shown again (☰), the same round
    reaches its first control, the Preset box."""
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    open_app("?tab=swarm&lesson=1")
    expect(page.locator("#sidebar")).to_have_class(re.compile(r"\bhidden\b"))

    def tab_round(stop_in_sidebar: bool) -> list[dict[str, Any]]:
        page.locator("body").click(position={"x": 5, "y": 5})
        seen: list[dict[str, Any]] = []
        for _ in range(MAX_TABS):
            page.keyboard.press("Tab")
            focus = page.evaluate(FOCUS_JS)
            if seen and focus["name"] == seen[0]["name"]:
                break  # back at the start: every focusable element was visited
            seen.append(focus)
            if stop_in_sidebar and focus["inSidebar"]:
                break
        return seen

    hidden = tab_round(stop_in_sidebar=False)
    assert len(hidden) >= 20, hidden  # the round went through the page's controls
    assert not [f for f in hidden if f["inSidebar"]], hidden

    page.locator("#sidebar-button").click()
    expect(page.locator("#sidebar")).not_to_have_class(re.compile(r"\bhidden\b"))
    shown = tab_round(stop_in_sidebar=True)
    assert shown[-1]["inSidebar"], shown[-5:]
    assert shown[-1]["tag"] == "SELECT", shown[-1]  # the Preset box, the sidebar's first


def test_a_shortcut_sends_nothing_back_to_its_element(
    page: Page, open_app: Callable[..., Page]
) -> None:
    """A shortcut is one change of the shortcuts element's data model in the browser (action,
    presses) and nothing comes back to the element. Its params used to be children in its
    template: the server answered each press with new children, the browser rendered the
    element again and Bokeh laid out the whole page again (about 95 ms of the browser's main
    thread per key press at 1024 × 768)."""
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    open_app("?tab=swarm&lesson=1")
    record_changes_sent_to(page, "Shortcuts")
    presets = list(SwarmModel.presets)
    story = page.locator(".ns-story").first
    page.locator("body").click(position={"x": 5, "y": 5})  # no control has the focus
    for preset in presets[1:3]:  # → twice, then ← once
        page.keyboard.press("ArrowRight")
        expect(story).to_contain_text(f"{preset}.", timeout=30_000)
    page.keyboard.press("ArrowLeft")
    expect(story).to_contain_text(f"{presets[1]}.", timeout=30_000)
    # the three presses reached the element (and the server: the presets moved) ...
    assert element_data(page, "Shortcuts", "presses") == 3
    # ... and the server sent the element nothing back
    assert changes_sent_to(page, "Shortcuts") == []
