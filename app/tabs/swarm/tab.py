"""The Swarm escapes tab: a softmin-energy swarm escapes a shallow well that traps Langevin.

Agazzi, Carlei, Romito, Saviozzi, *Global Optimization via Softmin Energy Minimization*,
arXiv:2509.17815. Spec: ``models/swarm.md``.
"""

from __future__ import annotations

from collections.abc import Iterator

import panel as pn

from app.models.swarm.model import SwarmModel
from app.tabs.base import SimulationTab
from app.tabs.model_card import load_card, model_card
from app.tabs.swarm.hero import SwarmHero
from app.tabs.swarm.layout import side_by_side
from app.tabs.swarm.panels import (
    DiagnosticsPanel,
    EffectivePotentialPanel,
    SchedulePanel,
    TimeSeriesPanel,
    WeightsPanel,
)
from app.tabs.swarm.studies import KramersPanel, StudyPanel, SweepPanel


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
    # the hero needs the browser's frame: the secondary panels take turns while playing
    secondary_in_turns = True

    def _build_first(self) -> pn.viewable.Viewable:
        self._turn = 0
        self.hero = self.add_panel(SwarmHero(self.model))
        return self.hero.view()

    def _build_panels(self) -> Iterator[pn.viewable.Viewable]:
        model = self.model
        # live params that change what is drawn without a new frame redraw at once (on the
        # schedule of _update_plots: while playing, the hero and the panel whose turn it is)
        model.param.watch(
            lambda *_: self.call_on_loop(self._refresh),
            [p for p in model.live_params if p not in ("n_runs", "study_dim")],
        )
        yield self.hero.view()
        self.weights = self.add_panel(WeightsPanel(model))
        self.series = self.add_panel(TimeSeriesPanel(model))
        yield side_by_side(self.weights.view(), self.series.view())
        self.schedules = self.add_panel(SchedulePanel(model))
        self.potential = self.add_panel(EffectivePotentialPanel(model))
        yield side_by_side(self.potential.view(), self.schedules.view())
        self.diagnostics = self.add_panel(DiagnosticsPanel(model))
        self.study = self.add_panel(
            StudyPanel(
                model, self.job_controls(model.study, "Run hitting-time study", model.run_study)
            )
        )
        self.update_on(model.study, self.study)
        yield self.study.view()
        self.sweep = self.add_panel(
            SweepPanel(model, self.job_controls(model.sweep, "Run β/σ sweep", model.run_sweep))
        )
        self.kramers = self.add_panel(
            KramersPanel(
                model, self.job_controls(model.kramers, "Run Kramers study", model.run_kramers)
            )
        )
        self.update_on(model.sweep, self.sweep)
        self.update_on(model.kramers, self.kramers)
        yield side_by_side(self.sweep.view(), self.kramers.view())
        yield self.diagnostics.view()
        yield model_card(load_card(self.slug), self.paper_citation, self.paper_url)
