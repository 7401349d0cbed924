"""Panel 7 of the Token synchronization tab (collapsed): convergence and the random limit.

Left: the strong error of the scheme against the layer step h with fixed hidden weights, coarse
steps built from summed fine Brownian increments; the slope is 1/2 (spec §6.9). Right: the
variance of a token statistic over token samples (falls like 1/N) against its variance over the
noise W (stays O(1)): the mean-field limit is a random measure (spec §4 panel 7).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import panel as pn

from app.models.jobs import BackgroundJob
from app.models.tokens import TokensModel
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
from kernels import tokens

if TYPE_CHECKING:
    from app.tabs.base import SimulationTab


class AdvancedPanel:
    """Strong-error study and variance decomposition, each a cancellable background job."""

    def __init__(self, model: TokensModel, tab: SimulationTab) -> None:
        self.model = model
        self.tab = tab
        self.strong_job = BackgroundJob(name="strong_error")
        self.variance_job = BackgroundJob(name="variance")

        strong = labelled_figure("Strong error vs layer step (fixed B)", "layer step h",
                                 "E|X_h(T) − X_ref(T)|", x_axis_type="log", y_axis_type="log")
        self._strong = empty_source("h", "error")
        self._strong_ref = empty_source("h", "error")
        strong.line("h", "error", source=self._strong, color=MEASURED, line_width=2,
                    legend_label="measured")
        strong.scatter("h", "error", source=self._strong, color=MEASURED, size=7)
        strong.line("h", "error", source=self._strong_ref, color=THEORY, line_dash="dashed",
                    line_width=2, legend_label="slope 1/2")
        strong.legend.location = "top_left"
        self.strong_figure = strong
        self.strong_readout = readout_pane()

        variance = labelled_figure("Where the randomness lives", "number of tokens N",
                                   "variance of the statistic", x_axis_type="log",
                                   y_axis_type="log")
        self._var_tokens = empty_source("n", "var")
        self._var_noise = empty_source("n", "var")
        self._var_ref = empty_source("n", "var")
        variance.line("n", "var", source=self._var_tokens, color=MEASURED, line_width=2,
                      legend_label="over token samples (fixed W)")
        variance.scatter("n", "var", source=self._var_tokens, color=MEASURED, size=7)
        variance.line("n", "var", source=self._var_noise, color="#ff7f0e", line_width=2,
                      legend_label="over the noise W")
        variance.scatter("n", "var", source=self._var_noise, color="#ff7f0e", size=7)
        variance.line("n", "var", source=self._var_ref, color=REFERENCE, line_dash="dashed",
                      legend_label="∝ 1/N")
        variance.legend.location = "bottom_left"
        self.variance_figure = variance

        self.strong_job.param.watch(lambda *_: tab.call_on_loop(self.update_strong), "result")
        self.variance_job.param.watch(
            lambda *_: tab.call_on_loop(self.update_variance), "result"
        )

    def card(self) -> pn.Card:
        strong_controls = self.tab.job_controls(self.strong_job, "Run strong-error study",
                                                self.run_strong)
        variance_controls = self.tab.job_controls(self.variance_job, "Run variance study",
                                                  self.run_variance)
        return panel_card(
            "Advanced: convergence and the random mean-field limit",
            pn.Row(
                pn.Column(strong_controls, self.strong_readout,
                          pn.pane.Bokeh(self.strong_figure, sizing_mode="stretch_width"),
                          sizing_mode="stretch_width"),
                pn.Column(variance_controls,
                          pn.pane.Bokeh(self.variance_figure, sizing_mode="stretch_width"),
                          sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            ),
            caption("**What to look for.** Left: with the hidden weights B fixed, refining the "
                    "layer step on the *same* Brownian path converges at strong order 1/2. "
                    "Right: a token average fluctuates like N^{−1/2} over which tokens you "
                    "sample, but not over the noise W: the limit of the token cloud is a random "
                    "measure, one for each draw of the common noise."),
            collapsed=True,
        )

    def _study_kwargs(self) -> dict[str, Any]:
        m = self.model
        return dict(
            activation=m.activation, dim=m.dim, sigma_noise=m.sigma_noise, sigma_w=m.sigma_w,
            sigma_b=m.sigma_b, attn_kind=m.attn_kind, attn_strength=m.attn_strength,
            beta=m.beta,
        )

    def run_strong(self) -> None:
        kwargs = self._study_kwargs()
        seed = self.model.seed
        self.strong_job.start(
            lambda progress: tokens.strong_error_study(
                rng=np.random.default_rng([seed, 2]), progress=progress, **kwargs
            ),
            "Refining the layer step",
        )

    def run_variance(self) -> None:
        kwargs = self._study_kwargs()
        seed = self.model.seed
        self.variance_job.start(
            lambda progress: tokens.statistic_variance_study(
                rng=np.random.default_rng([seed, 3]), progress=progress, **kwargs
            ),
            "Sampling tokens and noise",
        )

    def update_strong(self) -> None:
        result = self.strong_job.result
        if result is None:
            return
        h, err = np.asarray(result["h"]), np.asarray(result["error"])
        self._strong.data = {"h": h, "error": err}
        self._strong_ref.data = {"h": h, "error": err[-1] * np.sqrt(h / h[-1])}
        slope = np.polyfit(np.log(h), np.log(err), 1)[0]
        self.strong_readout.object = readout({"fitted slope": f"{slope:.2f}",
                                              "theory": "0.50"})

    def update_variance(self) -> None:
        result = self.variance_job.result
        if result is None:
            return
        n = np.asarray(result["n_tokens"], dtype=float)
        self._var_tokens.data = {"n": n, "var": np.asarray(result["var_tokens"])}
        self._var_noise.data = {"n": n, "var": np.asarray(result["var_noise"])}
        self._var_ref.data = {"n": n, "var": result["var_tokens"][0] * n[0] / n}
