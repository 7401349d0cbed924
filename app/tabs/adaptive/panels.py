"""Panels 2–4 and 6 of the Adaptive SGD tab: moments over time, scaling collapse, weak error,
final distributions. Each owns its Bokeh sources and refreshes them in place in ``update()``.

The curves over time (moments, scaling collapse) are drawn solid up to the time cursor and
faint after it, so Play unfolds them; the panel a preset's story names (moved to the top of the
tab) redraws on every frame, like the hero.
"""

from __future__ import annotations

from typing import Any

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
    "sme2": "SME2",
    "sme2_no_w2": "SME2 without W2",
}
#: The steps, substep and horizon of the weak-error study, as its summary names them.
WEAK_GRID = "τ = 2⁻²…2⁻⁶, h = 2⁻¹¹, T = 1"
#: The weak-error study compares SME2 with and without the independent noise W2.
WEAK_LABELS = {**LABELS, "sme2": "SME2 with W2"}
#: The scaling rules as the user reads them.
RULE_LABELS = {
    "srsr": "square-root rule",
    "no_beta_eps": "square-root rule, β and ε kept",
    "linear": "linear rule",
}
#: Opacity of a curve's part after the time cursor.
FUTURE_ALPHA = 0.18


class _FollowsCursor(TabPanel):
    """A panel of curves over time, drawn up to the cursor; it redraws on every frame while a
    preset's story names it (``story_panel``: its attribute on the tab)."""

    story_panel = ""

    @property
    def every_frame(self) -> bool:
        story = self.model.story()
        return story is not None and story.panel == self.story_panel

    def cursor_time(self) -> float:
        return float(self.model.run["t"][self.model.time_index])


def _legend_bottom_left(fig: Any) -> None:
    """The legend inside the frame's bottom left corner, over a translucent background (it
    leaves the plot its width on a projector). Losses on a log axis start high and fall:
    early times at small losses stay empty."""
    legend = fig.legend[0]
    legend.location = "bottom_left"
    legend.spacing = 0
    legend.padding = 6
    legend.label_text_font_size = "12px"
    legend.background_fill_alpha = 0.75
    legend.click_policy = "hide"


def show_drawn_in_legend(fig: Any) -> None:
    """Legends list only what is drawn: an item whose renderers have no data is hidden."""

    def drawn(renderer: Any) -> bool:
        data = renderer.data_source.data
        return any(len(column) for column in data.values())  # hidden by a click: still drawn

    for legend in fig.legend:
        for item in legend.items:
            item.visible = any(drawn(r) for r in item.renderers)


def _split_at(x: np.ndarray, y: np.ndarray, cut: float) -> tuple[dict, dict]:
    """``(played, future)`` line data of the curve (x, y) cut at ``x = cut`` (both keep the
    point at the cut, so the two parts join)."""
    x, y = np.asarray(x), np.asarray(y)
    k = int(np.searchsorted(x, cut, side="right"))
    return {"x": x[:k], "y": y[:k]}, {"x": x[max(k - 1, 0) :], "y": y[max(k - 1, 0) :]}


class MomentsPanel(_FollowsCursor):
    """Panel 2: E f(θₜ) with a 10–90% band per model; E vₜ small multiples; up to the cursor."""

    story_panel = "moments"

    def __init__(self, model: AdaptiveModel) -> None:
        super().__init__(model)
        self._drawn: tuple | None = None
        fig = labelled_figure(
            "Loss over time: mean and 10–90% band",
            "SDE time t",
            "f(θₜ)",
            height=320,
            y_axis_type="log",
        )
        self._bands, self._lines, self._future = {}, {}, {}
        for key in ("chain", "ode", "sde1", "sme2"):
            band = empty_source("x", "lo", "hi")
            fig.varea("x", "lo", "hi", source=band, fill_color=COLORS[key], fill_alpha=0.12)
            future = empty_source("x", "y")
            fig.line("x", "y", source=future, color=COLORS[key], line_alpha=FUTURE_ALPHA)
            line = empty_source("x", "y")
            fig.line(
                "x", "y", source=line, color=COLORS[key], line_width=2, legend_label=LABELS[key]
            )
            self._bands[key], self._lines[key], self._future[key] = band, line, future
        self._theory = empty_source("x", "y")
        self._theory_future = empty_source("x", "y")
        fig.line(
            "x",
            "y",
            source=self._theory_future,
            color=THEORY,
            line_dash="dashed",
            line_alpha=FUTURE_ALPHA,
        )
        fig.line(
            "x",
            "y",
            source=self._theory,
            color=THEORY,
            line_dash="dashed",
            line_width=2,
            legend_label="chain, exact (SGD)",
        )
        self._cursor = Span(
            location=0, dimension="height", line_color="#555555", line_dash="dotted"
        )
        fig.add_layout(self._cursor)
        _legend_bottom_left(fig)
        self.figure = fig
        vfig = labelled_figure(
            "Second moment E vₜ (uₜ when batch-equivalent)",
            "SDE time t",
            "E vₜ per coordinate",
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
        self._vpane = pn.pane.Bokeh(self.vfigure, sizing_mode="stretch_width")

    def view(self) -> pn.Card:
        return panel_card(
            "Moments over time",
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            self._vpane,
            caption(
                "**What to look for.** On SDE time the chain's curve should sit on its "
                "continuous equation; the noise-free ODE falls below the noise floor. v "
                "settles at ∇f² + diag Σ, not at ∇f²: the noise variance enters the v-drift. "
                "For SGD the dashed line is the chain's exact mean loss (its moment recursion)."
            ),
        )

    def update(self) -> None:
        m = self.model
        if (m.run_serial, m.time_index) == self._drawn:
            return
        self._drawn = (m.run_serial, m.time_index)
        run = m.run
        t = run["t"]
        now = self.cursor_time()
        self._cursor.location = now
        for key in ("chain", "ode", "sde1", "sme2"):
            moments = m.moments(key)
            if moments is None:
                self._lines[key].data = self._future[key].data = {"x": [], "y": []}
                self._bands[key].data = {"x": [], "lo": [], "hi": []}
                self._v[key].data = {"xs": [], "ys": []}
                continue
            self._lines[key].data, self._future[key].data = _split_at(t, moments["mean"], now)
            k = int(np.searchsorted(t, now, side="right"))
            self._bands[key].data = {"x": t[:k], "lo": moments["lo"][:k], "hi": moments["hi"][:k]}
            v = moments["v"]
            self._v[key].data = (
                {"xs": [t] * v.shape[1], "ys": list(v.T)} if v is not None else {"xs": [], "ys": []}
            )
        self._vpane.visible = run["chain"]["v"] is not None and run["effective"]["optimizer"] != (
            "sgd"
        )
        th = m.theory
        if "chain_loss" in th:
            exact = np.maximum(th["chain_loss"], LOG_FLOOR)
            self._theory.data, self._theory_future.data = _split_at(t, exact, now)
        else:
            self._theory.data = self._theory_future.data = {"x": [], "y": []}
        self._u.data = (
            {"xs": [t] * th["u"].shape[1], "ys": list(th["u"].T)}
            if "u" in th
            else {"xs": [], "ys": []}
        )
        show_drawn_in_legend(self.figure)
        show_drawn_in_legend(self.vfigure)


class ScalingPanel(_FollowsCursor):
    """Panel 3: the chain's E f(θₜ) per κ under a scaling rule, over SDE1, up to the time
    cursor; ``controls`` are the study's job controls. Redraws when the study's result or the
    cursor changes."""

    story_panel = "scaling"

    def __init__(self, model: AdaptiveModel, controls: pn.viewable.Viewable) -> None:
        super().__init__(model)
        self.controls = controls
        self._shown: tuple | None = None  # the (result, cursor time) drawn
        fig = labelled_figure(
            "Scaling rules: batch sizes κ·B on SDE time",
            "SDE time t",
            "E f(θₜ)",
            height=320,
            y_axis_type="log",
        )
        self._future = empty_source("xs", "ys", "color")
        fig.multi_line(
            "xs", "ys", source=self._future, color="color", line_width=1.5, line_alpha=FUTURE_ALPHA
        )
        self._curves = empty_source("xs", "ys", "color", "label")
        fig.multi_line(
            "xs", "ys", source=self._curves, color="color", line_width=2.5, legend_field="label"
        )
        self._sde_future = empty_source("x", "y")
        fig.line(
            "x",
            "y",
            source=self._sde_future,
            color=THEORY,
            line_dash="dashed",
            line_width=1.5,
            line_alpha=FUTURE_ALPHA,
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
                "**What to look for.** Under the square-root rule (η→√κη, 1−β→κ(1−β), "
                "ε→ε/√κ) the curves for κ = 1, 2, 4, … collapse onto one SDE; the naive rules "
                "(β, ε unchanged, or η→κη) fan them out. κ is clamped where 1−β would exceed 1."
            ),
        )

    def update(self) -> None:
        res = self.model.scaling_job.result
        now = self.cursor_time()
        if self._shown is not None and self._shown[0] is res and self._shown[1] == now:
            return
        self._shown = (res, now)
        if res is None:
            self._curves.data = {"xs": [], "ys": [], "color": [], "label": []}
            self._future.data = {"xs": [], "ys": [], "color": []}
            self._sde.data = self._sde_future.data = {"x": [], "y": []}
            self.message.object = "Press “Run scaling study” (or switch the rule) to draw it."
            show_drawn_in_legend(self.figure)
            return
        n = len(res["kappas"])
        colors = [Viridis6[min(i, 5)] for i in range(n)]
        parts = [_split_at(res["t"], np.maximum(c, LOG_FLOOR), now) for c in res["curves"]]
        self._curves.data = {
            "xs": [played["x"] for played, _ in parts],
            "ys": [played["y"] for played, _ in parts],
            "color": colors,
            "label": [f"κ = {k:g}" for k in res["kappas"]],
        }
        self._future.data = {
            "xs": [future["x"] for _, future in parts],
            "ys": [future["y"] for _, future in parts],
            "color": colors,
        }
        self._sde.data, self._sde_future.data = _split_at(
            res["t"], np.maximum(res["sde"], LOG_FLOOR), now
        )
        rule = RULE_LABELS.get(res["rule"], res["rule"])
        self.figure.title.text = f"Scaling rules: batch sizes κ·B on SDE time ({rule})"
        self.message.object = " ".join(res["messages"]) or f"Rule: {rule}."
        show_drawn_in_legend(self.figure)


class WeakErrorPanel(TabPanel):
    """Panel 4: weak error vs τ on log–log axes with slope-1 and slope-2 guides; ``controls``
    are the study's job controls. Redraws only when the result or φ changes."""

    def __init__(self, model: AdaptiveModel, controls: pn.viewable.Viewable) -> None:
        super().__init__(model)
        self.controls = controls
        self._shown: tuple | None = None  # (result, φ, study running without one) drawn
        self.phi = pn.widgets.RadioButtonGroup(
            label="φ", options={"‖θ‖²": 0, "‖v‖²": 1, "f(θ)": 2}, value=0
        )
        self.redraw_on(self.phi)
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
                "x",
                "y",
                source=src,
                color=COLORS[key],
                line_width=2,
                legend_label=WEAK_LABELS[key],
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
        job = self.model.weak_job
        res = job.result
        ip = self.phi.value
        shown = (res, ip, res is None and job.running)
        if self._shown is not None and self._shown[0] is res and self._shown[1:] == shown[1:]:
            return
        self._shown = shown
        curves = self.model.weak_error_curves(ip)
        if curves is None:
            for src in self._lines.values():
                src.data = {"x": [], "y": [], "lo": [], "hi": []}
            self._guides.data = {"xs": [], "ys": [], "label": [], "dash": []}
            self.summary.object = (
                f"Computing the study: {WEAK_GRID}; its curves appear here when it is done."
                if job.running
                else f"Press “Run weak-error study”: {WEAK_GRID}."
            )
            show_drawn_in_legend(self.figure)
            return
        taus = curves["taus"]
        parts = []
        for key, src in self._lines.items():
            if key not in curves["orders"]:
                src.data = {"x": [], "y": [], "lo": [], "hi": []}
                continue
            c = curves["orders"][key]
            src.data = {"x": taus, "y": c["error"], "lo": c["lo"], "hi": c["hi"]}
            parts.append(f"{WEAK_LABELS[key]}: slope {c['slope']:.2f}")
        self._guides.data = {
            "xs": [taus, taus],
            "ys": [curves["guides"][1], curves["guides"][2]],
            "label": ["slope 1", "slope 2"],
            "dash": ["dashed", "dashed"],
        }
        self.summary.object = f"{res['n_paths']} coupled paths per τ. " + "; ".join(parts)
        show_drawn_in_legend(self.figure)


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
        self._ode.data = (
            {"x0": [x_ode], "y0": [0.0], "x1": [x_ode], "y1": [top or 1.0]}
            if np.isfinite(x_ode)
            else {"x0": [], "y0": [], "x1": [], "y1": []}
        )
        show_drawn_in_legend(self.figure)


__all__ = ["FinalPanel", "MomentsPanel", "ScalingPanel", "WeakErrorPanel"]
