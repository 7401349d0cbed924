"""kernels.tokens.core: one layer of the noisy transformer against a plain-numpy oracle.

The oracle is written from spec models/tokens.md §2-§3, independently of the kernels; it is
driven through the public API (``kernels.tokens.simulate`` / ``advance_with_normals``) on every
combination of attention, noise sharing, hidden weights, splitting and manifold, cycling through
the specialized d = 2, 3 paths, the generic d path and the fused or generic activation paths.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import special

import kernels.tokens as T
from kernels.common.activations import ACTIVATIONS
from kernels.tokens import core as token_layer
from kernels.tokens import params as token_params
from tests.kernels.token_helpers import base_cfg, uniform_tokens

# ---------------------------------------------------------------------------------------------
# Plain-numpy oracle of one full layer (written from spec §2-§3, independent of the kernels)
# ---------------------------------------------------------------------------------------------

NUMPY_ACTIVATIONS = {
    "linear": lambda u: u,
    "relu": lambda u: np.where(u > 0, u, 0.0),
    "leaky_relu": lambda u: np.where(u > 0, u, 0.01 * u),
    "tanh": np.tanh,
    "erf": special.erf,
    "gelu": lambda u: 0.5 * u * (1.0 + special.erf(u / math.sqrt(2.0))),
    "silu": lambda u: u * special.expit(u),
    "sigmoid": special.expit,
    "softplus": lambda u: np.logaddexp(0.0, u),
    "sin": np.sin,
}


def oracle_layer(x, w, cfg, fixed=None):
    """One layer for one realization. x (N, d); w: this layer's normals block (Q,)."""
    n, d = x.shape
    m, h = cfg["width"], cfg["dt"]
    act = NUMPY_ACTIVATIONS[cfg["activation"]]
    independent = cfg["noise_sharing"] == "independent"
    is_fixed = cfg["hidden_weights"] == "fixed"
    sphere = cfg["manifold"] == "sphere"
    p1 = m * d if is_fixed else m * (2 * d + 1)
    n_src = n if independent else 1

    def norm(v):
        return v / np.linalg.norm(v, axis=1, keepdims=True) if sphere else v

    def attention(v):
        if cfg["attn_kind"] == "off" or cfg["attn_strength"] == 0.0:
            return v.copy()
        e = np.exp(cfg["beta"] * (v @ v.T))
        wts = e / e.sum(axis=1, keepdims=True) if cfg["attn_kind"] == "sa" else e / n
        return v + h * cfg["attn_strength"] * (wts @ v)

    def mlp(v, block, hs):
        c = cfg["sigma_noise"] * math.sqrt(hs / m)
        out = np.empty_like(v)
        for s in range(n_src):
            blk = block[s * p1 : (s + 1) * p1]
            if is_fixed:
                big_b, small_b, a = fixed.B[s], fixed.b[s], blk.reshape(d, m)
            else:
                big_b = blk[: m * d].reshape(m, d)
                small_b = blk[m * d : m * d + m]
                a = blk[m * d + m :].reshape(d, m)
            rows = [s] if independent else slice(None)
            u = cfg["sigma_w"] * v[rows] @ big_b.T + cfg["sigma_b"] * small_b
            out[rows] = v[rows] + c * act(u) @ a.T
        return out

    noisy = cfg["sigma_noise"] != 0.0
    if cfg["splitting"] == "lie_trotter":
        y = attention(x)
        return norm(mlp(y, w, h) if noisy else y)
    half = n_src * p1
    y = norm(mlp(x, w[:half], h / 2)) if noisy else x
    y = norm(attention(y)) if cfg["attn_kind"] != "off" else y
    return norm(mlp(y, w[half : 2 * half], h / 2)) if noisy else y


def replayed_normals(gen, n_layers, q):
    """The (n_layers, q) normal blocks ``simulate`` draws from ``gen`` (layer-major)."""
    return T.standard_normals(gen, np.empty(n_layers * q)).reshape(n_layers, q)


ORACLE_GRID = list(
    itertools.product(
        ("sa", "usa", "off"),
        ("common", "independent"),
        ("fresh", "fixed"),
        ("lie_trotter", "strang"),
        ("sphere", "euclidean"),
    )
)
# cycle the dimension through the specialized d = 2, 3 paths and the generic one, and the
# activation through the fused piecewise-linear path and the generic one
ORACLE_DIMS = (2, 3, 9)
ORACLE_ACTS = ("relu", "tanh", "linear", "leaky_relu", "gelu", "sin", "softplus")


@pytest.mark.parametrize(
    ("idx", "combo"), list(enumerate(ORACLE_GRID)), ids=["-".join(c) for c in ORACLE_GRID]
)
def test_simulate_matches_numpy_oracle(idx, combo):
    attn, sharing, weights, splitting, manifold = combo
    d = ORACLE_DIMS[idx % 3]
    act = ORACLE_ACTS[idx % len(ORACLE_ACTS)]
    n, n_steps, seed = 7, 6, 100 + idx
    cfg = base_cfg(
        attn_kind=attn,
        noise_sharing=sharing,
        hidden_weights=weights,
        splitting=splitting,
        manifold=manifold,
        activation=act,
    )
    if manifold == "euclidean":
        # without Norm, exp(beta |x|^2) feedback makes USA explode within a few layers
        cfg.update(beta=0.3, attn_strength=0.3)
    x0 = uniform_tokens(n, d, seed)
    traj = T.simulate(x0, n_steps=n_steps, rng=np.random.default_rng(seed + 1), **cfg)
    # replay the same Generator: fixed weights first (B then b), then layer-major normal blocks
    gen = np.random.default_rng(seed + 1)
    fixed = None
    if weights == "fixed":
        fixed = T.draw_fixed_weights(n, d, cfg["width"], gen, noise_sharing=sharing)
    q = T.noise_block_size(
        n,
        d,
        cfg["width"],
        noise_sharing=sharing,
        hidden_weights=weights,
        splitting=splitting,
    )
    normals = replayed_normals(gen, n_steps, q)
    x = x0.copy()
    for k in range(n_steps):
        x = oracle_layer(x, normals[k], cfg, fixed)
        assert np.all(np.isfinite(x))
        # 1e-12: the kernel and the oracle differ only by summation order / FMA contraction
        # (~1e-16 per operation) over 6 layers
        np.testing.assert_allclose(traj[k + 1], x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("attn", ["sa", "usa"])
def test_oracle_mean_field_shortcut_and_single_token(attn):
    # beta = 0 takes the O(N d) mean-field branch; N = 1 has no pairs
    for n, beta in ((6, 0.0), (1, 2.0)):
        cfg = base_cfg(attn_kind=attn, beta=beta)
        x0 = uniform_tokens(n, 3, 3)
        traj = T.simulate(x0, n_steps=3, rng=np.random.default_rng(4), **cfg)
        gen = np.random.default_rng(4)
        q = T.noise_block_size(n, 3, cfg["width"])
        normals = replayed_normals(gen, 3, q)
        x = x0
        for k in range(3):
            x = oracle_layer(x, normals[k], cfg)
        # 1e-12: round-off only (see test_simulate_matches_numpy_oracle)
        np.testing.assert_allclose(traj[-1], x, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("d", "act"), [(3, "tanh"), (3, "relu"), (9, "relu"), (2, "sigmoid")])
def test_oracle_with_more_tokens_than_one_mlp_tile(d, act):
    # N = 150 > the 64-token MLP tile; d = 9 and m = 6 exercise the blocked generic loops
    cfg = base_cfg(activation=act, width=6)
    n = 150
    x0 = uniform_tokens(n, d, 40)
    q = T.noise_block_size(n, d, 6)
    normals = np.random.default_rng(41).standard_normal((3, 1, q))
    out = T.advance_with_normals(x0[None], normals, **cfg)[0]
    x = x0
    for k in range(3):
        x = oracle_layer(x, normals[k, 0], cfg)
    # 1e-12: round-off only
    np.testing.assert_allclose(out, x, rtol=0, atol=1e-12)


def test_advance_with_normals_matches_oracle_for_large_attention_and_noise_free():
    # sigma_n = 0 draws nothing (Q = 0); large beta exercises the softmax shift
    cfg = base_cfg(sigma_noise=0.0, beta=9.0, attn_strength=-1.5)
    x0 = uniform_tokens(40, 3, 5)
    assert T.noise_block_size(40, 3, 5, sigma_noise=0.0) == 0
    out = T.advance_with_normals(x0[None], np.empty((20, 1, 0)), **cfg)[0]
    x = x0
    for _ in range(20):
        x = oracle_layer(x, np.empty(0), cfg)
    # 1e-12: round-off over 20 layers of an O(1)-Lipschitz map
    np.testing.assert_allclose(out, x, rtol=0, atol=1e-12)


def test_activation_list_is_shared_with_the_activation_module():
    assert set(T.ACTIVATIONS) == set(NUMPY_ACTIVATIONS) == set(ACTIVATIONS)
    for name in ACTIVATIONS:
        u = np.linspace(-3, 3, 7)
        from kernels.common.activations import apply_activation

        np.testing.assert_allclose(
            apply_activation(name, u), NUMPY_ACTIVATIONS[name](u), atol=1e-15
        )


def test_layer_params_and_block_size():
    p = token_params.layer_params(**base_cfg(noise_sharing="independent", splitting="strang"))
    assert p.aid == ACTIVATIONS.index("relu") and p.attn == token_params.ATTN_CODE["sa"]
    assert (p.independent, p.fixed, p.strang, p.sphere, p.m) == (True, False, True, True, 5)
    # per source and sub-step: B, b, A (m(2d+1)) fresh, A (md) fixed
    assert token_params.source_block_size(3, 5, False) == 35
    assert token_params.source_block_size(3, 5, True) == 15
    # the validated form agrees with the public one: 2 halves x 7 tokens x 35
    assert (
        token_params.block_size(p, 7, 3)
        == 490
        == T.noise_block_size(7, 3, 5, noise_sharing="independent", splitting="strang")
    )
    assert token_params.block_size(p._replace(sn=0.0), 7, 3) == 0
    token_layer.warmup()
