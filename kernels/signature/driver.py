r"""Validated entry points of the signature kernels: signatures, augmentation, the fused MC pass.

Each wrapper checks its inputs (a clear ``ValueError`` naming the parameter), allocates the
outputs and calls the jitted cores of :mod:`kernels.signature.core` (plain paths) and
:mod:`kernels.signature.features` (augmented paths, GP samples). The threaded cores run when
Numba's threading layer may be entered from several threads at once, the serial ones
otherwise; the numbers are the same either way (every lane of a block does the same IEEE
operations in the same order, whichever block or thread it sits in).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from kernels.common.progress import Cancelled, ProgressFn, throttled_progress
from kernels.common.validation import integer
from kernels.signature import core as _core
from kernels.signature import features as _feat
from kernels.signature.gp import Posterior
from kernels.signature.tensor import sig_length


class Augmentation(NamedTuple):
    """How a path is augmented before it is signed (spec §2, step 3)."""

    #: Prepend the time channel.
    add_time: bool = True
    #: Start the path at the origin (time 0 too).
    basepoint: bool = True
    #: Lead-lag: every channel twice, the lag one point behind.
    lead_lag: bool = False

    @classmethod
    def of(cls, add_time: object, basepoint: object, lead_lag: object) -> Augmentation:
        return cls(bool(add_time), bool(basepoint), bool(lead_lag))

    def dim(self, channels: int) -> int:
        """Channels of the augmented path of a ``channels``-dimensional one."""
        return int(_feat.augmented_dim(channels, self.add_time, self.lead_lag))


def threads_available() -> bool:
    """True when Numba's threading layer may be entered from several threads at once.

    The ``tbb`` and ``omp`` layers are thread safe; ``workqueue`` aborts the process on
    concurrent use, which two sessions' background jobs would trigger, so the wrappers then run
    the serial cores (identical numbers, one core).
    """
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel region has run yet: run a tiny one to find out
        _core.signature_batch_parallel(np.zeros((1, 2, 1)), 1, np.zeros((1, 1)))
        layer = numba.threading_layer()
    return layer != "workqueue"


def path_arg(path: object, name: str = "path") -> np.ndarray:
    """``path`` as a finite, C-contiguous float64 array of shape (length ≥ 1, d ≥ 1)."""
    arr = np.asarray(path, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (length, d) with length, d >= 1; got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return np.ascontiguousarray(arr)


def depth_arg(depth: object) -> int:
    """The truncation depth, an int in [1, 12]."""
    return integer("depth", depth, 1, 12)


def signature(path: object, depth: int) -> np.ndarray:
    r"""Truncated signature of a piecewise-linear path.

    Parameters
    ----------
    path : array_like
        Points :math:`x_0..x_{L-1}` of the path, shape (L, d), finite.
    depth : int
        Truncation depth N, 1..12.

    Returns
    -------
    numpy.ndarray
        Flat float64 vector of shape (Σ_{k=1}^N d^k,) in iisignature's ``sig(path, N)``
        layout (levels 1..N, no leading 1, word :math:`(i_1..i_k)` at offset
        :math:`i_1 d^{k-1}+\dots+i_k` inside level k), by Chen's identity per segment

        .. math:: S(x) = \exp(\Delta_1)\otimes\cdots\otimes\exp(\Delta_{L-1}),
                  \qquad \Delta_t = x_t - x_{t-1}

        [literature]. A single point has the trivial signature (all zeros).
    """
    arr = path_arg(path)
    depth = depth_arg(depth)
    out = np.empty(sig_length(arr.shape[1], depth))
    _core.signature_single(arr, depth, out)
    return out


def signature_batch(paths: object, depth: int, parallel: bool = True) -> np.ndarray:
    r"""Truncated signatures of a batch of piecewise-linear paths.

    Parameters
    ----------
    paths : array_like
        Shape (B, L, d), finite; all paths have the same number of points.
    depth : int
        Truncation depth N, 1..12.
    parallel : bool
        Spread blocks of 32 paths over Numba's threads (identical numbers either way).

    Returns
    -------
    numpy.ndarray
        Shape (B, Σ_{k=1}^N d^k), row b = :func:`signature` of path b,
        :math:`S(x^{(b)}) = \bigotimes_t \exp(\Delta^{(b)}_t)` [literature].
    """
    arr = np.asarray(paths, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] < 1:
        raise ValueError(f"paths must have shape (batch, length, d); got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("paths must be finite")
    depth = depth_arg(depth)
    out = np.zeros((arr.shape[0], sig_length(arr.shape[2], depth)))
    if arr.shape[0] == 0 or arr.shape[1] < 2:
        return out
    arr = np.ascontiguousarray(arr)
    threaded = parallel and threads_available()
    (_core.signature_batch_parallel if threaded else _core.signature_batch_serial)(arr, depth, out)
    return out


def sums_to_mean_stderr(
    sums: np.ndarray, sumsq: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and standard error of the mean from running sums.

    Parameters
    ----------
    sums, sumsq : numpy.ndarray
        :math:`\sum_j x_j` and :math:`\sum_j x_j^2` over ``n`` samples, any common shape.
    n : int
        Number of samples, ≥ 1.

    Returns
    -------
    mean, stderr : numpy.ndarray
        Same shape as ``sums``: :math:`\bar x = \frac1n\sum_j x_j` and
        :math:`\sqrt{s^2/n}` with :math:`s^2 = (\sum_j x_j^2 - n\bar x^2)/(n-1)` (clipped at
        0; NaN for a single sample) [literature].
    """
    mean = sums / n
    if n < 2:
        return mean, np.full_like(mean, np.nan)
    var = np.clip((sumsq - n * mean * mean) / (n - 1), 0.0, None)
    return mean, np.sqrt(var / n)


def expected_signature(paths: object, depth: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Monte Carlo expected signature of sampled paths.

    Parameters
    ----------
    paths : array_like
        M sampled paths, shape (M, L, d), M ≥ 1.
    depth : int
        Truncation depth N, 1..12.

    Returns
    -------
    mean, stderr : numpy.ndarray
        Each of shape (Σ_{k=1}^N d^k,):

        .. math:: \hat\Phi = \frac1M\sum_{j=1}^M S^{\le N}(X^{(j)}),

        and the sample standard deviation / √M per coordinate (NaN if M = 1) (spec §2, step 4)
        [paper].
    """
    sigs = signature_batch(paths, depth)
    if sigs.shape[0] == 0:
        raise ValueError("paths must hold at least one sampled path")
    return sums_to_mean_stderr(sigs.sum(axis=0), (sigs * sigs).sum(axis=0), sigs.shape[0])


def augmented_dim(channels: int, add_time: bool = True, lead_lag: bool = False) -> int:
    r"""Channels of an augmented path.

    Parameters
    ----------
    channels : int
        Channels c of the series, ≥ 1.
    add_time : bool
        A time channel is added.
    lead_lag : bool
        Lead-lag doubles the channels.

    Returns
    -------
    int
        :math:`d' = [\text{time}] + c\,(\times 2 \text{ with lead-lag})` [literature].
    """
    return Augmentation.of(add_time, True, lead_lag).dim(integer("channels", channels, 1))


def augment(
    path: object,
    grid: np.ndarray | None = None,
    *,
    add_time: bool = True,
    basepoint: bool = True,
    lead_lag: bool = False,
) -> np.ndarray:
    r"""The augmented path of a series (spec §2, step 3).

    Parameters
    ----------
    path : array_like
        Points of the series, shape (G, c), finite.
    grid : numpy.ndarray, optional
        Times of the points, shape (G,) (default ``linspace(0, 1, G)``).
    add_time, basepoint, lead_lag : bool
        The augmentations (see :class:`Augmentation`).

    Returns
    -------
    numpy.ndarray
        Shape (Q, d'), channels [time] + channels (+ lagged channels), Q = G (2G − 1 with
        lead-lag) plus one basepoint at the origin. Lead-lag point q is
        :math:`(t_{\lceil q/2\rceil}, x_{\lceil q/2\rceil}, x_{\lfloor q/2\rfloor})`
        (Kidger et al.) [literature].
    """
    arr = path_arg(path)
    grid = np.linspace(0.0, 1.0, arr.shape[0]) if grid is None else np.asarray(grid, float)
    lead, lag = _feat.augment_index(arr.shape[0], bool(basepoint), bool(lead_lag))
    cols = []
    src = np.maximum(lead, 0)
    base = lead < 0
    if add_time:
        cols.append(np.where(base, 0.0, grid[src])[:, None])
    cols.append(np.where(base[:, None], 0.0, arr[src]))
    if lead_lag:
        cols.append(np.where(base[:, None], 0.0, arr[np.maximum(lag, 0)]))
    return np.concatenate(cols, axis=1)


def augmented_signature_batch(
    paths: object,
    depth: int,
    grid: np.ndarray | None = None,
    *,
    add_time: bool = True,
    basepoint: bool = True,
    lead_lag: bool = False,
) -> np.ndarray:
    r"""Signatures of the augmented paths of a batch of series, fused (no augmented copies).

    Parameters
    ----------
    paths : array_like
        Series of shape (B, G, c), finite.
    depth : int
        Truncation depth N, 1..12.
    grid : numpy.ndarray, optional
        Times of the points, shape (G,) (default ``linspace(0, 1, G)``).
    add_time, basepoint, lead_lag : bool
        The augmentations (see :class:`Augmentation`).

    Returns
    -------
    numpy.ndarray
        Shape (B, Σ_{k=1}^N d'^k): row b = :math:`S^{\le N}(\mathrm{aug}(x^{(b)}))`, equal to
        :func:`signature` of :func:`augment` [literature].
    """
    arr = np.ascontiguousarray(np.asarray(paths, dtype=np.float64))
    if arr.ndim != 3 or arr.shape[1] < 1 or not np.all(np.isfinite(arr)):
        raise ValueError(f"paths must be a finite array (batch, length, c); got {arr.shape}")
    depth = depth_arg(depth)
    grid = np.linspace(0.0, 1.0, arr.shape[1]) if grid is None else np.asarray(grid, float)
    aug = Augmentation.of(add_time, basepoint, lead_lag)
    out = np.zeros((arr.shape[0], sig_length(aug.dim(arr.shape[2]), depth)))
    if arr.shape[0]:
        core = (
            _feat.augmented_signatures if threads_available() else _feat.augmented_signatures_serial
        )
        core(arr, np.ascontiguousarray(grid), *aug, depth, out)
    return out


def gp_sample_paths(post: Posterior, means: np.ndarray, z: np.ndarray) -> np.ndarray:
    r"""Sample paths of one series through its GP posterior.

    Parameters
    ----------
    post : Posterior
        The posterior on the grid of G points (:func:`kernels.signature.gp_posterior`).
    means : numpy.ndarray
        Posterior means m of the c channels, shape (c, G).
    z : numpy.ndarray
        Standard normal keys, shape (M, c, G).

    Returns
    -------
    numpy.ndarray
        Shape (M, c, G): :math:`X^{(j)} = m + R z^{(j)}`, :math:`RR^\top = C` (spec §2, step 2)
        [paper].
    """
    return means[None] + np.einsum("gh,mch->mcg", post.root, z)


def gp_signature_sums(
    means: np.ndarray,
    post: Posterior,
    z: np.ndarray,
    depth: int,
    *,
    add_time: bool = True,
    basepoint: bool = True,
    lead_lag: bool = False,
    sums: np.ndarray | None = None,
    sumsq: np.ndarray | None = None,
    store: np.ndarray | None = None,
    store_from: int = 0,
    progress: ProgressFn | None = None,
    chunk: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Running Monte Carlo sums of the signatures of GP sample paths, fused.

    Parameters
    ----------
    means : numpy.ndarray
        Posterior means of S series, shape (S, c, G).
    post : Posterior
        The posterior on the grid of G points.
    z : numpy.ndarray
        Standard normal keys of M samples per series, shape (S, M, c, G).
    depth : int
        Truncation depth N, 1..12.
    add_time, basepoint, lead_lag : bool
        The augmentations (see :class:`Augmentation`).
    sums, sumsq : numpy.ndarray, optional
        Running sums of shape (S, n_sig), n_sig = Σ_k d'^k, updated in place (new zeros if
        None).
    store : numpy.ndarray, optional
        Shape (S, M_store, n_sig): receives the signature of sample ``store_from + j`` when
        that index is below M_store.
    store_from : int
        Index of the first sample of ``z`` in the whole sample sequence.
    progress : callable, optional
        Called with the fraction done per chunk of series; a False answer raises
        :class:`~kernels.common.progress.Cancelled` (the sums are then partially updated).
    chunk : int
        Series per progress report.

    Returns
    -------
    sums, sumsq : numpy.ndarray
        Shape (S, n_sig): the inputs plus

        .. math:: \sum_j S(X^{(j)}),\quad \sum_j S(X^{(j)})^{2},
                  \qquad X^{(j)} = m + R z^{(j)},

        added in sample order, so splitting the samples 0..M into consecutive runs gives
        bit-identical sums (spec §2.1) [derived].
    """
    means = np.ascontiguousarray(means, dtype=np.float64)
    z = np.ascontiguousarray(z, dtype=np.float64)
    if (
        means.ndim != 3
        or z.ndim != 4
        or z.shape[0] != means.shape[0]
        or z.shape[2:] != (means.shape[1], post.grid.shape[0])
        or means.shape[2] != post.grid.shape[0]
    ):
        raise ValueError(
            f"means (S, c, G) and z (S, M, c, G) must match the grid of {post.grid.shape[0]} "
            f"points; got {means.shape} and {z.shape}"
        )
    depth = depth_arg(depth)
    aug = Augmentation.of(add_time, basepoint, lead_lag)
    n_sig = sig_length(aug.dim(means.shape[1]), depth)
    shape = (means.shape[0], n_sig)
    sums = np.zeros(shape) if sums is None else sums
    sumsq = np.zeros(shape) if sumsq is None else sumsq
    store = np.zeros((means.shape[0], 0, n_sig)) if store is None else store
    for name, arr in (("sums", sums), ("sumsq", sumsq), ("store", store)):
        if arr.shape[0] != shape[0] or arr.shape[-1] != n_sig:
            raise ValueError(
                f"{name} must have {shape[0]} rows of {n_sig} features; got {arr.shape}"
            )
    lower = post.method == "cholesky"
    core = _feat.gp_signature_moments if threads_available() else _feat.gp_signature_moments_serial
    report = throttled_progress(progress)
    for s0 in range(0, means.shape[0], chunk):
        s1 = min(s0 + chunk, means.shape[0])
        core(
            means[s0:s1],
            post.root,
            lower,
            z[s0:s1],
            post.grid,
            *aug,
            depth,
            sums[s0:s1],
            sumsq[s0:s1],
            store[s0:s1],
            int(store_from),
        )
        if not report(s1 / means.shape[0], s1 == means.shape[0]):
            raise Cancelled(steps_done=s1)
    return sums, sumsq
