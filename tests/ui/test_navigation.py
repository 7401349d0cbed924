"""Navigation in a real browser (issue 12, items 1, 9 and 10): Back and Forward move between
tabs and parameter states, the theme survives tab switches and its switch keeps the numbers,
every tab header is reachable on a projector, and the keyboard reaches the tab bar first."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import param
from playwright.sync_api import Locator, Page, expect

from app.main import TABS
from app.sweeps.grid import parse_axis
from app.tabs.swarm.tab import SwarmTab
from app.url_state import format_value

TITLES = {tab.slug: tab.title for tab in TABS}
SWARM = SwarmTab.model_class
#: The swarm presets the Back/Forward walk starts from.
FIRST, SECOND = "Escape race (teaching default)", "Small-noise gap"
#: Swarm parameters the walk checks: link key -> the start of its slider's title.
SLIDERS = {"beta0": "β₀ inverse temperature", "sigma0": "σ₀ noise", "n_particles": "N particles"}


def query(page: Page) -> dict[str, str]:
    """The address bar's query string (last value of each key)."""
    return {key: values[-1] for key, values in parse_qs(urlsplit(page.url).query).items()}


def chip(page: Page, label: str) -> Locator:
    return page.locator(f".ns-chip:has(.ns-chip-label:text-is('{label}')) .ns-chip-value").first


def preset_box(page: Page) -> Locator:
    """The open tab's Preset select (the first select of the sidebar)."""
    return page.locator(".ns-sidebar select").first


def slider(page: Page, key: str) -> Locator:
    return page.locator(".ns-sidebar .bk-Slider").filter(has_text=SLIDERS[key]).first


def expected(link: dict[str, str], key: str) -> float:
    """A swarm parameter's value in a link: its own, else its preset's, else the default
    (links leave out defaults)."""
    preset = SWARM.presets.get(link.get("preset", ""), {})
    return float(link.get(key, preset.get(key, SWARM.param[key].default)))


def shows_the_link(page: Page) -> None:
    """The open tab and, on the swarm tab, the preset, seed, β₀ (its chip) and the sliders'
    numbers agree with the address bar."""
    link = query(page)
    expect(page.locator(".bk-tab.bk-active")).to_have_text(TITLES[link["tab"]], timeout=15_000)
    if link["tab"] != "swarm":
        return
    expect(preset_box(page)).to_have_value(link.get("preset", "Custom"), timeout=15_000)
    seed = page.locator(".ns-sidebar .bk-Spinner input").first
    expect(seed).to_have_value(link["seed"], timeout=15_000)
    expect(chip(page, "β(t)")).to_have_text(f"{expected(link, 'beta0'):.3g}", timeout=15_000)
    for key, label in SLIDERS.items():
        value = expected(link, key)
        text = f"{value:.0f}" if isinstance(SWARM.param[key], param.Integer) else f"{value:.2f}"
        title = slider(page, key).locator(".bk-slider-title")
        expect(title).to_have_text(re.compile(rf"^{label}: {re.escape(text)}$"), timeout=15_000)


def nudge(page: Page, key: str) -> None:
    """One step up on a slider, from the keyboard (as a person would, without a drag)."""
    slider(page, key).locator(".noUi-handle").first.focus()
    page.keyboard.press("ArrowRight")


def test_back_and_forward_move_between_tabs_and_parameter_states(
    open_app: Callable[..., Page],
) -> None:
    page = open_app("?tab=swarm")
    page.wait_for_url(re.compile(r"preset=Escape"))  # the app wrote the full link
    links = [page.url]
    preset_box(page).select_option(SECOND)
    page.wait_for_url(re.compile(r"preset=Small-noise"))
    links.append(page.url)
    nudge(page, "sigma0")  # a Custom link: the preset's β₀ and the new σ₀
    page.wait_for_url(re.compile(r"sigma0=0\.19"))
    links.append(page.url)
    nudge(page, "n_particles")  # names N, which the previous link leaves at its default
    page.wait_for_url(re.compile(r"n_particles=11"))
    links.append(page.url)
    page.locator(".bk-tab", has_text=TITLES["adaptive"]).first.click()
    page.wait_for_url(re.compile(r"tab=adaptive"))
    links.append(page.url)
    shows_the_link(page)
    for move, index in (
        (page.go_back, 3),
        (page.go_back, 2),  # N back to its default: the link does not name it
        (page.go_back, 1),
        (page.go_forward, 2),
    ):
        move()
        assert page.url == links[index]
        shows_the_link(page)
    # the app did not write the link it went back to (that would cut the forward history)
    page.wait_for_timeout(1000)  # URL_WRITE_INTERVAL (0.4 s) and a clock tick, twice over
    assert page.url == links[2]
    # a tab switch after Back writes its link, though it is the link the app wrote last
    page.locator(".bk-tab", has_text=TITLES["adaptive"]).first.click()
    page.wait_for_url(links[4])
    shows_the_link(page)


def sweep_input(page: Page, label: str) -> Locator:
    """The sweep panel's number input labelled ``label`` ("Replicates", "x to", ...)."""
    card = page.locator(".ns-panel", has_text="Sweep: how an outcome").first
    return card.locator(".bk-input-group").filter(has_text=label).locator("input").first


def shows_the_sweep(page: Page) -> None:
    """The sweep panel's replicates and x range show the address bar's sweep."""
    link = query(page)
    x = parse_axis(link["sweep_x"])
    expect(sweep_input(page, "Replicates")).to_have_value(link["sweep_reps"], timeout=15_000)
    for label, value in (("x from", x.lo), ("x to", x.hi), ("x points", x.n)):
        field = sweep_input(page, label)
        expect(field).to_have_value(re.compile(rf"^{re.escape(format_value(value))}(\.0+)?$"))


def test_back_and_forward_restore_the_sweep_settings(open_app: Callable[..., Page]) -> None:
    sweep = "sweep_x=sigma0%3D0.1%3A0.8%3A3&sweep_y=none&sweep_reps=2"
    page = open_app(f"?tab=swarm&{sweep}")
    page.wait_for_url(re.compile(r"preset=Escape.*sweep_reps=2"))  # the app wrote the link
    # a person's first link (Back did not return to the one the app wrote when it opened)
    nudge(page, "sigma0")
    page.wait_for_url(re.compile(r"sigma0=0\.26"))
    links = [page.url]
    header = page.locator(".card-header", has_text="Sweep: how an outcome")
    header.scroll_into_view_if_needed()
    header.click()
    shows_the_sweep(page)
    replicates = sweep_input(page, "Replicates")
    replicates.fill("7")
    replicates.press("Enter")
    page.wait_for_url(re.compile(r"sweep_reps=7"))
    links.append(page.url)
    high = sweep_input(page, "x to")
    high.fill("0.6")
    high.press("Enter")
    page.wait_for_url(re.compile(r"sigma0%3D0\.1%3A0\.6%3A3"))
    links.append(page.url)
    nudge(page, "n_particles")  # a tab parameter: the sweep settings stay
    page.wait_for_url(re.compile(r"n_particles="))
    links.append(page.url)
    for move, index in (
        (page.go_back, 2),
        (page.go_back, 1),  # x to 0.8 again
        (page.go_forward, 2),
        (page.go_back, 1),
        (page.go_back, 0),  # two replicates again
    ):
        move()
        assert page.url == links[index]
        shows_the_link(page)
        shows_the_sweep(page)
    # Back and Forward never start a sweep
    card = page.locator(".ns-panel", has_text="Sweep: how an outcome").first
    expect(card.locator("button", has_text="Run sweep")).to_be_enabled()
    expect(card).not_to_contain_text("runs done")


def test_the_theme_survives_tab_switches(open_app: Callable[..., Page]) -> None:
    page = open_app("?tab=swarm&theme=dark")
    preset_box(page).select_option(SECOND)
    page.wait_for_url(re.compile(r"preset=Small-noise.*theme=dark"))
    link = query(page)
    page.locator(".bk-tab", has_text=TITLES["tokens"]).first.click()
    page.wait_for_url(re.compile(r"tab=tokens.*theme=dark"))
    page.locator(".bk-tab", has_text=TITLES["swarm"]).first.click()
    page.wait_for_url(re.compile(r"tab=swarm.*theme=dark"))
    shows_the_link(page)
    assert query(page) == link


def test_the_theme_switch_keeps_the_parameters_and_the_seed(
    open_app: Callable[..., Page],
) -> None:
    # The switch reloads the page (Panel's template) with the address bar's link plus
    # theme=dark: the link carries the preset, every changed number and the seed.
    page = open_app("?tab=swarm")
    preset_box(page).select_option(SECOND)
    page.locator("button", has_text="New seed").first.click()
    page.wait_for_url(re.compile(r"preset=Small-noise"))
    page.wait_for_function("() => !/[?&]seed=0(&|$)/.test(window.location.search)")
    before = query(page)
    page.locator("#theme-switch").click()
    page.wait_for_url(re.compile(r"theme=dark"))
    expect(preset_box(page)).to_be_visible(timeout=60_000)
    assert query(page) == {**before, "theme": "dark"}
    shows_the_link(page)
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert max(int(c) for c in re.findall(r"\d+", background)[:3]) < 80, background  # dark


#: JS: the focused element inside the shadow roots: its class, its text and whether it lies
#: in the template's header bar.
FOCUSED = """() => {
  let el = document.activeElement;
  const inHeader = !!(el && el.closest && el.closest('#header'));
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  return {cls: String(el && el.className), text: (el && el.textContent || '').trim(), inHeader};
}"""
#: The template's header holds three controls before anything else on the page: the app's
#: title (a link), the "?" shortcuts button and the theme switch; the tab bar comes next.
HEADER_CONTROLS = 3


def test_every_tab_header_is_reachable_on_a_projector(
    open_app: Callable[..., Page], screenshot: Callable[[Page, str], object]
) -> None:
    """At 1024 × 768 with the sidebar open the titles need more room than the tab bar has: it
    scrolls sideways, keeps the open tab's title in view, and the page does not scroll."""
    page = open_app("?tab=exploration", plot=None)
    page.set_viewport_size({"width": 1024, "height": 768})
    strip = page.locator(".ns-tabs .bk-headers-wrapper").first
    width = page.evaluate("() => document.documentElement.clientWidth")

    def fully_shown(title: str) -> None:
        box = page.locator(".ns-tabs .bk-tab", has_text=title).first.bounding_box()
        bar = strip.bounding_box()
        assert box is not None and bar is not None
        # half a pixel: Chromium lays the titles out on fractional pixels
        left, right = box["x"], box["x"] + box["width"]
        assert bar["x"] - 0.5 <= left and right <= bar["x"] + bar["width"] + 0.5, (title, box, bar)
        assert box["x"] + box["width"] <= width + 0.5, (title, box, width)

    expect(page.locator(".bk-tab.bk-active")).to_have_text(TITLES["exploration"])
    page.wait_for_timeout(500)  # the strip scrolls once the bar has been laid out
    fully_shown(TITLES["exploration"])  # the last title, opened from the link: in view
    screenshot(page, "navigation-tab-strip-1024")
    assert strip.evaluate("(el) => el.scrollWidth > el.clientWidth")  # it does need to scroll
    for slug, title in [("about", "About"), *TITLES.items()]:
        header = page.locator(".ns-tabs .bk-tab", has_text=title).first
        header.scroll_into_view_if_needed()
        fully_shown(title)
        header.click()
        expect(page.locator(".bk-tab.bk-active")).to_have_text(title, timeout=15_000)
        # the server has answered (it rebuilds the titles of a dynamic Tabs when the open tab
        # changes, which would pull the next title out from under the next click)
        page.wait_for_url(re.compile(rf"tab={slug}"))
        scroll = page.evaluate("() => document.documentElement.scrollWidth")
        assert scroll <= width, (title, scroll, width)


def test_the_keyboard_reaches_the_tab_bar_first(open_app: Callable[..., Page]) -> None:
    """From the top of the page, Tab reaches a tab header right after the header's controls,
    before the sidebar's controls and the open tab's content; the sidebar stays on the left."""
    page = open_app("?tab=swarm")
    page.wait_for_timeout(500)  # the bar is moved to the front once it has rendered
    for press in range(1, HEADER_CONTROLS + 2):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if "bk-tab" in focused["cls"]:
            break
        assert focused["inHeader"], (press, focused)  # nothing else comes before the tab bar
    assert "bk-tab" in focused["cls"] and press == HEADER_CONTROLS + 1, (press, focused)
    assert focused["text"] == "About"  # the first title
    # the next Tab goes along the bar
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["text"] == TITLES[TABS[0].slug]
    sidebar = page.locator("#sidebar").bounding_box()
    main = page.locator("#main").bounding_box()
    assert sidebar is not None and main is not None and sidebar["x"] < main["x"]
