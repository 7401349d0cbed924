"""The Expected signature tab: GP augmentation, expected signatures and classification.

Romito, Triggiano, *Gaussian processes based data augmentation and expected signature for time
series classification*, arXiv:2310.10836. Spec: ``models/signature.md``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import panel as pn

from app.models.signature.data import (
    MAX_CHANNELS,
    MAX_LENGTH,
    MAX_SERIES,
    MAX_UPLOAD_BYTES,
    UPLOAD_EXAMPLE,
)
from app.models.signature.model import SignatureModel
from app.models.signature.summary import MODE_LABELS
from app.tabs.base import SimulationTab
from app.tabs.model_card import load_card, model_card
from app.tabs.plotting import STYLESHEET, panel_card
from app.tabs.signature.panels import WRAP, SeriesPanel, SignaturePanel
from app.tabs.signature.results import AccuracyPanel, BrownianPanel, EmbeddingPanel
from app.text import shorten

UPLOAD_HELP = f"""
**Upload your own labelled series (CSV, ≤ {MAX_UPLOAD_BYTES // 1_000_000} MB).**
*One series per row:* a header; a `label` column; optional `split` (`train`/`test`); every other
column one time point. *Long format:* columns `series` (id), `label`, optional `split`, optional
`time`, and one numeric column per channel (≤ {MAX_CHANNELS}); every series the same number of
rows. At most {MAX_SERIES} series of ≤ {MAX_LENGTH} points, two or more classes. Without a
`split` column, 30% of each class becomes the test set (fixed seed). The upload stays in your
session only. Example:
"""


#: Narrowest a panel gets beside another before the pair wraps onto two rows.
PANEL_BASIS = "480px"


def _wrapping(*cards: pn.viewable.Viewable) -> pn.Row:
    """Cards side by side while each gets :data:`PANEL_BASIS`, else one under the other."""
    for card in cards:
        card.styles = {**card.styles, "flex": f"1 1 {PANEL_BASIS}"}
    return pn.Row(*cards, sizing_mode="stretch_width", stylesheets=[WRAP])


def accuracy_status(result: dict[str, Any]) -> str:
    """One line of test accuracies at the chosen depth (and the chosen feature's, if it is
    none of the three families)."""
    depth = result["depth"]
    curves = result["acc_depth"]
    es_name = next(k for k in curves if k.startswith("GP-ES"))
    parts = [
        f"GP-ES {curves[es_name][depth - 1]:.3f}",
        f"GP-mean {result['ref_mean']:.3f}",
        f"NoAug {result['ref_noaug']:.3f}",
    ]
    if result["mode"] not in ("expected_signature", "mean_signature", "raw_signature"):
        parts.insert(0, f"{MODE_LABELS[result['mode']]} {result['accuracy']:.3f}")
    parts.append(f"chance {result['chance']:.2f}")
    return f"Test accuracy, depth {depth}: " + " · ".join(parts)


class SignatureTab(SimulationTab):
    """Series + GP posterior, expected signature, accuracy, embedding, Brownian inset (§4)."""

    slug = "signature"
    title = "Expected signature"
    claim = (
        "Turn each time series into a random path through its Gaussian-process posterior and "
        "classify it by the expected signature of that path; watch when the augmentation helps "
        "and when posterior noise washes out the class structure."
    )
    paper_citation = (
        "Romito, Triggiano: Gaussian processes based data augmentation and expected signature "
        "for time series classification (arXiv:2310.10836)"
    )
    paper_url = "https://arxiv.org/abs/2310.10836"
    provenance = (
        "The idea (GP augmentation, expected-signature features) is the paper's; kernels, "
        "head, presets and all accuracies are this app's choices, computed live on offline "
        "UCR/UEA data."
    )
    model_class = SignatureModel
    # presenter mode stages this panel for a preset that names none
    hero_panel = "series"
    speed_label = "Sample paths per second"

    def _build_first(self) -> pn.viewable.Viewable:
        self._drag_at = 0.0
        self.series = self.add_panel(SeriesPanel(self.model))
        return self.series.view()

    def _build_panels(self) -> Iterator[pn.viewable.Viewable]:
        model = self.model
        self._wire_live_drag()
        # pairs side by side on a wide screen, one under the other on a projector: the panels
        # Play animates (the series and its expected signature) first
        self.signature = self.add_panel(SignaturePanel(model))
        self.update_on_params(["series_index", "channel", "n_samples"], self.series, self.signature)
        self.update_on_params(["depth"], self.signature)
        yield _wrapping(self.series.view(), self.signature.view())
        controls = self.job_controls(model.features_job, "Recompute", model.refresh_features)
        self.accuracy = self.add_panel(AccuracyPanel(model, controls))
        self.embedding = self.add_panel(EmbeddingPanel(model))
        self.update_on(model.features_job, self.accuracy, self.embedding)
        model.features_job.param.watch(lambda *_: self.call_on_loop(self._report_time), ["result"])
        self._report_time()  # the features may have come while only the first panel showed
        model.param.watch(
            lambda *_: self.call_on_loop(self.embedding.update_ring),
            ["series_index", "channel", "n_samples"],
        )
        yield _wrapping(self.accuracy.view(), self.embedding.view())
        self.brownian = self.add_panel(BrownianPanel(model))
        yield _wrapping(self.brownian.view())
        yield self._upload_card()
        yield model_card(load_card(self.slug), self.paper_citation, self.paper_url)

    # ------------------------------------------------------------ updates
    def _report_time(self) -> None:
        """The accuracies, the punchline of every data-set preset, in the status line."""
        if self.model.features_job.result is not None:
            result = self.model.features_job.result
            notice = result.get("notice", "")
            self.model.status = accuracy_status(result) + (f" {notice}" if notice else "")

    def _wire_live_drag(self) -> None:
        """Panel 1 follows a GP slider while it is dragged (restart params are throttled, so
        the model itself only changes, and the features recompute, on release)."""
        labels = {self.model.param[name].label: name for name in self.model.live_drag_params}
        for widget in self._controls.select(pn.widgets.FloatSlider):
            name = labels.get(widget.name)
            if name is not None:
                widget.param.watch(lambda event, n=name: self._on_drag(n, event.new), ["value"])

    def _on_drag(self, name: str, value: Any) -> None:
        now = time.monotonic()
        if now - self._drag_at < self.model.drag_redraw_interval or value == getattr(
            self.model, name
        ):
            return
        self._drag_at = now
        try:
            with pn.io.hold(self._document):
                self.series.update(**{name: value})
        except ValueError:  # an intermediate value the kernel rejects: skip this frame
            pass

    # -------------------------------------------------------------- upload
    def _upload_card(self) -> pn.Card:
        model = self.model
        upload = pn.widgets.FileInput(
            accept=".csv,text/csv", multiple=False, width=260, css_classes=["ns-signature-upload"]
        )
        message = pn.pane.Markdown(
            model.param.upload_message,
            height=60,
            css_classes=["ns-upload-message"],
            sizing_mode="stretch_width",
            stylesheets=[STYLESHEET],
        )

        def on_upload(event: Any) -> None:
            if event.new is None:
                return
            model.start_upload(event.new, upload.filename or "upload.csv")

        upload.param.watch(on_upload, ["value"])
        fit = pn.widgets.Button(label="Fit ℓ, σ_f², σ_n² by marginal likelihood", width=300)
        fit.on_click(lambda _: model.start_fit())
        # parsing and fitting run on the job pool; their results are applied on this loop
        self._jobs.extend([model.upload_job, model.fit_job])
        for job, apply in (
            (model.upload_job, model.accept_upload),
            (model.fit_job, model.apply_fit),
        ):
            job.param.watch(
                lambda event, apply=apply: self.call_on_loop(lambda: apply(event.new)), ["result"]
            )
            job.param.watch(
                lambda event: (
                    event.new
                    and self.call_on_loop(
                        lambda: setattr(model, "upload_message", shorten(f"Failed: {event.new}"))
                    )
                ),
                ["error"],
            )
        example = pn.pane.Markdown(f"```\n{UPLOAD_EXAMPLE}```", sizing_mode="stretch_width")
        return panel_card(
            "Your data, and hyperparameters by marginal likelihood",
            pn.Row(upload, fit),
            message,
            pn.pane.Markdown(UPLOAD_HELP, sizing_mode="stretch_width"),
            example,
            collapsed=False,
        )
