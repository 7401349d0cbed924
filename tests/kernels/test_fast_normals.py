"""kernels.common.normals: Box–Muller normals from Generator uniforms; polynomial exp/log/sincos."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from kernels import tokens as T
from kernels.common import normals as F


def test_standard_normals_are_box_muller_of_the_generator_uniforms():
    u = np.random.default_rng(8).random(20000)
    z = F.standard_normals(np.random.default_rng(8), np.empty(20000))
    u1, u2 = 1.0 - u[0::2], u[1::2]
    rad = np.sqrt(-2.0 * np.log(u1))
    # 1e-13: polynomial log/sin/cos are accurate to a few ulp; |z| <= ~8.6 here
    np.testing.assert_allclose(z[0::2], rad * np.cos(2 * np.pi * u2), rtol=0, atol=1e-13)
    np.testing.assert_allclose(z[1::2], rad * np.sin(2 * np.pi * u2), rtol=0, atol=1e-13)


def test_standard_normals_distribution_and_chunk_invariance():
    z = F.standard_normals(np.random.default_rng(9), np.empty(200_000))
    # two-sided KS against N(0,1) at alpha = 1e-3 (fixed seed: deterministic)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # pairs (z_2i, z_2i+1) independent: correlation SE = 1/sqrt(1e5) ~ 0.003, 5 SE
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 0.016
    gen = np.random.default_rng(9)
    parts = [F.standard_normals(gen, np.empty(k)) for k in (2, 1000, 98_998, 100_000)]
    np.testing.assert_array_equal(np.concatenate(parts), z)
    with pytest.raises(ValueError, match="even length"):
        F.standard_normals(gen, np.empty(3))


def test_fast_exp_accuracy():
    y = np.linspace(-708.0, 709.0, 200_001)
    got = np.array([F.fast_exp(v) for v in y[::50]])
    # 4e-16: Cody-Waite reduction + degree-11 near-minimax polynomial, about 1 ulp
    np.testing.assert_allclose(got, np.exp(y[::50]), rtol=4e-16)
    assert np.float64(1.5 * 2**52).view(np.int64) == F.SHIFTER_BITS


def test_fast_log_and_sin_cos_accuracy():
    # the whole range Box–Muller feeds fast_log, (0, 1], plus large and tiny normal numbers
    x = np.concatenate([np.linspace(2.0**-53, 1.0, 5001), np.geomspace(1e-300, 1e300, 2001)])
    got = np.array([F.fast_log(v) for v in x])
    # a few ulp of the result (|log x| <= 691 here), plus ~1e-16 absolute near x = 1
    np.testing.assert_allclose(got, np.log(x), rtol=4e-16, atol=2e-16)
    u = np.linspace(-2.0, 2.0, 4001)
    sc = np.array([F.sin_cos_2pi(v) for v in u])
    # reference: sin(2πu) = sin(θ + qπ/2) with q = round(4u) and θ = 2π(u - q/4), |θ| <= π/4.
    # u - q/4 is exact (Sterbenz), so θ is off by < 1.3e-16 (rounding 2πu directly would err by
    # |2πu| eps ~ 3e-15, more than the function under test)
    q = np.round(4 * u)
    theta = 2 * np.pi * (u - q / 4)
    rot = q.astype(int) % 4
    s, c = np.sin(theta), np.cos(theta)
    sin_ref = np.choose(rot, [s, c, -s, -c])
    cos_ref = np.choose(rot, [c, -s, -c, s])
    # |sin|, |cos| <= 1: absolute error of a few ulp of 1
    np.testing.assert_allclose(sc[:, 0], sin_ref, rtol=0, atol=4e-16)
    np.testing.assert_allclose(sc[:, 1], cos_ref, rtol=0, atol=4e-16)


def test_standard_normals_moments_and_determinism():
    n = 1_000_000
    z = F.standard_normals(np.random.default_rng(2024), np.empty(n))
    # mean: SE 1e-3; variance: SE sqrt(2/n) = 1.4e-3; kurtosis 3: SE sqrt(24/n) = 4.9e-3; 5 SE
    assert abs(z.mean()) < 5e-3
    assert abs(z.var() - 1.0) < 7e-3
    assert abs(stats.kurtosis(z, fisher=False) - 3.0) < 2.5e-2
    assert stats.kstest(z[:200_000], "norm").pvalue > 1e-3
    again = F.standard_normals(np.random.default_rng(2024), np.empty(n))
    np.testing.assert_array_equal(again, z)  # same seed, same bits
    other = F.standard_normals(np.random.default_rng(2025), np.empty(n))
    assert not np.array_equal(other, z)


def test_box_muller_in_place_and_input_checks():
    u = np.random.default_rng(3).random(10)
    buf = u.copy()
    F.box_muller_inplace(buf)
    expected = np.empty(10)
    expected[0::2] = np.sqrt(-2.0 * np.log(1.0 - u[0::2])) * np.cos(2 * np.pi * u[1::2])
    expected[1::2] = np.sqrt(-2.0 * np.log(1.0 - u[0::2])) * np.sin(2 * np.pi * u[1::2])
    np.testing.assert_allclose(buf, expected, rtol=0, atol=1e-14)  # a few ulp, |z| < 4
    gen = np.random.default_rng(0)
    for bad in (np.empty(4, dtype=np.float32), np.empty((2, 2)), np.empty(8)[::2], [0.0, 0.0]):
        with pytest.raises(ValueError, match="contiguous 1-D float64 array of even length"):
            F.standard_normals(gen, bad)


def test_tokens_reexports_standard_normals_and_warmup():
    assert T.standard_normals is F.standard_normals
    F.warmup()
