"""Panels C–E of the Wasserstein-convergence tab: Lindeberg exchange, covariance against the
NNGP kernel, cumulants against width (spec ``models/widenet.md`` §4).

Each panel is a :class:`TabPanel`: it owns its Bokeh sources and card, and its ``update()``
replaces their data in place with the numbers its model computes
(:meth:`WidenetModel.lindeberg_plot`, :meth:`WidenetModel.covariance_plot`,
:meth:`WidenetModel.curves`).
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import LinearColorMapper, SingleIntervalTicker
from bokeh.palettes import RdBu11

from app.models.widenet import WidenetModel
from app.models.widenet.curves import LOG_FLOOR
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
    MEASURED,
    REFERENCE,
    THEORY,
    caption,
    empty_source,
    labelled_figure,
    panel_card,
    readout,
    readout_pane,
)
from app.tabs.widenet.panels import fmt_value, width_ticks

#: What the readouts call each swap order.
ORDER_NAMES = {"readout_first": "Readout first", "input_first": "Input first"}


class LindebergPanel(TabPanel):
    """C: the Lindeberg exchange: W₂ of each hybrid to its limit, and the swap increments;
    ``controls`` are the exchange's job controls."""

    def __init__(self, model: WidenetModel, controls: pn.viewable.Viewable) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "Lindeberg exchange: layers made Gaussian one at a time",
            "weight layers made Gaussian (hybrid j)",
            "W₂ at x₁",
            height=300,
        )
        self._stairs = empty_source("x", "top", "color")
        self._inc = empty_source("x", "y")
        self._floor = empty_source("x", "y")
        fig.vbar(
            x="x",
            top="top",
            width=0.6,
            source=self._stairs,
            fill_color="color",
            fill_alpha=0.7,
            line_color=None,
            legend_label="W₂(hybrid j, its own Gaussian limit)",
        )
        fig.line(
            "x",
            "y",
            source=self._inc,
            color=THEORY,
            line_width=2,
            legend_label="increment W₂(hybrid j, hybrid j + 1)",
        )
        fig.scatter("x", "y", source=self._inc, color=THEORY, size=8)
        fig.line(
            "x",
            "y",
            source=self._floor,
            color=REFERENCE,
            line_dash="dashed",
            legend_label="two-sample floor",
        )
        fig.legend.location = "top_right"
        fig.legend.label_text_font_size = "11px"
        fig.xaxis.ticker = SingleIntervalTicker(interval=1)
        fig.y_range.start = 0.0
        fig.y_range.range_padding = 0.4  # room above the bars for the legend
        self.figure = fig
        self.readouts = readout_pane()

        self.card = panel_card(
            "C. Lindeberg exchange, layer by layer",
            controls,
            self.readouts,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**Look for:** each swap lowers the distance, but the increments need not "
                "add up to the drop (the triangle inequality only bounds it). An orange bar "
                "marks a hybrid whose first layer was swapped: its limit kernel changed."
            ),
        )

    def view(self) -> pn.Card:
        return self.card

    def update(self) -> None:
        lin = self.model.lindeberg_plot()
        if lin is None:
            self._stairs.data = {"x": [], "top": [], "color": []}
            self._inc.data = {"x": [], "y": []}
            self._floor.data = {"x": [], "y": []}
            self.readouts.object = readout({"status": "run the exchange"})
            return
        colors = ["#ff7f0e" if s else MEASURED for s in lin["layer1_swapped"]]
        self._stairs.data = {"x": lin["hybrid"], "top": lin["w2"], "color": colors}
        self._inc.data = {"x": lin["increment_x"], "y": lin["increments"]}
        self._floor.data = {"x": lin["floor_x"], "y": [lin["floor"], lin["floor"]]}
        self.readouts.object = readout(
            {
                "width n": str(lin["width"]),
                "order": ORDER_NAMES.get(lin["order"], lin["order"]),
                "W₂ before any swap": fmt_value(lin["w2"][0]),
                "drop": fmt_value(lin["drop"]),
                "Σ increments": fmt_value(lin["sum_increments"]),
            }
        )


class CovariancePanel(TabPanel):
    """D: empirical covariance against K (k ≥ 2): heatmap of the difference, Frobenius error.
    The card opens with k ≥ 2 inputs and stays collapsed (and undrawn) with one."""

    def __init__(self, model: WidenetModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "Empirical covariance − K at the width shown",
            "input s",
            "input r",
            height=260,
        )
        fig.x_range.range_padding = 0.0
        fig.y_range.range_padding = 0.0
        # the image holds (Ĉ − K)/(2 max|Ĉ − K|) in [−½, ½]: a fixed colour range (see
        # width_ticks); the printed labels carry the values
        self._mapper = LinearColorMapper(palette=RdBu11, low=-1.0, high=1.0)
        self._img = empty_source("image", "dw", "dh")
        fig.image("image", x=0, y=0, dw="dw", dh="dh", source=self._img, color_mapper=self._mapper)
        self._labels = empty_source("x", "y", "text")
        fig.text(
            "x",
            "y",
            text="text",
            source=self._labels,
            text_align="center",
            text_baseline="middle",
            text_font_size="12px",
            text_color="#222222",
        )
        fig.xaxis.ticker = SingleIntervalTicker(interval=1)
        fig.yaxis.ticker = SingleIntervalTicker(interval=1)
        err = labelled_figure(
            "Covariance error against width",
            "width n",
            "error of Ĉ against K",
            x_axis_type="log",
            y_axis_type="log",
            height=260,
        )
        width_ticks(err)
        self._err = empty_source("x", "y")
        err.line(
            "x", "y", source=self._err, color=MEASURED, line_width=2, legend_label="rel. Frobenius"
        )
        err.scatter("x", "y", source=self._err, color=MEASURED, size=6)
        self._gelbrich = empty_source("x", "y")
        err.line(
            "x",
            "y",
            source=self._gelbrich,
            color=THEORY,
            line_width=2,
            line_dash="dashed",
            legend_label="Gelbrich(Ĉ, K)",
        )
        err.legend.location = "bottom_left"
        err.legend.label_text_font_size = "11px"
        scatter = labelled_figure(
            "Outputs at x₁, x₂ with N(0, K) ellipses",
            "y(x₁)",
            "y(x₂)",
            height=260,
            match_aspect=True,
        )
        self._points = empty_source("x", "y")
        self._ellipses = empty_source("x", "y", "w", "h", "angle")
        scatter.scatter("x", "y", source=self._points, size=2, color=MEASURED, alpha=0.35)
        scatter.ellipse(
            x="x",
            y="y",
            width="w",
            height="h",
            angle="angle",
            source=self._ellipses,
            fill_color=None,
            line_color=THEORY,
            line_width=2,
        )
        self.figure, self.err, self.scatter = fig, err, scatter
        self.readouts = readout_pane()

        self.card = panel_card(
            "D. Covariance against the NNGP kernel (k ≥ 2 inputs)",
            self.readouts,
            pn.Row(
                pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.err, sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.scatter, sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            ),
            caption(
                "**Look for:** the red ellipses hold 39 % and 86 % of N(0, K) (1σ, 2σ). For one "
                "hidden layer the covariance is exact at every width "
                "(only Monte Carlo noise); deeper nets err by O(1/n). A small Δθ makes K "
                "nearly singular, and convergence slows. This panel opens when k ≥ 2 inputs "
                "(Advanced)."
            ),
            collapsed=False,
        )

    def view(self) -> pn.Card:
        return self.card

    def update(self) -> None:
        several = self.model.n_inputs >= 2
        if self.card.collapsed == several:  # changes only with a restart
            self.card.collapsed = not several
        if not several:
            return
        cov = self.model.covariance_plot()
        if cov is None:
            self.readouts.object = readout({"status": "sampling…"})
            return
        diff, k = cov["diff"], cov["k"]
        # twice the largest deviation: mid-tone cells keep the printed values readable
        lim = 2.0 * max(float(np.max(np.abs(diff))), 1e-4)
        self._img.data = {"image": [diff / lim], "dw": [k], "dh": [k]}
        rr, ss = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
        self._labels.data = {
            "x": ss.ravel() + 0.5,
            "y": rr.ravel() + 0.5,
            "text": [f"{v:+.3f}" for v in diff.ravel()],
        }
        self._err.data = {"x": cov["widths"], "y": cov["rel_frobenius"]}
        if cov["ellipses"] is None:  # a stale one-input result while a restart is under way
            return
        self._ellipses.data = cov["ellipses"]
        if cov["points"] is not None:
            self._points.data = {"x": cov["points"][0], "y": cov["points"][1]}
        self._gelbrich.data = {"x": cov["widths"], "y": cov["gelbrich_by_width"]}
        self.readouts.object = readout(
            {
                "inputs k": str(k),
                "Gelbrich(Ĉ, K)": fmt_value(cov["gelbrich"]),
                "rel. Frobenius": fmt_value(cov["frobenius"]),
                "cond(K)": fmt_value(cov["cond"]),
            }
        )


class CumulantPanel(TabPanel):
    """E: |skewness| and |excess kurtosis| against width with slopes −1/2, −1 and exact L = 1."""

    def __init__(self, model: WidenetModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "Cumulants against width",
            "width n",
            "|cumulant| at x₁",
            x_axis_type="log",
            y_axis_type="log",
            height=300,
        )
        width_ticks(fig)
        self._src = {
            name: empty_source("x", "y")
            for name in (
                "|skewness|",
                "|excess kurtosis|",
                "exact skewness (L=1)",
                "exact kurtosis (L=1)",
            )
        }
        style = {
            "|skewness|": dict(color=MEASURED, line_width=2),
            "|excess kurtosis|": dict(color="#ff7f0e", line_width=2),
            "exact skewness (L=1)": dict(color=MEASURED, line_dash="dashed"),
            "exact kurtosis (L=1)": dict(color="#ff7f0e", line_dash="dashed"),
        }
        for name, src in self._src.items():
            fig.line("x", "y", source=src, legend_label=name, **style[name])
            if not name.startswith("exact"):
                fig.scatter("x", "y", source=src, color=style[name]["color"], size=6)
        fig.legend.location = "top_right"
        fig.legend.label_text_font_size = "11px"
        self.figure = fig

        self.card = panel_card(
            "E. Cumulants against width",
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**Look for:** E w³ drives the skewness like 1/√n and E w⁴ drives the "
                "kurtosis like 1/n (dashed: exact formulas for one hidden layer). Values "
                "below √(6/M) and √(24/M) are Monte Carlo noise."
            ),
        )

    def view(self) -> pn.Card:
        return self.card

    def update(self) -> None:
        c = self.model.curves()
        if c is None:
            return
        n = c["widths"].astype(float)
        self._src["|skewness|"].data = {"x": n, "y": np.maximum(np.abs(c["skew"]), LOG_FLOOR)}
        self._src["|excess kurtosis|"].data = {
            "x": n,
            "y": np.maximum(np.abs(c["kurt"]), LOG_FLOOR),
        }
        for name, key in (
            ("exact skewness (L=1)", "exact_skew"),
            ("exact kurtosis (L=1)", "exact_kurt"),
        ):
            exact = c[key]
            self._src[name].data = (
                {"x": n, "y": np.maximum(exact, LOG_FLOOR)}
                if exact is not None
                else {"x": [], "y": []}
            )
