"""Panels 1–2 of the expected-signature tab: one series with its GP posterior, and its expected
signature level by level. Each panel owns its Bokeh sources and refreshes them in place."""

from __future__ import annotations

from typing import Any

import numpy as np
import panel as pn
from bokeh.models import ColorBar, FixedTicker, LinearColorMapper, Span, Whisker
from bokeh.palettes import Category10_10, RdBu11

from app.models.signature.model import SignatureModel
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

SERIES_CAPTION = (
    "**Look for:** the band collapses onto the data as σ_n² → 0 at r = 1 and bulges between "
    "observations when r > 1. **Play** draws one more sample path per step (the newest is "
    "dark). Drag ℓ or σ_n²: the sample paths deform smoothly because they keep their random "
    "keys z."
)
SIGNATURE_CAPTION = (
    "**Look for:** level 1 of the expected signature agrees with the GP-mean signature up to "
    "Monte Carlo noise, while higher levels drift away as σ_n² grows (the samples gain "
    "roughness). **Play** adds one sample path per step: the error bars shrink like 1/√m. "
    "Bars: GP-ES ± 2 s.e. over the m paths drawn; dots: GP mean; crosses: raw series (NoAug)."
)
#: At most this many signature coordinates are drawn as bars (whole levels only).
MAX_BARS = 400
#: A row that wraps its children onto the next line when they do not fit.
WRAP = ":host { flex-wrap: wrap; }"
#: Narrowest width (px) of the bar plot beside the level-2 matrix, as its flex basis: its title,
#: its x label and its one-line legend fit the frame from there. The bars take the row's width
#: and the matrix goes under them when the row is narrower than both (the 500 px card of a
#: 1440 px window); at a projector's 1024 px, where the card has the whole row, it stays beside.
BARS_BASIS = 330
#: Width of the level-2 matrix.
HEAT_WIDTH = 250


def legend_above(fig: Any) -> None:
    """A one-line legend over the frame (a legend beside it would squeeze a narrow plot), with
    short glyphs and gaps: it must not reach past the frame of a plot :data:`BARS_BASIS` wide,
    where it lay over the title of the plot beside."""
    legend = fig.legend[0]
    fig.center.remove(legend)
    legend.update(
        orientation="horizontal",
        location="top_left",
        label_text_font_size="11px",
        click_policy="hide",
        margin=0,
        padding=3,
        spacing=8,
        glyph_width=12,
        label_standoff=3,
    )
    fig.add_layout(legend, "above")


class SeriesPanel(TabPanel):
    """Panel 1: observations, posterior mean, ±2σ band and the newest sample paths, the
    hero: Play draws one more path per step (it also follows a GP slider while it is dragged,
    so it takes parameter overrides)."""

    every_frame = True
    model: SignatureModel

    def __init__(self, model: SignatureModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "One series and its GP posterior",
            "time t (rescaled to [0, 1])",
            "value",
            height=340,
        )
        self._band = empty_source("x", "lower", "upper")
        self._paths = empty_source("xs", "ys")
        self._mean = empty_source("x", "y")
        self._obs = empty_source("x", "y")
        fig.varea(
            "x",
            "lower",
            "upper",
            source=self._band,
            color=BAND,
            alpha=0.45,
            legend_label="mean ± 2σ",
        )
        fig.multi_line(
            "xs",
            "ys",
            source=self._paths,
            color="#6a51a3",
            alpha=0.35,
            line_width=1,
            legend_label="sample paths X⁽ʲ⁾",
        )
        self._newest = empty_source("x", "y")
        fig.line(
            "x",
            "y",
            source=self._newest,
            color="#3f007d",
            alpha=0.9,
            line_width=1.8,
            legend_label="newest path",
        )
        fig.line(
            "x",
            "y",
            source=self._mean,
            color=MEASURED,
            line_width=2.5,
            legend_label="posterior mean m",
        )
        fig.scatter(
            "x", "y", source=self._obs, color="black", size=4, legend_label="observations y"
        )
        self._class_means = empty_source("xs", "ys", "color", "label")
        fig.multi_line(
            "xs",
            "ys",
            source=self._class_means,
            color="color",
            line_dash="dashed",
            line_width=2,
            alpha=0.8,
            legend_field="label",
        )
        legend_outside(fig)
        self.figure = fig
        self.readout = readout_pane()
        self.show_class_means = pn.widgets.Checkbox(label="Class means (training set)", value=False)
        self.redraw_on(self.show_class_means)

    def view(self) -> pn.viewable.Viewable:
        return panel_card(
            "Series + GP posterior",
            self.readout,  # the numbers Play changes, above the plot: in view on a projector
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            self.show_class_means,
            caption(SERIES_CAPTION),
        )

    def update(self, **overrides: Any) -> None:
        view = self.model.series_view(**overrides)
        grid = view["grid"]
        self._band.data = {"x": grid, "lower": view["lower"], "upper": view["upper"]}
        paths = list(view["paths"])
        self._paths.data = {"xs": [grid] * len(paths), "ys": paths}
        self._newest.data = {"x": grid, "y": paths[-1]} if paths else {"x": [], "y": []}
        self._mean.data = {"x": grid, "y": view["mean"]}
        self._obs.data = {"x": view["t"], "y": view["y"]}
        data = self.model.data
        if self.show_class_means.value:
            means = self.model.class_means()
            classes = means["classes"]
            self._class_means.data = {
                "xs": [means["t"]] * len(classes),
                "ys": means["means"],
                "color": [Category10_10[k] for k in range(len(classes))],
                "label": [f"mean of class {c}" for c in classes],
            }
        else:
            self._class_means.data = {"xs": [], "ys": [], "color": [], "label": []}
        error = float("nan") if overrides else self.model.mc_error()
        self.readout.object = readout(
            {
                "series i": f"{self.model.current_index} / {data.n_series - 1}",
                "class": view["label"][:12],
                "split": view["split"],
                "grid G": str(len(grid)),
                "paths drawn m": f"{view['drawn']:,}",
                "MC error": f"{100 * error:.1f} %" if np.isfinite(error) else "n/a",
            }
        )


def word_labels(d: int, depth: int) -> list[str]:
    """Words (i₁…i_k) of levels 1..depth in the flat signature order."""
    labels = []
    for k in range(1, depth + 1):
        for flat in range(d**k):
            digits = np.unravel_index(flat, (d,) * k)
            labels.append("(" + ",".join(str(int(i)) for i in digits) + ")")
    return labels


class SignaturePanel(TabPanel):
    """Panel 2: the expected signature by level over the paths drawn so far, with the level-2
    matrix and its Lévy area (it follows the run: Play adds paths)."""

    model: SignatureModel

    def __init__(self, model: SignatureModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "Expected signature of series i",
            "signature coordinate (word)",
            "coefficient",
            height=300,
            tooltips=[
                ("word", "@word"),
                ("level", "@level"),
                ("GP-ES", "@es{0.0000}"),
                ("± 2 s.e.", "@err{0.0000}"),
                ("GP mean", "@mean{0.0000}"),
                ("NoAug", "@raw{0.0000}"),
            ],
        )
        self._bars = empty_source(
            "x", "es", "lower", "upper", "err", "mean", "raw", "word", "level"
        )
        fig.vbar(
            "x",
            top="es",
            width=0.8,
            source=self._bars,
            color=MEASURED,
            alpha=0.6,
            legend_label="GP-ES ± 2 s.e.",
        )
        fig.add_layout(
            Whisker(
                source=self._bars,
                base="x",
                lower="lower",
                upper="upper",
                line_color="#08306b",
                line_width=1,
            )
        )
        fig.scatter("x", "mean", source=self._bars, color=THEORY, size=5, legend_label="GP mean")
        fig.scatter(
            "x",
            "raw",
            source=self._bars,
            color=REFERENCE,
            marker="x",
            size=6,
            legend_label="NoAug (raw)",
        )
        self._levels = empty_source("x", "y", "text")
        fig.text("x", "y", "text", source=self._levels, text_font_size="11px", text_color="#555555")
        # the level separators all exist from the start (at most one between two of the
        # deepest signature's levels), hidden until used: an annotation added to a plot the
        # browser already shows gets no view there (BokehJS: ``cannot find a view for Span``)
        self._separators = [
            Span(dimension="height", line_color="#aaaaaa", line_dash="dashed", visible=False)
            for _ in range(model.param.depth.bounds[1] - 1)
        ]
        for span in self._separators:
            fig.add_layout(span)
        legend_above(fig)
        # the basis on the figure itself: a Bokeh pane hands its figure to the row and drops
        # its own styles and min_width (the bars' frame was squeezed to 170 px beside the matrix)
        fig.styles = {"flex": f"1 1 {BARS_BASIS}px"}
        self.figure = fig
        heat = labelled_figure(
            "Level 2: Sⁱʲ",
            "j",
            "i",
            height=300,
            tooltips=[("(i,j)", "(@i,@j)"), ("S", "@value{0.0000}")],
        )
        heat.update(sizing_mode="fixed", width=HEAT_WIDTH)
        heat.y_range.flipped = True
        heat.toolbar_location = None  # a small matrix: its title needs the room
        self._ticker = FixedTicker(ticks=[0, 1])
        heat.xaxis.ticker = self._ticker
        heat.yaxis.ticker = self._ticker
        self._mapper = LinearColorMapper(palette=RdBu11[::-1], low=-1, high=1)
        self._cells = empty_source("i", "j", "value")
        heat.rect(
            "j",
            "i",
            0.95,
            0.95,
            source=self._cells,
            fill_color={"field": "value", "transform": self._mapper},
            line_color=None,
        )
        heat.add_layout(ColorBar(color_mapper=self._mapper, width=8), "right")
        self.heat = heat
        self.readout = readout_pane()

    def view(self) -> pn.viewable.Viewable:
        return panel_card(
            "Expected signature by level",
            self.readout,  # the numbers Play changes, above the plot: in view on a projector
            pn.Row(
                pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
                pn.pane.Bokeh(self.heat, width=HEAT_WIDTH + 10),
                sizing_mode="stretch_width",
                stylesheets=[WRAP],
            ),
            caption(
                SIGNATURE_CAPTION + " Right: level 2 as a d × d matrix; its antisymmetric "
                "part ½(Sⁱʲ − Sʲⁱ) is the **Lévy area**."
            ),
        )

    def update(self) -> None:
        sig = self.model.series_signature()
        d, depth = sig["d"], sig["depth"]
        sizes = [d**k for k in range(1, depth + 1)]
        shown_levels = max(1, sum(np.cumsum(sizes) <= MAX_BARS))
        n = int(np.sum(sizes[:shown_levels]))
        se2 = 2 * np.nan_to_num(sig["se"][:n])
        es = sig["es"][:n]
        levels = np.repeat(np.arange(1, shown_levels + 1), sizes[:shown_levels])
        self._bars.data = {
            "x": np.arange(n),
            "es": es,
            "lower": es - se2,
            "upper": es + se2,
            "err": se2,
            "mean": sig["mean"][:n],
            "raw": sig["raw"][:n],
            "word": word_labels(d, shown_levels),
            "level": levels,
        }
        starts = np.concatenate([[0], np.cumsum(sizes[:shown_levels])])
        top = float(np.max(np.abs(np.concatenate([es + se2, sig["mean"][:n]])))) or 1.0
        self._levels.data = {
            "x": starts[:-1] - 0.4,
            "y": [top * 1.05] * shown_levels,
            "text": [
                f"level {k}" if sizes[k - 1] >= 8 else str(k) for k in range(1, shown_levels + 1)
            ],
        }
        self._set_separators(starts[1:-1] - 0.5)
        level2, area = sig["level2"], sig["levy_area"]
        if level2 is not None:
            ii, jj = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
            bound = float(np.max(np.abs(level2))) or 1.0
            self._mapper.update(low=-bound, high=bound)
            self._cells.data = {"i": ii.ravel(), "j": jj.ravel(), "value": level2.ravel()}
            self._ticker.ticks = list(range(d))
        else:
            self._cells.data = {"i": [], "j": [], "value": []}
        error = sig["error"]
        chips = {
            "paths drawn m": f"{sig['drawn']:,}",
            "MC error": f"{100 * error:.1f} %" if np.isfinite(error) else "n/a (m = 1)",
            "N shown": f"{shown_levels} of {depth}",
            "d": str(d),
        }
        if level2 is not None and d > 2:  # many channels: the pair that turns the most
            i, j, largest = sig["largest_area"]
            chips[f"largest Lévy area ({i}, {j})"] = f"{largest:+.4f}"
        else:
            names = "time, value" if self.model.add_time else "channels 0, 1"
            chips[f"Lévy area ({names})"] = f"{area:+.4f}"
        self.readout.object = readout(chips)

    def _set_separators(self, positions: np.ndarray) -> None:
        for k, span in enumerate(self._separators):
            if k < len(positions):
                span.update(location=float(positions[k]), visible=True)
            else:
                span.visible = False
