"""Feature sets of the expected-signature tab, computed once per restart configuration.

A :class:`FeatureSet` holds, for every series of a data set (train then test), at the maximal
allowed depth (lower depths are prefixes): the signature of the raw series (NoAug), of the GP
posterior mean (GP), of the posterior moments (mean and variance channels), and the running sums
of the Monte Carlo expected signature with snapshots at M = 1, 2, 4, … (so accuracy against M
costs no extra sampling and raising M only extends the sums). Spline ("CS") and Fourier ("FFT")
interpolations on the refined grid are computed on demand.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.models.signature.data import Dataset
from kernels import signature as S
from kernels.common.progress import ProgressFn

#: Per-sample signatures kept per series for the ``sample_predictions`` head.
MAX_STORED_SAMPLES = 16
#: Sample counts at which the running sums are kept (the accuracy-vs-M curve).
M_SNAPSHOTS = (1, 2, 4, 8, 16, 32, 64, 128)


@dataclass(frozen=True)
class FeatureConfig:
    """Everything the features depend on (the cache key)."""

    dataset: str
    kernel: str
    length_scale: float
    signal_var: float
    noise_var: float
    grid_refine: int
    add_time: bool
    basepoint: bool
    lead_lag: bool
    seed: int

    def gp_kwargs(self) -> dict[str, Any]:
        return dict(
            refine=self.grid_refine,
            kernel=self.kernel,
            length_scale=self.length_scale,
            signal_var=self.signal_var,
            noise_var=self.noise_var,
        )

    def aug_kwargs(self) -> dict[str, bool]:
        return dict(add_time=self.add_time, basepoint=self.basepoint, lead_lag=self.lead_lag)


@dataclass
class FeatureSet:
    """Signature features of one data set under one configuration (see module docstring)."""

    config: FeatureConfig
    data: Dataset
    post: S.Posterior
    d_aug: int
    depth: int
    raw: np.ndarray
    mean: np.ndarray
    moments: np.ndarray
    stored: np.ndarray
    #: M -> (Σ_j S, Σ_j S²) over the first M samples of every series
    states: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_train(self) -> int:
        return len(self.data.y_train)

    @property
    def m_done(self) -> int:
        return max(self.states, default=0)

    @property
    def nbytes(self) -> int:
        """Memory the set holds (its features, running-sum snapshots and interpolants)."""
        arrays = [self.raw, self.mean, self.moments, self.stored, *self._extra.values()]
        arrays += [a for pair in list(self.states.values()) for a in pair]
        return sum(a.nbytes for a in arrays)

    def has(self, m: int) -> bool:
        return m in self.states

    def expected(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """(mean, stderr) of the expected signature with ``m`` samples (must be available)."""
        sums, sumsq = self.states[m]
        return S.sums_to_mean_stderr(sums, sumsq, m)

    def extend(self, m: int, progress: ProgressFn | None = None) -> None:
        """Make the M = ``m`` expected signature available: continue the running sums from the
        largest computed M below ``m`` (sums over samples are added in sample order, so the
        result is bit-identical to a computation from scratch)."""
        if m in self.states:
            return
        start = max([k for k in self.states if k < m], default=0)
        if start:
            sums, sumsq = (a.copy() for a in self.states[start])
        else:
            sums, sumsq = np.zeros_like(self.raw), np.zeros_like(self.raw)
        stops = [k for k in M_SNAPSHOTS if start < k < m] + [m]
        x = self.data.all_series()
        means = self.post.mean(x)
        z_all = S.sample_normals(
            self.config.seed, np.arange(len(x)), m, x.shape[1], self.post.grid.size
        )
        done = start
        for stop in stops:

            def part(f: float, a: int = done, b: int = stop) -> bool:
                return (
                    True if progress is None else progress((a - start + f * (b - a)) / (m - start))
                )

            S.gp_signature_sums(
                means,
                self.post,
                z_all[:, done:stop],
                self.depth,
                sums=sums,
                sumsq=sumsq,
                store=self.stored,
                store_from=done,
                progress=part,
                **self.config.aug_kwargs(),
            )
            done = stop
            self.states[stop] = (sums.copy(), sumsq.copy())

    def samples(self, m: int) -> np.ndarray:
        """Per-sample signatures (S, min(m, MAX_STORED_SAMPLES), n_sig)."""
        return self.stored[:, : min(m, MAX_STORED_SAMPLES, self.m_done)]

    def interpolated(self, kind: str) -> np.ndarray:
        """Signatures of cubic-spline ("spline") or trigonometric ("fourier") interpolants of
        the observations on the refined grid."""
        if kind not in self._extra:
            x = self.data.all_series()
            t, grid = self.post.t, self.post.grid
            if kind == "spline":
                from scipy.interpolate import CubicSpline  # 20 MB, imported when first used

                paths = CubicSpline(t, x, axis=2)(grid)
            else:
                paths = fourier_interpolate(x, grid * (len(t) - 1))
            self._extra[kind] = S.augmented_signature_batch(
                np.transpose(paths, (0, 2, 1)), self.depth, grid, **self.config.aug_kwargs()
            )
        return self._extra[kind]


def fourier_interpolate(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Trigonometric interpolation of samples x[..., k], k = 0..L−1 (period L), at fractional
    sample positions; exact at the integers (FFT baseline of the paper's comparison)."""
    length = x.shape[-1]
    coef = np.fft.rfft(x, axis=-1) / length
    k = np.arange(coef.shape[-1])
    weight = np.where((k == 0) | ((length % 2 == 0) & (k == length // 2)), 1.0, 2.0)
    phase = np.exp(2j * np.pi * np.outer(k, positions) / length)  # (K, G)
    return np.real((coef * weight) @ phase)


def build_features(
    config: FeatureConfig, data: Dataset, post: S.Posterior, progress: ProgressFn | None = None
) -> FeatureSet:
    """The deterministic features (raw, mean, moments) of a data set; no MC samples yet."""
    aug = config.aug_kwargs()
    d_aug = S.augmented_dim(data.channels, config.add_time, config.lead_lag)
    depth = S.max_depth(d_aug)
    x = data.all_series()
    raw = S.augmented_signature_batch(np.transpose(x, (0, 2, 1)), depth, post.t, **aug)
    means = post.mean(x)
    mean = S.augmented_signature_batch(np.transpose(means, (0, 2, 1)), depth, post.grid, **aug)
    var = np.broadcast_to(post.variance, means.shape)
    moment_paths = np.concatenate([means, var], axis=1)
    d_mom = S.augmented_dim(2 * data.channels, config.add_time, config.lead_lag)
    moments = S.augmented_signature_batch(
        np.transpose(moment_paths, (0, 2, 1)), S.max_depth(d_mom), post.grid, **aug
    )
    n_sig = raw.shape[1]
    if progress is not None:
        progress(0.0)
    return FeatureSet(
        config=config,
        data=data,
        post=post,
        d_aug=d_aug,
        depth=depth,
        raw=raw,
        mean=mean,
        moments=moments,
        stored=np.zeros((len(x), MAX_STORED_SAMPLES, n_sig)),
    )
