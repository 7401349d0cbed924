"""The Token synchronization tab: tokens of a deep random transformer synchronizing by noise.

Agazzi, Bruno, Mosig García, Saviozzi, Romito, *Stochastic scaling limits and synchronization by
noise in deep transformer models*, arXiv:2604.26898. Spec: ``models/tokens.md``.
"""

from __future__ import annotations

import time
from typing import Any

import panel as pn

from app.models.tokens.model import TokensModel
from app.tabs.base import SimulationTab
from app.tabs.model_card import model_card
from app.tabs.tokens.advanced import AdvancedPanel
from app.tabs.tokens.hero import TokenHero
from app.tabs.tokens.panels import DiameterPanel, EnsemblePanel, KernelPanel, SimilarityDepthPanel
from app.tabs.tokens.phase import PhasePanel

#: Seconds the parameters must rest before a stale ensemble reruns by itself.
ENSEMBLE_DEBOUNCE_S = 0.5
#: Seconds between redraws of the depth panels while the animation plays.
SECONDARY_PERIOD_S = 0.25
#: Params the analytic panels (kernel, phase diagrams) depend on.
THEORY_PARAMS = (
    "activation",
    "sigma_w",
    "sigma_b",
    "sigma_noise",
    "dim",
    "attn_kind",
    "attn_strength",
    "beta",
)


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

    def _build_panels(self) -> pn.viewable.Viewable:
        model = self.model
        self._secondary_at = 0.0
        # when playing stops (pause, horizon, divergence) draw the final state everywhere
        model.param.watch(lambda e: e.new or self.call_on_loop(self._refresh), ["playing"])
        self.hero = TokenHero(model)
        self.depth = SimilarityDepthPanel(model)
        self.diameter = DiameterPanel(model)
        self.ensemble = EnsemblePanel(model)
        self.kernel = KernelPanel(model)
        self.phase = PhasePanel(model)
        self.advanced = AdvancedPanel(model, self)
        ensemble_controls = self.job_controls(
            model.ensemble, "Run R realizations", model.run_ensemble
        )
        model.ensemble.param.watch(lambda *_: self.call_on_loop(self.ensemble.update), ["result"])
        model.param.watch(lambda *_: self.call_on_loop(self._update_theory), list(THEORY_PARAMS))
        model.param.watch(
            lambda *_: self.call_on_loop(self.ensemble.update), ["energy_kind", "energy_q", "beta"]
        )
        self._update_theory()
        self.ensemble.update()
        # the first animation tick fills the ensemble panel in the background (ticks run only
        # in live server sessions, so throwaway and notebook views never start the job)
        model.ensemble_stale_since = 0.0
        return pn.Column(
            self.hero.layout(),
            pn.Row(self.diameter.card(), self.depth.card(), sizing_mode="stretch_width"),
            pn.Row(
                self.ensemble.card(ensemble_controls),
                self.kernel.card(),
                sizing_mode="stretch_width",
            ),
            self.phase.card(),
            *([] if self.lesson else [self.advanced.card()]),
            model_card(CARD_SECTIONS, self.paper_citation, self.paper_url),
            sizing_mode="stretch_width",
        )

    def tick(self) -> None:
        """Animate; rerun a stale ensemble once the parameters have rested for a moment."""
        super().tick()
        stale = self.model.ensemble_stale_since
        if stale is not None and time.monotonic() - stale > ENSEMBLE_DEBOUNCE_S:
            self.model.run_ensemble()

    def _update_plots(self) -> None:
        """The hero every frame; the depth panels at most every SECONDARY_PERIOD_S while playing
        (each repaint of a plot costs the browser milliseconds; the eye needs the hero)."""
        self.hero.update()
        now = time.monotonic()
        if not self.model.playing or now - self._secondary_at >= SECONDARY_PERIOD_S:
            self._secondary_at = now
            self.depth.update()
            self.diameter.update()

    def _update_theory(self, *_: Any) -> None:
        self.kernel.update()
        self.phase.update()


CARD_SECTIONS: list[tuple[str, str]] = [
    (
        "md",
        "**Model.** N tokens on the sphere S^{d−1} pass through L = T/h layers. Each layer is "
        "attention, then an MLP with Gaussian weights drawn fresh at every layer and **shared "
        "by all tokens**, then normalization:",
    ),
    (
        "tex",
        r"$y_i = x_i + h\alpha\sum_j w_{ij}x_j,\quad "
        r"z_i = y_i + \sigma_n\sqrt{h/m}\,A_k\,s(\sigma_w B_k y_i + \sigma_b b_k),\quad "
        r"x_i^{k+1} = z_i/|z_i|$",
    ),
    (
        "md",
        "with w_ij = softmax_j(β⟨x_i,x_j⟩) (SA) or e^{β⟨x_i,x_j⟩}/N (USA). As h → 0 the tokens "
        "follow a Stratonovich SDE driven by one Gaussian field W common to all tokens, with "
        "covariance given by the NNGP dual kernel κ:",
    ),
    (
        "tex",
        r"$dX_i = \alpha P_{X_i}\mathrm{Attn}(X_i;\mu_t)\,dt + \sigma_n P_{X_i}\circ dW(t,X_i),"
        r"\quad \mathbb{E}[W^a(t,x)W^b(s,y)] = \min(t,s)\,\delta_{ab}\,\kappa(\langle x,y\rangle)$",
    ),
    (
        "md",
        "**Synchronization rate.** Near ρ = 1 the distance between two tokens decays at the "
        "Lyapunov exponent",
    ),
    (
        "tex",
        r"$\lambda_{\rm dist} = \frac{\sigma_n^2}{2}\left[(d-3)\kappa_1' - (d-1)\kappa_1\right]"
        r" - \alpha_{\rm eff},\quad \kappa_1 = \mathbb{E}\,s(\sqrt{q}Z)^2,\ "
        r"\kappa_1' = \sigma_w^2\,\mathbb{E}\,s'(\sqrt{q}Z)^2$",
    ),
    (
        "md",
        "with α_eff = α (SA) or αe^β (USA). Moments E[r^p] of r = 1 − ρ grow at "
        "g(p) = pλ_r + p²s_r²/2 (λ_r = 2λ_dist, s_r² = 4σ_n²(κ₁+κ₁')), so the mean energy can "
        "rise while the median falls.\n\n"
        "**Provenance.** *Paper:* the claim that common noise synchronizes tokens, the SDE/SPDE "
        "limit and the activation criterion exist (abstract). *Literature:* the attention "
        "model (Geshkovski–Letrouit–Polyanskiy–Rigollet), the random-MLP framing (Shalova; "
        "Fedorov et al.; Koubbi–Geshkovski–Rigollet), the NNGP kernel (Cho–Saul, Williams). "
        "*Derived for this app:* the exact discrete scheme, the two-point motion b, a, λ_dist, "
        "d*, p*, checked numerically in the test suite. The paper's own equations were not "
        "available; where this model may differ is listed in the spec's open questions.",
    ),
]
