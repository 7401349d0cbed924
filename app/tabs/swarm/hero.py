"""The hero of the Swarm escapes tab: the swarm on the landscape, next to its ghost baselines.

Left: the softmin swarm on a cached contour of f, particles coloured by log₁₀ w_i, filled when
they descend (c_i > 0) and hollow when they explore (c_i < 0), the dashed level set
{f = J + 1/β}, a star at the best point so far and short trails. Right: the same landscape with
the independent Langevin ghosts (same start, same noise) and, when switched on, the CBO and PSO
ghosts. In 1-D both show f(x) with the particles at (x, f(x)). Sources are replaced in place.
"""

from __future__ import annotations

import math
import time

import numpy as np
import panel as pn
from bokeh.models import ColorBar, LinearColorMapper, Range1d
from bokeh.palettes import Plasma256
from contourpy import contour_generator

from app.models.swarm.model import SwarmModel
from app.tabs.plotting import (
    caption,
    empty_source,
    labelled_figure,
    readout,
    readout_pane,
)
from kernels import swarm
from kernels.swarm.objectives import grid_values

HERO_SIZE = 400
GRID_N = 200
LOGW_FLOOR = -8.0
#: Seconds between readout refreshes while playing (text changes cost the browser a relayout:
#: refreshed every frame they cut the animation from ~25 to ~10 painted frames per second).
READOUT_PERIOD_S = 0.5
#: While playing, the J + 1/β level set is re-contoured at most this often (it moves slowly;
#: every frame it was one more data-source change for the browser to apply).
LEVEL_PERIOD_S = 0.15
GHOST_STYLE = {  # method -> (marker, colour, label)
    "langevin": ("circle", "#4d4d4d", "Langevin (same noise)"),
    "cbo": ("triangle", "#b35806", "CBO (same noise)"),
    "pso": ("square", "#1b7837", "PSO"),
}

HERO_CAPTION = """
**What to look for.** Filled dots descend, hollow dots explore; watch one slip over the saddle
and the swarm re-weight. The swarm (left) and the grey Langevin ghosts (right) start together
and feel the *same* noise: explorers above the dashed line {f = J + 1/β} climb out of the
shallow well, one finds the deep well, becomes the leader and pulls the others after it, while
the ghosts stay stuck behind the full barrier.
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


class SwarmHero:
    """Landscape, swarm and ghosts; ``update()`` refreshes the sources in place."""

    def __init__(self, model: SwarmModel) -> None:
        self.model = model
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
        from bokeh.models import HoverTool

        fig.add_tools(
            HoverTool(
                renderers=[dots],
                tooltips=[
                    ("role", "@role"),
                    ("f", "@f{0.0000}"),
                    ("log10 w", "@logw{0.0}"),
                    ("c", "@c{0.000}"),
                ],
            )
        )
        fig.add_layout(ColorBar(color_mapper=self.mapper, width=10, title="log10 w"), "right")
        fig.width = HERO_SIZE + 70  # room for the colour bar
        fig.legend.location = "top_left"
        fig.legend.label_text_font_size = "11px"
        fig.legend.background_fill_alpha = 0.6
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
        self.ghost_figure.legend.location = "top_left"
        self.ghost_figure.legend.label_text_font_size = "11px"
        self.ghost_figure.legend.background_fill_alpha = 0.6
        self.readouts = readout_pane(900, css_classes=["ns-hero-readout"])  # fits 1400 px
        self._scene: tuple | None = None
        self._readouts_at = 0.0
        self._level_at = 0.0
        self._best_sent: tuple[float, float] | None = None
        self._grid: np.ndarray | None = None
        self._contour_gen = None

    def _landscape(self, title: str):
        fig = labelled_figure(
            title, "x₁", "x₂", height=HERO_SIZE, x_range=self.x_range, y_range=self.y_range
        )
        fig.sizing_mode = "fixed"
        fig.width = HERO_SIZE
        fig.grid.visible = False
        # one static RGBA image with the contour lines baked in: the figure repaints every
        # frame, and a multi-line of thousands of contour points would be redrawn each time
        fig.image_rgba("image", x="x", y="y", dw="dw", dh="dh", source=self._background)
        fig.line("x", "y", source=self._curve, line_color="#555555", line_width=2)
        return fig

    def layout(self) -> pn.viewable.Viewable:
        return pn.Column(
            self.readouts,
            pn.Row(pn.pane.Bokeh(self.figure), pn.pane.Bokeh(self.ghost_figure)),
            pn.Column(caption(HERO_CAPTION), max_width=900, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    # -------------------------------------------------------------- scene
    def _draw_scene(self) -> None:
        """Background contour (2-D) or curve (1-D): rebuilt only when f, the box or a change."""
        m = self.model
        lo, hi = m.box
        tilt = m.kernel_kwargs()["tilt"]
        self.x_range.update(start=lo, end=hi)
        if m.dim == 2:
            grid = grid_values(m.objective, lo, hi, tilt, GRID_N)
            self._grid = grid
            self._contour_gen = contour_generator(
                x=np.linspace(lo, hi, GRID_N), y=np.linspace(lo, hi, GRID_N), z=grid
            )
            self._background.data = {
                "image": [landscape_rgba(grid)],
                "x": [lo],
                "y": [lo],
                "dw": [hi - lo],
                "dh": [hi - lo],
            }
            self._curve.data = {"x": [], "y": []}
            self.y_range.update(start=lo, end=hi)
            labels = ("x₁", "x₂")
        else:
            self._grid = None
            xs = np.linspace(lo, hi, 600)
            f = swarm.objective_value(m.objective, xs[:, None], tilt)
            self._curve.data = {"x": xs, "y": f}
            self._background.data = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
            pad = 0.05 * (f.max() - f.min())
            self.y_range.update(start=float(f.min() - pad), end=float(f.max() + pad))
            labels = ("x", "f(x)")
        for fig in (self.figure, self.ghost_figure):
            fig.xaxis.axis_label, fig.yaxis.axis_label = labels

    def _xy(self, x: np.ndarray, f: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if x.shape[1] >= 2:
            return x[:, 0], x[:, 1]
        if f is None:
            f = swarm.objective_value(self.model.objective, x, self.model.kernel_kwargs()["tilt"])
        return x[:, 0], f

    # ------------------------------------------------------------- update
    def update(self) -> None:
        m = self.model
        scene = (m.objective, m.dim, m.kernel_kwargs()["tilt"])
        if scene != self._scene:
            self._draw_scene()
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
        now = time.monotonic()
        if not m.playing or now - self._level_at >= LEVEL_PERIOD_S:
            self._level_at = now
            self._update_level(snap["level"])
        self._update_trails()
        for method, (source, renderer) in self._ghosts.items():
            shown = getattr(m, "show_" + method)
            renderer.visible = shown
            if shown:
                gx, gy = self._xy(m.ghosts[method].x)
                source.data = {"x": gx, "y": gy}
        if not m.playing or now - self._readouts_at >= READOUT_PERIOD_S:
            self._readouts_at = now
            self._update_readouts(snap)

    def _update_level(self, level: float) -> None:
        m = self.model
        lo, hi = m.box
        if not math.isfinite(level):
            self._level.data = {"xs": [], "ys": []}
        elif m.dim == 1:
            self._level.data = {"xs": [[lo, hi]], "ys": [[level, level]]}
        elif self._contour_gen is not None:
            lines = self._contour_gen.lines(float(level))
            self._level.data = {"xs": [ln[:, 0] for ln in lines], "ys": [ln[:, 1] for ln in lines]}

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
                "J": f"{snap['J']:.4f}",
                "best f": f"{m.swarm.best if m.swarm.steps else float(np.min(snap['f'])):.4f}",
                "explorers": f"{100 * float(np.mean(snap['explorers'])):.0f}%",
                "swarm reached target": escaped(hits["softmin"]),
                "Langevin reached target": escaped(hits["langevin"]),
                "stability hκL(1+(N−1)/e)": badge,
            }
        )
