"""kernels.signature: the §6 identities of the truncated signature (spec models/signature.md).

Oracle-free facts (straight line, Chen, invariances, shuffle, Lévy area, reversal, scaling,
linear equivariance, dimension) plus a plain-numpy oracle of the signature (the sum over
segments of Chen products written with ``np.multiply.outer``). The iisignature comparison is in
test_signature_vs_iisignature.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import kernels.signature as S


def walk(length: int = 51, d: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((length, d)).cumsum(axis=0)


def numpy_signature(path: np.ndarray, depth: int) -> np.ndarray:
    """Independent oracle: S = Π exp(Δ_i), levels as dense tensors, products by outer."""
    d = path.shape[1]
    levels = [np.ones(())] + [np.zeros((d,) * k) for k in range(1, depth + 1)]
    for delta in np.diff(path, axis=0):
        expo = [np.ones(())]
        for k in range(1, depth + 1):
            expo.append(np.multiply.outer(expo[-1], delta) / k)
        levels = [
            sum(np.multiply.outer(levels[i], expo[k - i]) for i in range(k + 1))
            for k in range(depth + 1)
        ]
    return np.concatenate([lv.ravel() for lv in levels[1:]])


def relerr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize(("length", "d", "depth"), [(51, 3, 4), (7, 1, 5), (12, 4, 3), (2, 2, 6)])
def test_matches_numpy_oracle(length: int, d: int, depth: int) -> None:
    path = walk(length, d, seed=length)
    # float64 round-off over ≤ 50 Chen products of O(10²) values: 1e-12 relative is ample
    assert relerr(S.signature(path, depth), numpy_signature(path, depth)) < 1e-12


def test_dimension_and_layout() -> None:
    # §6.12: Σ d^k; and the word order of iisignature (i1 d^{k-1} + ... + ik)
    for d, depth, n in [(2, 4, 30), (4, 4, 340), (7, 2, 56)]:
        assert S.sig_length(d, depth) == n
        assert S.signature(walk(5, d), depth).shape == (n,)
    path = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]])  # first along e1, then along e2
    sig = S.signature(path, 2)
    level2 = sig[2:].reshape(2, 2)
    assert level2[0, 1] == pytest.approx(2.0)  # ∫ dx¹ dx² = 1·2 (e1 before e2)
    assert level2[1, 0] == pytest.approx(0.0)


def test_straight_line_is_exponential_of_increment() -> None:
    # §6.1: S^(k) = Δ^{⊗k}/k!; observed 1e-17, tol 1e-14 (a few ulps of values ≤ 1)
    delta = np.array([0.3, -0.7, 0.5])
    path = np.linspace(0.0, 1.0, 11)[:, None] * delta
    levels = S.sig_levels(S.signature(path, 4), 3, 4)
    power = np.ones(())
    for k, level in enumerate(levels, start=1):
        power = np.multiply.outer(power, delta)
        assert np.max(np.abs(level - power / math.factorial(k))) < 1e-14


def test_chen_identity() -> None:
    # §6.2: S(X*Y) = S(X) ⊗ S(Y); observed 1.4e-12, rtol 1e-10
    path = walk()
    a, b = S.signature(path[:20], 4), S.signature(path[19:], 4)
    assert relerr(S.sig_combine(a, b, 3, 4), S.signature(path, 4)) < 1e-10


def test_invariances() -> None:
    # §6.3: inserted points on segments, repeated points, translation; rtol 1e-10
    path = walk()
    ref = S.signature(path, 4)
    mids = 0.5 * (path[1:] + path[:-1])
    refined = np.empty((2 * len(path) - 1, 3))
    refined[::2], refined[1::2] = path, mids
    assert relerr(S.signature(refined, 4), ref) < 1e-10
    assert relerr(S.signature(np.repeat(path, 2, axis=0), 4), ref) < 1e-10
    assert relerr(S.signature(path + np.array([5.0, -3.0, 1.0]), 4), ref) < 1e-10


def test_shuffle_identities() -> None:
    # §6.4: S^i S^j = S^{ij} + S^{ji}; S^i S^{jk} = S^{ijk} + S^{jik} + S^{jki}; rtol 1e-10
    lv = S.sig_levels(S.signature(walk(), 3), 3, 3)
    for i in range(3):
        for j in range(3):
            assert lv[0][i] * lv[0][j] == pytest.approx(lv[1][i, j] + lv[1][j, i], rel=1e-10)
            for k in range(3):
                rhs = lv[2][i, j, k] + lv[2][j, i, k] + lv[2][j, k, i]
                assert lv[0][i] * lv[1][j, k] == pytest.approx(rhs, rel=1e-10, abs=1e-10)


def test_levy_area_of_a_closed_square() -> None:
    # §6.5: ½(S^{12} − S^{21}) is the signed area; a unit square run counter-clockwise has 1
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=float)
    level2 = S.signature(square, 2)[2:].reshape(2, 2)
    assert 0.5 * (level2[0, 1] - level2[1, 0]) == pytest.approx(1.0, abs=1e-14)


def test_time_reversal_inverts() -> None:
    # §6.6: S(X) ⊗ S(X reversed) = 1; observed 3e-15, tolerance 1e-11 on values ≈ 650
    path = walk()
    prod = S.sig_combine(S.signature(path, 4), S.signature(path[::-1], 4), 3, 4)
    assert np.max(np.abs(prod)) < 1e-11


def test_scaling_and_linear_equivariance() -> None:
    # §6.7–6.8: S(λX)^(k) = λ^k S(X)^(k); S(AX) = A^{⊗k} S(X), A non-square; rtol 1e-10
    path = walk()
    ref = S.sig_levels(S.signature(path, 4), 3, 4)
    scaled = S.sig_levels(S.signature(-1.7 * path, 4), 3, 4)
    for k in range(4):
        assert relerr(scaled[k], (-1.7) ** (k + 1) * ref[k]) < 1e-10
    a = np.random.default_rng(3).standard_normal((2, 3))
    mapped = S.linear_map_signature(S.signature(path, 4), a, 3, 4)
    assert relerr(mapped, S.signature(path @ a.T, 4)) < 1e-10


def test_batch_matches_single_and_is_thread_independent() -> None:
    paths = np.random.default_rng(4).standard_normal((70, 9, 3)).cumsum(axis=1)
    batch = S.signature_batch(paths, 3)
    serial = S.signature_batch(paths, 3, parallel=False)
    assert np.array_equal(batch, serial)  # same lane code, bit-identical
    single = np.stack([S.signature(p, 3) for p in paths])
    assert relerr(batch, single) < 1e-13  # two loop orders of the same sums: round-off only
    assert np.array_equal(S.signature_batch(paths, 3), batch)  # deterministic


def test_expected_signature_mean_and_stderr() -> None:
    paths = np.random.default_rng(5).standard_normal((40, 6, 2)).cumsum(axis=1)
    sigs = np.stack([S.signature(p, 3) for p in paths])
    mean, se = S.expected_signature(paths, 3)
    assert relerr(mean, sigs.mean(axis=0)) < 1e-13
    assert relerr(se, sigs.std(axis=0, ddof=1) / np.sqrt(40)) < 1e-10
    mean1, se1 = S.expected_signature(paths[:1], 3)
    assert np.all(np.isnan(se1)) and relerr(mean1, sigs[0]) < 1e-13


def test_degenerate_paths() -> None:
    assert np.all(S.signature(np.ones((1, 2)), 3) == 0.0)  # a point has the trivial signature
    assert S.signature_batch(np.zeros((0, 5, 2)), 2).shape == (0, 6)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: S.signature(np.zeros(5), 2), "path must have shape"),
        (lambda: S.signature(np.zeros((5, 2)), 0), "depth must be an integer"),
        (lambda: S.signature(np.array([[0.0, np.nan]]), 2), "path must be finite"),
        (lambda: S.signature_batch(np.zeros((3, 2)), 2), "paths must have shape"),
        (lambda: S.expected_signature(np.zeros((0, 3, 2)), 2), "at least one"),
        (lambda: S.gp_posterior(10, kernel="cosine"), "kernel must be one of"),
        (lambda: S.gp_posterior(10, length_scale=0.0), "length_scale must be"),
        (lambda: S.gp_posterior(1), "length must be an integer"),
    ],
)
def test_bad_input_names_the_parameter(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_augment_layout() -> None:
    x = np.array([[1.0], [3.0], [2.0]])
    aug = S.augment(x, add_time=True, basepoint=True, lead_lag=True)
    expected = [
        [0.0, 0.0, 0.0],  # basepoint
        [0.0, 1.0, 1.0],
        [0.5, 3.0, 1.0],  # lead moves first, time follows the lead
        [0.5, 3.0, 3.0],
        [1.0, 2.0, 3.0],
        [1.0, 2.0, 2.0],
    ]
    assert np.array_equal(aug, np.array(expected))
    assert S.augment(x, add_time=False, basepoint=False).tolist() == x.tolist()


@pytest.mark.parametrize("lead_lag", [False, True])
@pytest.mark.parametrize("basepoint", [False, True])
@pytest.mark.parametrize("add_time", [False, True])
def test_fused_augmented_signature_matches_explicit(add_time, basepoint, lead_lag) -> None:
    x = np.random.default_rng(6).standard_normal((5, 17, 2))
    grid = np.sort(np.random.default_rng(7).uniform(size=17))
    flags = dict(add_time=add_time, basepoint=basepoint, lead_lag=lead_lag)
    fused = S.augmented_signature_batch(x, 3, grid, **flags)
    explicit = np.stack([S.signature(S.augment(p, grid, **flags), 3) for p in x])
    assert relerr(fused, explicit) < 1e-13  # same arithmetic modulo loop order


def test_max_depth_respects_the_feature_cap() -> None:
    # spec §2 parameter N: Σ d^k ≤ 3000, N ≤ 5; BasicMotions with time (d = 7) → 4,
    # with lead-lag (d = 13) → 3
    assert S.max_depth(2) == 5 and S.max_depth(7) == 4 and S.max_depth(13) == 3
    assert S.max_depth(3000) == 1


def test_layout_helpers_of_the_facade() -> None:
    off = S.level_offsets(3, 4)
    assert off.tolist() == [0, 3, 12, 39, 120] and off[-1] == S.sig_length(3, 4)
    assert S.augmented_dim(2) == 3 and S.augmented_dim(2, add_time=False, lead_lag=True) == 4
    assert S.Augmentation().dim(2) == S.augmented_dim(2)
    with pytest.raises(ValueError, match="channels"):
        S.augmented_dim(0)
    with pytest.raises(ValueError, match="depth"):
        S.level_offsets(2, 0)


def test_brownian_paths_and_closed_form() -> None:
    paths = S.brownian_paths(4, 10, 2, 1.0, 0)
    assert paths.shape == (4, 11, 2) and np.all(paths[:, 0] == 0.0)
    assert np.array_equal(paths, S.brownian_paths(4, 10, 2, 1.0, 0))  # a seed is a stream
    with pytest.raises(ValueError, match="horizon"):
        S.brownian_paths(4, 10, 2, 0.0, 0)
    exact = S.brownian_expected_signature_exact(2, 1.0, 4)
    assert np.array_equal(exact[2:6], [0.5, 0.0, 0.0, 0.5])  # level 2 = (T/2) δ_ij
    assert np.all(exact[:2] == 0.0) and np.all(exact[6:14] == 0.0)  # odd levels vanish
