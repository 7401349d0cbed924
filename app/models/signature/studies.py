"""The background study of the expected-signature tab: features, then the head (spec §2–§4).

:func:`compute_features` is the function :attr:`SignatureModel.features_job` runs in its worker
thread: it looks up (or builds) the :class:`~app.models.signature.features.FeatureSet` of a
restart configuration in the session's :class:`FeatureCache`, extends its Monte Carlo sums to
M samples and summarises it (accuracies, embedding). Everything it reads is a snapshot taken on
the event loop when the job starts.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from app.models.budget import MAX_JOB_BYTES
from app.models.jobs import ProgressFn
from app.models.signature.data import Dataset
from app.models.signature.features import FeatureConfig, FeatureSet, build_features
from app.models.signature.summary import summarise
from kernels import signature as S

#: Feature sets kept per session (restart configurations visited recently).
CACHE_SIZE = 4
#: Memory the cached sets of a session may hold together (the newest is always kept: its own
#: job was costed against the same limit before it started).
CACHE_BYTES = MAX_JOB_BYTES


class FeatureCache:
    """The feature sets of the configurations visited recently (least recently used dropped).

    Shared by the session's jobs, which may overlap (a cancelled job runs on until its next
    progress report). :meth:`get_or_build` builds outside the lock, but the first set stored
    for a configuration wins: a second, concurrent build is discarded, so every job extends
    and summarises the one set the cache holds (a cancelled job storing its own set over it
    used to leave the cache with a set that never reached M).
    """

    def __init__(self, size: int = CACHE_SIZE, max_bytes: float = CACHE_BYTES) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self._sets: OrderedDict[FeatureConfig, FeatureSet] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, config: FeatureConfig) -> FeatureSet:
        with self._lock:
            return self._sets[config]

    def __contains__(self, config: object) -> bool:
        with self._lock:
            return config in self._sets

    def __iter__(self) -> Iterator[FeatureConfig]:
        """The configurations held, least recently used first (a snapshot)."""
        with self._lock:
            return iter(list(self._sets))

    def __len__(self) -> int:
        with self._lock:
            return len(self._sets)

    def get_or_build(
        self, config: FeatureConfig, data: Dataset, post: S.Posterior, progress: ProgressFn
    ) -> FeatureSet:
        """The cached set of ``config``, built (deterministic features only) if missing."""
        with self._lock:
            fs = self._sets.get(config)
            if fs is not None:
                self._sets.move_to_end(config)
                return fs
        built = build_features(config, data, post, progress)
        with self._lock:
            fs = self._sets.setdefault(config, built)  # a concurrent build stored first wins
            self._sets.move_to_end(config)
            self._evict()
        return fs

    def _evict(self) -> None:
        """Drop the least recently used sets beyond ``size`` or ``max_bytes`` (lock held)."""
        while len(self._sets) > self.size or (
            len(self._sets) > 1 and sum(f.nbytes for f in self._sets.values()) > self.max_bytes
        ):
            self._sets.popitem(last=False)

    def trim(self) -> None:
        """Apply the memory limit after a set grew (its Monte Carlo sums were extended)."""
        with self._lock:
            self._evict()


def compute_features(
    progress: ProgressFn,
    *,
    cache: FeatureCache,
    config: FeatureConfig,
    data: Dataset,
    post: S.Posterior,
    m: int,
    depth: int,
    mode: str,
    levelwise: bool,
    c: float,
    map_channels: int,
    index: int,
) -> dict[str, Any]:
    """The job: features of ``config`` extended to ``m`` samples, then :func:`summarise`d.

    Returns the summary (accuracies, embedding, …) with the highlighted series ``index`` and
    the seconds taken."""
    start = time.perf_counter()
    fs = cache.get_or_build(config, data, post, progress)
    with fs.lock:  # one job at a time extends a feature set's running sums
        fs.extend(m, progress=lambda f: progress(0.9 * f))
    cache.trim()
    result = summarise(
        fs,
        m=m,
        depth=depth,
        mode=mode,
        levelwise=levelwise,
        c=c,
        map_channels=map_channels,
        seed=config.seed,
    )
    result["index"] = index
    result["seconds"] = time.perf_counter() - start
    return result
