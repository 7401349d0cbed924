"""kernels.tokens (public API): determinism, chunking, progress, symmetries, validation.

Deterministic tests (spec models/tokens.md §2-§3, §6.6). The numpy oracle of one layer is in
test_token_layer.py; statistical checks of the limit are in test_tokens_vs_theory.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import kernels.tokens as T
from tests.kernels.token_helpers import base_cfg, uniform_tokens

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
    x0 = uniform_tokens(n, d, 10)
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


def test_inputs_are_not_modified():
    # N = 1 makes the (d, N) view of x0 "contiguous": the kernel must still copy it
    for n in (1, 4):
        x0 = uniform_tokens(n, 3, 14)
        keep = x0.copy()
        T.simulate(x0, n_steps=5, rng=1, **base_cfg())
        T.advance_with_normals(
            x0[None], np.zeros((2, 1, T.noise_block_size(n, 3, 5))), **base_cfg()
        )
        np.testing.assert_array_equal(x0, keep)


def test_same_seed_same_arrays_and_different_seed_differs():
    cfg = base_cfg()
    x0 = uniform_tokens(16, 3, 14)
    a = T.simulate(x0, n_steps=50, rng=np.random.default_rng(15), **cfg)
    b = T.simulate(x0, n_steps=50, rng=15, **cfg)
    c = T.simulate(x0, n_steps=50, rng=np.random.default_rng(16), **cfg)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a[-1] - c[-1]).max() > 1e-3


def test_ensemble_of_one_is_simulate_and_fixed_weights_none_draws_first():
    cfg = base_cfg(hidden_weights="fixed", noise_sharing="independent")
    x0 = uniform_tokens(5, 4, 17)
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
    x0 = uniform_tokens(4, 3, 19)
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
    x0s = np.stack([uniform_tokens(8, 3, s) for s in range(4)])
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


# ---------------------------------------------------------------------------------------------
# Symmetries (spec §6.6)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("act", "attn"), [("tanh", "off"), ("tanh", "sa"), ("sin", "usa"), ("erf", "sa")]
)
def test_antipodal_pair_stays_antipodal_for_odd_activations(act, attn):
    x = uniform_tokens(1, 3, 22)
    x0 = np.concatenate([x, -x])
    cfg = base_cfg(activation=act, attn_kind=attn, sigma_b=0.0, sigma_noise=2.0, dt=5e-3)
    traj = T.simulate(x0, n_steps=2000, rng=23, stride=100, **cfg)
    # 1e-12 (spec §6.6; ~2e-15 expected after 2000 layers): every operation on -x mirrors x
    assert np.abs(traj[:, 0] + traj[:, 1]).max() < 1e-12


def test_non_odd_activation_pushes_antipodal_pair_off():
    # b(-1) = (d-1)(kappa(-1) + kappa_1) > 0 for relu: the same check must fail
    x = uniform_tokens(1, 3, 22)
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
    x0 = uniform_tokens(20, 3, 24)
    traj = T.simulate(x0, n_steps=1000, rng=25, stride=10, **cfg)
    # 1e-14: one normalization per (sub)layer, each leaves |x| within a few ulp of 1
    assert np.abs(np.linalg.norm(traj, axis=-1) - 1.0).max() < 1e-14


@pytest.mark.parametrize("attn", ["sa", "usa", "off"])
def test_permutation_equivariance(attn):
    cfg = base_cfg(attn_kind=attn, beta=2.0)
    x0 = uniform_tokens(12, 3, 26)
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


def test_reexports_and_warmup():
    from kernels.tokens import activation_moments, lyapunov_exponent

    k1, k1p = activation_moments("relu")
    assert k1 == pytest.approx(0.5) and k1p == pytest.approx(0.5)
    assert lyapunov_exponent("relu", 3) == pytest.approx(-0.5)
    assert set(T.__all__) <= set(dir(T))
    T.warmup()
