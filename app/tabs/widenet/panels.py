"""Panels A and B of the Wasserstein-convergence tab (spec ``models/widenet.md`` §4); panels C–E
are in :mod:`app.tabs.widenet.study_panels`.

Each panel owns its Bokeh sources and an ``update()`` that replaces their data in place from the
model's cached sweep (:meth:`WidenetModel.curves` and friends).
"""

from __future__ import annotations

import math

import numpy as np
import panel as pn
from bokeh.models import FixedTicker, Whisker
from scipy.stats import beta, norm

from app.models.widenet.model import WidenetModel
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

#: Points drawn on the QQ plot (evenly spaced order statistics).
QQ_POINTS = 400
HIST_BINS = 80
BASELINE = "#9a9a9a"


def width_ticks(fig) -> None:
    """Label every width a sweep can have on a log x axis (the log ticker labels decades
    only). Set once at construction: model properties changed later did not always reach the
    browser, data sources always do."""
    fig.xaxis.ticker = FixedTicker(ticks=[2**j for j in range(1, 11)])


def fmt_value(x: float | None, digits: int = 3) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"


class OutputLawPanel:
    """A: histogram and QQ plot of y(x_1) at the width shown against N(0, K₁₁)."""

    def __init__(self, model: WidenetModel) -> None:
        self.model = model
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

    def card(self) -> pn.Card:
        return panel_card(
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

    def update(self) -> None:
        m = self.model
        y = m.shown_samples()
        if y is None:
            self.readouts.object = readout({"width n": str(m.shown_width()), "status": "sampling…"})
            return
        y1 = y[:, 0]
        k = float(m.target(m.result["config"])[0, 0])
        sd = math.sqrt(k)
        lo, hi = np.quantile(y1, [0.0005, 0.9995])
        lo, hi = min(lo, -4 * sd), max(hi, 4 * sd)
        counts, edges = np.histogram(y1, bins=HIST_BINS, range=(lo, hi), density=True)
        self._bars.data = {"left": edges[:-1], "right": edges[1:], "top": counts}
        xs = np.linspace(lo, hi, 300)
        self._density.data = {"x": xs, "y": norm.pdf(xs, scale=sd)}
        m_n = y1.size
        idx = np.unique(np.linspace(0, m_n - 1, QQ_POINTS).round().astype(int))
        ys = np.sort(y1)[idx]
        i = idx + 1
        theo = sd * norm.ppf((i - 0.5) / m_n)
        env_lo = sd * norm.ppf(beta.ppf(0.025, i, m_n - i + 1))
        env_hi = sd * norm.ppf(beta.ppf(0.975, i, m_n - i + 1))
        self._qq.data = {"x": theo, "y": ys}
        self._env.data = {"x": theo, "lo": env_lo, "hi": env_hi}
        self._diag.data = {"x": [theo[0], theo[-1]], "y": [theo[0], theo[-1]]}
        d = y1 - y1.mean()
        m2 = float(d @ d) / m_n
        skew = float(np.mean(d**3)) / m2**1.5
        kurt = float(np.mean(d**4)) / m2**2 - 3.0
        self.readouts.object = readout(
            {
                "width n": str(m.shown_width()),
                "K (limit var.)": f"{k:.4f}",
                "sample var.": f"{m2:.4f}",
                "skewness": f"{skew:+.3f} ± {math.sqrt(6 / m_n):.3f}",
                "excess kurtosis": f"{kurt:+.3f} ± {math.sqrt(24 / m_n):.3f}",
            }
        )


class W2Panel:
    """B: W2 against width (log-log) with floor, reference slopes, fit, proxies, bounds."""

    def __init__(self, model: WidenetModel) -> None:
        self.model = model
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

    def card(self, controls: pn.viewable.Viewable) -> pn.Card:
        return panel_card(
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

    def update(self) -> None:
        m = self.model
        c = m.curves()
        if c is None:
            empty = {"x": [], "y": []}
            for src in self._lines.values():
                src.data = dict(empty)
            self._w2.data = {"x": [], "y": [], "lo": [], "hi": []}
            cfg = m.config
            if cfg is not None:
                f = m.model_floor()
                self._floor.data = {
                    "x": list(cfg.widths),
                    "lo": [f["lo"]] * len(cfg.widths),
                    "hi": [f["hi"]] * len(cfg.widths),
                }
            self.readouts.object = readout({"slope": "sampling…", "estimator": m.estimator})
            return
        n = c["widths"].astype(float)
        w = np.maximum(c["w2"], 1e-6)
        self._w2.data = {
            "x": n,
            "y": w,
            "lo": np.maximum(w - c["w2_err"], 1e-6),
            "hi": w + c["w2_err"],
        }
        self._floor.data = {
            "x": n,
            "lo": np.full(n.size, max(c["floor_lo"], 1e-6)),
            "hi": np.full(n.size, c["floor_hi"]),
        }
        anchor = w[0]
        lines = {
            "slope −1/2": (n, anchor * (n / n[0]) ** -0.5),
            "slope −1": (n, anchor * (n / n[0]) ** -1.0),
            "Cornish–Fisher": (n, c["cf"]),
        }
        if np.isfinite(c["slope"]):
            keep = w > (0 if c["estimator"] == "rao_blackwell" else 2 * c["floor"])
            xs = n[keep]
            coef = np.polyfit(np.log(xs), np.log(w[keep]), 1)
            lines["fitted slope"] = (xs, np.exp(np.polyval(coef, np.log(xs))))
        if c["baseline"] is not None:
            lines["Gaussian baseline"] = (n, np.maximum(c["baseline"], 1e-6))
        if c["lower"] is not None:
            lines["Gelbrich lower (Gaussian readout)"] = (n, np.maximum(c["lower"], 1e-6))
            lines["coupling upper (Gaussian readout)"] = (n, c["upper"])
        if c.get("lattice") is not None:
            lines["exact W2 (lattice preset)"] = (n, c["lattice"])
        for name, src in self._lines.items():
            x, y = lines.get(name, ([], []))
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
