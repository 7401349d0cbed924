"""Parameters, their roles, control order and presets of the expected-signature tab (§2, §5).

Presets: RBF, σ_f² = 1, time + basepoint, r = 1, standardise + logistic regression; their
accuracies are computed live, indicative and seed-dependent, not the paper's [derived].
"""

from __future__ import annotations

from typing import Any

import param

from app.models.base import SimulationModel
from app.models.signature.data import DATASETS, UPLOAD
from app.models.signature.summary import FEATURE_MODES
from kernels import signature as S

TEACHING_DEFAULT = "Teaching default: smoothing helps"

RESTART_PARAMS = (
    "dataset",
    "length_scale",
    "signal_var",
    "noise_var",
    "grid_refine",
    "kernel",
    "add_time",
    "basepoint",
    "lead_lag",
    "bm_horizon",
    "bm_steps",
    "bm_dim",
)
LIVE_PARAMS = (
    "series_index",
    "channel",
    "n_samples",
    "depth",
    "feature_mode",
    "standardise_levels",
    "head_c",
    "map_channels",
    "bm_samples",
)
DISPLAY_ORDER = (
    "dataset",
    "series_index",
    "length_scale",
    "noise_var",
    "signal_var",
    "kernel",
    "grid_refine",
    "n_samples",
    "depth",
    "feature_mode",
    "add_time",
    "basepoint",
    "lead_lag",
    "standardise_levels",
    "head_c",
    "map_channels",
    "channel",
    "bm_samples",
    "bm_horizon",
    "bm_steps",
    "bm_dim",
)
ADVANCED_PARAMS = (
    "signal_var",
    "kernel",
    "grid_refine",
    "add_time",
    "basepoint",
    "lead_lag",
    "standardise_levels",
    "head_c",
    "map_channels",
    "channel",
    "bm_horizon",
    "bm_steps",
    "bm_dim",
)
PRESETS: dict[str, dict[str, Any]] = {
    TEACHING_DEFAULT: {},
    "Noise hurts (GunPoint)": {"dataset": "gunpoint", "length_scale": 0.05},
    "Near-deterministic limit": {
        "dataset": "gunpoint",
        "length_scale": 0.05,
        "noise_var": 0.001,
    },
    "Shape-driven failure (ArrowHead)": {"dataset": "arrow_head", "length_scale": 0.05},
    "Multichannel areas (BasicMotions)": {
        "dataset": "basic_motions",
        "length_scale": 0.05,
        "depth": 2,
    },
    "Law, not shape (synthetic OU)": {
        "dataset": "synthetic_ou",
        "length_scale": 0.05,
        "noise_var": 0.01,
        "n_samples": 32,
    },
    "Brownian check": {"bm_dim": 2, "bm_horizon": 1.0, "bm_steps": 200, "bm_samples": 20000},
}


class SignatureParams(SimulationModel):
    """The tab's parameters (bounded, documented; the docs become tooltips and the glossary)."""

    speed = param.Integer(
        default=2, bounds=(1, 20), doc="Blocks of 500 Brownian paths added per animation tick."
    )
    dataset = param.Selector(
        default="italy_power_demand",
        objects=[*DATASETS, UPLOAD],
        label="Data set",
        doc="Labelled time series with their own train/test split (offline, from sktime), the "
        "synthetic OU set, or your uploaded CSV.",
    )
    series_index = param.Integer(
        0,
        bounds=(0, 2999),
        label="i highlighted series",
        doc="i: the series shown in panels 1–2 and ringed in the embedding (train first, then "
        "test; clamped to the data set).",
    )
    channel = param.Integer(
        0,
        bounds=(0, 7),
        label="Channel shown",
        doc="Channel of a multichannel series drawn in panel 1 (the features use all channels).",
    )
    length_scale = param.Number(
        0.1,
        bounds=(0.005, 1.0),
        step=0.005,
        label="ℓ length-scale",
        doc="ℓ: GP kernel length-scale, with time rescaled to [0, 1]. Small ℓ follows the data.",
    )
    signal_var = param.Number(
        1.0,
        bounds=(0.01, 10.0),
        step=0.01,
        label="σ_f² prior variance",
        doc="σ_f²: prior variance of the GP.",
    )
    noise_var = param.Number(
        0.1,
        bounds=(1e-6, 1.0),
        step=1e-3,
        label="σ_n² noise variance",
        doc="σ_n²: observation-noise variance. The key knob: larger means wider posterior bands "
        "and noisier sample paths.",
    )
    grid_refine = param.Selector(
        default=1,
        objects=[1, 2, 4, 8],
        label="r grid refinement",
        doc="r: posterior grid points per observation interval (G = r(L−1)+1).",
    )
    n_samples = param.Integer(
        8,
        bounds=(1, 128),
        label="M samples",
        doc="M: Monte Carlo sample paths per series in the expected signature.",
    )
    depth = param.Integer(
        4,
        bounds=(1, 5),
        label="N depth",
        doc="N: signature truncation depth (capped so the feature length Σd^k ≤ 3000).",
    )
    add_time = param.Boolean(True, label="Time channel", doc="Add time t as a path channel.")
    basepoint = param.Boolean(True, label="Basepoint", doc="Prepend the origin to each path.")
    lead_lag = param.Boolean(False, label="Lead-lag", doc="Lead-lag augmentation (2c channels).")
    kernel = param.Selector(
        default="rbf",
        objects=list(S.KERNELS),
        label="GP kernel",
        doc="GP covariance: RBF, Matérn-3/2 or Matérn-5/2.",
    )
    feature_mode = param.Selector(
        default="expected_signature",
        objects=list(FEATURE_MODES),
        label="Feature",
        doc="Feature fed to the head and the embedding: expected signature (GP-ES), signature "
        "of the GP mean, of the raw series, of a cubic spline or Fourier interpolant, per-sample "
        "signatures with averaged predictions, or signature of (mean, variance).",
    )
    standardise_levels = param.Boolean(
        True,
        label="Level-wise scaling",
        doc="Centre features and scale each signature level by its pooled training RMS.",
    )
    head_c = param.Number(
        1.0,
        bounds=(1e-3, 1e3),
        step=1e-3,
        label="C head strength",
        doc="C: inverse L2 regularisation of the logistic-regression head.",
    )
    upload_message = param.String(
        default="No file uploaded yet.", doc="What happened to the last CSV upload."
    )
    budget_notice = param.String(
        default="",
        doc="Why the last piece of work was scaled down or refused (the limit it met), or empty.",
    )
    map_channels = param.Integer(
        0,
        bounds=(0, 6),
        label="k mapped channels",
        doc="k: project the channels with a random Gaussian A ∈ R^(k×c) before the signature "
        "(0 = no map). Applied to the averaged signatures as A^⊗k per level, which equals "
        "sampling the mapped paths AX, so it costs no Monte Carlo.",
    )
    bm_horizon = param.Number(
        1.0,
        bounds=(0.1, 4.0),
        step=0.1,
        label="T Brownian horizon",
        doc="T: horizon of the Brownian paths in the teaching inset.",
    )
    bm_steps = param.Integer(
        200, bounds=(10, 1000), label="n Brownian steps", doc="n: steps per Brownian path."
    )
    bm_dim = param.Integer(
        2,
        bounds=(1, 3),
        label="d_B Brownian dimension",
        doc="d_B: dimension of the Brownian motion.",
    )
    bm_samples = param.Integer(
        20000,
        bounds=(100, 50000),
        label="M_B Brownian paths",
        doc="M_B: Brownian paths the inset accumulates (press Play to grow the sample).",
    )

    restart_params = RESTART_PARAMS
    live_params = LIVE_PARAMS
    display_order = DISPLAY_ORDER
    advanced_params = ADVANCED_PARAMS
    presets = PRESETS
    default_preset = TEACHING_DEFAULT
    divergence_hint = "lower the Brownian horizon T, then reset"
