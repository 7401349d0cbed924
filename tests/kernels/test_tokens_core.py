"""kernels.tokens: oracle, determinism, chunking, symmetries, validation, diagnostics.

Deterministic tests (spec models/tokens.md §2-§3, §6.6). Statistical checks of the limit are in
test_tokens_theory.py.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import special, stats

import kernels.tokens as T
from kernels.activations import ACTIVATIONS

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


def base_cfg(**over):
    cfg = dict(
        dt=0.01,
        sigma_noise=1.3,
        activation="relu",
        width=5,
        attn_kind="sa",
        attn_strength=0.7,
        beta=1.5,
        sigma_w=1.1,
        sigma_b=0.4,
        noise_sharing="common",
        hidden_weights="fresh",
        splitting="lie_trotter",
        manifold="sphere",
    )
    cfg.update(over)
    return cfg


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
    x0 = T.initial_tokens("uniform", n, d, np.random.default_rng(seed))
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
    normals = T.standard_normals(gen, np.empty(n_steps * q)).reshape(n_steps, q)
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
        x0 = T.initial_tokens("uniform", n, 3, np.random.default_rng(3))
        traj = T.simulate(x0, n_steps=3, rng=np.random.default_rng(4), **cfg)
        gen = np.random.default_rng(4)
        q = T.noise_block_size(n, 3, cfg["width"])
        normals = T.standard_normals(gen, np.empty(3 * q)).reshape(3, q)
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
    x0 = T.initial_tokens("uniform", n, d, np.random.default_rng(40))
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
    x0 = T.initial_tokens("uniform", 40, 3, np.random.default_rng(5))
    assert T.noise_block_size(40, 3, 5, sigma_noise=0.0) == 0
    out = T.advance_with_normals(x0[None], np.empty((20, 1, 0)), **cfg)[0]
    x = x0
    for _ in range(20):
        x = oracle_layer(x, np.empty(0), cfg)
    # 1e-12: round-off over 20 layers of an O(1)-Lipschitz map
    np.testing.assert_allclose(out, x, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Normals
# ---------------------------------------------------------------------------------------------


def test_standard_normals_are_box_muller_of_the_generator_uniforms():
    u = np.random.default_rng(8).random(20000)
    z = T.standard_normals(np.random.default_rng(8), np.empty(20000))
    u1, u2 = 1.0 - u[0::2], u[1::2]
    rad = np.sqrt(-2.0 * np.log(u1))
    # 1e-13: polynomial log/sin/cos are accurate to a few ulp; |z| <= ~8.6 here
    np.testing.assert_allclose(z[0::2], rad * np.cos(2 * np.pi * u2), rtol=0, atol=1e-13)
    np.testing.assert_allclose(z[1::2], rad * np.sin(2 * np.pi * u2), rtol=0, atol=1e-13)


def test_standard_normals_distribution_and_chunk_invariance():
    z = T.standard_normals(np.random.default_rng(9), np.empty(200_000))
    # two-sided KS against N(0,1) at alpha = 1e-3 (fixed seed: deterministic)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # pairs (z_2i, z_2i+1) independent: correlation SE = 1/sqrt(1e5) ~ 0.003, 5 SE
    assert abs(np.corrcoef(z[0::2], z[1::2])[0, 1]) < 0.016
    gen = np.random.default_rng(9)
    parts = [T.standard_normals(gen, np.empty(k)) for k in (2, 1000, 98_998, 100_000)]
    np.testing.assert_array_equal(np.concatenate(parts), z)
    with pytest.raises(ValueError, match="even length"):
        T.standard_normals(gen, np.empty(3))


def test_fast_exp_accuracy():
    y = np.linspace(-708.0, 709.0, 200_001)
    got = np.array([T._fast_exp(v) for v in y[::50]])
    # 4e-16: Cody-Waite reduction + degree-13 Taylor, about 1 ulp
    np.testing.assert_allclose(got, np.exp(y[::50]), rtol=4e-16)
    assert np.float64(1.5 * 2**52).view(np.int64) == T._SHIFTER_BITS


# ---------------------------------------------------------------------------------------------
# Determinism and chunking
# ---------------------------------------------------------------------------------------------

CHUNK_CASES = [
    dict(),
    dict(noise_sharing="independent", attn_kind="usa"),
    dict(hidden_weights="fixed", splitting="strang"),
    dict(hidden_weights="fixed", noise_sharing="independent", manifold="euclidean"),
    dict(width=7, activation="tanh", attn_kind="off"),  # odd m(2d+1): padded blocks
]


@pytest.mark.parametrize("over", CHUNK_CASES)
def test_chunked_runs_equal_one_long_run(over):
    cfg = base_cfg(**over)
    n, d = 9, 3
    x0 = T.initial_tokens("uniform", n, d, np.random.default_rng(10))
    fixed = None
    if cfg["hidden_weights"] == "fixed":
        fixed = T.draw_fixed_weights(n, d, cfg["width"], 11, noise_sharing=cfg["noise_sharing"])
    one = T.simulate(x0, n_steps=100, rng=np.random.default_rng(12), fixed_weights=fixed, **cfg)
    gen = np.random.default_rng(12)
    x, pieces = x0, [x0[None]]
    for _ in range(4):
        part = T.simulate(x, n_steps=25, rng=gen, fixed_weights=fixed, **cfg)
        pieces.append(part[1:])
        x = part[-1]
    np.testing.assert_array_equal(np.concatenate(pieces), one)
    # strided recording equals subsampling
    strided = T.simulate(
        x0, n_steps=100, rng=np.random.default_rng(12), fixed_weights=fixed, stride=5, **cfg
    )
    np.testing.assert_array_equal(strided, one[::5])


def test_chunk_size_does_not_change_results(monkeypatch):
    # an ensemble big enough to be split into realization blocks within a layer
    x0s = np.stack([T.initial_tokens("pair", 2, 3, np.random.default_rng(s)) for s in range(200)])
    cfg = base_cfg(width=64)
    ref = T.simulate_ensemble(x0s, n_steps=6, rng=np.random.default_rng(13), stride=3, **cfg)
    for normals, work in ((1 << 22, 1 << 30), (500, 1 << 10), (1 << 15, 1)):
        monkeypatch.setattr(T, "_CHUNK_NORMALS", normals)
        monkeypatch.setattr(T, "_CHUNK_WORK", work)
        got = T.simulate_ensemble(x0s, n_steps=6, rng=np.random.default_rng(13), stride=3, **cfg)
        np.testing.assert_array_equal(got, ref)


def test_inputs_are_not_modified():
    # N = 1 makes the (d, N) view of x0 "contiguous": the kernel must still copy it
    for n in (1, 4):
        x0 = T.initial_tokens("uniform", n, 3, np.random.default_rng(14))
        keep = x0.copy()
        T.simulate(x0, n_steps=5, rng=1, **base_cfg())
        T.advance_with_normals(
            x0[None], np.zeros((2, 1, T.noise_block_size(n, 3, 5))), **base_cfg()
        )
        np.testing.assert_array_equal(x0, keep)


def test_same_seed_same_arrays_and_different_seed_differs():
    cfg = base_cfg()
    x0 = T.initial_tokens("uniform", 16, 3, np.random.default_rng(14))
    a = T.simulate(x0, n_steps=50, rng=np.random.default_rng(15), **cfg)
    b = T.simulate(x0, n_steps=50, rng=15, **cfg)
    c = T.simulate(x0, n_steps=50, rng=np.random.default_rng(16), **cfg)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a[-1] - c[-1]).max() > 1e-3


def test_ensemble_of_one_is_simulate_and_fixed_weights_none_draws_first():
    cfg = base_cfg(hidden_weights="fixed", noise_sharing="independent")
    x0 = T.initial_tokens("uniform", 5, 4, np.random.default_rng(17))
    single = T.simulate(x0, n_steps=30, rng=np.random.default_rng(18), **cfg)
    ens = T.simulate_ensemble(x0[None], n_steps=30, rng=np.random.default_rng(18), **cfg)
    np.testing.assert_array_equal(ens[:, 0], single)
    gen = np.random.default_rng(18)
    fw = T.draw_fixed_weights(5, 4, cfg["width"], gen, noise_sharing="independent")
    assert fw.B.shape == (5, cfg["width"], 4) and fw.b.shape == (5, cfg["width"])
    explicit = T.simulate(x0, n_steps=30, rng=gen, fixed_weights=fw, **cfg)
    np.testing.assert_array_equal(explicit, single)


def test_ensemble_realizations_have_their_own_noise_and_shared_fixed_weights_broadcast():
    cfg = base_cfg(hidden_weights="fixed")
    x0 = T.initial_tokens("uniform", 4, 3, np.random.default_rng(19))
    x0s = np.stack([x0, x0, x0])
    fw = T.draw_fixed_weights(4, 3, cfg["width"], 20)
    out = T.simulate_ensemble(x0s, n_steps=20, rng=21, fixed_weights=fw, **cfg)
    assert out.shape == (21, 3, 4, 3)
    assert np.abs(out[-1, 0] - out[-1, 1]).max() > 1e-3  # different A noise per realization
    per_real = T.FixedWeights(np.stack([fw.B] * 3), np.stack([fw.b] * 3))
    out2 = T.simulate_ensemble(x0s, n_steps=20, rng=21, fixed_weights=per_real, **cfg)
    np.testing.assert_array_equal(out, out2)


def test_progress_callback_and_cancel():
    cfg = base_cfg(attn_kind="off")
    x0s = np.stack([T.initial_tokens("uniform", 8, 3, np.random.default_rng(s)) for s in range(4)])
    seen = []
    T.simulate_ensemble(
        x0s, n_steps=300, rng=1, progress=lambda f: seen.append(f) or True, stride=10, **cfg
    )
    assert seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen)

    # the first callback comes after the first chunk of layers (never throttled)
    with pytest.raises(T.Cancelled) as info:
        T.simulate_ensemble(x0s, n_steps=20_000, rng=1, progress=lambda f: False, stride=10, **cfg)
    exc = info.value
    assert 0 < exc.steps_done < 20_000
    assert exc.partial.shape == (exc.steps_done // 10 + 1, 4, 8, 3)
    np.testing.assert_array_equal(exc.partial[0], x0s)
    with pytest.raises(T.Cancelled):
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


# ---------------------------------------------------------------------------------------------
# Symmetries (spec §6.6)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("act", "attn"), [("tanh", "off"), ("tanh", "sa"), ("sin", "usa"), ("erf", "sa")]
)
def test_antipodal_pair_stays_antipodal_for_odd_activations(act, attn):
    x = T.initial_tokens("uniform", 1, 3, np.random.default_rng(22))
    x0 = np.concatenate([x, -x])
    cfg = base_cfg(activation=act, attn_kind=attn, sigma_b=0.0, sigma_noise=2.0, dt=5e-3)
    traj = T.simulate(x0, n_steps=2000, rng=23, stride=100, **cfg)
    # 1e-12 (spec §6.6; ~2e-15 expected after 2000 layers): every operation on -x mirrors x
    assert np.abs(traj[:, 0] + traj[:, 1]).max() < 1e-12


def test_non_odd_activation_pushes_antipodal_pair_off():
    # b(-1) = (d-1)(kappa(-1) + kappa_1) > 0 for relu: the same check must fail
    x = T.initial_tokens("uniform", 1, 3, np.random.default_rng(22))
    cfg = base_cfg(activation="relu", attn_kind="off", sigma_b=0.0, sigma_noise=2.0, dt=5e-3)
    traj = T.simulate(np.concatenate([x, -x]), n_steps=400, rng=23, stride=400, **cfg)
    assert np.abs(traj[-1, 0] + traj[-1, 1]).max() > 1e-2
    # an odd activation with a bias is not odd either
    cfg = base_cfg(activation="tanh", attn_kind="off", sigma_b=1.0, sigma_noise=2.0, dt=5e-3)
    traj = T.simulate(np.concatenate([x, -x]), n_steps=400, rng=23, stride=400, **cfg)
    assert np.abs(traj[-1, 0] + traj[-1, 1]).max() > 1e-2


@pytest.mark.parametrize("over", [dict(), dict(splitting="strang", noise_sharing="independent")])
def test_tokens_stay_unit_vectors(over):
    cfg = base_cfg(sigma_noise=3.0, attn_strength=-2.0, **over)
    x0 = T.initial_tokens("uniform", 20, 3, np.random.default_rng(24))
    traj = T.simulate(x0, n_steps=1000, rng=25, stride=10, **cfg)
    # 1e-14: one normalization per (sub)layer, each leaves |x| within a few ulp of 1
    assert np.abs(np.linalg.norm(traj, axis=-1) - 1.0).max() < 1e-14


@pytest.mark.parametrize("attn", ["sa", "usa", "off"])
def test_permutation_equivariance(attn):
    cfg = base_cfg(attn_kind=attn, beta=2.0)
    x0 = T.initial_tokens("uniform", 12, 3, np.random.default_rng(26))
    perm = np.random.default_rng(27).permutation(12)
    a = T.simulate(x0, n_steps=50, rng=28, **cfg)
    b = T.simulate(x0[perm], n_steps=50, rng=28, **cfg)
    # 1e-12: attention sums run in a different order (round-off ~1e-16 per layer)
    np.testing.assert_allclose(b, a[:, perm], rtol=0, atol=1e-12)


@pytest.mark.parametrize(("attn", "d"), [("sa", 3), ("usa", 2), ("off", 6)])
def test_rotation_equivariance(attn, d):
    n, m, layers = 6, 5, 40
    cfg = base_cfg(attn_kind=attn, width=m)
    rng = np.random.default_rng(29)
    x0 = T.initial_tokens("uniform", n, d, rng)
    rot, _ = np.linalg.qr(rng.standard_normal((d, d)))
    q = T.noise_block_size(n, d, m)
    normals = rng.standard_normal((layers, 1, q))
    rotated = normals.copy()
    md = m * d
    big_b = normals[:, 0, :md].reshape(layers, m, d)
    a = normals[:, 0, md + m : md + m + md].reshape(layers, d, m)
    rotated[:, 0, :md] = (big_b @ rot.T).reshape(layers, md)  # B -> B R^T
    rotated[:, 0, md + m : md + m + md] = (rot @ a).reshape(layers, md)  # A -> R A
    out = T.advance_with_normals(x0[None], normals, **cfg)[0]
    out_rot = T.advance_with_normals((x0 @ rot.T)[None], rotated, **cfg)[0]
    # 1e-12: the rotated run is the same computation up to round-off
    np.testing.assert_allclose(out_rot, out @ rot.T, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

GOOD = dict(
    n_steps=2,
    dt=0.01,
    sigma_noise=1.0,
    activation="relu",
    width=4,
    attn_kind="sa",
    attn_strength=0.5,
    beta=1.0,
    rng=0,
)


@pytest.mark.parametrize(
    ("over", "match"),
    [
        (dict(dt=0.0), "dt"),
        (dict(dt=float("nan")), "dt"),
        (dict(sigma_noise=-1.0), "sigma_noise"),
        (dict(activation="swish"), "activation must be one of"),
        (dict(width=0), "width"),
        (dict(width=2.5), "width must be an integer"),
        (dict(attn_kind="linear"), "attn_kind"),
        (dict(attn_strength=float("inf")), "attn_strength"),
        (dict(beta=-1.0), "beta"),
        (dict(n_steps=-1), "n_steps"),
        (dict(stride=0), "stride"),
        (dict(noise_sharing="shared"), "noise_sharing"),
        (dict(hidden_weights="frozen"), "hidden_weights"),
        (dict(splitting="euler"), "splitting"),
        (dict(manifold="torus"), "manifold"),
        (dict(rng=None), "rng must be"),
        (dict(sigma_w=-0.1), "sigma_w"),
        (dict(sigma_b=-0.1), "sigma_b"),
        (dict(fixed_weights=T.FixedWeights(np.zeros((1, 4, 3)), np.zeros((1, 4)))), "only used"),
        (
            dict(hidden_weights="fixed", fixed_weights=T.FixedWeights(np.zeros((1, 5, 3)), 0)),
            "fixed_weights",
        ),
        (dict(progress=3), "progress"),
    ],
)
def test_simulate_validation_messages(over, match):
    x0 = T.initial_tokens("uniform", 3, 3, 0)
    with pytest.raises(ValueError, match=match):
        T.simulate(x0, **{**GOOD, **over})


def test_token_array_validation():
    with pytest.raises(ValueError, match="unit vectors"):
        T.simulate(np.ones((3, 3)), **GOOD)
    with pytest.raises(ValueError, match=r"shape \(N, d\)"):
        T.simulate(np.ones(3), **GOOD)
    with pytest.raises(ValueError, match="finite"):
        T.simulate(np.full((2, 3), np.nan), **GOOD)
    with pytest.raises(ValueError, match=r"shape \(R, N, d\)"):
        T.simulate_ensemble(np.ones((3, 3)), **GOOD)
    # euclidean accepts non-unit rows
    assert T.simulate(np.ones((3, 3)), **{**GOOD, "rng": 1}, manifold="euclidean").shape == (
        3,
        3,
        3,
    )
    with pytest.raises(ValueError, match="normals must have shape"):
        T.advance_with_normals(np.eye(3)[None], np.zeros((2, 1, 5)), **base_cfg())
    with pytest.raises(ValueError, match="needs fixed_weights"):
        cfg = base_cfg(hidden_weights="fixed")
        T.advance_with_normals(np.eye(3)[None], np.zeros((2, 1, 16)), **cfg)
    with pytest.raises(ValueError, match="splitting"):
        T.noise_block_size(3, 3, 4, splitting="verlet")
    # block sizes: m(2d+1) fresh, m d fixed, x N independent, x 2 Strang, padded to even
    assert T.noise_block_size(3, 3, 5) == 36
    assert T.noise_block_size(3, 3, 5, hidden_weights="fixed", noise_sharing="independent") == 46
    assert T.noise_block_size(3, 3, 5, splitting="strang") == 70


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


# ---------------------------------------------------------------------------------------------
# Initial tokens
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Diagnostics on hand-made configurations
# ---------------------------------------------------------------------------------------------


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


def test_activation_list_is_shared_with_the_activation_module():
    assert set(T.ACTIVATIONS) == set(NUMPY_ACTIVATIONS) == set(ACTIVATIONS)
    for name in ACTIVATIONS:
        u = np.linspace(-3, 3, 7)
        from kernels.activations import apply_activation

        np.testing.assert_allclose(
            apply_activation(name, u), NUMPY_ACTIVATIONS[name](u), atol=1e-15
        )


def test_reexports_and_warmup():
    from kernels.tokens import activation_moments, lyapunov_exponent

    k1, k1p = activation_moments("relu")
    assert k1 == pytest.approx(0.5) and k1p == pytest.approx(0.5)
    assert lyapunov_exponent("relu", 3) == pytest.approx(-0.5)
    T.warmup()
