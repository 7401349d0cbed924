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
    OFF_STAGE,
    REFERENCE,
    caption,
    empty_source,
    labelled_figure,
    legend_outside,
    panel_card,
)

COLOURS = {"rho": "#d62728", "mu": "#1f77b4", "blend": "#9467bd", "uniform": "#7f7f7f"}
#: Narrowest a coverage plot gets before the two wrap onto two rows (px).
COVERAGE_MIN_WIDTH = 400
TABLE_CSS = """
table.ns-metrics { border-collapse: collapse; font-size: 13px; width: 100%; }
table.ns-metrics th, table.ns-metrics td { padding: 3px 8px; border-bottom: 1px solid #ddd;
  text-align: right; font-variant-numeric: tabular-nums; }
table.ns-metrics th:first-child, table.ns-metrics td:first-child { text-align: left; }
"""


class CoveragePanel(TabPanel):
    """|U|/|Sᵥ|, normalised entropy, d*(U) (linear) and min D̄, mismatch (log) against k."""

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
            ("frac", "#ff2d55", "|Uₖ₊₁| / |Sᵥ|"),
            ("entropy", "#1f77b4", "H(D̄ₖ) / log|Sᵥ|"),
            ("opt_u", "#2ca02c", "d*(Uₖ₊₁)"),
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
            ("min_mass", "#ff7f0e", "min D̄ₖ"),
            ("mismatch", "#9467bd", "‖d* / D̄ₖ‖∞"),
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
                *(
                    pn.pane.Bokeh(f, sizing_mode="stretch_width", min_width=COVERAGE_MIN_WIDTH)
                    for f in self.figures
                ),
                styles={"flex-wrap": "wrap"},
                sizing_mode="stretch_width",
            ),
            caption(
                md(
                    "**What to look for.** Coverage need not rise monotonically; the mismatch "
                    "coefficient ‖d*/D̄ₖ‖∞ (d*: the optimal policy's visits from the start) is "
                    "what PG theory pays for. The dashed line is where the maps are."
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
            marker.location = self.model.k_view + self.model.episode_share


class LearningPanel(TabPanel):
    """V^{π_t}(ρ)/V* against t (or environment steps) for the four restarts, revealed up to the
    updates shown (the model's ``pg_view``: Play reveals them once μ is built); metric table.

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
        self.redraw_on(self.axis)
        self.t_slider = pn.widgets.IntSlider.from_param(
            model.param.pg_view, sizing_mode="stretch_width", margin=(4, 12)
        )
        self.show_all = pn.widgets.Button(
            label="Show all updates", color="light", margin=(14, 10, 4, 4), width=140
        )
        self.show_all.on_click(lambda _: model.reveal_all())
        fig = labelled_figure(
            "Policy gradient from four restarts",
            "PG update t",
            "V(πₜ) / V* from the start ρ",
            height=330,
            x_range=Range1d(0, 1),
            y_range=Range1d(-0.07, 1.05),
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
        self.marks = empty_source("x", "y", "colour")
        fig.scatter(
            "x",
            "y",
            source=self.marks,
            marker="triangle",
            size=11,
            fill_color="colour",
            line_color="black",
            line_width=0.8,
            legend_label="first reward of a seed",
        )
        self.target = Span(location=0.9, dimension="width", line_color="black", line_dash="dashed")
        fig.add_layout(self.target)
        fig.add_layout(Span(location=1.0, dimension="width", line_color=REFERENCE))
        fig.xaxis.formatter = NumeralTickFormatter(format="0,0")
        legend_outside(fig)
        self.marks_item = fig.legend[0].items[-1]
        self.marks_item.visible = False  # listed only for sampled curves (exact ones have none)
        fig.toolbar.autohide = True  # the title (with t) stays readable
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
            pn.Row(self.t_slider, self.show_all, sizing_mode="stretch_width"),
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            self.note,
            pn.Row(
                pn.pane.Markdown("x axis:", margin=(12, 4, 0, 10)),
                self.axis,
                css_classes=[OFF_STAGE],
            ),
            caption(
                md(
                    "**What to look for.** Restarting from μ helps when reward sits where ρ's "
                    "trajectories rarely go (the lock, the distractor), and can cost "
                    "iterations when it doesn't (four rooms). Dashed: the target x·V*; grey: "
                    "V*. Sampled curves: mean and min–max band over seeds; a triangle marks "
                    "the update in which a seed first found the reward."
                )
            ),
            *(_off_stage(obj) for obj in (self.controls, self.table, self.policies.view())),
        )

    def update(self) -> None:
        m = self.model
        result = m.learning.result
        # scrubbing k redraws the tab: resend the curves only when something they show changed
        key = (
            id(result),
            self.axis.value,
            m.target_frac,
            id(m.mdp),
            m.batch,
            m.horizon,
            m.pg_view,
            # before the curves start, the note follows the explorer's act
            (m.k_view, m.episode_share) if m.pg_view == 0 else None,
        )
        if key == self._shown:
            return
        self._shown = key
        self.target.location = m.target_frac
        steps_view = self.axis.value == "environment steps"
        series = m.learning_series(steps_view)
        end = m.reveal_end()
        self.t_slider.end = max(end, 1)
        if series is None:
            for source in self.sources.values():
                source.data = {"x": [], "mean": [], "low": [], "high": []}
            self.marks.data = {"x": [], "y": [], "colour": []}
            self.table.object = "<p>Run the learning curves to fill this table.</p>"
            self.note.object = ""
            return
        for restart, data in series.items():
            self.sources[restart].data = data
        marks = m.first_reward_marks(steps_view)
        self.marks.data = {
            "x": marks["x"],
            "y": marks["y"],
            "colour": [COLOURS[r] for r in marks["restart"]],
        }
        self.marks_item.visible = bool(marks["x"])  # the legend lists what is drawn
        x_end = max(float(np.max(d["x"])) for d in series.values())
        x_start = min(float(np.min(d["x"])) for d in series.values()) if steps_view else 0.0
        self.figure.x_range.start = x_start
        self.figure.x_range.end = max(x_end, x_start + (10.0 if not steps_view else 1000.0))
        self.figure.xaxis.axis_label = (
            "environment steps (μ, νᵦ offset by the explorer's nominal K·B·H)"
            if steps_view
            else "PG update t"
        )
        shown = min(m.pg_view, end)
        k, n = m.k_view, m.n_iters
        self.figure.title.text = (
            f"First the explorer builds μ: iteration {k} of {n}"
            if shown == 0 and k < n
            else f"Policy gradient from four restarts: t = {shown:,} of {end:,}"
        )
        method = "REINFORCE" if result["method"] == "sampled" else "Exact gradient"
        if shown == 0:
            self.note.object = (
                f"*First the explorer builds μ: iteration {k} of {n} (maps below). Then Play "
                "reveals the curves; or drag t, or show all updates.*"
                if k < n
                else "*μ is built: Play reveals the curves; or drag t, or show all updates.*"
            )
        elif steps_view and result["method"] != "sampled":
            self.note.object = "*Exact PG draws no samples: steps are nominal, B·H per update.*"
        else:
            self.note.object = f"*{method}, T = {result['n_iters']}, {result['n_seeds']} seed(s).*"
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
        f"{met['final_poorly_frac']:.3f} · H(μ)/log|Sᵥ| {met['entropy_mu']:.3f} · "
        f"min μ {met['min_mu']:.2e} · terminal mass of D_K {met['terminal_mass']:.3f} · "
        f"‖d*/μ‖∞ {met['mismatch']:.3g}</p>"
    )
    return f"<table class='ns-metrics'>{head}{''.join(rows)}</table>{summary}"


def _off_stage(obj: Any) -> Any:
    """``obj`` marked as an extra presenter mode hides while the panel is on the stage (the
    curves then get the screen's height)."""
    obj.css_classes = [*obj.css_classes, OFF_STAGE]
    return obj
