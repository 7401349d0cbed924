"""The Swarm escapes tab: a softmin-energy swarm escapes a shallow well that traps Langevin.

Agazzi, Carlei, Romito, Saviozzi, *Global Optimization via Softmin Energy Minimization*,
arXiv:2509.17815. Spec: ``models/swarm.md``.
"""

from __future__ import annotations

import time

import panel as pn

from app.models.swarm.model import SwarmModel
from app.tabs.base import SimulationTab
from app.tabs.model_card import model_card
from app.tabs.swarm.hero import SwarmHero
from app.tabs.swarm.panels import (
    DiagnosticsPanel,
    EffectivePotentialPanel,
    SchedulePanel,
    TimeSeriesPanel,
    WeightsPanel,
)
from app.tabs.swarm.studies import KramersPanel, StudyPanel, SweepPanel

#: Seconds between two secondary-panel redraws while the animation plays (one panel per turn,
#: so each of the five is redrawn about once a second).
SECONDARY_PERIOD_S = 0.2


class SwarmTab(SimulationTab):
    """Landscape with swarm and ghosts, weights, time series, schedules, studies (spec §4)."""

    slug = "swarm"
    title = "Swarm escapes"
    claim = (
        "A swarm that descends a softmin energy sends a few explorers uphill: one finds the "
        "deeper well and pulls the swarm after it, while Langevin particles with the same noise "
        "stay trapped behind the full barrier."
    )
    paper_citation = (
        "Agazzi, Carlei, Romito, Saviozzi: Global Optimization via Softmin Energy Minimization "
        "(arXiv:2509.17815)"
    )
    paper_url = "https://arxiv.org/abs/2509.17815"
    provenance = (
        "The swarm, its explorers and the smaller effective barriers are the paper's claims; "
        "the exact energy, schedules, baselines and presets were chosen for this app from the "
        "abstract and checked numerically."
    )
    model_class = SwarmModel

    def _build_panels(self) -> pn.viewable.Viewable:
        model = self.model
        self._secondary_at = 0.0
        self._turn = 0
        model.param.watch(lambda e: e.new or self.call_on_loop(self._refresh), ["playing"])
        self.hero = SwarmHero(model)
        self.weights = WeightsPanel(model)
        self.series = TimeSeriesPanel(model)
        self.schedules = SchedulePanel(model)
        self.potential = EffectivePotentialPanel(model)
        self.diagnostics = DiagnosticsPanel(model)
        self.study = StudyPanel(model)
        self.sweep = SweepPanel(model)
        self.kramers = KramersPanel(model)
        for job, panel in (
            (model.study, self.study),
            (model.sweep, self.sweep),
            (model.kramers, self.kramers),
        ):
            job.param.watch(lambda *_, p=panel: self.call_on_loop(p.update), ["result"])
        # live params that change what is drawn without a new frame redraw at once
        model.param.watch(
            lambda *_: self.call_on_loop(self._refresh),
            [p for p in model.live_params if p not in ("n_runs", "study_dim")],
        )
        return pn.Column(
            self.hero.layout(),
            pn.Row(self.weights.card(), self.series.card(), sizing_mode="stretch_width"),
            pn.Row(self.potential.card(), self.schedules.card(), sizing_mode="stretch_width"),
            self.study.card(
                self.job_controls(model.study, "Run hitting-time study", model.run_study)
            ),
            pn.Row(
                self.sweep.card(self.job_controls(model.sweep, "Run β/σ sweep", model.run_sweep)),
                self.kramers.card(
                    self.job_controls(model.kramers, "Run Kramers study", model.run_kramers)
                ),
                sizing_mode="stretch_width",
            ),
            self.diagnostics.card(),
            model_card(CARD_SECTIONS, self.paper_citation, self.paper_url),
            sizing_mode="stretch_width",
        )

    def _update_plots(self) -> None:
        """The hero every frame. While playing, the other panels take turns, one every
        SECONDARY_PERIOD_S (each repaint and relayout costs the browser milliseconds; the eye
        needs the hero); when paused, all of them at once."""
        self.hero.update()
        panels = (self.weights, self.series, self.diagnostics, self.potential, self.schedules)
        if not self.model.playing:
            for panel in panels:
                panel.update()
            return
        now = time.monotonic()
        if now - self._secondary_at >= SECONDARY_PERIOD_S:
            self._secondary_at = now
            panels[self._turn % len(panels)].update()
            self._turn += 1


CARD_SECTIONS: list[tuple[str, str]] = [
    ("md", "**Model.** N particles descend the Boltzmann-weighted mean of their values:"),
    (
        "tex",
        r"$J_\beta(x) = \sum_i w_i f(x_i),\quad w_i = \frac{e^{-\beta f(x_i)}}{\sum_j "
        r"e^{-\beta f(x_j)}},\quad \partial_{x_i}J_\beta = c_i\nabla f(x_i),\quad "
        r"c_i = w_i\bigl(1-\beta(f(x_i)-J_\beta)\bigr)$",
    ),
    (
        "md",
        "so a particle with f(x_i) > J + 1/β has c_i < 0 and *climbs*: an explorer. The swarm "
        "follows the SDE (κ = N by default, so β = 0 is exactly N independent Langevin "
        "particles at the same σ):",
    ),
    (
        "tex",
        r"$dX_i = -\kappa\, c_i(X;\beta(t))\,\nabla f(X_i)\,dt + \sigma(t)\,dW_i,\qquad "
        r"X_i \leftarrow X_i - h\kappa c_i\nabla f(X_i) + \sigma\sqrt{h}\,\xi_i$",
    ),
    (
        "md",
        "**Effective barrier (heuristic).** With N − 1 particles at the leader's value m, an "
        "explorer sees U(y) = m + κ g_N(f(y) − m), g_N(u) = u/(1 + (N−1)e^{βu}), whose bump is "
        "κ(s_N − 1)/β with (N−1)e^{s}(s−1) = 1, against the full barrier ΔV of Kramers' law:",
    ),
    (
        "tex",
        r"$\mathbb{E}\tau_{\rm Langevin} \approx \frac{2\pi}{\sqrt{V''(x^*)|V''(z)|}}"
        r"e^{2\Delta V/\sigma^2},\qquad \text{exponent for the swarm} \approx "
        r"\frac{2\kappa(s_N-1)}{\beta\sigma^2}$",
    ),
    (
        "md",
        "**Baselines** (same start; Langevin and CBO with the same increments ξ): independent "
        "Langevin, CBO x_i ← x_i − λh(x_i − m_α) + σ_c√h|x_i − m_α|ξ_i with m_α = Σ w_i x_i "
        "(checked against CBXpy), gbest PSO (checked against PySwarms) and SciPy's "
        "dual_annealing as a black-box reference in the studies.\n\n"
        "**Provenance.** *Paper:* the stochastic gradient flow of a soft-min energy, explorers "
        "at stationarity, an Eyring–Kramers estimate with smaller effective barriers, the "
        "double-well and Ackley experiments with SA, PSO and CBO baselines (abstract, talk "
        "abstract, a figure caption). *Literature:* CBO (Pinnau et al.), Kramers' law "
        "(Berglund), SA cooling (Hajek). *Derived for this app:* the weighted-mean form of J "
        "and its gradient, κ, the schedules, the stability bound, s_N and the effective "
        "potential heuristic; the paper's exact J, schedules and theorem were not available.",
    ),
]
