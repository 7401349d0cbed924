"""The hero panel of the Token synchronization tab: tokens on the circle or sphere, moving.

d = 2 draws the unit circle; d = 3 an orthographic view of the sphere (drag the view angles),
back-side tokens faded; d > 3 a fixed random 2-D projection per seed plus the Gram heatmap.
Trails show each token's last recorded positions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import panel as pn
import param
from bokeh.models import ColorBar, LinearColorMapper
from bokeh.palettes import RdBu11, Turbo256

from app.models.tokens.model import SYNC_OVERLAP, TokensModel
from app.tabs.panel import TabPanel
from app.tabs.plotting import caption, empty_source, labelled_figure, readout, readout_pane

#: Side of the square hero (px): with the readouts and the preset's caption above it, the
#: whole sphere fits a 1024 × 768 projector screen.
HERO_SIZE = 360

#: Narrowest width (px) of the caption beside the hero, as the side column's flex basis: in a
#: narrower window (800 px, the sidebar open) the column wraps under the plot instead of
#: squeezing the caption to a letter per line; at 1024 px it keeps the 225 px beside the plot.
#: A basis, not a min-width: the app's rows wrap but ignore their children's min-widths
#: (app.tabs.swarm.layout).
CAPTION_BASIS = 180

#: Half-width of the hero's view of a random projection in d > 3, in units of 1/√d (the
#: size of a projected coordinate of a spread cloud).
PROJECTION_EXTENT = 3.5

#: What the picture shows, for every preset (each preset's own "what to look for" is its
#: story, shown above the hero).
HERO_CAPTION = """
**The picture.** One dot per token, its colour kept along the run; trails show the last
layers. On the sphere, faded dots lie on the far side. Above three dimensions: a fixed random
projection, and every overlap ⟨xᵢ, xⱼ⟩ in the Gram matrix.
"""

#: Label of the chip with the fraction of synchronized pairs (a preset's story names it).
SYNC_CHIP = f"pairs ⟨xᵢ, xⱼ⟩ > {SYNC_OVERLAP:g}"

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def superscript(n: int) -> str:
    """``n`` in Unicode superscript digits (S³¹ rather than S^{31})."""
    return str(n).translate(_SUPERSCRIPT)


def _rotation(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Rotation taking world coordinates to view coordinates (x right, y up, z to viewer)."""
    a, e = np.radians(azimuth_deg), np.radians(elevation_deg)
    rz = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
    # tilt so that elevation e looks down on the equator from latitude e
    rx = np.array([[1.0, 0.0, 0.0], [0.0, np.sin(e), np.cos(e)], [0.0, -np.cos(e), np.sin(e)]])
    return rx @ rz


def _sphere_grid(n: int = 120) -> np.ndarray:
    """Parallels and meridians of the unit sphere as NaN-separated 3-D polylines (M, 3)."""
    s = np.linspace(0.0, 2.0 * np.pi, n)
    pieces = []
    for lat in np.radians([-60, -30, 0, 30, 60]):
        pieces.append(
            np.column_stack(
                [np.cos(lat) * np.cos(s), np.cos(lat) * np.sin(s), np.full(n, np.sin(lat))]
            )
        )
    half = np.linspace(-np.pi / 2, np.pi / 2, n // 2)
    for lon in np.radians(np.arange(0, 180, 30)):
        for sign in (1.0, -1.0):
            pieces.append(
                np.column_stack(
                    [
                        sign * np.cos(half) * np.cos(lon),
                        sign * np.cos(half) * np.sin(lon),
                        np.sin(half),
                    ]
                )
            )
    nan = np.full((1, 3), np.nan)
    return np.concatenate([np.concatenate([p, nan]) for p in pieces])


_GRID = _sphere_grid()


class HeroView(param.Parameterized):
    """How the hero looks (not what it shows): the view angles and the trail length."""

    view_azimuth = param.Number(30.0, bounds=(-180.0, 180.0), doc="Sphere view: azimuth (°).")
    view_elevation = param.Number(20.0, bounds=(-90.0, 90.0), doc="Sphere view: elevation (°).")
    trail_length = param.Integer(12, bounds=(0, 60), doc="Recorded positions kept as trails.")


class TokenHero(TabPanel):
    """Plots the model's tokens every frame; ``update()`` refreshes the sources in place."""

    every_frame = True

    def __init__(self, model: TokensModel, **view: Any) -> None:
        super().__init__(model)
        self.look = HeroView(**view)
        fig = labelled_figure(
            "Tokens",
            "projection 1",
            "projection 2",
            height=HERO_SIZE,
            x_range=(-1.12, 1.12),
            y_range=(-1.12, 1.12),
            tooltips=[("token", "@index"), ("depth", "@depth{0.00}")],
        )
        # a fixed square frame keeps the sphere round
        fig.sizing_mode = "fixed"
        fig.width = HERO_SIZE
        fig.grid.visible = False
        self._outline = fig.circle(
            x=0,
            y=0,
            radius=1.0,
            fill_alpha=0.04,
            fill_color="#2f6f9f",
            line_color="#2f6f9f",
            line_alpha=0.6,
        )
        self._grid_front = empty_source("x", "y")
        self._grid_back = empty_source("x", "y")
        fig.line(
            "x", "y", source=self._grid_back, line_alpha=0.15, line_dash="dotted", color="#555555"
        )
        fig.line("x", "y", source=self._grid_front, line_alpha=0.35, color="#555555")
        # trails as segments: a handful of flat numeric arrays (binary websocket buffers) per
        # frame instead of one list per token; older segments fade
        self._color_mapper = LinearColorMapper(palette=Turbo256, low=0.0, high=1.0)
        self._trails = empty_source("x0", "y0", "x1", "y1", "hue", "alpha")
        fig.segment(
            "x0",
            "y0",
            "x1",
            "y1",
            source=self._trails,
            line_color={"field": "hue", "transform": self._color_mapper},
            line_alpha="alpha",
            line_width=1.5,
        )
        self._points = empty_source("x", "y", "hue", "alpha", "index", "depth")
        renderer = fig.scatter(
            "x",
            "y",
            source=self._points,
            size=9,
            fill_color={"field": "hue", "transform": self._color_mapper},
            fill_alpha="alpha",
            line_color="#222222",
            line_alpha="alpha",
        )
        fig.hover.renderers = [renderer]
        self.figure = fig
        self._scene: tuple | None = None  # (d, euclidean, azimuth, elevation) last drawn

        gram = labelled_figure(
            "Gram matrix ⟨xᵢ, xⱼ⟩",
            "token j",
            "token i",
            height=280,
            x_range=(0, 1),
            y_range=(0, 1),
            tooltips=[("⟨xᵢ, xⱼ⟩", "@image{0.000}")],
        )
        mapper = LinearColorMapper(palette=list(reversed(RdBu11)), low=-1.0, high=1.0)
        self._gram = {"image": [np.zeros((1, 1))], "x": [0], "y": [0], "dw": [1], "dh": [1]}
        self._gram_source = empty_source("image", "x", "y", "dw", "dh")
        gram.image(
            "image", x="x", y="y", dw="dw", dh="dh", source=self._gram_source, color_mapper=mapper
        )
        gram.add_layout(ColorBar(color_mapper=mapper, width=10), "right")
        # the tokens' order carries no meaning: no tick numbers (they crowd a narrow column)
        gram.axis.major_label_text_font_size = "0px"
        gram.axis.major_tick_line_color = gram.axis.minor_tick_line_color = None
        self.gram_figure = gram
        self.gram_pane = pn.pane.Bokeh(gram, sizing_mode="stretch_width", visible=False)
        self.readouts = readout_pane(css_classes=["ns-hero-readout"])
        look = self.look.param
        self.view_controls = pn.Row(
            pn.widgets.FloatSlider.from_param(look.view_azimuth, label="View azimuth (°)"),
            pn.widgets.FloatSlider.from_param(look.view_elevation, label="Elevation (°)"),
            pn.widgets.IntSlider.from_param(look.trail_length, label="Trail length"),
            sizing_mode="stretch_width",
        )
        self.redraw_on(self.look, ["view_azimuth", "view_elevation", "trail_length"])

    def view(self) -> pn.viewable.Viewable:
        return pn.Column(
            self.readouts,
            # the side column takes what the square hero leaves (no fixed width: nothing may
            # be cut off on the right at 1024 px), or the row under it when that is less
            # than CAPTION_BASIS
            pn.Row(
                pn.pane.Bokeh(self.figure),
                # the Gram matrix (d > 3) first: it shows the collapse there, above the fold
                pn.Column(
                    self.gram_pane,
                    caption(HERO_CAPTION),
                    sizing_mode="stretch_width",
                    styles={"flex": f"1 1 {CAPTION_BASIS}px"},
                ),
                sizing_mode="stretch_width",
            ),
            self.view_controls,
            sizing_mode="stretch_width",
        )

    # --------------------------------------------------------------- update
    def _project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """View coordinates (x, y) and depth (toward the viewer) of points (..., d)."""
        d = points.shape[-1]
        if d == 2:
            return points[..., 0], points[..., 1], np.ones(points.shape[:-1])
        if d == 3:
            v = points @ _rotation(self.look.view_azimuth, self.look.view_elevation).T
            return v[..., 0], v[..., 1], v[..., 2]
        v = points @ self.model.projection
        return v[..., 0], v[..., 1], np.ones(points.shape[:-1])

    def update(self) -> None:
        """Redraw the tokens (every frame); the static scene only when its setup changed."""
        model = self.model
        x = model.x
        n, d = x.shape
        if not np.all(np.isfinite(x)):
            return
        px, py, depth = self._project(x)
        hue = np.arange(n) / max(n - 1, 1)  # each token keeps its colour along the run
        alpha = np.where(depth >= 0, 0.95, 0.3)
        self._points.data = {
            "x": px,
            "y": py,
            "hue": hue,
            "alpha": alpha,
            "index": np.arange(n),
            "depth": depth,
        }
        self._update_trails(hue)
        euclidean = model.manifold == "euclidean"
        if euclidean:
            extent = max(1.12, 1.1 * float(np.max(np.abs([px, py]))))
        elif d > 3:
            # a random projection of a spread cloud in d dimensions has coordinates of size
            # 1/√d: zoom to them (fixed per d, so a collapse still shows as one dot)
            extent = min(1.12, PROJECTION_EXTENT / np.sqrt(d))
        else:
            extent = 1.12
        self.figure.x_range.update(start=-extent, end=extent)
        self.figure.y_range.update(start=-extent, end=extent)
        scene = (d, euclidean, self.look.view_azimuth, self.look.view_elevation)
        if scene != self._scene:
            self._draw_scene(d, euclidean)
            self._scene = scene
        if d > 3:
            self._gram_source.data = {
                "image": [model.gram()],
                "x": [0],
                "y": [0],
                "dw": [1],
                "dh": [1],
            }
        if self.due("readouts"):
            self._update_readouts()

    def _draw_scene(self, d: int, euclidean: bool) -> None:
        """Sphere grid, title, axes and panel visibility: sent only when they change."""
        if d == 3:
            gx, gy, gz = self._project(_GRID)
            front = np.where(gz >= 0, 1.0, np.nan)
            back = np.where(gz < 0, 1.0, np.nan)
            self._grid_front.data = {"x": gx * front, "y": gy * front}
            self._grid_back.data = {"x": gx * back, "y": gy * back}
        else:
            self._grid_front.data = {"x": [], "y": []}
            self._grid_back.data = {"x": [], "y": []}
        if euclidean:
            self.figure.title.text = f"Tokens in ℝ{superscript(d)} (euclidean: no normalization)"
        else:
            self.figure.title.text = {
                2: "Tokens on the circle S¹",
                3: "Tokens on the sphere S²",
            }.get(d, f"Tokens on S{superscript(d - 1)} (random 2-D view)")
        labels = {2: ("x₁", "x₂"), 3: ("", "")}.get(
            d, ("random projection 1", "random projection 2")
        )
        self.figure.xaxis.axis_label, self.figure.yaxis.axis_label = labels
        # the orthographic sphere has no meaningful axes
        self.figure.xaxis.visible = self.figure.yaxis.visible = d != 3
        self.view_controls[0].visible = self.view_controls[1].visible = d == 3
        self.gram_pane.visible = self.gram_figure.visible = d > 3

    def _update_readouts(self) -> None:
        model = self.model
        h = model.history
        self.readouts.object = readout(
            {
                "t": f"{model.t:.3f}",
                "layer k": f"{model.n_steps_done}",
                "diameter": f"{h['diameter'][-1]:.3g}",
                "|x̄|": f"{h['mean_norm'][-1]:.3g}",
                "clusters": f"{h['clusters'][-1]}",
                SYNC_CHIP: f"{100 * h['sync_fraction'][-1]:.0f}%",
            }
        )

    def _update_trails(self, hue: np.ndarray) -> None:
        k = self.look.trail_length
        frames = self.model.history["tokens"][-k - 1 :] if k > 0 else []
        if len(frames) < 2:
            self._trails.data = {name: [] for name in ("x0", "y0", "x1", "y1", "hue", "alpha")}
            return
        tx, ty, _ = self._project(np.stack(frames, axis=1))  # (N, frames)
        n, f = tx.shape
        # many tokens: fainter trails; older segments fade linearly
        age_fade = np.arange(1, f) / (f - 1)
        alpha = min(0.5, 12.0 / n) * np.broadcast_to(age_fade, (n, f - 1))
        self._trails.data = {
            "x0": tx[:, :-1].ravel(),
            "y0": ty[:, :-1].ravel(),
            "x1": tx[:, 1:].ravel(),
            "y1": ty[:, 1:].ravel(),
            "hue": np.repeat(hue, f - 1),
            "alpha": alpha.ravel(),
        }
