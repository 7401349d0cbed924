"""The hero of the Exploration maps tab: three maps of explorer iteration k (spec §4.1).

* D_k on a log colour scale with U_{k+1} outlined (where the next curious policy is paid to go);
* d^{π_k}_ρ of the new exploratory policy, with arrows of its greedy action;
* the final restart distribution μ, start state ρ marked, absorbing cells hatched.

Each map is a plain Bokeh figure of ``rect`` cells sharing one log colour mapper; ``update()``
replaces the colour column only (the geometry changes only when the layout does).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import panel as pn
from bokeh.models import ColorBar, LogColorMapper
from bokeh.palettes import Viridis256

from app.models.exploration import LAYOUT_NAMES, ExplorationModel
from app.models.exploration.maps import FLOOR
from app.tabs.panel import TabPanel
from app.tabs.plotting import caption, empty_source, labelled_figure, readout, readout_pane

MAP_HEIGHT = 330
STRIP_HEIGHT = 190
WALL = "#3b3b3b"
OUTLINE = "#ff2d55"

CAPTIONS = {
    "mixture": "**D_k, log colour.** Outlined cells are where the next curious policy is paid "
    "to go; watch them empty room by room.",
    "policy": "**d^{π_k}_ρ with greedy arrows.** Each new policy parks on the nearest poorly "
    "visited region; ε-mixing keeps it from being a single hot pixel.",
    "mu": "**μ.** The restart distribution handed to PG; compare its spread with the start "
    "state (★). Hatched: absorbing cells (excluded from μ by default).",
}


def md(text: str) -> str:
    """Markdown with literal underscores (subscripts like D_k must not turn into italics)."""
    return text.replace("_", r"\_")


def grid_figure(
    title: str, mapper: LogColorMapper, walls: Any, terminals: Any, height: int = MAP_HEIGHT
) -> tuple[Any, Any]:
    """A map figure of unit cells coloured on ``mapper``, dark walls, hatched terminals."""
    fig = labelled_figure(
        title,
        "column",
        "row",
        height=height,
        match_aspect=True,
        tooltips=[("cell (row, col)", "(@row, @col)"), ("share", "@value{0.0000e0}")],
    )
    fig.grid.visible = False
    fig.toolbar_location = None  # the hover still works; the title keeps its room
    fig.title.text_font_size = "12px"
    source = empty_source("x", "y", "row", "col", "value")
    fig.rect(
        "x",
        "y",
        1,
        1,
        source=source,
        line_color="white",
        line_width=0.5,
        fill_color={"field": "value", "transform": mapper},
    )
    fig.rect("x", "y", 1, 1, source=walls, fill_color=WALL, line_color=WALL)
    fig.rect(
        "x",
        "y",
        1,
        1,
        source=terminals,
        fill_alpha=0,
        line_alpha=0,
        hatch_pattern="/",
        hatch_color="#ffffff",
        hatch_alpha=0.7,
        hatch_scale=6,
    )
    return fig, source


def arrow_glyphs(fig: Any, source: Any) -> None:
    """Greedy-action arrows as centred text on the cells."""
    fig.text(
        "x",
        "y",
        "text",
        source=source,
        text_align="center",
        text_baseline="middle",
        text_color="white",
        text_font_size="13px",
        text_font_style="bold",
    )


def set_geometry(figures: Any, grid_shape: tuple[int, int]) -> None:
    """Ranges (row 0 on top) and heights of map figures for a grid of ``grid_shape`` cells."""
    n_rows, n_cols = grid_shape
    height = MAP_HEIGHT if n_rows > 1 else STRIP_HEIGHT
    for fig in figures:
        fig.x_range.start, fig.x_range.end = -0.5, n_cols - 0.5
        fig.y_range.start, fig.y_range.end = n_rows - 0.5, -0.5  # row 0 on top
        fig.height = height
        fig.yaxis.visible = n_rows > 1


class ExplorerMaps(TabPanel):
    """The hero: three map figures plus the k readouts; ``rebuild()`` on a new layout,
    ``update()`` per k."""

    every_frame = True

    def __init__(self, model: ExplorationModel) -> None:
        super().__init__(model)
        self.mapper = LogColorMapper(palette=Viridis256, low=FLOOR, high=1.0, nan_color="#d9d9d9")
        self.figures = {}
        self.cells = {}
        self.outline = empty_source("x", "y")
        self.arrows = empty_source("x", "y", "text")
        self.start = empty_source("x", "y")
        self.terminals = empty_source("x", "y")
        self.walls = empty_source("x", "y")
        titles = {
            "mixture": "Mixture D_k, U_k+1 outlined",
            "policy": "New policy: d^π_k and greedy arrows",
            "mu": "Restart distribution μ",
        }
        for key, title in titles.items():
            fig, source = grid_figure(title, self.mapper, self.walls, self.terminals)
            self.figures[key] = fig
            self.cells[key] = source
        self.figures["mixture"].rect(
            "x",
            "y",
            0.9,
            0.9,
            source=self.outline,
            fill_alpha=0,
            line_color=OUTLINE,
            line_width=2.2,
        )
        arrow_glyphs(self.figures["policy"], self.arrows)
        self.figures["mu"].scatter(
            "x",
            "y",
            source=self.start,
            marker="star",
            size=16,
            fill_color="#ffcc00",
            line_color="black",
        )
        self.figures["mu"].add_layout(
            ColorBar(color_mapper=self.mapper, width=10, title="share of visits"), "right"
        )
        self.readouts = readout_pane()
        self.k_slider = pn.widgets.IntSlider.from_param(
            model.param.k_view, sizing_mode="stretch_width", margin=(4, 12)
        )
        self.notice = pn.pane.Markdown(
            "",
            css_classes=["ns-explorer-notice"],
            height=40,
            margin=(0, 10, 8, 10),
            sizing_mode="stretch_width",
        )
        self._key: tuple[Any, ...] | None = None

    def view(self) -> pn.Column:
        panes = [
            pn.Column(
                pn.pane.Bokeh(self.figures[k], sizing_mode="stretch_width"),
                caption(md(CAPTIONS[k])),
                sizing_mode="stretch_width",
                min_width=300,
            )
            for k in ("mixture", "policy", "mu")
        ]
        return pn.Column(
            pn.Row(self.k_slider, sizing_mode="stretch_width"),
            self.readouts,
            self.notice,
            pn.Row(*panes, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
            css_classes=["ns-explorer-hero"],
        )

    # ------------------------------------------------------------------ data
    def rebuild(self) -> None:
        """New geometry (layout change): cells, walls, terminals, start, ranges, colour range."""
        m = self.model
        geometry = m.map_geometry()
        base = geometry["cells"]
        self._xy = {"x": base["x"], "y": base["y"]}
        for source in self.cells.values():
            source.data = {**base, "value": np.full(len(base["x"]), np.nan)}
        self.walls.data = geometry["walls"]
        self.terminals.data = geometry["terminals"]
        self.start.data = geometry["start"]
        set_geometry(self.figures.values(), geometry["grid_shape"])
        self.mapper.low, self.mapper.high = m.map_colour_range()
        self.cells["mu"].data = {**base, "value": m.map_values(m.explorer["mu"], self.mapper.low)}

    def update(self) -> None:
        m = self.model
        key = (m.explorer_key(), m.distractor_reward)
        if key != self._key:
            self._key = key
            self.rebuild()
        frame = m.frame_arrays()
        low = self.mapper.low
        self.cells["mixture"].patch({"value": [(slice(None), m.map_values(frame["mixture"], low))]})
        self.cells["policy"].patch(
            {"value": [(slice(None), m.map_values(frame["visitation"], low))]}
        )
        U = frame["poorly"][m.map_geometry()["drawn"]]
        self.outline.data = {"x": self._xy["x"][U], "y": self._xy["y"][U]}
        self.arrows.data = m.greedy_arrows(frame["policy"])
        s = m.frame_summary()
        self.readouts.object = readout(
            {
                "layout": LAYOUT_NAMES[m.layout],
                "k": f"{s['k']} / {s['n_iters']}",
                "|U_{k+1}|": f"{s['n_poorly']} / {s['n_valid']}",
                "δ = c/|S_v|": f"{s['delta']:.2g}",
                "H(D̄_k)/log|S_v|": f"{s['entropy']:.3f}",
                "min D̄_k": f"{s['min_mass']:.1e}",
                "‖d*/D̄_k‖∞": f"{s['mismatch']:.3g}",
            }
        )
        self.notice.object = md(m.explorer_notice)


HERO_CAPTION = caption(
    md(
        "**What to look for.** The explorer starts from the uniform policy π₀: its visitation D₀ "
        "is piled up near the start. Each iteration pays a new policy to visit the outlined "
        "poorly visited cells, and the mixture D_k spreads room by room until no cell is below "
        "δ. Scrub k with the slider or press Play."
    )
)
