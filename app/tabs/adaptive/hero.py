"""Hero panel of the Adaptive SGD tab: chain and SDE clouds on the landscape, with ellipses.

2-D landscapes: loss contours, 32 chain paths and 32 paths of the selected continuous order up
to the time cursor, both mean paths, and 1-σ covariance ellipses of both clouds at five marks
and at the cursor. The 1-D double well: the paths θ(t) against time, over the loss profile.
"""

from __future__ import annotations

import contourpy
import numpy as np
import panel as pn

from app.models.adaptive.model import AdaptiveModel
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
    caption,
    empty_source,
    labelled_figure,
    legend_outside,
    readout,
    readout_pane,
)

CHAIN = "#1f77b4"
SDE = "#d62728"
#: Paths drawn per cloud, ellipse marks along the run, markers of the paths now.
N_SHOWN = 32
N_MARKS = 5
N_NOW = 256

HERO_CAPTION = """
**What to look for.** Blue: the discrete optimizer; red: its continuous equation, driven by the
*same* Brownian increments. Where the approximation holds the two clouds and their 1-σ ellipses
coincide at every mark. Raise τ (or switch the order to ODE) and they separate; in the
batch-equivalent regime σ0 = ση, not η alone, sets the spread.
"""


class AdaptiveHero(TabPanel):
    """The landscape plot; ``update()`` refreshes the sources in place."""

    every_frame = True

    def __init__(self, model: AdaptiveModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "Chain (blue) and continuous equation (red) on the landscape",
            "θ₁",
            "θ₂",
            height=470,
            match_aspect=True,
        )
        self._contours = empty_source("xs", "ys")
        fig.multi_line(
            "xs",
            "ys",
            source=self._contours,
            color="#999999",
            line_alpha=0.5,
            legend_label="loss contours",
        )
        self._paths = {}
        self._ellipses = {}
        self._means = {}
        self._now = {}
        for key, color, label in (("chain", CHAIN, "chain"), ("sde", SDE, "continuous")):
            src = empty_source("xs", "ys")
            fig.multi_line("xs", "ys", source=src, color=color, line_alpha=0.18, line_width=1)
            ell = empty_source("xs", "ys", "alpha")
            fig.multi_line(
                "xs",
                "ys",
                source=ell,
                color=color,
                line_width=2,
                line_alpha="alpha",
                legend_label=f"1-σ ellipses, {label}",
            )
            mean = empty_source("x", "y")
            fig.line(
                "x",
                "y",
                source=mean,
                color=color,
                line_width=2.5,
                line_dash="dashed",
                legend_label=f"mean path, {label}",
            )
            self._paths[key], self._ellipses[key], self._means[key] = src, ell, mean
        # markers last, the chain on top: filled blue dots inside hollow red rings
        for key, color, label in (("sde", SDE, "continuous"), ("chain", CHAIN, "chain")):
            now = empty_source("x", "y")
            chain = key == "chain"
            fig.scatter(
                "x",
                "y",
                source=now,
                line_color=color,
                fill_color=color,
                fill_alpha=0.8 if chain else 0.0,
                line_alpha=0.8,
                size=4 if chain else 9,
                legend_label=f"paths now, {label}",
            )
            self._now[key] = now
        legend_outside(fig)
        self.figure = fig
        self._scene: tuple | None = None
        self.readout = readout_pane()
        self.scrubber = pn.widgets.IntSlider.from_param(
            model.param.time_index, name="Time frame (scrub)", sizing_mode="stretch_width"
        )

    def view(self) -> pn.Column:
        return pn.Column(
            pn.Row(
                pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
                pn.Column(caption(HERO_CAPTION), width=320),
                sizing_mode="stretch_width",
            ),
            self.scrubber,
            self.readout,
            sizing_mode="stretch_width",
        )

    # ---------------------------------------------------------------- update
    def _draw_scene(self) -> None:
        grid = self.model.landscape_grid()
        if grid is None:  # the 1-D double well: paths over time, no contours
            self.figure.xaxis.axis_label = "time t"
            self.figure.yaxis.axis_label = "θ"
            self._contours.data = {"xs": [], "ys": []}
            return
        self.figure.xaxis.axis_label, self.figure.yaxis.axis_label = "θ₁", "θ₂"
        self._contours.data = _contour_lines(grid["x"], grid["y"], grid["f"], grid["levels"])

    def update(self) -> None:
        m = self.model
        run = m.run
        e = run["effective"]
        idx = m.time_index
        scene = (id(run),)
        if scene != self._scene:
            self._draw_scene()
            self._scene = scene
        one_d = run["chain"]["theta"].shape[2] == 1
        t = run["t"]
        for key, name in (("chain", "chain"), ("sde", e["order"])):
            th = run[name]["theta"]
            shown = th[: idx + 1, :N_SHOWN]
            mean = m.mean_path(name, idx)
            if one_d:
                self._paths[key].data = {
                    "xs": [t[: idx + 1]] * shown.shape[1],
                    "ys": list(shown[:, :, 0].T),
                }
                self._means[key].data = {"x": t[: idx + 1], "y": mean[:, 0]}
                self._now[key].data = {
                    "x": np.full(min(th.shape[1], N_NOW), t[idx]),
                    "y": th[idx, :N_NOW, 0],
                }
                self._ellipses[key].data = {"xs": [], "ys": [], "alpha": []}
                continue
            self._paths[key].data = {"xs": list(shown[:, :, 0].T), "ys": list(shown[:, :, 1].T)}
            self._means[key].data = {"x": mean[:, 0], "y": mean[:, 1]}
            self._now[key].data = {"x": th[idx, :N_NOW, 0], "y": th[idx, :N_NOW, 1]}
            ellipses = m.ellipses(name, N_MARKS, idx)
            self._ellipses[key].data = {
                "xs": [ex for ex, _, _ in ellipses],
                "ys": [ey for _, ey, _ in ellipses],
                "alpha": [1.0 if now else 0.45 for _, _, now in ellipses],
            }
        self._update_readout(idx)

    def _update_readout(self, idx: int) -> None:
        r = self.model.readout_values(idx)
        self.readout.object = readout(
            {
                "t": f"{r['t']:.3g}",
                "η": f"{r['lr']:.3g}",
                "β1 / β2": f"{r['beta1']:.3g} / {r['beta2']:.4g}",
                "B": f"{r['batch']:.3g}",
                "E f chain": f"{r['chain_loss']:.3g}",
                f"E f {r['order']}": f"{r['order_loss']:.3g}",
            }
        )


def _contour_lines(xs, ys, f, levels) -> dict[str, list]:
    """Contour polylines of f on the grid (contourpy, a Bokeh dependency)."""
    gen = contourpy.contour_generator(xs, ys, f)
    out_x, out_y = [], []
    for lev in levels:
        for line in gen.lines(float(lev)):
            out_x.append(line[:, 0])
            out_y.append(line[:, 1])
    return {"xs": out_x, "ys": out_y}
