"""kernels.tokens.driver: chunked noise, fixed-weight arrays, and chunk-size invariance."""

from __future__ import annotations

import numpy as np
import pytest

import kernels.tokens as T
from kernels.common.normals import standard_normals
from kernels.tokens import driver as token_driver
from kernels.tokens.params import layer_params
from tests.kernels.token_helpers import base_cfg


def test_chunk_size_does_not_change_results(monkeypatch):
    # an ensemble big enough to be split into realization blocks within a layer
    x0s = np.stack([T.initial_tokens("pair", 2, 3, np.random.default_rng(s)) for s in range(200)])
    cfg = base_cfg(width=64)
    ref = T.simulate_ensemble(x0s, n_steps=6, rng=np.random.default_rng(13), stride=3, **cfg)
    for normals, work in ((1 << 22, 1 << 30), (500, 1 << 10), (1 << 15, 1)):
        monkeypatch.setattr(token_driver, "CHUNK_NORMALS", normals)
        monkeypatch.setattr(token_driver, "CHUNK_WORK", work)
        got = T.simulate_ensemble(x0s, n_steps=6, rng=np.random.default_rng(13), stride=3, **cfg)
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize(
    ("normals", "work", "rows_ok"), [(25, 1 << 30, True), (1 << 15, 10, False)]
)
def test_noise_chunks_draw_one_layer_major_stream(monkeypatch, normals, work, rows_ok):
    # 5 layers x 6 rows x 10 normals, chunked by layers (and by rows when a layer is too big)
    monkeypatch.setattr(token_driver, "CHUNK_NORMALS", normals)
    monkeypatch.setattr(token_driver, "CHUNK_WORK", work)
    stream = standard_normals(np.random.default_rng(3), np.empty(5 * 6 * 10)).reshape(5, 6, 10)
    got = np.full((5, 6, 10), np.nan)
    chunks = 0
    for layer0, n_l, row0, row1, noise in token_driver.noise_chunks(
        np.random.default_rng(3), 5, 6, 10, 1, allow_row_blocks=rows_ok
    ):
        assert noise.shape == (n_l, row1 - row0, 10)
        assert (row1 - row0 < 6) == rows_ok  # rows split only when allowed and needed
        got[layer0 : layer0 + n_l, row0:row1] = noise
        chunks += 1
    np.testing.assert_array_equal(got, stream)
    assert chunks > 1  # really chunked
    empty = list(token_driver.noise_chunks(np.random.default_rng(3), 5, 6, 0, 1))
    assert sum(n_l for _, n_l, *_ in empty) == 5 and empty[0][4].shape[1:] == (6, 0)


def test_fixed_arrays():
    fresh = layer_params(**base_cfg())
    bfix, bvfix, fsrc = token_driver.fixed_arrays(fresh, None, 3, 4, 2)
    np.testing.assert_array_equal(fsrc, [0, 0, 0])  # a placeholder the cores never read
    with pytest.raises(ValueError, match="only used with hidden_weights='fixed'"):
        token_driver.fixed_arrays(
            fresh, T.FixedWeights(np.zeros((1, 5, 2)), np.zeros((1, 5))), 3, 4, 2
        )
    fixed = layer_params(**base_cfg(hidden_weights="fixed", noise_sharing="independent"))
    with pytest.raises(ValueError, match="needs fixed_weights"):
        token_driver.fixed_arrays(fixed, None, 3, 4, 2)
    drawn = token_driver.fixed_arrays(fixed, None, 3, 4, 2, np.random.default_rng(0))
    gen = np.random.default_rng(0)  # B then b, one set per realization and token
    np.testing.assert_array_equal(drawn[0], gen.standard_normal((3, 4, 5, 2)).reshape(3, 4, 10))
    np.testing.assert_array_equal(drawn[1], gen.standard_normal((3, 4, 5)))
    np.testing.assert_array_equal(drawn[2], [0, 1, 2])
    shared = T.FixedWeights(drawn[0][0].reshape(4, 5, 2), drawn[1][0])
    bfix, bvfix, fsrc = token_driver.fixed_arrays(fixed, shared, 3, 4, 2)
    assert bfix.shape == (1, 4, 10) and bvfix.shape == (1, 4, 5)
    np.testing.assert_array_equal(fsrc, [0, 0, 0])
    with pytest.raises(ValueError, match="must be finite"):
        token_driver.fixed_arrays(
            fixed, T.FixedWeights(np.full((4, 5, 2), np.nan), drawn[1][0]), 3, 4, 2
        )
