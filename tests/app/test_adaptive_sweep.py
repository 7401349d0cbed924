"""The Adaptive SGD tab's sweep interface (issue 15): parameters, outcomes, one replicate, the
divergence boundary and the cost estimate (``app/models/adaptive/sweep.py``)."""

from __future__ import annotations

import math

import numpy as np
import param
import pytest
from scipy.linalg import solve_continuous_lyapunov

from app.models.adaptive.model import AdaptiveModel
from app.models.adaptive.params import AdaptiveParams
from app.models.adaptive.sweep import SWEEP, critical_tau
from kernels import adaptive as ad

DEFAULTS = {name: AdaptiveParams.param[name].default for name in AdaptiveParams.param}
#: The point a default sweep starts from: the param defaults under the sweep's fixed values.
START = {**DEFAULTS, **SWEEP.fixed}
#: Default quadratic A = [[1, .5], [.5, 1]]: λ_max = 1.5, min diag(AAᵀ) = 1.25.
A_DEFAULT = np.array([[1.0, 0.5], [0.5, 1.0]])
#: Spec §5 preset 3 (``weak_order_ballistic``): RMSprop, ballistic, A = I, c2 = 1, ε = 0.1,
#: θ0 = (1, 1), v0 = 1, T = 1.
PRESET3 = {
    **START,
    "regime": "ballistic",
    "a11": 1.0,
    "a12": 0.0,
    "a22": 1.0,
    "c2": 1.0,
    "log10_eps": -1.0,
    "theta0_x": 1.0,
    "theta0_y": 1.0,
    "v0": 1.0,
    "t_final": 1.0,
}


def same(a: dict[str, float], b: dict[str, float]) -> bool:
    """Bit-identical outcome dicts (NaN equal to NaN)."""
    return a.keys() == b.keys() and all(
        np.array(a[k]).tobytes() == np.array(b[k]).tobytes() for k in a
    )


# ------------------------------------------------------------------ declarations
def test_parameters_are_bounded_numeric_params_and_the_headline_is_eta_by_c2():
    assert SWEEP.slug == "adaptive" and SWEEP.params_class is AdaptiveParams
    assert len(set(SWEEP.parameters)) == len(SWEEP.parameters)
    for name in SWEEP.parameters:
        p = AdaptiveParams.param[name]
        assert isinstance(p, param.Number), name  # param.Integer is a Number too
        lo, hi = p.bounds
        assert lo is not None and hi is not None and lo < hi, name
        assert lo <= p.default <= hi, name
    # the issue's headline η × c2: τ is the learning rate's control (η = τ or √τ)
    assert SWEEP.headline == ("log2_tau", "c2")
    assert set(SWEEP.headline) <= set(SWEEP.parameters)
    assert SWEEP.parameters[: len(SWEEP.headline)] == SWEEP.headline
    for name in SWEEP.fixed:
        assert name in AdaptiveParams.param


def test_outcomes_are_the_issues_list_in_plain_unicode():
    names = [o.name for o in SWEEP.outcomes]
    assert names == ["loss_final", "weak_error_sde1", "weak_error_sme2", "spread"]
    for o in SWEEP.outcomes:
        assert o.better in ("higher", "lower", "none")
        assert o.label and o.doc.endswith(".")
        assert not any(tex in o.label for tex in ("$", "\\", "^{", "_{")), o.label
    assert SWEEP.outcome("spread").name == "spread"
    with pytest.raises(KeyError, match="loss_final"):
        SWEEP.outcome("nope")


# ------------------------------------------------------------------ one replicate
def test_run_at_defaults_returns_every_outcome_finite_and_is_seeded():
    out = SWEEP.run(START, 7)
    assert list(out) == [o.name for o in SWEEP.outcomes]
    assert all(isinstance(v, float) and math.isfinite(v) for v in out.values()), out
    assert same(SWEEP.run(START, 7), out)  # same seed: bit-identical
    other = SWEEP.run(START, 8)
    assert all(other[k] != out[k] for k in out)  # every outcome here is random


def test_replicate_is_the_live_views_run_with_that_seed():
    # T = 2 at τ = 2⁻⁶ is 128 steps, so the live view records every step and its last frame is
    # the horizon; the live run also carries the ODE, which draws no normals of its own, so the
    # chain and the SDEs see the same numbers: equal to the last bit
    model = AdaptiveModel(t_final=2.0, seed=5)
    out = SWEEP.run({**START, "t_final": 2.0, "seed": 5}, 5)
    run = model.run
    assert run["t"][-1] == 2.0
    chain = run["chain"]["loss"][-1]
    assert out["loss_final"] == float(np.mean(chain))
    assert out["weak_error_sde1"] == float(np.mean(chain - run["sde1"]["loss"][-1]))
    assert out["weak_error_sme2"] == float(np.mean(chain - run["sme2"]["loss"][-1]))


def test_loss_and_spread_of_sgd_match_the_exact_moment_recursion():
    # spec §6.1: SGD on ½θᵀAθ with noise N(0, σ²AAᵀ) has exact mean/covariance recursions
    sigma, tau, n = 1.0, 2.0**-4, 4096
    values = {**START, "optimizer": "sgd", "regime": "ballistic", "sigma": sigma}
    values |= {"log2_tau": -4.0, "t_final": 2.0, "n_paths": n}
    out = SWEEP.run(values, 3)
    exact = ad.sgd_moments(A_DEFAULT, sigma**2 * A_DEFAULT @ A_DEFAULT.T, [2.0, 1.0], tau, 32)
    mu, s = exact["mean"][-1], exact["cov"][-1]
    # θ_T is Gaussian: Var f = ½tr(ASAS) + μᵀASAμ, Var tr Ŝ ≈ 2tr(S²)/N; 5 standard errors
    var_f = 0.5 * np.trace(A_DEFAULT @ s @ A_DEFAULT @ s) + mu @ A_DEFAULT @ s @ A_DEFAULT @ mu
    assert out["loss_final"] == pytest.approx(exact["loss"][-1], abs=5 * math.sqrt(var_f / n))
    tr_se = math.sqrt(2 * np.trace(s @ s) / n)
    assert out["spread"] ** 2 == pytest.approx(np.trace(s), abs=5 * tr_se)


def test_noise_free_rmsprop_matches_a_plain_recursion_and_the_spec_table():
    # spec §6.3: ballistic RMSprop, no noise, a = c2 = 1, ε = 0.1, θ0 = v0 = 1, T = 1; with
    # A = I and θ0 = (1, 1) both coordinates follow the 1-D recursion and f = θ²
    values = {**PRESET3, "sigma": 0.0, "log2_tau": -4.0, "n_sub": 64, "n_paths": 16}
    out = SWEEP.run(values, 0)
    tau, th, v = 2.0**-4, 1.0, 1.0
    for _ in range(16):  # lagged: θ uses the old v
        th, v = th - tau * th / (math.sqrt(v) + 0.1), (1 - tau) * v + tau * th * th
    assert out["loss_final"] == pytest.approx(th * th, rel=1e-12)  # round-off only
    # the tabulated lagged-chain-vs-ODE θ error at τ = 2⁻⁴ (rel 1e-3, spec §6 tolerance)
    assert 0.371176 - th == pytest.approx(7.793e-3, rel=1e-3)
    # SDE1 without noise is the ODE: θ(1) = 0.371176, up to Euler's O(h), h = 2⁻¹⁰ (≈ 6e-4)
    assert out["loss_final"] - out["weak_error_sde1"] == pytest.approx(0.371176**2, rel=2e-3)
    assert out["spread"] < 1e-12  # every path is the same deterministic path


def test_weak_error_of_sme2_is_below_sde1_and_has_order_two():
    # spec §5 preset 3 with noise σ = 1 (Table 1 caption: SME2 is O(τ²), SDE1 O(τ)); 4096
    # coupled paths give a Monte Carlo error ≈ 1e-4 (measured over seeds), 20 times below
    # SME2's error at τ = 2⁻⁴ (≈ 2.8e-3) and 180 times below SDE1's (≈ 1.9e-2)
    errs = {}
    for log2_tau in (-3.0, -4.0):
        values = {**PRESET3, "sigma": 1.0, "log2_tau": log2_tau, "n_sub": 16, "n_paths": 4096}
        errs[log2_tau] = SWEEP.run(values, 11)
    small = errs[-4.0]
    assert abs(small["weak_error_sme2"]) < 0.3 * abs(small["weak_error_sde1"])
    # slopes over one halving of τ: measured 0.9 (SDE1) and 2.06 (SME2); ±0.4 for two points
    # and the Euler error O(τ/16) that both carry
    for order, slope in (("sde1", 1.0), ("sme2", 2.0)):
        ratio = errs[-3.0][f"weak_error_{order}"] / errs[-4.0][f"weak_error_{order}"]
        assert math.log2(ratio) == pytest.approx(slope, abs=0.4), order


def test_stationary_spread_follows_the_sde1_stationary_covariance():
    # batch-equivalent RMSprop SDE1 at stationarity: u = Σ_d, D0 = 1/(√Σ_d + ε0) and θ is an
    # Ornstein–Uhlenbeck process, (D0A)S + S(D0A)ᵀ = D0ΣD0 with Σ = σ0²AAᵀ: σ0, not η, sets
    # the spread (spec §4 panel 5). T = 12 is 9 relaxation times of the slowest mode.
    base = {**START, "log2_tau": -7.0, "t_final": 12.0, "n_sub": 1, "n_paths": 2048}
    for sigma0 in (0.25, 0.5):
        big_sigma = sigma0**2 * A_DEFAULT @ A_DEFAULT.T
        d0 = np.diag(1 / (np.sqrt(np.diag(big_sigma)) + 0.1))
        s = solve_continuous_lyapunov(d0 @ A_DEFAULT, d0 @ big_sigma @ d0)
        out = SWEEP.run({**base, "sigma": sigma0}, 2)
        # 6%: the spread's Monte Carlo error with 2048 paths is ≈ 1.1% (measured over seeds),
        # four of them, plus the chain's O(τ) bias at τ = 2⁻⁷ (≈ 0.5%, measured: 3% at 2⁻⁵)
        assert out["spread"] == pytest.approx(math.sqrt(np.trace(s)), rel=0.06), sigma0


def test_sme2_where_it_is_not_implemented_is_nan_the_rest_finite():
    # batch-equivalent Adam has no SME2 (spec §9.5); the live view shows SDE1 instead
    out = SWEEP.run({**START, "optimizer": "adam", "n_paths": 16}, 1)
    assert math.isnan(out["weak_error_sme2"])
    assert all(math.isfinite(out[k]) for k in ("loss_final", "weak_error_sde1", "spread"))


# ------------------------------------------------------------------ the boundary
def test_headline_boundary_is_the_closed_form_step_limit():
    # σ0 = 0.05, ε0 = 0.01 bring the limit into the slider range: τ* = 2(σ0√1.25 + ε0)/1.5
    values = {**START, "sigma": 0.05, "log10_eps": -2.0}
    tau_star = 2 * (0.05 * math.sqrt(1.25) + 0.01) / 1.5
    (xs, ys), *rest = SWEEP.boundary(values, "log2_tau", "c2", (-10.0, -1.0), (0.05, 10.0))
    assert not rest and np.all(np.isfinite(xs))
    np.testing.assert_allclose(xs, math.log2(tau_star), rtol=1e-12)
    assert ys.min() == 0.05 and ys.max() == 10.0  # c2 does not move it: a vertical line
    # the same limit in the chain's own units (the live view's divergence message):
    # η = √τ* equals 2(√v* + ε)/λ_max with ε = ε0/η, v* = (σ0/η)²Σ̂_d
    hp = ad.regime_hyperparameters("batch_equivalent", tau_star, 1.0, 1.0, 0.01, 0.05)
    limit = ad.stability_limit("rmsprop", 1.5, hp["eps"], hp["noise_std"] ** 2 * 1.25)
    assert hp["lr"] == pytest.approx(limit, rel=1e-12)
    # swapped axes give the same line transposed
    (xt, yt), *_ = SWEEP.boundary(values, "c2", "log2_tau", (0.05, 10.0), (-10.0, -1.0))
    np.testing.assert_array_equal(xt, ys)
    np.testing.assert_array_equal(yt, xs)
    # at the defaults the limit is at log₂ τ* = log₂(2(0.5√1.25 + 0.1)/1.5) ≈ −0.19, outside
    assert math.log2(critical_tau(START)) == pytest.approx(-0.186, abs=1e-3)
    assert SWEEP.boundary(START, "log2_tau", "c2", (-10.0, -1.0), (0.05, 10.0)) == []
    # a pair that does not move the limit has none
    assert SWEEP.boundary(values, "c1", "c2", (0.05, 10.0), (0.05, 10.0)) == []


def test_sgd_boundary_in_step_and_curvature_separates_diverged_cells():
    # SGD diverges at η = τ ≥ 2/λ_max; with A = diag(a11, 1), λ_max = max(a11, 1)
    values = {**START, "optimizer": "sgd", "regime": "ballistic", "a12": 0.0, "a22": 1.0}
    values |= {"n_paths": 16, "sigma": 0.1}
    (xs, ys), *_ = SWEEP.boundary(values, "a11", "log2_tau", (0.1, 5.0), (-10.0, -1.0))
    ok = np.isfinite(ys)
    assert ok.any() and np.all(xs[ok] >= 4.0 - 0.03)  # in range only where 2/a11 ≤ 2⁻¹
    np.testing.assert_allclose(2.0 ** ys[ok], 2.0 / xs[ok], rtol=1e-12)
    a11 = float(xs[ok][len(xs[ok]) // 2])
    y_star = float(ys[ok][len(ys[ok]) // 2])
    below = SWEEP.run({**values, "a11": a11, "log2_tau": y_star - 0.05}, 0)
    above = SWEEP.run({**values, "a11": a11, "log2_tau": y_star + 0.05}, 0)
    assert all(math.isfinite(v) for v in below.values())
    assert above["loss_final"] == math.inf and above["spread"] == math.inf
    assert math.isnan(above["weak_error_sde1"])


def test_implicit_boundary_points_satisfy_the_closed_form():
    # no step on an axis: marching squares on log₂ τ − log₂ τ*(x, y), crossings bisected.
    # SGD at τ = 2⁻¹ with A = diag(a11, a22): the limit is max(a11, a22) = 4, an L-shaped line
    values = {**START, "optimizer": "sgd", "regime": "ballistic", "a12": 0.0, "log2_tau": -1.0}
    (xs, ys), *_ = SWEEP.boundary(values, "a11", "a22", (0.1, 5.0), (0.1, 5.0))
    ok = np.isfinite(xs)
    np.testing.assert_allclose(np.maximum(xs[ok], ys[ok]), 4.0, rtol=1e-9)  # bisection: 2⁻⁴⁰
    assert np.any(xs[ok] < 3.5) and np.any(ys[ok] < 3.5)  # both legs of the L
    # RMSprop in (σ0, log₁₀ ε0) at τ = 2⁻³: 2(σ0√1.25 + ε0)/1.5 = 2⁻³
    values = {**START, "log2_tau": -3.0}
    (xs, ys), *_ = SWEEP.boundary(values, "sigma", "log10_eps", (0.0, 3.0), (-8.0, 0.0))
    ok = np.isfinite(xs)
    assert ok.sum() > 10
    np.testing.assert_allclose(2 * (xs[ok] * math.sqrt(1.25) + 10 ** ys[ok]) / 1.5, 0.125)


# ------------------------------------------------------------------ the cost estimate
