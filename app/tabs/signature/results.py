"""Panels 3–5 of the expected-signature tab: accuracy against depth and M, the 2-D embedding,
and the Brownian teaching inset. Sources are refreshed in place from the model's job result."""

from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.models import FixedTicker, Span
from bokeh.palettes import Category10_10

from app.models.signature.brownian import BM_DEPTH
from app.models.signature.data import SHORT_NAMES
from app.models.signature.model import SignatureModel
from app.models.signature.summary import MODE_LABELS
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
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

ACCURACY_CAPTION = (
    "**Look for:** depth 1 is near chance (the feature is only the end-to-end increment); "
    "GP-ES falls below the deterministic baselines when σ_n² is large. Test accuracies of "
    "level-wise standardisation + logistic regression, recomputed in the background."
)
EMBEDDING_CAPTION = (
    "**Look for:** clusters smearing as σ_n² grows, and each point's Monte Carlo jitter "
    "shrinking as M grows. PCA of the standardised features; circles train, triangles test, "
    "the ring is the highlighted series."
)
BROWNIAN_CAPTION = (
    "**Look for:** level 2 → T/2 on the diagonal and odd levels → 0, the error shrinking like "
    "1/√M_B (dashed slope). **Play** adds a block of 500 Brownian paths per step. Level 4 "
    "keeps a small discretisation bias on n steps."
)
CURVE_COLORS = {"NoAug": REFERENCE, "GP-mean": THEORY}


class AccuracyPanel(TabPanel):
    """Panel 3: accuracy vs depth N (three feature families) and vs M (GP-ES), with the
    features job's controls."""

    follows_run = (
        False  # shows the restart configuration; redrawn by its params and the features job
    )

    model: SignatureModel

    def __init__(self, model: SignatureModel, controls: pn.viewable.Viewable) -> None:
        super().__init__(model)
        self.controls = controls
        fig = labelled_figure(
            "Test accuracy vs depth N", "depth N", "test accuracy", height=260, y_range=(0.0, 1.02)
        )
        self._curves = {}
        for k, (name, color) in enumerate(
            [("NoAug", REFERENCE), ("GP-mean", THEORY), ("GP-ES", MEASURED), ("mode", "#2ca02c")]
        ):
            src = empty_source("x", "y")
            fig.line(
                "x",
                "y",
                source=src,
                color=color,
                line_width=2,
                legend_label=name,
                line_dash="dashed" if k == 3 else "solid",
            )
            fig.scatter("x", "y", source=src, color=color, size=6, legend_label=name)
            self._curves[name] = src
        self._legend_items = {item.label["value"]: item for item in fig.legend[0].items}
        self._chance = Span(
            dimension="width", line_color="#999999", line_dash="dotted", location=0.5
        )
        self._depth_mark = Span(
            dimension="height", line_color="#444444", line_alpha=0.4, location=4
        )
        fig.add_layout(self._chance)
        fig.add_layout(self._depth_mark)
        fig.xaxis.ticker = FixedTicker(ticks=[1, 2, 3, 4, 5])
        legend_outside(fig)
        self.by_depth = fig
        fig_m = labelled_figure(
            "Test accuracy vs samples M (GP-ES)",
            "samples M",
            "test accuracy",
            height=260,
            x_axis_type="log",
            y_range=(0.0, 1.02),
        )
        self._m = empty_source("x", "y")
        fig_m.line("x", "y", source=self._m, color=MEASURED, line_width=2, legend_label="GP-ES")
        fig_m.scatter("x", "y", source=self._m, color=MEASURED, size=6, legend_label="GP-ES")
        self._refs = empty_source("x", "noaug", "mean")
        fig_m.line(
            "x",
            "noaug",
            source=self._refs,
            color=REFERENCE,
            line_dash="dashed",
            legend_label="NoAug",
        )
        fig_m.line(
            "x", "mean", source=self._refs, color=THEORY, line_dash="dashed", legend_label="GP-mean"
        )
        legend_outside(fig_m)
        self.by_m = fig_m
        self.readout = readout_pane()

    def view(self) -> pn.Card:
        return panel_card(
            "Accuracy vs depth and vs M",
            pn.pane.Bokeh(self.by_depth, sizing_mode="stretch_width"),
            pn.pane.Bokeh(self.by_m, sizing_mode="stretch_width"),
            self.controls,
            self.readout,
            caption(ACCURACY_CAPTION),
        )

    def update(self) -> None:
        result = self.model.features_job.result
        if result is None:
            self.readout.object = readout({"accuracy": "computing…"})
            return
        curves = result["acc_depth"]
        es_name = next(k for k in curves if k.startswith("GP-ES"))
        for name in ("NoAug", "GP-mean"):
            self._curves[name].data = {"x": result["depths"], "y": curves[name]}
        self._curves["GP-ES"].data = {"x": result["depths"], "y": curves[es_name]}
        self._legend_items["GP-ES"].label = {"value": es_name}
        extra = [k for k in curves if k not in ("NoAug", "GP-mean", es_name)]
        self._curves["mode"].data = (
            {"x": result["depths"], "y": curves[extra[0]]} if extra else {"x": [], "y": []}
        )
        self._legend_items["mode"].label = {"value": extra[0] if extra else "feature mode"}
        self._legend_items["mode"].visible = bool(extra)
        self._chance.location = result["chance"]
        self._depth_mark.location = result["depth"]
        self._m.data = {"x": result["ms"], "y": result["acc_m"]}
        xs = [min(result["ms"]), max(max(result["ms"]), 2)]
        self._refs.data = {
            "x": xs,
            "noaug": [result["ref_noaug"]] * 2,
            "mean": [result["ref_mean"]] * 2,
        }
        self.by_m.title.text = f"Test accuracy vs samples M (GP-ES, depth {result['depth']})"
        self.readout.object = readout(
            {
                f"accuracy ({MODE_LABELS[result['mode']]})": f"{result['accuracy']:.3f}",
                "NoAug": f"{result['ref_noaug']:.3f}",
                "GP-mean": f"{result['ref_mean']:.3f}",
                "chance": f"{result['chance']:.3f}",
                "data": SHORT_NAMES.get(result["data_name"], result["data_name"])[:18],
                "computed in": f"{result['seconds']:.2f} s",
            }
        )


class EmbeddingPanel(TabPanel):
    """Panel 4: PCA of the standardised features, coloured by class."""

    follows_run = (
        False  # shows the restart configuration; redrawn by its params and the features job
    )

    model: SignatureModel

    def __init__(self, model: SignatureModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "2-D embedding of the features (PCA)",
            "PC 1",
            "PC 2",
            height=330,
            tooltips=[("series", "@index"), ("class", "@label"), ("split", "@split")],
        )
        self._points = empty_source("x", "y", "color", "label", "split", "index", "marker")
        fig.scatter(
            "x",
            "y",
            source=self._points,
            color="color",
            marker="marker",
            size=6,
            alpha=0.7,
            legend_field="label",
        )
        self._ring = empty_source("x", "y")
        fig.scatter(
            "x", "y", source=self._ring, size=18, fill_alpha=0, line_color="black", line_width=2.5
        )
        self.figure = fig
        self._legend_moved = False

    def view(self) -> pn.Card:
        return panel_card(
            "2-D embedding",
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            caption(EMBEDDING_CAPTION),
        )

    def update(self) -> None:
        result = self.model.features_job.result
        if result is None:
            return
        scores, labels = result["embedding"], result["labels"]
        classes = sorted(set(labels.tolist()))
        palette = [Category10_10[classes.index(v) % 10] for v in labels]
        n_train = result["n_train"]
        split = np.where(np.arange(len(labels)) < n_train, "train", "test")
        self._points.data = {
            "x": scores[:, 0],
            "y": scores[:, 1],
            "color": palette,
            "label": labels,
            "split": split,
            "index": np.arange(len(labels)),
            "marker": np.where(split == "train", "circle", "triangle"),
        }
        if not self._legend_moved and self.figure.legend:
            legend_outside(self.figure)
            self._legend_moved = True
        ex = result["explained"]
        self.figure.xaxis.axis_label = f"PC 1 ({100 * ex[0]:.0f}% of variance)"
        self.figure.yaxis.axis_label = f"PC 2 ({100 * ex[1]:.0f}% of variance)"
        self.update_ring()

    def update_ring(self) -> None:
        result = self.model.features_job.result
        if result is None:
            return
        i = min(self.model.current_index, len(result["embedding"]) - 1)
        self._ring.data = {"x": [result["embedding"][i, 0]], "y": [result["embedding"][i, 1]]}


class BrownianPanel(TabPanel):
    """Panel 5: Monte Carlo expected signature of Brownian motion against its closed form (Play
    adds a block of paths per step); redrawn on the secondary schedule, which is every step at
    the Brownian check's pace."""

    model: SignatureModel
    LEVEL_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")

    def __init__(self, model: SignatureModel) -> None:
        super().__init__(model)
        fig = labelled_figure(
            "Brownian motion: MC error vs closed form",
            "Brownian paths M_B",
            "max |MC − exact| per level",
            height=280,
            x_axis_type="log",
            y_axis_type="log",
        )
        self._errors = []
        for k in range(BM_DEPTH):
            src = empty_source("x", "y")
            fig.line(
                "x",
                "y",
                source=src,
                color=self.LEVEL_COLORS[k],
                line_width=2,
                legend_label=f"level {k + 1}",
            )
            fig.scatter(
                "x",
                "y",
                source=src,
                color=self.LEVEL_COLORS[k],
                size=4,
                legend_label=f"level {k + 1}",
            )
            self._errors.append(src)
        self._slope = empty_source("x", "y")
        fig.line(
            "x", "y", source=self._slope, color="black", line_dash="dashed", legend_label="∝ 1/√M_B"
        )
        legend_outside(fig)
        self.figure = fig
        self.readout = readout_pane()

    def view(self) -> pn.Card:
        return panel_card(
            "Teaching inset: E S(Brownian motion) = exp(T/2 Σ eᵢ⊗eᵢ)",
            pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
            self.readout,
            caption(BROWNIAN_CAPTION),
        )

    def update(self) -> None:
        inset = self.model.brownian
        trace = inset.trace
        ms = np.asarray(trace["m"], dtype=float)
        errors = np.asarray(trace["error"], dtype=float).reshape(len(ms), BM_DEPTH)
        floor = 1e-12  # log axis: an exact zero (odd levels at d_B = 1) is drawn at the floor
        for k, src in enumerate(self._errors):
            src.data = {"x": ms, "y": np.maximum(errors[:, k], floor)}
        if len(ms):
            self._slope.data = inset.slope_line()
        numbers = inset.readout()
        identities = self.model.identity_errors
        self.readout.object = readout(
            {
                "M_B": f"{numbers['count']:,}",
                "level-2 diagonal": " ".join(f"{v:.3f}" for v in numbers["level2_diagonal"]),
                "exact T/2": f"{numbers['exact_diagonal']:.3f}",
                "max |level 1|": f"{numbers['max_level1']:.4f}",
                "Chen identity": f"{identities['chen']:.0e}",
                "straight line": f"{identities['line']:.0e}",
            }
        )
