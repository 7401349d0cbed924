"""kernels.signature against the reference library iisignature 0.24 (spec §6 last paragraph, §7).

Tolerance (spec §6): rtol 1e-10, atol 1e-12·max|S| — iisignature computes in float64 with the
same Chen recursion in another loop order, so only round-off separates the two.
"""

from __future__ import annotations

import iisignature
import numpy as np
import pytest

import kernels.signature as S

CASES = [(51, 3, 4), (100, 2, 5), (30, 7, 3), (2, 4, 2), (200, 1, 6), (17, 5, 4)]


def close(ours: np.ndarray, ref: np.ndarray) -> bool:
    return bool(np.allclose(ours, ref, rtol=1e-10, atol=1e-12 * np.max(np.abs(ref))))


@pytest.mark.parametrize(("length", "d", "depth"), CASES)
def test_signature_matches_iisignature(length: int, d: int, depth: int) -> None:
    path = np.random.default_rng(length * d).standard_normal((length, d)).cumsum(axis=0)
    ref = iisignature.sig(path, depth)
    assert S.sig_length(d, depth) == iisignature.siglength(d, depth)
    assert close(S.signature(path, depth), ref)


@pytest.mark.parametrize(("length", "d", "depth"), CASES[:4])
def test_batch_matches_iisignature(length: int, d: int, depth: int) -> None:
    paths = np.random.default_rng(1).standard_normal((37, length, d)).cumsum(axis=1)
    assert close(S.signature_batch(paths, depth), iisignature.sig(paths, depth))


def test_levy_area_equals_lyndon_coefficients() -> None:
    # §6.5: level-2 log-signature ½(S^{ij} − S^{ji}) = iisignature's Lyndon [i, j] coefficients
    d = 3
    path = np.random.default_rng(2).standard_normal((40, d)).cumsum(axis=0)
    level2 = S.signature(path, 2)[d:].reshape(d, d)
    logsig = iisignature.logsig(path, iisignature.prepare(d, 2))
    words = [(i, j) for i in range(d) for j in range(i + 1, d)]  # Lyndon words of length 2
    areas = [0.5 * (level2[i, j] - level2[j, i]) for i, j in words]
    assert np.allclose(logsig[d:], areas, rtol=1e-10, atol=1e-12)


def test_augmented_gp_sample_signatures_match_iisignature() -> None:
    post = S.gp_posterior(25, refine=2, length_scale=0.1, noise_var=0.1)
    y = np.random.default_rng(3).standard_normal((1, 2, 25))
    means = post.mean(y)
    z = S.sample_normals(0, np.arange(1), 5, 2, post.grid.size)
    store = np.zeros((1, 5, S.sig_length(5, 3)))  # time + 2·2 lead-lag channels
    S.gp_signature_sums(means, post, z, 3, lead_lag=True, store=store)
    paths = S.gp_sample_paths(post, means[0], z[0])
    aug = np.stack([S.augment(p.T, post.grid, lead_lag=True) for p in paths])
    assert close(store[0], iisignature.sig(aug, 3))
