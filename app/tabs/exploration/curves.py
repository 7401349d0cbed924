"""Coverage-vs-k and learning-curve panels of the Exploration maps tab (spec §4.2–§4.4)."""

from __future__ import annotations

from typing import Any

import numpy as np
import panel as pn
from bokeh.models import NumeralTickFormatter, Range1d, Span

from app.models.exploration import RESTARTS, ExplorationModel
from app.tabs.exploration.maps import md
from app.tabs.exploration.policy import LearnedPolicyMaps
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
    REFERENCE,
    caption,
    empty_source,
    labelled_figure,
    legend_outside,
    panel_card,
)

COLOURS = {"rho": "#d62728", "mu": "#1f77b4", "blend": "#9467bd", "uniform": "#7f7f7f"}
TABLE_CSS = """
table.ns-metrics { border-collapse: collapse; font-size: 13px; width: 100%; }
table.ns-metrics th, table.ns-metrics td { padding: 3px 8px; border-bottom: 1px solid #ddd;
  text-align: right; font-variant-numeric: tabular-nums; }
table.ns-metrics th:first-child, table.ns-metrics td:first-child { text-align: left; }
"""


class CoveragePanel(TabPanel):
    """|U|/|S_v|, normalised entropy, d*(U) (linear) and min D̄, mismatch (log) against k."""

    def __init__(self, model: ExplorationModel) -> None:
        super().__init__(model)
        self.source = empty_source("k", "frac", "entropy", "opt_u", "min_mass", "mismatch")
        lin = labelled_figure(
            "Coverage of the valid set",
            "explorer iteration k",
            "fraction",
            height=260,
            y_range=Range1d(-0.02, 1.02),
        )
        for field, colour, label in (
            ("frac", "#ff2d55", "|U_{k+1}|/|S_v|"),
            ("entropy", "#1f77b4", "H(D̄_k)/log|S_v|"),
            ("opt_u", "#2ca02c", "d^{π*}_ρ(U_{k+1})"),
        ):
            lin.line("k", field, source=self.source, color=colour, line_width=2, legend_label=label)
            lin.scatter("k", field, source=self.source, color=colour, size=5)
        log = labelled_figure(
            "Worst coverage and mismatch",
            "explorer iteration k",
            "value (log)",
            height=260,
            y_axis_type="log",
        )
        for field, colour, label in (
            ("min_mass", "#ff7f0e", "min D̄_k"),
            ("mismatch", "#9467bd", "‖d^{π*}_ρ / D̄_k‖∞"),
        ):
            log.line("k", field, source=self.source, color=colour, line_width=2, legend_label=label)
            log.scatter("k", field, source=self.source, color=colour, size=5)
        self.markers = [
            Span(location=0, dimension="height", line_color=REFERENCE, line_dash="dashed")
            for _ in range(2)
        ]
        for fig, marker in zip((lin, log), self.markers, strict=True):
            fig.add_layout(marker)
            legend_outside(fig)
        self.figures = (lin, log)

    def view(self) -> pn.Card:
        return panel_card(
            "Coverage against explorer iteration",
            pn.Row(
                *(pn.pane.Bokeh(f, sizing_mode="stretch_width") for f in self.figures),
                sizing_mode="stretch_width",
            ),
            caption(
                md(
                    "**What to look for.** Coverage need not rise monotonically; the mismatch "
                    "coefficient ‖d^{π*}_ρ/D̄_k‖∞ is what PG theory pays for. The dashed line "
                    "is the iteration shown in the maps."
                )
            ),
        )

    def update(self) -> None:
        data = self.model.coverage_series()
        if len(self.source.data["k"]) != len(data["k"]) or not all(
            np.array_equal(self.source.data[name], value) for name, value in data.items()
        ):
            self.source.data = data
        self.move_marker()

    def move_marker(self) -> None:
        for marker in self.markers:
            marker.location = self.model.k_view


class LearningPanel(TabPanel):
    """V^{π_t}(ρ)/V* against t (or environment steps) for the four restarts; metric table.

    ``controls`` are the learning job's controls; ``policies`` the learned-policy maps shown
    underneath (a panel of their own, registered with the tab).
    """

    def __init__(
        self, model: ExplorationModel, controls: pn.Column, policies: LearnedPolicyMaps
    ) -> None:
        super().__init__(model)
        self.controls = controls
        self.policies = policies
        self.axis = pn.widgets.RadioButtonGroup(
            options=["iterations", "environment steps"],
            value="iterations",
            color="light",
            margin=(10, 10),
        )
        self.axis.param.watch(lambda *_: self.update(), "value")
        fig = labelled_figure(
            "Policy gradient from four restarts",
            "PG iteration t",
            "V^{π_t}(ρ) / V*(ρ)",
            height=330,
            y_range=Range1d(-0.02, 1.05),
            tooltips=[("t", "$x{0}"), ("V/V*", "$y{0.000}")],
        )
        self.sources: dict[str, Any] = {}
        for key, label in RESTARTS.items():
            source = empty_source("x", "mean", "low", "high")
            fig.varea(
                "x",
                "low",
                "high",
                source=source,
                fill_color=COLOURS[key],
                fill_alpha=0.18,
                legend_label=label,
            )
            fig.line(
                "x", "mean", source=source, color=COLOURS[key], line_width=2, legend_label=label
            )
            self.sources[key] = source
        self.target = Span(location=0.9, dimension="width", line_color="black", line_dash="dashed")
        fig.add_layout(self.target)
        fig.add_layout(Span(location=1.0, dimension="width", line_color=REFERENCE))
        fig.xaxis.formatter = NumeralTickFormatter(format="0,0")
        legend_outside(fig)
        self.figure = fig
        self.table = pn.pane.HTML(
            "",
            stylesheets=[TABLE_CSS],
            sizing_mode="stretch_width",
            height=170,
            css_classes=["ns-metric-table"],
        )
        self._shown: tuple | None = None
        self.note = pn.pane.Markdown("", height=30, margin=(0, 10), sizing_mode="stretch_width")

    def view(self) -> pn.Card:
        return panel_card(
            "Learning curves: where PG restarts matters",
            self.controls,
            pn.Row(pn.pane.Markdown("x axis:", margin=(12, 4, 0, 10)), self.axis),
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            self.note,
            caption(
                md(
                    "**What to look for.** Restarting from μ helps when reward sits where ρ's "
                    "trajectories rarely go (the lock, the distractor), and can cost "
                    "iterations when it doesn't (four rooms). Dashed: the target x·V*; grey: "
                    "V*. Sampled curves: mean and min–max band over seeds."
                )
            ),
            self.table,
            self.policies.view(),
        )

    def update(self) -> None:
        m = self.model
        result = m.learning.result
        # scrubbing k redraws the tab: resend the curves only when something they show changed
        key = (id(result), self.axis.value, m.target_frac, id(m.mdp), m.batch, m.horizon)
        if key == self._shown:
            return
        self._shown = key
        self.target.location = m.target_frac
        steps_view = self.axis.value == "environment steps"
        series = m.learning_series(steps_view)
        if series is None:
            for source in self.sources.values():
                source.data = {"x": [], "mean": [], "low": [], "high": []}
            self.table.object = "<p>Run the learning curves to fill this table.</p>"
            return
        for restart, data in series.items():
            self.sources[restart].data = data
        self.figure.xaxis.axis_label = (
            "environment steps (μ, ν_β offset by the explorer's nominal K·B·H)"
            if steps_view
            else "PG iteration t"
        )
        if steps_view and result["method"] != "sampled":
            self.note.object = "*Exact PG draws no samples: steps are nominal, B·H per iteration.*"
        else:
            self.note.object = (
                f"*{result['method']} gradient, T = {result['n_iters']}, "
                f"{result['n_seeds']} seed(s).*"
            )
        self.table.object = metric_table(m, result)


def _fmt_iters(values: list[int | None], cap: int) -> str:
    shown = [f"> {cap}" if v is None else str(v) for v in values]
    return shown[0] if len(shown) == 1 else " / ".join(shown)


def metric_table(model: ExplorationModel, result: dict[str, Any]) -> str:
    """HTML metric table (spec §4.4): one row per restart, then μ's summary numbers."""
    cap = result["n_iters"]
    sampled = result["method"] == "sampled"
    head = "<tr><th>restart</th><th>iters to 0.5 V*</th><th>iters to 0.9 V*</th>"
    head += "<th>episodes to first goal</th>" if sampled else ""
    head += "<th>final V/V*</th></tr>"
    rows = []
    for key, curve in result["curves"].items():
        row = f"<tr><td>{RESTARTS[key]}</td><td>{_fmt_iters(curve['iters_half'], cap)}</td>"
        row += f"<td>{_fmt_iters(curve['iters_90'], cap)}</td>"
        if sampled:
            firsts = ["none" if f is None else str(f) for f in curve["first_goal"]]
            row += f"<td>{' / '.join(firsts)}</td>"
        row += f"<td>{curve['mean'][-1]:.3f}</td></tr>"
        rows.append(row)
    met = model.metrics
    summary = (
        f"<p style='font-size:12px;margin:4px 0'>μ: final poorly visited share "
        f"{met['final_poorly_frac']:.3f} · H(μ)/log|S_v| {met['entropy_mu']:.3f} · "
        f"min μ {met['min_mu']:.2e} · terminal mass of D_K {met['terminal_mass']:.3f} · "
        f"‖d^{{π*}}_ρ/μ‖∞ {met['mismatch']:.3g}</p>"
    )
    return f"<table class='ns-metrics'>{head}{''.join(rows)}</table>{summary}"
