r"""Tensor-algebra helpers on flat truncated signatures (iisignature layout, no leading 1).

A depth-N signature of a d-dimensional path is the flat vector of levels 1..N, level k holding
:math:`d^k` coefficients, word :math:`(i_1..i_k)` at offset :math:`i_1 d^{k-1}+\dots+i_k`
inside its level. Here: sizes and offsets of that layout, the split into levels, Chen's product
and the level-wise action of a linear map (spec §6.2, §6.8, §6.12).
"""

from __future__ import annotations

import numpy as np

from kernels.common.validation import integer
from kernels.signature import core as _core

#: Largest depth offered and the cap on the feature length Σ_k d^k (spec §2, parameter N).
MAX_DEPTH = 5
MAX_FEATURES = 3000


def sig_length(d: int, depth: int) -> int:
    r"""Length of a flat depth-N signature of a d-dimensional path.

    Parameters
    ----------
    d : int
        Path dimension, ≥ 1.
    depth : int
        Truncation depth N, ≥ 1.

    Returns
    -------
    int
        :math:`\sum_{k=1}^{N} d^k` (spec §6.12) [literature].
    """
    d = integer("d", d, 1)
    depth = integer("depth", depth, 1)
    return sum(d**k for k in range(1, depth + 1))


def max_depth(d: int, cap: int = MAX_FEATURES, largest: int = MAX_DEPTH) -> int:
    r"""Largest depth whose feature length stays under a cap.

    Parameters
    ----------
    d : int
        Path dimension (augmented channels), ≥ 1.
    cap : int
        Largest feature length allowed (default :data:`MAX_FEATURES`).
    largest : int
        Largest depth offered (default :data:`MAX_DEPTH`).

    Returns
    -------
    int
        The largest :math:`N \le` ``largest`` with :math:`\sum_{k=1}^N d^k \le` ``cap``, at
        least 1 [derived].
    """
    n = 1
    while n < largest and sig_length(d, n + 1) <= cap:
        n += 1
    return n


def level_offsets(d: int, depth: int) -> np.ndarray:
    r"""Start of each level in the flat signature.

    Parameters
    ----------
    d : int
        Path dimension, ≥ 1.
    depth : int
        Truncation depth N, ≥ 1.

    Returns
    -------
    numpy.ndarray
        int64 array of shape (N + 1,): ``off[k]`` = :math:`\sum_{i=1}^{k} d^i` is where level
        k + 1 starts, ``off[N]`` the total length [literature] (iisignature's layout).
    """
    return _core.level_offsets(integer("d", d, 1), integer("depth", depth, 1))


def sig_levels(sig: np.ndarray, d: int, depth: int) -> list[np.ndarray]:
    r"""The flat signature split into its levels.

    Parameters
    ----------
    sig : numpy.ndarray
        Flat signature, shape (Σ_k d^k,).
    d : int
        Path dimension.
    depth : int
        Truncation depth N.

    Returns
    -------
    list of numpy.ndarray
        Level k (k = 1..N) reshaped to :math:`(d,)^{k}`, i.e. the tensor :math:`S^{(k)}`
        [literature].
    """
    off = _core.level_offsets(d, depth)
    return [np.asarray(sig[off[k] : off[k + 1]]).reshape((d,) * (k + 1)) for k in range(depth)]


def sig_combine(a: np.ndarray, b: np.ndarray, d: int, depth: int) -> np.ndarray:
    r"""Chen's product of two truncated signatures.

    Parameters
    ----------
    a, b : numpy.ndarray
        Flat signatures S(X), S(Y) of shape (Σ_k d^k,), Y starting where X ends.
    d : int
        Path dimension.
    depth : int
        Truncation depth N.

    Returns
    -------
    numpy.ndarray
        Flat S(X∗Y) of shape (Σ_k d^k,):

        .. math:: S(X*Y)^{(k)} = \sum_{i+j=k} S(X)^{(i)}\otimes S(Y)^{(j)},\qquad S^{(0)} = 1

        (Chen's identity, spec §6.2) [literature].
    """
    off = _core.level_offsets(d, depth)
    lv = lambda s, k: np.ones(1) if k == 0 else s[off[k - 1] : off[k]]  # noqa: E731
    out = []
    for k in range(1, depth + 1):
        out.append(sum(np.multiply.outer(lv(a, i), lv(b, k - i)).ravel() for i in range(k + 1)))
    return np.concatenate(out)


def linear_map_signature(sig: np.ndarray, matrix: np.ndarray, d: int, depth: int) -> np.ndarray:
    r"""Signature of a linearly mapped path, from the signature of the path.

    Parameters
    ----------
    sig : numpy.ndarray
        Flat signatures of shape (..., Σ_k d^k) (single or expected signatures).
    matrix : numpy.ndarray
        The map A, shape (k_out, d) (need not be square).
    d : int
        Path dimension of ``sig``.
    depth : int
        Truncation depth N.

    Returns
    -------
    numpy.ndarray
        Shape (..., Σ_k k_out^k), level-wise

        .. math:: S(AX)^{(k)} = A^{\otimes k}\,S(X)^{(k)},

        so also :math:`E[S(AX)]^{(k)} = A^{\otimes k}E[S(X)]^{(k)}` (spec §6.8) [derived].
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    sig = np.asarray(sig, dtype=np.float64)
    off = _core.level_offsets(d, depth)
    lead = sig.shape[:-1]
    out = []
    for k in range(1, depth + 1):
        t = sig[..., off[k - 1] : off[k]].reshape(*lead, *((d,) * k))
        for axis in range(k):
            t = np.moveaxis(
                np.tensordot(t, matrix, axes=([len(lead) + axis], [1])), -1, len(lead) + axis
            )
        out.append(t.reshape(*lead, -1))
    return np.concatenate(out, axis=-1)
