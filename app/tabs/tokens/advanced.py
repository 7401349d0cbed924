"""Panel 7 of the Token synchronization tab (collapsed): convergence and the random limit.

Top: the strong error of the scheme against the layer step h with fixed hidden weights, coarse
steps built from summed fine Brownian increments; the slope is 1/2 (spec §6.9). Bottom: the
variance of a token statistic over token samples (falls like 1/N) against its variance over the
noise W (stays O(1)): the mean-field limit is a random measure (spec §4 panel 7).
"""

from __future__ import annotations

import numpy as np
import panel as pn

from app.models.tokens.model import TokensModel
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
    MEASURED,
    REFERENCE,
    THEORY,
    caption,
    empty_source,
    labelled_figure,
    panel_card,
    readout,
    readout_pane,
)


class AdvancedPanel(TabPanel):
    """The model's strong-error study and variance decomposition, each a cancellable job whose
    controls (:meth:`app.tabs.base.SimulationTab.job_controls`) the tab passes in."""

    def __init__(
        self,
        model: TokensModel,
        strong_controls: pn.viewable.Viewable,
        variance_controls: pn.viewable.Viewable,
    ) -> None:
        super().__init__(model)
        self.strong_controls = strong_controls
        self.variance_controls = variance_controls
        self._drawn: tuple[object, object] = (None, None)  # the results on screen

        strong = labelled_figure(
            "Strong error vs layer step (fixed B)",
            "layer step h",
            "E maxᵢ |Xᵢʰ(T) − Xᵢʳᵉᶠ(T)|",
            x_axis_type="log",
            y_axis_type="log",
            x_range=(1e-3, 0.1),
            y_range=(1e-4, 1.0),
        )
        self._strong = empty_source("h", "error")
        self._strong_ref = empty_source("h", "error")
        strong.line(
            "h", "error", source=self._strong, color=MEASURED, line_width=2, legend_label="measured"
        )
        strong.scatter("h", "error", source=self._strong, color=MEASURED, size=7)
        strong.line(
            "h",
            "error",
            source=self._strong_ref,
            color=THEORY,
            line_dash="dashed",
            line_width=2,
            legend_label="slope 1/2",
        )
        strong.legend.location = "top_left"
        self.strong_figure = strong
        self.strong_readout = readout_pane()

        variance = labelled_figure(
            "Where the randomness lives",
            "number of tokens N",
            "standard deviation of the token mean",
            x_axis_type="log",
            y_axis_type="log",
            x_range=(5, 200),
            y_range=(1e-3, 1.0),
        )
        self._var_tokens = empty_source("n", "var")
        self._var_noise = empty_source("n", "var")
        self._var_ref = empty_source("n", "var")
        variance.line(
            "n",
            "var",
            source=self._var_tokens,
            color=MEASURED,
            line_width=2,
            legend_label="over token samples (fixed W)",
        )
        variance.scatter("n", "var", source=self._var_tokens, color=MEASURED, size=7)
        variance.line(
            "n",
            "var",
            source=self._var_noise,
            color="#ff7f0e",
            line_width=2,
            legend_label="over the noise W",
        )
        variance.scatter("n", "var", source=self._var_noise, color="#ff7f0e", size=7)
        variance.line(
            "n",
            "var",
            source=self._var_ref,
            color=REFERENCE,
            line_dash="dashed",
            legend_label="∝ 1/√N",
        )
        variance.legend.location = "bottom_left"
        self.variance_figure = variance
        self.variance_readout = readout_pane()

    def view(self) -> pn.Card:
        return panel_card(
            "Advanced: convergence and the random mean-field limit",
            # one study above the other: side by side their run buttons and progress bars
            # do not fit a 1024 px projector beside the controls
            self.strong_controls,
            self.strong_readout,
            pn.pane.Bokeh(self.strong_figure, sizing_mode="stretch_width"),
            self.variance_controls,
            self.variance_readout,
            pn.pane.Bokeh(self.variance_figure, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** Top: with the hidden weights B fixed, refining the "
                "layer step on the *same* Brownian path converges at strong order 1/2. "
                "Bottom: the mean of the first token coordinate fluctuates like 1/√N "
                "over which tokens you sample, but not over the noise W: the limit of the "
                "token cloud is a random measure, one for each draw of the common noise."
            ),
            collapsed=True,
        )

    def update(self) -> None:
        """Draw a study's result once it arrives (each result is drawn once)."""
        m = self.model
        strong, variance = m.strong_error.result, m.variance.result
        if strong is not self._drawn[0]:
            self.update_strong()
        if variance is not self._drawn[1]:
            self.update_variance()
        self._drawn = (strong, variance)

    def update_strong(self) -> None:
        curves = self.model.strong_error_curves()
        if curves is None:
            return
        h, err = curves.h, curves.error
        self._strong.data = {"h": h, "error": err}
        self._strong_ref.data = {"h": h, "error": curves.reference}
        self.strong_figure.x_range.update(start=h.min() / 1.5, end=h.max() * 1.5)
        self.strong_figure.y_range.update(start=err.min() / 2, end=err.max() * 2)
        self.strong_readout.object = readout(
            {"fitted slope": f"{curves.slope:.2f}", "theory": "0.50"}
        )

    def update_variance(self) -> None:
        curves = self.model.variance_curves()
        if curves is None:
            return
        n = curves.n
        self._var_tokens.data = {"n": n, "var": curves.over_tokens}
        self._var_noise.data = {"n": n, "var": curves.over_noise}
        self._var_ref.data = {"n": n, "var": curves.reference}
        both = np.concatenate([curves.over_tokens, curves.over_noise])
        self.variance_figure.x_range.update(start=n.min() / 1.5, end=n.max() * 1.5)
        self.variance_figure.y_range.update(start=both.min() / 2, end=both.max() * 2)
        self.variance_readout.object = readout(
            {
                "slope over tokens": f"{curves.slope_tokens:+.2f}",
                "slope over noise": f"{curves.slope_noise:+.2f}",
                "theory": "−0.50 and 0",
            }
        )
