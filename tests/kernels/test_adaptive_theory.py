"""Spec §6 facts of the Adaptive SGD kernels: closed forms and noise-free error tables."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import adaptive as ad
from kernels.adaptive import landscapes as lands
from kernels.adaptive.discrete import ADAM, RMSPROP
from kernels.adaptive.sde import ODE, SME2
from tests.kernels.adaptive_helpers import ode_solution


def test_sgd_stationary_variances_match_spec_table():
    # spec §6.1: a = s = 1, tau = 0.2/0.1/0.05 (5-digit table values)
    chain = [ad.sgd_stationary_variance(1.0, 1.0, t)[0] for t in (0.2, 0.1, 0.05)]
    sme = [ad.sgd_stationary_variance(1.0, 1.0, t)[1] for t in (0.2, 0.1, 0.05)]
    np.testing.assert_allclose(chain, [0.11111, 0.052632, 0.025641], rtol=5e-5)
    np.testing.assert_allclose(sme, [0.1, 0.05, 0.025], rtol=1e-12)


def test_exact_recursion_reaches_the_stationary_variance_and_the_ode_its_own():
    a, tau = 1.0, 0.1
    rec = ad.sgd_moments([[a]], [[1.0]], [0.0], tau, 2000)
    sde = ad.sgd_sde_moments([[a]], [[1.0]], [0.0], tau, [200.0])
    chain_var, sme_var = ad.sgd_stationary_variance(a, 1.0, tau)
    # geometric convergence (1 - tau a)^(2k) after 2000 steps: round-off only
    assert rec["cov"][-1, 0, 0] == pytest.approx(chain_var, rel=1e-12)
    assert sde["cov"][-1, 0, 0] == pytest.approx(sme_var, rel=1e-12)


def test_sgd_recursion_in_2d_matches_the_noise_free_chain_and_the_monte_carlo_covariance():
    A = np.array([[1.0, 0.5], [0.5, 1.0]])
    tau, n = 0.1, 30
    rec = ad.sgd_moments(A, 0.25 * A @ A.T, [2.0, 1.0], tau, n)
    free = ad.simulate_optimizer(
        "sgd",
        landscape="quadratic",
        A=A,
        theta0=[2.0, 1.0],
        lr=tau,
        n_steps=n,
        n_paths=1,
        rng=0,
        noise_std=0.0,
    )
    # the mean recursion is the noise-free chain: identical up to round-off
    np.testing.assert_allclose(free["theta"][:, 0], rec["mean"], rtol=1e-13, atol=1e-15)
    mc = ad.simulate_optimizer(
        "sgd",
        landscape="quadratic",
        A=A,
        theta0=[2.0, 1.0],
        lr=tau,
        n_steps=n,
        n_paths=40000,
        rng=1,
        noise_std=0.5,
    )
    cov = np.cov(mc["theta"][-1].T)
    # sample covariance of 4e4 Gaussian paths: relative standard error ~ sqrt(2/4e4) = 0.7%;
    # 4% is more than 5 standard errors
    np.testing.assert_allclose(cov, rec["cov"][-1], rtol=0.04, atol=2e-4)
    np.testing.assert_allclose(mc["loss"][-1].mean(), rec["loss"][-1], rtol=0.04)


def test_sgd_mean_error_against_the_ode_has_slope_one():
    # spec §6.1: error in the mean ≈ (a² t τ / 2) e^{-at} x0
    a, t, x0 = 1.0, 1.0, 1.0
    errs = []
    for tau in (2**-4, 2**-6, 2**-8):
        rec = ad.sgd_moments([[a]], [[0.0]], [x0], tau, round(t / tau))
        exact = np.exp(-a * t) * x0
        errs.append(abs(rec["mean"][-1, 0] - exact))
        # leading-order prediction, relative accuracy O(tau)
        assert errs[-1] == pytest.approx(a * a * t * tau / 2 * np.exp(-a * t) * x0, rel=2 * tau)
    slope = np.polyfit(np.log([2**-4, 2**-6, 2**-8]), np.log(errs), 1)[0]
    assert slope == pytest.approx(1.0, abs=0.02)


def test_batch_equivalent_u_is_the_closed_form():
    # spec §6.2: a = s = c2 = 1, u0 = 0.5, T = 1 gives u(1) = 0.81606
    assert ad.batch_equivalent_u(1.0, 1.0, 0.5, 1.0) == pytest.approx(0.81606, abs=5e-6)
    res = ad.simulate_sde(
        "rmsprop",
        regime="batch_equivalent",
        order="sde1",
        landscape="quadratic",
        A=[[1.0]],
        gradient_noise="isotropic",
        theta0=[1.0],
        dt=2**-12,
        t_max=1.0,
        n_paths=4,
        rng=0,
        tau=2**-6,
        c2=1.0,
        eps=0.1,
        noise_std=1.0,
        v0=0.5,
    )
    u = res["v"][-1, :, 0]
    # u is deterministic; Euler's error is h c2 |u'| t/2 < 2^-12
    np.testing.assert_allclose(u, ad.batch_equivalent_u(1.0, 1.0, 0.5, 1.0), atol=2.5e-4)
    assert np.ptp(u) == 0.0


def test_ballistic_rmsprop_ode_values():
    # spec §6.3: a = c2 = 1, eps = 0.1, theta0 = v0 = 1, T = 1 (6-digit table values)
    th, v = ode_solution(RMSPROP, ODE, [1.0, 1.0], 0.0, 1.0, tau=0.25)
    assert th == pytest.approx(0.371176, abs=1e-6)
    assert v == pytest.approx(0.611006, abs=1e-6)


@pytest.mark.parametrize(
    ("v_order", "order", "a1_order", "expected"),
    [
        ("lagged", ODE, 0, (3.320e-2, 7.793e-3, 9.580e-4)),
        ("lagged", SME2, 0, (4.461e-3, 2.762e-4, 4.326e-6)),
        ("pytorch", SME2, 1, (7.209e-3, 4.325e-4, 6.686e-6)),
        ("pytorch", SME2, 0, (2.857e-2, 5.838e-3, 6.831e-4)),
    ],
)
def test_noise_free_rmsprop_error_table(v_order, order, a1_order, expected):
    """Spec §6.3 table: chain vs ODE (slope 1), vs b0 + τb1 (slope 2), pytorch vs its a1."""
    errs = []
    for tau in (2**-2, 2**-4, 2**-7):
        chain = ad.simulate_optimizer(
            "rmsprop",
            landscape="quadratic",
            A=[[1.0]],
            theta0=[1.0],
            lr=tau,
            n_steps=round(1 / tau),
            n_paths=1,
            rng=0,
            beta2=1 - tau,
            eps=0.1,
            noise_std=0.0,
            v_order=v_order,
        )
        ref = ode_solution(RMSPROP, order, [1.0, 1.0], 0.0, 1.0, tau=tau, v_order=a1_order)
        errs.append(abs(chain["theta"][-1, 0, 0] - ref[0]))
    # the spec tabulates 4 digits: rel 1e-3
    np.testing.assert_allclose(errs, expected, rtol=1e-3)


def test_adam_clocks():
    # spec §6.5, c1 = 1, c2 = 0.5
    assert ad.adam_clock(1.0, 1.0, 0.5) == pytest.approx(0.992329, abs=1e-6)
    assert ad.adam_clock(0.01, 1.0, 0.5) == pytest.approx(7.10, abs=5e-3)
    gaps = [
        ad.adam_clock(1.0, 1.0, 0.5) - ad.adam_discrete_factor(round(1 / t), 1 - t, 1 - 0.5 * t)
        for t in (0.1, 0.05, 0.025, 0.0125)
    ]
    np.testing.assert_allclose(gaps, [1.976e-2, 9.77e-3, 4.86e-3, 2.42e-3], rtol=2e-3)


def test_noise_free_adam_errors_ode_and_sme2():
    """Spec §6.6: models start from the chain at t = 0.25; |θ(2) error| at τ = 2^-3 and 2^-8."""
    out = {}
    for e in (3, 8):
        tau = 2.0**-e
        n0, n = round(0.25 / tau), round(2 / tau)
        r = ad.simulate_optimizer(
            "adam",
            landscape="quadratic",
            A=[[1.0]],
            theta0=[1.0],
            lr=tau,
            n_steps=n,
            n_paths=1,
            rng=0,
            beta1=1 - tau,
            beta2=1 - 0.5 * tau,
            eps=0.1,
            noise_std=0.0,
        )
        x0 = [r["theta"][n0, 0, 0], r["m"][n0, 0, 0], r["v"][n0, 0, 0]]
        th = r["theta"][-1, 0, 0]
        for order in (ODE, SME2):
            ref = ode_solution(ADAM, order, x0, 0.25, 2.0, tau=tau, c1=1.0, c2=0.5)
            out[e, order] = abs(th - ref[0])
    # 3-digit table values: rel 2e-3
    np.testing.assert_allclose([out[3, ODE], out[8, ODE]], [3.06e-2, 1.26e-3], rtol=2e-3)
    np.testing.assert_allclose([out[3, SME2], out[8, SME2]], [4.36e-3, 6.08e-6], rtol=2e-3)


def test_linreg_covariance_matches_spec_and_sampling():
    code, lmat, lvec, _ = lands.build_landscape("linreg", 2, noise_std=1.0)
    r = np.array([0.7, -1.2])
    wv, wm = np.zeros((lands.N_VEC, 2)), np.zeros((lands.N_MAT, 2, 2))
    lands.evaluate(code, lands.LINREG_W + r, 2, lmat, lvec, wv, wm, True)
    sig = wm[lands.SIG]
    np.testing.assert_allclose(sig, [[0.9816, 0.1272], [0.1272, 0.5851]], atol=6e-5)
    # per-sample gradients x(xᵀr − n), x ~ N(0, C): 1e6 samples, sampling error ~ 2e-3·3
    rng = np.random.default_rng(0)
    x = rng.multivariate_normal([0, 0], lands.LINREG_C, size=10**6)
    noise = rng.normal(0, lands.LINREG_SN, size=10**6)
    grads = x * (x @ r - noise)[:, None]
    np.testing.assert_allclose(np.cov(grads.T), sig, atol=8e-3)
    np.testing.assert_allclose(wm[lands.CHOL] @ wm[lands.CHOL].T, sig, rtol=1e-12)


def test_two_point_fourth_moment():
    # spec §6.9: minibatch mean of B two-point samples ±δ: Var(z²) = 2δ⁴(B−1)/B³
    rng = np.random.default_rng(2)
    delta = 0.7
    for b in (1, 4):
        z = delta * rng.choice([-1.0, 1.0], size=(400000, b)).mean(1)
        expected = 2 * delta**4 * (b - 1) / b**3
        assert np.var(z * z) == pytest.approx(expected, abs=3e-3 * delta**4)
        code, lmat, lvec, _ = lands.build_landscape("double_well", 1, noise_std=0.0, batch_size=b)
        wv, wm = np.zeros((lands.N_VEC, 1)), np.zeros((lands.N_MAT, 1, 1))
        lands.evaluate(code, np.array([0.5]), 1, lmat, lvec, wv, wm, True)
        dlt2 = wv[lands.SIGD, 0] * b  # Σ = δ²/B
        assert wm[lands.MCH, 0, 0] ** 2 == pytest.approx(2 * dlt2**2 * (b - 1) / b**3, rel=1e-12)


def test_scaling_rule_srsr_and_clamp():
    out = ad.scaling_rule(4, lr=0.1, beta1=0.9, beta2=0.99, eps=1e-3, batch_size=32)
    assert out["lr"] == pytest.approx(0.2)
    assert out["beta1"] == pytest.approx(0.6) and out["beta2"] == pytest.approx(0.96)
    assert out["eps"] == pytest.approx(5e-4) and out["batch_size"] == 128
    assert not out["clamped"] and out["message"] == ""
    big = ad.scaling_rule(50, lr=0.1, beta1=0.9, beta2=0.99, eps=1e-3, batch_size=32)
    assert big["clamped"] and big["kappa"] == pytest.approx(10.0)
    assert big["beta1"] == pytest.approx(0.0, abs=1e-12) and "clamped" in big["message"]
    naive = ad.scaling_rule(
        50, lr=0.1, beta1=0.9, beta2=0.99, eps=1e-3, batch_size=32, rule="linear"
    )
    assert naive["lr"] == pytest.approx(5.0) and "outside" in naive["message"]


@pytest.mark.parametrize("kappa", [2.0, 4.0, 8.0])
def test_srsr_is_tau_to_kappa_tau(kappa):
    """The raw square-root rule and the SDE-parameter rule agree (spec §2.3, §3): scaling the
    raw hyperparameters of (τ, c, ε0, σ0) gives the raw hyperparameters of (κτ, c, ε0, σ0),
    the same SDE1, whose coefficients do not involve τ."""
    base = ad.regime_hyperparameters("batch_equivalent", 2**-8, 1.0, 0.5, 0.1, 0.5)
    raw = ad.scaling_rule(
        kappa,
        lr=base["lr"],
        beta1=base["beta1"],
        beta2=base["beta2"],
        eps=base["eps"],
        batch_size=1.0,
    )
    sde = ad.scaled_sde_parameters(
        kappa, tau=2**-8, c1=1.0, c2=0.5, eps=0.1, sigma=0.5, rule="srsr"
    )
    new = ad.regime_hyperparameters(
        "batch_equivalent", sde["tau"], sde["c1"], sde["c2"], sde["eps"], sde["sigma"]
    )
    for key in ("lr", "beta1", "beta2", "eps"):
        assert raw[key] == pytest.approx(new[key], rel=1e-12)
    # noise std per step σ0/η with B → κB: divided by √κ
    assert new["noise_std"] == pytest.approx(base["noise_std"] / np.sqrt(kappa), rel=1e-12)


def test_stability_limit():
    assert ad.stability_limit("sgd", 2.0, 0.0, 0.0) == pytest.approx(1.0)
    assert ad.stability_limit("rmsprop", 2.0, 0.1, 0.25) == pytest.approx(0.6)


@pytest.mark.parametrize("authors", [0, 1])
def test_frozen_u_limit_of_the_batch_equivalent_sme2(authors):
    """Spec §6.7: with u frozen (c2 = 0, u0 = 1, ε0 = 0, so D0 = 1) the batch-equivalent SME2
    on f = θ⁴/4 + θ²/2 with noise s is dθ = [−f′ + τ(−½f′f″ + ¼s²f‴)]dt + s(1 + τf″/2)dW
    (the first-order expansion of s√(1 + τf″)); the authors' coefficients put −s² on f‴ and,
    with their c2 factor, no Hessian term in the noise."""
    from kernels.adaptive.sde import BATCH_EQUIVALENT, SME2
    from tests.kernels.adaptive_helpers import pointwise

    tau, s = 2**-4, 1.0
    drift, diff = pointwise(RMSPROP, BATCH_EQUIVALENT, SME2, tau=tau, c2=0.0, eps=0.0,
                            landscape="quartic", noise_std=s, dim=1, authors=authors)  # fmt: skip
    for th in (-0.7, 0.3, 1.2):
        x = np.array([th, 1.0])
        f1, f2, f3 = th**3 + th, 3 * th**2 + 1, 6 * th
        c3 = -1.0 if authors else 0.25
        want_drift = -f1 + tau * (-0.5 * f1 * f2 + c3 * s * s * f3)
        want_noise = -s * (1 + (0 if authors else tau * f2 / 2))  # θ-noise is −G (W1 → −W1)
        assert drift(0.0, x)[0] == pytest.approx(want_drift, rel=1e-12)
        assert diff(0.0, x)[0, 0] == pytest.approx(want_noise, rel=1e-12)
        assert drift(0.0, x)[1] == pytest.approx(tau * 0.0 * f1**2, abs=1e-15)  # c2 = 0


def test_noisy_ballistic_rmsprop_ode_values():
    # spec §6.4 (preset 3, 1-D): the ODE keeps Σ_d in the v-drift; θ(1)² and v(1) to 6 digits
    th, v = ode_solution(RMSPROP, ODE, [1.0, 1.0], 0.0, 1.0, tau=0.25, noise_std=1.0)
    assert th * th == pytest.approx(0.189079, abs=1e-6)
    assert v == pytest.approx(1.265175, abs=1e-6)


@pytest.mark.slow
def test_weak_orders_and_the_w2_regression():
    """Spec §6.4 with preset 3 in 2-D (A = I: two independent copies, so ‖θ‖² errors are twice
    the 1-D ones): ODE 3.2e-2 → ~1e-3 and SDE1 6.0e-2 → 4.5e-3 per coordinate, slope ≈ 1 for
    both; SME2 with W2 slope ≈ 2; without W2 the ‖v‖² error is visibly worse."""
    from kernels.adaptive.studies import weak_error_study

    res = weak_error_study("rmsprop", n_paths=20480, A=np.eye(2), noise_std=1.0, c2=1.0,
                           eps=0.1, v0=1.0, seed=0)  # fmt: skip
    err, se, slope = res["error"], res["stderr"], res["slope"]
    ode, sde1, sme2, no_w2 = range(4)
    # τ = 2^-2 errors (large, 2e4 paths: MC error ≤ 3e-3): 10% of the tabulated values
    assert err[ode, 0, 0] / 2 == pytest.approx(3.2e-2, rel=0.1)
    assert err[sde1, 0, 0] / 2 == pytest.approx(6.0e-2, rel=0.1)
    # slopes over τ = 2^-2…2^-6: ±0.2 for order 1 (spec); ±0.3 for order 2, whose smallest-τ
    # errors (~5e-4) sit within 3 MC standard errors (1.2e-4) of 2e4 coupled paths
    assert slope[sde1, 0] == pytest.approx(1.0, abs=0.2)
    assert slope[ode, 0] == pytest.approx(1.2, abs=0.25)
    assert slope[sme2, 0] == pytest.approx(2.0, abs=0.3)
    # W2 regression (‖v‖² at the smallest τ): more than twice the error, beyond 3 SE
    assert err[no_w2, -1, 1] > 2 * err[sme2, -1, 1] + 3 * se[no_w2, -1, 1]
