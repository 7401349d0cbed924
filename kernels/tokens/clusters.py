r"""Clusters of a token configuration: connected groups and synchronized pairs (spec §4–§5).

Two tokens are linked when their overlap :math:`\langle x_i,x_j\rangle` exceeds a threshold;
:func:`cluster_count` counts the connected groups of that graph (union–find) and
:func:`synchronized_pair_fraction` the fraction of linked pairs, the statistic of GLPR
(arXiv:2312.10794) [literature]. Both reduce tokens of shape ``(..., N, d)`` over the last two
axes, vectorized over the leading ones, in one jitted pass over the pairs
(:func:`cluster_stats`). Agazzi, Bruno, Mosig García, Saviozzi, Romito, arXiv:2604.26898.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.common.validation import real
from kernels.tokens.diagnostics import frames_view, per_frame

__all__ = ["cluster_count", "cluster_stats", "synchronized_pair_fraction", "warmup"]


@njit(cache=True, nogil=True, error_model="numpy")
def _cluster_core(x, threshold, out_clusters, out_frac):
    nf, n, d = x.shape
    parent = np.empty(n, dtype=np.int64)
    for f in range(nf):
        xf = x[f]
        for i in range(n):
            parent[i] = i
        close = 0
        for i in range(n):
            for j in range(i + 1, n):
                gij = 0.0
                for k in range(d):
                    gij += xf[i, k] * xf[j, k]
                if gij > threshold[1]:
                    close += 1
                if gij > threshold[0]:
                    a = i
                    while parent[a] != a:
                        parent[a] = parent[parent[a]]
                        a = parent[a]
                    b = j
                    while parent[b] != b:
                        parent[b] = parent[parent[b]]
                        b = parent[b]
                    if a != b:
                        parent[max(a, b)] = min(a, b)
        roots = 0
        for i in range(n):
            if parent[i] == i:
                roots += 1
        out_clusters[f] = roots
        out_frac[f] = close / (n * (n - 1) / 2) if n > 1 else 1.0


def _cluster_stats(x: object, connect: float, close: float) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: groups linked by ``<x_i, x_j> > connect``; fraction of pairs above ``close``."""
    xf, lead = frames_view(x)
    nc = np.empty(xf.shape[0], dtype=np.int64)
    fr = np.empty(xf.shape[0])
    _cluster_core(xf, np.array([connect, close]), nc, fr)
    return per_frame(nc, lead), per_frame(fr, lead)


def cluster_stats(
    x: np.ndarray, threshold: float = 0.9999, pair_threshold: float = 0.999
) -> tuple[np.ndarray, np.ndarray]:
    r""":func:`cluster_count` and :func:`synchronized_pair_fraction` in one pass over the pairs.

    Clusters are the connected groups of the graph with an edge where
    :math:`\langle x_i,x_j\rangle > \text{threshold}`; the fraction counts the pairs
    :math:`i<j` with :math:`\langle x_i,x_j\rangle > \text{pair\_threshold}`. Provenance
    [literature] (GLPR arXiv:2312.10794); paper: arXiv:2604.26898.

    Parameters
    ----------
    x : ndarray, shape (..., N, d)
        Tokens.
    threshold : float
        Overlap in [-1, 1] above which two tokens are linked (default 0.9999).
    pair_threshold : float
        Overlap in [-1, 1] above which a pair counts as synchronized (default 0.999).

    Returns
    -------
    clusters : ndarray of int, shape (...)
    fraction : ndarray, shape (...)
        In [0, 1]; 1.0 when N = 1.
    """
    return _cluster_stats(
        x,
        real("threshold", threshold, -1.0, 1.0),
        real("pair_threshold", pair_threshold, -1.0, 1.0),
    )


def cluster_count(x: np.ndarray, threshold: float = 0.9999) -> np.ndarray:
    r"""Number of connected groups of the graph :math:`\langle x_i,x_j\rangle >` threshold.

    Antipodal clusters count separately (odd activations leave two). Provenance [literature]
    (GLPR arXiv:2312.10794); paper: arXiv:2604.26898.

    Parameters
    ----------
    x : ndarray, shape (..., N, d)
        Tokens.
    threshold : float
        Overlap in [-1, 1] above which two tokens are linked.

    Returns
    -------
    ndarray of int, shape (...)
    """
    return _cluster_stats(x, real("threshold", threshold, -1.0, 1.0), 2.0)[0]


def synchronized_pair_fraction(x: np.ndarray, threshold: float = 0.999) -> np.ndarray:
    r"""Fraction of pairs with :math:`\langle x_i,x_j\rangle >` threshold (GLPR statistic).

    .. math:: \frac{2}{N(N-1)}\#\{i<j : \langle x_i,x_j\rangle > \text{threshold}\}

    Provenance [literature] (GLPR arXiv:2312.10794); paper: arXiv:2604.26898.

    Parameters
    ----------
    x : ndarray, shape (..., N, d)
        Tokens.
    threshold : float
        Overlap in [-1, 1].

    Returns
    -------
    ndarray, shape (...)
        In [0, 1]; 1.0 when N = 1.
    """
    return _cluster_stats(x, 2.0, real("threshold", threshold, -1.0, 1.0))[1]


def warmup() -> None:
    """Compile (or load from the numba cache) the union–find core on tiny inputs."""
    cluster_count(np.eye(3)[None])
