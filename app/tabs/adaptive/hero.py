"""Hero panel of the Adaptive SGD tab: the chain and its continuous equation on the landscape.

Drawn to be read on a projector (issue 12): a few things, each labelled once.

* 2-D landscapes: loss contours; each cloud as its 2σ covariance ellipse at the time cursor
  (about 86% of a Gaussian cloud; the chain shaded, the continuous equation dashed); both mean
  paths; three sample paths of each, driven by the same noise (the chain's path k and the
  equation's path k are twins); the noise-free ODE's path when another order is drawn.
* The 1-D double well: the paths θ(t) against time. The chain's cloud is a density (shading:
  where its paths are at each time, up to the cursor); eight sample paths of each and their
  twins; the ODE; dotted lines at the two wells and the barrier.
"""

from __future__ import annotations

import contourpy
import numpy as np
import panel as pn
from bokeh.core.properties import value
from bokeh.models import Label, Legend, LegendItem, LinearColorMapper, Span

from app.models.adaptive.model import DENSITY_BINS, AdaptiveModel, double_well_points
from app.models.adaptive.params import ORDER_LABELS
from app.tabs.panel import TabPanel
from app.tabs.plotting import caption, empty_source, labelled_figure, readout, readout_pane

CHAIN = "#1f77b4"
SDE = "#d62728"
ODE = "#2ca02c"
#: Sample paths drawn per cloud (2-D, 1-D).
N_SAMPLE_2D = 3
N_SAMPLE_1D = 8
#: Stored frames of the 2-D sample paths' trails (their whole history scribbles over the
#: minimum once the clouds have arrived; the mean paths keep the history).
TRAIL_FRAMES = 20
#: The clouds' ellipses: this many standard deviations (2: about 86% of a Gaussian cloud).
ELLIPSE_SIGMAS = 2.0
#: The density's colours: the chain's blue, from transparent (no paths) to opaque (most).
DENSITY_PALETTE = [f"{CHAIN}{alpha:02x}" for alpha in np.linspace(0, 200, 24).astype(int)]

CAPTION_2D = """
**How to read it.** Shaded blue ellipse: where about 86% of the chain's paths are now; dashed
red ellipse: the same for its continuous equation. Thick lines: the two mean paths. Thin lines:
the recent steps of three sample paths of each, driven by the same noise. Green: the
noise-free ODE. Drag the time slider to scrub through the run.
"""
CAPTION_1D = """
**How to read it.** Blue shading: where the chain's paths are at each time (darker: more
paths). Thin lines: eight sample paths of the chain (blue) and of its continuous equation (red,
dashed) driven by the same noise. Green: the noise-free ODE. Dotted lines: the two wells and
the barrier between them.
"""


class AdaptiveHero(TabPanel):
    """The landscape plot; ``update()`` refreshes the sources in place."""

    every_frame = True

    def __init__(self, model: AdaptiveModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "The chain and its continuous equation, same noise",
            "θ₁",
            "θ₂",
            height=420,
            match_aspect=True,
        )
        fig.title.text_font_size = "15px"
        fig.xaxis.axis_label_text_font_size = fig.yaxis.axis_label_text_font_size = "14px"
        self._contours = empty_source("xs", "ys")
        fig.multi_line("xs", "ys", source=self._contours, color="#999999", line_alpha=0.45)
        # 1-D only: the chain's density over time, revealed up to the cursor
        self._density = empty_source("image", "x", "y", "dw", "dh")
        mapper = LinearColorMapper(
            palette=DENSITY_PALETTE, low=0.0, high=1.0, nan_color=(0, 0, 0, 0)
        )
        fig.image(
            image="image",
            x="x",
            y="y",
            dw="dw",
            dh="dh",
            source=self._density,
            color_mapper=mapper,
        )
        self._wells = [
            Span(
                location=0,
                dimension="width",
                line_color="#666666",
                line_dash="dotted",
                line_width=1.5,
                visible=False,
            )
            for _ in range(3)
        ]
        self._well_labels = [
            Label(
                x=0,
                y=0,
                text=text,
                text_font_size="12px",
                text_color="#555555",
                text_align="right",
                x_offset=-4,
                y_offset=3,
                visible=False,
            )
            for text in ("left well", "barrier", "right well")
        ]
        for span, label in zip(self._wells, self._well_labels, strict=True):
            fig.add_layout(span)
            fig.add_layout(label)
        self._cloud, self._mean, self._paths, self._now = {}, {}, {}, {}
        # the noise-free ODE first: the clouds and mean paths are drawn over it
        self._ode = empty_source("x", "y")
        self._ode_now = empty_source("x", "y")
        ode_line = fig.line("x", "y", source=self._ode, color=ODE, line_width=2)
        ode_dot = fig.scatter("x", "y", source=self._ode_now, color=ODE, size=9)
        ode_item = LegendItem(label="ODE (no noise)", renderers=[ode_line, ode_dot])
        items = {}
        for key, color, dash in (("chain", CHAIN, "solid"), ("sde", SDE, "dashed")):
            cloud = empty_source("x", "y")
            patch = fig.patch(
                "x",
                "y",
                source=cloud,
                fill_color=color,
                fill_alpha=0.15 if key == "chain" else 0.0,
                line_color=color,
                line_width=2.5,
                line_dash=dash,
            )
            mean = empty_source("x", "y")
            mean_line = fig.line("x", "y", source=mean, color=color, line_width=3.5, line_dash=dash)
            paths = empty_source("xs", "ys")
            path_lines = fig.multi_line(
                "xs",
                "ys",
                source=paths,
                color=color,
                line_alpha=0.75,
                line_width=1.5,
                line_dash=dash,
            )
            now = empty_source("x", "y")
            dots = fig.scatter(
                "x",
                "y",
                source=now,
                line_color=color,
                fill_color=color,
                fill_alpha=0.9 if key == "chain" else 0.0,
                line_width=2,
                size=8 if key == "chain" else 13,
            )
            self._cloud[key], self._mean[key], self._paths[key], self._now[key] = (
                cloud,
                mean,
                paths,
                now,
            )
            items[key] = LegendItem(
                label="chain (discrete)" if key == "chain" else "continuous, same noise",
                renderers=[patch, mean_line, path_lines, dots],
            )
        items["ode"] = ode_item
        self._items = items
        legend = Legend(
            items=list(items.values()),
            orientation="horizontal",
            location="center",
            label_text_font_size="13px",
            click_policy="hide",
            border_line_alpha=0.0,
            background_fill_alpha=0.0,
        )
        fig.add_layout(legend, "below")
        self.figure = fig
        self._scene: int | None = None
        self._drawn: tuple | None = None
        self.readout = readout_pane()
        self.caption = caption(CAPTION_2D)
        self.scrubber = pn.widgets.IntSlider.from_param(
            model.param.time_index, name="Time frame (scrub)", sizing_mode="stretch_width"
        )

    def view(self) -> pn.Column:
        return pn.Column(
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            self.readout,
            self.scrubber,
            self.caption,
            sizing_mode="stretch_width",
        )

    # ---------------------------------------------------------------- update
    def _draw_scene(self) -> None:
        """What changes only with the run: axes, contours or wells, legend, caption."""
        m = self.model
        e = m.run["effective"]
        order = e["order"]
        self._items["sde"].label = value(f"{ORDER_LABELS[order]}, same noise")
        self._items["ode"].visible = order != "ode" and "ode" in m.run
        grid = m.landscape_grid()
        one_d = grid is None
        self.figure.match_aspect = not one_d  # θ₁ against θ₂: equal units; θ against t: not
        for span, label in zip(self._wells, self._well_labels, strict=True):
            span.visible = label.visible = one_d
        if one_d:  # the double well: paths over time, its wells
            self.figure.xaxis.axis_label = "time t"
            self.figure.yaxis.axis_label = "θ"
            self._contours.data = {"xs": [], "ys": []}
            t = m.run["t"]
            for span, label, y in zip(
                self._wells, self._well_labels, double_well_points(), strict=True
            ):
                span.location = label.y = y
                label.x = float(t[-1])
            self.caption.object = CAPTION_1D
            return
        self._density.data = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
        self.figure.xaxis.axis_label, self.figure.yaxis.axis_label = "θ₁", "θ₂"
        self._contours.data = _contour_lines(grid["x"], grid["y"], grid["f"], grid["levels"])
        self.caption.object = CAPTION_2D

    def update(self) -> None:
        m = self.model
        run = m.run
        e = run["effective"]
        idx = m.time_index
        if (m.run_serial, idx) == self._drawn:
            return  # a frame that shows the same stored frame (slow play): nothing to redraw
        self._drawn = (m.run_serial, idx)
        if self._scene != m.run_serial:
            self._draw_scene()
            self._scene = m.run_serial
        t = run["t"]
        one_d = run["chain"]["theta"].shape[2] == 1
        n_shown = N_SAMPLE_1D if one_d else N_SAMPLE_2D
        for key, name in (("chain", "chain"), ("sde", e["order"])):
            th = run[name]["theta"]
            shown = th[: idx + 1, :n_shown]
            if one_d:
                self._paths[key].data = {
                    "xs": [t[: idx + 1]] * shown.shape[1],
                    "ys": list(shown[:, :, 0].T),
                }
                self._now[key].data = {
                    "x": np.full(shown.shape[1], t[idx]),
                    "y": th[idx, :n_shown, 0],
                }
                self._mean[key].data = {"x": [], "y": []}  # a mean between two wells misleads
                self._cloud[key].data = {"x": [], "y": []}
                continue
            trail = shown[max(0, idx - TRAIL_FRAMES) :]
            self._paths[key].data = {"xs": list(trail[:, :, 0].T), "ys": list(trail[:, :, 1].T)}
            self._now[key].data = {"x": th[idx, :n_shown, 0], "y": th[idx, :n_shown, 1]}
            mean = m.mean_path(name, idx)
            self._mean[key].data = {"x": mean[:, 0], "y": mean[:, 1]}
            ex, ey = m.cloud_ellipse(name, idx, ELLIPSE_SIGMAS)
            self._cloud[key].data = {"x": ex, "y": ey}
        self._update_ode(idx, one_d)
        if one_d:
            self._update_density(idx)
        if self.due("readouts"):
            self._update_readout(idx)

    def _update_ode(self, idx: int, one_d: bool) -> None:
        run = self.model.run
        if "ode" not in run or run["effective"]["order"] == "ode":
            self._ode.data = self._ode_now.data = {"x": [], "y": []}
            return
        th = run["ode"]["theta"][: idx + 1, 0]
        if one_d:
            x, y = run["t"][: idx + 1], th[:, 0]
        else:
            x, y = th[:, 0], th[:, 1]
        self._ode.data = {"x": x, "y": y}
        self._ode_now.data = {"x": x[-1:], "y": y[-1:]}

    def _update_density(self, idx: int) -> None:
        """The chain's density image, columns after the cursor blank (NaN: transparent)."""
        run = self.model.run
        dens = self.model.density_over_time("chain", DENSITY_BINS)
        image = dens["image"].copy()
        image[:, idx + 1 :] = np.nan
        t = run["t"]
        half = 0.5 * (t[-1] - t[0]) / max(len(t) - 1, 1)
        self._density.data = {
            "image": [image],
            "x": [float(t[0]) - half],
            "y": [dens["lo"]],
            "dw": [float(t[-1] - t[0]) + 2 * half],
            "dh": [dens["hi"] - dens["lo"]],
        }

    def _update_readout(self, idx: int) -> None:
        r = self.model.readout_values(idx)
        order = ORDER_LABELS[r["order"]]
        items = {
            "t": f"{r['t']:.3g}",
            "η": f"{r['lr']:.3g}",
            "β1 / β2": f"{r['beta1']:.3g} / {r['beta2']:.4g}",
            "B": f"{r['batch']:.3g}",
            "E f chain": f"{r['chain_loss']:.3g}",
            f"E f {order}": f"{r['order_loss']:.3g}",
        }
        if "chain_left" in r:
            items = {
                "t": items["t"],
                "left well, chain": f"{100 * r['chain_left']:.0f}%",
                f"left well, {order}": f"{100 * r['order_left']:.0f}%",
                "η": items["η"],
                "B": items["B"],
            }
        self.readout.object = readout(items)


def _contour_lines(xs, ys, f, levels) -> dict[str, list]:
    """Contour polylines of f on the grid (contourpy, a Bokeh dependency)."""
    gen = contourpy.contour_generator(xs, ys, f)
    out_x, out_y = [], []
    for lev in levels:
        for line in gen.lines(float(lev)):
            out_x.append(line[:, 0])
            out_y.append(line[:, 1])
    return {"xs": out_x, "ys": out_y}
