"""What the maps of the Exploration maps tab show (spec §4.1, §4.3), as plain arrays.

The cells a layout draws, its walls, absorbing and start cells; the greedy action of a policy as
an arrow per cell; the shares shown on a log colour scale. The views of
``app/tabs/exploration`` draw these arrays and compute nothing themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels import exploration as ex

#: Shares below this are drawn with the lowest colour (a log scale needs a positive floor).
FLOOR = 1e-6
#: Floor of the log-axis coverage curves (min D̄_k and the mismatch can be 0).
LOG_FLOOR = 1e-12
#: Greedy ties: actions within this of the best probability share the arrow.
TIE_TOL = 1e-12
#: DeepSea's two actions, by whether the action is the cell's "right" one.
DEEP_SEA_ARROWS = ("↙", "↘")


def grid_geometry(mdp: ex.TabularMDP) -> dict[str, Any]:
    """The drawn cells of ``mdp`` (states with a position), its walls, absorbing and start cells.

    Returns ``drawn`` (indices of the drawn states), ``cells`` (x = column, y = row, row, col per
    drawn state), ``walls``, ``terminals`` and ``start`` (x, y each) and ``grid_shape``.
    """
    on_grid = mdp.coords[:, 0] >= 0
    rows, cols = mdp.coords[on_grid, 0], mdp.coords[on_grid, 1]
    walls = mdp.walls if mdp.layout != "frozen_lake_8x8" else np.zeros((0, 2), int)
    term = np.flatnonzero(mdp.absorbing & on_grid)
    start = np.flatnonzero(mdp.rho > 0)
    return {
        "drawn": np.flatnonzero(on_grid),
        "cells": {"x": cols.astype(float), "y": rows.astype(float), "row": rows, "col": cols},
        "walls": {"x": walls[:, 1].astype(float), "y": walls[:, 0].astype(float)},
        "terminals": {
            "x": mdp.coords[term, 1].astype(float),
            "y": mdp.coords[term, 0].astype(float),
        },
        "start": {
            "x": mdp.coords[start, 1].astype(float),
            "y": mdp.coords[start, 0].astype(float),
        },
        "grid_shape": tuple(mdp.grid_shape),
    }


def greedy_labels(mdp: ex.TabularMDP, pi: np.ndarray, mapping: np.ndarray | None) -> list[str]:
    """One arrow per state: the most probable action(s) of π (S, A), blank if uniform or absorbing.

    ``mapping`` (DeepSea only, (N, N)) is the action that moves right in each cell.
    """
    labels = list(mdp.action_labels)
    top = pi >= pi.max(axis=1, keepdims=True) - TIE_TOL
    out = []
    for s in range(mdp.n_states):
        if mdp.absorbing[s] or top[s].all():
            out.append("")
            continue
        actions = np.flatnonzero(top[s])
        if mapping is not None:
            r, c = mdp.coords[s]
            out.append("".join(DEEP_SEA_ARROWS[int(a == mapping[r, c])] for a in actions[:1]))
        else:
            out.append("".join(labels[a] for a in actions[:2]))
    return out


def arrow_cells(labels: list[str], geometry: dict[str, Any]) -> dict[str, Any]:
    """x, y and text of the drawn cells that carry an arrow."""
    shown = np.array(labels, dtype=object)[geometry["drawn"]]
    keep = shown != ""
    cells = geometry["cells"]
    return {"x": cells["x"][keep], "y": cells["y"][keep], "text": list(shown[keep])}


def colour_range(explorer: dict[str, Any], drawn: np.ndarray) -> tuple[float, float]:
    """(low, high) of the log colour scale: every map of the explorer's run on the drawn cells."""
    stacked = np.concatenate([explorer["mixtures"], explorer["visitations"], explorer["mu"][None]])
    shown = stacked[:, drawn]
    positive = shown[shown > 0]
    low = max(FLOOR, float(positive.min()) if positive.size else FLOOR)
    high = float(shown.max()) if shown.size else 1.0
    return low, high


def shown_values(
    values: np.ndarray, reachable: np.ndarray, drawn: np.ndarray, low: float
) -> np.ndarray:
    """Shares of the drawn cells, raised to ``low``; NaN (grey) where the state is unreachable."""
    out = np.asarray(values, dtype=float)[drawn].copy()
    out[~reachable[drawn]] = np.nan
    return np.maximum(out, np.where(np.isnan(out), np.nan, low))
