"""The sweep panel on every tab, in a real browser (issue 15, item 8): a small sweep from a
link runs on the cluster, its cells fill in, and clicking a cell loads that point into the
live view and the link."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Page, expect

from app.sweeps.grid import default_axis
from app.sweeps.registry import SWEEP_SLUGS, model_sweep

#: JS: rows in the sweep heatmap's (or curve's) drawn sources, by kind.
CELLS_DRAWN = """() => {
  const doc = Bokeh.documents[Bokeh.documents.length - 1];
  let drawn = 0;
  for (const model of doc.all_models) {
    const data = model.data;
    if (data && data.x_lo !== undefined && data.cell !== undefined) drawn += data.cell.length;
  }
  return drawn;
}"""


def sweep_link(slug: str) -> tuple[str, str, str]:
    sweep = model_sweep(slug)
    x, y = sweep.headline
    query = {
        "tab": slug,
        "sweep_x": default_axis(sweep, x, 3).text(),
        "sweep_y": default_axis(sweep, y, 2).text(),
        "sweep_reps": "1",
    }
    return "?" + urlencode(query), x, y


@pytest.mark.parametrize("slug", SWEEP_SLUGS)
def test_a_small_sweep_fills_in_and_a_click_loads_its_cell(
    slug: str, open_app: Callable[..., Page], screenshot
) -> None:
    link, x, y = sweep_link(slug)
    page = open_app(link)
    header = page.locator(".card-header", has_text="Sweep: how an outcome")
    header.scroll_into_view_if_needed()
    header.click()
    card = page.locator(".ns-panel", has_text="Sweep: how an outcome").first
    run = card.locator("button", has_text="Run sweep")
    expect(run).to_be_visible()
    run.click()
    expect(card).to_contain_text("Done: ", timeout=120_000)
    n_cells = 3 * min(2, default_axis(model_sweep(slug), y, 2).n)
    page.wait_for_function(f"() => ({CELLS_DRAWN})() >= {n_cells}", timeout=20_000)
    screenshot(page, f"sweep-{slug}")

    canvas = card.locator(".bk-Canvas").last
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    # the frame (inside the axes, left of the colour bar and legend) is tiled by cells
    page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.5 * box["height"])
    expect(card).to_contain_text("into the live view", timeout=15_000)
    message = card.locator("pre", has_text="into the live view").inner_text()
    loaded = float(re.search(r"= ([-+0-9.e]+)", message).group(1))
    default = model_sweep(slug).params_class.param[x].default
    if loaded != default:  # a link carries the values that differ from the defaults
        page.wait_for_function(
            f"() => new URLSearchParams(window.location.search).has({x!r})", timeout=15_000
        )
        query = parse_qs(urlparse(page.url).query)
        assert float(query[x][0]) == pytest.approx(loaded, rel=1e-3)
    query = parse_qs(urlparse(page.url).query)
    assert query["sweep_x"][0].startswith(f"{x}=")  # the sweep stays in the link
