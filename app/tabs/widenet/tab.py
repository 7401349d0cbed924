"""The Wasserstein-convergence tab: wide random networks against their Gaussian-process limit.

Giovagnini, Kotitsas, Romito, *Universality in deep neural networks: an approach via the
Lindeberg exchange principle*, arXiv:2605.02771. Spec: ``models/widenet.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import panel as pn

from app.models.widenet import WidenetModel
from app.models.widenet.model import warm_shared_sweep
from app.tabs.base import SimulationTab
from app.tabs.model_card import load_card, model_card
from app.tabs.widenet.panels import OutputLawPanel, W2Panel
from app.tabs.widenet.study_panels import CovariancePanel, CumulantPanel, LindebergPanel


class WidenetTab(SimulationTab):
    """W₂ against width (the hero), output law, Lindeberg exchange, covariance, cumulants
    (spec §4)."""

    slug = "widenet"
    title = "Wasserstein convergence"
    claim = (
        "A wide random network with non-Gaussian weights is close to its Gaussian-process "
        "limit in 2-Wasserstein distance; skewed or lattice weights slow the rate to 1/√n."
    )
    paper_citation = (
        "Giovagnini, Kotitsas, Romito: Universality in deep neural networks: an approach via "
        "the Lindeberg exchange principle (arXiv:2605.02771)"
    )
    paper_url = "https://arxiv.org/abs/2605.02771"
    provenance = (
        "The W₂ universality claim and the Lindeberg exchange are the paper's; the rates, the "
        "true first-layer kernel, the estimators and their floors were derived for this app "
        "or taken from the literature."
    )
    model_class = WidenetModel
    # presenter mode stages this panel for a preset that names none
    hero_panel = "w2"
    studies_before_panels = True  # the W₂ panel, built first, draws the sweep
    speed_label = None  # Play doubles the width shown, at the model's frame_interval

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # the server builds every tab once at start-up: sample the teaching default's sweep
        # then (in the background, once per process), so a visitor's first view draws at once
        warm_shared_sweep()
        super().__init__(*args, **kwargs)

    def _build_first(self) -> pn.viewable.Viewable:
        model = self.model
        sweep_controls = self.job_controls(model.sweep, "Rerun sweep", model.rerun)
        self.w2 = self.add_panel(W2Panel(model, sweep_controls))
        self._version_seen = 0
        return self.w2.view()

    def _build_panels(self) -> Iterator[pn.viewable.Viewable]:
        model = self.model
        # live params only re-read the cached sweep; while playing, the frame counter already
        # redraws after each width change
        model.param.watch(
            lambda *_: model.playing or self.call_on_loop(self._refresh), list(model.live_params)
        )
        yield self.w2.view()
        self.law = self.add_panel(OutputLawPanel(model))
        yield self.law.view()
        lindeberg_controls = self.job_controls(
            model.lindeberg, "Run exchange at width shown", model.run_lindeberg
        )
        self.lindeberg = self.add_panel(LindebergPanel(model, lindeberg_controls))
        yield self.lindeberg.view()
        self.cumulants = self.add_panel(CumulantPanel(model))
        yield self.cumulants.view()
        self.covariance = self.add_panel(CovariancePanel(model))
        yield self.covariance.view()
        yield model_card(load_card(self.slug), self.paper_citation, self.paper_url)

    def tick(self) -> None:
        """The base's tick (Play, then the model's pending work), then redraw if a background
        job delivered results (partial sweeps arrive on a worker thread without a param event:
        the model counts them in ``version``)."""
        super().tick()
        if self.model.version != self._version_seen:
            self._version_seen = self.model.version
            self._refresh()
