r"""One layer of the noisy transformer, jitted: attention, MLP noise, normalization.

The discrete model of spec ``models/tokens.md`` §2–§3 (Agazzi, Bruno, Mosig García, Saviozzi,
Romito, arXiv:2604.26898 [paper]; discrete model [literature], choices here [derived]). One layer
(step :math:`k`, :math:`h = T/L`) acts on :math:`N` tokens :math:`x_i\in S^{d-1}`:

.. math::

    y_i &= x_i + h\alpha \sum_j w_{ij} x_j, \qquad
        w_{ij} = \mathrm{softmax}_j(\beta\langle x_i,x_j\rangle)\ (\mathrm{SA}),\quad
        w_{ij} = e^{\beta\langle x_i,x_j\rangle}/N\ (\mathrm{USA}) \\
    z_i &= y_i + \sigma_n\sqrt{h/m}\, A_k\, s(\sigma_w B_k y_i + \sigma_b b_k) \\
    x_i^{k+1} &= z_i/|z_i|

This module holds the jitted layer: attention, normalization (the MLP sub-step is
:mod:`kernels.tokens.mlp`) and :func:`advance_core`, which advances a block of realizations
through many layers. Its parameters are one :class:`kernels.tokens.params.LayerParams`; the
drivers in :mod:`kernels.tokens.driver` feed it chunks of normals; the public API is
:mod:`kernels.tokens`.

* Inside the cores the state of one realization is stored as ``(d, N)`` (dimension-major) so
  that loops over tokens vectorize; ``fastmath`` is FMA contraction only
  (:data:`kernels.common.normals.FASTMATH_CONTRACT`), so results are deterministic.
* Noise layout of one layer and one realization (``noise_block_size`` normals, padded to an even
  count): for each MLP sub-step (one for Lie–Trotter, two for Strang) and each noise source (one
  for common noise, one per token for independent noise) the block
  ``[B (m×d, row-major), b (m), A (d×m, row-major)]`` (fresh weights) or ``[A (d×m)]`` (fixed
  hidden weights, where B and b come from the fixed-weight arrays).
* With ``sigma_noise == 0`` the MLP is skipped and no random numbers are read.
* ``splitting="strang"`` (Macaron) is MLP(h/2)·Norm, attention(h)·Norm, MLP(h/2)·Norm with two
  independent weight draws, so every sub-step maps the sphere to itself [derived choice].
* Softmax weights use the branch-free :func:`kernels.common.normals.fast_exp` (~1 ulp), shifted by
  the row maximum (|x_j|^2 on the sphere), so no weight overflows for any beta.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.common.normals import FASTMATH_CONTRACT as _FM
from kernels.common.normals import fast_exp
from kernels.tokens.mlp import MLP_TILE, mlp_substep
from kernels.tokens.params import LayerParams, block_size, source_block_size

__all__ = ["advance_core", "warmup"]

# ---------------------------------------------------------------------------------------------
# One layer: attention, MLP, normalization (state of one realization stored as (d, N))
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _attention(x, y, ha, beta, attn, sphere, g, e, zs, num, shift):
    """y = x + h α Σ_j w_ij x_j for every token (x, y: (d, N)); scratch g, e, zs, shift: (N,)."""
    d, n = x.shape
    if beta == 0.0:
        # every weight is 1/N for SA and USA alike: the mean-field shortcut, O(N d)
        for k in range(d):
            xk = x[k]
            acc = 0.0
            for j in range(n):
                acc += xk[j]
            acc *= ha / n
            yk = y[k]
            for j in range(n):
                yk[j] = xk[j] + acc
        return
    # Softmax shift: row j of the Gram matrix has max G_jj = |x_j|^2 on the sphere, so
    # exp(β(G_ij - |x_j|^2)) <= 1 (exact weights, no overflow). Off the sphere use the row max.
    for j in range(n):
        shift[j] = 0.0
    if attn == 1:
        if sphere:
            for k in range(d):
                xk = x[k]
                for j in range(n):
                    shift[j] += xk[j] * xk[j]
            for j in range(n):
                shift[j] *= beta
        else:
            for j in range(n):
                shift[j] = -np.inf
            for i in range(n):
                x0i = x[0, i]
                x0 = x[0]
                for j in range(n):
                    g[j] = x0i * x0[j]
                for k in range(1, d):
                    xki = x[k, i]
                    xk = x[k]
                    for j in range(n):
                        g[j] += xki * xk[j]
                for j in range(n):
                    shift[j] = max(shift[j], beta * g[j])
    for j in range(n):
        zs[j] = 0.0
    for k in range(d):
        numk = num[k]
        for j in range(n):
            numk[j] = 0.0
    # Column form: for each source token i, add w_ji x_i to every target j. The weights are
    # symmetric before normalization, so this vectorizes over j without reductions.
    if d == 3:
        x0 = x[0]
        x1 = x[1]
        x2 = x[2]
        n0 = num[0]
        n1 = num[1]
        n2 = num[2]
        for i in range(n):
            a0 = x0[i]
            a1 = x1[i]
            a2 = x2[i]
            for j in range(n):
                ej = fast_exp(beta * (a0 * x0[j] + a1 * x1[j] + a2 * x2[j]) - shift[j])
                zs[j] += ej
                n0[j] += ej * a0
                n1[j] += ej * a1
                n2[j] += ej * a2
    elif d == 2:
        x0 = x[0]
        x1 = x[1]
        n0 = num[0]
        n1 = num[1]
        for i in range(n):
            a0 = x0[i]
            a1 = x1[i]
            for j in range(n):
                ej = fast_exp(beta * (a0 * x0[j] + a1 * x1[j]) - shift[j])
                zs[j] += ej
                n0[j] += ej * a0
                n1[j] += ej * a1
    # generic d: passes over the tokens, four coordinates per pass
    k4 = d - d % 4
    for i in range(0 if (d == 2 or d == 3) else n):
        for j in range(n):
            g[j] = 0.0
        for k in range(0, k4, 4):
            a0 = x[k, i]
            a1 = x[k + 1, i]
            a2 = x[k + 2, i]
            a3 = x[k + 3, i]
            x0 = x[k]
            x1 = x[k + 1]
            x2 = x[k + 2]
            x3 = x[k + 3]
            for j in range(n):
                g[j] += a0 * x0[j] + a1 * x1[j] + a2 * x2[j] + a3 * x3[j]
        for k in range(k4, d):
            xki = x[k, i]
            xk = x[k]
            for j in range(n):
                g[j] += xki * xk[j]
        for j in range(n):
            ej = fast_exp(beta * g[j] - shift[j])
            e[j] = ej
            zs[j] += ej
        for k in range(d):
            xki = x[k, i]
            numk = num[k]
            for j in range(n):
                numk[j] += e[j] * xki
    if attn == 1:
        for j in range(n):
            zs[j] = ha / zs[j]
    else:
        for j in range(n):
            zs[j] = ha / n
    for k in range(d):
        xk = x[k]
        yk = y[k]
        numk = num[k]
        for j in range(n):
            yk[j] = xk[j] + zs[j] * numk[j]


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _normalize(x, nrm):
    """x[:, j] /= |x[:, j]| for every token; nrm: scratch (N,)."""
    d, n = x.shape
    for j in range(n):
        nrm[j] = 0.0
    for k in range(d):
        xk = x[k]
        for j in range(n):
            nrm[j] += xk[j] * xk[j]
    for j in range(n):
        nrm[j] = 1.0 / math.sqrt(nrm[j])
    for k in range(d):
        xk = x[k]
        for j in range(n):
            xk[j] *= nrm[j]


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _copy(src, dst):
    d, n = src.shape
    for k in range(d):
        for j in range(n):
            dst[k, j] = src[k, j]


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _layer(x, w, bfix, bvfix, p, buf, ubuf, g, e, zs, num, shift):
    """Advance one realization (x: (d, N), in place) by one layer; w: its normals block."""
    d, n = x.shape
    use_attn = p.attn != 0 and p.alpha != 0.0
    use_mlp = p.sn != 0.0
    ha = p.h * p.alpha
    if not p.strang:
        if use_attn:
            _attention(x, buf, ha, p.beta, p.attn, p.sphere, g, e, zs, num, shift)
        else:
            _copy(x, buf)
        if use_mlp:
            mlp_substep(buf, x, w, 0, bfix, bvfix, p.h, p, ubuf)
        else:
            _copy(buf, x)
        if p.sphere:
            _normalize(x, g)
        return
    # Strang / Macaron: MLP(h/2) -> attention(h) -> MLP(h/2), each sub-block followed by Norm
    # (on the sphere) so that every sub-step maps S^{d-1} to itself.
    half = 0.5 * p.h
    p_half = source_block_size(d, p.m, p.fixed) * (n if p.independent else 1)
    if use_mlp:
        mlp_substep(x, buf, w, 0, bfix, bvfix, half, p, ubuf)
        if p.sphere:
            _normalize(buf, g)
    else:
        _copy(x, buf)
    if use_attn:
        _attention(buf, x, ha, p.beta, p.attn, p.sphere, g, e, zs, num, shift)
        if p.sphere:
            _normalize(x, g)
    else:
        _copy(buf, x)
    if use_mlp:
        mlp_substep(x, buf, w, p_half, bfix, bvfix, half, p, ubuf)
        if p.sphere:
            _normalize(buf, g)
        _copy(buf, x)


@njit(cache=True, nogil=True, error_model="numpy")
def advance_core(
    xs,
    r0,
    r1,
    noise,
    src,
    bfix,
    bvfix,
    fsrc,
    n_layers,
    step0,
    p,
    frames,
    stride,
    separation,
    logsum,
):
    """Advance realizations r0..r1-1 of ``xs`` (R, d, N) by ``n_layers`` layers, in place.

    ``noise``: (n_layers, rows, Q) normals, realization r uses row ``src[r - r0]``;
    ``bfix``/``bvfix``: (Rf, S, m*d)/(Rf, S, m) fixed hidden weights, row ``fsrc[r]``;
    ``p``: :class:`LayerParams`. After global step ``step0 + k + 1`` divisible by ``stride`` the
    state is written to ``frames[(step0 + k + 1) // stride, r]`` as (N, d).

    Benettin mode (``separation > 0``, N = 2): after each layer ``logsum[r]`` gains
    log(new/old distance of the two tokens) and token 1 is put back at distance
    ``separation`` from token 0 along their difference (then normalized). One core for both
    uses keeps the JIT compile time down.
    """
    _, d, n = xs.shape
    buf = np.empty((d, n))
    ubuf = np.empty(p.m * min(n, MLP_TILE))
    g = np.empty(n)
    e = np.empty(n)
    zs = np.empty(n)
    num = np.empty((d, n))
    shift = np.empty(n)
    for r in range(r0, r1):
        x = xs[r]
        row = src[r - r0]
        bf = bfix[fsrc[r]]
        bvf = bvfix[fsrc[r]]
        for k in range(n_layers):
            if separation > 0.0:
                logsum[r] -= 0.5 * math.log(_pair_distance_sq(x))
            _layer(x, noise[k, row], bf, bvf, p, buf, ubuf, g, e, zs, num, shift)
            if separation > 0.0:
                _renormalize_pair(x, separation, logsum, r)
            step = step0 + k + 1
            if step % stride == 0:
                fr = frames[step // stride, r]
                for j in range(n):
                    for kk in range(d):
                        fr[j, kk] = x[kk, j]


@njit(cache=True, nogil=True, error_model="numpy")
def _pair_distance_sq(x):
    """|x_1 - x_0|^2 for a (d, 2) state."""
    acc = 0.0
    for kk in range(x.shape[0]):
        acc += (x[kk, 1] - x[kk, 0]) ** 2
    return acc


@njit(cache=True, nogil=True, error_model="numpy")
def _renormalize_pair(x, separation, logsum, r):
    """Benettin step on a (d, 2) state: log growth, then y <- normalize(x + sep (y-x)/|y-x|)."""
    d = x.shape[0]
    new = math.sqrt(_pair_distance_sq(x))
    logsum[r] += math.log(new)
    scale = separation / new
    nrm = 0.0
    for kk in range(d):
        v = x[kk, 0] + scale * (x[kk, 1] - x[kk, 0])
        x[kk, 1] = v
        nrm += v * v
    nrm = 1.0 / math.sqrt(nrm)
    for kk in range(d):
        x[kk, 1] *= nrm


def warmup() -> None:
    """Compile (or load from the numba cache) the jitted cores: the one :func:`advance_core`
    signature the drivers use, here in Benettin mode on two tokens."""
    n, d = 2, 3
    # relu, h = 0.01, sigma_n = sigma_w = 1, sigma_b = 0, SA with alpha = beta = 1, m = 2
    p = LayerParams(1, 0.01, 1.0, 1.0, 0.0, 1, 1.0, 1.0, False, False, False, True, 2)
    xs = np.eye(d)[None, :, :n].copy()  # (R, d, N): tokens e_0 and e_1
    rows = np.zeros(1, dtype=np.int64)
    noise = np.zeros((1, 1, block_size(p, n, d)))
    no_fixed = np.zeros((1, 1, 1))
    frames = np.empty((2, 1, n, d))
    advance_core(
        xs, 0, 1, noise, rows, no_fixed, no_fixed, rows, 1, 0, p, frames, 1, 1e-3, np.zeros(1)
    )
