"""Panels 2–5 of the Token synchronization tab: depth heatmap, log diameter, ensemble, kernel.

Each panel object owns its Bokeh sources and has an ``update()`` that replaces their data in
place; the tab calls it when the model's frame changes (or, for theory panels, when the
parameters they depend on change).
"""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import ColorBar, LinearColorMapper, Span
from bokeh.palettes import Viridis256

from app.models.tokens.model import SIMILARITY_BINS, TokensModel
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
from kernels import tokens
from kernels.common import dual_kernel
from kernels.tokens import theory as token_theory

#: Diameters below this are round-off on the sphere; the log plot and the fit stop there.
DIAMETER_FLOOR = 1e-9
#: Below this diameter the pair linearization behind λ_dist applies (1 − ρ ≈ |x−y|²/2 ≤ 0.1).
NEAR_SYNC_DIAMETER = 0.45
MIN_FIT_POINTS = 8


class SimilarityDepthPanel:
    """Panel 2: histogram of pair similarities ⟨x_i, x_j⟩ against depth t."""

    def __init__(self, model: TokensModel) -> None:
        self.model = model
        self.absolute = pn.widgets.Checkbox(label="|ρ| (fold antipodal pairs)", value=False)
        self.absolute.param.watch(lambda *_: self.update(), "value")
        fig = labelled_figure(
            "Pair similarities over depth",
            "depth t",
            "similarity ρ = ⟨x_i, x_j⟩",
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

    def card(self) -> pn.Card:
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
        t = m.history_array("t")
        frac = m.history_array("similarity")  # (frames, bins): fraction of pairs per bin
        low = -1.0
        if self.absolute.value:
            half = SIMILARITY_BINS // 2
            frac = frac[:, half:] + frac[:, :half][:, ::-1]
            low = 0.0
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


class DiameterPanel:
    """Panel 3: log diameter against t with the fitted slope and the predicted λ_dist."""

    def __init__(self, model: TokensModel) -> None:
        self.model = model
        fig = labelled_figure(
            "Diameter of the token cloud",
            "depth t",
            "diameter max|x_i − x_j|",
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

    def card(self) -> pn.Card:
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
        t = m.history_array("t")
        diam = np.maximum(m.history_array("diameter"), DIAMETER_FLOOR)
        self._measured.data = {"t": t, "diameter": diam}
        self.figure.x_range.update(start=0.0, end=m.t_max)
        self.figure.y_range.update(start=max(DIAMETER_FLOOR, 0.5 * float(diam.min())), end=3.0)
        predicted = m.theory()["lambda_dist"]
        # λ_dist linearizes the dynamics near synchronization: fit only once the cloud is small
        near = np.flatnonzero(diam < NEAR_SYNC_DIAMETER)
        fit = None
        if near.size >= MIN_FIT_POINTS:
            fit = tokens.fit_log_slope(t, diam, t_min=float(t[near[0]]), full=True)
        items = {"predicted λ_dist": f"{predicted:+.3f}"}
        if fit is not None and np.isfinite(fit.slope):
            window = (t >= fit.t_start) & (t <= fit.t_stop)
            tw = t[window]
            self._fit.data = {"t": tw, "diameter": np.exp(fit.intercept + fit.slope * tw)}
            anchor = np.exp(fit.intercept + fit.slope * fit.t_start)
            self._theory.data = {
                "t": tw,
                "diameter": anchor * np.exp(predicted * (tw - fit.t_start)),
            }
            items["measured slope"] = f"{fit.slope:+.3f}"
            items["fit window"] = f"t ∈ [{fit.t_start:.2f}, {fit.t_stop:.2f}]"
        else:
            self._fit.data = {"t": [], "diameter": []}
            self._theory.data = {"t": [], "diameter": []}
            items["measured slope"] = "—"
        self.readouts.object = readout(items)


class EnsemblePanel:
    """Panel 4: the energy over R noise realizations: mean, median, geometric mean, band."""

    def __init__(self, model: TokensModel) -> None:
        self.model = model
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
            "median theory": "predicted median rate p·λ_r",
        }
        for name, source in self._lines.items():
            fig.line("t", "y", source=source, legend_label=labels.get(name, name), **style[name])
        legend_outside(fig)
        self.figure = fig
        self.readouts = readout_pane()

    def card(self, controls: pn.viewable.Viewable) -> pn.Card:
        return panel_card(
            "Ensemble energy (mean vs median)",
            controls,
            self.readouts,
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(
                "**What to look for.** The energy is a heavy-tailed random variable: "
                "its *mean* can rise while almost every path synchronizes (the median and "
                "geometric mean fall). Near synchronization E[r^p] grows at rate "
                "g(p) = pλ_r + p²s_r²/2 while the median decays at pλ_r (red). "
                "Energies (a) and (b) are first order in r = 1 − ρ (p = 1); energy (c) "
                "has p = q/2."
            ),
        )

    def exponent(self) -> float:
        """p such that the selected energy scales like r^p near synchronization (spec §6.3)."""
        return self.model.energy_q / 2.0 if self.model.energy_kind == "distance" else 1.0

    def update(self) -> None:
        m = self.model
        result = m.ensemble.result
        if result is None:
            for source in (self._band, *self._lines.values()):
                source.data = {k: [] for k in source.data}
            self.readouts.object = readout({"status": "press Run to simulate R realizations"})
            return
        t = result["t"]
        energy = np.maximum(m.energy(result["x"]), 1e-300)  # (frames, R)
        log_e = np.log(energy)
        stats = {
            "mean": energy.mean(axis=1),
            "median": np.median(energy, axis=1),
            "geometric mean": np.exp(log_e.mean(axis=1)),
        }
        low, high = np.quantile(energy, [0.1, 0.9], axis=1)
        self._band.data = {"t": t, "low": low, "high": high}
        shown = np.concatenate([low, high, stats["mean"]])
        shown = shown[np.isfinite(shown) & (shown > 0)]
        if shown.size:
            self.figure.y_range.update(start=shown.min() / 2, end=shown.max() * 2)
        self.figure.x_range.update(start=0.0, end=float(t[-1]))
        for name, values in stats.items():
            self._lines[name].data = {"t": t, "y": values}
        p = self.exponent()
        th = m.theory()
        lambda_r = 2.0 * th["lambda_dist"]
        mean_rate = token_theory.moment_growth_rate(
            p,
            activation=m.activation,
            dim=m.dim,
            sigma_noise=m.sigma_noise,
            sigma_w=m.sigma_w,
            sigma_b=m.sigma_b,
            attn_kind=m.attn_kind,
            attn_strength=m.attn_strength,
            beta=m.beta,
        )
        half = t >= t[-1] / 2
        fits = {name: _slope(t[half], np.log(values[half])) for name, values in stats.items()}
        t0 = t[half][0]
        self._lines["median theory"].data = {
            "t": t[half],
            "y": stats["median"][half][0] * np.exp(p * lambda_r * (t[half] - t0)),
        }
        self._lines["mean theory"].data = {
            "t": t[half],
            "y": stats["mean"][half][0] * np.exp(mean_rate * (t[half] - t0)),
        }
        self.readouts.object = readout(
            {
                "R": f"{energy.shape[1]}",
                "mean slope (2nd half)": f"{fits['mean']:+.2f}",
                "median slope": f"{fits['median']:+.2f}",
                "predicted g(p)": f"{mean_rate:+.2f}",
                "predicted p·λ_r": f"{p * lambda_r:+.2f}",
            }
        )


def _slope(t: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(t[ok], y[ok], 1)[0])


class KernelPanel:
    """Panel 5: the dual kernel κ(ρ) and the two-point drift b(ρ) and diffusion a(ρ)."""

    def __init__(self, model: TokensModel) -> None:
        self.model = model
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

    def card(self) -> pn.Card:
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
        rho = np.linspace(-1.0, 1.0, 201)
        kappa = dual_kernel.dual_kernel(m.activation, rho, sigma_w=m.sigma_w, sigma_b=m.sigma_b)
        b, a = token_theory.two_point_coefficients(
            rho,
            activation=m.activation,
            dim=m.dim,
            sigma_noise=m.sigma_noise,
            sigma_w=m.sigma_w,
            sigma_b=m.sigma_b,
        )
        for name, values in (("kappa", kappa), ("b", b), ("a", a)):
            self._sources[name].data = {"rho": rho, "y": values}
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
