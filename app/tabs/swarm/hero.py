"""The hero of the Swarm escapes tab: the swarm on the landscape, next to its ghost baselines.

Left: the softmin swarm on a cached contour of f, particles coloured by log₁₀ w_i, filled when
they descend (c_i > 0) and hollow when they explore (c_i < 0), the dashed level set
{f = J + 1/β}, a star at the best point so far and short trails. Right: the same landscape with
the independent Langevin ghosts (same start, same noise) and, when switched on, the CBO and PSO
ghosts. In 1-D both show f(x) with the particles at (x, f(x)). Sources are replaced in place.
"""

from __future__ import annotations

import math

import numpy as np
import panel as pn
from bokeh.models import HoverTool, LinearColorMapper, NoOverlap, Range1d
from bokeh.palettes import Plasma256

from app.models.swarm.landscape import Landscape
from app.models.swarm.model import SwarmModel
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
    caption,
    empty_source,
    labelled_figure,
    readout,
    readout_pane,
)

#: Side (px) of a landscape plot at its largest; both plots shrink with the window, keeping
#: their aspect, so that they sit side by side from a 1024 px projector up.
HERO_SIZE = 380
#: Pixels a plot adds to its frame: the y axis across; the title, the x axis and the legend
#: down (so that the frame stays about square as the plot scales).
FRAME_EXTRA_WIDTH = 55
FRAME_EXTRA_HEIGHT = 100
LOGW_FLOOR = -8.0
GHOST_STYLE = {  # method -> (marker, colour, legend label; the caption says who shares noise)
    "langevin": ("circle", "#4d4d4d", "Langevin"),
    "cbo": ("triangle", "#b35806", "CBO"),
    "pso": ("square", "#1b7837", "PSO"),
}

HERO_CAPTION = """
**How to read it.** Left, the softmin swarm on the landscape (darker grey is lower f): filled
dots descend (c > 0), hollow dots explore (c < 0); the colour is the weight w (yellow: the
leader, with nearly all of it; dark purple: 10⁻⁸ or less, see the weights panel); the dashed
line is the level set f = J + 1/β and the star the best point so far. Right, the
baselines from the same start; the Langevin and CBO ghosts feel the *same* noise as the swarm.
"""


def landscape_rgba(grid: np.ndarray, n_levels: int = 16) -> np.ndarray:
    """Grey shading of log(1 + f − min f) (wells darker) with contour lines drawn where the
    level index changes between neighbouring pixels, packed as RGBA uint32 for image_rgba."""
    shade = np.log1p(grid - grid.min())
    shade /= max(float(shade.max()), 1e-12)
    grey = 150.0 + 100.0 * shade  # mid grey in the wells, near white on the hills
    levels = np.quantile(shade, np.linspace(0.02, 0.95, n_levels))
    index = np.digitize(shade, levels)
    edge = np.zeros(grid.shape, dtype=bool)
    edge[:, 1:] |= index[:, 1:] != index[:, :-1]
    edge[1:, :] |= index[1:, :] != index[:-1, :]
    grey = np.where(edge, grey * 0.72, grey).astype(np.uint32)
    return (255 << 24) | (grey << 16) | (grey << 8) | grey  # little-endian RGBA bytes


def legend_below(fig) -> None:
    """The figure's legend in one line under the plot, where it hides none of the landscape."""
    legend = fig.legend[0]
    fig.center.remove(legend)
    legend.orientation = "horizontal"
    legend.label_text_font_size = "12px"
    legend.spacing = 12
    legend.margin = 4
    legend.padding = 2
    legend.border_line_alpha = 0
    fig.add_layout(legend, "below")


class SwarmHero(TabPanel):
    """Landscape, swarm and ghosts; ``update()`` refreshes the sources in place (every frame;
    the level set at the model's ``level_set_interval`` and the readouts at
    :data:`app.tabs.panel.READOUT_INTERVAL_S` while playing)."""

    every_frame = True

    def __init__(self, model: SwarmModel) -> None:
        super().__init__(model)
        self.x_range = Range1d(-2, 2)
        self.y_range = Range1d(-2, 2)
        self._background = empty_source("image", "x", "y", "dw", "dh")
        self._curve = empty_source("x", "y")
        self.mapper = LinearColorMapper(palette=Plasma256, low=LOGW_FLOOR, high=0.0)
        self.figure = self._landscape("Softmin swarm")
        self.ghost_figure = self._landscape("Baselines from the same start")
        fig = self.figure
        self._trails = empty_source("x0", "y0", "x1", "y1")
        fig.segment(
            "x0",
            "y0",
            "x1",
            "y1",
            source=self._trails,
            line_color="#7b3294",
            line_alpha=0.25,
            line_width=1.2,
        )
        self._level = empty_source("xs", "ys")
        fig.multi_line(
            "xs",
            "ys",
            source=self._level,
            line_dash="dashed",
            line_width=2,
            line_color="#d62728",
            legend_label="f = J + 1/β",
        )
        self._best = empty_source("x", "y")
        fig.scatter(
            "x",
            "y",
            source=self._best,
            marker="star",
            size=28,
            fill_color="#ffd700",
            fill_alpha=0.3,  # the leader's own dot shows through
            line_color="black",
            line_width=1.5,
            legend_label="best so far",
        )
        self._points = empty_source("x", "y", "logw", "fill", "c", "f", "role")
        dots = fig.scatter(
            "x",
            "y",
            source=self._points,
            size=11,
            line_width=2,
            fill_color={"field": "logw", "transform": self.mapper},
            fill_alpha="fill",
            line_color={"field": "logw", "transform": self.mapper},
        )
        fig.add_tools(
            HoverTool(
                renderers=[dots],
                tooltips=[
                    ("role", "@role"),
                    ("f", "@f{0.0000}"),
                    ("log₁₀ w", "@logw{0.0}"),
                    ("c", "@c{0.000}"),
                ],
            )
        )
        legend_below(fig)
        self._ghosts = {}
        for method, (marker, colour, label) in GHOST_STYLE.items():
            source = empty_source("x", "y")
            renderer = self.ghost_figure.scatter(
                "x",
                "y",
                source=source,
                marker=marker,
                size=10,
                fill_color=colour,
                fill_alpha=0.85,
                line_color="black",
                line_width=0.8,
                legend_label=label,
            )
            self._ghosts[method] = (source, renderer)
        legend_below(self.ghost_figure)
        self._ghost_items = {
            method: next(
                item for item in self.ghost_figure.legend[0].items if renderer in item.renderers
            )
            for method, (_, renderer) in self._ghosts.items()
        }
        self.readouts = readout_pane(css_classes=["ns-hero-readout"])
        self._scene: Landscape | None = None
        self._best_sent: tuple[float, float] | None = None

    def _landscape(self, title: str):
        fig = labelled_figure(
            title, "x₁", "x₂", height=HERO_SIZE, x_range=self.x_range, y_range=self.y_range
        )
        # scales with the window at a fixed aspect (a landscape must not look stretched): the
        # frame is about square with the title, the axes and the legend around it
        fig.sizing_mode = "scale_width"
        fig.width = HERO_SIZE + FRAME_EXTRA_WIDTH
        fig.height = HERO_SIZE + FRAME_EXTRA_HEIGHT
        fig.grid.visible = False
        # the ticks stay 0.5 apart in data units while the plot shrinks with the window: at
        # 800 px (a frame of 125 px) the x labels ran into one another. A label that would come
        # closer than a few pixels to the last one drawn is left out (its tick mark stays)
        for axis in fig.axis:
            axis.major_label_policy = NoOverlap()
        # one static RGBA image with the contour lines baked in: the figure repaints every
        # frame, and a multi-line of thousands of contour points would be redrawn each time
        fig.image_rgba("image", x="x", y="y", dw="dw", dh="dh", source=self._background)
        fig.line("x", "y", source=self._curve, line_color="#555555", line_width=2)
        return fig

    def view(self) -> pn.viewable.Viewable:
        side = HERO_SIZE + FRAME_EXTRA_WIDTH
        plots = pn.Row(
            pn.pane.Bokeh(self.figure, sizing_mode="scale_width", max_width=side),
            pn.pane.Bokeh(self.ghost_figure, sizing_mode="scale_width", max_width=side),
            sizing_mode="stretch_width",
            max_width=2 * side + 20,
        )
        return pn.Column(
            self.readouts,
            plots,
            pn.Column(caption(HERO_CAPTION), max_width=900, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    # -------------------------------------------------------------- scene
    def _draw_scene(self, scene: Landscape) -> None:
        """Background contour image (2-D) or curve (1-D) of the model's landscape."""
        lo, hi = scene.lo, scene.hi
        self.x_range.update(start=lo, end=hi)
        if scene.grid is not None:
            self._background.data = {
                "image": [landscape_rgba(scene.grid)],
                "x": [lo],
                "y": [lo],
                "dw": [hi - lo],
                "dh": [hi - lo],
            }
            self._curve.data = {"x": [], "y": []}
            self.y_range.update(start=lo, end=hi)
            labels = ("x₁", "x₂")
        else:
            self._curve.data = {"x": scene.curve_x, "y": scene.curve_f}
            self._background.data = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
            f_min, f_max = scene.value_range
            pad = 0.05 * (f_max - f_min)
            self.y_range.update(start=f_min - pad, end=f_max + pad)
            labels = ("x", "f(x)")
        for fig in (self.figure, self.ghost_figure):
            fig.xaxis.axis_label, fig.yaxis.axis_label = labels

    def _xy(self, x: np.ndarray, f: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Plot coordinates of the rows of ``x``: (x₁, x₂) in 2-D, (x, f(x)) in 1-D."""
        if x.shape[1] >= 2:
            return x[:, 0], x[:, 1]
        return x[:, 0], self.model.values(x) if f is None else f

    # ------------------------------------------------------------- update
    def update(self) -> None:
        m = self.model
        scene = m.landscape()
        if scene is not self._scene:
            self._draw_scene(scene)
            self._scene = scene
        snap = m.snapshot()
        x = snap["x"]
        if not np.all(np.isfinite(x)):
            return
        px, py = self._xy(x, snap["f"])
        logw = np.maximum(np.log10(np.maximum(snap["w"], 1e-300)), LOGW_FLOOR)
        explorers = snap["explorers"]
        self._points.data = {
            "x": px,
            "y": py,
            "logw": logw,
            "fill": np.where(explorers, 0.0, 0.95),
            "c": snap["c"],
            "f": snap["f"],
            "role": np.where(explorers, "exploring (c < 0)", "descending (c > 0)"),
        }
        bx, by = self._xy(m.swarm.best_x[None])
        if (bx[0], by[0]) != self._best_sent:  # the best point moves rarely: send it when it does
            self._best_sent = (bx[0], by[0])
            self._best.data = {"x": bx, "y": by}
        if self.due("level set", m.level_set_interval):
            xs, ys = scene.level_lines(snap["level"])
            self._level.data = {"xs": xs, "ys": ys}
        self._update_trails()
        for method, (source, renderer) in self._ghosts.items():
            shown = getattr(m, "show_" + method)
            renderer.visible = shown
            self._ghost_items[method].visible = shown  # the legend lists what is drawn
            if shown:
                gx, gy = self._xy(m.ghosts[method].x)
                source.data = {"x": gx, "y": gy}
        if self.due("readouts"):
            self._update_readouts(snap)

    def _update_trails(self) -> None:
        frames = self.model.trail
        if len(frames) < 2 or self.model.dim == 1:
            self._trails.data = {"x0": [], "y0": [], "x1": [], "y1": []}
            return
        path = np.stack(frames, axis=1)  # (N, frames, d)
        self._trails.data = {
            "x0": path[:, :-1, 0].ravel(),
            "y0": path[:, :-1, 1].ravel(),
            "x1": path[:, 1:, 0].ravel(),
            "y1": path[:, 1:, 1].ravel(),
        }

    def _update_readouts(self, snap: dict) -> None:
        m = self.model
        hits = m.hit_times()
        number, verdict = m.stability()
        badge = verdict if number is None else f"{number:.2f} {verdict}"

        def escaped(t: float) -> str:
            return f"t = {t:.1f}" if math.isfinite(t) else "not yet"

        self.readouts.object = readout(
            {
                "t": f"{m.t:.2f}",
                "β(t)": f"{snap['beta']:.3g}",
                "σ(t)": f"{snap['sigma']:.3g}",
                "best f": f"{m.best_value:.4f}",
                "explorers": f"{100 * snap['explorer_share']:.0f}%",
                "swarm reached target": escaped(hits["softmin"]),
                "Langevin reached target": escaped(hits["langevin"]),
                # hκL(1 + (N−1)/e), explained under Diagnostics (J is drawn in the time series)
                "stability": badge,
            }
        )
