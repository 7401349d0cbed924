"""The Brownian teaching inset: a growing Monte Carlo estimate of E S(B)_{0,T} (spec §4.5, §6.9).

Blocks of piecewise-linear Brownian paths are signed and added to running sums; after each block
the maximal error per level against exp(T/2 Σ e_i⊗e_i) and the largest standard error are
recorded, so the panel can draw the error against M_B with its 1/√M_B slope.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from kernels import signature as S

#: Brownian paths added per block (one animation step), and the inset's depth.
BM_CHUNK = 500
BM_DEPTH = 4


class BrownianInset:
    """Running sums and the error trace of the Brownian expected signature."""

    def __init__(self, dim: int, horizon: float, steps: int) -> None:
        self.dim, self.horizon, self.steps = dim, horizon, steps
        self.sums = np.zeros(S.sig_length(dim, BM_DEPTH))
        self.sumsq = np.zeros_like(self.sums)
        self.count = 0
        self.exact = S.brownian_expected_signature_exact(dim, horizon, BM_DEPTH)
        self.trace: dict[str, list] = {"m": [], "error": [], "stderr": []}
        self._off = S.level_offsets(dim, BM_DEPTH)

    def add(self, n_blocks: int, target: int, rng: np.random.Generator) -> None:
        """Add up to ``n_blocks`` blocks of paths, never beyond ``target`` paths in total."""
        for _ in range(n_blocks):
            k = min(BM_CHUNK, target - self.count)
            if k <= 0:
                break
            sigs = S.signature_batch(
                S.brownian_paths(k, self.steps, self.dim, self.horizon, rng), BM_DEPTH
            )
            self.sums += sigs.sum(axis=0)
            self.sumsq += (sigs * sigs).sum(axis=0)
            self.count += k
            mean, se = self.estimate()
            err = np.abs(mean - self.exact)
            self.trace["m"].append(self.count)
            self.trace["error"].append(self._per_level(err))
            self.trace["stderr"].append(self._per_level(se))

    def _per_level(self, values: np.ndarray) -> list[float]:
        """Largest entry of each signature level."""
        off = self._off
        return [float(values[off[j] : off[j + 1]].max()) for j in range(BM_DEPTH)]

    def estimate(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, stderr) of the Monte Carlo expected signature so far."""
        return S.sums_to_mean_stderr(self.sums, self.sumsq, max(self.count, 1))

    def blocks_left(self, target: int) -> int:
        return -(-(target - self.count) // BM_CHUNK)

    def slope_line(self) -> dict[str, list[float]]:
        """The 1/√M_B reference through the first recorded level-2 standard error, from the
        first M_B to the current one (at least a decade): the rate the error should follow."""
        trace = self.trace
        if not trace["m"]:
            return {"x": [], "y": []}
        m0 = float(trace["m"][0])
        m1 = max(float(trace["m"][-1]), m0 * 10)
        se0 = max(float(trace["stderr"][0][1]), SLOPE_FLOOR)
        return {"x": [m0, m1], "y": [se0, se0 * np.sqrt(m0 / m1)]}

    def readout(self) -> dict[str, Any]:
        """Numbers to read off the estimate: the level-2 diagonal (→ T/2), its exact value and
        the largest level-1 entry (→ 0)."""
        mean, _ = self.estimate()
        d = self.dim
        return {
            "count": self.count,
            "level2_diagonal": np.diag(mean[d : d + d * d].reshape(d, d)),
            "exact_diagonal": self.horizon / 2,
            "max_level1": float(np.max(np.abs(mean[:d]))),
        }


#: Smallest level-2 standard error the slope line starts from (a log axis cannot show 0).
SLOPE_FLOOR = 1e-12


@functools.cache
def identity_errors() -> dict[str, float]:
    """Straight-line and Chen identities of the signature kernel on a fixed random walk
    (spec §6.1–6.2): relative error of S(X|[0,19]) ⊗ S(X|[19,50]) against S(X), and the error
    of a straight line's signature against Δ^{⊗k}/k!."""
    path = np.random.default_rng(0).standard_normal((51, 3)).cumsum(axis=0)
    chen = S.sig_combine(S.signature(path[:20], 4), S.signature(path[19:], 4), 3, 4)
    full = S.signature(path, 4)
    delta = np.array([0.3, -0.7, 0.5])
    line = S.signature(np.linspace(0, 1, 11)[:, None] * delta, 4)
    exact, power = [], np.ones(1)
    for k in range(1, 5):
        power = np.multiply.outer(power, delta).ravel()
        exact.append(power / np.prod(np.arange(1, k + 1)))
    return {
        "chen": float(np.max(np.abs(chen - full)) / np.max(np.abs(full))),
        "line": float(np.max(np.abs(line - np.concatenate(exact)))),
    }
