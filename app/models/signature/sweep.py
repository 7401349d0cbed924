r"""What the expected-signature tab offers to parameter sweeps (issue 15): test accuracies.

One replicate is the tab's feature job run to its end for one parameter point: the GP
posterior of every series of the data set, the deterministic signatures (NoAug, GP-mean,
moments, spline, Fourier), the Monte Carlo expected signature from M posterior samples per
series, then the standardise + logistic-regression head fitted once per feature mode on the
training split and scored on the test split (spec §2, §3). The functions are the live model's
(:func:`~app.models.signature.features.build_features`,
:func:`kernels.signature.gp_signature_sums`, :func:`~app.models.signature.summary.mode_features`,
:class:`~app.models.signature.summary.ChannelMap`, :mod:`~app.models.signature.head`), so a
cell's numbers equal what the tab shows at that point with seed = the replicate's seed.

The replicate's randomness is the posterior keys z^(j) (keyed by (seed, series, sample), spec
§2.1) and the random channel map when k > 0; the data sets and their splits are fixed, so the
deterministic modes (NoAug, GP-mean, spline, Fourier, moments) have zero replicate variance.

Headline pair: σ_n² (``noise_var``, x) × ℓ (``length_scale``, y). These two hyperparameters
set the GP posterior that *is* the augmentation: ℓ decides how far the mean smooths the data,
σ_n² how wide the posterior band is and hence how much the sample paths — and their
signatures — scatter around it (spec §2, step 1). The spec's science is exactly here: GP-ES
tracks GP-mean in the near-deterministic limit σ_n² → 0 (§6.11) and falls below the
deterministic baselines when σ_n² is large (§4 panel 3, §5), and the spec names σ_n² as "the
key knob". The (σ_n², ℓ) plane is also the one the marginal-likelihood fit searches (§3).
Both span decades, so sweep them on a log range.

No closed-form boundary exists for accuracies: ``boundary`` is None.

``fixed`` is empty: one replicate at the tab's defaults (ItalyPowerDemand, 1096 series of 24
points, r = 1, M = 8, N = 4, all seven heads) takes ≈ 0.1 s on the 2-core reference machine
when it is quiet (0.17–0.25 s with other jobs sharing it), within the sweep budget, so sweeps
use the live values. The first replicate in a fresh process also pays the data load (≈ 1.5 s
to import sktime), once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from app.models.budget import MAX_JOB_BYTES
from app.models.signature import costs, head
from app.models.signature.data import DATASETS, UPLOAD, Dataset, load_dataset
from app.models.signature.features import (
    MAX_STORED_SAMPLES,
    FeatureConfig,
    FeatureSet,
    build_features,
)
from app.models.signature.model import MAX_GRID
from app.models.signature.params import SignatureParams
from app.models.signature.summary import FEATURE_MODES, MODE_LABELS, ChannelMap, mode_features
from app.sweeps.spec import ModelSweep, Outcome
from kernels import signature as S

__all__ = ["DATA_SIZES", "SWEEP", "effective_refine", "mode_accuracy", "run", "seconds"]

#: (train series, test series, channels, length) of each built-in data set, so that
#: :func:`seconds` needs no data load (checked against the loaders by the tests).
DATA_SIZES: dict[str, tuple[int, int, int, int]] = {
    "italy_power_demand": (67, 1029, 1, 24),
    "gunpoint": (50, 150, 1, 150),
    "arrow_head": (36, 175, 1, 251),
    "basic_motions": (40, 40, 6, 100),
    "synthetic_ou": (200, 200, 1, 100),
}

#: The outcome of the feature mode ``mode`` is called ``accuracy_<mode>``.
_MODE_DOCS = {
    "expected_signature": "the Monte Carlo expected signature (1/M) Σⱼ S(X⁽ʲ⁾) of M GP "
    "posterior samples per series [paper]",
    "mean_signature": "the signature S(m) of the GP posterior mean ('GP' baseline) [derived]",
    "raw_signature": "the signature of the raw series ('NoAug' baseline) [derived]",
    "spline_signature": "the signature of a cubic-spline interpolant on the refined grid ('CS' "
    "baseline) [derived]",
    "fourier_signature": "the signature of the trigonometric interpolant on the refined grid "
    "('FFT' baseline) [derived]",
    "sample_predictions": "one training row per sample signature, test class probabilities "
    "averaged over the samples (Moor et al.'s monte_carlo head) [literature]",
    "moments": "the signature of the (posterior mean, posterior variance) path with 2c channels "
    "(Moor et al.'s moments mode) [literature]",
}

OUTCOMES: tuple[Outcome, ...] = (
    *(
        Outcome(
            name=f"accuracy_{mode}",
            label=f"{MODE_LABELS[mode]} test accuracy",
            unit="",
            better="higher",
            doc=f"Fraction of test series classified correctly by standardise + logistic "
            f"regression on {_MODE_DOCS[mode]}, at depth N.",
        )
        for mode in FEATURE_MODES
    ),
    Outcome(
        name="gain_over_mean",
        label="GP-ES gain over GP-mean",
        unit="",
        better="higher",
        doc="GP-ES test accuracy minus GP-mean test accuracy: what the stochastic augmentation "
        "adds to (positive) or costs (negative) its own posterior mean [derived].",
    ),
)


# ------------------------------------------------------------------------------ the replicate
def _dataset(name: str) -> Dataset:
    """A built-in data set; an upload lives in one browser session and cannot be swept."""
    if name == UPLOAD:
        raise ValueError(
            "dataset 'upload' cannot be swept: an uploaded CSV lives in one browser session, "
            f"not in the sweep's worker processes; choose one of {', '.join(DATASETS)}"
        )
    return load_dataset(name)


def effective_refine(refine: int, length: int) -> int:
    r"""The grid refinement r the tab uses: ``refine`` capped so G = r(L−1)+1 ≤ MAX_GRID.

    Parameters
    ----------
    refine : int
        Requested refinement r (``grid_refine``).
    length : int
        Points L of the data set's series.

    Returns
    -------
    int
        :math:`\max(1, \min(r, \lfloor (G_{max}-1)/(L-1) \rfloor))`, as
        :meth:`~app.models.signature.model.SignatureModel.effective_refine` (spec §8).
    """
    return max(1, min(int(refine), (MAX_GRID - 1) // (length - 1)))


def _check_memory(values: Mapping[str, Any], data: Dataset, refine: int) -> None:
    """Refuse, as the tab does, a point whose feature job is over the memory limit of one
    piece of work (:data:`~app.models.budget.MAX_JOB_BYTES`): a worker process would run out
    of memory (the channel map at k = 6 on ItalyPowerDemand needs ≈ 5 GiB)."""
    sizes = costs.Sizes(
        n_series=data.n_series,
        n_train=len(data.y_train),
        channels=data.channels,
        length=data.length,
        grid=refine * (data.length - 1) + 1,
        add_time=bool(values["add_time"]),
        basepoint=bool(values["basepoint"]),
        lead_lag=bool(values["lead_lag"]),
    )
    need = costs.features_cost(
        sizes,
        int(values["n_samples"]),
        mode="sample_predictions",  # the largest: every mode is computed
        map_channels=int(values["map_channels"]),
    ).bytes
    if need > MAX_JOB_BYTES:
        raise ValueError(
            f"the feature computation of {data.name} (M = {values['n_samples']}, "
            f"r = {refine}, k = {values['map_channels']}) needs about {need / 2**20:.0f} MiB, "
            f"over the limit of {MAX_JOB_BYTES / 2**20:.0f} MiB per piece of work: lower M, "
            "the grid refinement r or the mapped channels k"
        )


def _sample(fs: FeatureSet, m: int) -> None:
    """Make the M = ``m`` expected signature available in ``fs``: the running sums of all M
    samples of every series in one kernel call (one parallel region instead of
    :meth:`FeatureSet.extend`'s per-snapshot, per-32-series calls). The sums are added in
    sample order, so they are bit-identical to ``extend(m)`` (the tab's numbers)."""
    x = fs.data.all_series()
    means = fs.post.mean(x)
    z = S.sample_normals(fs.config.seed, np.arange(len(x)), m, x.shape[1], fs.post.grid.size)
    sums, sumsq = np.zeros_like(fs.raw), np.zeros_like(fs.raw)
    S.gp_signature_sums(
        means,
        fs.post,
        z,
        fs.depth,
        sums=sums,
        sumsq=sumsq,
        store=fs.stored,
        store_from=0,
        chunk=len(x),
        **fs.config.aug_kwargs(),
    )
    fs.states[m] = (sums, sumsq)


def mode_accuracy(
    fs: FeatureSet,
    mode: str,
    *,
    m: int,
    depth: int,
    levelwise: bool,
    c: float,
    mapper: ChannelMap,
) -> float:
    r"""Test accuracy of one feature mode, exactly as the tab's selected-mode accuracy.

    Parameters
    ----------
    fs : FeatureSet
        Features with the M = ``m`` expected signature available.
    mode : str
        One of :data:`~app.models.signature.summary.FEATURE_MODES`.
    m : int
        Monte Carlo samples M.
    depth : int
        Depth N used by the head (≤ ``fs.depth``).
    levelwise : bool
        Level-wise standardisation (spec §2, step 5).
    c : float
        Inverse L2 strength C of the logistic-regression head.
    mapper : ChannelMap
        The optional random channel map A (identity when k = 0).

    Returns
    -------
    float
        :math:`\frac{1}{n_{test}}\sum_i 1[\hat y(\Phi(y_i)) = y_i]` with Φ the mode's feature
        truncated at depth N (for ``moments`` at most the moments' own maximal depth), the
        head fitted on the training split [derived]; ``inf`` when a feature is not finite
        (the signatures overflowed: a diverged run, which the sweep shows as such).
    """
    n = fs.n_train
    ytr, yte = fs.data.y_train, fs.data.y_test
    if mode == "sample_predictions":
        samples, d = mapper(fs.samples(m), fs.d_aug, fs.depth)
        if not np.all(np.isfinite(samples)):
            return math.inf
        return head.sample_prediction_accuracy(
            samples[:n], ytr, samples[n:], yte, d, depth, c, levelwise
        )
    features, feat_d, feat_depth = mode_features(fs, mode, m, depth)
    features, feat_d = mapper(features, feat_d, feat_depth if mode == "moments" else fs.depth)
    if not np.all(np.isfinite(features)):
        return math.inf
    return head.fit_accuracy(features[:n], ytr, features[n:], yte, feat_d, feat_depth, c, levelwise)


def run(values: Mapping[str, Any], seed: int) -> dict[str, float]:
    r"""One replicate: every feature mode's test accuracy at the parameter point ``values``.

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`~app.models.signature.params.SignatureParams` by name. Used:
        ``dataset``, ``kernel``, ``length_scale`` ℓ, ``signal_var`` σ_f², ``noise_var`` σ_n²,
        ``grid_refine`` r, ``add_time``, ``basepoint``, ``lead_lag``, ``n_samples`` M,
        ``depth`` N, ``standardise_levels``, ``head_c`` C, ``map_channels`` k. The display
        and Brownian-inset parameters do not change the accuracies.
    seed : int
        Keys the posterior samples z^(j) of every series and the channel map (it stands in
        for the tab's ``seed``).

    Returns
    -------
    dict of str to float
        ``accuracy_<mode>`` for every feature mode and ``gain_over_mean``:

        * GP posterior on G = r(L−1)+1 points, m = K_τt(K_tt + σ_n² I)⁻¹y,
          C = K_ττ − K_τt(K_tt + σ_n² I)⁻¹K_tτ [literature];
        * samples X^(j) = m + R z^(j), R Rᵀ = C, augmented by time and basepoint [paper];
        * GP-ES feature Φ̂(y) = (1/M) Σ_j S^{≤N}(X^(j)) [paper]; baselines S(y) (NoAug),
          S(m) (GP-mean), spline, Fourier, moments, per-sample predictions [derived],
          [literature];
        * accuracy = (1/n_test) Σ_i 1[ŷ_i = y_i] of level-wise standardisation + L2 logistic
          regression fitted on the training split [derived];
        * ``gain_over_mean`` = accuracy(GP-ES) − accuracy(GP-mean) [derived].

        Each in [0, 1] (gain in [−1, 1]); ``inf`` (diverged) for a mode whose features are
        not finite, and for the gain when either of its accuracies is.

    Raises
    ------
    ValueError
        For the ``upload`` data set (it lives in one browser session), a point whose feature
        job is over the memory limit the tab applies (``MAX_JOB_BYTES``), or a value the
        kernels refuse.
    """
    data = _dataset(str(values["dataset"]))
    refine = effective_refine(int(values["grid_refine"]), data.length)
    _check_memory(values, data, refine)
    config = FeatureConfig(
        dataset=data.name,
        kernel=str(values["kernel"]),
        length_scale=float(values["length_scale"]),
        signal_var=float(values["signal_var"]),
        noise_var=float(values["noise_var"]),
        grid_refine=refine,
        add_time=bool(values["add_time"]),
        basepoint=bool(values["basepoint"]),
        lead_lag=bool(values["lead_lag"]),
        seed=int(seed),
    )
    post = S.gp_posterior(data.length, **config.gp_kwargs())
    fs = build_features(config, data, post)
    m = int(values["n_samples"])
    _sample(fs, m)
    depth = min(int(values["depth"]), fs.depth)
    mapper = ChannelMap(int(values["map_channels"]), data.channels, config.add_time, int(seed))
    options = dict(
        m=m, depth=depth, levelwise=bool(values["standardise_levels"]), c=float(values["head_c"])
    )
    out = {
        f"accuracy_{mode}": mode_accuracy(fs, mode, mapper=mapper, **options)
        for mode in FEATURE_MODES
    }
    es, mean = out["accuracy_expected_signature"], out["accuracy_mean_signature"]
    out["gain_over_mean"] = es - mean if math.isfinite(es) and math.isfinite(mean) else math.inf
    return out


# ---------------------------------------------------------------------------------- the cost
# Per-operation seconds of one replicate, measured on the 2-core reference machine with other
# helpers' jobs sharing it (best of 3, the numba kernels compiled), on ItalyPowerDemand
# (r = 1, 4, 8; M = 8, 32, 64), GunPoint (r = 1, 2), ArrowHead, BasicMotions (N = 2, 4) and
# synthetic OU (r = 1, 4); measured totals 0.09–0.15 s at the defaults, 3.9 s at
# ItalyPowerDemand r = 8, M = 64. A signature costs per augmented point a loop overhead plus
# a part per coordinate: short signatures (d = 2) are overhead-bound, long ones (d = 7) are not.
#: Fixed cost of a replicate (Python, allocations, the head's bookkeeping): ≈ 0.01 s.
SEC_CALL = 0.01
#: Posterior: per grid point (kernel matrices, jitter retries; 7 ms at G = 150, 11 ms at
#: G = 397) and per G³ (factorisations; dominant only near the cap G = 600).
SEC_POSTERIOR_POINT = 4.0e-5
SEC_POSTERIOR = 2.0e-10
#: Per signature coordinate and augmented point (7e-10 from BasicMotions, d = 7, where the
#: per-point overhead is negligible).
SEC_SIG = 7.0e-10
#: Per augmented point of the five deterministic batch signatures (augmentation, copies:
#: 3.4e-7 from ItalyPowerDemand r = 8 against BasicMotions) and of a Monte Carlo sample's
#: fused signature (1.0e-7).
SEC_BATCH_POINT = 3.4e-7
SEC_MC_POINT = 1.0e-7
#: Per multiply-add of a sample path X = m + Rz, c·G²/2 with the triangular root (0.5e-9 to
#: 1.1e-9 from ItalyPowerDemand r = 8, M = 64 and synthetic OU r = 4).
SEC_PATH = 0.8e-9
#: Per standard normal drawn (2.5e-8 at 13 M draws) and per series' generator (1e-5).
SEC_NORMAL = 2.5e-8
SEC_RNG = 1.0e-5
#: Per n·p·(min(n, p) + 100) of a logistic-regression fit on n rows of p features (0.6e-9 to
#: 2e-9 on BasicMotions), plus a fixed cost per fit (3–12 ms on small fits).
SEC_FIT = 1.0e-9
SEC_FIT_CALL = 0.005
#: Per (row × depth × mapped signature coordinate × channel) of the channel map A^⊗k (numpy
#: tensordot with axis moves; over whole ItalyPowerDemand replicates 1.4e-9 at k = 2,
#: 0.8e-9 at k = 3 and at k = 2 with M = 32).
SEC_MAP = 1.2e-9


def _fit_seconds(rows: float, p: float) -> float:
    return SEC_FIT * rows * p * (min(rows, p) + 100) + SEC_FIT_CALL


def seconds(values: Mapping[str, Any]) -> float:
    r"""Estimated single-core seconds of one :func:`run` at ``values``.

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`~app.models.signature.params.SignatureParams` by name.

    Returns
    -------
    float
        With S series (n of them for training), c channels, L points, G = r(L−1)+1 grid
        points, q_L and q_G augmented points of a raw and a grid path, n_sig and n_mom the
        signature lengths at the maximal depth, p the head's feature length at depth N and M
        samples:

        .. math:: t = t_0 + a_1 G + a_3 G^3
                  + S\,[b\,(q_L + 4 q_G) + s\,(q_L n_{sig} + q_G(3 n_{sig} + n_{mom}))]
                  + S\,[e_0 + M(e\,cG + f\,cG^2/2 + q_G(h + s\,n_{sig}))]
                  + 6\,t_{fit}(n, p) + t_{fit}(n\min(M, 16), p),

        :math:`t_{fit}(n, p) = k\,n p(\min(n, p) + 100) + t_1`: the posterior, the five
        deterministic signatures (raw, mean, moments, spline, Fourier), the normals, the Monte
        Carlo paths and signatures, the seven heads; constants measured on the reference
        machine (module constants) [derived]. The first data load of a process (≈ 1.5 s to
        import sktime) is not included.
    """
    name = str(values["dataset"])
    n_train, n_test, channels, length = DATA_SIZES.get(name, DATA_SIZES[DATASETS[0]])
    refine = effective_refine(int(values["grid_refine"]), length)
    sizes = costs.Sizes(
        n_series=n_train + n_test,
        n_train=n_train,
        channels=channels,
        length=length,
        grid=refine * (length - 1) + 1,
        add_time=bool(values["add_time"]),
        basepoint=bool(values["basepoint"]),
        lead_lag=bool(values["lead_lag"]),
    )
    s, g, c, n_sig = sizes.n_series, sizes.grid, channels, sizes.n_sig
    q_raw, q_grid = sizes.points(length), sizes.points(g)
    m = int(values["n_samples"])
    depth = min(int(values["depth"]), sizes.depth)
    k = int(values["map_channels"])
    p = S.sig_length(sizes.mapped_dim(k), depth)
    t = SEC_CALL + SEC_POSTERIOR_POINT * g + SEC_POSTERIOR * g**3
    t += s * SEC_BATCH_POINT * (q_raw + 4 * q_grid)
    t += s * SEC_SIG * (q_raw * n_sig + q_grid * (3 * n_sig + sizes.n_moments))
    t += s * (SEC_RNG + m * (SEC_NORMAL * c * g + SEC_PATH * c * g * g / 2))
    t += s * m * q_grid * (SEC_MC_POINT + SEC_SIG * n_sig)
    t += 6 * _fit_seconds(n_train, p) + _fit_seconds(n_train * min(m, MAX_STORED_SAMPLES), p)
    if k:  # A^⊗k per level: six modes' features (S rows) and the stored samples (S·min(M, 16))
        k_dim = sizes.mapped_dim(k)
        n_out = S.sig_length(k_dim, sizes.depth)
        rows = s * (6 + min(m, MAX_STORED_SAMPLES))
        t += SEC_MAP * rows * sizes.depth * n_out * max(k_dim, sizes.d_aug)
    return float(t)


SWEEP = ModelSweep(
    slug="signature",
    params_class=SignatureParams,
    parameters=("noise_var", "length_scale", "n_samples", "depth", "signal_var", "head_c"),
    headline=("noise_var", "length_scale"),
    outcomes=OUTCOMES,
    run=run,
    seconds=seconds,
    boundary=None,
    boundary_label="",
    fixed={},
)
