r"""Fused feature kernels: augmentation + signature, and the Monte Carlo expected signature.

Augmented path (spec §2, step 3), in this channel order: [time] + channels (+ lagged channels
with lead-lag); a basepoint prepends the origin (time 0 too). Lead-lag of points
:math:`x_0..x_{G-1}` is the 2G−1 points :math:`(x_{\lceil q/2\rceil}, x_{\lfloor q/2\rfloor})`,
q = 0..2G−2; its time channel follows the lead, so the time increment stays exactly 1.

:func:`gp_signature_moments` draws :math:`X^{(j)} = m + R z^{(j)}` for a block of samples of
every series, augments and signs them in SIMD lanes (:func:`kernels.signature.core.
signature_lanes`) and adds each signature and its square to running sums, never storing M
signatures (spec §2.1) [derived]. Splitting the samples 0..M into consecutive runs gives
bit-identical sums, by construction: a sample's path and signature are the same IEEE
operations whichever lane and block it lands in (no fast-math in these cores), and the sums
are added in sample order. Raising M only extends them.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from kernels.signature.core import LANES, level_offsets, signature_lanes


@njit(cache=True, nogil=True)
def augment_index(length: int, basepoint: bool, lead_lag: bool) -> tuple[np.ndarray, np.ndarray]:
    """(lead, lag) source indices of each augmented point; −1 marks the basepoint."""
    n = 2 * length - 1 if lead_lag else length
    start = 1 if basepoint else 0
    lead = np.full(n + start, -1, dtype=np.int64)
    lag = np.full(n + start, -1, dtype=np.int64)
    for q in range(n):
        if lead_lag:
            lead[start + q] = (q + 1) // 2
            lag[start + q] = q // 2
        else:
            lead[start + q] = q
            lag[start + q] = q
    return lead, lag


@njit(cache=True, nogil=True)
def augmented_dim(channels: int, add_time: bool, lead_lag: bool) -> int:
    """Channels of the augmented path."""
    return (1 if add_time else 0) + (2 * channels if lead_lag else channels)


@njit(cache=True, nogil=True)
def _value(
    x: np.ndarray,
    grid: np.ndarray,
    lead: np.ndarray,
    lag: np.ndarray,
    q: int,
    dim: int,
    p: int,
    add_time: bool,
    channels: int,
) -> float:
    """Coordinate ``dim`` of augmented point ``q`` of lane ``p`` (x is (G, c, P))."""
    src = lead[q]
    if src < 0:
        return 0.0
    if add_time:
        if dim == 0:
            return grid[src]
        dim -= 1
    if dim >= channels:
        return x[lag[q], dim - channels, p]
    return x[src, dim, p]


@njit(cache=True, nogil=True)
def augmented_increments(
    x: np.ndarray,
    n_lanes: int,
    grid: np.ndarray,
    lead: np.ndarray,
    lag: np.ndarray,
    add_time: bool,
    inc: np.ndarray,
) -> None:
    """Segment increments (Q−1, d', P) of the augmented paths of lanes x (G, c, P)."""
    channels = x.shape[1]
    n_pts = lead.shape[0]
    d_aug = inc.shape[1]
    for q in range(n_pts - 1):
        for dim in range(d_aug):
            for p in range(n_lanes):
                inc[q, dim, p] = _value(
                    x, grid, lead, lag, q + 1, dim, p, add_time, channels
                ) - _value(x, grid, lead, lag, q, dim, p, add_time, channels)


@njit(cache=True, nogil=True)
def _augmented_block(
    paths: np.ndarray,
    b0: int,
    grid: np.ndarray,
    lead: np.ndarray,
    lag: np.ndarray,
    add_time: bool,
    d_aug: int,
    depth: int,
    off: np.ndarray,
    out: np.ndarray,
) -> None:
    """Signatures of the augmented paths b0 .. b0 + LANES − 1 into ``out``."""
    n, length, channels = paths.shape
    n_lanes = min(LANES, n - b0)
    scratch = max(1, off[depth] - off[depth - 1])
    x = np.empty((length, channels, LANES))
    inc = np.empty((lead.shape[0] - 1, d_aug, LANES))
    sig = np.empty((off[depth], LANES))
    cur = np.empty((scratch, LANES))
    nxt = np.empty((scratch, LANES))
    for p in range(n_lanes):
        for g in range(length):
            for ch in range(channels):
                x[g, ch, p] = paths[b0 + p, g, ch]
    augmented_increments(x, n_lanes, grid, lead, lag, add_time, inc)
    signature_lanes(inc, n_lanes, depth, off, sig, cur, nxt)
    for p in range(n_lanes):
        for q in range(off[depth]):
            out[b0 + p, q] = sig[q, p]


@njit(cache=True, nogil=True, parallel=True)
def augmented_signatures(
    paths: np.ndarray,
    grid: np.ndarray,
    add_time: bool,
    basepoint: bool,
    lead_lag: bool,
    depth: int,
    out: np.ndarray,
) -> None:
    """Signatures of the augmented paths (B, G, c) → ``out`` (B, n_sig), blocks over threads."""
    n, length, channels = paths.shape
    lead, lag = augment_index(length, basepoint, lead_lag)
    d_aug = augmented_dim(channels, add_time, lead_lag)
    off = level_offsets(d_aug, depth)
    for blk in prange((n + LANES - 1) // LANES):
        _augmented_block(paths, blk * LANES, grid, lead, lag, add_time, d_aug, depth, off, out)


@njit(cache=True, nogil=True)
def augmented_signatures_serial(
    paths: np.ndarray,
    grid: np.ndarray,
    add_time: bool,
    basepoint: bool,
    lead_lag: bool,
    depth: int,
    out: np.ndarray,
) -> None:
    """As :func:`augmented_signatures`, on the calling thread only."""
    n, length, channels = paths.shape
    lead, lag = augment_index(length, basepoint, lead_lag)
    d_aug = augmented_dim(channels, add_time, lead_lag)
    off = level_offsets(d_aug, depth)
    for b0 in range(0, n, LANES):
        _augmented_block(paths, b0, grid, lead, lag, add_time, d_aug, depth, off, out)


@njit(cache=True, nogil=True)
def _series_moments(
    s: int,
    means: np.ndarray,
    root: np.ndarray,
    lower: bool,
    z: np.ndarray,
    grid: np.ndarray,
    lead: np.ndarray,
    lag: np.ndarray,
    add_time: bool,
    d_aug: int,
    depth: int,
    off: np.ndarray,
    sums: np.ndarray,
    sumsq: np.ndarray,
    store: np.ndarray,
    store_from: int,
) -> None:
    channels, length = means.shape[1], means.shape[2]
    n_samples = z.shape[1]
    scratch = max(1, off[depth] - off[depth - 1])
    x = np.empty((length, channels, LANES))
    zb = np.empty((length, LANES))
    inc = np.empty((lead.shape[0] - 1, d_aug, LANES))
    sig = np.empty((off[depth], LANES))
    cur = np.empty((scratch, LANES))
    nxt = np.empty((scratch, LANES))
    n_sig = off[depth]
    for j0 in range(0, n_samples, LANES):
        n_lanes = min(LANES, n_samples - j0)
        for ch in range(channels):
            for h in range(length):
                for p in range(n_lanes):
                    zb[h, p] = z[s, j0 + p, ch, h]
            for g in range(length):
                m = means[s, ch, g]
                for p in range(n_lanes):
                    x[g, ch, p] = m
                top = g + 1 if lower else length
                for h in range(top):
                    r = root[g, h]
                    for p in range(n_lanes):
                        x[g, ch, p] += r * zb[h, p]
        augmented_increments(x, n_lanes, grid, lead, lag, add_time, inc)
        signature_lanes(inc, n_lanes, depth, off, sig, cur, nxt)
        for p in range(n_lanes):  # sample order: block splits give identical sums
            for q in range(n_sig):
                v = sig[q, p]
                sums[s, q] += v
                sumsq[s, q] += v * v
            j = store_from + j0 + p
            if j < store.shape[1]:
                for q in range(n_sig):
                    store[s, j, q] = sig[q, p]


@njit(cache=True, nogil=True, parallel=True)
def gp_signature_moments(
    means: np.ndarray,
    root: np.ndarray,
    lower: bool,
    z: np.ndarray,
    grid: np.ndarray,
    add_time: bool,
    basepoint: bool,
    lead_lag: bool,
    depth: int,
    sums: np.ndarray,
    sumsq: np.ndarray,
    store: np.ndarray,
    store_from: int,
) -> None:
    """Add Σ_j S(X^(j)) and Σ_j S(X^(j))² over the samples in ``z`` to ``sums``/``sumsq``.

    ``means`` (S, c, G), ``root`` (G, G) (lower-triangular if ``lower``), ``z`` (S, M, c, G),
    ``sums``/``sumsq`` (S, n_sig) updated in place; ``store`` (S, M_store, n_sig) receives the
    signature of sample ``store_from + j`` when that index is below M_store (pass M_store = 0
    to store nothing). prange over series.
    """
    n_series, channels, length = means.shape
    lead, lag = augment_index(length, basepoint, lead_lag)
    d_aug = augmented_dim(channels, add_time, lead_lag)
    off = level_offsets(d_aug, depth)
    for s in prange(n_series):
        _series_moments(
            s,
            means,
            root,
            lower,
            z,
            grid,
            lead,
            lag,
            add_time,
            d_aug,
            depth,
            off,
            sums,
            sumsq,
            store,
            store_from,
        )


@njit(cache=True, nogil=True)
def gp_signature_moments_serial(
    means: np.ndarray,
    root: np.ndarray,
    lower: bool,
    z: np.ndarray,
    grid: np.ndarray,
    add_time: bool,
    basepoint: bool,
    lead_lag: bool,
    depth: int,
    sums: np.ndarray,
    sumsq: np.ndarray,
    store: np.ndarray,
    store_from: int,
) -> None:
    """As :func:`gp_signature_moments`, on the calling thread only."""
    n_series, channels, length = means.shape
    lead, lag = augment_index(length, basepoint, lead_lag)
    d_aug = augmented_dim(channels, add_time, lead_lag)
    off = level_offsets(d_aug, depth)
    for s in range(n_series):
        _series_moments(
            s,
            means,
            root,
            lower,
            z,
            grid,
            lead,
            lag,
            add_time,
            d_aug,
            depth,
            off,
            sums,
            sumsq,
            store,
            store_from,
        )


def warmup() -> None:
    """Compile the fused cores (serial and threaded, with and without lead-lag) on tiny input."""
    paths = np.linspace(0.0, 1.0, 6).reshape(1, 3, 2)
    grid = np.linspace(0.0, 1.0, 3)
    means, root, z = paths[:, :, :1].transpose(0, 2, 1).copy(), np.eye(3), np.zeros((1, 1, 1, 3))
    for lead_lag in (False, True):
        n_sig = int(level_offsets(augmented_dim(2, True, lead_lag), 2)[2])
        out = np.zeros((1, n_sig))
        augmented_signatures(paths, grid, True, True, lead_lag, 2, out)
        augmented_signatures_serial(paths, grid, True, True, lead_lag, 2, out)
        n_sig = int(level_offsets(augmented_dim(1, True, lead_lag), 2)[2])
        sums, store = np.zeros((1, n_sig)), np.zeros((1, 0, n_sig))
        for core in (gp_signature_moments, gp_signature_moments_serial):
            core(means, root, True, z, grid, True, True, lead_lag, 2, sums, sums.copy(), store, 0)
