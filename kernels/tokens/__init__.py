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
* :mod:`kernels.tokens.driver`: validation, chunked noise and progress around the jitted core,
  and the entry points :func:`simulate`, :func:`simulate_ensemble`, :func:`advance_with_normals`;
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
from kernels.tokens.driver import (
    FixedWeights,
    advance_with_normals,
    draw_fixed_weights,
    simulate,
    simulate_ensemble,
)
from kernels.tokens.initial import INITS, initial_tokens
from kernels.tokens.params import ATTN_KINDS, noise_block_size
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
