r"""The exact two-point SDE: Euler–Maruyama paths of the overlap of two tokens (N = 2).

With common noise the overlap :math:`\rho = \langle x, y\rangle` of two tokens is itself a
diffusion on [-1, 1], :math:`d\rho = [b(\rho) + A(\rho)]dt + \sqrt{a(\rho)}\,dB`, with the
coefficients of :func:`kernels.tokens.theory.two_point_coefficients` and the N = 2 attention
drift (spec ``models/tokens.md`` §2, §6.3–6.4, §6.7 [derived]). :func:`simulate_rho_diffusion`
simulates it directly, far faster than the token model, as the reference the token runs and
the predicted rates are checked against. Agazzi, Bruno, Mosig García, Saviozzi, Romito,
arXiv:2604.26898.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.common.activations import check_activation
from kernels.common.dual_kernel import interp_kappa, kappa_table
from kernels.common.validation import choice, integer, real, real_array
from kernels.tokens.params import ATTN_CODE, ATTN_KINDS
from kernels.tokens.theory import MAX_ABS_ALPHA, MAX_BETA, MAX_DIM, noise_scales

__all__ = ["simulate_rho_diffusion", "warmup"]

#: Normals drawn per chunk in :func:`simulate_rho_diffusion` (32 MB of float64).
_CHUNK_DRAWS = 1 << 22


@njit(cache=True, nogil=True)
def _rho_diffusion_core(
    rho: np.ndarray,
    normals: np.ndarray,
    rho_nodes: np.ndarray,
    kappa_nodes: np.ndarray,
    dim: float,
    sn2: float,
    attn_code: int,
    alpha: float,
    beta: float,
    dt: float,
) -> None:
    """Advance ``rho`` in place by normals.shape[0] Euler–Maruyama steps (one row per step)."""
    n_steps, n_paths = normals.shape
    sqdt = math.sqrt(dt)
    kappa1 = kappa_nodes[0]  # κ(1) of the same table, so b(1) = a(1) = 0 exactly
    dm1 = dim - 1.0
    dm2 = dim - 2.0
    for k in range(n_steps):
        for p in range(n_paths):
            r = rho[p]
            kap = interp_kappa(r, rho_nodes, kappa_nodes)
            one_m = 1.0 - r
            one_p = 1.0 + r
            drift = sn2 * ((dm2 + r * r) * kap - dm1 * r * kappa1)
            var = 2.0 * sn2 * one_m * one_p * (kappa1 - r * kap)
            if attn_code == 1:
                drift += 2.0 * alpha * one_m * one_p / (math.exp(beta * one_m) + 1.0)
            elif attn_code == 2:
                drift += alpha * math.exp(beta * r) * one_m * one_p
            r += drift * dt + math.sqrt(var if var > 0.0 else 0.0) * sqdt * normals[k, p]
            if r > 1.0:
                r = 1.0
            elif r < -1.0:
                r = -1.0
            rho[p] = r


def simulate_rho_diffusion(
    rho0: np.ndarray | float,
    *,
    activation: str,
    dim: int,
    sigma_noise: float,
    t_max: float,
    dt: float,
    n_paths: int,
    rng: np.random.Generator,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    attn_kind: str = "sa",
    attn_strength: float = 0.0,
    beta: float = 1.0,
    n_records: int | None = None,
) -> np.ndarray:
    r"""Euler–Maruyama paths of the exact two-token overlap diffusion (N = 2, common noise).

    .. math::
        d\rho = \big[b(\rho) + A(\rho)\big]dt + \sqrt{a(\rho)}\,dB,

    with :math:`b, a` of :func:`two_point_coefficients` and the N = 2 attention drift of §6.7,
    :math:`A_{\rm SA} = 2\alpha e^{\beta\rho}(1-\rho)(1+\rho)/(e^\beta + e^{\beta\rho})`,
    :math:`A_{\rm USA} = \alpha e^{\beta\rho}(1-\rho)(1+\rho)`. After each step :math:`\rho` is
    clipped to [-1, 1]; :math:`\rho = 1` is absorbing (so is -1 for odd s with
    :math:`\sigma_b = 0`).

    :math:`\kappa` is read inside the jitted loop from
    :func:`kernels.common.dual_kernel.kappa_table` (4001 nodes uniform in :math:`\arccos\rho`,
    linear interpolation in :math:`\rho`): absolute interpolation error < 1e-7 everywhere and
    relative error < 2e-4 in :math:`\kappa_1-\kappa(\rho)` near :math:`\rho = 1`, far below
    the :math:`O(\Delta t)` Euler bias (see that function for the table's quadrature error at
    large variances). The step is :math:`h = t_{\max}/\lceil t_{\max}/\Delta t\rceil \le \Delta t`.

    Randomness: standard normals are drawn from ``rng`` in chunks of whole steps (step-major),
    so the same seed and arguments give bit-identical output, independent of ``n_records``.
    Provenance [derived] (spec §2, §6.3, §6.4); paper: arXiv:2604.26898.

    Parameters
    ----------
    rho0 : float or array_like, shape (n_paths,)
        Initial overlap(s) in [-1, 1].
    activation : str
        One of :data:`kernels.common.activations.ACTIVATIONS`.
    dim : int
        :math:`d \ge 2`.
    sigma_noise : float
        :math:`\sigma_n \ge 0`.
    t_max : float
        Horizon, in (0, 1e4].
    dt : float
        Maximal step, in (0, t_max].
    n_paths : int
        Number of independent paths, in [1, 1e7].
    rng : numpy.random.Generator
        Source of the Brownian increments.
    sigma_w, sigma_b : float
        Hidden weight and bias scales.
    attn_kind, attn_strength, beta
        As in :func:`attention_effective_strength` (SA/USA drift above; ``off`` none).
    n_records : int, optional
        If given, in [1, number of steps]: return snapshots at steps
        ``round(k * n_steps / n_records)``, k = 0..n_records (times ``k * t_max / n_records``
        when n_records divides the step count).

    Returns
    -------
    ndarray
        Shape (n_paths,) with :math:`\rho(t_{\max})`, or (n_records + 1, n_paths) with the
        initial values in row 0.
    """
    act = check_activation(activation)
    d = integer("dim", dim, 2, MAX_DIM)
    sn, sw, sb = noise_scales(sigma_noise, sigma_w, sigma_b)
    kind = choice("attn_kind", attn_kind, ATTN_KINDS)
    alpha = real("attn_strength", attn_strength, -MAX_ABS_ALPHA, MAX_ABS_ALPHA)
    b = real("beta", beta, 0.0, MAX_BETA)
    t_end = real("t_max", t_max, 0.0, 1e4, lo_open=True)
    step = real("dt", dt, 0.0, t_end, lo_open=True)
    n = integer("n_paths", n_paths, 1, 10_000_000)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    r0 = real_array("rho0", rho0, -1.0, 1.0)
    if r0.ndim > 1 or (r0.ndim == 1 and r0.shape[0] not in (1, n)):
        raise ValueError(f"rho0 must be a scalar or have shape ({n},); got shape {r0.shape}")
    n_steps = max(1, math.ceil(t_end / step - 1e-9))
    h = t_end / n_steps
    if n_records is None:
        record_steps = [n_steps]
    else:
        nr = integer("n_records", n_records, 1, n_steps)
        record_steps = [round(k * n_steps / nr) for k in range(1, nr + 1)]
    attn_code = 0 if kind == "off" or alpha == 0.0 else ATTN_CODE[kind]
    rho_nodes, kappa_nodes = kappa_table(act, sw, sb)

    rho = np.empty(n)
    rho[:] = r0
    snapshots = np.empty((len(record_steps) + 1, n))
    snapshots[0] = rho
    chunk = max(1, min(n_steps, _CHUNK_DRAWS // n))
    done = 0
    for i, target in enumerate(record_steps):
        while done < target:
            m = min(chunk, target - done)
            normals = rng.standard_normal((m, n))
            _rho_diffusion_core(
                rho, normals, rho_nodes, kappa_nodes, float(d), sn * sn, attn_code, alpha, b, h
            )
            done += m
        snapshots[i + 1] = rho
    return snapshots[-1].copy() if n_records is None else snapshots


def warmup() -> None:
    """Compile (or load from the numba cache) the Euler–Maruyama core for every attention kind."""
    rng = np.random.default_rng(0)
    for kind in ATTN_KINDS:
        simulate_rho_diffusion(
            0.5,
            activation="relu",
            dim=3,
            sigma_noise=1.0,
            t_max=0.01,
            dt=0.005,
            n_paths=2,
            rng=rng,
            attn_kind=kind,
            attn_strength=0.5,
        )
