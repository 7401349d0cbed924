"""The Expected signature tab in a real browser: data sets, GP sliders, CSV upload."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from app.browser import drag_slider, hook_state, install_update_hook
from app.models.signature.data import LABELS
from app.tabs.signature.panels import BARS_BASIS

TAB = "?tab=signature"
NUMBER = re.compile(r"^\d\.\d{3}$")
GUNPOINT = LABELS["gunpoint"]
BASIC_MOTIONS = LABELS["basic_motions"]


def chip_locator(page: Page, label: str):
    return page.locator(f".ns-chip:has(.ns-chip-label:text-is('{label}')) .ns-chip-value").first


def chip(page: Page, label: str) -> str:
    return chip_locator(page, label).inner_text()


def slider_handle(title: str) -> str:
    return f".bk-input-group:has(.bk-slider-title:has-text('{title}')) .noUi-handle"


def wait_accuracy(page: Page, data: str | None = None) -> str:
    """Wait for the background job to fill the accuracy readout (for data set ``data``);
    return its value."""
    if data is not None:
        expect(chip_locator(page, "data")).to_have_text(data, timeout=60_000)
    locator = chip_locator(page, "accuracy (GP-ES)")
    expect(locator).to_have_text(NUMBER, timeout=60_000)
    return locator.inner_text()


def test_default_view_computes_accuracies(open_app: Callable[..., Page], screenshot) -> None:
    page = open_app(TAB)
    wait_accuracy(page, "ItalyPowerDemand")
    assert NUMBER.match(chip(page, "NoAug")) and NUMBER.match(chip(page, "GP-mean"))
    assert chip(page, "series i") == "0 / 1095"  # ItalyPowerDemand: 67 + 1029 series
    expect(page.get_by_text("Look for:", exact=False).first).to_be_visible()
    screenshot(page, "signature-default")


def test_switch_data_set(open_app: Callable[..., Page], screenshot) -> None:
    page = open_app(TAB)
    wait_accuracy(page)
    # the selector shows words; the link keeps the identifier
    data_set = page.locator(f"select:has(option:text-is('{GUNPOINT}'))").first
    data_set.select_option(label=GUNPOINT)
    expect(chip_locator(page, "series i")).to_have_text("0 / 199", timeout=30_000)
    expect(chip_locator(page, "grid G")).to_have_text("150")
    wait_accuracy(page, "GunPoint")
    page.wait_for_function("() => window.location.search.includes('dataset=gunpoint')")
    data_set.select_option(label=BASIC_MOTIONS)
    expect(chip_locator(page, "series i")).to_have_text("0 / 79", timeout=30_000)
    expect(chip_locator(page, "d")).to_have_text("7")  # time + 6 channels
    wait_accuracy(page, "BasicMotions")
    # N ≤ 4 for d = 7 (Σ d^k ≤ 3000): four points per accuracy-vs-depth curve
    page.wait_for_timeout(300)
    screenshot(page, "signature-basic-motions")


#: Records, from the server's changes, each time the "Recompute" button is disabled (its job
#: started) or enabled again (the job ended): ``window.__nsRecompute``.
RECOMPUTE_HOOK_JS = """
() => {
  window.__nsRecompute = [];
  for (const doc of Bokeh.documents)
    doc.on_change((ev) => {
      if (ev.sync === false && ev.attr === "disabled" && ev.model.label === "Recompute")
        window.__nsRecompute.push(ev.value);
    }, false);
}
"""
#: True once the features job has started and then ended after the hook was installed.
RECOMPUTED_JS = "() => window.__nsRecompute.join().includes('true,false')"


def test_gp_slider_drag_moves_paths_then_recomputes(
    open_app: Callable[..., Page], screenshot
) -> None:
    page = open_app(TAB)
    before = wait_accuracy(page)
    install_update_hook(page)
    page.evaluate(RECOMPUTE_HOOK_JS)
    updates = len(hook_state(page)["updates"])
    # hold mid-drag: panel 1 follows the slider before the release
    drag_slider(page, slider_handle("σ_n² noise variance"), dx=120, steps=12, hold_ms=400)
    assert len(hook_state(page)["updates"]) > updates  # plot data re-sent
    page.wait_for_function("() => window.location.search.includes('noise_var')")
    # the release restarts the features in the background: the Recompute button is disabled
    # while they run and enabled again when the new readouts come (the readouts' text itself
    # may repeat: the same accuracy, the same "computed in" to 0.01 s)
    page.wait_for_function(RECOMPUTED_JS, timeout=60_000)
    after = wait_accuracy(page)
    assert NUMBER.match(after) and NUMBER.match(before)
    screenshot(page, "signature-after-drag")


UPLOAD = (
    "label,t0,t1,t2,t3,t4,t5,t6,t7\n"
    + "".join(f"up,{','.join(str(k * (1 + j / 10)) for k in range(8))}\n" for j in range(6))
    + "".join(f"down,{','.join(str(-k * (1 + j / 10)) for k in range(8))}\n" for j in range(6))
)


def test_csv_upload(open_app: Callable[..., Page], screenshot) -> None:
    page = open_app(TAB)
    wait_accuracy(page)
    file_input = page.locator(".ns-signature-upload input[type=file]").first
    file_input.set_input_files(
        files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": b"label,a,b,c\nx,1,2,3\n"}]
    )
    message = page.locator(".ns-upload-message").first
    expect(message).to_contain_text("Upload rejected", timeout=15_000)
    expect(message).to_contain_text("Only one class")
    file_input.set_input_files(
        files=[{"name": "mine.csv", "mimeType": "text/csv", "buffer": UPLOAD.encode()}]
    )
    expect(message).to_contain_text("Loaded mine.csv", timeout=15_000)
    expect(chip_locator(page, "series i")).to_have_text("0 / 11", timeout=30_000)
    expect(chip_locator(page, "grid G")).to_have_text("8")
    wait_accuracy(page, "mine.csv")
    screenshot(page, "signature-upload")


SCRIPT_LABEL = "<img src=x onerror=alert(1)>"


def test_markup_in_uploads_is_shown_as_text(open_app: Callable[..., Page]) -> None:
    """Labels, file names and messages quoting them are text: no dialog, no injected
    element, the markup visible literally (issue 13)."""
    page = open_app(TAB)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    wait_accuracy(page)
    file_input = page.locator(".ns-signature-upload input[type=file]").first
    message = page.locator(".ns-upload-message").first
    one_class = "".join(f"{SCRIPT_LABEL},1,2,{k}\n" for k in range(6))
    file_input.set_input_files(
        files=[
            {
                "name": f"{SCRIPT_LABEL}.csv",
                "mimeType": "text/csv",
                "buffer": ("label,a,b,c\n" + one_class).encode(),
            }
        ]
    )
    expect(message).to_contain_text("Only one class", timeout=15_000)
    expect(message).to_contain_text(SCRIPT_LABEL[:20])  # the markup shown as text
    two_classes = "".join(
        f"{label},{k},{k + 1},{k % 3}\n"
        for k in range(12)
        for label in ([SCRIPT_LABEL] if k % 2 else ["<i>ab</i><b"])
    )
    file_input.set_input_files(
        files=[
            {
                "name": f"{SCRIPT_LABEL}.csv",
                "mimeType": "text/csv",
                "buffer": ("label,a,b,c\n" + two_classes).encode(),
            }
        ]
    )
    expect(message).to_contain_text("Loaded", timeout=15_000)
    expect(message).to_contain_text(f"{SCRIPT_LABEL}.csv")
    wait_accuracy(page)
    page.wait_for_timeout(1000)
    # CSS locators pierce Bokeh's open shadow roots: no element came from the payloads
    assert page.locator("img[src='x']").count() == 0
    assert page.locator(".ns-chip i, .ns-upload-message i, .ns-status i").count() == 0
    assert dialogs == []


def test_play_moves_the_preset_panel_above_the_fold(
    open_app: Callable[..., Page], screenshot
) -> None:
    """At a projector's 1024 × 768 the preset's numbers are above the fold and Play changes
    them."""
    page = open_app(TAB + "&preset=Noise+hurts+%28GunPoint%29")
    page.set_viewport_size({"width": 1024, "height": 768})
    wait_accuracy(page, "GunPoint")
    expect(page.locator(".ns-status").first).to_contain_text("Test accuracy, depth 4")
    expect(page.locator(".ns-story").first).to_contain_text("Noise hurts (GunPoint).")
    drawn = chip_locator(page, "paths drawn m")
    expect(drawn).to_have_text("8")
    box = drawn.bounding_box()
    assert box is not None and box["y"] + box["height"] < 768, box  # above the fold
    page.get_by_role("button", name="▶ Play").first.click()
    expect(drawn).not_to_have_text("8", timeout=10_000)
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="❚❚ Pause").first.click()
    assert int(drawn.inner_text().replace(",", "")) > 8
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1024, width
    screenshot(page, "signature-noise-hurts-1024")


@pytest.mark.parametrize("width, height", [(1440, 900), (1024, 768)])
def test_expected_signature_plot_fits_its_title_and_legend(
    page: Page, open_app: Callable[..., Page], screenshot, width: int, height: int
) -> None:
    """The bars of the expected signature keep room for their title and their legend beside
    the level-2 matrix, or take the card's width with the matrix under them (at 1440 × 900 the
    card is half the tab: the bars were squeezed to 250 px, their title cut and their legend
    over the matrix's title)."""
    page.set_viewport_size({"width": width, "height": height})
    open_app(TAB)
    card = page.locator(".ns-panel:has-text('Expected signature by level')").first
    card.scroll_into_view_if_needed()
    bars, heat = card.locator(".bk-Figure").nth(0), card.locator(".bk-Figure").nth(1)
    expect(heat).to_be_visible()
    plot, matrix = bars.bounding_box(), heat.bounding_box()
    assert plot is not None and matrix is not None
    assert plot["width"] >= BARS_BASIS, plot
    for part in (".bk-Title", ".bk-Legend"):
        box = bars.locator(part).first.bounding_box()
        assert box is not None, part
        assert box["x"] + box["width"] <= plot["x"] + plot["width"] + 0.5, (part, box, plot)
    beside = matrix["x"] >= plot["x"] + plot["width"] - 0.5
    under = matrix["y"] >= plot["y"] + plot["height"] - 0.5
    assert beside or under, (plot, matrix)
    screenshot(page, f"signature-levels-{width}")
