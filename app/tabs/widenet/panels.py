"""Panels A and B of the Wasserstein-convergence tab (spec ``models/widenet.md`` §4); panels C–E
are in :mod:`app.tabs.widenet.study_panels`.

Each panel is a :class:`TabPanel`: it owns its Bokeh sources and card, and its ``update()``
replaces their data in place with the numbers its model computes (:meth:`WidenetModel.output_law`,
:meth:`WidenetModel.w2_plot`).
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import FixedTicker, Whisker

from app.models.widenet import WidenetModel
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
    BAND,
    MEASURED,
    REFERENCE,
    THEORY,
    caption,
    empty_source,
    labelled_figure,
    legend_outside,
    panel_card,
    readout,
    readout_pane,
)

BASELINE = "#9a9a9a"


def width_ticks(fig) -> None:
    """Label every width a sweep can have on a log x axis (the log ticker labels decades
    only). Set once at construction: model properties changed later did not always reach the
    browser, data sources always do."""
    fig.xaxis.ticker = FixedTicker(ticks=[2**j for j in range(1, 11)])


def fmt_value(x: float | None, digits: int = 3) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


class OutputLawPanel(TabPanel):
    """A: histogram and QQ plot of y(x_1) at the width shown against N(0, K₁₁) (the hero: Play
    steps the width shown)."""

    every_frame = True

    def __init__(self, model: WidenetModel) -> None:
        super().__init__(model)
        hist = labelled_figure(
            "Output law at width n", "network output y(x₁)", "density", height=280
        )
        self._bars = empty_source("left", "right", "top")
        self._density = empty_source("x", "y")
        hist.quad(
            left="left",
            right="right",
            top="top",
            bottom=0,
            source=self._bars,
            fill_color=MEASURED,
            fill_alpha=0.45,
            line_color=None,
            legend_label="networks",
        )
        hist.line(
            "x", "y", source=self._density, color=THEORY, line_width=2, legend_label="N(0, K) limit"
        )
        hist.legend.location = "top_right"
        hist.legend.label_text_font_size = "11px"
        qq = labelled_figure(
            "QQ plot against the Gaussian limit",
            "Gaussian quantile √K·Φ⁻¹(u)",
            "sample quantile",
            height=280,
        )
        self._qq = empty_source("x", "y")
        self._env = empty_source("x", "lo", "hi")
        self._diag = empty_source("x", "y")
        qq.varea(
            "x",
            "lo",
            "hi",
            source=self._env,
            fill_color=BAND,
            fill_alpha=0.6,
            legend_label="2.5–97.5% pure noise",
        )
        qq.line("x", "y", source=self._diag, color=THEORY, line_dash="dashed")
        qq.scatter("x", "y", source=self._qq, size=3, color=MEASURED, legend_label="sorted y")
        qq.legend.location = "top_left"
        qq.legend.label_text_font_size = "11px"
        self.hist, self.qq = hist, qq
        self.readouts = readout_pane()
        self.card = panel_card(
            "A. Output law at the width shown",
            self.readouts,
            pn.Row(
                pn.pane.Bokeh(self.hist, sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.qq, sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            ),
            caption(
                "**Look for:** skewed weights bend the QQ tail at small n; symmetric laws "
                "fall inside the pure-noise envelope far sooner. Press Play to step through "
                "the widths."
            ),
        )

    def view(self) -> pn.Card:
        return self.card

    def update(self) -> None:
        m = self.model
        law = m.output_law()
        if law is None:
            self.readouts.object = readout({"width n": str(m.shown_width()), "status": "sampling…"})
            return
        edges = law["edges"]
        self._bars.data = {"left": edges[:-1], "right": edges[1:], "top": law["counts"]}
        self._density.data = {"x": law["density_x"], "y": law["density_y"]}
        theo = law["qq_x"]
        self._qq.data = {"x": theo, "y": law["qq_y"]}
        self._env.data = {"x": theo, "lo": law["env_lo"], "hi": law["env_hi"]}
        self._diag.data = {"x": [theo[0], theo[-1]], "y": [theo[0], theo[-1]]}
        self.readouts.object = readout(
            {
                "width n": str(law["width"]),
                "K (limit var.)": f"{law['variance']:.4f}",
                "sample var.": f"{law['sample_variance']:.4f}",
                "skewness": f"{law['skew']:+.3f} ± {law['skew_se']:.3f}",
                "excess kurtosis": f"{law['kurt']:+.3f} ± {law['kurt_se']:.3f}",
            }
        )


class W2Panel(TabPanel):
    """B: W2 against width (log-log) with floor, reference slopes, fit, proxies, bounds;
    ``controls`` are the sweep's job controls."""

    def __init__(self, model: WidenetModel, controls: pn.viewable.Viewable) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "W2 to the Gaussian limit against width",
            "width n",
            "W2(network output, N(0, K))",
            x_axis_type="log",
            y_axis_type="log",
            height=360,
        )
        width_ticks(fig)
        self._floor = empty_source("x", "lo", "hi")
        self._w2 = empty_source("x", "y", "lo", "hi")
        self._lines = {
            name: empty_source("x", "y")
            for name in (
                "slope −1/2",
                "slope −1",
                "fitted slope",
                "Cornish–Fisher",
                "Gaussian baseline",
                "Gelbrich lower (Gaussian readout)",
                "coupling upper (Gaussian readout)",
                "exact W2 (lattice preset)",
            )
        }
        floor_band = fig.varea(
            "x",
            "lo",
            "hi",
            source=self._floor,
            fill_color=REFERENCE,
            fill_alpha=0.18,
            legend_label="noise floor F_M",
        )
        style = {
            "slope −1/2": dict(color=REFERENCE, line_dash="dashed"),
            "slope −1": dict(color=REFERENCE, line_dash="dotted"),
            "fitted slope": dict(color=MEASURED, line_dash="dashdot", line_width=1.5),
            "Cornish–Fisher": dict(color=THEORY, line_width=2, line_dash="dotdash"),
            "Gaussian baseline": dict(color=BASELINE, line_width=2),
            "Gelbrich lower (Gaussian readout)": dict(color="#2ca02c", line_dash="dashed"),
            "coupling upper (Gaussian readout)": dict(color="#9467bd", line_dash="dashed"),
            "exact W2 (lattice preset)": dict(color=THEORY, line_width=2),
        }
        glyphs = {
            name: fig.line("x", "y", source=src, legend_label=name, **style[name])
            for name, src in self._lines.items()
        }
        measured = fig.line(
            "x", "y", source=self._w2, color=MEASURED, line_width=2.5, legend_label="Ŵ(n)"
        )
        fig.scatter("x", "y", source=self._w2, size=7, color=MEASURED)
        fig.add_layout(
            Whisker(base="x", lower="lo", upper="hi", source=self._w2, line_color=MEASURED)
        )
        # the y range follows the measurements and the floor, not the proxies (Cornish–Fisher
        # overestimates at small n by orders of magnitude)
        fig.y_range.renderers = [
            measured,
            floor_band,
            *(
                glyphs[name]
                for name in (
                    "Gaussian baseline",
                    "Gelbrich lower (Gaussian readout)",
                    "exact W2 (lattice preset)",
                )
            ),
        ]
        legend_outside(fig)
        self.figure = fig
        self.readouts = readout_pane()

        self.card = panel_card(
            "B. W2 against width (log-log)",
            controls,
            self.readouts,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**Look for:** skewed or lattice laws decay like n^-1/2, symmetric smooth "
                "laws like n^-1; the slope is fitted only where Ŵ > 2F_M (below that the "
                "estimator sees its own noise). With a Gaussian readout the Rao–Blackwell "
                "W2 sits between the Gelbrich lower bound and the n^-1/2 coupling bound."
            ),
        )

    def view(self) -> pn.Card:
        return self.card

    def update(self) -> None:
        m = self.model
        plot = m.w2_plot()
        c = plot["curves"]
        if c is None:
            empty = {"x": [], "y": []}
            for src in self._lines.values():
                src.data = dict(empty)
            self._w2.data = {"x": [], "y": [], "lo": [], "hi": []}
            if plot["floor"] is not None:
                x, lo, hi = plot["floor"]
                self._floor.data = {"x": x, "lo": lo, "hi": hi}
            self.readouts.object = readout({"slope": "sampling…", "estimator": m.estimator})
            return
        self._w2.data = {
            "x": plot["widths"],
            "y": plot["w2"],
            "lo": plot["w2_lo"],
            "hi": plot["w2_hi"],
        }
        x, lo, hi = plot["floor"]
        self._floor.data = {"x": x, "lo": lo, "hi": hi}
        for name, src in self._lines.items():
            x, y = plot["lines"].get(name, ([], []))
            src.data = {"x": x, "y": y}
        items = {
            "fitted slope": f"{c['slope']:+.2f}" if np.isfinite(c["slope"]) else "—",
            "points fitted": str(c["slope_points"]),
            "estimator": c["estimator"].replace("_", " "),
            "floor F_M": fmt_value(c["floor"]),
            "replicates": str(c["replicates"]),
        }
        if c["baseline"] is not None:
            items["baseline slope"] = f"{c['baseline_slope']:+.2f}"
        self.readouts.object = readout(items)
