"""kernels.widenet: NNGP kernels, dual maps, first-layer law, exact cumulants, estimators.

Spec ``models/widenet.md`` §6 (facts 1–5, 9, 10, 13). Sampling is tested in
test_widenet_sampling.py, POT as a reference in test_widenet_pot.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kernels import widenet as W

X3 = np.array([[1.0, 0.0], [0.6, 0.8], [1.0, 1.0]])
GOLDEN = {  # spec §6.1, upper triangles row by row (neural-tangents agrees to 4 decimals)
    "relu": [0.3, 0.264484, 0.314313, 0.3, 0.350315, 0.425],
    "erf": [0.420971, 0.326499, 0.354832, 0.420971, 0.433634, 0.461747],
    "tanh": [0.340119, 0.274340, 0.297633, 0.340119, 0.353195, 0.377430],
}


@pytest.mark.parametrize("act", sorted(GOLDEN))
def test_golden_nngp_kernels(act):
    k = W.nngp_kernel(
        X3,
        activation=act,
        n_hidden=2,
        c_b=0.1,
        readout_bias=True,
        gh_degree=80 if act == "tanh" else None,
    )
    # goldens are printed to 6 decimals: 1e-6 is their rounding (spec §6.1)
    np.testing.assert_allclose(k[np.triu_indices(3)], GOLDEN[act], atol=1e-6)
    assert np.allclose(k, k.T)


def test_dual_maps_closed_forms_against_gauss_hermite():
    q11, q22, q12 = 0.7, 1.3, 0.5
    # erf is entire: 60-node Gauss–Hermite is exact to round-off (spec §6.2: 1e-10)
    assert abs(W.dual_erf(q11, q22, q12) - W.dual_gh("erf", q11, q22, q12, 60)) < 1e-10
    # ReLU's kink limits Gauss–Hermite to ≈ 5e-4 (spec §6.2: tolerance 1e-3)
    assert abs(W.dual_relu(q11, q22, q12) - W.dual_gh("relu", q11, q22, q12, 60)) < 1e-3
    assert W.dual_relu(0.9, 0.9, 0.9) == pytest.approx(0.45, abs=1e-15)  # diagonal q/2


def test_first_layer_true_law_facts():
    x1 = W.circle_inputs(1, 0.0)
    e = W.first_layer_expectations(x1, weight_law="rademacher", activation="tanh", c_b=0.1)
    assert e["exact"] and e["cross"][0, 0] == pytest.approx(0.551240, abs=1e-6)  # spec §6.3
    k_gauss = W.nngp_kernel(x1, activation="tanh", n_hidden=1, c_b=0.1)[0, 0]
    assert k_gauss == pytest.approx(0.411662, abs=1e-6)
    k_true = W.nngp_kernel(
        x1, activation="tanh", n_hidden=1, c_b=0.1, first_layer="true_law", weight_law="rademacher"
    )[0, 0]
    assert abs(math.sqrt(k_true) - math.sqrt(k_gauss)) == pytest.approx(0.100847, abs=1e-6)
    e = W.first_layer_expectations(x1, weight_law="centred_exp", activation="relu")
    # fixed-seed Monte Carlo of 1e7 samples: within 4 standard errors of 2/e
    assert abs(e["cross"][0, 0] - 2.0 / math.e) < 4 * e["se"][0, 0]
    # symmetric first layer, ReLU: the diagonal is E z²/2 exactly (spec §6.2)
    e = W.first_layer_expectations(x1, weight_law="rademacher", activation="relu", c_b=0.1)
    assert e["cross"][0, 0] == pytest.approx(0.55, abs=1e-14)


@pytest.mark.parametrize(
    ("law", "k", "skew", "kurt", "tol"),
    [  # spec §6.4; Gaussian and Rademacher are exact, the others use the 1e7 Monte Carlo
        ("gaussian", 0.55, 0.0, 15.000, 1e-9),
        ("rademacher", 0.55, 0.0, -0.339, 1e-3),
        ("uniform", 0.55, 0.0, 4.194, 3e-3),
        ("centred_exp", 0.782870, 6.790, 135.18, 3e-3),
    ],
)
def test_exact_cumulants_shallow(law, k, skew, kurt, tol):
    c = W.shallow_cumulants_exact(activation="relu", weight_law=law, c_b=0.1)
    # tol: the table's rounding (3 decimals) or the Monte Carlo's relative error ~1e-3
    assert c["variance"] == pytest.approx(k, rel=tol)
    assert c["skew_sqrt_n"] == pytest.approx(skew, rel=tol, abs=1e-12)
    assert c["kurt_n"] == pytest.approx(kurt, rel=tol, abs=1e-3)


def test_cornish_fisher_coefficients():
    # spec §6.5: 1.416/√n for centred Exp and 1.135/n for Gaussian weights (ReLU, S1)
    c = W.shallow_cumulants_exact(activation="relu", weight_law="centred_exp", c_b=0.1)
    n = 1e8  # the κ4 term vanishes: the leading coefficient alone
    lead = W.cornish_fisher_w2(
        math.sqrt(c["variance"]), c["skew_sqrt_n"] / math.sqrt(n), c["kurt_n"] / n
    ) * math.sqrt(n)
    assert lead == pytest.approx(1.416, rel=2e-3)
    g = W.shallow_cumulants_exact(activation="relu", weight_law="gaussian", c_b=0.1)
    assert float(W.cornish_fisher_w2(math.sqrt(0.55), 0.0, g["kurt_n"])) == pytest.approx(
        1.135, rel=1e-3
    )


def test_lattice_exact_w2_has_slope_minus_half():
    ns = np.array([4, 16, 64, 256, 1024])
    w = np.array([W.lattice_w2_exact(int(n)) for n in ns])
    slope, used = W.fit_slope(ns, w)
    assert used == 5 and -0.55 <= slope <= -0.45  # spec §6.10
    # the cell formula agrees with the brute-force quantile integral (midpoint rule, 2e5 cells)
    n = 8
    u = (np.arange(200_000) + 0.5) / 200_000
    from scipy.stats import binom, norm

    y = (2 * binom.ppf(u, n, 0.5) - n) / math.sqrt(n)
    assert W.lattice_w2_exact(n) == pytest.approx(
        np.sqrt(np.mean((y - norm.ppf(u)) ** 2)), rel=1e-3
    )


def test_quantile_floor_and_scaling():
    # spec §6.13: floors 0.057, 0.017, 0.0058 at M = 1e3..1e5 (Monte Carlo means of 20 samples:
    # their spread is ~ 15 %, so 25 % tolerance)
    for m, ref in ((1000, 0.057), (10_000, 0.017), (100_000, 0.0058)):
        assert W.floor_band(m)["mean"] == pytest.approx(ref, rel=0.25)
    f = W.floor_band(10_000)
    assert f["two_sample"] / f["mean"] == pytest.approx(1.4, rel=0.2)
    assert W.floor_band(10_000, variance=4.0)["mean"] == pytest.approx(2 * f["mean"], rel=1e-12)


def test_w2_quantile_matches_definition_and_moments():
    rng = np.random.default_rng(3)
    y = 1.3 * rng.standard_normal(501) + 0.1
    z = W.norm_ppf((np.arange(501) + 0.5) / 501)
    direct = math.sqrt(np.mean((np.sort(y) - math.sqrt(2.0) * z) ** 2))
    assert W.w2_quantile(y, 2.0) == pytest.approx(direct, rel=1e-12)
    s2, c, z2 = W.quantile_moments(y)
    assert float(W.w2_from_moments(s2, c, z2, 2.0)) == pytest.approx(direct, rel=1e-9)
    # the exact cell-wise W2 differs from the midpoint rule by O(log M / M) only
    assert W.w2_exact_cells(y, 2.0) == pytest.approx(direct, abs=0.02)


def test_rao_blackwell_binning_and_bounds():
    rng = np.random.default_rng(4)
    v = rng.chisquare(8, 20_000) / 8 * 0.55
    full = W.w2_mixture(v, 0.55)
    assert W.w2_rao_blackwell(v, 0.55) == pytest.approx(full, rel=0.01)  # spec §6.13: 1 %
    # a one-component mixture is a Gaussian: W2 = |√a − √b|, as Bures (spec §6.13)
    assert W.w2_mixture(np.array([2.0]), 0.5) == pytest.approx(math.sqrt(2) - math.sqrt(0.5))
    assert W.gelbrich_lower(np.diag([2.0, 1.0]), np.diag([0.5, 4.0])) == pytest.approx(
        math.hypot(math.sqrt(2) - math.sqrt(0.5), 1.0)
    )
    assert W.gelbrich_lower([[0.55]], [[0.55]]) == 0.0
    assert W.gelbrich_lower([[v.mean()]], [[0.55]]) <= full <= W.coupling_upper(v, 0.55)


def test_fit_slope_uses_only_points_above_twice_the_floor():
    n = np.array([2.0, 4, 8, 16, 32])
    w = 0.5 / n
    slope, used = W.fit_slope(n, w, floor=0.02)
    assert used == 3 and slope == pytest.approx(-1.0)
    assert math.isnan(W.fit_slope(n, w, floor=1.0)[0])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: W.nngp_kernel(X3, activation="softmax", n_hidden=1), "activation"),
        (lambda: W.nngp_kernel(X3, activation="relu", n_hidden=0), "n_hidden"),
        (lambda: W.nngp_kernel(np.ones((2, 2, 2)), activation="relu", n_hidden=1), "X must"),
        (lambda: W.w2_quantile([1.0], 1.0), "at least 2"),
        (lambda: W.w2_quantile([1.0, np.nan], 1.0), "finite"),
        (lambda: W.w2_quantile([1.0, 2.0], -1.0), "variance"),
        (
            lambda: W.shallow_cumulants_exact(activation="relu", weight_law="student_t", t_dof=3.5),
            "fourth moment",
        ),
    ],
)
def test_bad_input_messages(call, match):
    with pytest.raises(ValueError, match=match):
        call()
