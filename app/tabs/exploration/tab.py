"""The Exploration maps tab: Curious Explorer on gridworlds, chains, DeepSea and FrozenLake.

After Miani, Parton, Romito, *Curious Explorer: a provable exploration strategy in Policy
Learning*, arXiv:2106.15503 (illustrative re-implementation). Spec: ``models/exploration.md``.
"""

from __future__ import annotations

import time
from typing import Any

import panel as pn

from app.models.exploration.model import ExplorationModel
from app.tabs.base import SimulationTab
from app.tabs.exploration.curves import CoveragePanel, LearningPanel
from app.tabs.exploration.maps import HERO_CAPTION, ExplorerMaps, md
from app.tabs.model_card import model_card
from app.tabs.plotting import panel_card

#: Seconds between player frames (one explorer iteration per frame is readable at ~1.5 Hz).
PLAYER_PERIOD_S = 0.7
#: Seconds the live parameters must rest before stale learning curves rerun by themselves.
LEARNING_DEBOUNCE_S = 0.5
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
    speed_label = "Explorer iterations per step"

    def _build_panels(self) -> pn.viewable.Viewable:
        model = self.model
        self._player_at = 0.0
        self.maps = ExplorerMaps(model)
        self.coverage = CoveragePanel(model)
        self.learning = LearningPanel(model)
        controls = self.job_controls(model.learning, "Run learning curves", model.run_learning)
        model.learning.param.watch(lambda *_: self.call_on_loop(self.learning.update), ["result"])
        model.param.watch(lambda *_: self.call_on_loop(self.learning.update), ["target_frac"])
        # the first tick of a live session fills the curves (throwaway views never start it)
        model.learning_stale_since = 0.0
        return pn.Column(
            panel_card(
                "Explorer iterations: maps of D_k, π_k and μ", self.maps.layout(), HERO_CAPTION
            ),
            self.coverage.card(),
            self.learning.card(controls),
            panel_card("Why restarting from μ is safe", *_theory_panes(), collapsed=False),
            model_card(
                [(kind, md(text) if kind == "md" else text) for kind, text in CARD_SECTIONS],
                self.paper_citation,
                self.paper_url,
            ),
            sizing_mode="stretch_width",
        )

    def tick(self) -> None:
        """Advance the k player at a readable pace; rerun stale learning curves when idle."""
        now = time.monotonic()
        if self.model.playing and now - self._player_at >= PLAYER_PERIOD_S:
            self._player_at = now
            super().tick()
        stale = self.model.learning_stale_since
        if stale is not None and now - stale > LEARNING_DEBOUNCE_S:
            self.model.run_learning()

    def _update_plots(self) -> None:
        self.maps.update()
        self.coverage.update()
        self.learning.update()


def _theory_panes() -> list[Any]:
    return [
        pn.pane.Markdown(
            md(
                "**Curiosity identity.** With the intrinsic reward 1_U, a policy's value is its "
                "discounted mass on U, so maximising the intrinsic return is maximising visits:"
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
                "A poorly covered μ costs only d^{π*}(U)/(1−γ)², the optimal policy's mass on the "
                "states μ misses:"
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


CARD_SECTIONS: list[tuple[str, str]] = [
    (
        "md",
        "**Model.** A tabular MDP (S, A, P, R, γ) with start distribution ρ; rewards in [0,1] "
        "are paid on entry into absorbing states (DeepSea adds a small move cost). The "
        "discounted state visitation of a policy π from ν is",
    ),
    (
        "tex",
        r"$d^{\pi}_{\nu} = (1-\gamma)\,(I-\gamma P_\pi^{\top})^{-1}\nu,\qquad "
        r"P_\pi(s,s') = \sum_a \pi(a|s)P(s'|s,a)$",
    ),
    (
        "md",
        "**Curious Explorer** (reconstruction). π₀ is uniform, D₀ = d^{π₀}_ρ. For k = 1..K: "
        "the poorly visited set is U_k = {s ∈ S_v : D̄_{k−1}(s) < δ}, δ = c/|S_v| (stop when "
        "empty); π_k is ε-greedy on the optimal Q of the intrinsic reward 1_U (value "
        "iteration); the mixture is the uniform average of the visitations:",
    ),
    (
        "tex",
        r"$D_k = \frac{1}{k+1}\sum_{j=0}^{k} d^{\pi_j}_\rho,\qquad "
        r"\mu = D_K|_{S_v}\big/D_K(S_v),\qquad \nu_\beta = \beta\rho + (1-\beta)\mu$",
    ),
    (
        "md",
        "**Policy gradient.** Tabular softmax π_θ(a|s) ∝ exp θ_{s,a} from θ₀ = 0, ascending "
        "V(ν) for the restart ν, with the exact gradient (Agarwal, Kakade, Lee, Mahajan 2021) "
        "or REINFORCE with B episodes truncated at H:",
    ),
    (
        "tex",
        r"$\frac{\partial V^{\pi_\theta}(\nu)}{\partial\theta_{s,a}} = "
        r"\frac{d^{\pi_\theta}_\nu(s)\,\pi_\theta(a|s)\,A^{\pi_\theta}(s,a)}{1-\gamma},"
        r"\qquad \hat g = \frac1B\sum_{\rm episodes}\sum_t \gamma^t G_t\,"
        r"\nabla_\theta\log\pi_\theta(a_t|s_t)$",
    ),
    (
        "md",
        "V^{π_t}(ρ) is evaluated exactly every iteration; the count is the first t (updates "
        "applied) with V^{π_t}(ρ) ≥ x·V*(ρ).\n\n"
        "**Provenance.** *Paper (abstract):* PG guarantees usually assume an exploring "
        "restart; Curious Explorer starts from any ρ, rewards poorly visited states, builds "
        "increasingly exploratory policies and a restart distribution μ from their "
        "visitations, with bounds on the optimal policy's mass on poorly visited states and on "
        "REINFORCE's return error. *Literature:* exact softmax PG (Agarwal et al. 2021), "
        "DeepSea (bsuite), FrozenLake (gymnasium), MaxEnt exploration (Hazan et al. 2019). "
        "*Derived for this app:* the algorithm box, δ = c/|S_v|, the indicator reward, the "
        "uniform mixture, all layouts and every number on screen. The paper's algorithm box, "
        "constants and tasks were not available: this is an illustrative re-implementation, "
        "and no paper numbers are shown.",
    ),
]
