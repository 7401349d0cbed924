"""GP posterior, sample keys and the fused Monte Carlo expected signature (spec §2, §6.9–6.11).

Oracles: the posterior against a direct numpy solve; the fused kernel against sampling the
paths explicitly and signing them one by one; Brownian motion against its closed form.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernels.signature as S
from kernels.common.progress import Cancelled
from kernels.signature.gp import jittered_cholesky, kernel_matrix


def test_posterior_matches_direct_solve() -> None:
    post = S.gp_posterior(20, refine=3, kernel="matern52", length_scale=0.2, noise_var=0.05)
    t, g = np.linspace(0, 1, 20), np.linspace(0, 1, 58)
    k = lambda a, b: kernel_matrix(a, b, "matern52", 0.2, 1.0)  # noqa: E731
    a = k(t, t) + 0.05 * np.eye(20)
    w = k(g, t) @ np.linalg.inv(a)
    c = k(g, g) - k(g, t) @ np.linalg.inv(a) @ k(t, g)
    assert post.grid.shape == (58,)  # G = r(L−1)+1
    assert np.max(np.abs(post.smoother - w)) < 1e-10  # cond(A) ≤ 1/σ_n²·L: 1e-10 is loose
    assert np.max(np.abs(post.cov - c)) < 1e-10
    # R Rᵀ = C up to the jitter added (ε ≤ 1e-10·10^k·σ_f²)
    assert np.max(np.abs(post.root @ post.root.T - c)) < 10 * post.jitter + 1e-12


@pytest.mark.parametrize("kernel", S.KERNELS)
def test_kernels_are_stationary_and_positive(kernel: str) -> None:
    x = np.linspace(0, 1, 30)
    k = kernel_matrix(x, x, kernel, 0.1, 2.0)
    assert np.allclose(np.diag(k), 2.0) and np.allclose(k, k.T)
    assert np.linalg.eigvalsh(k).min() > -1e-10 * 2.0  # PSD up to round-off
    assert np.all(np.diff(k[0]) <= 1e-15)  # decreasing in |s − t|


def test_jittered_cholesky_escalates_then_falls_back() -> None:
    singular = np.ones((4, 4))  # rank 1
    root, jitter, method = jittered_cholesky(singular, 1.0)
    assert method == "cholesky" and jitter >= 1e-10
    assert np.max(np.abs(root @ root.T - singular)) < 10 * jitter
    indefinite = np.diag([1.0, -1.0])
    root, _, method = jittered_cholesky(indefinite, 1.0)
    assert method == "eigh" and np.allclose(root @ root.T, np.diag([1.0, 0.0]))


def test_fine_grid_stays_factorisable() -> None:
    # r = 8 on 150 points: C is near-singular (spec §2.1); the jitter must keep R finite
    post = S.gp_posterior(150, refine=8, length_scale=0.5, noise_var=1e-6)
    assert np.all(np.isfinite(post.root))


def test_sample_keys_append_and_are_shared_across_hyperparameters() -> None:
    z8 = S.sample_normals(3, np.array([0, 5]), 8, 2, 11)
    z3 = S.sample_normals(3, np.array([5]), 3, 2, 11)
    assert np.array_equal(z8[1, :3], z3[0])  # raising M appends samples
    assert not np.array_equal(z8[0], z8[1])  # series have their own streams
    # the same z under two length-scales: paths move continuously with the slider
    y = np.sin(6 * np.linspace(0, 1, 11))[None, :]
    paths = [
        S.gp_sample_paths(post, post.mean(y), z8[0, :, :1])
        for post in (S.gp_posterior(11, length_scale=ls) for ls in (0.1, 0.1001))
    ]
    assert np.max(np.abs(paths[0] - paths[1])) < 1e-2


def fused_and_explicit(lead_lag: bool, refine: int = 2):
    rng = np.random.default_rng(0)
    post = S.gp_posterior(15, refine=refine, length_scale=0.15, noise_var=0.05)
    y = rng.standard_normal((3, 2, 15))
    means = post.mean(y)
    z = S.sample_normals(1, np.arange(3), 9, 2, post.grid.size)
    sums, sumsq = S.gp_signature_sums(means, post, z, 3, lead_lag=lead_lag)
    explicit = []
    for s in range(3):
        paths = S.gp_sample_paths(post, means[s], z[s])
        aug = np.stack([S.augment(p.T, post.grid, lead_lag=lead_lag) for p in paths])
        explicit.append(S.signature_batch(aug, 3))
    return post, means, z, sums, sumsq, np.stack(explicit)


@pytest.mark.parametrize("lead_lag", [False, True])
def test_fused_sums_match_explicit_samples(lead_lag: bool) -> None:
    _, _, _, sums, sumsq, explicit = fused_and_explicit(lead_lag)
    scale = np.abs(explicit).max()
    # the same products in a different loop order: round-off of ≤ 40 terms of size ≤ scale
    assert np.max(np.abs(sums - explicit.sum(axis=1))) < 1e-12 * scale * 9
    assert np.max(np.abs(sumsq - (explicit**2).sum(axis=1))) < 1e-12 * scale**2 * 9


def test_fused_sums_extend_bit_identically_and_store() -> None:
    post, means, z, sums, sumsq, explicit = fused_and_explicit(False)
    store = np.zeros((3, 4, sums.shape[1]))
    s1, q1 = S.gp_signature_sums(means, post, z[:, :2], 3, store=store)
    S.gp_signature_sums(means, post, z[:, 2:], 3, sums=s1, sumsq=q1, store=store, store_from=2)
    assert np.array_equal(s1, sums) and np.array_equal(q1, sumsq)
    assert np.max(np.abs(store - explicit[:, :4])) < 1e-12 * np.abs(explicit).max()


def test_progress_cancels() -> None:
    post, means, z, *_ = fused_and_explicit(False)
    with pytest.raises(Cancelled):
        S.gp_signature_sums(means, post, z, 3, progress=lambda f: False, chunk=1)


@pytest.mark.slow
def test_gp_level_one_is_the_mean_increment() -> None:
    # §6.10: E[S^(1)] = Δm of the augmented mean path (time coordinate exactly 1); tol 4 s.e.
    post = S.gp_posterior(30, length_scale=0.1, noise_var=0.1)
    y = np.sin(4 * np.linspace(0, 1, 30))[None, None, :]
    means = post.mean(y)
    z = S.sample_normals(2, np.arange(1), 4000, 1, post.grid.size)
    sums, sumsq = S.gp_signature_sums(means, post, z, 2)
    mean, se = S.sums_to_mean_stderr(sums[0], sumsq[0], 4000)
    aug_mean = S.augment(means[0].T, post.grid)
    increment = aug_mean[-1] - aug_mean[0]
    assert mean[0] == pytest.approx(1.0, abs=1e-12)  # deterministic time channel
    assert abs(mean[1] - increment[1]) < 4 * se[1]


def test_noiseless_limit_gives_the_mean_signature() -> None:
    # §6.11: σ_n² = 1e-6, ℓ = 0.05, L = 60, M = 64, N = 4, time + basepoint at r = 1:
    # max relative difference 4e-5 observed; tol 1e-3
    t = np.linspace(0, 1, 60)
    y = np.sin(6 * t)[None, None, :]
    post = S.gp_posterior(60, length_scale=0.05, noise_var=1e-6)
    means = post.mean(y)
    z = S.sample_normals(0, np.arange(1), 64, 1, post.grid.size)
    sums, _ = S.gp_signature_sums(means, post, z, 4)
    es = sums[0] / 64
    sm = S.augmented_signature_batch(np.transpose(means, (0, 2, 1)), 4, post.grid)[0]
    assert np.max(np.abs(es - sm)) / np.max(np.abs(sm)) < 1e-3
    assert np.max(np.abs(means[0, 0] - y[0, 0])) < 1e-3  # smooth data: m → y (observed 4e-5)


@pytest.mark.slow
def test_brownian_expected_signature_converges_to_closed_form() -> None:
    # §6.9: M_B = 20000, n = 200, d_B = 2, T = 1; tol 4 s.e. at levels 1–3, 4 s.e. + 0.005 at
    # level 4 (discretisation bias of the piecewise-linear paths)
    mean, se = S.brownian_expected_signature(20000, 200, 2, 1.0, 4, np.random.default_rng(9))
    exact = S.brownian_expected_signature_exact(2, 1.0, 4)
    assert exact[2:6].tolist() == [0.5, 0.0, 0.0, 0.5]  # level 2 = (T/2) δ_ij
    lv4 = exact[14:].reshape(2, 2, 2, 2)
    assert lv4[0, 0, 1, 1] == 0.125 and lv4[0, 1, 0, 1] == 0.0  # T²/8 at (i,i,j,j)
    err = np.abs(mean - exact)
    assert np.all(err[:14] < 4 * se[:14])
    assert np.all(err[14:] < 4 * se[14:] + 0.005)


def test_brownian_level_two_diagonal_exact_for_every_path_count() -> None:
    # §6.9 [derived]: the symmetric part of level 2 is ½ΔB⊗ΔB; E = (T/2)δ_ij exactly in law,
    # so the MC error is pure sampling noise: check at 4 s.e. with a small M
    mean, se = S.brownian_expected_signature(2000, 10, 3, 2.0, 2, 1)
    lv2 = mean[3:].reshape(3, 3)
    se2 = se[3:].reshape(3, 3)
    assert np.all(np.abs(np.diag(lv2) - 1.0) < 4 * np.diag(se2))


def test_synthetic_ou_has_unit_stationary_variance_and_different_roughness() -> None:
    xtr, ytr, xte, yte = S.synthetic_ou(np.random.default_rng(0))
    assert xtr.shape == (200, 1, 100) and xte.shape == (200, 1, 100)
    assert sorted(set(ytr)) == ["0", "1"] and list(ytr) == list(yte)
    for label in ("0", "1"):
        x = xtr[ytr == label, 0]
        # var 1 + 0.01 (obs. noise); 100 series × 100 correlated points: ±0.15 is > 4 s.e.
        assert abs(x.var() - 1.01) < 0.15
    rough = [np.mean(np.diff(xtr[ytr == c, 0]) ** 2) for c in ("0", "1")]
    # E(ΔX)² = 2(1 − e^{−θΔ}) + 2·0.01: θ=2 → 0.060, θ=20 → 0.35
    assert rough[0] == pytest.approx(2 * (1 - np.exp(-2 / 99)) + 0.02, rel=0.1)
    assert rough[1] == pytest.approx(2 * (1 - np.exp(-20 / 99)) + 0.02, rel=0.1)
    again = S.synthetic_ou(np.random.default_rng(0))
    assert np.array_equal(again[0], xtr)  # same seed → identical data


def test_serial_cores_give_identical_numbers() -> None:
    # the fallback for a thread-unsafe Numba layer must not change a single bit
    from kernels.signature import features as F

    post, means, z, sums, sumsq, _ = fused_and_explicit(True)
    s2, q2 = np.zeros_like(sums), np.zeros_like(sums)
    F.gp_signature_moments_serial(
        means,
        post.root,
        True,
        z,
        post.grid,
        True,
        True,
        True,
        3,
        s2,
        q2,
        np.zeros((3, 0, sums.shape[1])),
        0,
    )
    assert np.array_equal(s2, sums) and np.array_equal(q2, sumsq)
    paths = np.random.default_rng(2).standard_normal((40, 7, 2))
    out = np.zeros((40, S.sig_length(5, 3)))
    F.augmented_signatures_serial(paths, np.linspace(0, 1, 7), True, True, True, 3, out)
    assert np.array_equal(out, S.augmented_signature_batch(paths, 3, lead_lag=True))
    assert S.threads_available() in (True, False)


@pytest.mark.parametrize("lead_lag", [False, True])
def test_any_split_of_the_samples_gives_bit_identical_sums(lead_lag: bool) -> None:
    # By construction (no fast-math in the lane cores): a sample's signature is the same IEEE
    # operations whichever lane and block it lands in, so splits that move samples between
    # the SIMD body and the remainder of a block (2 + 7, 5 + 30 + 35, …) give the same bits.
    rng = np.random.default_rng(4)
    post = S.gp_posterior(12, refine=2, length_scale=0.2, noise_var=0.05)
    means = post.mean(rng.standard_normal((2, 2, 12)))
    z = S.sample_normals(5, np.arange(2), 70, 2, post.grid.size)
    one_shot = S.gp_signature_sums(means, post, z, 3, lead_lag=lead_lag)
    for cuts in ((2,), (5, 35), (1, 2, 3, 33, 64), (32,), (31, 63)):
        sums, sumsq = None, None
        for a, b in zip((0, *cuts), (*cuts, 70), strict=True):
            sums, sumsq = S.gp_signature_sums(
                means, post, z[:, a:b], 3, lead_lag=lead_lag, sums=sums, sumsq=sumsq
            )
        assert np.array_equal(sums, one_shot[0]) and np.array_equal(sumsq, one_shot[1]), cuts


def test_a_signature_does_not_depend_on_its_block() -> None:
    # the batch cores sign 32 paths per block: a path alone, at the end of a full block or in
    # the remainder of a partial one gives the same bits
    paths = np.random.default_rng(6).standard_normal((45, 9, 3)).cumsum(axis=1)
    full = S.signature_batch(paths, 4, parallel=False)
    for k in (0, 7, 31, 32, 44):
        assert np.array_equal(S.signature_batch(paths[k : k + 1], 4, parallel=False)[0], full[k])
        assert np.array_equal(S.signature_batch(paths[k:], 4, parallel=False)[0], full[k])
