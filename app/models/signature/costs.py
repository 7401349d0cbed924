"""Bounded work of the expected-signature tab (issue 13): what each piece of work costs.

Every estimate is computed from all the sizes together, before anything is allocated, and
checked against :mod:`app.models.budget`:

* the feature job (:func:`features_cost`): GP posterior, deterministic signatures, the Monte
  Carlo sums of M samples per series, the head's fits and the embedding;
* one block of the Brownian inset (:func:`brownian_block_cost`), i.e. one animation step, and
  the inset's recorded history (:func:`run_history_cost`);
* the marginal-likelihood fit (:func:`marginal_likelihood_cost`);
* parsing an upload (:func:`upload_cost`).

Bytes count the large arrays the code allocates (float64, 8 bytes), temporaries included.
Seconds are operation counts times per-operation constants MEASURED on the 2-core reference
machine (Dec 2026, five other test runs sharing it) with the real kernels, each doubled as a
margin over the slower (busy-machine) measurement. The script: time ``S.gp_signature_sums``
for 16 series × 16 samples at (G, c, n_sig) = (601, 1, 1), (201, 1, 363), (101, 6, 2379)
and 200 series × 8 samples at (501, 1, 62); ``augmented_signature_batch`` on the same means;
``BrownianInset.add`` of one block; ``head.fit_accuracy`` on random (n, p) = (2100, 819),
(600, 2000), (2100, 90); ``S.log_marginal_likelihood`` at (L, rows) = (200, 500), (500, 200);
best of 2–3 runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.budget import Cost
from app.models.signature.brownian import BM_CHUNK, BM_DEPTH
from app.models.signature.features import M_SNAPSHOTS, MAX_STORED_SAMPLES
from kernels import signature as S

F64 = 8
#: Seconds per multiply-add of the sample paths X = m + R z (measured 1.0e-9 at G = 601 with
#: the machine quiet, 2.0e-9 at G = 501 with five other test runs on it).
SEC_PATH_OP = 4.0e-9
#: Seconds per (augmented point × signature coordinate) of a signature, in the Monte Carlo
#: core and the Brownian inset (measured 2.0e-9..2.6e-9, up to ≈ 4e-9 on the busy machine).
SEC_SIG_OP = 8.0e-9
#: The same for the deterministic batch signatures (measured 2.1e-9..4.3e-9 per op, plus
#: ≈ 13 ms of thread start per call).
SEC_BATCH_SIG_OP = 1.0e-8
SEC_BATCH_CALL = 0.03
#: Seconds per standard normal drawn (measured 3.9e-8).
SEC_NORMAL = 8.0e-8
#: Seconds per n·p·(min(n, p) + 100) of one logistic-regression fit on n rows of p features
#: (row-space SVD plus L-BFGS; measured 1e-10..9e-10), plus a fixed 10 ms (measured 11 ms for
#: a tiny fit).
SEC_FIT_OP = 2.0e-9
SEC_FIT_CALL = 0.02
#: Seconds per flop of the summed log marginal likelihood (L³/3 + L²·rows; measured 3.5e-10).
SEC_LML_OP = 7.0e-10
#: Nelder–Mead evaluations of the marginal-likelihood fit (maxiter 300: about two per iteration).
LML_EVALUATIONS = 600
#: Seconds per flop of a tensor-power channel map (numpy tensordot, ≈ 1 GFlop/s doubled).
SEC_MAP_OP = 2.0e-9
#: Longest an animation step (one tick at the current speed) should take.
MAX_TICK_SECONDS = 0.2
#: Bytes one recorded block of the inset keeps (count, 4 errors, 4 standard errors as Python
#: floats in lists: ≈ 32 bytes each with the list slot).
TRACE_BYTES_PER_BLOCK = 9 * 32
#: Peak memory of parsing an upload, per byte of the file (the rows as lists of Python
#: strings: ≈ 50 bytes per cell of two bytes, measured below 40×).
UPLOAD_BYTES_PER_BYTE = 60


@dataclass(frozen=True)
class Sizes:
    """The sizes of one feature computation (data set × configuration)."""

    n_series: int
    n_train: int
    channels: int
    length: int
    grid: int
    add_time: bool = True
    basepoint: bool = True
    lead_lag: bool = False
    cholesky: bool = True

    @property
    def d_aug(self) -> int:
        return S.augmented_dim(self.channels, self.add_time, self.lead_lag)

    @property
    def depth(self) -> int:
        return S.max_depth(self.d_aug)

    @property
    def n_sig(self) -> int:
        return S.sig_length(self.d_aug, self.depth)

    @property
    def n_moments(self) -> int:
        d = S.augmented_dim(2 * self.channels, self.add_time, self.lead_lag)
        return S.sig_length(d, S.max_depth(d))

    def points(self, n: int) -> int:
        """Points of the augmented path of an n-point series."""
        return (2 * n - 1 if self.lead_lag else n) + int(self.basepoint)

    def mapped_dim(self, map_channels: int) -> int:
        """Path dimension after the channel map A ∈ R^(k×c) (every block of c channels)."""
        if not map_channels:
            return self.d_aug
        blocks = (self.d_aug - int(self.add_time)) // self.channels
        return int(self.add_time) + map_channels * blocks


def snapshot_stops(m: int) -> list[int]:
    """The sample counts whose running sums :meth:`FeatureSet.extend` keeps (from 0 to m)."""
    return [k for k in M_SNAPSHOTS if k < m] + [m]


def fit_seconds(n_rows: float, p: float) -> float:
    """Estimated seconds of one standardise + logistic-regression fit."""
    return SEC_FIT_OP * n_rows * p * (min(n_rows, p) + 100) + SEC_FIT_CALL


def feature_set_bytes(sizes: Sizes, m: int) -> int:
    """Bytes a :class:`~app.models.signature.features.FeatureSet` holds once extended to M = m
    samples: raw, mean, moments, stored per-sample signatures, snapshots of the running sums."""
    s, n = sizes.n_series, sizes.n_sig
    per_series = 2 * n + sizes.n_moments + MAX_STORED_SAMPLES * n + 2 * len(snapshot_stops(m)) * n
    return F64 * s * per_series


def features_cost(
    sizes: Sizes, m: int, *, mode: str = "expected_signature", map_channels: int = 0
) -> Cost:
    """The feature job from scratch: posterior, deterministic features, M samples per series,
    then :func:`~app.models.signature.summary.summarise` (a cached set costs less)."""
    s, c, L, g = sizes.n_series, sizes.channels, sizes.length, sizes.grid
    n, n_mom, depth = sizes.n_sig, sizes.n_moments, sizes.depth
    stops = snapshot_stops(m)
    gap = max(b - a for a, b in zip([0, *stops], stops, strict=False))
    # ---- memory (float64 elements)
    posterior = 6 * g * g + 2 * g * L
    data = 2 * s * c * L  # all_series, in build_features and again in extend
    kept = feature_set_bytes(sizes, m) // F64  # raw, mean, moments, stored, snapshots
    build = (
        s * L * c  # transposed copy for the raw signatures
        + 3 * s * c * g  # means, their transposed copy, the moment paths' mean half …
        + 2 * s * c * g  # … the variance half and its transposed copy
    )
    extend = (
        s * c * g  # means
        + s * m * c * g  # z for all M samples
        + s * gap * c * g  # the contiguous slice of z handed to the kernel
        + 2 * s * n  # running sums
    )
    k_dim = sizes.mapped_dim(map_channels)
    n_out = S.sig_length(k_dim, depth) if map_channels else n
    stored = s * min(m, MAX_STORED_SAMPLES)
    summarise = 8 * s * max(n, n_out)  # mapped copies, means and stderrs, standardised copies
    if mode == "sample_predictions":
        summarise += 3 * stored * max(n, n_out)
    if mode in ("spline_signature", "fourier_signature"):
        summarise += 2 * s * c * g + s * n
    elements = posterior + data + kept + build + extend + summarise
    # ---- time
    q_grid, q_raw = sizes.points(g), sizes.points(L)
    path_ops = c * g * g * (0.5 if sizes.cholesky else 1.0)
    seconds = (
        SEC_PATH_OP * 4 * g**3  # kernel matrices, Cholesky factors, solves of the posterior
        + SEC_BATCH_SIG_OP * s * (q_raw * n + q_grid * (n + n_mom))
        + 3 * SEC_BATCH_CALL
        + SEC_NORMAL * s * m * c * g
        + s * m * (SEC_PATH_OP * path_ops + SEC_SIG_OP * q_grid * n)
    )
    n_ms = len(sorted({k for k in M_SNAPSHOTS if k <= m} | {m}))
    fits = (
        3 * depth + 1 + n_ms + (depth if mode in ("spline_signature", "fourier_signature") else 0)
    )
    seconds += fits * fit_seconds(sizes.n_train, n_out)
    if mode == "sample_predictions":
        seconds += fit_seconds(sizes.n_train * min(m, MAX_STORED_SAMPLES), n_out)
    seconds += SEC_FIT_OP * s * n_out * min(s, n_out)  # the embedding's SVD
    if map_channels:
        maps = 5 + n_ms + (MAX_STORED_SAMPLES if mode == "sample_predictions" else 0)
        seconds += SEC_MAP_OP * maps * s * depth * n_out * max(k_dim, sizes.d_aug)
    what = f"feature computation ({s} series × M = {m} samples on {g} grid points)"
    return Cost(bytes=F64 * elements, seconds=seconds, what=what)


def brownian_block_cost(dim: int, steps: int) -> Cost:
    """One block of :data:`BM_CHUNK` Brownian paths signed at depth :data:`BM_DEPTH`."""
    n_bm = S.sig_length(dim, BM_DEPTH)
    elements = 2 * BM_CHUNK * (steps + 1) * dim + 3 * BM_CHUNK * n_bm
    seconds = BM_CHUNK * steps * (SEC_SIG_OP * n_bm + SEC_NORMAL * dim)
    return Cost(F64 * elements, seconds, f"block of {BM_CHUNK} Brownian paths")


def blocks_per_tick(dim: int, steps: int, speed: int) -> int:
    """Blocks one animation step may add: ``speed``, capped so the step takes at most
    :data:`MAX_TICK_SECONDS` (at least one block)."""
    per_block = brownian_block_cost(dim, steps).seconds
    return max(1, min(int(speed), int(MAX_TICK_SECONDS // per_block)))


def run_history_cost(bm_samples: int, dim: int) -> Cost:
    """The recorded history of the animated run: the trace per block and the running sums."""
    blocks = -(-int(bm_samples) // BM_CHUNK)
    n_bm = S.sig_length(dim, BM_DEPTH)
    nbytes = blocks * TRACE_BYTES_PER_BLOCK + 4 * F64 * n_bm
    return Cost(nbytes, 0.0, f"Brownian inset's history ({blocks} blocks)")


def marginal_likelihood_cost(rows: int, length: int) -> Cost:
    """Nelder–Mead on the summed log marginal likelihood of ``rows`` series of ``length``."""
    flops = length**3 / 3 + length * length * rows
    nbytes = F64 * (4 * length * length + 3 * rows * length)
    return Cost(
        nbytes,
        LML_EVALUATIONS * SEC_LML_OP * flops,
        f"marginal-likelihood fit ({rows} training series × {length} points)",
    )


def upload_cost(n_bytes: int) -> Cost:
    """Parsing an uploaded CSV of ``n_bytes`` (the csv module's rows of Python strings)."""
    return Cost(UPLOAD_BYTES_PER_BYTE * n_bytes, 2e-6 * n_bytes, "CSV upload")
