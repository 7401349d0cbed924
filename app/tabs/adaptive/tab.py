"""The Adaptive SGD tab: RMSprop and Adam next to their continuous equations, scaling rules.

Callisti, Romito, Triggiano, *Effective continuous equations for adaptive SGD: a stochastic
analysis view*, arXiv:2509.21614. Spec: ``models/adaptive.md``.
"""

from __future__ import annotations

import panel as pn

from app.models.adaptive.model import AdaptiveModel
from app.tabs.adaptive.hero import AdaptiveHero
from app.tabs.adaptive.panels import FinalPanel, MomentsPanel, ScalingPanel, WeakErrorPanel
from app.tabs.base import SimulationTab
from app.tabs.model_card import load_card, model_card


class AdaptiveTab(SimulationTab):
    """Hero landscape, moments, scaling collapse, weak error, final distributions (spec §4)."""

    slug = "adaptive"
    title = "Adaptive SGD"
    claim = (
        "RMSprop and Adam follow stochastic differential equations in which the sampling noise "
        "drives the parameters and, through an independent Brownian motion, the second moment; "
        "the square-root scaling rule keeps them fixed as the batch grows."
    )
    paper_citation = (
        "Callisti, Romito, Triggiano: Effective continuous equations for adaptive SGD: a "
        "stochastic analysis view (arXiv:2509.21614)"
    )
    paper_url = "https://arxiv.org/abs/2509.21614"
    provenance = (
        "Equations follow the authors' public code; the order-2 batch-equivalent terms, the "
        "sign fixes and the landscapes' noise models were derived for this app."
    )
    model_class = AdaptiveModel

    def _build_panels(self) -> pn.viewable.Viewable:
        model = self.model
        weak_controls = self.job_controls(
            model.weak_job, "Run weak-error study", model.run_weak_error
        )
        scaling_controls = self.job_controls(
            model.scaling_job, "Run scaling study", model.run_scaling
        )
        self.hero = self.add_panel(AdaptiveHero(model))
        self.moments = self.add_panel(MomentsPanel(model))
        self.final = self.add_panel(FinalPanel(model))
        self.scaling = self.add_panel(ScalingPanel(model, scaling_controls))
        self.weak = self.add_panel(WeakErrorPanel(model, weak_controls))
        self.update_on(model.scaling_job, self.scaling)
        self.update_on(model.weak_job, self.weak)
        return pn.Column(
            self.hero.view(),
            pn.Row(self.moments.view(), self.final.view(), sizing_mode="stretch_width"),
            pn.Row(self.scaling.view(), self.weak.view(), sizing_mode="stretch_width"),
            model_card(load_card(self.slug), self.paper_citation, self.paper_url),
            sizing_mode="stretch_width",
        )
