"""Greedy arrows of the policies PG learned from ρ and from μ (Exploration maps tab, spec §4.3).

Each map colours the final policy πₜ's visits from the start ρ on a log scale and
draws the greedy action of π_T as an arrow: in the distractor trap the ρ-restart policy walks
into the distractor while the μ-restart policy walks to the goal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import panel as pn
from bokeh.models import LogColorMapper
from bokeh.palettes import Viridis256

from app.models.exploration import ExplorationModel
from app.models.exploration.maps import FLOOR
from app.tabs.exploration.maps import arrow_glyphs, grid_figure, map_width, md, set_geometry
from app.tabs.panel import TabPanel
from app.tabs.plotting import caption, empty_source

SHOWN = {
    "rho": "Policy learned from ρ restarts",
    "mu": "Policy learned from μ restarts",
}


class LearnedPolicyMaps(TabPanel):
    """Two maps of the learned policies; redrawn when a learning result or the MDP changes."""

    def __init__(self, model: ExplorationModel) -> None:
        super().__init__(model)
        self.mapper = LogColorMapper(palette=Viridis256, low=FLOOR, high=1.0, nan_color="#d9d9d9")
        self.walls = empty_source("x", "y")
        self.terminals = empty_source("x", "y")
        self.figures: dict[str, Any] = {}
        self.cells: dict[str, Any] = {}
        self.arrows: dict[str, Any] = {}
        for key, title in SHOWN.items():
            fig, source = grid_figure(title, self.mapper, self.walls, self.terminals)
            self.arrows[key] = empty_source("x", "y", "text")
            arrow_glyphs(fig, self.arrows[key])
            self.figures[key] = fig
            self.cells[key] = source
        self.panes = {key: pn.pane.Bokeh(fig, margin=(0, 4)) for key, fig in self.figures.items()}
        self._mdp: Any = None
        self._shown: tuple[Any, Any] | None = None

    def view(self) -> pn.Column:
        return pn.Column(
            pn.Row(*self.panes.values(), styles={"flex-wrap": "wrap"}, sizing_mode="stretch_width"),
            caption(
                md(
                    "**Greedy arrows after all T updates** (first seed). Colour: where the "
                    "learned policy goes from the start (log scale). A ρ-restart policy can "
                    "settle on a nearby distractor; restarting from μ shows PG the far goal."
                )
            ),
            sizing_mode="stretch_width",
        )

    def update(self) -> None:
        m = self.model
        shown_now = (m.learning.result, m.mdp)
        if self._shown is not None and all(
            a is b for a, b in zip(shown_now, self._shown, strict=True)
        ):
            return  # scrubbing k redraws the tab: nothing drawn here changed
        self._shown = shown_now
        geometry = m.map_geometry()
        if self._mdp is not m.mdp:
            self._mdp = m.mdp
            self.walls.data = geometry["walls"]
            self.terminals.data = geometry["terminals"]
            set_geometry(self.figures.values(), geometry["grid_shape"])
            for pane in self.panes.values():
                pane.width = map_width(geometry["grid_shape"])
        base = geometry["cells"]
        for restart, shown in m.learned_policy_maps().items():
            if shown is None:
                self.cells[restart].data = {**base, "value": np.full(len(base["x"]), np.nan)}
                self.arrows[restart].data = {"x": [], "y": [], "text": []}
                continue
            self.cells[restart].data = {**base, "value": shown["value"]}
            self.arrows[restart].data = shown["arrows"]
