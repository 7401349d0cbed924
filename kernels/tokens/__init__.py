r"""Token synchronization: the discrete noisy transformer of spec ``models/tokens.md`` §2–§3.

Agazzi, Bruno, Mosig García, Saviozzi, Romito, *Stochastic scaling limits and synchronization by
noise in deep transformer models*, arXiv:2604.26898 [paper]. Only the abstract and introduction
of the paper were available; the discrete model follows the framing of the related literature
listed in the spec [literature], and the choices made here are tagged [derived].

Each layer (step :math:`h = T/L`) moves :math:`N` tokens :math:`x_i\in S^{d-1}` by softmax
(SA) or unnormalized (USA) self-attention, then by an MLP with Gaussian weights
:math:`A_k, B_k, b_k` scaled by :math:`\sigma_n\sqrt{h/m}`, then projects back to the sphere
(equations in :mod:`kernels.tokens.core` and :func:`simulate_ensemble`). The weights are drawn
fresh each layer and shared by all tokens (common noise) [literature; Shalova arXiv:2608.16664,
GLPR arXiv:2312.10794]. Its limit is the Stratonovich SDE
:math:`dX_i = \alpha P_{X_i}\mathrm{Attn}\,dt + \sigma_n P_{X_i}\circ dW(t,X_i)` [derived].

This module is the public API of the token model: :func:`simulate`, :func:`simulate_ensemble`,
:func:`advance_with_normals`, :func:`draw_fixed_weights`, :func:`noise_block_size`. It also
re-exports, for the app and the tests, the rest of the token stack:

* :mod:`kernels.tokens.params`: the layer's parameter bundle and its noise layout;
* :mod:`kernels.tokens.core`, :mod:`kernels.tokens.mlp`: the jitted layer (attention, MLP, Norm);
* :mod:`kernels.tokens.driver`: validation, chunked noise and progress around the jitted core;
* :mod:`kernels.tokens.initial`: :func:`initial_tokens`;
* :mod:`kernels.tokens.diagnostics`, :mod:`kernels.tokens.clusters`: :func:`diameter`,
  :func:`energy`, :func:`fit_log_slope`, :func:`cluster_count`, …;
* :mod:`kernels.tokens.studies`: :func:`benettin_lyapunov`, :func:`strong_error_study`,
  :func:`statistic_variance_study`;
* :mod:`kernels.tokens.theory`, :mod:`kernels.common.dual_kernel`: :func:`lyapunov_exponent`,
  :func:`activation_moments` (the other closed forms live in :mod:`kernels.tokens.theory`,
  :mod:`kernels.tokens.deterministic`, :mod:`kernels.tokens.two_point_sde` and
  :mod:`kernels.tokens.special`);
* :mod:`kernels.common.normals`: :func:`standard_normals`; :mod:`kernels.common.progress`:
  :class:`Cancelled`.

Conventions
-----------
* Public wrappers validate, resolve the RNG and allocate; private ``@njit(cache=True,
  nogil=True)`` cores see only arrays and scalars.
* Randomness comes only from the ``np.random.Generator`` passed in. The normals of the MLP
  weights are made from ``rng.random`` uniforms by a vectorized Box–Muller transform
  (:func:`standard_normals`), in chunks that fit in L2; the same seed gives bit-identical output,
  and because every (layer, realization) block has a fixed layout and an even length, the output
  does not depend on how a run is chunked (``simulate`` 4×25 steps equals 100 steps). The layout
  of a block is described in :mod:`kernels.tokens.core`.
* With ``sigma_noise == 0`` the MLP is skipped and no random numbers are drawn.
* ``splitting="strang"`` (Macaron) is MLP(h/2)·Norm, attention(h)·Norm, MLP(h/2)·Norm with two
  independent weight draws, so every sub-step maps the sphere to itself [derived choice].
* Long computations take ``progress(fraction) -> bool``; returning False raises
  :class:`Cancelled` at the next chunk boundary (a few ms), carrying the partial result.

Typical use (the convention the tests use for presets: one Generator per run, initial tokens
first, then the layers)::

    rng = np.random.default_rng(seed)
    x = initial_tokens("uniform", 32, 3, rng)
    traj = simulate(x, n_steps=100, dt=5e-3, sigma_noise=2.0, activation="relu", width=64,
                    attn_kind="sa", attn_strength=0.0, beta=1.0, rng=rng)
    traj2 = simulate(traj[-1], n_steps=100, ..., rng=rng)  # continues the same run exactly
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels.common.activations import ACTIVATIONS
from kernels.common.dual_kernel import activation_moments
from kernels.common.normals import standard_normals
from kernels.common.progress import Cancelled, ProgressFn
from kernels.tokens.clusters import cluster_count, cluster_stats, synchronized_pair_fraction
from kernels.tokens.diagnostics import (
    ENERGY_KINDS,
    SlopeFit,
    diameter,
    energy,
    fit_log_slope,
    gram,
    kuramoto_order_parameter,
    mean_vector_norm,
    similarity_histogram,
)
from kernels.tokens.driver import FixedWeights, advance_normals, draw_fixed_weights, simulate_frames
from kernels.tokens.initial import INITS, initial_tokens
from kernels.tokens.params import ATTN_KINDS, layer_params, noise_block_size
from kernels.tokens.studies import (
    BenettinResult,
    StrongErrorStudy,
    VarianceStudy,
    benettin_lyapunov,
    statistic_variance_study,
    strong_error_study,
)
from kernels.tokens.theory import lyapunov_exponent

__all__ = [
    "ACTIVATIONS",
    "ATTN_KINDS",
    "ENERGY_KINDS",
    "INITS",
    "PAPER",
    "BenettinResult",
    "Cancelled",
    "FixedWeights",
    "ProgressFn",
    "SlopeFit",
    "StrongErrorStudy",
    "VarianceStudy",
    "activation_moments",
    "advance_with_normals",
    "benettin_lyapunov",
    "cluster_count",
    "cluster_stats",
    "diameter",
    "draw_fixed_weights",
    "energy",
    "fit_log_slope",
    "gram",
    "initial_tokens",
    "kuramoto_order_parameter",
    "lyapunov_exponent",
    "mean_vector_norm",
    "noise_block_size",
    "similarity_histogram",
    "simulate",
    "simulate_ensemble",
    "standard_normals",
    "statistic_variance_study",
    "strong_error_study",
    "synchronized_pair_fraction",
    "warmup",
]

#: The paper this module implements.
PAPER = (
    "Agazzi, Bruno, Mosig García, Saviozzi, Romito, Stochastic scaling limits and "
    "synchronization by noise in deep transformer models, arXiv:2604.26898"
)


def simulate_ensemble(
    x0s: np.ndarray,
    *,
    n_steps: int,
    dt: float,
    sigma_noise: float,
    activation: str,
    width: int,
    attn_kind: str,
    attn_strength: float,
    beta: float,
    rng: np.random.Generator | int,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    noise_sharing: str = "common",
    hidden_weights: str = "fresh",
    stride: int = 1,
    splitting: str = "lie_trotter",
    manifold: str = "sphere",
    fixed_weights: FixedWeights | None = None,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    r"""Run R independent realizations of the discrete transformer (spec §2–§3).

    Each realization has its own noise (its own MLP weights every layer); all share the jitted
    core of :func:`simulate`, which is this function with ``R = 1``.

    .. math::

        y_i = x_i + h\alpha\sum_j w_{ij}x_j,\quad
        z_i = y_i + \sigma_n\sqrt{h/m}\,A_k s(\sigma_w B_k y_i + \sigma_b b_k),\quad
        x_i^{k+1} = z_i/|z_i|

    Parameters
    ----------
    x0s : ndarray, shape (R, N, d)
        Initial tokens (unit vectors for ``manifold="sphere"``).
    n_steps : int
        Number of layers :math:`L`; the horizon is ``n_steps * dt``.
    dt : float
        Layer step :math:`h > 0`.
    sigma_noise, sigma_w, sigma_b : float
        :math:`\sigma_n \ge 0` (0 skips the MLP and draws nothing), :math:`\sigma_w, \sigma_b
        \ge 0`.
    activation : str
        One of :data:`kernels.common.activations.ACTIVATIONS`.
    width : int
        MLP width :math:`m \ge 1`.
    attn_kind : {"sa", "usa", "off"}
        Softmax or unnormalized self-attention, or none.
    attn_strength : float
        :math:`\alpha` (negative: repulsive).
    beta : float
        Inverse temperature :math:`\beta \ge 0`.
    rng : numpy.random.Generator or int
        The only source of randomness.
    noise_sharing : {"common", "independent"}
        Weights shared by all tokens (default) or drawn per token.
    hidden_weights : {"fresh", "fixed"}
        Fresh B, b every layer, or fixed per realization (A stays fresh).
    stride : int
        Record every ``stride``-th layer.
    splitting : {"lie_trotter", "strang"}
        Attention then MLP then Norm, or MLP(h/2)·Norm, attention(h)·Norm, MLP(h/2)·Norm.
    manifold : {"sphere", "euclidean"}
        With or without the Norm step (euclidean: exploratory, spec §3).
    fixed_weights : FixedWeights, optional
        For ``hidden_weights="fixed"``: B (S, m, d) shared by all realizations or (R, S, m, d),
        b likewise. None draws them from ``rng`` (B then b, before any layer).
    progress : callable, optional
        ``progress(done_fraction) -> bool``, called at most every 50 ms and once at the end
        with 1.0. Returning False cancels: the run stops at the next chunk boundary and
        :class:`Cancelled` is raised, carrying the frames recorded so far in ``partial``.

    Returns
    -------
    ndarray, shape (n_steps // stride + 1, R, N, d)
        Frame 0 is ``x0s``; frame f is the state after layer ``f * stride``.

    Notes
    -----
    Provenance: discrete model [literature] (spec §2), common-noise limit SDE [derived].
    Paper: arXiv:2604.26898. Bit-identical for the same seed; chunked calls continuing from the
    last frame with the same Generator (and, for fixed weights, the same ``fixed_weights``)
    reproduce one long call exactly.
    """
    p = layer_params(
        dt=dt,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
        noise_sharing=noise_sharing,
        hidden_weights=hidden_weights,
        splitting=splitting,
        manifold=manifold,
    )
    return simulate_frames(
        x0s, p, n_steps, rng, stride=stride, fixed_weights=fixed_weights, progress=progress
    )


def simulate(
    x0: np.ndarray,
    *,
    n_steps: int,
    dt: float,
    sigma_noise: float,
    activation: str,
    width: int,
    attn_kind: str,
    attn_strength: float,
    beta: float,
    rng: np.random.Generator | int,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    noise_sharing: str = "common",
    hidden_weights: str = "fresh",
    stride: int = 1,
    splitting: str = "lie_trotter",
    manifold: str = "sphere",
    fixed_weights: FixedWeights | None = None,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    r"""Token trajectory of one realization of the discrete transformer (spec §2).

    :func:`simulate_ensemble` with ``R = 1``:

    .. math::

        x_i^{k+1} = \frac{z_i}{|z_i|},\quad
        z_i = y_i + \sigma_n\sqrt{h/m}\,A_k s(\sigma_w B_k y_i + \sigma_b b_k),\quad
        y_i = x_i + h\alpha\sum_j w_{ij}x_j

    Parameters
    ----------
    x0 : ndarray, shape (N, d)
        Initial tokens (unit vectors for ``manifold="sphere"``).
    n_steps, dt, sigma_noise, activation, width, attn_kind, attn_strength, beta, rng
        As in :func:`simulate_ensemble`.
    sigma_w, sigma_b, noise_sharing, hidden_weights, stride, splitting, manifold, progress
        As in :func:`simulate_ensemble`.
    fixed_weights : FixedWeights, optional
        From :func:`draw_fixed_weights`: B (S, m, d), b (S, m).

    Returns
    -------
    ndarray, shape (n_steps // stride + 1, N, d)
        Frame 0 is ``x0``; the last frame is the final state when ``stride`` divides
        ``n_steps``. Calling again from the last frame with the same Generator continues the
        same run bit for bit (pass the same ``fixed_weights`` for fixed hidden weights).

    Notes
    -----
    [literature] model, [derived] limit; arXiv:2604.26898.
    """
    x = np.asarray(x0, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x0 must have shape (N, d); got shape {x.shape}")
    if fixed_weights is not None and np.ndim(fixed_weights[0]) != 3:
        raise ValueError(
            "fixed_weights.B must have shape (S, m, d) for simulate; "
            f"got {np.shape(fixed_weights[0])}"
        )
    p = layer_params(
        dt=dt,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
        noise_sharing=noise_sharing,
        hidden_weights=hidden_weights,
        splitting=splitting,
        manifold=manifold,
    )
    frames = simulate_frames(
        x[None], p, n_steps, rng, stride=stride, fixed_weights=fixed_weights, progress=progress
    )
    return frames[:, 0]


def advance_with_normals(
    x0s: np.ndarray,
    normals: np.ndarray,
    *,
    dt: float,
    sigma_noise: float,
    activation: str,
    width: int,
    attn_kind: str,
    attn_strength: float,
    beta: float,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    noise_sharing: str = "common",
    hidden_weights: str = "fresh",
    splitting: str = "lie_trotter",
    manifold: str = "sphere",
    fixed_weights: FixedWeights | None = None,
) -> np.ndarray:
    r"""Advance R realizations through pre-drawn normals; the core behind every simulation.

    Layer k applies the map of :func:`simulate_ensemble` with the weights read from
    ``normals[k, r]``:

    .. math::
        x_i^{k+1} = \frac{z_i}{|z_i|},\quad
        z_i = y_i + \sigma_n\sqrt{h/m}\,A_k s(\sigma_w B_k y_i + \sigma_b b_k)

    Parameters
    ----------
    x0s : ndarray, shape (R, N, d)
    normals : ndarray, shape (L, R, Q)
        Layer ``k`` of realization ``r`` uses ``normals[k, r]``, laid out as described in
        :mod:`kernels.tokens.core`; ``Q = noise_block_size(N, d, width, ...)``.
        :func:`simulate_ensemble` draws exactly these blocks from its Generator
        (:func:`standard_normals`, layer-major).
    fixed_weights : FixedWeights
        Required for ``hidden_weights="fixed"``: B (S, m, d) or (R, S, m, d), b likewise.
    Other parameters as in :func:`simulate_ensemble`.

    Returns
    -------
    ndarray, shape (R, N, d)
        The state after the L layers.

    Notes
    -----
    Used for strong convergence (coarse increments summed from fine ones, spec §6.9), for
    oracles and for symmetry tests. [literature] model; arXiv:2604.26898.
    """
    p = layer_params(
        dt=dt,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
        noise_sharing=noise_sharing,
        hidden_weights=hidden_weights,
        splitting=splitting,
        manifold=manifold,
    )
    return advance_normals(x0s, normals, p, fixed_weights)


def warmup() -> None:
    """Run the public API end to end on tiny inputs (compiling or cache-loading what it calls).

    Both layer paths through :func:`simulate`, an ensemble, the diagnostics and the three
    studies, with the argument types the app uses. The submodules' own ``warmup()`` run before
    this one (:func:`kernels.warm_modules`).

    Parameters
    ----------
    None

    Returns
    -------
    None

    Notes
    -----
    No equation: a warm-up computes nothing anyone reads. Provenance: not applicable.
    """
    gen = np.random.default_rng(0)
    x0 = initial_tokens("uniform", 3, 3, gen)
    common: dict[str, Any] = dict(
        n_steps=2, dt=0.01, sigma_noise=1.0, activation="relu", width=4, rng=gen
    )
    simulate(x0, attn_kind="sa", attn_strength=1.0, beta=1.0, **common)
    simulate(
        x0,
        attn_kind="usa",
        attn_strength=1.0,
        beta=0.0,
        noise_sharing="independent",
        hidden_weights="fixed",
        splitting="strang",
        manifold="euclidean",
        **common,
    )
    traj = simulate_ensemble(
        x0[None], attn_kind="off", attn_strength=0.0, beta=1.0, stride=2, **common
    )
    diameter(traj)
    energy(traj, "glpr")
    cluster_count(traj)
    synchronized_pair_fraction(traj)
    similarity_histogram(traj[:, 0], bins=4)
    benettin_lyapunov(
        activation="relu", dim=3, sigma_noise=1.0, width=4, t_max=0.02, dt=0.01, n_runs=2, rng=gen
    )
    strong_error_study(rng=gen, levels=(1,), ref_level=2, n_paths=2, width=2, n_tokens=2)
    statistic_variance_study(
        rng=gen, n_tokens_list=(2,), n_noise=2, n_samples=2, t_max=0.02, width=2
    )
