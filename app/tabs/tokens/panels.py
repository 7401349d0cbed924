"""Panels 2–5 of the Token synchronization tab: depth heatmap, log diameter, ensemble, kernel.

Each panel (a :class:`app.tabs.panel.TabPanel`) owns its Bokeh sources and has an ``update()``
that replaces their data in place with what the model computes; the tab schedules it. The
panels whose numbers change only with a study's result or with the parameters skip a redraw
when the model hands them the same (cached) result.
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColorBar, LinearColorMapper, Span
from bokeh.palettes import Viridis256

from app.models.tokens.model import DIAMETER_FLOOR, TokensModel
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
    BAND,
    MEASURED,
    REFERENCE,
    THEORY,
    caption,
    empty_source,
    labelled_figure,
    legend_outside,
    panel_card,
    readout,
    readout_pane,
)


class SimilarityDepthPanel(TabPanel):
    """Panel 2: histogram of pair similarities ⟨x_i, x_j⟩ against depth t."""

    def __init__(self, model: TokensModel) -> None:
        super().__init__(model)
        self.absolute = pn.widgets.Checkbox(label="|ρ| (fold antipodal pairs)", value=False)
        self.redraw_on(self.absolute)
        fig = labelled_figure(
            "Pair similarities over depth",
            "depth t",
            "similarity ρ = ⟨xᵢ, xⱼ⟩",
            tooltips=[("t", "$x{0.00}"), ("ρ", "$y{0.00}"), ("log10 fraction", "@image{0.0}")],
        )
        self._mapper = LinearColorMapper(
            palette=Viridis256, low=-3.5, high=0.0, nan_color="rgba(0,0,0,0)"
        )
        self._source = empty_source("image", "x", "y", "dw", "dh")
        fig.image(
            "image", x="x", y="y", dw="dw", dh="dh", source=self._source, color_mapper=self._mapper
        )
        fig.add_layout(
            ColorBar(color_mapper=self._mapper, width=10, title="log10 fraction of pairs"), "right"
        )
        self.figure = fig

    def view(self) -> pn.Card:
        return panel_card(
            "Similarity histogram over depth",
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            self.absolute,
            caption(
                "**What to look for.** Mass piles up at ρ = +1 as tokens synchronize. Odd "
                "activations (tanh, erf, sin) pile up at ρ = ±1: antipodal pairs stay "
                "antipodal. Fold with |ρ| to see both as one cluster."
            ),
        )

    def update(self) -> None:
        m = self.model
        # (frames, bins): fraction of pairs per bin, bins on [low, 1]
        t, frac, low = m.similarity_depth(absolute=self.absolute.value)
        with np.errstate(divide="ignore"):
            image = np.where(frac > 0, np.log10(frac), np.nan).T  # (bins, frames)
        t_end = max(float(t[-1]), m.dt) if len(t) else m.dt
        self._source.data = {
            "image": [image],
            "x": [0.0],
            "y": [low],
            "dw": [t_end],
            "dh": [1.0 - low],
        }
        self.figure.x_range.update(start=0.0, end=max(t_end, m.t_max))
        self.figure.y_range.update(start=low, end=1.0)


class DiameterPanel(TabPanel):
    """Panel 3: log diameter against t with the fitted slope and the predicted λ_dist."""

    def __init__(self, model: TokensModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "Diameter of the token cloud",
            "depth t",
            "diameter max |xᵢ − xⱼ|",
            y_axis_type="log",
            y_range=(DIAMETER_FLOOR, 3.0),
        )
        self._measured = empty_source("t", "diameter")
        self._fit = empty_source("t", "diameter")
        self._theory = empty_source("t", "diameter")
        fig.line(
            "t",
            "diameter",
            source=self._measured,
            color=MEASURED,
            line_width=2,
            legend_label="measured",
        )
        fig.line(
            "t",
            "diameter",
            source=self._fit,
            color=REFERENCE,
            line_width=2,
            line_dash="dashed",
            legend_label="fitted slope",
        )
        fig.line(
            "t",
            "diameter",
            source=self._theory,
            color=THEORY,
            line_width=2,
            line_dash="dotdash",
            legend_label="predicted λ_dist",
        )
        legend_outside(fig)
        self.figure = fig
        self.readouts = readout_pane()

    def view(self) -> pn.Card:
        return panel_card(
            "log diameter vs depth",
            self.readouts,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** Near synchronization the diameter decays "
                "exponentially; its slope on this log axis matches the two-point Lyapunov "
                "exponent λ_dist predicted from E s² and E s'² (red). A positive λ_dist "
                "means the cloud never collapses."
            ),
        )

    def update(self) -> None:
        m = self.model
        fit = m.diameter_fit()
        self._measured.data = {"t": fit.t, "diameter": fit.diameter}
        self.figure.x_range.update(start=0.0, end=m.t_max)
        low = max(DIAMETER_FLOOR, 0.5 * float(fit.diameter.min()))
        self.figure.y_range.update(start=low, end=3.0)
        self._fit.data = {"t": fit.fit_t, "diameter": fit.fit_line}
        self._theory.data = {"t": fit.fit_t, "diameter": fit.theory_line}
        items = {"predicted λ_dist": f"{fit.predicted:+.3f}"}
        if np.isfinite(fit.slope):
            items["measured slope"] = f"{fit.slope:+.3f}"
            items["fit window"] = f"t ∈ [{fit.t_start:.2f}, {fit.t_stop:.2f}]"
        else:
            items["measured slope"] = "—"
        self.readouts.object = readout(items)


#: Colour of the animated run drawn among its ensemble.
RUN = "#8c564b"


def positive(values: np.ndarray) -> np.ndarray:
    """``values`` with the points a log axis cannot show (≤ 0) left out (NaN)."""
    return np.where(values > 0, values, np.nan)


class EnsemblePanel(TabPanel):
    """Panel 4: the energy over R noise realizations: mean, median, geometric mean, band."""

    def __init__(self, model: TokensModel, controls: pn.viewable.Viewable) -> None:
        super().__init__(model)
        self.controls = controls
        self._drawn: object = False  # the summary on screen (False: nothing drawn yet)
        fig = labelled_figure(
            "Ensemble energy over R realizations",
            "depth t",
            "interaction energy",
            y_axis_type="log",
            y_range=(1e-6, 10.0),
        )
        self._band = empty_source("t", "low", "high")
        self._lines = {
            name: empty_source("t", "y")
            for name in ("mean", "median", "geometric mean", "mean theory", "median theory")
        }
        fig.varea(
            "t",
            "low",
            "high",
            source=self._band,
            fill_color=BAND,
            fill_alpha=0.5,
            legend_label="10–90% of paths",
        )
        style = {
            "mean": dict(color="#ff7f0e", line_width=2),
            "median": dict(color=MEASURED, line_width=2),
            "geometric mean": dict(color="#2ca02c", line_width=2, line_dash="dashed"),
            "mean theory": dict(color=THEORY, line_width=2, line_dash="dotted"),
            "median theory": dict(color=THEORY, line_width=2, line_dash="dotdash"),
        }
        labels = {
            "mean theory": "predicted mean rate g(p)",
            "median theory": "predicted median rate p·λᵣ",
        }
        for name, source in self._lines.items():
            fig.line("t", "y", source=source, legend_label=labels.get(name, name), **style[name])
        # the animated run beside its ensemble, and its depth: Play moves something here too
        self._run = empty_source("t", "y")
        fig.line(
            "t", "y", source=self._run, color=RUN, line_width=1.5, legend_label="this run (hero)"
        )
        self.depth = Span(
            location=0.0,
            dimension="height",
            line_color=REFERENCE,
            line_dash="dashed",
            line_width=2,
        )
        fig.add_layout(self.depth)
        legend_outside(fig)
        self.figure = fig
        self.readouts = readout_pane()

    def view(self) -> pn.Card:
        return panel_card(
            "Ensemble energy (mean vs median)",
            self.controls,
            self.readouts,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** The energy is a heavy-tailed random variable: "
                "its *mean* can rise while almost every path synchronizes (the median and "
                "geometric mean fall). Near synchronization E[rᵖ] grows at rate "
                "g(p) = pλᵣ + p²sᵣ²/2 while the median decays at pλᵣ (red). "
                "Energies (a) and (b) are first order in r = 1 − ρ (p = 1); energy (c) "
                "has p = q/2. The grey dashed line is the depth of the run in the hero."
            ),
        )

    def update(self) -> None:
        m = self.model
        self.depth.location = float(m.t)
        t_run, e_run = m.run_energy()
        self._run.data = {"t": t_run, "y": positive(e_run)}
        summary = m.ensemble_summary()
        if summary is self._drawn:
            return  # the same numbers are on screen
        self._drawn = summary
        if summary is None:
            for source in (self._band, *self._lines.values()):
                source.data = {k: [] for k in source.data}
            self.readouts.object = readout({"status": "press Run to simulate R realizations"})
            self.figure.x_range.update(start=0.0, end=m.t_max)
            return
        t = summary.t
        shown = np.concatenate([summary.low, summary.high, *summary.stats.values()])
        shown = shown[np.isfinite(shown) & (shown > 0)]
        # a log axis shows no 0 (paths merged in floating point): lines leave those points
        # out, the band is cut at the bottom of the axis
        if shown.size:
            self.figure.y_range.update(start=shown.min() / 2, end=shown.max() * 2)
        floor = self.figure.y_range.start
        self._band.data = {
            "t": t,
            "low": np.maximum(summary.low, floor),
            "high": np.maximum(summary.high, floor),
        }
        self.figure.x_range.update(start=0.0, end=float(t[-1]))
        for name, values in summary.stats.items():
            self._lines[name].data = {"t": t, "y": positive(values)}
        for name, values in (
            ("median theory", summary.median_theory),
            ("mean theory", summary.mean_theory),
        ):
            self._lines[name].data = {"t": summary.half_t, "y": positive(values)}
        slopes = {
            name: "— (E = 0)" if np.isnan(summary.slopes[name]) else f"{summary.slopes[name]:+.2f}"
            for name in ("mean", "median")
        }
        chips = {
            "R": f"{summary.n_real}",
            "mean slope (2nd half)": slopes["mean"],
            "median slope": slopes["median"],
            "predicted g(p)": f"{summary.mean_rate:+.2f}",
            "predicted p·λᵣ": f"{summary.median_rate:+.2f}",
        }
        if summary.merged:
            chips["merged to E = 0 (float)"] = f"{summary.merged} of {summary.n_real}"
        self.readouts.object = readout(chips)


class KernelPanel(TabPanel):
    """Panel 5: the dual kernel κ(ρ) and the two-point drift b(ρ) and diffusion a(ρ)."""

    def __init__(self, model: TokensModel) -> None:
        super().__init__(model)
        self._drawn: object = None  # the curves on screen
        fig = labelled_figure(
            "Dual kernel and two-point motion",
            "overlap ρ",
            "value",
            tooltips=[("ρ", "$x{0.00}"), ("value", "$y{0.000}")],
        )
        self._sources = {name: empty_source("rho", "y") for name in ("kappa", "b", "a")}
        styles = {
            "kappa": ("κ(ρ) = E[s(U)s(V)]", "#9467bd"),
            "b": ("drift b(ρ)", "#d62728"),
            "a": ("diffusion a(ρ)", "#2ca02c"),
        }
        for name, (label, color) in styles.items():
            fig.line(
                "rho",
                "y",
                source=self._sources[name],
                legend_label=label,
                color=color,
                line_width=2,
            )
        fig.add_layout(Span(location=0, dimension="width", line_color=REFERENCE, line_alpha=0.5))
        legend_outside(fig)
        self.figure = fig
        self.readouts = readout_pane()

    def view(self) -> pn.Card:
        return panel_card(
            "Kernel: why some activations synchronize",
            self.readouts,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** Two tokens at overlap ρ move by "
                "dρ = b(ρ)dt + √a(ρ) dB. Near ρ = 1 everything is decided by κ₁ = E s² and "
                "κ₁' = σ_w² E s'²: λ_dist = (σ_n²/2)[(d−3)κ₁' − (d−1)κ₁] − α_eff. "
                "When κ₁' > κ₁, dimensions above d* defeat synchronization."
            ),
        )

    def update(self) -> None:
        m = self.model
        curves = m.kernel_curves()
        if curves is self._drawn:
            return  # the same parameters: nothing to redraw
        self._drawn = curves
        for name in ("kappa", "b", "a"):
            self._sources[name].data = {"rho": curves["rho"], "y": curves[name]}
        th = m.theory()
        d_star = th["critical_dimension"]
        self.readouts.object = readout(
            {
                "κ₁ = E s²": f"{th['kappa1']:.4f}",
                "κ₁' = σ_w² E s'²": f"{th['kappa1_prime']:.4f}",
                "λ_dist": f"{th['lambda_dist']:+.3f}",
                "d*": "never" if not np.isfinite(d_star) else f"{d_star:.2f}",
                "p*": f"{th['moment_threshold']:.3f}",
            }
        )
