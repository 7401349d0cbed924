"""A tiny SimulationModel (an AR(1) process) for testing the shared base without a kernel."""

from __future__ import annotations

import numpy as np
import param

from app.models.base import SimulationModel


class ToyModel(SimulationModel):
    """x_{k+1} = growth · x_k + noise · ξ_k for a vector of ``n`` walkers."""

    n = param.Integer(4, bounds=(1, 100), doc="Walkers.")
    growth = param.Number(0.5, bounds=(-2.0, 1e6), doc="Multiplier per step.")
    noise = param.Number(1.0, bounds=(0.0, 10.0), doc="Noise level.")
    kind = param.Selector(default="a", objects=["a", "b"], doc="A selector.")
    flag = param.Boolean(False, doc="A boolean.")

    restart_params = ("n", "kind")
    live_params = ("growth", "noise", "flag")
    advanced_params = ("flag",)
    presets = {"Calm": {"noise": 0.1}, "Big": {"n": 10, "growth": 0.9}}
    default_preset = "Calm"

    def _initialize(self, rng: np.random.Generator) -> None:
        self.x = rng.standard_normal(self.n)
        self.trace = [float(np.abs(self.x).mean())]

    def _advance(self, n_steps: int, rng: np.random.Generator) -> float:
        for _ in range(n_steps):
            self.x = self.growth * self.x + self.noise * rng.standard_normal(self.n)
            self.trace.append(float(np.abs(self.x).mean()))
        return self.t + 0.1 * n_steps

    def _run_arrays(self) -> dict[str, np.ndarray]:
        return {"mean_abs": np.asarray(self.trace), "x": self.x}
