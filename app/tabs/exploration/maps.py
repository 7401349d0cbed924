"""The hero of the Exploration maps tab: three maps of explorer iteration k (spec §4.1).

* the mixture Dₖ on a log colour scale with Uₖ₊₁ outlined (where the next curious policy is
  paid to go); while Play runs the next policy, its episodes join the mixture step by step;
* the visits of the newest curious policy from the start, with arrows of its greedy action;
* the final restart distribution μ, start state ρ marked, absorbing cells hatched.

Each map is a plain Bokeh figure of ``rect`` cells sharing one log colour mapper; ``update()``
replaces the colour column only (the geometry changes only when the layout does). The plot
frame is sized to the grid, square cells and no blank margin; a chain is a one-row strip.
Text on the maps is plain Unicode (Dₖ, πₖ), never TeX.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import panel as pn
from bokeh.models import ColorBar, LogColorMapper, Range1d
from bokeh.palettes import Viridis256

from app.models.exploration import ExplorationModel
from app.models.exploration.maps import FLOOR
from app.tabs.panel import TabPanel
from app.tabs.plotting import caption, empty_source, labelled_figure, readout, readout_pane

#: Side of a square grid's plot frame (px): two maps side by side fit a 1024-px screen with the
#: controls open, three from about 1400 px.
GRID_SIDE = 210
#: Cell side (px) of a one-row strip (chains): bounds, and the strip's widest frame.
STRIP_CELL = (14, 26)
STRIP_WIDTH = 440
#: Room around a map's frame (px): the title above, the axes with their labels left and below.
FRAME_PAD = {"width": 48, "height": 58}
#: Extra room for μ's colour bar: beside a grid, below a strip (px).
COLOUR_BAR_ROOM = {"width": 80, "height": 62}
WALL = "#3b3b3b"
OUTLINE = "#ff2d55"
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

CAPTIONS = {
    "mixture": "**The mixture Dₖ, log colour.** Outlined: the poorly visited cells Uₖ₊₁, where "
    "the next curious policy is paid to go. Watch them empty.",
    "policy": "**The new policy: its visits and greedy arrows.** Each new policy heads for "
    "the nearest outlined region; mixing in ε of the uniform policy keeps it from being a "
    "single hot cell.",
    "mu": "**μ.** The restart distribution handed to policy gradient; compare its spread with "
    "the start (★). Hatched: absorbing cells (left out of μ by default).",
}


def subscript(n: int) -> str:
    """``n`` in Unicode subscript digits (π₁₂)."""
    return str(n).translate(SUBSCRIPTS)


def md(text: str) -> str:
    """Markdown with literal underscores (subscripts like D_k must not turn into italics)."""
    return text.replace("_", r"\_")


def grid_figure(title: str, mapper: LogColorMapper, walls: Any, terminals: Any) -> tuple[Any, Any]:
    """A map figure of unit cells coloured on ``mapper``, dark walls, hatched terminals."""
    fig = labelled_figure(
        title,
        "",  # tick labels are enough: rows and columns (states on a strip) are numbered
        "",
        tooltips=[("cell (row, col)", "(@row, @col)"), ("share", "@value{0.0000e0}")],
    )
    fig.sizing_mode = "fixed"  # sized to the grid (set_geometry)
    fig.min_border_right = 12
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


def frame_size(grid_shape: tuple[int, int]) -> tuple[int, int]:
    """(width, height) in px of a map's plot frame: square cells, the grid and nothing else."""
    n_rows, n_cols = grid_shape
    if n_rows == 1:  # a chain: one row of cells as wide as they fit
        cell = min(max(STRIP_WIDTH // n_cols, STRIP_CELL[0]), STRIP_CELL[1])
        return cell * n_cols, cell
    cell = GRID_SIDE / max(n_rows, n_cols)
    return round(cell * n_cols), round(cell * n_rows)


def map_size(grid_shape: tuple[int, int], colour_bar: bool = False) -> tuple[int, int]:
    """(width, height) in px of a whole map figure: its frame, axes, title and, if asked, a
    colour bar (beside a grid, below a strip). A figure's size, not its frame's: Panel lays
    out frame-sized Bokeh figures wrongly."""
    width, height = frame_size(grid_shape)
    strip = grid_shape[0] == 1
    width += FRAME_PAD["width"] - (30 if strip else 0)  # a strip has no y axis
    height += FRAME_PAD["height"]
    if colour_bar:
        if strip:
            height += COLOUR_BAR_ROOM["height"]
        else:
            width += COLOUR_BAR_ROOM["width"]
    return width, height


def map_width(grid_shape: tuple[int, int], colour_bar: bool = False) -> int:
    """Width in px of a whole map figure (:func:`map_size`)."""
    return map_size(grid_shape, colour_bar)[0]


def set_geometry(
    figures: Any, grid_shape: tuple[int, int], colour_bars: tuple[Any, ...] = ()
) -> None:
    """Ranges (row 0 on top, exactly the grid: no blank margin) and sizes of map figures for a
    grid of ``grid_shape`` cells (the figures in ``colour_bars`` carry one); a one-row strip
    hides its y axis. A figure's ranges, once set, are updated in place: new range models
    would make Bokeh walk the whole page again to find them."""
    n_rows, n_cols = grid_shape
    for fig in figures:
        x = {"start": -0.5, "end": n_cols - 0.5, "bounds": (-0.5, n_cols - 0.5)}
        y = {"start": n_rows - 0.5, "end": -0.5, "bounds": (-0.5, n_rows - 0.5)}  # row 0 on top
        for name, values in (("x_range", x), ("y_range", y)):
            if isinstance(getattr(fig, name), Range1d):
                getattr(fig, name).update(**values)
            else:
                setattr(fig, name, Range1d(**values))
        fig.width, fig.height = map_size(grid_shape, any(fig is f for f in colour_bars))
        fig.yaxis.visible = n_rows > 1


class ExplorerMaps(TabPanel):
    """The hero: three map figures plus the k readouts; ``rebuild()`` on a new layout,
    ``update()`` per frame (the player may stand between two iterations)."""

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
            "mixture": "Mixture Dₖ, Uₖ₊₁ outlined",
            "policy": "New policy: visits, arrows",
            "mu": "Restart distribution μ",
        }
        for key, title in titles.items():
            fig, source = grid_figure(title, self.mapper, self.walls, self.terminals)
            self.figures[key] = fig
            self.cells[key] = source
        for key in ("mixture", "policy"):  # the new policy heads for the outlined cells
            self.figures[key].rect(
                "x",
                "y",
                0.86,
                0.86,
                source=self.outline,
                fill_alpha=0,
                line_color=OUTLINE,
                line_width=2.2,
            )
        arrow_glyphs(self.figures["policy"], self.arrows)
        for key in ("mixture", "mu"):
            self.figures[key].scatter(
                "x",
                "y",
                source=self.start,
                marker="star",
                size=16,
                fill_color="#ffcc00",
                line_color="black",
            )
        self.colour_bar = ColorBar(color_mapper=self.mapper, width=10, title="share of visits")
        self.figures["mu"].add_layout(self.colour_bar, "right")
        self.readouts = readout_pane()
        self.k_slider = pn.widgets.IntSlider.from_param(
            model.param.k_view, sizing_mode="stretch_width", margin=(4, 12)
        )
        self.notice = pn.pane.Markdown(
            "",
            css_classes=["ns-explorer-notice"],
            margin=(0, 10, 4, 10),
            sizing_mode="stretch_width",
        )
        self.panes = {key: pn.pane.Bokeh(fig, margin=0) for key, fig in self.figures.items()}
        self.columns = {
            key: pn.Column(self.panes[key], caption(md(CAPTIONS[key])), margin=(0, 4))
            for key in ("mixture", "policy", "mu")
        }
        self._key: tuple[Any, ...] | None = None

    def view(self) -> pn.Column:
        return pn.Column(
            pn.Row(self.k_slider, sizing_mode="stretch_width"),
            self.readouts,
            pn.Row(
                *self.columns.values(),
                styles={"flex-wrap": "wrap", "gap": "8px"},
                sizing_mode="stretch_width",
            ),
            self.notice,
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
        shape = geometry["grid_shape"]
        set_geometry(self.figures.values(), shape, colour_bars=(self.figures["mu"],))
        # the colour bar stays where it was added: moving a ColorBar between a figure's sides
        # while the page shows it makes BokehJS throw "cannot find a view for ColorBar"
        for key, column in self.columns.items():
            width, height = map_size(shape, colour_bar=key == "mu")
            self.panes[key].param.update(width=width, height=height)
            column.width = width
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
        outline = {"x": self._xy["x"][U], "y": self._xy["y"][U]}
        if len(outline["x"]) != len(self.outline.data["x"]) or not all(
            np.array_equal(outline[c], self.outline.data[c]) for c in ("x", "y")
        ):
            self.outline.data = outline
        self.arrows.data = m.greedy_arrows(frame["policy"])
        s = m.frame_summary()
        policy = f"π{subscript(s['policy'])}"
        self.figures["policy"].title.text = (
            "Uniform policy π₀: its visits"
            if s["policy"] == 0
            else f"New policy {policy}: visits, arrows"
        )
        k = s["k"]
        mixture = self.figures["mixture"]
        mixture.title.text = f"Mixture D{subscript(k)}, U{subscript(k + 1)} outlined"
        self.readouts.object = readout(
            {
                "iteration k": f"{k} / {s['n_iters']}",
                "episodes run": f"{policy}: {s['share']:.0%}",
                "poorly visited |Uₖ₊₁|": f"{s['n_poorly']} / {s['n_valid']}",
                "entropy H(D̄ₖ)/log|Sᵥ|": f"{s['entropy']:.3f}",
                "mismatch ‖d*/D̄ₖ‖∞": f"{s['mismatch']:.3g}",
            }
        )
        self.notice.object = md(m.explorer_notice)


HERO_CAPTION = caption(
    md(
        "**What to look for.** The explorer starts from the uniform policy π₀: its visits D₀ "
        "pile up near the start. Each iteration pays a new policy to visit the outlined "
        "poorly visited cells; while Play runs it, its episodes join the mixture and the "
        "cells it reaches light up, until no cell is below δ. Then Play reveals the learning "
        "curves. Scrub k with the slider, or press Play."
    )
)
