"""POT (``import ot``) as the test-only reference for the widenet W2 estimators (spec §6.13, §7)."""

from __future__ import annotations

import math

import numpy as np
import ot
import pytest

from kernels import widenet as W


def test_w2_quantile_equals_pot_wasserstein_1d():
    rng = np.random.default_rng(0)
    y = rng.standard_exponential(3000) - 1.0
    m = y.size
    grid = math.sqrt(0.8) * W.norm_ppf((np.arange(m) + 0.5) / m)
    # POT returns W2² between the sample and the quantile grid (equal weights): round-off only
    ref = math.sqrt(ot.wasserstein_1d(y, grid, p=2))
    assert W.w2_quantile(y, 0.8) == pytest.approx(ref, rel=1e-10)


def test_two_sample_equals_pot_emd2():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(400)
    b = 1.2 * rng.standard_normal(400) + 0.1
    # exact LP optimum on the full cost matrix; the LP solver is exact to ~1e-12
    ref = math.sqrt(
        ot.emd2(np.full(400, 1 / 400), np.full(400, 1 / 400), ot.dist(a[:, None], b[:, None]))
    )
    assert W.w2_two_sample(a, b) == pytest.approx(ref, rel=1e-9)
    c = rng.standard_normal(250)  # unequal sizes: merged quantile breakpoints
    ref = math.sqrt(
        ot.emd2(np.full(400, 1 / 400), np.full(250, 1 / 250), ot.dist(a[:, None], c[:, None]))
    )
    assert W.w2_two_sample(a, c) == pytest.approx(ref, rel=1e-9)


def test_gelbrich_equals_pot_bures():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 3))
    b = rng.standard_normal((3, 3))
    ca, cb = a @ a.T + 0.1 * np.eye(3), b @ b.T + 0.1 * np.eye(3)
    ref = ot.gaussian.bures_wasserstein_distance(np.zeros(3), np.zeros(3), ca, cb)
    assert W.gelbrich_lower(ca, cb) == pytest.approx(float(ref), rel=1e-8)
