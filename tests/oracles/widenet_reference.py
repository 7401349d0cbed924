"""Plain vectorized numpy re-implementation of the Wasserstein tab's counter-based weight laws
(oracle for ``kernels.widenet.rng.fill_law``). Not used by the app.

An independent transcription: SplitMix64 words ``z = key + (e + 1)·φ`` (φ the 64-bit golden
ratio) through the standard finaliser, 52-bit uniforms, then the laws 0–3 of spec §2: Gaussian
by Box–Muller on two words per element, Rademacher from the top bit, uniform on ±√3, centred
exponential by inversion.
"""

from __future__ import annotations

import numpy as np

#: SplitMix64's increment (2⁶⁴/φ) and finaliser multipliers (Steele, Lea and Flood 2014).
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)


def fill_law(lid: int, key: int, start: int, n: int) -> np.ndarray:
    """Elements ``start … start + n − 1`` of law ``lid`` (0 Gaussian, 1 Rademacher, 2 uniform,
    3 centred exponential) under ``key``; the same numbers as the jitted fill."""
    with np.errstate(over="ignore"):

        def words(idx: np.ndarray) -> np.ndarray:
            z = np.uint64(key) + (idx.astype(np.uint64) + np.uint64(1)) * GOLDEN
            z = (z ^ (z >> np.uint64(30))) * M1
            z = (z ^ (z >> np.uint64(27))) * M2
            return z ^ (z >> np.uint64(31))

        e = np.arange(start, start + n, dtype=np.uint64)
        if lid == 1:
            return np.where(words(e) >> np.uint64(63), 1.0, -1.0)

        def units(w: np.ndarray) -> np.ndarray:
            return (w >> np.uint64(12)).astype(float) / 2.0**52

        if lid == 2:
            return np.sqrt(3.0) * (2.0 * units(words(e)) - 1.0)
        if lid == 3:
            return -np.log1p(-units(words(e))) - 1.0
        c = np.uint64(start) + np.uint64(2) * (e - np.uint64(start))
        u1 = units(words(c))
        u2 = units(words(c + np.uint64(1)))
        return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
