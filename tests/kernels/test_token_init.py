"""kernels.tokens.initial: initial token configurations (spec models/tokens.md §4-§6)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import kernels.tokens as T
from kernels.tokens import initial as token_init


def test_initial_tokens_validation():
    with pytest.raises(ValueError, match="dim >= n_tokens \\+ 1"):
        T.initial_tokens("equiangular", 4, 4, 0)
    with pytest.raises(ValueError, match="init must be one of"):
        T.initial_tokens("grid", 4, 4, 0)
    with pytest.raises(ValueError, match="needs n_tokens >= 2"):
        T.initial_tokens("pair", 1, 3, 0)
    with pytest.raises(ValueError, match="rho0"):
        T.initial_tokens("pair", 2, 3, 0, rho0=1.5)
    with pytest.raises(ValueError, match="cap_angle"):
        T.initial_tokens("cap", 2, 3, 0, cap_angle=0.0)


@pytest.mark.parametrize("d", [2, 3, 7])
def test_initial_tokens_shapes_and_geometry(d):
    gen = np.random.default_rng(30)
    for init in T.INITS:
        n = min(5, d - 1) if init == "equiangular" else 50
        x = T.initial_tokens(init, n, d, gen, rho0=0.3)
        assert x.shape == (n, d)
        # 1e-14: normalized in float64
        assert np.abs(np.linalg.norm(x, axis=1) - 1.0).max() < 1e-14
    assert (T.initial_tokens("hemisphere", 200, d, gen)[:, 0] >= 0).all()
    cap = T.initial_tokens("cap", 500, d, gen, cap_angle=0.3)
    angles = np.arccos(np.clip(cap[:, 0], -1, 1))
    assert angles.max() <= 0.3 + 1e-12
    # uniform on the cap: the angle density ∝ sin^{d-2}: for d = 2 the mean angle is 0.15,
    # for larger d it concentrates near the rim (sample of 500: SE < 0.004)
    expected = {2: 0.15, 3: 0.2, 7: 0.3 * 6 / 7}[d]  # small-angle approximation
    assert abs(angles.mean() - expected) < 0.02
    pair = T.initial_tokens("pair", 2, d, gen, rho0=-0.6)
    assert abs(pair[0] @ pair[1] + 0.6) < 1e-14
    if d >= 4:
        eq = T.initial_tokens("equiangular", 3, d, gen, rho0=0.2)
        g = eq @ eq.T
        np.testing.assert_allclose(g[~np.eye(3, dtype=bool)], 0.2, atol=1e-15)


def test_cap_start_on_the_circle_is_uniform_in_angle():
    x = T.initial_tokens("cap", 20000, 2, np.random.default_rng(31), cap_angle=0.3)
    theta = np.arctan2(x[:, 1], x[:, 0])
    assert np.abs(theta).max() <= 0.3
    assert stats.kstest(theta, stats.uniform(-0.3, 0.6).cdf).pvalue > 1e-3


def test_unit_rows_and_reexport():
    v = np.array([[3.0, 4.0], [0.0, -2.0]])
    np.testing.assert_array_equal(token_init.unit_rows(v), [[0.6, 0.8], [0.0, -1.0]])
    assert T.initial_tokens is token_init.initial_tokens and T.INITS == token_init.INITS
