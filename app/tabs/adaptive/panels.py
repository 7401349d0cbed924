"""Panels 2–4 and 6 of the Adaptive SGD tab: moments over time, scaling collapse, weak error,
final distributions. Each owns its Bokeh sources and refreshes them in place in ``update()``.
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import Span, Whisker
from bokeh.palettes import Viridis6

from app.models.adaptive.model import AdaptiveModel
from app.models.adaptive.summaries import LOG_FLOOR
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
    REFERENCE,
    THEORY,
    caption,
    empty_source,
    labelled_figure,
    legend_outside,
    panel_card,
)

COLORS = {
    "chain": "#1f77b4",
    "ode": "#2ca02c",
    "sde1": "#d62728",
    "sme2": "#9467bd",
    "sme2_no_w2": "#ff7f0e",
}
LABELS = {
    "chain": "chain",
    "ode": "ODE",
    "sde1": "SDE1",
    "sme2": "SME2 (W2 on)",
    "sme2_no_w2": "SME2, W2 off",
}


class MomentsPanel(TabPanel):
    """Panel 2: E f(θ_t) with a 10–90% band per model; E v_t (and E m_t) small multiples."""

    def __init__(self, model: AdaptiveModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "Loss over time: mean and 10–90% band",
            "SDE time t",
            "f(θ_t)",
            height=320,
            y_axis_type="log",
        )
        self._bands, self._lines = {}, {}
        for key in ("chain", "ode", "sde1", "sme2"):
            band = empty_source("x", "lo", "hi")
            fig.varea("x", "lo", "hi", source=band, fill_color=COLORS[key], fill_alpha=0.12)
            line = empty_source("x", "y")
            fig.line(
                "x", "y", source=line, color=COLORS[key], line_width=2, legend_label=LABELS[key]
            )
            self._bands[key], self._lines[key] = band, line
        self._theory = empty_source("x", "y")
        fig.line(
            "x",
            "y",
            source=self._theory,
            color=THEORY,
            line_dash="dashed",
            line_width=2,
            legend_label="exact moments (SGD)",
        )
        self._cursor = Span(
            location=0, dimension="height", line_color="#555555", line_dash="dotted"
        )
        fig.add_layout(self._cursor)
        legend_outside(fig)
        self.figure = fig
        vfig = labelled_figure(
            "Second moment E v_t (u_t batch-equivalent)",
            "SDE time t",
            "E v_t per coordinate",
            height=230,
        )
        self._v = {key: empty_source("xs", "ys") for key in ("chain", "ode", "sde1", "sme2")}
        for key, src in self._v.items():
            vfig.multi_line(
                "xs", "ys", source=src, color=COLORS[key], line_width=2, legend_label=LABELS[key]
            )
        self._u = empty_source("xs", "ys")
        vfig.multi_line(
            "xs",
            "ys",
            source=self._u,
            color=THEORY,
            line_dash="dashed",
            legend_label="u(t) closed form",
        )
        legend_outside(vfig)
        self.vfigure = vfig

    def view(self) -> pn.Card:
        return panel_card(
            "Moments over time",
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            pn.pane.Bokeh(self.vfigure, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** On SDE time the chain's curve should sit on its "
                "continuous equation; the ODE misses the noise floor. v settles at "
                "∇f² + Σ_d, not at ∇f²: the noise variance enters the v-drift. For SGD the "
                "dashed line is the exact moment recursion of the chain."
            ),
        )

    def update(self) -> None:
        m = self.model
        run = m.run
        t = run["t"]
        self._cursor.location = float(t[m.time_index])
        for key in ("chain", "ode", "sde1", "sme2"):
            moments = m.moments(key)
            if moments is None:
                self._lines[key].data = {"x": [], "y": []}
                self._bands[key].data = {"x": [], "lo": [], "hi": []}
                self._v[key].data = {"xs": [], "ys": []}
                continue
            self._lines[key].data = {"x": t, "y": moments["mean"]}
            self._bands[key].data = {"x": t, "lo": moments["lo"], "hi": moments["hi"]}
            v = moments["v"]
            self._v[key].data = (
                {"xs": [t] * v.shape[1], "ys": list(v.T)} if v is not None else {"xs": [], "ys": []}
            )
        th = m.theory
        self._theory.data = (
            {"x": t, "y": np.maximum(th["chain_loss"], LOG_FLOOR)}
            if "chain_loss" in th
            else {"x": [], "y": []}
        )
        self._u.data = (
            {"xs": [t] * th["u"].shape[1], "ys": list(th["u"].T)}
            if "u" in th
            else {"xs": [], "ys": []}
        )


class ScalingPanel(TabPanel):
    """Panel 3: the chain's E f(θ_t) per κ under a scaling rule, over SDE1; ``controls`` are
    the study's job controls. Redraws only when the study's result changes."""

    def __init__(self, model: AdaptiveModel, controls: pn.viewable.Viewable) -> None:
        super().__init__(model)
        self.controls = controls
        self._shown: object = False  # the result drawn (False: nothing drawn yet)
        fig = labelled_figure(
            "Scaling-rule collapse: batch sizes κB",
            "SDE time t",
            "E f(θ_t)",
            height=320,
            y_axis_type="log",
        )
        self._curves = empty_source("xs", "ys", "color", "label")
        fig.multi_line(
            "xs", "ys", source=self._curves, color="color", line_width=2, legend_field="label"
        )
        self._sde = empty_source("x", "y")
        fig.line(
            "x",
            "y",
            source=self._sde,
            color=THEORY,
            line_dash="dashed",
            line_width=2.5,
            legend_label="SDE1 (base)",
        )
        legend_outside(fig)
        self.figure = fig
        self.message = pn.pane.Markdown("", height=30, sizing_mode="stretch_width")

    def view(self) -> pn.Card:
        return panel_card(
            "Scaling rules",
            self.controls,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            self.message,
            caption(
                "**What to look for.** Under the square-root rule (srsr: η→√κη, "
                "1−β→κ(1−β), ε→ε/√κ) the curves for κ = 1, 2, 4, … collapse onto one SDE; "
                "the naive rules (β, ε unchanged, or η→κη) fan them out. κ is clamped "
                "where 1−β would exceed 1."
            ),
        )

    def update(self) -> None:
        res = self.model.scaling_job.result
        if res is self._shown:
            return
        self._shown = res
        if res is None:
            self._curves.data = {"xs": [], "ys": [], "color": [], "label": []}
            self._sde.data = {"x": [], "y": []}
            self.message.object = "Press “Run scaling study” (or switch the rule) to draw it."
            return
        n = len(res["kappas"])
        colors = [Viridis6[min(i, 5)] for i in range(n)]
        self._curves.data = {
            "xs": [res["t"]] * n,
            "ys": [np.maximum(c, LOG_FLOOR) for c in res["curves"]],
            "color": colors,
            "label": [f"κ = {k:g} ({res['rule']})" for k in res["kappas"]],
        }
        self._sde.data = {"x": res["t"], "y": np.maximum(res["sde"], LOG_FLOOR)}
        self.message.object = " ".join(res["messages"]) or f"Rule: {res['rule']}."


class WeakErrorPanel(TabPanel):
    """Panel 4: weak error vs τ on log–log axes with slope-1 and slope-2 guides; ``controls``
    are the study's job controls. Redraws only when the result or φ changes."""

    def __init__(self, model: AdaptiveModel, controls: pn.viewable.Viewable) -> None:
        super().__init__(model)
        self.controls = controls
        self._shown: tuple | None = None  # (result, φ) drawn
        self.phi = pn.widgets.RadioButtonGroup(
            label="φ", options={"‖θ‖²": 0, "‖v‖²": 1, "f(θ)": 2}, value=0
        )
        self.phi.param.watch(lambda *_: self.update(), "value")
        fig = labelled_figure(
            "Weak error at T = 1 vs step τ",
            "step τ (decreasing →)",
            "|E φ(chain) − E φ(model)|",
            height=340,
            x_axis_type="log",
            y_axis_type="log",
        )
        fig.x_range.flipped = True
        self._lines = {}
        for key in ("ode", "sde1", "sme2", "sme2_no_w2"):
            src = empty_source("x", "y", "lo", "hi")
            fig.line(
                "x", "y", source=src, color=COLORS[key], line_width=2, legend_label=LABELS[key]
            )
            fig.scatter("x", "y", source=src, color=COLORS[key], size=7)
            fig.add_layout(
                Whisker(base="x", lower="lo", upper="hi", source=src, line_color=COLORS[key])
            )
            self._lines[key] = src
        self._guides = empty_source("xs", "ys", "label", "dash")
        fig.multi_line(
            "xs",
            "ys",
            source=self._guides,
            color=REFERENCE,
            line_dash="dashed",
            legend_field="label",
        )
        legend_outside(fig)
        self.figure = fig
        self.summary = pn.pane.Markdown("", height=48, sizing_mode="stretch_width")

    def view(self) -> pn.Card:
        return panel_card(
            "Weak error vs step",
            self.controls,
            self.phi,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            self.summary,
            caption(
                "**What to look for.** Bars are ±2 Monte Carlo standard errors of the "
                "coupled difference. In the ballistic regime SDE1 is no better than the ODE "
                "(slope 1); SME2 with W2 tracks the slope-2 guide. Switch φ to ‖v‖²: without "
                "the independent Brownian motion W2 of the v-equation the error stalls."
            ),
        )

    def update(self) -> None:
        res = self.model.weak_job.result
        ip = self.phi.value
        if self._shown is not None and self._shown[0] is res and self._shown[1] == ip:
            return
        self._shown = (res, ip)
        curves = self.model.weak_error_curves(ip)
        if curves is None:
            for src in self._lines.values():
                src.data = {"x": [], "y": [], "lo": [], "hi": []}
            self._guides.data = {"xs": [], "ys": [], "label": [], "dash": []}
            self.summary.object = "Press “Run weak-error study”: τ = 2⁻²…2⁻⁶, h = 2⁻¹¹, T = 1."
            return
        taus = curves["taus"]
        parts = []
        for key, src in self._lines.items():
            if key not in curves["orders"]:
                src.data = {"x": [], "y": [], "lo": [], "hi": []}
                continue
            c = curves["orders"][key]
            src.data = {"x": taus, "y": c["error"], "lo": c["lo"], "hi": c["hi"]}
            parts.append(f"{LABELS[key]} slope {c['slope']:.2f}")
        self._guides.data = {
            "xs": [taus, taus],
            "ys": [curves["guides"][1], curves["guides"][2]],
            "label": ["slope 1", "slope 2"],
            "dash": ["dashed", "dashed"],
        }
        self.summary.object = f"{res['n_paths']} coupled paths per τ. " + "; ".join(parts)


class FinalPanel(TabPanel):
    """Panel 6: histograms of the final θ (first coordinate) for the chain and each model."""

    def __init__(self, model: AdaptiveModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "Where the paths end: θ at the current time", "θ₁ (θ in 1-D)", "density", height=300
        )
        self._src = {}
        for key in ("chain", "sde1", "sme2"):
            src = empty_source("x", "y")
            fig.step(
                "x",
                "y",
                source=src,
                mode="center",
                color=COLORS[key],
                line_width=2,
                legend_label=LABELS[key],
            )
            self._src[key] = src
        # the ODE is deterministic: a vertical line at its value, not a histogram
        self._ode = empty_source("x0", "y0", "x1", "y1")
        fig.segment(
            "x0",
            "y0",
            "x1",
            "y1",
            source=self._ode,
            color=COLORS["ode"],
            line_width=2,
            line_dash="dashed",
            legend_label="ODE (deterministic)",
        )
        legend_outside(fig)
        self.figure = fig

    def view(self) -> pn.Card:
        return panel_card(
            "Final distributions",
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** On the double well the SDEs should reproduce how the "
                "chain's paths split between the two basins; on the quadratic, the "
                "stationary spread of the chain next to the SDE's."
            ),
        )

    def update(self) -> None:
        dist = self.model.final_distribution()
        for key, src in self._src.items():
            dens = dist["density"].get(key)
            src.data = {"x": [], "y": []} if dens is None else {"x": dist["centers"], "y": dens}
        x_ode, top = dist["ode"], dist["top"]
        self._ode.data = {"x0": [x_ode], "y0": [0.0], "x1": [x_ode], "y1": [top or 1.0]}


__all__ = ["FinalPanel", "MomentsPanel", "ScalingPanel", "WeakErrorPanel"]
