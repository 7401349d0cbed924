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

from app.models.tokens.model import PHASE_ALPHA_RANGE, PHASE_SIGMA2_MAX, TokensModel
from app.models.tokens.params import ACTIVATION_LABELS
from app.tabs.panel import TabPanel
from app.tabs.plotting import THEORY, caption, empty_source, labelled_figure, panel_card

#: λ_dist colour range (clipped); blue = synchronizes, red = spreads.
LAMBDA_CLIP = 3.0


class PhasePanel(TabPanel):
    """The two analytic phase diagrams, computed by the model."""

    def __init__(self, model: TokensModel) -> None:
        super().__init__(model)
        self._plane_drawn: object = None
        self._sign_drawn: object = None
        self._marks_drawn: tuple | None = None  # the current-parameter marks on screen
        # RdBu11 runs from blue to red: negative λ_dist (synchronizing) is blue
        mapper = LinearColorMapper(palette=RdBu11, low=-LAMBDA_CLIP, high=LAMBDA_CLIP)
        plane = labelled_figure(
            "Noise vs attention: sign of λ_dist",
            "noise σ_n²",
            "attention strength α",
            x_range=(0, PHASE_SIGMA2_MAX),
            y_range=PHASE_ALPHA_RANGE,
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

        names = [ACTIVATION_LABELS[a] for a in model.sign_map_activations]
        sign = labelled_figure(
            "Activation × dimension (σ_n = 1, α = 0)",
            "dimension d",
            "activation",
            x_range=[str(d) for d in model.sign_map_dims],
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

    def view(self) -> pn.Card:
        return panel_card(
            "Analytic phase diagrams",
            # one above the other: side by side they do not fit a 1024 px projector
            pn.pane.Bokeh(self.plane, sizing_mode="stretch_width"),
            pn.pane.Bokeh(self.sign, sizing_mode="stretch_width"),
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
        plane = m.phase_plane()
        if plane is not self._plane_drawn:
            self._plane_drawn = plane
            low, high = PHASE_ALPHA_RANGE
            self._plane.data = {
                "image": [np.clip(plane.lam, -LAMBDA_CLIP, LAMBDA_CLIP)],
                "x": [0.0],
                "y": [low],
                "dw": [PHASE_SIGMA2_MAX],
                "dh": [high - low],
            }
            self._line.data = {"x": plane.sigma2, "y": plane.line}
        self._update_sign_map()
        marks = (m.sigma_noise, m.attn_strength, m.dim, m.activation)
        if marks != self._marks_drawn:
            self._marks_drawn = marks
            self._here.data = {"x": [m.sigma_noise**2], "y": [m.attn_strength]}
            self._current.data = {
                "dim": [str(m.dim)],
                "activation": [ACTIVATION_LABELS[m.activation]],
            }

    def _update_sign_map(self) -> None:
        m = self.model
        table = m.sign_map()
        if table is not self._sign_drawn:
            self._sign_drawn = table
            acts, dims = m.sign_map_activations, m.sign_map_dims
            values = table.ravel()  # row-major: activation-major, like the cells below
            self._cells.data = {
                "dim": [str(d) for _ in acts for d in dims],
                "activation": [ACTIVATION_LABELS[act] for act in acts for _ in dims],
                "value": np.clip(values, -LAMBDA_CLIP, LAMBDA_CLIP),
                "label": [f"{v:+.2f}" for v in values],
                # white text on the saturated ends of the palette, black in the pale middle
                "text_color": ["white" if abs(v) > 0.45 * LAMBDA_CLIP else "black" for v in values],
            }
