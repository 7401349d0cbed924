"""The Token synchronization tab: tokens of a deep random transformer synchronizing by noise.

Agazzi, Bruno, Mosig García, Saviozzi, Romito, *Stochastic scaling limits and synchronization by
noise in deep transformer models*, arXiv:2604.26898. Spec: ``models/tokens.md``. The model card
is ``assets/cards/tokens.md``.
"""

from __future__ import annotations

from collections.abc import Iterator

import panel as pn

from app.models.tokens.model import TokensModel
from app.tabs.base import SimulationTab
from app.tabs.model_card import load_card, model_card
from app.tabs.tokens.advanced import AdvancedPanel
from app.tabs.tokens.hero import TokenHero
from app.tabs.tokens.panels import DiameterPanel, EnsemblePanel, KernelPanel, SimilarityDepthPanel
from app.tabs.tokens.phase import PhasePanel


class TokensTab(SimulationTab):
    """Tokens, depth panels, ensemble, kernel and phase diagrams (spec §4)."""

    slug = "tokens"
    title = "Token synchronization"
    claim = (
        "Random MLP weights shared by all tokens act as common noise that pulls the tokens of a "
        "deep transformer into one cluster, with no attractive force, unless the dimension or "
        "repulsive attention wins."
    )
    paper_citation = (
        "Agazzi, Bruno, Mosig García, Saviozzi, Romito: Stochastic scaling limits and "
        "synchronization by noise in deep transformer models (arXiv:2604.26898)"
    )
    paper_url = "https://arxiv.org/abs/2604.26898"
    provenance = (
        "The claim is the paper's; the discrete model, its SDE limit and the predicted rates "
        "were derived for this app from the abstract and related literature."
    )
    model_class = TokensModel
    speed_label = "Layers per frame"

    def _build_first(self) -> pn.viewable.Viewable:
        self.hero = self.add_panel(TokenHero(self.model))
        return self.hero.view()

    def _build_panels(self) -> Iterator[pn.viewable.Viewable]:
        # one panel under the other: two cards side by side (420 px each at least) do not
        # fit a 1024 px projector beside the controls (and a wrapping FlexBox of Bokeh
        # figures broke the browser's layout, freezing every plot)
        model = self.model
        yield self.hero.view()
        self.depth = self.add_panel(SimilarityDepthPanel(model))
        self.diameter = self.add_panel(DiameterPanel(model))
        yield self.diameter.view()
        yield self.depth.view()
        ensemble_controls = self.job_controls(
            model.ensemble, "Run R realizations", model.run_ensemble
        )
        self.ensemble = self.add_panel(EnsemblePanel(model, ensemble_controls))
        self.update_on(model.ensemble, self.ensemble)
        self.update_on_params(["energy_kind", "energy_q", "beta"], self.ensemble)
        yield self.ensemble.view()
        self.kernel = self.add_panel(KernelPanel(model))
        yield self.kernel.view()
        self.phase = self.add_panel(PhasePanel(model))
        # the diameter panel draws the predicted λ_dist beside the run: a theory parameter
        # moved while paused must redraw it too, not only the next frame
        self.update_on_params(list(model.theory_params), self.kernel, self.phase, self.diameter)
        yield self.phase.view()
        if not self.lesson:
            self.advanced = self.add_panel(
                AdvancedPanel(
                    model,
                    self.job_controls(
                        model.strong_error, "Run strong-error study", model.run_strong_error
                    ),
                    self.job_controls(model.variance, "Run variance study", model.run_variance),
                )
            )
            self.update_on(model.strong_error, self.advanced)
            self.update_on(model.variance, self.advanced)
            yield self.advanced.view()
        yield model_card(load_card(self.slug), self.paper_citation, self.paper_url)
