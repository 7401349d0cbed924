"""Seeds of a sweep's runs: one per (seed, cell, replicate), independent of how runs are
scheduled, so the numbers are the same in-process, on one worker or on many (issue 15, item 5).
"""

from __future__ import annotations

import numpy as np

__all__ = ["replicate_seed"]


def replicate_seed(seed: int, cell: int, replicate: int) -> int:
    """The integer seed of replicate ``replicate`` of cell ``cell`` in a sweep seeded ``seed``.

    ``SeedSequence(seed, spawn_key=(cell, replicate))`` is the child numpy's own ``spawn`` would
    give at that position, so the streams are statistically independent across cells and
    replicates [literature: numpy SeedSequence]; the first 31 bits of its state are the seed
    (kernels take a non-negative ``int32``).
    """
    if min(seed, cell, replicate) < 0:
        raise ValueError(f"seed, cell and replicate must be >= 0; got {seed}, {cell}, {replicate}")
    state = np.random.SeedSequence(seed, spawn_key=(cell, replicate)).generate_state(1)
    return int(state[0] & 0x7FFF_FFFF)
