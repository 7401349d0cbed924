"""Panel 6 of the Swarm escapes tab: many-run studies as background jobs (spec §4.6).

* hitting times of softmin, Langevin, CBO and PSO (common random numbers) as histograms and
  ECDFs, in time or in evaluations, with success rates and SciPy dual annealing's evaluations;
* success rate against β₀ and against σ₀;
* the Kramers plot: log mean hitting time against 1/σ² with the slopes 2ΔV and 2κ(s_N−1)/β.
"""

from __future__ import annotations

import math
from typing import Any

import panel as pn

from app.models.swarm.model import SwarmModel
from app.models.swarm.params import objective_label
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
    REFERENCE,
    STYLESHEET,
    THEORY,
    caption,
    empty_source,
    labelled_figure,
    legend_outside,
    panel_card,
)
from app.tabs.swarm.layout import PLOT_BASIS, side_by_side

METHOD_COLOURS = {"softmin": "#7b3294", "langevin": "#4d4d4d", "cbo": "#b35806", "pso": "#1b7837"}
#: What the legends and the table call each method.
METHOD_NAMES = {"softmin": "softmin swarm", "langevin": "Langevin", "cbo": "CBO", "pso": "PSO"}
SUMMARY_HEIGHT = 150


class StudyPanel(TabPanel):
    """Hitting-time histograms, ECDFs and the success table."""

    follows_run = False  # drawn when its job delivers

    def __init__(self, model: SwarmModel, controls: pn.Column) -> None:
        super().__init__(model)
        self.controls = controls
        self.axis = pn.widgets.RadioButtonGroup(
            options=["time", "evaluations"], value="time", color="light"
        )
        self.redraw_on(self.axis)
        self.hist = labelled_figure("First hitting times", "hitting time t", "runs", height=260)
        self.ecdf = labelled_figure(
            "Fraction of runs that hit by t (ECDF)",
            "hitting time t",
            "fraction of runs",
            height=260,
            y_range=(0, 1.02),
        )
        self._hist_sources: dict[str, Any] = {}
        self._ecdf_sources: dict[str, Any] = {}
        for m, colour in METHOD_COLOURS.items():
            h = empty_source("left", "right", "top")
            self.hist.quad(
                left="left",
                right="right",
                top="top",
                bottom=0,
                source=h,
                fill_color=colour,
                fill_alpha=0.35,
                line_color=colour,
                legend_label=METHOD_NAMES[m],
            )
            e = empty_source("x", "y")
            self.ecdf.step(
                "x",
                "y",
                source=e,
                color=colour,
                line_width=2,
                mode="after",
                legend_label=METHOD_NAMES[m],
            )
            self._hist_sources[m], self._ecdf_sources[m] = h, e
        legend_outside(self.hist)
        legend_outside(self.ecdf)
        self.summary = pn.pane.HTML(
            "<i>Press “Run hitting-time study”.</i>",
            height=SUMMARY_HEIGHT,
            stylesheets=[STYLESHEET],
            sizing_mode="stretch_width",
        )

    def view(self) -> pn.Card:
        return panel_card(
            "Hitting times over many runs",
            self.controls,
            pn.Row(pn.pane.Markdown("x axis:", margin=(8, 4)), self.axis),
            side_by_side(
                pn.pane.Bokeh(self.hist, sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.ecdf, sizing_mode="stretch_width"),
                basis=PLOT_BASIS,
            ),
            self.summary,
            caption(
                "**What to look for.** M runs per method from the same starts with the same "
                "noise (PSO: its own uniforms). The advantage of the swarm grows as σ "
                "shrinks. Evaluations: ∇f calls for softmin and Langevin, f calls for CBO "
                "and PSO; dual annealing is a black-box reference row (f calls)."
            ),
        )

    def update(self) -> None:
        dist = self.model.study_distributions(self.axis.value == "evaluations")
        if dist is None:
            return
        self.hist.xaxis.axis_label = self.ecdf.xaxis.axis_label = dist["label"]
        edges = dist["edges"]
        for m, counts in dist["counts"].items():
            self._hist_sources[m].data = {"left": edges[:-1], "right": edges[1:], "top": counts}
            xs, ys = dist["ecdf"][m]
            self._ecdf_sources[m].data = {"x": xs, "y": ys}
        self.summary.object = _summary_table(self.model.study_summary())


def _summary_table(summary: dict[str, Any]) -> str:
    """The study's setting and one table row per method (the numbers come from the model)."""
    rows = []
    for row in summary["rows"]:
        success = f"{row['success']:.2f}" + (f" ± {row['se']:.2f}" if row["se"] is not None else "")
        med_t = row["median_time"]
        evals = row["median_evals"]
        rows.append(
            f"<tr><td>{METHOD_NAMES.get(row['name'], row['name'])}</td><td>{success}</td>"
            f"<td>{'—' if math.isnan(med_t) else f'{med_t:.1f}'}</td>"
            f"<td>{'—' if evals is None else evals}</td></tr>"
        )
    landscape = objective_label(summary["objective"])
    return (
        f'<div class="ns-caption">{landscape}, d = {summary["dim"]}, N = '
        f"{summary['n_particles']}, M = {summary['n_runs']} runs, T = {summary['t_max']:g}</div>"
        '<table style="font-size:13px;border-collapse:collapse" cellpadding="3">'
        "<tr><th align=left>method</th><th align=left>success by T</th>"
        "<th align=left>median hitting time</th><th align=left>median evaluations to hit</th></tr>"
        + "".join(rows)
        + "</table>"
    )


class SweepPanel(TabPanel):
    """Success rate by the horizon against β₀ and σ₀."""

    follows_run = False  # drawn when its job delivers

    def __init__(self, model: SwarmModel, controls: pn.Column) -> None:
        super().__init__(model)
        self.controls = controls
        self.beta_fig = labelled_figure(
            "Success rate against β₀", "β₀", "success rate", height=240, y_range=(-0.02, 1.02)
        )
        self.sigma_fig = labelled_figure(
            "Success rate against σ₀", "σ₀", "success rate", height=240, y_range=(-0.02, 1.02)
        )
        self._sources: dict[tuple[str, str], Any] = {}
        for key, fig in (("beta", self.beta_fig), ("sigma", self.sigma_fig)):
            for m in ("softmin", "langevin", "cbo"):
                src = empty_source("x", "y")
                fig.line(
                    "x",
                    "y",
                    source=src,
                    color=METHOD_COLOURS[m],
                    line_width=2,
                    legend_label=METHOD_NAMES[m],
                )
                fig.scatter("x", "y", source=src, color=METHOD_COLOURS[m], size=6)
                self._sources[(key, m)] = src
            legend_outside(fig)

    def view(self) -> pn.Card:
        return panel_card(
            "Success rate against β and σ",
            self.controls,
            side_by_side(
                pn.pane.Bokeh(self.beta_fig, sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.sigma_fig, sizing_mode="stretch_width"),
                basis=PLOT_BASIS,
            ),
            caption(
                "**What to look for.** β = 0 is Langevin; too large a β on Ackley traps the "
                "swarm, too small a β wastes it. Langevin catches up as σ grows."
            ),
            collapsed=False,
        )

    def update(self) -> None:
        result = self.model.sweep_curves()
        if result is None:
            return
        for (key, m), src in self._sources.items():
            sweep = result[key]
            if m in sweep:
                src.data = {"x": sweep["values"], "y": sweep[m]}


class KramersPanel(TabPanel):
    """log mean hitting time against 1/σ² with the Kramers and heuristic slopes."""

    follows_run = False  # drawn when its job delivers

    def __init__(self, model: SwarmModel, controls: pn.Column) -> None:
        super().__init__(model)
        self.controls = controls
        fig = labelled_figure(
            "Kramers plot (tilted double well)", "1/σ²", "log mean hitting time", height=280
        )
        self._points = {m: empty_source("x", "y") for m in ("softmin", "langevin")}
        for m, src in self._points.items():
            fig.scatter(
                "x", "y", source=src, color=METHOD_COLOURS[m], size=8, legend_label=METHOD_NAMES[m]
            )
            fig.line("x", "y", source=src, color=METHOD_COLOURS[m], line_alpha=0.4)
        self._theory = empty_source("x", "kramers", "heuristic")
        fig.line(
            "x",
            "kramers",
            source=self._theory,
            color=REFERENCE,
            line_dash="dashed",
            line_width=2,
            legend_label="slope 2ΔV (Kramers)",
        )
        fig.line(
            "x",
            "heuristic",
            source=self._theory,
            color=THEORY,
            line_dash="dashed",
            line_width=2,
            legend_label="slope 2κ(s_N−1)/β",
        )
        legend_outside(fig)
        self.figure = fig

    def view(self) -> pn.Card:
        return panel_card(
            "Kramers plot",
            self.controls,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** Langevin's log mean exit time grows like 2ΔV/σ² "
                "(Kramers); the swarm's grows with a smaller slope. Misses count as T, so "
                "points near log T are lower bounds."
            ),
        )

    def update(self) -> None:
        plot = self.model.kramers_plot()
        if plot is None:
            return
        for m, src in self._points.items():
            src.data = {"x": plot["x"], "y": plot["log_mean_" + m]}
        self._theory.data = {
            "x": plot["x"],
            "kramers": plot["kramers"],
            "heuristic": plot["heuristic"],
        }
