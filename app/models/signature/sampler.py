"""The animated Monte Carlo of the highlighted series: posterior sample paths drawn one at a time.

Play draws sample paths X⁽ʲ⁾ of the highlighted series through its GP posterior, one per step,
and averages their signatures into the expected signature (spec §2, §4.1–4.2). A restart draws
the first M paths, the very samples the classifier's features use (same keys z: the stream
``default_rng([seed, i])`` drawn sample-major, :func:`kernels.signature.sample_normals`), so
the paused view is the classifier's estimate; every further step adds one path, and the Monte
Carlo error of the average falls like 1/√m. The moment it falls below a threshold is the pace
indicator of the data-set presets (issue 12).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from kernels import signature as S

#: Sample paths kept for panel 1 (the newest ones).
MAX_SHOWN_PATHS = 20
#: Paths drawn per series before the run's horizon.
MAX_DRAWN = 1024
#: Deepest level the sampler keeps (the depth slider's maximum; lower depths are prefixes).
SAMPLER_DEPTH = 5


class SeriesSampler:
    """Running sums of the signatures of one series' posterior sample paths.

    Parameters
    ----------
    post : kernels.signature.Posterior
        The posterior on the grid.
    values : numpy.ndarray
        The series, shape (c, L).
    index : int
        Its index in the data set (train first): the key of its sample stream.
    seed : int
        The session's seed.
    flags : dict
        The augmentations (``add_time``, ``basepoint``, ``lead_lag``).
    """

    def __init__(
        self,
        post: S.Posterior,
        values: np.ndarray,
        index: int,
        seed: int,
        flags: dict[str, bool],
    ) -> None:
        self.post, self.flags = post, dict(flags)
        #: what the owner keyed this sampler by (to notice a stale one)
        self.key: tuple = ()
        self.channels = values.shape[0]
        self.d = S.augmented_dim(self.channels, flags["add_time"], flags["lead_lag"])
        self.depth = min(SAMPLER_DEPTH, S.max_depth(self.d))
        self.offsets = S.level_offsets(self.d, self.depth)
        self.mean = post.mean(values)  # (c, G)
        grid = post.grid
        self.mean_signature = S.augmented_signature_batch(
            self.mean.T[None], self.depth, grid, **self.flags
        )[0]
        self.raw_signature = S.augmented_signature_batch(
            values.T[None], self.depth, post.t, **self.flags
        )[0]
        self._rng = np.random.default_rng([int(seed), int(index)])
        n_sig = self.mean_signature.size
        self.sums = np.zeros(n_sig)
        self.sumsq = np.zeros(n_sig)
        self.count = 0
        #: the newest paths, oldest first, each (c, G)
        self.recent: deque[np.ndarray] = deque(maxlen=MAX_SHOWN_PATHS)
        #: paths drawn when the Monte Carlo error first fell to each threshold (see
        #: :meth:`error_reached`)
        self._reached: dict[tuple[float, int], int] = {}

    # ----------------------------------------------------------------- drawing
    def draw(self, n: int) -> None:
        """Draw ``n`` more sample paths (never beyond :data:`MAX_DRAWN`)."""
        n = min(int(n), MAX_DRAWN - self.count)
        if n <= 0:
            return
        z = self._rng.standard_normal((n, self.channels, self.post.grid.size))
        paths = S.gp_sample_paths(self.post, self.mean, z)  # (n, c, G)
        sigs = S.augmented_signature_batch(
            np.transpose(paths, (0, 2, 1)), self.depth, self.post.grid, **self.flags
        )
        self.sums += sigs.sum(axis=0)
        self.sumsq += (sigs * sigs).sum(axis=0)
        self.count += n
        self.recent.extend(paths[-MAX_SHOWN_PATHS:])

    @property
    def left(self) -> int:
        """Paths still to draw before the horizon."""
        return MAX_DRAWN - self.count

    # ------------------------------------------------------------------ reading
    def estimate(self, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """(mean, stderr) of the expected signature up to ``depth`` (NaN stderr for m = 1)."""
        n = int(self.offsets[min(depth, self.depth)])
        mean, se = S.sums_to_mean_stderr(self.sums[:n], self.sumsq[:n], max(self.count, 1))
        return mean, se

    def relative_error(self, depth: int) -> float:
        """The Monte Carlo error of the estimate: over levels 1..``depth``, the largest
        2 s.e. of a level relative to that level's largest coefficient (inf below m = 2)."""
        if self.count < 2:
            return float("inf")
        mean, se = self.estimate(depth)
        worst = 0.0
        for k in range(min(depth, self.depth)):
            a, b = self.offsets[k], self.offsets[k + 1]
            scale = float(np.max(np.abs(mean[a:b])))
            if scale > 0:
                worst = max(worst, float(np.max(2 * se[a:b])) / scale)
        return worst

    def error_reached(self, threshold: float, depth: int) -> bool:
        """Whether the Monte Carlo error has been at most ``threshold`` at some point of this
        run (checked after every draw by :meth:`note_error`)."""
        return (threshold, depth) in self._reached

    def note_error(self, thresholds: tuple[float, ...], depth: int) -> None:
        """Record the first path count at which the error fell to each threshold."""
        error = self.relative_error(depth)
        for threshold in thresholds:
            if error <= threshold:
                self._reached.setdefault((threshold, depth), self.count)

    def reached_at(self, threshold: float, depth: int) -> int | None:
        """Paths drawn when the error first fell to ``threshold`` (None: not yet)."""
        return self._reached.get((threshold, depth))

    def view(self) -> dict[str, Any]:
        """The newest paths (oldest first), shape (k, c, G)."""
        if not self.recent:
            return {"paths": np.zeros((0, self.channels, self.post.grid.size))}
        return {"paths": np.stack(list(self.recent))}
