"""Accuracies, reference lines and the embedding of a feature set (panels 3–4, spec §4).

Every number here is computed from the cached features by the head in
:mod:`app.models.signature.head`; nothing is stored or looked up from the paper.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import block_diag

from app.models.signature import head
from app.models.signature.features import M_SNAPSHOTS, FeatureSet
from kernels import signature as S

FEATURE_MODES = (
    "expected_signature",
    "mean_signature",
    "raw_signature",
    "spline_signature",
    "fourier_signature",
    "sample_predictions",
    "moments",
)
MODE_LABELS = {
    "expected_signature": "GP-ES",
    "mean_signature": "GP-mean",
    "raw_signature": "NoAug",
    "spline_signature": "CS (spline)",
    "fourier_signature": "FFT",
    "sample_predictions": "GP samples (avg. predictions)",
    "moments": "GP moments",
}


class ChannelMap:
    """Optional random linear map A ∈ R^{k×c} of the channels, applied to signatures after
    averaging as A^{⊗k} per level (spec §3): the time channel is kept, every block of c
    channels (lead, lag, mean, variance) is mapped by the same A. By linear equivariance this
    equals sampling the mapped paths AX (spec §6.8) [derived]; k = 0 is the identity."""

    def __init__(self, k: int, channels: int, add_time: bool, seed: int) -> None:
        self.k, self.c, self.time = k, channels, int(add_time)
        rng = np.random.default_rng([seed, 8])  # a stream of its own, fixed per seed
        self.a = rng.standard_normal((k, channels)) / np.sqrt(channels) if k else None

    def __call__(self, feats: np.ndarray, d: int, depth: int) -> tuple[np.ndarray, int]:
        if self.a is None:
            return feats, d
        blocks = [np.ones((1, 1))] * self.time + [self.a] * ((d - self.time) // self.c)
        b = block_diag(*blocks)
        return S.linear_map_signature(feats, b, d, depth), b.shape[0]


def summarise(
    fs: FeatureSet,
    *,
    m: int,
    depth: int,
    mode: str,
    levelwise: bool,
    c: float,
    map_channels: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracies against depth and M, the selected mode's accuracy and the 2-D embedding."""
    n = fs.n_train
    ytr, yte = fs.data.y_train, fs.data.y_test
    mapper = ChannelMap(map_channels, fs.data.channels, fs.config.add_time, seed)
    d0 = fs.d_aug

    def mapped(feats: np.ndarray) -> np.ndarray:
        return mapper(feats, d0, fs.depth)[0]

    d = mapper(fs.raw[:1], d0, fs.depth)[1]
    es_mean = mapped(fs.expected(m)[0])

    def acc(feats: np.ndarray, k: int, dim: int = d) -> float:
        return head.fit_accuracy(feats[:n], ytr, feats[n:], yte, dim, k, c, levelwise)

    depths = list(range(1, fs.depth + 1))
    raw, mean = mapped(fs.raw), mapped(fs.mean)
    curves = {
        "NoAug": [acc(raw, k) for k in depths],
        "GP-mean": [acc(mean, k) for k in depths],
        f"GP-ES (M={m})": [acc(es_mean, k) for k in depths],
    }
    features, feat_d, feat_depth = mode_features(fs, mode, m, depth)
    features, feat_d = mapper(features, feat_d, feat_depth if mode == "moments" else fs.depth)
    if mode == "sample_predictions":
        samples = mapped(fs.samples(m))
        selected = head.sample_prediction_accuracy(
            samples[:n], ytr, samples[n:], yte, d, depth, c, levelwise
        )
    else:
        selected = acc(features, feat_depth, feat_d)
    if mode in ("spline_signature", "fourier_signature"):
        curves[MODE_LABELS[mode]] = [acc(features, k) for k in depths]
    ms = sorted({k for k in M_SNAPSHOTS if k <= m} | {m})
    acc_m = [acc(mapped(fs.expected(k)[0]), depth) for k in ms]
    pre = head.prefix(features, feat_d, feat_depth)
    tr, (te,) = head.standardise(pre[:n], [pre[n:]], feat_d, feat_depth, True)
    scores, explained = head.pca_2d(np.concatenate([tr, te]))
    return {
        "config": fs.config,
        "data_name": fs.data.name,
        "m": m,
        "depth": depth,
        "mode": mode,
        "depths": depths,
        "acc_depth": curves,
        "ms": ms,
        "acc_m": acc_m,
        "ref_noaug": curves["NoAug"][depth - 1],
        "ref_mean": curves["GP-mean"][depth - 1],
        "accuracy": selected,
        "embedding": scores,
        "explained": explained,
        "labels": np.concatenate([ytr, yte]),
        "n_train": n,
        "feature_dim": d,
        "max_depth": fs.depth,
        "chance": float(np.max(np.unique(yte, return_counts=True)[1]) / len(yte)),
    }


def mode_features(fs: FeatureSet, mode: str, m: int, depth: int) -> tuple[np.ndarray, int, int]:
    """(features, path dimension, usable depth) of a feature mode."""
    if mode in ("expected_signature", "sample_predictions"):
        return fs.expected(m)[0], fs.d_aug, depth
    if mode == "mean_signature":
        return fs.mean, fs.d_aug, depth
    if mode == "raw_signature":
        return fs.raw, fs.d_aug, depth
    if mode == "moments":
        c = fs.config
        d_mom = S.augmented_dim(2 * fs.data.channels, c.add_time, c.lead_lag)
        return fs.moments, d_mom, min(depth, S.max_depth(d_mom))
    return fs.interpolated("spline" if mode == "spline_signature" else "fourier"), fs.d_aug, depth
