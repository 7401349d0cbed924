r"""Jitted cores of the truncated path signature (Chen's identity), iisignature layout.

The signature of the piecewise-linear path through points :math:`x_0, \dots, x_{L-1}` is
:math:`S = \exp(\Delta_1)\otimes\cdots\otimes\exp(\Delta_{L-1})` truncated at depth N. Each
segment updates the running signature in place, level N down to 1 (lower levels are still the
old ones when a higher one is rewritten), with the Horner form of

.. math:: S^{(k)} \leftarrow \sum_{i=0}^{k} S^{(k-i)}\otimes \Delta^{\otimes i}/i!,
          \qquad S^{(0)} = 1,

i.e. :math:`B_0 = 1`, :math:`B_j = B_{j-1}\otimes\Delta/(k-j+1) + S^{(j)}`,
:math:`S^{(k)} \mathrel{+}= B_{k-1}\otimes\Delta`. Layout (identical to ``iisignature.sig``):
levels 1..N concatenated, no leading 1, word :math:`(i_1..i_k)` at offset
:math:`i_1 d^{k-1}+\dots+i_k` inside level k. Provenance: [literature] (Chen 1954;
Chevyrev–Kormilitzin arXiv:1603.03788); the layout is iisignature's (Reizenstein–Graham 2020).

Only numpy + numba. The public, validated wrappers live in :mod:`kernels.signature`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def level_offsets(d: int, depth: int) -> np.ndarray:
    """``off[k]`` = start of level k+1 in the flat signature; ``off[depth]`` = total length."""
    off = np.zeros(depth + 1, dtype=np.int64)
    size = 1
    for k in range(depth):
        size *= d
        off[k + 1] = off[k] + size
    return off


@njit(cache=True, nogil=True)
def _segment_update(
    sig: np.ndarray,
    delta: np.ndarray,
    depth: int,
    off: np.ndarray,
    buf_a: np.ndarray,
    buf_b: np.ndarray,
) -> None:
    """``sig <- sig ⊗ exp(delta)`` truncated at ``depth`` (in place, levels N..1)."""
    d = delta.shape[0]
    for k in range(depth, 0, -1):
        # B_1 = delta / k + S^(1)
        inv = 1.0 / k
        if k == 1:
            for i in range(d):
                sig[i] += delta[i]
            continue
        cur = buf_a
        nxt = buf_b
        for i in range(d):
            cur[i] = delta[i] * inv + sig[i]
        size = d
        for j in range(2, k):
            # B_j = B_{j-1} ⊗ delta / (k - j + 1) + S^(j)
            scale = 1.0 / (k - j + 1)
            base = off[j - 1]
            for a in range(size):
                ca = cur[a] * scale
                row = a * d
                for i in range(d):
                    nxt[row + i] = ca * delta[i] + sig[base + row + i]
            size *= d
            tmp = cur
            cur = nxt
            nxt = tmp
        # S^(k) += B_{k-1} ⊗ delta
        base = off[k - 1]
        for a in range(size):
            ca = cur[a]
            row = base + a * d
            for i in range(d):
                sig[row + i] += ca * delta[i]


@njit(cache=True, nogil=True)
def _first_segment(sig: np.ndarray, delta: np.ndarray, depth: int, off: np.ndarray) -> None:
    """``sig <- exp(delta)`` truncated: level k = delta^{⊗k}/k!."""
    d = delta.shape[0]
    for i in range(d):
        sig[i] = delta[i]
    size = d
    for k in range(2, depth + 1):
        prev = off[k - 2]
        base = off[k - 1]
        inv = 1.0 / k
        for a in range(size):
            ca = sig[prev + a] * inv
            row = base + a * d
            for i in range(d):
                sig[row + i] = ca * delta[i]
        size *= d


@njit(cache=True, nogil=True)
def signature_into(
    path: np.ndarray,
    depth: int,
    out: np.ndarray,
    delta: np.ndarray,
    buf_a: np.ndarray,
    buf_b: np.ndarray,
    off: np.ndarray,
) -> None:
    """Signature of ``path`` (L, d) into ``out`` (length off[depth]); scratch buffers given."""
    length, d = path.shape
    if length < 2:
        for i in range(out.shape[0]):
            out[i] = 0.0
        return
    for i in range(d):
        delta[i] = path[1, i] - path[0, i]
    _first_segment(out, delta, depth, off)
    for t in range(2, length):
        for i in range(d):
            delta[i] = path[t, i] - path[t - 1, i]
        _segment_update(out, delta, depth, off, buf_a, buf_b)


@njit(cache=True, nogil=True)
def signature_single(path: np.ndarray, depth: int, out: np.ndarray) -> None:
    """Signature of one path (L, d) into ``out``."""
    d = path.shape[1]
    off = level_offsets(d, depth)
    scratch = max(1, off[depth] - off[depth - 1])
    signature_into(path, depth, out, np.empty(d), np.empty(scratch), np.empty(scratch), off)


#: Paths processed side by side in one SIMD "lane" block (the innermost, contiguous loop).
LANES = 32


@njit(cache=True, nogil=True)
def signature_lanes(
    inc: np.ndarray,
    n_lanes: int,
    depth: int,
    off: np.ndarray,
    sig: np.ndarray,
    cur: np.ndarray,
    nxt: np.ndarray,
) -> None:
    """Signatures of ``n_lanes`` paths side by side (same number of segments).

    ``inc`` (T, d, P): segment increments, lane p = path p; ``sig`` (n_sig, P) receives the
    signatures; ``cur``/``nxt`` (d^(depth-1), P) are scratch. The innermost loop runs over
    lanes, so every update is a contiguous, vectorisable loop whatever d is. No reductions
    across lanes, and no fast-math flags: without ``reassoc``/``contract`` the compiler may
    neither fuse a multiply-add nor regroup a product, so a lane computes the same IEEE
    operations in the same order whether it lands in the SIMD body or the scalar remainder,
    in a block of 32 lanes or of 2, on any CPU. A path's signature therefore does not depend
    on the block it is computed in, which the bit-identical extension of the Monte Carlo sums
    relies on (with ``fastmath={"contract", "reassoc"}`` an AVX-512 build differed by 1 ulp
    between a vectorised lane and a remainder lane; removing it cost no measurable time).
    """
    n_seg, d, _ = inc.shape
    for q in range(off[depth]):
        for p in range(n_lanes):
            sig[q, p] = 0.0
    for t in range(n_seg):
        dl = inc[t]
        for k in range(depth, 0, -1):
            if k == 1:
                for i in range(d):
                    for p in range(n_lanes):
                        sig[i, p] += dl[i, p]
                continue
            inv = 1.0 / k
            c = cur
            n = nxt
            for i in range(d):  # B_1 = delta / k + S^(1)
                for p in range(n_lanes):
                    c[i, p] = dl[i, p] * inv + sig[i, p]
            size = d
            for j in range(2, k):  # B_j = B_{j-1} ⊗ delta / (k - j + 1) + S^(j)
                scale = 1.0 / (k - j + 1)
                base = off[j - 1]
                for a in range(size):
                    for i in range(d):
                        r = a * d + i
                        for p in range(n_lanes):
                            n[r, p] = c[a, p] * scale * dl[i, p] + sig[base + r, p]
                size *= d
                c, n = n, c
            base = off[k - 1]  # S^(k) += B_{k-1} ⊗ delta
            for a in range(size):
                for i in range(d):
                    r = base + a * d + i
                    for p in range(n_lanes):
                        sig[r, p] += c[a, p] * dl[i, p]


@njit(cache=True, nogil=True)
def _batch_block(
    paths: np.ndarray,
    b0: int,
    depth: int,
    off: np.ndarray,
    out: np.ndarray,
    inc: np.ndarray,
    sig: np.ndarray,
    cur: np.ndarray,
    nxt: np.ndarray,
) -> None:
    n_lanes = min(inc.shape[2], paths.shape[0] - b0)
    length, d = paths.shape[1], paths.shape[2]
    for p in range(n_lanes):
        for t in range(length - 1):
            for i in range(d):
                inc[t, i, p] = paths[b0 + p, t + 1, i] - paths[b0 + p, t, i]
    signature_lanes(inc, n_lanes, depth, off, sig, cur, nxt)
    for p in range(n_lanes):
        for q in range(off[depth]):
            out[b0 + p, q] = sig[q, p]


@njit(cache=True, nogil=True)
def signature_batch_serial(paths: np.ndarray, depth: int, out: np.ndarray) -> None:
    """Signatures of ``paths`` (B, L ≥ 2, d) into ``out`` (B, n_sig), one thread."""
    length, d = paths.shape[1], paths.shape[2]
    off = level_offsets(d, depth)
    scratch = max(1, off[depth] - off[depth - 1])
    inc = np.empty((length - 1, d, LANES))
    sig = np.empty((off[depth], LANES))
    cur = np.empty((scratch, LANES))
    nxt = np.empty((scratch, LANES))
    for b0 in range(0, paths.shape[0], LANES):
        _batch_block(paths, b0, depth, off, out, inc, sig, cur, nxt)


@njit(cache=True, nogil=True, parallel=True)
def signature_batch_parallel(paths: np.ndarray, depth: int, out: np.ndarray) -> None:
    """As :func:`signature_batch_serial`, blocks of :data:`LANES` paths spread over threads."""
    length, d = paths.shape[1], paths.shape[2]
    off = level_offsets(d, depth)
    scratch = max(1, off[depth] - off[depth - 1])
    n_blocks = (paths.shape[0] + LANES - 1) // LANES
    for blk in prange(n_blocks):
        inc = np.empty((length - 1, d, LANES))
        sig = np.empty((off[depth], LANES))
        cur = np.empty((scratch, LANES))
        nxt = np.empty((scratch, LANES))
        _batch_block(paths, blk * LANES, depth, off, out, inc, sig, cur, nxt)


def warmup() -> None:
    """Compile the single-path and batch cores (serial and threaded) on a tiny path."""
    path = np.linspace(0.0, 1.0, 6).reshape(1, 3, 2)
    off = level_offsets(2, 3)
    signature_single(path[0], 3, np.empty(off[3]))
    for core in (signature_batch_serial, signature_batch_parallel):
        core(path, 3, np.empty((1, off[3])))
