"""The Brownian teaching inset: a growing Monte Carlo estimate of E S(B)_{0,T} (spec §4.5, §6.9).

Blocks of piecewise-linear Brownian paths are signed and added to running sums; after each block
the maximal error per level against exp(T/2 Σ e_i⊗e_i) and the largest standard error are
recorded, so the panel can draw the error against M_B with its 1/√M_B slope.
"""

from __future__ import annotations

import numpy as np

from kernels import signature as S
from kernels.signature.core import level_offsets
from kernels.signature.data import brownian_paths

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
        self._off = level_offsets(dim, BM_DEPTH)

    def add(self, n_blocks: int, target: int, rng: np.random.Generator) -> None:
        """Add up to ``n_blocks`` blocks of paths, never beyond ``target`` paths in total."""
        for _ in range(n_blocks):
            k = min(BM_CHUNK, target - self.count)
            if k <= 0:
                break
            sigs = S.signature_batch(
                brownian_paths(k, self.steps, self.dim, self.horizon, rng), BM_DEPTH
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
