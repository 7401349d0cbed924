r"""Jitted cores: the discrete chain and Euler–Maruyama over many paths, chunk by chunk.

The state is stored as (n_state, n_paths) and every update is a loop over paths innermost, so
LLVM vectorizes it (SIMD across paths); the per-path transcription of the same equations,
:func:`kernels.adaptive.sde.coefficients`, is the pointwise form used by the reference-library
tests, and the two are checked against each other to round-off. Equations: spec §2.2 (chain,
codes of :mod:`kernels.adaptive.discrete`), §2.4–2.5 (continuous equations, drift and noise of
:mod:`kernels.adaptive.drift`); sign convention of :mod:`kernels.adaptive.sde`.

Normals come in chunks ``zeta`` of shape (K, n_sub, d, n_paths): step s, substep j, coordinate
i, path p. The chain's noise at step k is ξ = Σ_j ζ[k, j]/√n_sub.

Work array rows (``wv`` (NV, d, P), ``wm`` (NM, d, d, P)) hold the landscape quantities per path
(:mod:`kernels.adaptive.soa_landscape`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.adaptive.discrete import ADAM, PYTORCH, RMSPROP, SGD
from kernels.adaptive.drift import drift_noise, matvec_paths
from kernels.adaptive.sde import (
    F_W2,
    P_TAU,
    SME2,
)
from kernels.adaptive.soa_landscape import (
    FASTMATH,
    M_CHOL,
    NM,
    NV,
    V_BM,
    V_BT,
    V_BV,
    V_DW1,
    V_DW2,
    V_GRAD,
    V_LDW,
    V_NM,
    V_NT,
    V_NV,
    landscape_soa,
)


def make_soa_work(d: int, n_paths: int) -> tuple[np.ndarray, np.ndarray]:
    """Scratch (wv, wm) for :func:`euler_chunk` and :func:`chain_chunk`."""
    return np.zeros((NV, d, n_paths)), np.zeros((NM, d, d, n_paths))


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def chain_chunk(
    code,
    opt,
    v_order,
    lmat,
    lvec,
    lr,
    beta1,
    beta2,
    eps,
    zeta,
    n_used,
    k0,
    th,
    m,
    v,
    rec_every,
    rec_theta,
    rec_m,
    rec_v,
    wv,
    wm,
):
    """Advance the chain (θ, m, v each (d, P)) by ``n_used`` steps; records (R, d, P)."""
    n_sub = zeta.shape[1]
    d, n = th.shape
    inv = 1.0 / math.sqrt(n_sub)
    landscape_soa(code, th, d, lmat, lvec, wv, wm, False, True)
    for s in range(n_used):
        k = k0 + s
        landscape_soa(code, th, d, lmat, lvec, wv, wm, False, False)
        g = wv[V_BT]
        xi = wv[V_DW1]
        for i in range(d):
            for p in range(n):
                xi[i, p] = zeta[s, 0, i, p]
            for j in range(1, n_sub):
                for p in range(n):
                    xi[i, p] += zeta[s, j, i, p]
            for p in range(n):
                xi[i, p] *= inv
        for i in range(d):
            for p in range(n):
                g[i, p] = wv[V_GRAD, i, p]
            for j in range(i + 1):
                for p in range(n):
                    g[i, p] += wm[M_CHOL, i, j, p] * xi[j, p]
        if opt == SGD:
            for i in range(d):
                for p in range(n):
                    th[i, p] -= lr * g[i, p]
        elif opt == RMSPROP:
            pt = v_order == PYTORCH
            for i in range(d):
                for p in range(n):
                    gi = g[i, p]
                    vn = beta2 * v[i, p] + (1.0 - beta2) * gi * gi
                    vs = vn if pt else v[i, p]
                    th[i, p] -= lr * gi / (math.sqrt(max(vs, 0.0)) + eps)
                    v[i, p] = vn
        elif v_order == PYTORCH:
            bc1 = 1.0 - beta1 ** (k + 1)
            bc2s = math.sqrt(1.0 - beta2 ** (k + 1))
            step = lr / bc1
            for i in range(d):
                for p in range(n):
                    gi = g[i, p]
                    m[i, p] = beta1 * m[i, p] + (1.0 - beta1) * gi
                    v[i, p] = beta2 * v[i, p] + (1.0 - beta2) * gi * gi
                    th[i, p] -= step * m[i, p] / (math.sqrt(v[i, p]) / bc2s + eps)
        else:
            bc1 = 1.0 - beta1 ** (k + 2)
            bc2s = math.sqrt(1.0 - beta2 ** (k + 1))
            fac = lr * bc2s / bc1
            for i in range(d):
                for p in range(n):
                    gi = g[i, p]
                    m[i, p] = beta1 * m[i, p] + (1.0 - beta1) * gi
                    th[i, p] -= fac * m[i, p] / (math.sqrt(max(v[i, p], 0.0)) + eps * bc2s)
                    v[i, p] = beta2 * v[i, p] + (1.0 - beta2) * gi * gi
        if (k + 1) % rec_every == 0 and (k + 1) // rec_every < rec_theta.shape[0]:
            r = (k + 1) // rec_every
            rec_theta[r] = th
            rec_m[r] = m
            rec_v[r] = v


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def euler_chunk(
    code,
    opt,
    regime,
    order,
    flags,
    par,
    lmat,
    lvec,
    x,
    zeta1,
    zeta2,
    s_first,
    n_used,
    k0,
    rec_every,
    rec,
    wv,
    wm,
):
    """Euler–Maruyama for steps s_first..n_used−1 of a chunk; x (n_state, P) in place.

    ΔW = √h ζ with h = τ/n_sub; step s starts at t = (k0 + s)τ; after global step k+1 with
    (k+1) % rec_every == 0 the state goes to rec[(k+1)//rec_every] (R, n_state, P).
    """
    n_sub = zeta1.shape[1]
    d = zeta1.shape[2]
    n = x.shape[1]
    tau = par[P_TAU]
    h = tau / n_sub
    sh = math.sqrt(h)
    w2 = zeta2.shape[0] > 0 and order == SME2 and flags[F_W2] == 1
    need_m = order == SME2 and flags[F_W2] == 1
    landscape_soa(code, x, d, lmat, lvec, wv, wm, need_m, True)
    for s in range(s_first, n_used):
        k = k0 + s
        for j in range(n_sub):
            t = k * tau + j * h
            landscape_soa(code, x, d, lmat, lvec, wv, wm, need_m, False)
            for i in range(d):
                for p in range(n):
                    wv[V_DW1, i, p] = sh * zeta1[s, j, i, p]
                    wv[V_DW2, i, p] = sh * zeta2[s, j, i, p] if w2 else 0.0
            matvec_paths(wm, M_CHOL, wv, V_DW1, V_LDW, d, n)
            drift_noise(opt, regime, order, flags, par, t, x, d, n, wv, wm, lmat)
            for i in range(d):
                for p in range(n):
                    x[i, p] += wv[V_BT, i, p] * h + wv[V_NT, i, p]
            if opt == ADAM:
                for i in range(d):
                    for p in range(n):
                        x[d + i, p] += wv[V_BM, i, p] * h + wv[V_NM, i, p]
            if opt != SGD:
                vi = d if opt == RMSPROP else 2 * d
                for i in range(d):
                    for p in range(n):
                        x[vi + i, p] += wv[V_BV, i, p] * h + wv[V_NV, i, p]
        if (k + 1) % rec_every == 0 and (k + 1) // rec_every < rec.shape[0]:
            rec[(k + 1) // rec_every] = x


def warmup() -> None:
    """Compile the vectorized cores on tiny inputs (every optimizer and order)."""
    from kernels.adaptive.landscapes import build_landscape

    for name in ("quadratic", "linreg", "double_well", "quartic"):
        code, lmat, lvec, d = build_landscape(name, None, noise_std=0.5)
        wv, wm = make_soa_work(d, 2)
        z = np.zeros((2, 1, d, 2))
        par = np.array([0.1, 1.0, 0.5, 0.1, 0.1, 2.0, 1.0])
        for opt in (SGD, RMSPROP, ADAM):
            th, m, v = np.ones((d, 2)), np.zeros((d, 2)), np.ones((d, 2))
            rec = np.zeros((3, d, 2))
            chain_chunk(
                code,
                opt,
                0,
                lmat,
                lvec,
                0.1,
                0.9,
                0.99,
                1e-8,
                z,
                2,
                0,
                th,
                m,
                v,
                1,
                rec,
                rec.copy(),
                rec.copy(),
                wv,
                wm,
            )
            ns = d * (1 if opt == SGD else 2 if opt == RMSPROP else 3)
            for order in (0, 1, 2):
                flags = np.array([1, 0, 0, 0], dtype=np.int64)
                x = np.ones((ns, 2))
                euler_chunk(
                    code,
                    opt,
                    0,
                    order,
                    flags,
                    par,
                    lmat,
                    lvec,
                    x,
                    z,
                    z,
                    1,
                    2,
                    0,
                    1,
                    np.zeros((3, ns, 2)),
                    wv,
                    wm,
                )
