"""The landscape f the Swarm escapes hero draws, computed once per scene (spec §4.1).

A scene is (objective, dimension, tilt): in 2-D, f on a grid of the box and a contour generator
for the dashed level set {f = J + 1/β}; in 1-D, the curve f(x) and the level as a horizontal
line. The hero rebuilds its background only when the model hands it a new :class:`Landscape`.
"""

from __future__ import annotations

import math

import numpy as np
from contourpy import contour_generator

from kernels import swarm
from kernels.swarm.objectives import grid_values

#: Grid points per axis of the 2-D landscape.
GRID_N = 200
#: Points of the 1-D curve f(x).
CURVE_N = 600

Lines = tuple[list[np.ndarray], list[np.ndarray]]


class Landscape:
    """f on the box ``[lo, hi]^dim`` (dim 1 or 2) of ``objective`` with tilt ``tilt``.

    ``grid`` (GRID_N, GRID_N) holds f in 2-D (rows = x₂, columns = x₁; None in 1-D);
    ``curve_x``, ``curve_f`` (CURVE_N,) hold the 1-D curve (None in 2-D).
    """

    def __init__(self, objective: str, dim: int, tilt: float, lo: float, hi: float) -> None:
        self.key = (objective, dim, tilt)
        self.dim = dim
        self.lo, self.hi = lo, hi
        self.grid: np.ndarray | None = None
        self.curve_x: np.ndarray | None = None
        self.curve_f: np.ndarray | None = None
        self._contours = None
        if dim == 2:
            self.grid = grid_values(objective, lo, hi, tilt, GRID_N)
            axis = np.linspace(lo, hi, GRID_N)
            self._contours = contour_generator(x=axis, y=axis, z=self.grid)
        else:
            self.curve_x = np.linspace(lo, hi, CURVE_N)
            self.curve_f = swarm.objective_value(objective, self.curve_x[:, None], tilt)

    @property
    def value_range(self) -> tuple[float, float]:
        """Smallest and largest f drawn (grid or curve)."""
        values = self.grid if self.grid is not None else self.curve_f
        return float(np.min(values)), float(np.max(values))

    def level_lines(self, level: float) -> Lines:
        """The level set {f = level} as lists of x- and y-coordinate arrays, one per piece
        (2-D: contour lines of the grid; 1-D: the horizontal line y = level; empty if the
        level is not finite)."""
        if not math.isfinite(level):
            return [], []
        if self.dim == 1:
            return [np.array([self.lo, self.hi])], [np.array([level, level])]
        lines = self._contours.lines(float(level))
        return [ln[:, 0] for ln in lines], [ln[:, 1] for ln in lines]
