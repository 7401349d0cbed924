"""The Exploration maps tab: Curious Explorer on gridworlds, chains, DeepSea and FrozenLake.

After Miani, Parton, Romito, *Curious Explorer: a provable exploration strategy in Policy
Learning*, arXiv:2106.15503 (illustrative re-implementation). Spec: ``models/exploration.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import panel as pn

from app.models.exploration import ExplorationModel
from app.tabs.base import SimulationTab
from app.tabs.exploration.curves import CoveragePanel, LearningPanel
from app.tabs.exploration.maps import HERO_CAPTION, ExplorerMaps, md
from app.tabs.exploration.policy import LearnedPolicyMaps
from app.tabs.model_card import load_card, model_card
from app.tabs.plotting import panel_card

EQUATION_STYLE = {"font-size": "1.25em"}


class ExplorationTab(SimulationTab):
    """Explorer maps (k player), coverage curves, learning curves, metric table (spec §4)."""

    slug = "exploration"
    title = "Exploration maps"
    claim = (
        "A curious explorer pays itself to visit poorly visited states; the restart "
        "distribution it builds lets policy gradient find rewards that the start state's "
        "trajectories almost never reach."
    )
    paper_citation = (
        "Miani, Parton, Romito: Curious Explorer: a provable exploration strategy in Policy "
        "Learning (arXiv:2106.15503; IEEE TPAMI 2024)"
    )
    paper_url = "https://arxiv.org/abs/2106.15503"
    provenance = (
        "After Miani–Parton–Romito, illustrative re-implementation: the idea is the paper's; "
        "the explorer loop, threshold, layouts and all numbers were derived for this app."
    )
    model_class = ExplorationModel
    # presenter mode stages this panel for a preset that names none
    hero_panel = "maps"
    speed_label = "Steps per frame"

    def _build_first(self) -> pn.viewable.Viewable:
        self.maps = self.add_panel(ExplorerMaps(self.model))
        self._maps_card = panel_card(
            "Explorer iterations: maps of Dₖ, πₖ and μ", self.maps.view(), HERO_CAPTION
        )
        return self._maps_card

    def _build_panels(self) -> Iterator[pn.viewable.Viewable]:
        model = self.model
        yield self._maps_card
        self.coverage = self.add_panel(CoveragePanel(model))
        yield self.coverage.view()
        controls = self.job_controls(model.learning, "Run learning curves", model.run_learning)
        self.policies = self.add_panel(LearnedPolicyMaps(model))
        self.learning = self.add_panel(LearningPanel(model, controls, self.policies))
        self.update_on(model.learning, self.learning, self.policies)
        self.update_on_params(["target_frac"], self.learning)
        # the first tick of a live session fills the curves (throwaway views never start them)
        model.learn_at_next_poll()
        yield self.learning.view()
        yield panel_card("Why restarting from μ is safe", *_theory_panes(), collapsed=False)
        yield model_card(load_card(self.slug), self.paper_citation, self.paper_url)


def _theory_panes() -> list[Any]:
    return [
        pn.pane.Markdown(
            md(
                "**Curiosity identity.** With the intrinsic reward 1 on U, a policy's value is "
                "its discounted mass on U, so maximising the intrinsic return is maximising "
                "visits:"
            ),
            sizing_mode="stretch_width",
        ),
        pn.pane.LaTeX(
            r"$V^{\pi}_{\mathbf 1_U}(\rho) = \frac{d^{\pi}_{\rho}(U)}{1-\gamma}$",
            renderer="katex",
            sizing_mode="stretch_width",
            styles=EQUATION_STYLE,
        ),
        pn.pane.Markdown(
            md(
                "**Split bound** (performance-difference lemma, rewards in [0,1]; W = S∖U). "
                "A poorly covered μ costs only d*(U)/(1−γ)², where d*(U) is the optimal policy's "
                "mass on the states μ misses:"
            ),
            sizing_mode="stretch_width",
        ),
        pn.pane.LaTeX(
            r"$V^*(\rho)-V^{\pi}(\rho) \le \frac{1}{1-\gamma}\max_{s\in W}"
            r"\frac{d^{\pi^*}_\rho(s)}{d^{\pi}_\mu(s)}\sum_{s\in W} d^{\pi}_\mu(s)\max_a "
            r"A^{\pi}(s,a) + \frac{d^{\pi^*}_\rho(U)}{(1-\gamma)^2}$",
            renderer="katex",
            sizing_mode="stretch_width",
            styles=EQUATION_STYLE,
        ),
    ]
