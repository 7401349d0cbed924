"""Greedy arrows of the policies PG learned from ρ and from μ (Exploration maps tab, spec §4.3).

Each map colours d^{π_T}_ρ, the final policy's visitation from the start, on a log scale and
draws the greedy action of π_T as an arrow: in the distractor trap the ρ-restart policy walks
into the distractor while the μ-restart policy walks to the goal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import panel as pn
from bokeh.models import LogColorMapper
from bokeh.palettes import Viridis256

from app.models.exploration.model import ExplorationModel
from app.tabs.exploration.maps import (
    FLOOR,
    _greedy_labels,
    arrow_glyphs,
    geometry_sources,
    grid_figure,
    md,
    set_geometry,
)
from app.tabs.plotting import caption, empty_source

SHOWN = {
    "rho": "Policy learned from ρ: d^π_ρ (log), greedy arrows",
    "mu": "Policy learned from μ: d^π_ρ (log), greedy arrows",
}


class LearnedPolicyMaps:
    """Two maps of the learned policies; ``update()`` when a learning result arrives."""

    def __init__(self, model: ExplorationModel) -> None:
        self.model = model
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
        self._key: Any = None

    def layout(self) -> pn.Column:
        return pn.Column(
            pn.Row(
                *(pn.pane.Bokeh(f, sizing_mode="stretch_width") for f in self.figures.values()),
                sizing_mode="stretch_width",
            ),
            caption(
                md(
                    "**Greedy arrows after T updates** (first seed). Colour: where the "
                    "learned policy goes from the start. A ρ-restart policy can settle on a "
                    "nearby distractor; restarting from μ shows PG the far goal."
                )
            ),
            sizing_mode="stretch_width",
        )

    def update(self) -> None:
        m = self.model
        result = m.learning.result
        mdp = m.mdp
        drawn = np.flatnonzero(mdp.coords[:, 0] >= 0)
        geometry = geometry_sources(mdp)
        if self._key is not mdp:
            self._key = mdp
            self.walls.data = geometry["walls"]
            self.terminals.data = geometry["terminals"]
            set_geometry(self.figures.values(), mdp)
        base = geometry["cells"]
        for key in SHOWN:
            curves = None if result is None else result["curves"].get(key)
            if curves is None or len(curves["visitation"]) != mdp.n_states:
                self.cells[key].data = {**base, "value": np.full(len(drawn), np.nan)}
                self.arrows[key].data = {"x": [], "y": [], "text": []}
                continue
            values = np.maximum(curves["visitation"][drawn], FLOOR)
            self.cells[key].data = {**base, "value": values}
            labels = np.array(_greedy_labels(m, curves["policy"]), dtype=object)[drawn]
            keep = labels != ""
            self.arrows[key].data = {
                "x": base["x"][keep],
                "y": base["y"][keep],
                "text": list(labels[keep]),
            }
