r"""Expected signature of GP-augmented time series: public, validated API (spec ``signature.md``).

M. Romito, F. Triggiano, *Gaussian processes based data augmentation and expected signature for
time series classification*, arXiv:2310.10836. A series becomes a random path through its GP
posterior; the feature is the Monte Carlo expected truncated signature

.. math:: \hat\Phi(y) = \frac1M\sum_{j=1}^M S^{\le N}(X^{(j)}),\qquad X^{(j)} = m + Rz^{(j)}.

Binding API: :func:`signature` (iisignature's flat layout), :func:`signature_batch`,
:func:`expected_signature` → (mean, stderr). Around them: the GP posterior
(:func:`gp_posterior`), seeded sample keys (:func:`sample_normals`), augmentation
(:func:`augment`, :func:`augmented_signature_batch`), the fused MC accumulation
(:func:`gp_signature_sums`), tensor-algebra helpers (:func:`sig_levels`, :func:`sig_combine`,
:func:`linear_map_signature`), Brownian and OU data. Provenance tags in the docstrings.
"""

from __future__ import annotations

import numba
import numpy as np

from kernels.common.progress import Cancelled, ProgressFn, throttled_progress
from kernels.common.validation import choice, integer, real, resolve_rng
from kernels.signature import core as _core
from kernels.signature import data as _data
from kernels.signature import features as _feat
from kernels.signature import gp as _gp

__all__ = [
    "KERNELS",
    "Posterior",
    "augment",
    "augmented_signature_batch",
    "brownian_expected_signature",
    "brownian_expected_signature_exact",
    "expected_signature",
    "gp_posterior",
    "gp_sample_paths",
    "gp_signature_sums",
    "linear_map_signature",
    "log_marginal_likelihood",
    "max_depth",
    "sample_normals",
    "sig_combine",
    "sig_length",
    "sig_levels",
    "signature",
    "signature_batch",
    "sums_to_mean_stderr",
    "synthetic_ou",
    "warmup",
]

KERNELS = _gp.KERNELS
Posterior = _gp.Posterior
sample_normals = _gp.sample_normals
brownian_expected_signature_exact = _data.brownian_expected_signature_exact
#: Largest depth offered and the cap on the feature length Σ_k d^k (spec §2, parameter N).
MAX_DEPTH = 5
MAX_FEATURES = 3000


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


def sig_length(d: int, depth: int) -> int:
    """Σ_{k=1}^N d^k, the length of a depth-N signature of a d-dimensional path (spec §6.12)."""
    d = integer("d", d, 1)
    depth = integer("depth", depth, 1)
    return sum(d**k for k in range(1, depth + 1))


def max_depth(d: int, cap: int = MAX_FEATURES, largest: int = MAX_DEPTH) -> int:
    """Largest N ≤ ``largest`` with Σ_k d^k ≤ ``cap`` (at least 1)."""
    n = 1
    while n < largest and sig_length(d, n + 1) <= cap:
        n += 1
    return n


def _path(path: object, name: str = "path") -> np.ndarray:
    arr = np.asarray(path, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (length, d) with length, d >= 1; got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return np.ascontiguousarray(arr)


def _depth(depth: object) -> int:
    return integer("depth", depth, 1, 12)


def signature(path: object, depth: int) -> np.ndarray:
    r"""Truncated signature of the piecewise-linear path ``path`` (length, d).

    Returns the flat float64 vector of levels 1..depth in iisignature's ``sig(path, depth)``
    layout: word (i_1..i_k) at offset :math:`i_1 d^{k-1}+\dots+i_k` inside level k, no leading
    1; length :math:`\sum_{k=1}^N d^k`. Chen's identity per segment [literature]. A single point
    has the trivial signature (all zeros).
    """
    arr = _path(path)
    depth = _depth(depth)
    out = np.empty(sig_length(arr.shape[1], depth))
    _core.signature_single(arr, depth, out)
    return out


def signature_batch(paths: object, depth: int, parallel: bool = True) -> np.ndarray:
    """Signatures of ``paths`` (batch, length, d) → (batch, Σ d^k), rows as :func:`signature`.

    ``parallel`` spreads blocks of 32 paths over Numba's threads; the numbers are identical
    either way (each path is computed by the same lane code).
    """
    arr = np.asarray(paths, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] < 1:
        raise ValueError(f"paths must have shape (batch, length, d); got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("paths must be finite")
    depth = _depth(depth)
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
    """Mean and standard error of the mean from running sums over ``n`` samples (ddof = 1;
    the standard error is NaN for a single sample)."""
    mean = sums / n
    if n < 2:
        return mean, np.full_like(mean, np.nan)
    var = np.clip((sumsq - n * mean * mean) / (n - 1), 0.0, None)
    return mean, np.sqrt(var / n)


def expected_signature(paths: object, depth: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Monte Carlo expected signature of sampled paths (M, length, d): (mean, stderr).

    mean :math:`=\frac1M\sum_j S(X^{(j)})`, stderr = sample standard deviation / √M per
    coordinate (NaN if M = 1). Spec §2, step 4.
    """
    sigs = signature_batch(paths, depth)
    if sigs.shape[0] == 0:
        raise ValueError("paths must hold at least one sampled path")
    return sums_to_mean_stderr(sigs.sum(axis=0), (sigs * sigs).sum(axis=0), sigs.shape[0])


def sig_levels(sig: np.ndarray, d: int, depth: int) -> list[np.ndarray]:
    """The flat signature split into its levels, level k reshaped to (d,)*k."""
    off = _core.level_offsets(d, depth)
    return [np.asarray(sig[off[k] : off[k + 1]]).reshape((d,) * (k + 1)) for k in range(depth)]


def sig_combine(a: np.ndarray, b: np.ndarray, d: int, depth: int) -> np.ndarray:
    """Chen product S(X∗Y) = S(X) ⊗ S(Y): level k = Σ_{i+j=k} a^(i) ⊗ b^(j) (flat layout)."""
    off = _core.level_offsets(d, depth)
    lv = lambda s, k: np.ones(1) if k == 0 else s[off[k - 1] : off[k]]  # noqa: E731
    out = []
    for k in range(1, depth + 1):
        out.append(sum(np.multiply.outer(lv(a, i), lv(b, k - i)).ravel() for i in range(k + 1)))
    return np.concatenate(out)


def linear_map_signature(sig: np.ndarray, matrix: np.ndarray, d: int, depth: int) -> np.ndarray:
    r"""Level-wise :math:`A^{\otimes k} S^{(k)}` for A (k_out, d): the signature of the mapped
    path AX (spec §6.8), also for expected signatures; works on (..., n_sig) arrays."""
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


def augment(
    path: object,
    grid: np.ndarray | None = None,
    *,
    add_time: bool = True,
    basepoint: bool = True,
    lead_lag: bool = False,
) -> np.ndarray:
    """The augmented path of ``path`` (G, c) on times ``grid`` (default linspace(0, 1, G)):
    [time] + channels (+ lagged channels), basepoint at the origin (spec §2, step 3)."""
    arr = _path(path)
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
    """Signatures of the augmented paths (B, G, c) → (B, n_sig), fused (no augmented copies)."""
    arr = np.ascontiguousarray(np.asarray(paths, dtype=np.float64))
    if arr.ndim != 3 or arr.shape[1] < 1 or not np.all(np.isfinite(arr)):
        raise ValueError(f"paths must be a finite array (batch, length, c); got {arr.shape}")
    depth = _depth(depth)
    grid = np.linspace(0.0, 1.0, arr.shape[1]) if grid is None else np.asarray(grid, float)
    d_aug = _feat.augmented_dim(arr.shape[2], bool(add_time), bool(lead_lag))
    out = np.zeros((arr.shape[0], sig_length(d_aug, depth)))
    if arr.shape[0]:
        core = (
            _feat.augmented_signatures if threads_available() else _feat.augmented_signatures_serial
        )
        core(
            arr,
            np.ascontiguousarray(grid),
            bool(add_time),
            bool(basepoint),
            bool(lead_lag),
            depth,
            out,
        )
    return out


def gp_posterior(
    length: int,
    *,
    refine: int = 1,
    kernel: str = "rbf",
    length_scale: float = 0.1,
    signal_var: float = 1.0,
    noise_var: float = 0.1,
) -> Posterior:
    """The data-independent GP posterior (smoother W, covariance C, jittered root R) for
    series of ``length`` points on [0, 1] and the grid refined ``refine`` times (spec §2.1)."""
    length = integer("length", length, 2, 100_000)
    refine = integer("refine", refine, 1, 64)
    kernel = choice("kernel", kernel, KERNELS)
    length_scale = real("length_scale", length_scale, 0.0, 100.0, lo_open=True)
    signal_var = real("signal_var", signal_var, 0.0, 1e6, lo_open=True)
    noise_var = real("noise_var", noise_var, 0.0, 1e6, lo_open=True)
    t = np.linspace(0.0, 1.0, length)
    grid = _gp.unit_grid(length, refine)
    return Posterior(t, grid, kernel, length_scale, signal_var, noise_var)


def gp_sample_paths(post: Posterior, means: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Sample paths m + R z for one series: ``means`` (c, G), ``z`` (M, c, G) → (M, c, G)."""
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
    """Add Σ_j S(X^(j)), Σ_j S(X^(j))² over the samples ``z`` (S, M, c, G) of every series
    with posterior means ``means`` (S, c, G) to ``sums``/``sumsq`` (S, n_sig; new zeros if
    None) and return them. ``store`` (S, M_store, n_sig) keeps the signatures of samples
    ``store_from + j`` < M_store. Reports progress per chunk of series; a False answer raises
    :class:`~kernels.common.progress.Cancelled` (the sums are then partially updated)."""
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
    depth = _depth(depth)
    d_aug = _feat.augmented_dim(means.shape[1], bool(add_time), bool(lead_lag))
    n_sig = sig_length(d_aug, depth)
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
            bool(add_time),
            bool(basepoint),
            bool(lead_lag),
            depth,
            sums[s0:s1],
            sumsq[s0:s1],
            store[s0:s1],
            int(store_from),
        )
        if not report(s1 / means.shape[0], s1 == means.shape[0]):
            raise Cancelled(steps_done=s1)
    return sums, sumsq


def log_marginal_likelihood(
    y: np.ndarray,
    *,
    kernel: str = "rbf",
    length_scale: float = 0.1,
    signal_var: float = 1.0,
    noise_var: float = 0.1,
) -> float:
    """Summed GP log marginal likelihood of the rows of ``y`` (n, L) on t = linspace(0, 1, L)."""
    y = np.asarray(y, dtype=np.float64)
    t = np.linspace(0.0, 1.0, y.shape[1])
    return _gp.log_marginal_likelihood(t, y, kernel, length_scale, signal_var, noise_var)


def brownian_expected_signature(
    n_paths: int,
    n_steps: int,
    dim: int,
    horizon: float,
    depth: int,
    rng: object,
    *,
    chunk: int = 2000,
) -> tuple[np.ndarray, np.ndarray]:
    """MC estimate (mean, stderr) of E S(B)_{0,T} from ``n_paths`` piecewise-linear Brownian
    paths of ``n_steps`` steps (spec §6.9); compare with
    :func:`brownian_expected_signature_exact`."""
    n_paths = integer("n_paths", n_paths, 1, 10_000_000)
    n_steps = integer("n_steps", n_steps, 1, 100_000)
    dim = integer("dim", dim, 1, 8)
    horizon = real("horizon", horizon, 0.0, 1e3, lo_open=True)
    depth = _depth(depth)
    gen = resolve_rng(rng)
    n_sig = sig_length(dim, depth)
    sums, sumsq = np.zeros(n_sig), np.zeros(n_sig)
    for start in range(0, n_paths, chunk):
        k = min(chunk, n_paths - start)
        sigs = signature_batch(_data.brownian_paths(k, n_steps, dim, horizon, gen), depth)
        sums += sigs.sum(axis=0)
        sumsq += (sigs * sigs).sum(axis=0)
    return sums_to_mean_stderr(sums, sumsq, n_paths)


def synthetic_ou(
    rng: object,
    *,
    n_per_class: int = 100,
    length: int = 100,
    thetas: tuple = (2.0, 20.0),
    obs_sd: float = 0.1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The ``synthetic_ou`` set (spec §2.2): (X_train, y_train, X_test, y_test), X of shape
    (n, 1, length); class k has OU rate ``thetas[k]``; ``n_per_class`` per class and split."""
    gen = resolve_rng(rng)
    n_per_class = integer("n_per_class", n_per_class, 1, 100_000)
    length = integer("length", length, 2, 100_000)
    out = []
    for _split in range(2):
        labels = np.repeat(np.arange(len(thetas)), n_per_class)
        rates = np.asarray(thetas, dtype=np.float64)[labels]
        out += [_data.ou_series(rates, length, obs_sd, gen), labels.astype(str)]
    return out[0], out[1], out[2], out[3]


def warmup() -> None:
    """Compile (or load from cache) every jitted core on tiny inputs (threaded and serial)."""
    _gp.warmup()
    path = np.linspace(0.0, 1.0, 6).reshape(3, 2)
    grid = np.linspace(0.0, 1.0, 3)
    signature(path, 3)
    signature_batch(path[None], 3)
    signature_batch(path[None], 3, parallel=False)
    post = gp_posterior(3, noise_var=0.1)
    means, z = post.mean(path.T[None, :1]), np.zeros((1, 1, 1, 3))
    for lead_lag in (False, True):
        augmented_signature_batch(path[None], 2, lead_lag=lead_lag)
        gp_signature_sums(means, post, z, 2, lead_lag=lead_lag)
        out = np.zeros((1, sig_length(_feat.augmented_dim(2, True, lead_lag), 2)))
        _feat.augmented_signatures_serial(path[None], grid, True, True, lead_lag, 2, out)
        n_sig = sig_length(_feat.augmented_dim(1, True, lead_lag), 2)
        sums, store = np.zeros((1, n_sig)), np.zeros((1, 0, n_sig))
        _feat.gp_signature_moments_serial(
            means,
            post.root,
            True,
            z,
            post.grid,
            True,
            True,
            lead_lag,
            2,
            sums,
            sums.copy(),
            store,
            0,
        )
    synthetic_ou(0, n_per_class=1, length=3)
