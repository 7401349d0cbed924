"""Parameters, their roles, control order and presets of the expected-signature tab (§2, §5).

Presets: RBF, σ_f² = 1, time + basepoint, r = 1, standardise + logistic regression; their
accuracies are computed live, indicative and seed-dependent, not the paper's [derived].
"""

from __future__ import annotations

from typing import Any

import param

from app.models.base import SimulationModel
from app.models.signature.data import DATASETS, LABELS, UPLOAD
from app.models.signature.summary import FEATURE_MODES
from app.models.story import Story
from kernels import signature as S

TEACHING_DEFAULT = "Teaching default: smoothing helps"

#: What the selectors show (the identifiers stay in links and exports).
KERNEL_LABELS = {
    "rbf": "RBF (squared exponential)",
    "matern32": "Matérn 3/2",
    "matern52": "Matérn 5/2",
}
FEATURE_LABELS = {
    "expected_signature": "Expected signature of the GP samples (GP-ES)",
    "mean_signature": "Signature of the GP mean (GP-mean)",
    "raw_signature": "Signature of the raw series (NoAug)",
    "spline_signature": "Signature of a cubic spline (CS)",
    "fourier_signature": "Signature of a Fourier interpolant (FFT)",
    "sample_predictions": "Each sample's signature, predictions averaged",
    "moments": "Signature of the posterior mean and variance",
}

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
# "speed" is steps per second of play (one sample path of the highlighted series per step): each
# preset's pace puts its indicator 10–60 s after Play (tests/app/test_stories.py)
PRESETS: dict[str, dict[str, Any]] = {
    TEACHING_DEFAULT: {"speed": 30},
    "Noise hurts (GunPoint)": {"dataset": "gunpoint", "length_scale": 0.05, "speed": 6},
    "Near-deterministic limit": {
        "dataset": "gunpoint",
        "length_scale": 0.05,
        "noise_var": 0.001,
        "speed": 10,
    },
    "Shape-driven failure (ArrowHead)": {
        "dataset": "arrow_head",
        "length_scale": 0.05,
        "speed": 3,
    },
    "Multichannel areas (BasicMotions)": {
        "dataset": "basic_motions",
        "length_scale": 0.05,
        "depth": 2,
        "speed": 5,
    },
    "Law, not shape (synthetic OU)": {
        "dataset": "synthetic_ou",
        "length_scale": 0.05,
        "noise_var": 0.01,
        "n_samples": 32,
        "speed": 4,
    },
    "Brownian check": {
        "bm_dim": 2,
        "bm_horizon": 1.0,
        "bm_steps": 200,
        "bm_samples": 20000,
        "speed": 2,
    },
}

#: What each preset is for (issue 12): the caption under the status line, the panel moved to
#: the top while it is on, and the model method that says its moment has come. The accuracies
#: themselves are not a moment of the run (the background job computes them from the
#: configuration, whether or not Play runs): the status line reports them for every preset.
STORIES: dict[str, Story] = {
    TEACHING_DEFAULT: Story(
        "Press Play: sample paths of the Gaussian-process posterior are drawn one by one (the "
        "newest is dark) and their signatures averaged; watch the MC error chip fall below 5 %. "
        "The status line holds the point: the smoothed features (GP-mean, GP-ES) classify "
        "these noisy power-demand curves better than the raw series (NoAug).",
        panel="",
        indicator="expected_signature_settled",
        controls=("noise_var", "length_scale"),
    ),
    "Noise hurts (GunPoint)": Story(
        "GunPoint's curves are smooth, so at σ_n² = 0.1 the posterior band is wider than the "
        "data need and the sampled paths are rough. Press Play and watch the MC error chip fall "
        "below 5 % as paths are averaged: the expected signature then carries that roughness, "
        "and GP-ES classifies worse than NoAug and GP-mean (status line).",
        panel="",
        indicator="expected_signature_settled",
        controls=("noise_var", "length_scale"),
    ),
    # the point is a coincidence visible from the first frame (GP-ES bars on the GP-mean
    # dots, the MC error already below 5 %), not a moment of the run
    "Near-deterministic limit": Story(
        "With almost no observation noise (σ_n² = 0.001) the posterior band collapses onto the "
        "data and every sample path is the mean. The bars of the expected signature sit on "
        "the GP-mean dots from the first path on, so Play changes nothing visible, and GP-ES "
        "and GP-mean classify alike.",
        panel="signature",
        indicator="",
        controls=("noise_var", "length_scale"),
    ),
    "Shape-driven failure (ArrowHead)": Story(
        "ArrowHead's three classes differ only in the fine shape of an outline, and the rough "
        "sample paths around it blur that shape. Press Play and watch the MC error chip fall "
        "below 5 %: more paths make the estimate precise, not the shape sharper, and no "
        "feature gets clearly above chance here (status line).",
        panel="",
        indicator="expected_signature_settled",
        controls=("length_scale", "noise_var"),
    ),
    "Multichannel areas (BasicMotions)": Story(
        "Six motion-sensor channels plus time: level 2 of the expected signature is the 7 × 7 "
        "matrix on the right, and its antisymmetric part, the Lévy areas, records which "
        "channel moves before which. Press Play and watch the matrix settle as paths are "
        "averaged, until the MC error is below 5 %.",
        panel="signature",
        indicator="expected_signature_settled",
        controls=("channel", "noise_var"),
    ),
    "Law, not shape (synthetic OU)": Story(
        "Two classes of Ornstein–Uhlenbeck paths with the same mean and variance that revert "
        "slowly or fast (θ = 2 or 20): they differ in law, not in shape. The expected "
        "signature starts within 5 % at M = 32 samples; press Play and watch the MC error chip "
        "fall below 2 %. The accuracy panel below shows that only depth 3 and above tells the "
        "classes apart, with or without the GP.",
        panel="",
        indicator="expected_signature_precise",
        controls=("depth", "n_samples"),
    ),
    "Brownian check": Story(
        "A check of the method on Brownian motion, whose expected signature is known exactly: "
        "level 2 is T/2 on the diagonal and the odd levels vanish. Press Play: each step adds "
        "500 Brownian paths, and the Monte Carlo error of every level falls along the dashed "
        "1/√M_B line until M_B = 20,000 confirms the closed form.",
        panel="brownian",
        indicator="brownian_confirmed",
        controls=("bm_horizon", "bm_samples"),
    ),
}


class SignatureParams(SimulationModel):
    """The tab's parameters (bounded, documented; the docs become tooltips and the glossary)."""

    speed = param.Integer(
        default=30,
        bounds=(1, 30),
        doc="Steps per second of play. Each step draws one more posterior sample path of the "
        "highlighted series (panels 1–2) and one more block of 500 Brownian paths (panel 5).",
    )
    dataset = param.Selector(
        default="italy_power_demand",
        objects={LABELS[name]: name for name in (*DATASETS, UPLOAD)},
        label="Data set",
        doc="Labelled time series with their own train/test split (offline, from sktime), the "
        "synthetic OU set, or your uploaded CSV.",
    )
    series_index = param.Integer(
        0,
        bounds=(0, 2999),
        label="Highlighted series i",
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
        objects={KERNEL_LABELS[name]: name for name in S.KERNELS},
        label="GP kernel",
        doc="GP covariance: RBF, Matérn-3/2 or Matérn-5/2.",
    )
    feature_mode = param.Selector(
        default="expected_signature",
        objects={FEATURE_LABELS[name]: name for name in FEATURE_MODES},
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
        doc="k: project the c channels with a random Gaussian k × c matrix A before the "
        "signature (0 = no map). Applied to the averaged signatures as A⊗…⊗A (one factor per "
        "letter of a word), which equals sampling the mapped paths AX, so it costs no Monte "
        "Carlo.",
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
    stories = STORIES
    default_preset = TEACHING_DEFAULT
    divergence_hint = "lower the Brownian horizon T, then reset"
