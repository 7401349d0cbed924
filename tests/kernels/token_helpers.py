"""Setup shared by the token-model tests (imported as ``tests.kernels.token_helpers``)."""

from __future__ import annotations

import numpy as np

import kernels.tokens as T
from kernels.tokens.two_point_sde import simulate_rho_diffusion


def base_cfg(**over):
    """Model keyword arguments of ``simulate`` (no ``n_steps``/``rng``) touching every term:
    attention, MLP noise with weight and bias scales; ``over`` replaces entries."""
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


def uniform_tokens(n: int, d: int, seed: int) -> np.ndarray:
    """N tokens uniform on S^{d-1} from ``default_rng(seed)``."""
    return T.initial_tokens("uniform", n, d, np.random.default_rng(seed))


def rho_paths(rho0, *, n_paths, seed, activation="relu", dim=3, sigma_noise=1.0, **kw):
    """Overlap paths of the exact two-point diffusion over the spec's horizon T = 1 with
    dt = 1e-3 (§6.3, §6.4), from ``default_rng(seed)``; ``kw`` as in ``simulate_rho_diffusion``."""
    return simulate_rho_diffusion(
        rho0,
        activation=activation,
        dim=dim,
        sigma_noise=sigma_noise,
        t_max=1.0,
        dt=1e-3,
        n_paths=n_paths,
        rng=np.random.default_rng(seed),
        **kw,
    )
