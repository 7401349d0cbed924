"""kernels.tokens simulations against the analytic facts of spec models/tokens.md §6 and the
presets of §5 (the numerical studies of §6.2 and §6.9 are in test_token_studies.py).

Tests marked ``slow`` take 2-5 s each on a warm numba cache (more on the first, compiling run).

Every statistical test uses a fixed seed (so it is deterministic) and a tolerance derived from the
standard error it quotes; several also show that the same check rejects a wrong model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import kernels.tokens as T
from kernels.tokens.deterministic import equiangular_rho, pair_rho_beta0
from kernels.tokens.diagnostics import kuramoto_order_parameter
from kernels.tokens.theory import (
    lyapunov_exponent,
    one_token_correlation,
    two_point_coefficients,
)
from tests.kernels.token_helpers import rho_paths

RELU3 = dict(activation="relu", width=8, attn_kind="off", attn_strength=0.0, beta=1.0)


def pair_overlap(frames):
    """<x_0, x_1> of two-token configurations (..., 2, d)."""
    return np.sum(frames[..., 0, :] * frames[..., 1, :], axis=-1)


def pair_gap(frames):
    """1 - <x_0, x_1> = |x_0 - x_1|^2 / 2, accurate near synchronization."""
    return 0.5 * np.sum((frames[..., 0, :] - frames[..., 1, :]) ** 2, axis=-1)


#: Spec §5 "Teaching default": relu, m = 64, SA with alpha = 0 (beta = 1), sigma_n = 2, h = 5e-3.
TEACHING = dict(
    dt=5e-3,
    sigma_noise=2.0,
    activation="relu",
    width=64,
    attn_kind="sa",
    attn_strength=0.0,
    beta=1.0,
)


# ---------------------------------------------------------------------------------------------
# §6.4 two-point motion: one step and the law at T = 1
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rho", "b_spec", "a_spec"),
    [(-0.8, 0.8222, 0.3678), (0.0, 0.1592, 1.0), (0.6, -0.1393, 0.3798)],
)
def test_one_step_drift_and_variance(rho, b_spec, a_spec):
    b, a = two_point_coefficients(rho, activation="relu", dim=3, sigma_noise=1.0)
    assert float(b) == pytest.approx(b_spec, abs=1e-4) and float(a) == pytest.approx(
        a_spec, abs=1e-4
    )
    h, n = 1e-3, 400_000  # spec §6.4
    x0s = np.zeros((n, 2, 3))
    x0s[:, 0, 0] = 1.0
    x0s[:, 1, :2] = rho, math.sqrt(1 - rho * rho)
    out = T.simulate_ensemble(x0s, n_steps=1, dt=h, sigma_noise=1.0, rng=2, **RELU3)
    step = pair_overlap(out[-1]) - rho
    # drift: SE = sqrt(a / (h n)) <= 0.05, tolerance 0.15 (spec) = 3 SE
    assert step.mean() / h == pytest.approx(b_spec, abs=0.15)
    # variance: relative SE ~ sqrt((kurtosis - 1)/n) ~ 0.3 %, O(h) bias 0.1 %; tolerance 3 % (spec)
    assert step.var() / h == pytest.approx(a_spec, rel=0.03)


def test_law_of_the_overlap_matches_the_rho_diffusion():
    # spec §6.4: kernel rho_T (rho_0 = 0, T = 1, m = 8) vs the exact diffusion, KS at 1e-3
    n = 4000
    x0s = np.zeros((n, 2, 3))
    x0s[:, 0, 0] = 1.0
    x0s[:, 1, 1] = 1.0
    out = T.simulate_ensemble(
        x0s, n_steps=200, dt=5e-3, sigma_noise=1.0, rng=3, stride=200, **RELU3
    )
    kernel = pair_overlap(out[-1])

    diffusion = rho_paths(0.0, n_paths=n, seed=4)
    assert stats.ks_2samp(kernel, diffusion).pvalue > 1e-3
    # power: a 20 % larger noise strength is rejected by the same test
    wrong = rho_paths(0.0, sigma_noise=1.2, n_paths=n, seed=4)
    assert stats.ks_2samp(kernel, wrong).pvalue < 1e-3


# ---------------------------------------------------------------------------------------------
# §6.5 one token
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("d", "expected"), [(3, 0.6065), (2, 0.7788)])
def test_one_token_autocorrelation(d, expected):
    assert float(one_token_correlation(1.0, activation="relu", dim=d)) == pytest.approx(
        expected, abs=1e-4
    )
    n = 20_000  # spec §6.5: 20,000 tokens, h = 5e-3
    x0s = T.initial_tokens("uniform", n, d, np.random.default_rng(5))[:, None, :]
    out = T.simulate_ensemble(
        x0s, n_steps=200, dt=5e-3, sigma_noise=1.0, rng=6, stride=200, **RELU3
    )
    corr = np.sum(out[-1, :, 0] * x0s[:, 0], axis=1)
    # SE 0.0024 (spec), tolerance 0.008 = 3.3 SE
    assert corr.mean() == pytest.approx(expected, abs=0.008)


# ---------------------------------------------------------------------------------------------
# §6.7 deterministic limits
# ---------------------------------------------------------------------------------------------

NO_NOISE = dict(sigma_noise=0.0, activation="relu", width=4, rng=0)


@pytest.mark.parametrize(
    ("attn", "t", "spec_value", "tol"), [("sa", 1.5, 0.77913, 1e-3), ("usa", 0.3, 0.67816, 5e-3)]
)
def test_equiangular_deterministic_limit(attn, t, spec_value, tol):
    x0 = T.initial_tokens("equiangular", 3, 4, 0, rho0=0.2)
    h = 1e-3
    out = T.simulate(
        x0, n_steps=round(t / h), dt=h, attn_kind=attn, attn_strength=1.0, beta=2.0, **NO_NOISE
    )
    g = T.gram(out[-1])[~np.eye(3, dtype=bool)]
    assert np.ptp(g) < 1e-12  # stays equiangular
    exact = float(equiangular_rho(t, n_tokens=3, rho0=0.2, alpha=1.0, beta=2.0, attn_kind=attn))
    assert exact == pytest.approx(spec_value, abs=1e-5)
    # spec §6.7: Euler with h = 1e-3 lands within 1e-3 (SA) and 5e-3 (USA)
    assert g.mean() == pytest.approx(spec_value, abs=tol)
    assert g.mean() == pytest.approx(exact, abs=tol)


@pytest.mark.parametrize("attn", ["sa", "usa"])
def test_pair_at_beta_zero_follows_tanh(attn):
    x0 = T.initial_tokens("pair", 2, 3, 1, rho0=-0.6)
    out = T.simulate(
        x0, n_steps=2000, dt=1e-3, attn_kind=attn, attn_strength=1.0, beta=0.0, **NO_NOISE
    )
    exact = float(pair_rho_beta0(2.0, 1.0, -0.6))
    assert exact == pytest.approx(0.86348, abs=1e-5)
    # Euler's O(h) global error: observed 2.6e-4 at h = 1e-3; tolerance 1e-3
    assert pair_overlap(out[-1]) == pytest.approx(exact, abs=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hemisphere_start_collapses_at_the_consensus_rate(seed):
    x0 = T.initial_tokens("hemisphere", 32, 3, seed)
    h = 1e-2
    out = T.simulate(
        x0, n_steps=2000, dt=h, attn_kind="sa", attn_strength=1.0, beta=1.0, stride=10, **NO_NOISE
    )
    diam = T.diameter(out)
    t = np.arange(diam.size) * 10 * h
    assert diam[t == 15.0][0] < 1e-4 and T.cluster_count(out[-1]) == 1
    # near consensus 1 - rho ~ exp(-2 alpha t), so the diameter decays at rate alpha = 1;
    # Euler's factor (1 - alpha h) per layer gives log(1 - h)/h = -1.005; tolerance 0.02
    assert T.fit_log_slope(t, diam, floor=1e-10) == pytest.approx(-1.005, abs=0.02)


# ---------------------------------------------------------------------------------------------
# §6.8 independent noise: noisy Kuramoto
# ---------------------------------------------------------------------------------------------


def kuramoto_time_average(sigma_noise, seed):
    h = 5e-3
    x0 = T.initial_tokens("cap", 400, 2, np.random.default_rng(seed), cap_angle=0.3)
    out = T.simulate(
        x0,
        n_steps=round(20 / h),
        dt=h,
        sigma_noise=sigma_noise,
        activation="relu",
        width=8,
        attn_kind="usa",
        attn_strength=1.0,
        beta=0.0,
        noise_sharing="independent",
        rng=seed + 1,
        stride=20,
    )
    t = np.arange(out.shape[0]) * 20 * h
    return T.mean_vector_norm(out)[(t >= 8) & (t <= 20)].mean()


def test_independent_noise_kuramoto_order_parameter():
    assert kuramoto_order_parameter(1.0, 1.0, "relu") == pytest.approx(0.8315, abs=1e-4)
    # spec §6.8: N = 400, cap start, time average over [8, 20], tolerance 0.03. Over six seeds
    # the time average was 0.832 +- 0.0065, so 0.03 is 4.6 run-to-run SDs
    assert kuramoto_time_average(1.0, 7) == pytest.approx(0.8315, abs=0.03)
    # sigma_n = 2: alpha = 1 <= sigma_n^2 kappa_1 = 2, the incoherent state is stable and
    # r = O(N^-1/2): E r^2 ~ (1/N)/(1 - alpha/(sigma_n^2 kappa_1)) = 2/N, r_rms = 0.07
    assert kuramoto_order_parameter(1.0, 2.0, "relu") == 0.0
    assert 0.02 < kuramoto_time_average(2.0, 7) < 0.15


def test_independent_noise_does_not_synchronize():
    # preset "Independent noise": each token is an independent Brownian motion on S^2; at t = 10
    # (relaxation rate sigma_n^2 kappa_1 = 2) they are i.i.d. uniform: 3N|xbar|^2 ~ chi2_3, so
    # |xbar| > 0.5 has probability ~2e-5 and a diameter < 1.5 among 32 tokens is as unlikely
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        x0 = T.initial_tokens("uniform", 32, 3, rng)
        out = T.simulate(
            x0, n_steps=2000, rng=rng, stride=2000, noise_sharing="independent", **TEACHING
        )
        assert T.diameter(out[-1]) > 1.5
        assert T.mean_vector_norm(out[-1]) < 0.5
        # the same run with common noise synchronizes
        rng = np.random.default_rng(seed)
        x0 = T.initial_tokens("uniform", 32, 3, rng)
        out = T.simulate(x0, n_steps=2000, rng=rng, stride=2000, **TEACHING)
        assert T.diameter(out[-1]) < 0.1


# ---------------------------------------------------------------------------------------------
# §5 presets
# ---------------------------------------------------------------------------------------------


def teaching_default_diameters(seed):
    """Seed convention: rng = default_rng(seed) draws x0 (uniform) and then all the noise."""
    rng = np.random.default_rng(seed)
    x0 = T.initial_tokens("uniform", 32, 3, rng)
    out = T.simulate(x0, n_steps=2000, rng=rng, stride=200, **TEACHING)
    d = T.diameter(out)
    return d[4], d[10]  # t = 4, t = 10


def test_teaching_default_preset():
    d4, d10 = np.array([teaching_default_diameters(s) for s in range(1, 17)]).T
    # The spec says "median diameter ≈ 0.2 at t = 4, all < 0.1 by t = 10". Over 400 seeds the
    # kernel (whose pair law matches the exact rho-diffusion, see the KS tests) gives a median
    # diameter of 0.03 at t = 4 with a very broad spread: the median of 16 seeds lies in
    # [1e-3, 0.87] with probability 99.9 %, which contains the spec's 0.2 but not much more can
    # be asserted. Seeds 1-16 give 0.031.
    assert 1e-3 < np.median(d4) < 0.87
    # About 1 % of seeds are still spread at t = 10 (seed 5 here; it synchronizes by t = 14),
    # so "all < 0.1" becomes "at least 14 of 16": P(>= 3 failures) ~ 5e-4.
    assert np.sum(d10 < 0.1) >= 14
    assert np.median(d10) < 1e-3  # 400-seed median: 2e-7


def test_mean_vs_median_preset():
    # N = 2, pair rho_0 = 0.9999, relu, d = 3, sigma_n = 1, R = 1024, m = 8, T = 2: the median
    # of log(1 - rho) (and E log(1 - rho)) falls at lambda_r = -1
    n, h = 1024, 5e-3
    gen = np.random.default_rng(9)
    x0s = np.stack([T.initial_tokens("pair", 2, 3, gen, rho0=0.9999) for _ in range(n)])
    out = T.simulate_ensemble(x0s, n_steps=400, dt=h, sigma_noise=1.0, rng=gen, stride=20, **RELU3)
    t = np.arange(out.shape[0]) * 20 * h
    log_r = np.log(pair_gap(out))
    # Var log r_t = s_r^2 t = 4t, so the SE of a mean at t = 2 is 0.09 and of the slope ~0.06
    assert np.polyfit(t, np.median(log_r, axis=1), 1)[0] == pytest.approx(-1.0, abs=0.2)
    assert np.polyfit(t, log_r.mean(axis=1), 1)[0] == pytest.approx(-1.0, abs=0.2)


def preset_diameters(seed, n, d, t_max, **kw):
    rng = np.random.default_rng(seed)
    x0 = T.initial_tokens("uniform", n, d, rng)
    cfg = {**TEACHING, **kw}
    steps = round(t_max / cfg["dt"])
    out = T.simulate(x0, n_steps=steps, rng=rng, stride=steps // 4, **cfg)
    return T.diameter(out)


def test_dimension_decides_preset():
    # d = 32, N = 16, sigma_n = 1: tanh has lambda_dist = +0.62 (never collapses), sigmoid -3.90
    assert lyapunov_exponent("tanh", 32) == pytest.approx(0.62, abs=0.01)
    assert lyapunov_exponent("sigmoid", 32) == pytest.approx(-3.90, abs=0.01)
    for seed in (1, 2, 3):
        tanh = preset_diameters(seed, 16, 32, 8.0, activation="tanh", sigma_noise=1.0)
        sigmoid = preset_diameters(seed, 16, 32, 8.0, activation="sigmoid", sigma_noise=1.0)
        assert tanh.min() > 1.0  # 8 seeds: the diameter stays above 1.7
        assert sigmoid[1] < 0.1  # t = 2: median 0.008 over 8 seeds
        assert sigmoid[-1] < 1e-6


def test_noise_against_repulsive_attention_preset():
    # relu, d = 3, N = 16, SA, beta = 1, alpha = -0.5: threshold sigma_n = 1
    assert lyapunov_exponent(
        "relu", 3, sigma_noise=0.7, attn_kind="sa", attn_strength=-0.5
    ) == pytest.approx(0.255, abs=1e-3)
    for seed in (1, 2):
        spread = preset_diameters(seed, 16, 3, 20.0, sigma_noise=0.7, attn_strength=-0.5)
        collapsed = preset_diameters(seed, 16, 3, 20.0, sigma_noise=2.0, attn_strength=-0.5)
        assert spread[-1] > 1.5  # 8 seeds: >= 1.93
        assert collapsed[-1] < 1e-3  # 8 seeds: one cluster
