"""kernels.tokens.diagnostics on hand-made configurations."""

from __future__ import annotations

import math

import numpy as np
import pytest

import kernels.tokens as T
from kernels.tokens import clusters as token_clusters
from kernels.tokens import diagnostics as token_diagnostics


def unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def test_diameter_mean_norm_gram():
    e0, e1, e2 = np.eye(3)
    x = np.stack([e0, e1, -e0])
    assert T.diameter(x) == pytest.approx(2.0)
    assert T.mean_vector_norm(x) == pytest.approx(1.0 / 3.0)
    np.testing.assert_allclose(T.gram(x), x @ x.T)
    tiny = np.stack([e0, unit(e0 + 1e-9 * e1)])
    # differences, not 2 - 2<x,y>: a 1e-9 distance is resolved to ~1e-7 relative
    assert T.diameter(tiny) == pytest.approx(1e-9, rel=1e-6)
    stacked = np.stack([x, np.stack([e2, e2, e2])])  # (2, 3, 3): vectorized over frames
    np.testing.assert_allclose(T.diameter(stacked), [2.0, 0.0])
    np.testing.assert_allclose(T.mean_vector_norm(stacked), [1 / 3, 1.0])
    assert T.gram(stacked).shape == (2, 3, 3)
    assert T.diameter(e0[None]) == 0.0


def test_cluster_count_and_synchronized_fraction():
    e0, e1, e2 = np.eye(3)
    eps = 1e-4
    x = np.stack([e0, unit(e0 + eps * e1), unit(e0 - eps * e2), e1, unit(e1 + eps * e2), -e0])
    assert T.cluster_count(x) == 3  # {0,1,2}, {3,4}, {5}: antipodal counted apart
    # pairs with <x_i, x_j> > 0.999: 3 within the first group, 1 within the second, of 15
    assert T.synchronized_pair_fraction(x) == pytest.approx(4 / 15)
    # a chain of close tokens is one connected group even if its ends are far apart
    angles = np.arange(0, 0.5, 0.01)
    chain = np.stack([np.cos(angles), np.sin(angles), 0 * angles], axis=1)
    assert T.cluster_count(chain, threshold=np.cos(0.011)) == 1
    assert T.cluster_count(chain, threshold=np.cos(0.009)) == len(angles)
    frames = np.stack([x, np.stack([e0] * 6)])
    np.testing.assert_array_equal(T.cluster_count(frames), [3, 1])
    np.testing.assert_allclose(T.synchronized_pair_fraction(frames), [4 / 15, 1.0])
    assert T.synchronized_pair_fraction(e0[None]) == 1.0


def test_similarity_histogram():
    e0, e1 = np.eye(2)
    x = np.stack([e0, e1, -e0, unit([1.0, 1.0])])
    # pairs: (0,1) 0, (0,2) -1, (0,3) .707, (1,2) 0, (1,3) .707, (2,3) -.707
    hist = T.similarity_histogram(x, bins=4)  # edges -1, -.5, 0, .5, 1
    np.testing.assert_allclose(hist, [[2 / 6, 0, 2 / 6, 2 / 6]])
    habs = T.similarity_histogram(np.stack([x, x]), bins=2, absolute=True)  # edges 0, .5, 1
    np.testing.assert_allclose(habs, [[2 / 6, 4 / 6]] * 2)
    assert T.similarity_histogram(e0[None], bins=3).sum() == 0.0


def test_energies_on_hand_made_configurations():
    x = T.initial_tokens("equiangular", 3, 4, 0, rho0=0.2)
    g = x @ x.T
    beta = 1.7
    glpr = (math.exp(beta) - np.exp(beta * g).sum() / 9) / (2 * beta)
    assert T.energy(x, "glpr", beta=beta) == pytest.approx(glpr, rel=1e-13)
    xbar = x.mean(axis=0)
    assert T.energy(x, "mean_norm") == pytest.approx(1 - xbar @ xbar, rel=1e-13)
    dist = np.linalg.norm(x[:, None] - x[None], axis=-1)
    assert T.energy(x, "distance", q=0.7) == pytest.approx((dist**0.7).sum() / 9, rel=1e-13)
    # beta -> 0 limit of (a) is (1 - |xbar|^2)/2, continuously
    assert T.energy(x, "glpr", beta=0.0) == pytest.approx(0.5 * (1 - xbar @ xbar), rel=1e-13)
    assert T.energy(x, "glpr", beta=1e-7) == pytest.approx(0.5 * (1 - xbar @ xbar), rel=1e-6)
    # near synchronization the energies keep their relative accuracy (r = |x-y|^2/2 = 5e-21)
    e0, e1 = np.eye(2)
    close = np.stack([e0, unit(e0 + 1e-10 * e1)])
    assert T.energy(close, "mean_norm") == pytest.approx(0.25 * 1e-20, rel=1e-5)
    assert T.energy(close, "glpr", beta=1.0) == pytest.approx(0.25 * 1e-20, rel=1e-5)
    frames = np.stack([x, x[[0, 0, 1]]])
    e_frames = T.energy(frames, "distance")
    assert e_frames.shape == (2,)
    assert e_frames[1] == pytest.approx(T.energy(x[[0, 0, 1]], "distance"))
    with pytest.raises(ValueError, match="kind"):
        T.energy(x, "coulomb")


def test_fit_log_slope():
    t = np.linspace(0, 10, 1001)
    y = 3.0 * np.exp(-2.0 * t)
    assert T.fit_log_slope(t, y) == pytest.approx(-2.0, abs=1e-10)
    fit = T.fit_log_slope(t, y, full=True)
    # default window: y > 1e-6 until t = log(3e6)/2 = 7.45, later half from t = 3.73
    assert fit.t_stop == pytest.approx(7.45, abs=0.01)
    assert fit.t_start == pytest.approx(0.5 * 7.45, abs=0.01)
    assert fit.intercept == pytest.approx(math.log(3.0), abs=1e-9)
    # a transient before the window does not bias the late slope
    bent = np.where(t < 2, np.exp(-0.2 * t), np.exp(-0.4 - 2.0 * (t - 2)))
    assert T.fit_log_slope(t, bent) == pytest.approx(-2.0, abs=1e-9)
    assert T.fit_log_slope(t, bent, t_min=0.0, t_max=1.9) == pytest.approx(-0.2, abs=1e-9)
    assert math.isnan(T.fit_log_slope(t[:2], y[:2]))


def test_reexports_and_warmup():
    for module in (token_diagnostics, token_clusters):
        for name in module.__all__:
            if name != "warmup":
                assert getattr(T, name) is getattr(module, name)
        module.warmup()


def test_cluster_stats_is_both_statistics_in_one_pass():
    rng = np.random.default_rng(4)
    x = T.initial_tokens("cap", 20, 3, rng, cap_angle=0.05)
    clusters, fraction = T.cluster_stats(x)
    assert clusters == T.cluster_count(x)
    assert fraction == T.synchronized_pair_fraction(x)
    assert 0 < fraction < 1  # a cap this narrow has some, not all, pairs above 0.999
