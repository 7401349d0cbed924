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
from app.tabs.plotting import (
    caption,
    empty_source,
    labelled_figure,
    legend_outside,
    readout,
    readout_pane,
)
from kernels import adaptive as ad

CHAIN = "#1f77b4"
SDE = "#d62728"
N_SHOWN = 32
N_MARKS = 5

HERO_CAPTION = """
**What to look for.** Blue: the discrete optimizer; red: its continuous equation, driven by the
*same* Brownian increments. Where the approximation holds the two clouds and their 1-σ ellipses
coincide at every mark. Raise τ (or switch the order to ODE) and they separate; in the
batch-equivalent regime σ0 = ση, not η alone, sets the spread.
"""


def _ellipse(points: np.ndarray, n: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """1-σ ellipse of a 2-D cloud (mean + L·unit circle)."""
    ok = np.all(np.isfinite(points), axis=1)
    pts = points[ok]
    if len(pts) < 3:
        return np.array([np.nan]), np.array([np.nan])
    mean = pts.mean(0)
    cov = np.cov(pts.T) + 1e-14 * np.eye(2)
    w, v = np.linalg.eigh(cov)
    s = np.linspace(0, 2 * np.pi, n)
    circ = np.stack([np.cos(s), np.sin(s)])
    xy = mean[:, None] + v @ (np.sqrt(np.maximum(w, 0))[:, None] * circ)
    return xy[0], xy[1]


class AdaptiveHero:
    """The landscape plot; ``update()`` refreshes the sources in place."""

    def __init__(self, model: AdaptiveModel) -> None:
        self.model = model
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

    def layout(self) -> pn.Column:
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
        m = self.model
        run = m.run
        one_d = run["chain"]["theta"].shape[2] == 1
        th = np.concatenate([run["chain"]["theta"], run[run["effective"]["order"]]["theta"]], 1)
        finite = th[np.all(np.isfinite(th), axis=2)]
        if one_d:
            lo, hi = -2.0, 3.0
            if len(finite):
                lo, hi = min(lo, finite.min()), max(hi, finite.max())
            self.figure.xaxis.axis_label = "time t"
            self.figure.yaxis.axis_label = "θ"
            self._contours.data = {"xs": [], "ys": []}
            return
        self.figure.xaxis.axis_label, self.figure.yaxis.axis_label = "θ₁", "θ₂"
        if len(finite):
            lo = np.percentile(finite, 0.5, axis=0)
            hi = np.percentile(finite, 99.5, axis=0)
        else:
            lo, hi = np.array([-3.0, -3.0]), np.array([3.0, 3.0])
        pad = 0.15 * (hi - lo) + 0.2
        lo, hi = lo - pad, hi + pad
        xs = np.linspace(lo[0], hi[0], 90)
        ys = np.linspace(lo[1], hi[1], 90)
        gx, gy = np.meshgrid(xs, ys)
        kw = {}
        if m.landscape == "quadratic":
            kw["A"] = m.hessian()
        f = ad.loss_values(m.landscape, np.stack([gx, gy], -1), **kw)
        levels = np.quantile(f, np.linspace(0.02, 0.9, 9))
        self._contours.data = _contour_lines(xs, ys, f, levels)

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
        marks = np.unique(np.linspace(0, len(t) - 1, N_MARKS + 1).astype(int)[1:])
        for key, name in (("chain", "chain"), ("sde", e["order"])):
            th = run[name]["theta"]
            shown = th[: idx + 1, :N_SHOWN]
            if one_d:
                self._paths[key].data = {
                    "xs": [t[: idx + 1]] * shown.shape[1],
                    "ys": list(shown[:, :, 0].T),
                }
                self._means[key].data = {"x": t[: idx + 1], "y": np.nanmean(th[: idx + 1, :, 0], 1)}
                self._now[key].data = {
                    "x": np.full(min(th.shape[1], 256), t[idx]),
                    "y": th[idx, :256, 0],
                }
                self._ellipses[key].data = {"xs": [], "ys": [], "alpha": []}
                continue
            self._paths[key].data = {"xs": list(shown[:, :, 0].T), "ys": list(shown[:, :, 1].T)}
            mean = np.nanmean(th[: idx + 1], axis=1)
            self._means[key].data = {"x": mean[:, 0], "y": mean[:, 1]}
            self._now[key].data = {"x": th[idx, :256, 0], "y": th[idx, :256, 1]}
            exs, eys, alphas = [], [], []
            for k in [*[k for k in marks if k <= idx], idx]:
                ex, ey = _ellipse(th[k])
                exs.append(ex)
                eys.append(ey)
                alphas.append(1.0 if k == idx else 0.45)
            self._ellipses[key].data = {"xs": exs, "ys": eys, "alpha": alphas}
        self._update_readout(idx)

    def _update_readout(self, idx: int) -> None:
        m = self.model
        run = m.run
        e = run["effective"]
        hp = ad.regime_hyperparameters(e["regime"], e["tau"], e["c1"], e["c2"], m.eps, m.sigma)
        chain = run["chain"]["loss"][idx]
        sde = run[e["order"]]["loss"][idx]
        batch = (
            (1.0 / m.sigma**2 if e["regime"] == "ballistic" else e["tau"] / m.sigma**2)
            if m.sigma > 0
            else np.inf
        )
        self.readout.object = readout(
            {
                "t": f"{run['t'][idx]:.3g}",
                "η": f"{hp['lr']:.3g}",
                "β1 / β2": f"{hp['beta1']:.3g} / {hp['beta2']:.4g}",
                "B": f"{batch:.3g}",
                "E f chain": f"{np.nanmean(chain):.3g}",
                f"E f {e['order']}": f"{np.nanmean(sde):.3g}",
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
