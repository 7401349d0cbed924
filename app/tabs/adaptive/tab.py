"""The Adaptive SGD tab: RMSprop and Adam next to their continuous equations, scaling rules.

Callisti, Romito, Triggiano, *Effective continuous equations for adaptive SGD: a stochastic
analysis view*, arXiv:2509.21614. Spec: ``models/adaptive.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import panel as pn

from app.models.adaptive.model import LiveAdaptiveModel, warm_weak_study
from app.tabs.adaptive.hero import AdaptiveHero
from app.tabs.adaptive.panels import FinalPanel, MomentsPanel, ScalingPanel, WeakErrorPanel
from app.tabs.base import SimulationTab
from app.tabs.model_card import load_card, model_card


class AdaptiveTab(SimulationTab):
    """Hero landscape, moments, scaling collapse, weak error, final distributions (spec §4)."""

    slug = "adaptive"
    title = "Adaptive SGD"
    claim = (
        "RMSprop and Adam follow stochastic differential equations in which the sampling noise "
        "drives the parameters and, through an independent Brownian motion, the second moment; "
        "the square-root scaling rule keeps them fixed as the batch grows."
    )
    paper_citation = (
        "Callisti, Romito, Triggiano: Effective continuous equations for adaptive SGD: a "
        "stochastic analysis view (arXiv:2509.21614)"
    )
    paper_url = "https://arxiv.org/abs/2509.21614"
    provenance = (
        "Equations follow the authors' public code; the order-2 batch-equivalent terms, the "
        "sign fixes and the landscapes' noise models were derived for this app."
    )
    #: computes its runs off the event loop once the view exists (a link's params cost nothing)
    model_class = LiveAdaptiveModel
    #: Play moves a cursor through the computed run: the slider sets how fast (the model's
    #: ``speed`` doc: the run plays in PLAY_UNITS / speed frames).
    speed_label = "Play speed"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # the server builds every tab once at start-up: compute the "Weak order" preset's study
        # then (in the background, once per process), so choosing the preset shows it at once
        warm_weak_study()
        super().__init__(*args, **kwargs)

    def _build_controls(self) -> pn.Column:
        controls = super()._build_controls()
        _retarget_step_button(controls, self.model.step_frame)
        return controls

    def _build_first(self) -> pn.viewable.Viewable:
        model = self.model
        # runs are computed on the job pool and shown on this loop (issue 14); the status line
        # follows the job meanwhile, and Play waits for the run
        self._jobs.append(model.run_job)
        model.run_job.param.watch(
            lambda event: self.call_on_loop(lambda: model.apply_run(event.new)), ["result"]
        )
        model.run_job.param.watch(
            lambda *_: self.call_on_loop(model.show_run_progress), ["progress", "running"]
        )
        model.compute_off_loop()
        self.hero = self.add_panel(AdaptiveHero(model))
        return self.hero.view()

    def _build_panels(self) -> Iterator[pn.viewable.Viewable]:
        model = self.model
        # one panel under the other: two cards with their legends do not fit side by side in
        # a projector's 1024 px (a wrapping flex row of Bokeh cards hung the browser's layout)
        yield self.hero.view()
        self.moments = self.add_panel(MomentsPanel(model))
        yield self.moments.view()
        self.final = self.add_panel(FinalPanel(model))
        yield self.final.view()
        scaling_controls = self.job_controls(
            model.scaling_job, "Run scaling study", model.run_scaling
        )
        self.scaling = self.add_panel(ScalingPanel(model, scaling_controls))
        self.update_on(model.scaling_job, self.scaling)
        yield self.scaling.view()
        weak_controls = self.job_controls(
            model.weak_job, "Run weak-error study", model.run_weak_error
        )
        self.weak = self.add_panel(WeakErrorPanel(model, weak_controls))
        self.update_on(model.weak_job, self.weak)
        # while a study runs (its own, or the start-up one it follows) the summary says so
        model.weak_job.param.watch(lambda *_: self.call_on_loop(self.weak.update), ["running"])
        yield self.weak.view()
        yield model_card(load_card(self.slug), self.paper_citation, self.paper_url)


def _retarget_step_button(layout: Any, action: Callable[[], object]) -> bool:
    """Make the shared Step button show the next stored frame of the run (``action``): the
    shared one advances one animation frame of play, ``speed`` play units, which on a run of a
    few dozen stored frames takes many presses to show a new one. True if found."""
    for index, child in enumerate(getattr(layout, "objects", [])):
        if isinstance(child, pn.widgets.Button) and child.label == "Step":
            step = pn.widgets.Button(
                label="Step", width=child.width, description="Show the next frame of the run"
            )
            step.on_click(lambda _: action())
            objects = list(layout.objects)
            objects[index] = step
            layout.objects = objects
            return True
        if _retarget_step_button(child, action):
            return True
    return False
