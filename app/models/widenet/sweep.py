r"""Parameter sweeps of the Wasserstein-convergence tab (issue 15 item 1): :data:`SWEEP`.

One replicate (:func:`run`) samples M random networks with the tab's own study
(:func:`kernels.widenet.studies.width_sweep`, one replicate, no baseline, one thread) at the
widths of the slope fit, :math:`n = 2^j` from ``width_min`` to ``width_max`` (the live view's
:func:`app.models.widenet.studies.powers_of_two`), plus the width ``width`` itself, and measures
the output at the first input :math:`x_1 = \sqrt2(1, 0)` against its Gaussian-process limit
:math:`\mathcal N(0, K_{11})` exactly as the live view's panels B and E do
(:mod:`app.models.widenet.curves`): the same target (the NNGP kernel under the live
first-layer kernel), the same estimator (``auto``: Rao–Blackwell for a Gaussian readout, else
quantile), the same floor cut and floor correction. Outcomes, spec ``models/widenet.md``:

* ``w2``: :math:`\hat W_2` at width n (§4 B) [derived estimator, target [literature]/[derived]];
* ``w2_slope``: the rate of :math:`\hat W_2` in the width fitted above twice the noise floor
  (§4 B, §6.14) [derived]; NaN when fewer than two widths sit above it (nothing measurable: an
  exactly Gaussian output, or a floor as high as the distance);
* ``skewness``, ``excess_kurtosis`` at width n (§4 E; exact for L = 1, §6.4) [derived].

Differences from the live view, all on purpose:

* the width is measured at n itself, not snapped to the nearest power of two of the slope's
  grid, so a width axis is not quantised (at a power of two inside the grid, the default 64,
  the two coincide);
* one replicate is one sample of M networks; the sweep's R replicates (mean ± SE) replace the
  live ``n_replicates``, and its seed replaces ``seed``; the slope is fitted per replicate;
* only x₁ is sampled (``n_inputs`` = 1): every outcome is a property of y(x₁), whose law and
  samples do not depend on the other inputs (so ``n_inputs`` and ``input_angle`` are not
  sweepable);
* :data:`FIXED` lightens the live sizes (below).

**Headline pair: width n × depth L** (``width`` × ``n_hidden``). The tab's science is the
convergence of deep networks to their Gaussian limit in the width: the paper's W2 bounds are in
n for a network of L hidden layers, proved by swapping the weights layer by layer, and how the
rate depends on the depth is the spec's first open question (§9.1). Every row of the heatmap is
a convergence curve (panel B), every column shows what depth does at one width: with centred
Exp weights the deeper nets start farther from their limit and end closer (spec §6.11: 0.51
against 0.47 at n = 4, 0.125 against 0.164 at n = 64), with Gaussian weights depth moves every
width away. The width axis proposes n = 2–128 (:data:`RANGES`): at L ≥ 2 a replicate draws
M (L − 1) n² weights, so over the width's full bounds (2–1024) the corner n = 1024, L = 4 alone
takes ≈ 60 s a replicate and a default 8 × 8 × 4 sweep about 20 single-core minutes; over
2–128 it takes about 80 s (the live width 64 inside the heatmap). The cheap alternative at the
live L = 1 is width × C_b (about 15 s), but C_b moves W2 by little more than its scale.

**Fixed sizes** (:data:`FIXED`, used unless the user sets them): M = 5000 networks instead of
the live 20,000 and a slope grid up to n = 64 instead of 256. At the default point (ReLU,
centred Exp weights) W2 is ≈ 0.16 at n = 64 against a quantile noise floor
F_M ≈ 1.15 σ √(log log M / M) ≈ 0.021 (§6.13), eight times above it, and every width of the
grid 2–64 lies above 2F_M, so the fitted slope (≈ −0.4, the spec's §6.14 range [−0.6, −0.3]
for n = 4–64) is the one the live view fits; a replicate takes 0.01–0.03 s (quiet to busy
machine) instead of ≈ 0.2–0.4 s.
The grid's upper end matters only for depth: at L = 2 the 2–256 grid costs 16 times the
2–64 grid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from app.models.widenet.costs import ACTIVATION_NS, SHALLOW_DRAW_NS, net_seconds
from app.models.widenet.params import WidenetControls
from app.models.widenet.studies import nngp_target, powers_of_two
from app.sweeps.spec import ModelSweep, Outcome
from kernels import widenet as W
from kernels.widenet.studies import SweepConfig, w2_table, width_sweep

__all__ = [
    "FIXED",
    "OUTCOMES",
    "PARAMETERS",
    "RANGES",
    "SWEEP",
    "first_layer_seconds",
    "run",
    "seconds",
    "sweep_config",
]

#: Sweepable parameters, most useful first (module docstring: why not ``n_inputs`` and
#: ``input_angle``; ``n_replicates`` and ``seed`` are the sweep's own).
PARAMETERS = (
    "width",
    "n_hidden",
    "c_b",
    "t_dof",
    "c_w",
    "n_nets",
    "width_max",
    "width_min",
)

#: Lighter sizes than the live view's (module docstring: why they still show the effect).
FIXED: dict[str, Any] = {"n_nets": 5000, "width_max": 64}
#: The width range an axis proposes (its bounds reach 1024: module docstring, headline pair).
RANGES: dict[str, tuple[float, float]] = {"width": (2.0, 128.0)}

OUTCOMES = (
    Outcome(
        "w2",
        "W2 at width n",
        "",
        "lower",
        "2-Wasserstein distance between the output y(x₁) of M networks of width n and its "
        "Gaussian-process limit N(0, K₁₁), by the live view's estimator (quantile, or "
        "Rao–Blackwell for a Gaussian readout).",
    ),
    Outcome(
        "w2_slope",
        "fitted slope of W2 in width",
        "",
        "lower",
        "Least-squares slope of log W2 against log n over the widths 2^j from the smallest to "
        "the largest width that lie above twice the noise floor (−1/2 for skewed or lattice "
        "laws, −1 for smooth symmetric ones; NaN if fewer than two widths are above it).",
    ),
    Outcome(
        "skewness",
        "skewness at width n",
        "",
        "none",
        "Sample skewness of y(x₁) at width n (exactly E v³ Eσ³ C_W^(3/2) / (K^(3/2) √n) for "
        "one hidden layer: it vanishes like n^-1/2 only if E w³ ≠ 0).",
    ),
    Outcome(
        "excess_kurtosis",
        "excess kurtosis at width n",
        "",
        "none",
        "Sample excess kurtosis of y(x₁) at width n (of order E w⁴ / n for one hidden layer).",
    ),
)

# ---- cost model, calibrated on the 2-core machine (numba 0.68, one thread, warm caches) -------
# run() timed (best of 3) at 24 points: L = 1–3, widths 2–1024, M = 2000–10,000, every weight
# law, relu/tanh/erf, quantile and Rao–Blackwell, slope grids up to 64, 256 and 1024; twice,
# with other sessions loading the machine to ≈ 4 and ≈ 6.5. The sampling follows the live view's
# per-network model (costs.net_seconds, measured there under load 4–6 with two numba threads):
# one thread here took 0.45–0.6 (load 4) and 0.9–1.1 (load 6.5) times it for one hidden layer,
# 0.6–1.3 for deeper nets; the constants sit between the two loads, so that a quiet and a busy
# machine are both within a factor 2 (the default point: 0.012 s at load 4, 0.026 s at 6.5).
#: Sampling, one hidden layer (prefix sweep over n_max units), × costs.net_seconds.
SHALLOW_FACTOR = 0.7
#: Sampling, two or more hidden layers (M (L − 1) n² weights per width), × costs.net_seconds.
DEEP_FACTOR = 1.0
#: Reduction to statistics per (width, network) of x₁ (sorts, moments, Rao–Blackwell bins):
#: fitted 0.11 µs (load 4) and 0.47 µs (load 6.5) at M = 2000–10,000.
REDUCE_S = 0.35e-6
#: Rao–Blackwell mixture W2 (256 bins × Gauss–Hermite nodes) per width (fitted 3–7 ms).
MIXTURE_S = 4.0e-3
#: Per replicate: configs, the floor band lookup, the fit (fitted 1–3 ms).
OVERHEAD_S = 2.0e-3
#: The true first-layer kernel's Monte Carlo (10⁷ samples, spec §2 "Discretisation") runs once
#: per (weight law, activation, C_W, C_b, ν) and worker process, then is cached: ≈ 0.6 s for
#: ReLU with centred Exp weights, up to ≈ 3 s for tanh with Student-t weights. :func:`seconds`
#: leaves it out (it is not a per-replicate cost; see :func:`first_layer_seconds`).
FIRST_LAYER_SAMPLES = 10**7
#: Per sample of that Monte Carlo beyond its draws (measured 0.6 s for 10⁷ at ReLU, centred
#: Exp, k = 1 with 3 draws of 5 ns: 45 ns of loop and accumulation).
FIRST_LAYER_OVERHEAD_NS = 45.0


def _int(values: Mapping[str, Any], name: str) -> int:
    return round(float(values[name]))


def sweep_config(values: Mapping[str, Any], seed: int = 0) -> tuple[SweepConfig, int]:
    r"""The one-replicate study of a parameter point, and the width n of the outcomes.

    The config of :meth:`app.models.widenet.model.WidenetModel.sweep_config` with one input
    (:math:`x_1`), one replicate and seed ``seed``, whose widths are the slope grid
    :math:`2^j \in [\text{width\_min}, \text{width\_max}]` together with n [derived].

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`WidenetControls` by name.
    seed : int >= 0
        The replicate's seed (``SeedSequence([seed, 0, 0])`` draws the networks).

    Returns
    -------
    (SweepConfig, int)
        The config and the width n (an element of ``config.widths``).
    """
    law = str(values["weight_law"])
    n_hidden = _int(values, "n_hidden")
    first = "gaussian" if values["first_layer_law"] == "force_gaussian" else law
    lo, hi = sorted((_int(values, "width_min"), _int(values, "width_max")))
    width = _int(values, "width")
    widths = tuple(sorted(set(powers_of_two(lo, hi)) | {width}))
    cfg = SweepConfig(
        layer_laws=(first,) + (law,) * n_hidden,
        activation=str(values["activation"]),
        n_hidden=n_hidden,
        c_w=float(values["c_w"]),
        c_b=float(values["c_b"]),
        readout_bias=bool(values["readout_bias"]),
        t_dof=float(values["t_dof"]),
        n_inputs=1,
        input_angle=float(values["input_angle"]),
        widths=widths,
        n_nets=_int(values, "n_nets"),
        n_replicates=1,
        seed=int(seed),
    )
    return cfg, width


def _target_variance(cfg: SweepConfig, values: Mapping[str, Any]) -> float:
    """K₁₁ under the live first-layer kernel (:meth:`WidenetModel.target`)."""
    gh = _int(values, "gh_degree") if cfg.activation == "tanh" else None
    first = (
        "gaussian_formula" if cfg.layer_laws[0] == "gaussian" else str(values["first_layer_kernel"])
    )
    k = nngp_target(cfg, first, gh)
    return float(k[0, 0])


def _estimator(cfg: SweepConfig, asked: str) -> str:
    """The live view's effective estimator (:meth:`WidenetModel.effective_estimator`)."""
    gaussian_readout = cfg.layer_laws[-1] == "gaussian"
    if asked == "auto":
        return "rao_blackwell" if gaussian_readout else "quantile"
    if asked == "rao_blackwell" and not gaussian_readout:
        return "quantile"
    return asked


def run(values: Mapping[str, Any], seed: int) -> dict[str, float]:
    r"""One replicate: M networks at every width of the grid and at n, measured at x₁.

    With :math:`y_{(1)} \le \dots \le y_{(M)}` the sorted outputs at width n and
    :math:`z_i = \Phi^{-1}((i - \tfrac12)/M)`:

    .. math::
        \hat W_2 = \Big(\frac1M\sum_i \big(y_{(i)} - \sqrt{K_{11}}\,z_i\big)^2\Big)^{1/2}
        \quad\text{(quantile)},\qquad
        \hat W_2 = W_2\Big(\frac1M\sum_m \mathcal N(0, \hat s_m^2),\ \mathcal N(0, K_{11})\Big)
        \quad\text{(Rao–Blackwell, Gaussian readout)},

    or against a sorted N(0, 1) sample (``two_sample``), optionally floor-corrected
    :math:`\sqrt{\max(\hat W^2 - F_M^2, 0)}` [derived]; :math:`K_{11}` is the NNGP limit
    (recursion [literature], true first-layer law [derived]).

    .. math::
        \log\hat W_2(n) \approx a + \beta \log n \ \text{over}\ \{n = 2^j : \hat W_2(n) > 2F_M\}
        \ \text{(no cut for Rao–Blackwell)},\qquad \text{w2\_slope} = \beta

    [derived]; predicted β = −1/2 for E w³ ≠ 0 or lattice features, −1 for smooth symmetric
    laws (spec §4 B, §7) [literature]/[derived].

    .. math::
        \hat\kappa_3 = \overline{d^3} / \overline{d^2}^{3/2},\qquad
        \hat\kappa_4 = \overline{d^4} / \overline{d^2}^{2} - 3,\qquad d = y - \bar y,

    at width n; for one hidden layer exactly
    :math:`\sqrt n\,\kappa_3 = C_W^{3/2}\mathbb E v^3\,\mathbb E\sigma^3/K^{3/2}` and
    :math:`n\,\kappa_4 = C_W^2(\mathbb E v^4\,\mathbb E\sigma^4 - 3(\mathbb E\sigma^2)^2)/K^2`
    (spec §6.4) [derived].

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`WidenetControls` by name (within bounds).
    seed : int >= 0
        The replicate's seed.

    Returns
    -------
    dict of str to float
        ``w2``, ``w2_slope``, ``skewness``, ``excess_kurtosis``; all NaN if the outputs
        overflowed (diverged); ``w2_slope`` alone NaN if fewer than two widths of the grid lie
        above twice the floor.
    """
    cfg, width = sweep_config(values, seed)
    variance = _target_variance(cfg, values)
    try:
        res = width_sweep(cfg, with_baseline=False, n_threads=1)
    except FloatingPointError:  # the kernel's overflow check: a diverged replicate
        return {o.name: math.nan for o in OUTCOMES}
    est = _estimator(cfg, str(values["estimator"]))
    stats = {name: v[:, :, :1] for name, v in res["main"].items() if name != "cov"}
    w2 = w2_table(stats, np.array([variance]), est, res["z2"], res["g2"])[0, :, 0]
    floor = W.floor_band(cfg.n_nets, variance)
    floor_value = floor["two_sample"] if est == "two_sample" else floor["mean"]
    if values["floor_correction"] and est != "rao_blackwell":
        w2 = W.floor_corrected(w2, floor["two_sample"] if est == "two_sample" else floor["rms"])
    widths = np.asarray(cfg.widths)
    lo, hi = sorted((_int(values, "width_min"), _int(values, "width_max")))
    grid = np.isin(widths, powers_of_two(lo, hi))
    slope, _ = W.fit_slope(widths[grid], w2[grid], None if est == "rao_blackwell" else floor_value)
    i = int(np.flatnonzero(widths == width)[0])
    return {
        "w2": float(w2[i]),
        "w2_slope": float(slope),
        "skewness": float(res["main"]["skew"][0, i, 0]),
        "excess_kurtosis": float(res["main"]["kurt"][0, i, 0]),
    }


def seconds(values: Mapping[str, Any]) -> float:
    r"""Estimated single-core seconds of one :func:`run` at ``values`` (warm caches).

    .. math::
        t = f_L\,M\,t_{\text{net}}(\text{laws}, \sigma, L, \text{widths}, C_b)
            + M\,|\text{widths}|\,t_{\text{red}} + |\text{widths}|\,t_{\text{mix}}1_{RB}
            + t_0,

    with :math:`t_{\text{net}}` the live view's per-network sampling model
    (:func:`app.models.widenet.costs.net_seconds`: :math:`\propto n_{\max}` for one hidden layer,
    :math:`\propto \sum_n (L-1)n^2` for deeper nets) and the constants of this module, measured
    on the 2-core machine [derived]. The true first-layer Monte Carlo, cached per process, is not
    included (:func:`first_layer_seconds`).

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`WidenetControls` by name.

    Returns
    -------
    float
        Seconds.
    """
    cfg, _ = sweep_config(values)
    m, n_w = cfg.n_nets, len(cfg.widths)
    factor = SHALLOW_FACTOR if cfg.n_hidden == 1 else DEEP_FACTOR
    t = factor * m * net_seconds(cfg) + m * n_w * REDUCE_S + OVERHEAD_S
    if _estimator(cfg, str(values["estimator"])) == "rao_blackwell":
        t += n_w * MIXTURE_S
    return float(t)


def first_layer_seconds(values: Mapping[str, Any]) -> float:
    r"""Seconds of the true first-layer kernel's Monte Carlo at ``values`` (0 when none runs).

    .. math:: t = N_{MC}\,\big((n_0 + 1)\,t_{\text{draw}} + t_\sigma + t_{\text{loop}}\big),
        \qquad N_{MC} = 10^7

    It runs once per (weight law, activation, C_W, C_b, ν) and process (exact enumeration for
    Rademacher, closed forms for Gaussian weights or the Gaussian-formula target) [derived].

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`WidenetControls` by name.

    Returns
    -------
    float
        Seconds (not part of :func:`seconds`).
    """
    cfg, _ = sweep_config(values)
    law = cfg.layer_laws[0]
    if law in ("gaussian", "rademacher") or values["first_layer_kernel"] != "true_law":
        return 0.0
    per = 3 * SHALLOW_DRAW_NS[law] + ACTIVATION_NS[cfg.activation] + FIRST_LAYER_OVERHEAD_NS
    return FIRST_LAYER_SAMPLES * per * 1e-9


SWEEP = ModelSweep(
    slug="widenet",
    params_class=WidenetControls,
    parameters=PARAMETERS,
    headline=("width", "n_hidden"),
    outcomes=OUTCOMES,
    run=run,
    seconds=seconds,
    boundary=None,
    boundary_label="",
    fixed=FIXED,
    ranges=RANGES,
)
