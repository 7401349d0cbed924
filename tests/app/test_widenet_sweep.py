"""The widenet tab's sweep interface (issue 15 item 1): :mod:`app.models.widenet.sweep`.

Declarations against the param class; one replicate's determinism; every outcome against the
spec's numbers (``models/widenet.md`` §6) or against the live view's own code path; the cost
estimate against the clock (slow).
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cache

import numpy as np
import param
import pytest
from scipy.stats import norm

from app.models.widenet import WidenetModel, curves
from app.models.widenet import sweep as S
from app.models.widenet.params import WidenetControls
from app.sweeps.spec import ModelSweep
from kernels import widenet as W
from kernels.widenet.studies import width_sweep

SWEEP = S.SWEEP
#: Every parameter at its default, with the sweep's fixed sizes over it (what a sweep runs
#: when the live view sits at its defaults).
DEFAULTS = {name: p.default for name, p in WidenetControls.param.objects().items()}
DEFAULTS.update(SWEEP.fixed)


def point(**changes) -> dict:
    return {**DEFAULTS, **changes}


@cache
def _replicates(items: tuple, n_rep: int) -> dict[str, np.ndarray]:
    values = dict(items)
    runs = [S.run(values, seed) for seed in range(n_rep)]
    return {name: np.array([r[name] for r in runs]) for name in runs[0]}


def replicates(n_rep: int = 6, **changes) -> dict[str, np.ndarray]:
    """Each outcome over seeds 0 … n_rep − 1 at ``point(**changes)`` (cached across tests)."""
    return _replicates(tuple(sorted(point(**changes).items())), n_rep)


def mean_se(x: np.ndarray) -> tuple[float, float]:
    return float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(x.size))


# ------------------------------------------------------------------------------ declarations
def test_declarations_match_the_param_class():
    assert isinstance(SWEEP, ModelSweep) and SWEEP.slug == "widenet"
    assert SWEEP.params_class is WidenetControls
    for name in SWEEP.parameters:
        p = WidenetControls.param[name]
        assert isinstance(p, param.Number), name  # param.Integer is a param.Number
        assert p.bounds is not None and None not in p.bounds, name
        assert not p.constant, name
    assert len(set(SWEEP.parameters)) == len(SWEEP.parameters)
    assert set(SWEEP.headline) <= set(SWEEP.parameters)
    assert SWEEP.headline[0] != SWEEP.headline[1]
    names = [o.name for o in SWEEP.outcomes]
    assert names[:2] == ["w2", "w2_slope"]  # the two, the default first
    assert len(set(names)) == len(names)
    for o in SWEEP.outcomes:
        assert o.better in ("higher", "lower", "none") and o.doc and o.label
        assert "$" not in o.label and "\\" not in o.label  # plain Unicode, no TeX
    assert SWEEP.boundary is None and SWEEP.boundary_label == ""  # no closed-form boundary


def test_fixed_values_are_in_bounds_and_light():
    for name, value in SWEEP.fixed.items():
        lo, hi = WidenetControls.param[name].bounds
        assert lo <= value <= hi, name
    # the brief's budget: one replicate at the defaults ≤ ~0.2 s (the live sizes cost ~0.17 s
    # by the same model and ~0.4 s measured in-process)
    assert SWEEP.seconds(DEFAULTS) < 0.05
    live = {name: p.default for name, p in WidenetControls.param.objects().items()}
    assert SWEEP.seconds(live) > 3 * SWEEP.seconds(DEFAULTS)


def test_default_headline_sweep_is_affordable():
    # the panel's default: 8 × 8 cells over the proposed ranges (else the bounds; log when they
    # span more than 20×), 4 replicates. Width × depth over the width's full bounds would be
    # ≈ 20 min single-core (module docstring); over the proposed 2–128 it must stay near the
    # brief's 256 runs × 0.2 s ≈ 51 s (≈ 80 s: within 2 minutes)
    assert set(SWEEP.ranges) <= set(SWEEP.parameters)
    axes = []
    for name in SWEEP.headline:
        p = WidenetControls.param[name]
        lo, hi = SWEEP.ranges.get(name, p.bounds)
        assert p.bounds[0] <= lo < hi <= p.bounds[1], name
        grid = np.geomspace(lo, hi, 8) if hi / lo > 20 else np.linspace(lo, hi, 8)
        axes.append(np.round(grid) if isinstance(p, param.Integer) else grid)
        assert lo <= DEFAULTS[name] <= hi  # the live point is inside the heatmap
    total = 4 * sum(
        SWEEP.seconds(point(**{SWEEP.headline[0]: x, SWEEP.headline[1]: y}))
        for x in axes[0]
        for y in axes[1]
    )
    assert total < 120.0, total


def test_seconds_grow_with_the_work():
    base = SWEEP.seconds(DEFAULTS)
    for change in (
        {"width": 1024},
        {"n_nets": 20_000},
        {"n_hidden": 2},
        {"weight_law": "student_t"},
        {"activation": "tanh"},
        {"width_max": 256},
    ):
        assert SWEEP.seconds(point(**change)) > base, change
    # depth costs (L − 1) n² per network: the width × depth corner the docstring names
    assert SWEEP.seconds(point(width=1024, n_hidden=4)) > 30.0
    assert S.first_layer_seconds(DEFAULTS) > 0.1  # centred Exp: the 10⁷-sample Monte Carlo
    assert S.first_layer_seconds(point(weight_law="rademacher")) == 0.0  # exact enumeration


# ------------------------------------------------------------------------------ one replicate
def test_run_returns_every_outcome_finite_and_deterministic():
    a = S.run(DEFAULTS, 11)
    assert list(a) == [o.name for o in SWEEP.outcomes]
    assert all(isinstance(v, float) and math.isfinite(v) for v in a.values()), a
    b = S.run(dict(DEFAULTS), 11)
    assert all(a[k] == b[k] for k in a)  # bit-identical
    c = S.run(DEFAULTS, 12)
    assert all(a[k] != c[k] for k in a)  # every outcome is random


def test_run_ignores_the_other_inputs():
    # the outcomes are at x₁; in the kernel, y(x₁) of a network does not depend on the other
    # inputs (same weight streams), which is why run() samples x₁ alone
    cfg, _ = S.sweep_config(point(n_nets=600), seed=3)
    one = width_sweep(cfg, with_baseline=False, n_threads=1)["samples"][..., 0]
    three_inputs = replace(cfg, n_inputs=3, input_angle=40.0)
    three = width_sweep(three_inputs, with_baseline=False, n_threads=1)["samples"][..., 0]
    np.testing.assert_array_equal(one, three)
    assert S.run(point(n_inputs=3, input_angle=20.0), 5) == S.run(DEFAULTS, 5)


def test_a_diverged_replicate_is_all_nan(monkeypatch):
    def overflow(*args, **kwargs):
        raise FloatingPointError("network outputs overflowed")

    monkeypatch.setattr(S, "width_sweep", overflow)
    out = S.run(DEFAULTS, 0)
    assert set(out) == {o.name for o in SWEEP.outcomes}
    assert all(math.isnan(v) for v in out.values())


# ------------------------------------------------------------------- the live view's numbers
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"weight_law": "gaussian"},  # Rao–Blackwell (auto), no floor cut
        {"estimator": "two_sample", "floor_correction": True},
        {
            "weight_law": "rademacher",
            "activation": "tanh",
            "first_layer_kernel": "gaussian_formula",
        },
    ],
    ids=["default", "rao_blackwell", "two_sample_corrected", "gaussian_formula"],
)
def test_w2_and_slope_are_the_live_views(changes):
    # The live view computes panel B from a width sweep with curves.sweep_curves; a width sweep
    # of one replicate over the same widths and seed must give the same W2 and slope (exactly:
    # the same arithmetic) — the sweep's numbers are the tab's numbers.
    values = point(n_nets=2000, **changes)
    seed = 7
    cfg, width = S.sweep_config(values, seed)
    assert width in cfg.widths == tuple(2**j for j in range(1, 7))  # 64: on the grid
    live = {k: values[k] for k in (*WidenetControls.restart_params, *WidenetControls.live_params)}
    model = WidenetModel(**live)
    c = curves.sweep_curves(model, width_sweep(cfg, with_baseline=False, n_threads=1))
    out = S.run(values, seed)
    i = cfg.widths.index(width)
    assert out["w2"] == pytest.approx(c["w2"][i], rel=1e-12, abs=1e-15)
    if math.isnan(c["slope"]):
        assert math.isnan(out["w2_slope"])
    else:
        assert out["w2_slope"] == pytest.approx(c["slope"], rel=1e-12)


def test_w2_against_an_independent_quantile_computation():
    # plain numpy + scipy on the samples of the same replicate: sorted outputs against
    # √K Φ⁻¹((i − ½)/M); tolerance 1e-6: the stored samples are float32 (relative 6e-8)
    seed = 4
    cfg, width = S.sweep_config(DEFAULTS, seed)
    res = width_sweep(cfg, with_baseline=False, n_threads=1)
    y = np.sort(res["samples"][cfg.widths.index(width), :, 0].astype(float))
    m = y.size
    k = float(cfg.target()[0, 0])
    w2 = math.sqrt(np.mean((y - math.sqrt(k) * norm.ppf((np.arange(m) + 0.5) / m)) ** 2))
    assert S.run(DEFAULTS, seed)["w2"] == pytest.approx(w2, abs=1e-6)


# --------------------------------------------------------------------- the spec's analytic facts
#: Spec §6.11, ReLU with centred Exp weights under S1 (the defaults), M = 2·10⁵.
REFERENCE_W2 = {8: 0.36, 16: 0.29, 64: 0.164, 128: 0.122}


def test_w2_decreases_with_width_like_the_reference():
    means = {}
    for n, ref in REFERENCE_W2.items():
        mean, se = mean_se(replicates(width=n)["w2"])
        means[n] = mean
        # spec §6.11: ±10 % where Ŵ > 2F_M (F_M ≈ 0.021 at M = 5000: every width here), plus
        # 3 standard errors of our 6-replicate mean (M = 5000 is 40 times smaller)
        assert abs(mean - ref) <= 0.10 * ref + 3 * se, (n, mean, ref, se)
    assert list(means.values()) == sorted(means.values(), reverse=True)


def test_slope_brackets_the_spec_rates():
    # spec §6.14 (L = 1, n = 4–64): [−0.6, −0.3] for centred Exp, [−1.2, −0.8] for Gaussian
    # weights; the bracket must hold for every replicate, not only on average
    skewed = replicates()["w2_slope"]
    assert np.all((skewed > -0.6) & (skewed < -0.3)), skewed
    gauss = replicates(weight_law="gaussian", width_min=4)["w2_slope"]
    assert np.all((gauss > -1.2) & (gauss < -0.8)), gauss


def test_gaussian_weights_sandwich_values():
    # spec §6.9 (ReLU, Gaussian weights, L = 1, S1): Rao–Blackwell W2 = 0.0163 at n = 64 and
    # 0.00428 at n = 256, tolerance 5 % (the spec's), plus 3 SE of our 4-replicate mean
    for n, ref in ((64, 0.0163), (256, 0.00428)):
        mean, se = mean_se(replicates(4, weight_law="gaussian", width=n)["w2"])
        assert abs(mean - ref) <= 0.05 * ref + 3 * se, (n, mean, ref, se)


def test_exactly_gaussian_output_sits_on_the_floor():
    # spec §6.7: Gaussian first layer, linear activation, Rademacher readout: y ~ N(0, K)
    # exactly (K = C_W (C_W + C_b) = 1.1), so Ŵ is the estimator's noise floor F_M at every
    # width and no rate is measurable (slope NaN)
    r = replicates(
        8, weight_law="rademacher", first_layer_law="force_gaussian", activation="linear"
    )
    floor = W.floor_band(SWEEP.fixed["n_nets"], 1.1)
    sd = (floor["hi"] - floor["lo"]) / 3.92  # the floor's 95 % band is ±1.96 SD
    mean = float(np.mean(r["w2"]))
    assert abs(mean - floor["mean"]) < 4 * sd / math.sqrt(8), (mean, floor)
    assert np.all(np.isnan(r["w2_slope"]))


def test_first_layer_trap_plateau():
    # spec §3a/§6.3 (tanh, Rademacher, S1): the Gaussian-formula target misses the true one by
    # |√K_true − √K_gauss| = 0.100847. For the same samples the quantile estimator is an ℓ²
    # distance to √K·z, so by the triangle inequality
    # |Ŵ(K_gauss) − Ŵ(K_true)| ≤ 0.100847·√(mean z²) — exactly, replicate by replicate — and
    # since Ŵ(K_true) is small (the true law converges), Ŵ(K_gauss) is the plateau.
    trap = {"weight_law": "rademacher", "activation": "tanh"}
    m = SWEEP.fixed["n_nets"]
    z = norm.ppf((np.arange(m) + 0.5) / m)
    gap = 0.100847 * math.sqrt(float(np.mean(z**2)))
    for n in (16, 256):
        true = replicates(4, width=n, **trap)["w2"]
        gauss = replicates(4, width=n, first_layer_kernel="gaussian_formula", **trap)["w2"]
        assert np.all(true < 0.05), true  # §6.11: 0.020 at n = 16 (M = 2·10⁵) + floor
        assert np.all(np.abs(gauss - true) <= gap + 1e-6)
        assert np.all(gauss >= gap - true - 1e-6)


def test_depth_matches_the_two_layer_reference():
    # spec §6.11, L = 2, ReLU (M = 10⁵): centred Exp 0.26, 0.125 and Gaussian 0.074, 0.020 at
    # n = 16, 64; ±10 % as in the spec, plus 3 SE of our 4-replicate mean. With Gaussian
    # weights depth moves every width away from the limit (L = 1: 0.057, 0.017, §6.11).
    for law, refs in (("centred_exp", (0.26, 0.125)), ("gaussian", (0.074, 0.020))):
        for n, ref in zip((16, 64), refs, strict=True):
            mean, se = mean_se(replicates(4, width=n, n_hidden=2, weight_law=law)["w2"])
            assert abs(mean - ref) <= 0.10 * ref + 3 * se, (law, n, mean, ref, se)
            shallow, se1 = mean_se(replicates(4, width=n, weight_law=law)["w2"])
            if law == "gaussian":
                assert mean - shallow > 3 * math.hypot(se, se1), (n, mean, shallow)


def test_cumulants_match_the_exact_shallow_formulas():
    # spec §6.4, ReLU with centred Exp weights under S1: √n κ3 = 6.790, n κ4 = 135.18; the
    # Monte Carlo must agree within 4 SE (the spec's tolerance). n = 128: at smaller n the
    # sample kurtosis of M = 5000 heavy-tailed outputs is biased low by more than its SE.
    n = 128
    r = replicates(8, width=n)
    for name, exact in (("skewness", 6.790 / math.sqrt(n)), ("excess_kurtosis", 135.18 / n)):
        mean, se = mean_se(r[name])
        assert abs(mean - exact) <= 4 * se, (name, mean, exact, se)
    # symmetric weights: no skewness (E w³ = 0), to 4 SE
    mean, se = mean_se(replicates(weight_law="gaussian")["skewness"])
    assert abs(mean) <= 4 * se


# ------------------------------------------------------------------------------------ cost
