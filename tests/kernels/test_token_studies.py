"""kernels.tokens.studies: Benettin exponent, strong error, spread of a statistic (spec §6.2, §6.9,
§4 panel 7b).

Tests marked ``slow`` take 2-5 s each on a warm numba cache. Every statistical test uses a fixed
seed (so it is deterministic) and a tolerance derived from the standard error it quotes.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernels.tokens as T
from kernels.tokens import studies as token_studies
from kernels.tokens.theory import lyapunov_exponent

# ---------------------------------------------------------------------------------------------
# §6.2 Benettin exponents
# ---------------------------------------------------------------------------------------------

BENETTIN_CASES = [
    # (kwargs, spec value)
    (dict(activation="tanh", dim=8, sigma_w=1.3, sigma_b=0.5, sigma_noise=1.0), -0.305),
    (dict(activation="tanh", dim=16, sigma_w=0.8, sigma_b=1.0, sigma_noise=1.0), -2.05),
    (dict(activation="relu", dim=3, sigma_noise=0.7, attn_kind="sa", attn_strength=-0.5), 0.255),
    (dict(activation="relu", dim=3, sigma_noise=1.5, attn_kind="sa", attn_strength=-0.5), -0.625),
    (dict(activation="relu", dim=3, sigma_noise=1.0, attn_kind="usa", attn_strength=0.5), -1.859),
]


@pytest.mark.slow
@pytest.mark.parametrize(("kw", "expected"), BENETTIN_CASES)
def test_benettin_exponent_matches_prediction(kw, expected):
    kw = {"attn_kind": "off", "attn_strength": 0.0, "beta": 1.0, **kw}
    predicted = lyapunov_exponent(
        kw["activation"],
        kw["dim"],
        sigma_noise=kw["sigma_noise"],
        sigma_w=kw.get("sigma_w", 1.0),
        sigma_b=kw.get("sigma_b", 0.0),
        attn_kind=kw["attn_kind"],
        attn_strength=kw["attn_strength"],
        beta=kw["beta"],
    )
    # the listed values are the formula rounded to the digits shown
    assert predicted == pytest.approx(expected, abs=0.006)
    # spec §6.2 protocol: T = 10, h = 2e-3, 32 runs, m = 32, separation 1e-7
    mean, stderr = T.benettin_lyapunov(width=32, t_max=10.0, dt=2e-3, n_runs=32, rng=1, **kw)
    assert 0.02 < stderr < 0.1  # spec: SE 0.03-0.08
    # tolerance 0.2 (spec §6.2): ~3-4 SE plus the O(h) bias of the scheme
    assert mean == pytest.approx(expected, abs=0.2)


# ---------------------------------------------------------------------------------------------
# §6.9 strong convergence, §4 panel 7b
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_strong_error_slope_one_half():
    res = T.strong_error_study(rng=1, n_paths=128)
    assert res.h.tolist() == [2.0**-k for k in range(4, 10)]
    assert np.all(np.diff(res.error) < 0)  # error decreases with h
    # spec §6.9: slope 0.49; eight seeds gave 0.48 +- 0.023 with 128 paths; tolerance 0.1
    assert res.slope == pytest.approx(0.5, abs=0.1)


def test_token_statistic_spread_over_tokens_and_over_noise():
    res = T.statistic_variance_study(rng=1, n_noise=32, n_samples=32)
    # over token samples (same W): ~N^{-1/2}; ten seeds gave slope -0.51 +- 0.06
    assert res.slope_tokens == pytest.approx(-0.5, abs=0.2)
    # over W: O(1), slope 0.01 +- 0.05 over ten seeds
    assert abs(res.slope_noise) < 0.2
    # at N = 128 the noise spread dominates (ratio 10-19 over ten seeds)
    assert res.sd_over_noise[-1] > 5 * res.sd_over_tokens[-1]


def test_benettin_can_be_cancelled():
    with pytest.raises(T.Cancelled) as info:
        T.benettin_lyapunov(
            activation="relu",
            dim=3,
            sigma_noise=1.0,
            width=8,
            t_max=200.0,
            dt=1e-3,
            n_runs=4,
            rng=1,
            progress=lambda f: False,
        )
    assert info.value.partial is None  # studies carry no partial result


def test_reexports():
    for name in token_studies.__all__:
        if name != "STATISTICS":
            assert getattr(T, name) is getattr(token_studies, name)
