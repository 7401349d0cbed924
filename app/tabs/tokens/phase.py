r"""Panel 6 of the Token synchronization tab: the analytic phase diagrams.

Left: the (σ_n², α) plane coloured by λ_dist, with the line λ_dist = 0,
:math:`\alpha_{\rm eff} = \tfrac{\sigma_n^2}{2}[(d-3)\kappa_1' - (d-1)\kappa_1]`, and the current
parameters marked. Right: the sign of λ_dist (σ_n = 1, no attention) for every activation and
dimension, the current cell outlined (spec §6.2).
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColorBar, LinearColorMapper
from bokeh.palettes import RdBu11

from app.models.tokens.model import TokensModel
from app.tabs.plotting import THEORY, caption, empty_source, labelled_figure, panel_card
from kernels import tokens
from kernels.common.activations import ACTIVATIONS
from kernels.tokens import theory as token_theory

DIMS = (2, 3, 4, 8, 16, 32, 64)
SIGMA2_MAX = 16.0
ALPHA_RANGE = (-2.0, 2.0)
#: λ_dist colour range (clipped); blue = synchronizes, red = spreads.
LAMBDA_CLIP = 3.0


class PhasePanel:
    """The two analytic phase diagrams."""

    def __init__(self, model: TokensModel) -> None:
        self.model = model
        # RdBu11 runs from blue to red: negative λ_dist (synchronizing) is blue
        mapper = LinearColorMapper(palette=RdBu11, low=-LAMBDA_CLIP, high=LAMBDA_CLIP)
        plane = labelled_figure(
            "Noise vs attention: sign of λ_dist",
            "noise σ_n²",
            "attention strength α",
            x_range=(0, SIGMA2_MAX),
            y_range=ALPHA_RANGE,
            tooltips=[("σ_n²", "$x{0.00}"), ("α", "$y{0.00}"), ("λ_dist", "@image{0.00}")],
        )
        self._plane = empty_source("image", "x", "y", "dw", "dh")
        plane.image(
            "image", x="x", y="y", dw="dw", dh="dh", source=self._plane, color_mapper=mapper
        )
        self._line = empty_source("x", "y")
        plane.line(
            "x", "y", source=self._line, color="black", line_width=2, legend_label="λ_dist = 0"
        )
        self._here = empty_source("x", "y")
        plane.scatter(
            "x",
            "y",
            source=self._here,
            size=14,
            marker="star",
            color=THEORY,
            line_color="black",
            legend_label="current",
        )
        plane.add_layout(ColorBar(color_mapper=mapper, width=10, title="λ_dist"), "right")
        plane.legend.location = "top_right"
        self.plane = plane

        names = list(ACTIVATIONS)
        sign = labelled_figure(
            "Activation × dimension (σ_n = 1, α = 0)",
            "dimension d",
            "activation",
            x_range=[str(d) for d in DIMS],
            y_range=names[::-1],
            height=340,
            tooltips=[("s", "@activation"), ("d", "@dim"), ("λ_dist", "@value{+0.00}")],
        )
        self._cells = empty_source("dim", "activation", "value", "label", "text_color")
        sign.rect(
            "dim",
            "activation",
            1,
            1,
            source=self._cells,
            line_color="white",
            fill_color={"field": "value", "transform": mapper},
        )
        sign.text(
            "dim",
            "activation",
            text="label",
            source=self._cells,
            text_align="center",
            text_baseline="middle",
            text_font_size="10px",
            text_color="text_color",
        )
        self._current = empty_source("dim", "activation")
        sign.rect(
            "dim",
            "activation",
            1,
            1,
            source=self._current,
            fill_alpha=0,
            line_color="black",
            line_width=3,
        )
        sign.grid.visible = False
        self.sign = sign
        self._sign_key: tuple | None = None

    def card(self) -> pn.Card:
        return panel_card(
            "Analytic phase diagrams",
            pn.Row(
                pn.pane.Bokeh(self.plane, sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.sign, sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            ),
            caption(
                "**What to look for.** Blue = the pair synchronizes (λ_dist < 0), red = it "
                "spreads. Strong common noise beats repulsive attention: the black line is "
                "the threshold for N = 2. High dimension defeats activations with "
                "E s'² > E s² (tanh, erf, sin, GELU, SiLU) but never ReLU, sigmoid or "
                "softplus."
            ),
        )

    def update(self) -> None:
        m = self.model
        weights = dict(sigma_w=m.sigma_w, sigma_b=m.sigma_b)
        # λ_dist is linear in σ_n² and α: λ = σ_n² λ₁ − gain·α, λ₁ its value at σ_n = 1, α = 0
        lambda_1 = tokens.lyapunov_exponent(m.activation, m.dim, sigma_noise=1.0, **weights)
        gain = token_theory.attention_effective_strength(m.attn_kind, 1.0, m.beta)
        s2 = np.linspace(0.0, SIGMA2_MAX, 160)
        alpha = np.linspace(*ALPHA_RANGE, 120)
        lam = s2[None, :] * lambda_1 - gain * alpha[:, None]
        self._plane.data = {
            "image": [np.clip(lam, -LAMBDA_CLIP, LAMBDA_CLIP)],
            "x": [0.0],
            "y": [ALPHA_RANGE[0]],
            "dw": [SIGMA2_MAX],
            "dh": [ALPHA_RANGE[1] - ALPHA_RANGE[0]],
        }
        line = token_theory.phase_line_alpha(
            np.sqrt(s2), m.activation, m.dim, attn_kind=m.attn_kind, beta=m.beta, **weights
        )
        self._line.data = {"x": s2, "y": line}
        self._here.data = {"x": [m.sigma_noise**2], "y": [m.attn_strength]}
        self._update_sign_map()

    def _update_sign_map(self) -> None:
        m = self.model
        key = (m.sigma_w, m.sigma_b)
        if key != self._sign_key:
            table = token_theory.sign_map(ACTIVATIONS, DIMS, sigma_w=m.sigma_w, sigma_b=m.sigma_b)
            values = table.ravel()  # row-major: activation-major, like the cells below
            self._cells.data = {
                "dim": [str(d) for _ in ACTIVATIONS for d in DIMS],
                "activation": [act for act in ACTIVATIONS for _ in DIMS],
                "value": np.clip(values, -LAMBDA_CLIP, LAMBDA_CLIP),
                "label": [f"{v:+.2f}" for v in values],
                # white text on the saturated ends of the palette, black in the pale middle
                "text_color": ["white" if abs(v) > 0.45 * LAMBDA_CLIP else "black" for v in values],
            }
            self._sign_key = key
        self._current.data = {"dim": [str(m.dim)], "activation": [m.activation]}
