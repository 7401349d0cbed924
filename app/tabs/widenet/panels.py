"""Panels A and B of the Wasserstein-convergence tab (spec ``models/widenet.md`` §4); panels C–E
are in :mod:`app.tabs.widenet.study_panels`.

B (W₂ against width) is the hero, at the top: Play doubles the width shown, which B rings on its
curve and A (the output law at that width) draws underneath.

Each panel is a :class:`TabPanel`: it owns its Bokeh sources and card, and its ``update()``
replaces their data in place with the numbers its model computes (:meth:`WidenetModel.output_law`,
:meth:`WidenetModel.w2_plot`).
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import FixedTicker, PrintfTickFormatter, Whisker

from app.models.widenet import WidenetModel
from app.models.widenet.curves import LOG_FLOOR
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
#: Colour of the width shown (the ring Play moves along the W₂ curve).
SHOWN = "#ff7f0e"
#: Columns of the width-shown source (the ring, its line and its label).
SHOWN_COLUMNS = ("x", "y", "y0", "y1", "label", "dx", "align")
#: What the readouts call each estimator.
ESTIMATOR_NAMES = {
    "quantile": "quantile",
    "rao_blackwell": "Rao–Blackwell",
    "two_sample": "two-sample",
    "auto": "automatic",
}


def width_ticks(fig) -> None:
    """Label every width a sweep can have on a log x axis (the log ticker labels decades
    only). Set once at construction: model properties changed later did not always reach the
    browser, data sources always do."""
    fig.xaxis.ticker = FixedTicker(ticks=[2**j for j in range(1, 11)])


def fmt_value(x: float | None, digits: int = 3) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


class OutputLawPanel(TabPanel):
    """A: histogram and QQ plot of y(x₁) at the width shown against N(0, K₁₁) (Play doubles
    the width shown: redrawn every frame)."""

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
                "fall inside the pure-noise envelope far sooner. Play doubles the width n "
                "every 3 seconds."
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
    """B, the hero: W₂ against width (log-log) with floor, reference slopes, fit, proxies,
    bounds, and the width shown ringed (Play moves it); ``controls`` are the sweep's job
    controls."""

    every_frame = True

    def __init__(self, model: WidenetModel, controls: pn.viewable.Viewable) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "W₂ to the Gaussian limit against width",
            "width n",
            "W₂(network output, N(0, K))",
            x_axis_type="log",
            y_axis_type="log",
            height=300,
        )
        width_ticks(fig)
        # labelled ticks at 1 and 3 × 10ᵏ, as plain numbers: the log ticker labels a range of
        # under two decades with linear steps at its top only (0.05, 0.1, 0.15, 0.2)
        fig.yaxis.ticker = FixedTicker(
            # parsed from decimals (3 * 10.0**-1 is 0.30000000000000004, and labelled so)
            ticks=[float(f"{m}e{k}") for k in range(-6, 2) for m in (1, 3)],
            minor_ticks=[],
        )
        fig.yaxis.formatter = PrintfTickFormatter(format="%g")
        self._floor = empty_source("x", "lo", "hi")
        self._w2 = empty_source("x", "y", "lo", "hi")
        names = (
            "slope −1/2",
            "slope −1",
            "fitted slope",
            "Cornish–Fisher",
            "Gaussian baseline",
            "Gelbrich lower bound",
            "coupling upper bound",
            "exact W₂ (lattice)",
        )
        self._lines = {name: empty_source("x", "y", f"legend{i}") for i, name in enumerate(names)}
        floor_band = fig.varea(
            "x",
            "lo",
            "hi",
            source=self._floor,
            fill_color=REFERENCE,
            fill_alpha=0.18,
            legend_label="noise floor",
        )
        style = {
            "slope −1/2": dict(color=REFERENCE, line_dash="dashed"),
            "slope −1": dict(color=REFERENCE, line_dash="dotted"),
            "fitted slope": dict(color=MEASURED, line_dash="dashdot", line_width=1.5),
            "Cornish–Fisher": dict(color=THEORY, line_width=2, line_dash="dotdash"),
            "Gaussian baseline": dict(color=BASELINE, line_width=2),
            "Gelbrich lower bound": dict(color="#2ca02c", line_dash="dashed"),
            "coupling upper bound": dict(color="#9467bd", line_dash="dashed"),
            "exact W₂ (lattice)": dict(color=THEORY, line_width=2),
        }
        # a line's legend entry comes from its data (a "legend<i>" column of its name, one
        # column name per line: lines sharing a field would share one entry): a line a sweep
        # does not draw (bounds without a Gaussian readout, the exact curve outside the
        # lattice) has no rows, hence no entry; the legend lists what is drawn
        self._fields = {name: f"legend{i}" for i, name in enumerate(self._lines)}
        glyphs = {
            name: fig.line("x", "y", source=src, legend_field=self._fields[name], **style[name])
            for name, src in self._lines.items()
        }
        measured = fig.line(
            "x", "y", source=self._w2, color=MEASURED, line_width=2.5, legend_label="Ŵ(n)"
        )
        fig.scatter("x", "y", source=self._w2, size=7, color=MEASURED)
        fig.add_layout(
            Whisker(base="x", lower="lo", upper="hi", source=self._w2, line_color=MEASURED)
        )
        # the width shown: a vertical line through the plot and a ring on the curve, labelled
        self._shown = empty_source(*SHOWN_COLUMNS)
        fig.segment(
            x0="x",
            y0="y0",
            x1="x",
            y1="y1",
            source=self._shown,
            color=SHOWN,
            line_width=2,
            line_alpha=0.5,
        )
        ring = fig.scatter(
            "x",
            "y",
            source=self._shown,
            size=20,
            fill_alpha=0.0,
            line_color=SHOWN,
            line_width=3,
            legend_label="width shown",
        )
        fig.text(
            "x",
            "y",
            text="label",
            source=self._shown,
            x_offset="dx",  # right of the ring, left of it in the right half of the plot
            text_align="align",
            y_offset=-12,
            text_font_size="13px",
            text_font_style="bold",
            text_color=SHOWN,
        )
        # the y range follows the measurements, the floor and the bounds, not the proxies
        # (Cornish–Fisher overestimates at small n by orders of magnitude)
        fig.y_range.renderers = [
            measured,
            floor_band,
            *(
                glyphs[name]
                for name in (
                    "Gaussian baseline",
                    "Gelbrich lower bound",
                    "coupling upper bound",
                    "exact W₂ (lattice)",
                )
            ),
            ring,
        ]
        legend_outside(fig)
        self.figure = fig
        self.readouts = readout_pane()

        self.card = panel_card(
            "B. W₂ against width (log-log)",
            self.readouts,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**Look for:** skewed or lattice laws decay like 1/√n, symmetric smooth laws "
                "like 1/n; the slope is fitted only where Ŵ is above twice the noise floor "
                "(below that the estimator sees its own noise). With a Gaussian readout the "
                "Rao–Blackwell W₂ sits between the Gelbrich lower bound and the 1/√n coupling "
                "bound. The orange ring is the width shown: Play doubles it."
            ),
            controls,
        )

    def view(self) -> pn.Card:
        return self.card

    def update(self) -> None:
        m = self.model
        plot = m.w2_plot()
        c = plot["curves"]
        if c is None:
            for name, src in self._lines.items():
                src.data = {"x": [], "y": [], self._fields[name]: []}
            self._w2.data = {"x": [], "y": [], "lo": [], "hi": []}
            self._shown.data = {name: [] for name in SHOWN_COLUMNS}
            if plot["floor"] is not None:
                x, lo, hi = plot["floor"]
                self._floor.data = {"x": x, "lo": lo, "hi": hi}
            self.readouts.object = readout(
                {
                    "width n": str(m.shown_width()),
                    "fitted slope": "sampling…",
                    "estimator": ESTIMATOR_NAMES.get(m.estimator, m.estimator),
                }
            )
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
            src.data = {"x": x, "y": y, self._fields[name]: [name] * len(x)}
        n = m.shown_width()
        i = int(np.flatnonzero(plot["widths"] == n)[0]) if n in plot["widths"] else None
        items = {"width n": str(n)}
        if i is None:
            self._shown.data = {name: [] for name in SHOWN_COLUMNS}
        else:
            w = float(plot["w2"][i])
            right = 2 * i >= len(plot["widths"])
            self._shown.data = {
                "x": [n],
                "y": [w],
                "y0": [LOG_FLOOR],
                "y1": [1e3],
                "label": [f"n = {n}"],
                "dx": [-14 if right else 14],
                "align": ["right" if right else "left"],
            }
            items["Ŵ at n"] = fmt_value(w)
            # the gap the preset's story names: to the coupling bound with a Gaussian readout
            # (there the baseline is the network itself), else to Gaussian weights
            if c["upper"] is not None and w > 0:
                items["upper ÷ Ŵ"] = f"{c['upper'][i] / w:.1f}×"
            elif c["baseline"] is not None and c["baseline"][i] > 0:
                items["Ŵ ÷ Gaussian"] = f"{w / c['baseline'][i]:.1f}×"
        items["fitted slope"] = f"{c['slope']:+.2f}" if np.isfinite(c["slope"]) else "—"
        if c["baseline"] is not None and c["upper"] is None:
            # (a Gaussian readout means Gaussian weights: the baseline is the network itself)
            items["baseline slope"] = f"{c['baseline_slope']:+.2f}"
        items["estimator"] = ESTIMATOR_NAMES.get(c["estimator"], c["estimator"])
        # one row of chips at a projector's width: the noise floor is the grey band
        self.readouts.object = readout(items)
