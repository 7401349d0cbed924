r"""Counter-based random weights for the network sampler: SplitMix64 streams, vectorizable laws.

Drawing weights through a ``Generator`` inside numba costs ≈ 15 ns per weight (spec §8); most of
it is the sequential call. Here the ``e``-th 64-bit word of a network's stream is a pure function
of the network key and the counter,

.. math:: x_e = \mathrm{mix}(\mathrm{key} + (e+1)\gamma),\qquad \gamma = \mathtt{0x9E37\ldots7C15},

with SplitMix64's finaliser ``mix`` (Steele, Lea, Flood 2014; passes BigCrush) [literature]. A
row of weights is then a loop without dependencies that LLVM vectorizes, and the result cannot
depend on chunking or threads. Laws from words (``u = (x >> 12)·2⁻⁵² ∈ [0, 1)``):

* Rademacher: the top bit; uniform: :math:`\sqrt3(2u-1)`; centred exponential:
  :math:`-\log(1-u) - 1`;
* Gaussian: :math:`\sqrt{-2\log(1-u_{s+2e})}\cos 2\pi u_{s+2e+1}` for a fill starting at word
  s (two words per element: :func:`n_words`);
* Student t: the Gaussian above divided by :math:`\sqrt{\chi^2_\nu/(\nu-2)}`, with the
  :math:`\chi^2` from the chunk's ``Generator`` (rejection sampling does not vectorize).

``log`` and ``cos`` are :mod:`kernels.common.normals`' branch-free versions (a few ulp).
Provenance: [derived].
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.common.normals import FASTMATH_CONTRACT, fast_log, sin_cos_2pi

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S12 = np.uint64(12)
_EXP_ONE = np.uint64(0x3FF0000000000000)
_S63 = np.uint64(63)
_ONE = np.uint64(1)
_SQRT3 = math.sqrt(3.0)


@njit(cache=True, nogil=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser (a bijection of 64-bit words)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True, inline="always")
def word(key: np.uint64, e: np.uint64) -> np.uint64:
    """The e-th word of the stream ``key`` (e = 0, 1, …)."""
    return mix64(key + (e + _ONE) * GOLDEN)


@njit(cache=True, nogil=True, inline="always")
def unit(x: np.uint64) -> float:
    """A word as a uniform in [0, 1) with 52 bits: the top 52 bits as the mantissa of a double
    in [1, 2), minus 1 (bit casts vectorize; AVX2 has no 64-bit integer → double conversion)."""
    return np.uint64((x >> _S12) | _EXP_ONE).view(np.float64) - 1.0


@njit(cache=True, nogil=True, fastmath=FASTMATH_CONTRACT, error_model="numpy")
def fill_law(
    lid: int,
    key: np.uint64,
    start: np.uint64,
    out: np.ndarray,
    t_dof: float,
    rng: np.random.Generator,
) -> None:
    """out[e] = element ``start + e`` of the stream ``key`` under law ``lid`` (module doc)."""
    n = out.size
    if lid == 1:  # rademacher
        for e in range(n):
            out[e] = 1.0 if (word(key, start + np.uint64(e)) >> _S63) else -1.0
    elif lid == 2:  # uniform on [-√3, √3]
        for e in range(n):
            out[e] = _SQRT3 * (2.0 * unit(word(key, start + np.uint64(e))) - 1.0)
    elif lid == 3:  # centred exponential
        for e in range(n):
            out[e] = -fast_log(1.0 - unit(word(key, start + np.uint64(e)))) - 1.0
    else:  # gaussian (0) and the normal numerator of student_t (4): two words per element
        for e in range(n):
            c = start + np.uint64(2 * e)
            rad = math.sqrt(-2.0 * fast_log(1.0 - unit(word(key, c))))
            out[e] = rad * sin_cos_2pi(unit(word(key, c + _ONE)))[1]
        if lid == 4:
            for e in range(n):
                chi2 = 2.0 * rng.standard_gamma(0.5 * t_dof)
                out[e] *= math.sqrt((t_dof - 2.0) / chi2)


@njit(cache=True, nogil=True, inline="always")
def n_words(lid: int, n: int) -> np.uint64:
    """Words consumed by ``n`` elements of law ``lid`` (two per Gaussian / Student-t element)."""
    return np.uint64(2 * n) if (lid == 0 or lid == 4) else np.uint64(n)


@njit(cache=True, nogil=True)
def network_key(root: np.uint64, index: int) -> np.uint64:
    """Key of network ``index`` of a call seeded with ``root``."""
    return mix64(root ^ mix64(np.uint64(index) * GOLDEN + _ONE))


def warmup() -> None:
    """Compile (or load from the numba cache) the fills on tiny inputs."""
    out = np.empty(3)
    rng = np.random.default_rng(0)
    for lid in range(5):
        fill_law(lid, np.uint64(1), np.uint64(0), out, 6.0, rng)
    network_key(np.uint64(1), 0)
