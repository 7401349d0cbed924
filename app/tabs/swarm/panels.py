"""Panels 2–5 and 7 of the Swarm escapes tab: weights, time series, schedules, the effective
potential and the diagnostics. Each owns its sources and refreshes them in ``update()`` from
what the model computes."""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import Span

from app.models.swarm.model import GHOSTS, SwarmModel
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
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

GHOST_COLOURS = {"langevin": "#4d4d4d", "cbo": "#b35806", "pso": "#1b7837"}
#: What the legends call each baseline.
GHOST_NAMES = {"langevin": "Langevin", "cbo": "CBO", "pso": "PSO"}


class WeightsPanel(TabPanel):
    """Panel 2: sorted weights w_i (log scale) and coefficients c_i."""

    def __init__(self, model: SwarmModel) -> None:
        super().__init__(model)
        self.w_fig = labelled_figure("Sorted weights wᵢ", "rank", "log₁₀ wᵢ", height=240)
        self.c_fig = labelled_figure("Coefficients cᵢ (same order)", "rank", "cᵢ", height=240)
        self._source = empty_source("rank", "logw", "c", "colour")
        self.w_fig.vbar(
            x="rank",
            top="logw",
            bottom=-16,
            width=0.8,
            source=self._source,
            fill_color=MEASURED,
            line_color=None,
        )
        self.c_fig.vbar(
            x="rank", top="c", width=0.8, source=self._source, fill_color="colour", line_color=None
        )
        self.c_fig.add_layout(Span(location=0, dimension="width", line_color="black", line_width=1))
        self.w_fig.y_range.start = -16

    def view(self) -> pn.Card:
        return panel_card(
            "Weights and coefficients",
            pn.Row(
                pn.pane.Bokeh(self.w_fig, sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.c_fig, sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            ),
            caption(
                "**What to look for.** One leader carries nearly all the weight; explorers "
                "sit just below c = 0 (red bars). At small β the bars flatten to 1/N."
            ),
        )

    def update(self) -> None:
        snap = self.model.snapshot()
        if not np.all(np.isfinite(snap["w"])):
            return
        order = np.argsort(-snap["w"])
        c = snap["c"][order]
        self._source.data = {
            "rank": np.arange(1, len(order) + 1),
            "logw": np.log10(np.maximum(snap["w"][order], 1e-16)),
            "c": c,
            "colour": np.where(c < 0, THEORY, MEASURED),
        }


class TimeSeriesPanel(TabPanel):
    """Panel 3: best-so-far f, J, min f and mean f, plus the ghosts' best so far."""

    def __init__(self, model: SwarmModel) -> None:
        super().__init__(model)
        fig = labelled_figure("Values over time", "time t", "f", height=280)
        self._source = empty_source(
            "t", "best", "J", "min_f", "mean_f", *(f"best_{m}" for m in GHOSTS)
        )
        fig.line("t", "mean_f", source=self._source, color=REFERENCE, legend_label="mean f")
        fig.line(
            "t",
            "min_f",
            source=self._source,
            color=MEASURED,
            line_dash="dotted",
            legend_label="min f",
        )
        fig.line("t", "J", source=self._source, color=THEORY, line_width=2, legend_label="J")
        fig.line(
            "t",
            "best",
            source=self._source,
            color="black",
            line_width=2,
            legend_label="best so far (swarm)",
        )
        self._ghost_lines = {}
        for m in GHOSTS:
            self._ghost_lines[m] = fig.line(
                "t",
                f"best_{m}",
                source=self._source,
                color=GHOST_COLOURS[m],
                line_dash="dashed",
                line_width=2,
                legend_label=f"best so far ({GHOST_NAMES[m]})",
            )
        legend_outside(fig)
        self._ghost_items = {
            m: next(item for item in fig.legend[0].items if line in item.renderers)
            for m, line in self._ghost_lines.items()
        }
        self.figure = fig

    def view(self) -> pn.Card:
        return panel_card(
            "Best so far, J, min f and mean f",
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** J stays between min f and mean f; each drop in the "
                "best is an escape. The dashed ghost curves show how far the baselines got."
            ),
        )

    def update(self) -> None:
        h = self.model.history
        self._source.data = {k: np.asarray(h[k], dtype=float) for k in self._source.data}
        for m, line in self._ghost_lines.items():
            shown = bool(getattr(self.model, "show_" + m))
            line.visible = shown
            self._ghost_items[m].visible = shown  # the legend lists what is drawn


class SchedulePanel(TabPanel):
    """Panel 4: β(t) and σ(t) over the horizon with a time cursor."""

    def __init__(self, model: SwarmModel) -> None:
        super().__init__(model)
        self.beta_fig = labelled_figure("β(t)", "time t", "β", height=170)
        self.sigma_fig = labelled_figure("σ(t)", "time t", "σ", height=170)
        self._source = empty_source("t", "beta", "sigma")
        self.beta_fig.line("t", "beta", source=self._source, color=THEORY, line_width=2)
        self.sigma_fig.line("t", "sigma", source=self._source, color=MEASURED, line_width=2)
        self._cursors = [
            Span(location=0, dimension="height", line_color="black", line_dash="dotted")
            for _ in range(2)
        ]
        self.beta_fig.add_layout(self._cursors[0])
        self.sigma_fig.add_layout(self._cursors[1])
        self._key: tuple | None = None

    def view(self) -> pn.Card:
        return panel_card(
            "Schedules",
            pn.pane.Bokeh(self.beta_fig, sizing_mode="stretch_width"),
            pn.pane.Bokeh(self.sigma_fig, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** Raising β sharpens the split between leader and "
                "explorers; log cooling lowers σ like simulated annealing."
            ),
        )

    def update(self) -> None:
        m = self.model
        key = (
            m.t_max,
            m.beta_schedule,
            m.beta0,
            m.beta_rate,
            m.beta_max,
            m.sigma_schedule,
            m.sigma0,
        )
        if key != self._key:
            t = np.linspace(0, m.t_max, 300)
            beta, sigma = m.schedules_at(t)
            self._source.data = {"t": t, "beta": beta, "sigma": sigma}
            self._key = key
        for cursor in self._cursors:
            cursor.location = m.t


class EffectivePotentialPanel(TabPanel):
    """Panel 5: the 1-D cut f(y) and the explorer's effective potential U(y) (spec §4.5)."""

    def __init__(self, model: SwarmModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "Effective potential along x₁",
            "x₁ (other coordinates at the best point)",
            "value",
            height=280,
        )
        self._source = empty_source("y", "f", "U")
        fig.line(
            "y",
            "f",
            source=self._source,
            color=REFERENCE,
            line_width=2,
            legend_label="f (full barrier)",
        )
        fig.line(
            "y",
            "U",
            source=self._source,
            color=THEORY,
            line_width=2,
            legend_label="U = m + κ g_N(f − m)",
        )
        legend_outside(fig)
        self.figure = fig
        self.readouts = readout_pane(520)

    def view(self) -> pn.Card:
        return panel_card(
            "Effective potential of an explorer",
            self.readouts,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** An explorer climbs only the small bump of U, not the "
                "full barrier of f: with the other N − 1 particles at the leader's value m, "
                "the barrier drops from ΔV to κ(s_N − 1)/β (a heuristic, not the paper's "
                "theorem)."
            ),
        )

    def update(self) -> None:
        cut = self.model.explorer_potential()
        if cut is None:
            return
        self._source.data = {"y": cut["y"], "f": cut["f"], "U": cut["U"]}
        items = {"leader value m": f"{cut['leader']:.4f}"}
        if cut["barrier"] is not None:
            items["ΔV (shallow side)"] = f"{cut['barrier']:.4f}"
        if cut["bump"] is not None:
            items["κ(s_N − 1)/β"] = f"{cut['bump']:.4f}"
        self.readouts.object = readout(items)


class DiagnosticsPanel(TabPanel):
    """Panel 7: explorer, at-wall and clipped fractions over time, and the stability badge."""

    def __init__(self, model: SwarmModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "Diagnostics", "time t", "fraction", height=240, y_range=(-0.02, 1.02)
        )
        self._source = empty_source("t", "explorers", "at_wall", "clipped")
        fig.line(
            "t",
            "explorers",
            source=self._source,
            color=THEORY,
            line_width=2,
            legend_label="exploring (c < 0)",
        )
        fig.line(
            "t",
            "at_wall",
            source=self._source,
            color=MEASURED,
            line_width=2,
            legend_label="within 2.5% of a wall",
        )
        fig.line(
            "t",
            "clipped",
            source=self._source,
            color=REFERENCE,
            line_width=2,
            legend_label="steps clipped",
        )
        legend_outside(fig)
        self.figure = fig
        self.readouts = readout_pane(520)

    def view(self) -> pn.Card:
        return panel_card(
            "Diagnostics",
            self.readouts,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** With reflecting walls some explorers collect near "
                "the walls; the step clip engages on steep slopes (Ackley's cusp). The badge "
                "turns UNSTABLE when hκL(1 + (N−1)/e) ≥ 1."
            ),
        )

    def update(self) -> None:
        m = self.model
        h = m.history
        self._source.data = {k: np.asarray(h[k], dtype=float) for k in self._source.data}
        number, verdict = m.stability()
        self.readouts.object = readout(
            {
                "exploring": f"{100 * h['explorers'][-1]:.0f}%",
                "at a wall": f"{100 * h['at_wall'][-1]:.0f}%",
                "clipped": f"{100 * h['clipped'][-1]:.1f}%",
                "stability": verdict if number is None else f"{number:.2f}: {verdict}",
                "N f-evals": f"{m.swarm.n_f_evals}",
            }
        )
