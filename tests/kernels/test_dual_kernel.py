"""Tests for kernels.common.dual_kernel: closed forms, quadrature, moments (spec tokens.md §6.1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import erf, expit

from kernels.common import dual_kernel as dk
from kernels.common.activations import ACTIVATIONS, LEAKY_SLOPE, ODD_ACTIVATIONS
from kernels.common.dual_kernel import (
    activation_moments,
    dual_kernel,
    dual_kernel_cov,
    gauss_hermite_order,
    interpolate_kappa_table,
    kappa_table,
)

# Spec §6.1 table (σ_w=1, σ_b=0): E s², E s'², printed to 4 decimals (3 for linear/ReLU).
SPEC_MOMENTS = {
    "linear": (1.000, 1.000),
    "relu": (0.500, 0.500),
    "tanh": (0.3943, 0.4644),
    "erf": (0.4646, 0.5694),
    "gelu": (0.4252, 0.4559),
    "silu": (0.3558, 0.3795),
    "sigmoid": (0.2934, 0.0448),
    "softplus": (0.9212, 0.2934),
    "sin": (0.4323, 0.5677),
}

# Independent scalar definitions (scipy/numpy), not kernels.common.activations.
ORACLE_S = {
    "linear": (lambda x: x, lambda x: 1.0),
    "relu": (lambda x: max(x, 0.0), lambda x: float(x > 0)),
    "leaky_relu": (
        lambda x: x if x > 0 else LEAKY_SLOPE * x,
        lambda x: 1.0 if x > 0 else LEAKY_SLOPE,
    ),
    "tanh": (math.tanh, lambda x: 1.0 - math.tanh(x) ** 2),
    "erf": (lambda x: float(erf(x)), lambda x: 2.0 / math.sqrt(math.pi) * math.exp(-x * x)),
    "gelu": (
        lambda x: 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0))),
        lambda x: (
            0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))
            + x * math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        ),
    ),
    "silu": (
        lambda x: x * float(expit(x)),
        lambda x: float(expit(x)) * (1.0 + x * (1.0 - float(expit(x)))),
    ),
    "sigmoid": (lambda x: float(expit(x)), lambda x: float(expit(x)) * (1.0 - float(expit(x)))),
    "softplus": (lambda x: float(np.logaddexp(0.0, x)), lambda x: float(expit(x))),
    "sin": (math.sin, math.cos),
}
SMOOTH = ("tanh", "gelu", "silu", "sigmoid", "softplus")
# quad warns when it cannot certify epsabs=1e-14; its actual error stays ~1e-13
_QUAD_ROUNDOFF = pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")


def _gauss_1d(fun, q: float) -> float:
    """E fun(sqrt(q) Z) by adaptive quadrature, split at 0 (kinks) and with a 12-sigma window."""
    if q == 0.0:
        return fun(0.0)
    sq = math.sqrt(q)

    def g(z: float) -> float:
        return fun(sq * z) * math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)

    kw = {"epsabs": 1e-14, "epsrel": 1e-13, "limit": 400}
    return quad(g, -12.0, 0.0, **kw)[0] + quad(g, 0.0, 12.0, **kw)[0]


def _gauss_2d(s, q1: float, q2: float, c: float) -> float:
    """E s(U)s(V) by nested adaptive quadrature in the conditional decomposition."""
    s1, s2 = math.sqrt(q1), math.sqrt(q2)
    rho = c / (s1 * s2)
    perp = math.sqrt(1.0 - rho * rho)
    kw = {"epsabs": 1e-14, "epsrel": 1e-13, "limit": 400}

    def inner(z1: float) -> float:
        def g(z2: float) -> float:
            return s(s2 * (rho * z1 + perp * z2)) * math.exp(-0.5 * z2 * z2)

        kink = -rho * z1 / perp  # where the argument of s crosses 0
        return quad(g, -12.0, 12.0, points=[kink], **kw)[0] / math.sqrt(2.0 * math.pi)

    def outer(z1: float) -> float:
        return s(s1 * z1) * inner(z1) * math.exp(-0.5 * z1 * z1) / math.sqrt(2.0 * math.pi)

    return quad(outer, -12.0, 12.0, points=[0.0], **kw)[0]


# --------------------------------------------------------------------------- moments (§6.1)


@pytest.mark.parametrize("activation", list(SPEC_MOMENTS))
def test_moments_match_spec_table(activation):
    es2, es2p = SPEC_MOMENTS[activation]
    kappa1, kappa1p = activation_moments(activation)
    # spec prints 4 decimals (rounding <= 5e-5); the spec asks for tolerance 1e-4
    assert kappa1 == pytest.approx(es2, abs=1e-4)
    assert kappa1p == pytest.approx(es2p, abs=1e-4)


@pytest.mark.parametrize(
    ("sigma_w", "sigma_b", "kappa1", "kappa1p"),
    [(1.3, 0.5, 0.5146, 0.5985), (0.8, 1.0, 0.4845, 0.2435)],
)
def test_tanh_moments_with_bias_match_spec(sigma_w, sigma_b, kappa1, kappa1p):
    k1, k1p = activation_moments("tanh", sigma_w, sigma_b)
    # spec §6.1 prints 4 decimals
    assert k1 == pytest.approx(kappa1, abs=1e-4)
    assert k1p == pytest.approx(kappa1p, abs=1e-4)


@_QUAD_ROUNDOFF
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(("sigma_w", "sigma_b"), [(1.0, 0.0), (0.4, 1.7), (3.0, 3.0)])
def test_moments_against_adaptive_quadrature(activation, sigma_w, sigma_b):
    s, sp = ORACLE_S[activation]
    q = sigma_w**2 + sigma_b**2
    ref0 = _gauss_1d(lambda x: s(x) ** 2, q)
    ref1 = sigma_w**2 * _gauss_1d(lambda x: sp(x) ** 2, q)
    k1, k1p = activation_moments(activation, sigma_w, sigma_b)
    # module claim: quadrature error < 1e-10 for q <= 18; closed forms are exact. quad's own
    # error is ~1e-13, so 1e-9 relative leaves two decades of margin and still catches a wrong
    # node rule (64 nodes for tanh at q = 18 errs by 1e-2).
    assert k1 == pytest.approx(ref0, rel=1e-9, abs=1e-12)
    assert k1p == pytest.approx(ref1, rel=1e-9, abs=1e-12)


def test_leaky_relu_moments_closed_form():
    a = LEAKY_SLOPE
    k1, k1p = activation_moments("leaky_relu", 1.2, 0.7)
    q = 1.2**2 + 0.7**2
    # E s² = q(1+a²)/2, E s'² = (1+a²)/2 exactly; round-off only
    assert k1 == pytest.approx(q * (1 + a * a) / 2, rel=1e-14)
    assert k1p == pytest.approx(1.2**2 * (1 + a * a) / 2, rel=1e-14)


def test_moments_are_cached():
    first = activation_moments("gelu", 1.1, 0.2)
    assert activation_moments("gelu", 1.1, 0.2) is first


# --------------------------------------------------------------------------- dual kernel


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(("sigma_w", "sigma_b"), [(1.0, 0.0), (1.3, 0.5), (0.0, 0.8)])
def test_kappa_at_one_equals_kappa1(activation, sigma_w, sigma_b):
    k1, _ = activation_moments(activation, sigma_w, sigma_b)
    # same formula / same quadrature nodes and summation order: identical up to 1 ulp
    assert float(dual_kernel(activation, 1.0, sigma_w, sigma_b)) == pytest.approx(k1, rel=1e-15)


@pytest.mark.parametrize("activation", sorted(ODD_ACTIVATIONS))
def test_odd_activation_kernel_is_odd(activation):
    rho = np.linspace(-1.0, 1.0, 21)
    kap = dual_kernel(activation, rho)
    # s odd and σ_b = 0: κ(-ρ) = -κ(ρ); quadrature sums differ only by summation order
    np.testing.assert_allclose(kap, -kap[::-1], atol=1e-14)
    assert kap[0] == -kap[-1]  # exact at the degenerate 1-D rule


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_kernel_is_bounded_by_diagonal(activation):
    rho = np.linspace(-1.0, 1.0, 41)
    kap = dual_kernel(activation, rho, 1.1, 0.6)
    k1, _ = activation_moments(activation, 1.1, 0.6)
    # Cauchy–Schwarz |E s(U)s(V)| <= E s(U)^2; 1e-13 absorbs round-off
    assert np.all(np.abs(kap) <= k1 + 1e-13)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_kappa1_prime_matches_finite_difference(activation):
    sigma_w, sigma_b = 1.0, 0.3
    _, k1p = activation_moments(activation, sigma_w, sigma_b)
    if activation in ("relu", "leaky_relu"):
        # κ(1-h) = κ₁ - κ₁'h + C h^{3/2} (C = q/(3π)·√2 ≈ 0.16): a one-sided difference with
        # h = 1e-8 errs by C√h ≈ 2e-5
        h = 1e-8
        fd = (
            float(dual_kernel(activation, 1.0, sigma_w, sigma_b))
            - float(dual_kernel(activation, 1.0 - h, sigma_w, sigma_b))
        ) / h
        assert fd == pytest.approx(k1p, abs=5e-5)
    else:
        # second-order one-sided difference: truncation h²|κ'''|/3 ~ 1e-8, round-off 1e-16/h
        h = 1e-4
        k = dual_kernel(activation, np.array([1.0, 1.0 - h, 1.0 - 2 * h]), sigma_w, sigma_b)
        fd = (3 * k[0] - 4 * k[1] + k[2]) / (2 * h)
        assert fd == pytest.approx(k1p, abs=1e-7)


@pytest.mark.parametrize("activation", ["erf", "sin", "linear"])
@pytest.mark.parametrize(("sigma_w", "sigma_b"), [(1.0, 0.0), (1.0, 0.5), (2.0, 1.0)])
def test_smooth_closed_forms_match_quadrature(activation, sigma_w, sigma_b):
    rho = np.linspace(-1.0, 1.0, 41)
    closed = dual_kernel(activation, rho, sigma_w, sigma_b, method="closed")
    quadr = dual_kernel(activation, rho, sigma_w, sigma_b, method="quadrature")
    # smooth s: Gauss–Hermite with the default node rule converges geometrically; measured
    # <= 3e-15 here (erf at q = 5 would err by 1.2e-7 with a fixed 128 nodes)
    np.testing.assert_allclose(quadr, closed, rtol=0, atol=1e-10)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
@pytest.mark.parametrize(("sigma_w", "sigma_b"), [(1.0, 0.0), (1.0, 0.5)])
def test_kinked_closed_forms_match_quadrature(activation, sigma_w, sigma_b):
    rho = np.linspace(-1.0, 1.0, 41)
    closed = dual_kernel(activation, rho, sigma_w, sigma_b)
    err64 = np.max(
        np.abs(
            dual_kernel(activation, rho, sigma_w, sigma_b, method="quadrature", n_nodes=64) - closed
        )
    )
    err256 = np.max(
        np.abs(
            dual_kernel(activation, rho, sigma_w, sigma_b, method="quadrature", n_nodes=256)
            - closed
        )
    )
    # the kink limits Gauss–Hermite to O(1/n): measured max error 2.1e-3 at n = 64 and 5.1e-4 at
    # n = 256 (worst at ρ = 0, where κ = (E relu)² and 1-D GH of E relu errs by O(1/n)); spec
    # §6.1 quotes ~5e-4. Tolerances sit 1.5-2x above the measurements, and the error must shrink.
    assert err64 < 4e-3
    assert err256 < 1e-3
    assert err256 < 0.5 * err64


@_QUAD_ROUNDOFF
@pytest.mark.parametrize("activation", SMOOTH)
@pytest.mark.parametrize(("sigma_w", "sigma_b"), [(1.0, 0.0), (1.3, 0.5), (3.0, 3.0)])
def test_smooth_kernel_against_nested_adaptive_quadrature(activation, sigma_w, sigma_b):
    s = ORACLE_S[activation][0]
    q = sigma_w**2 + sigma_b**2
    rho = np.array([-0.7, 0.95])
    got = dual_kernel(activation, rho, sigma_w, sigma_b)
    for r, g in zip(rho, got, strict=True):
        ref = _gauss_2d(s, q, q, sigma_w**2 * r + sigma_b**2)
        # module claim < 1e-10 (measured <= 8e-11 for tanh at q = 18); nested quad ~1e-13
        assert g == pytest.approx(ref, abs=3e-10)


@_QUAD_ROUNDOFF
def test_dual_kernel_cov_general_covariance():
    q1, q2, c = 0.7, 2.3, -0.9
    for act in ("tanh", "gelu"):
        ref = _gauss_2d(ORACLE_S[act][0], q1, q2, c)
        # same error budget as the equal-variance case
        assert float(dual_kernel_cov(act, q1, q2, c)) == pytest.approx(ref, abs=1e-10)
    # closed forms with unequal variances against the quadrature route
    for act in ("erf", "sin", "linear"):
        closed = float(dual_kernel_cov(act, q1, q2, c))
        quadr = float(dual_kernel_cov(act, q1, q2, c, method="quadrature", n_nodes=128))
        assert closed == pytest.approx(quadr, abs=1e-10)  # smooth: geometric GH convergence
    relu = float(dual_kernel_cov("relu", q1, q2, c))
    ref = _gauss_2d(ORACLE_S["relu"][0], q1, q2, c)
    assert relu == pytest.approx(ref, abs=1e-10)  # arc-cosine form is exact


def test_dual_kernel_cov_broadcasts_and_matches_dual_kernel():
    rho = np.linspace(-1, 1, 7)
    sw, sb = 1.2, 0.4
    q = sw * sw + sb * sb
    for act in ("relu", "tanh", "erf"):
        a = dual_kernel(act, rho, sw, sb)
        b = dual_kernel_cov(act, q, q, sw * sw * rho + sb * sb)
        assert b.shape == rho.shape
        # same routine; only c/q vs c/sqrt(q*q) rounding differs
        np.testing.assert_allclose(a, b, atol=1e-13)
    grid = dual_kernel_cov("relu", np.array([[1.0], [2.0]]), 1.0, 0.0)
    assert grid.shape == (2, 1)
    # ρ_e = 0: κ = (E relu(U))(E relu(V)) = sqrt(q1 q2)/(2π)
    np.testing.assert_allclose(grid[:, 0], np.sqrt([1.0, 2.0]) / (2 * math.pi), rtol=1e-14)


def test_zero_variance_is_deterministic_input():
    # U ≡ 0: E s(0) s(V) = s(0) E s(V); sigmoid(0) = 1/2
    got = float(dual_kernel_cov("sigmoid", 0.0, 1.0, 0.0))
    assert got == pytest.approx(0.5 * _gauss_1d(ORACLE_S["sigmoid"][0], 1.0), abs=1e-12)
    assert float(dual_kernel_cov("relu", 0.0, 1.0, 0.0)) == 0.0


def test_dual_kernel_shapes():
    assert dual_kernel("relu", 0.3).shape == ()
    assert dual_kernel("tanh", np.zeros((2, 3))).shape == (2, 3)
    assert dual_kernel("tanh", np.array([])).shape == (0,)


def test_gauss_hermite_order_rule():
    assert gauss_hermite_order("gelu", 0.5) == 64  # the spec's floor of >= 60 nodes
    assert gauss_hermite_order("tanh", 1.0) == 128  # tanh counts 4q
    assert gauss_hermite_order("sigmoid", 9.0) == 288
    assert gauss_hermite_order("tanh", 18.0) == dk.MAX_GH_NODES


# --------------------------------------------------------------------------- table


def test_kappa_table_nodes_and_diagonal():
    nodes, vals = kappa_table("tanh")
    assert nodes.shape == vals.shape == (dk.DEFAULT_TABLE_POINTS,)
    assert nodes[0] == 1.0 and nodes[-1] == -1.0 and nodes[2000] == 0.0
    assert np.all(np.diff(nodes) < 0)
    assert vals[0] == activation_moments("tanh")[0]  # exact, so b(1) = a(1) = 0 in simulations
    assert vals[-1] == -vals[0]  # odd s: exact antisymmetry at ρ = -1
    assert not vals.flags.writeable
    assert kappa_table("tanh")[1] is vals  # cached


def test_kappa_table_interpolation_error_relu():
    nodes, vals = kappa_table("relu", 1.0, 0.0)
    rng = np.random.default_rng(5)
    rho = rng.uniform(-1, 1, 20000)
    got = interpolate_kappa_table(rho, nodes, vals)
    exact = dual_kernel("relu", rho)
    # documented bound q h_θ²/(16π) = 1.23e-8 for q = 1
    assert np.max(np.abs(got - exact)) < 1.3e-8
    # near ρ = 1 the relative error of κ₁ - κ must stay below the documented 2e-4 (first-cell
    # bound 2C√(h_θ²/2)/κ₁' = 1.7e-4 with C = √2 q/(3π)); r >= 1e-9 keeps the round-off of the
    # "exact" gap (1e-16/r) at 2e-7
    r = np.geomspace(1e-9, 1e-2, 2000)
    k1 = vals[0]
    got_gap = k1 - interpolate_kappa_table(1.0 - r, nodes, vals)
    exact_gap = k1 - dual_kernel("relu", 1.0 - r)
    assert np.max(np.abs(got_gap / exact_gap - 1.0)) < 2e-4


def test_kappa_table_interpolation_error_smooth():
    nodes, vals = kappa_table("softplus", 1.3, 0.5)
    rho = np.linspace(-1, 1, 1001) * 0.99991
    got = interpolate_kappa_table(rho, nodes, vals)
    exact = dual_kernel("softplus", rho, 1.3, 0.5)
    # bound h_θ²/8 · max|κ''| = 7.7e-8 · max|κ''|, and max|κ''| ≲ 1 here
    assert np.max(np.abs(got - exact)) < 8e-8
    r = np.geomspace(1e-9, 1e-3, 200)
    gap = vals[0] - interpolate_kappa_table(1.0 - r, nodes, vals)
    exact_gap = vals[0] - dual_kernel("softplus", 1.0 - r, 1.3, 0.5)
    # smooth s: relative error O(h_θ²) ~ 1e-6 in the gap, plus round-off 1e-16/r <= 1e-7
    np.testing.assert_allclose(gap, exact_gap, rtol=1e-5)


def test_interp_clamps_outside_range():
    nodes, vals = kappa_table("relu", n_points=33)
    out = interpolate_kappa_table(np.array([1.0, -1.0]), nodes, vals)
    np.testing.assert_array_equal(out, [vals[0], vals[-1]])


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: dual_kernel("swish", 0.1), "activation must be one of"),
        (lambda: dual_kernel(3, 0.1), "activation must be one of"),
        (lambda: dual_kernel("relu", 1.5), r"rho must lie in \[-1, 1\]"),
        (lambda: dual_kernel("relu", np.nan), "rho must be finite"),
        (lambda: dual_kernel("relu", 0.1, sigma_w=-1.0), "sigma_w must be a finite number >= 0"),
        (lambda: dual_kernel("relu", 0.1, sigma_b=np.inf), "sigma_b must be a finite number"),
        (lambda: dual_kernel("tanh", 0.1, sigma_w=5.0, sigma_b=3.0), r"sigma_w\*\*2 \+ sigma_b"),
        (lambda: dual_kernel("tanh", 0.1, method="closed"), "method='closed' needs"),
        (lambda: dual_kernel("relu", 0.1, method="mc"), "method must be one of"),
        (lambda: dual_kernel("relu", 0.1, n_nodes=1), r"n_nodes must be an integer in \[2,"),
        (lambda: dual_kernel_cov("relu", -1.0, 1.0, 0.0), "q1 must be finite and >= 0"),
        (lambda: dual_kernel_cov("relu", 1.0, 1.0, 1.5), r"c must satisfy c\*\*2 <= q1\*q2"),
        (lambda: dual_kernel_cov("tanh", 40.0, 1.0, 0.0), "q1 must be <= 32"),
        (lambda: activation_moments("relu", sigma_w="a"), "sigma_w must be a finite number"),
        (lambda: kappa_table("relu", n_points=2), r"n_points must be an integer in \[3,"),
    ],
)
def test_invalid_inputs_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_rho_slack_is_clipped():
    # 1e-12 slack for Gram round-off is accepted and clipped to exactly ±1
    assert float(dual_kernel("relu", 1.0 + 1e-13)) == float(dual_kernel("relu", 1.0))


def test_warmup_runs():
    dk.warmup()
    assert float(dual_kernel("relu", 0.0)) == pytest.approx(1 / (2 * math.pi), rel=1e-15)
