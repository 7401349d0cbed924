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

This module owns the layer's parameters (:class:`LayerParams`, validated by
:func:`layer_params`), the layout of its noise (:func:`noise_block_size`) and the jitted cores,
up to :func:`advance_core`, which advances a block of realizations through many layers. The
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
from typing import NamedTuple

import numpy as np
from numba import njit

from kernels.common.activations import LEAKY_SLOPE, activate, activation_id
from kernels.common.normals import FASTMATH_CONTRACT as _FM
from kernels.common.normals import fast_exp
from kernels.common.validation import choice, integer, real

__all__ = [
    "ATTN_CODE",
    "ATTN_KINDS",
    "HIDDEN_WEIGHTS",
    "MANIFOLDS",
    "NOISE_SHARINGS",
    "SPLITTINGS",
    "LayerParams",
    "advance_core",
    "block_size",
    "layer_params",
    "noise_block_size",
    "source_block_size",
    "warmup",
]

#: Attention kinds: self-attention, unnormalized self-attention, none.
ATTN_KINDS: tuple[str, ...] = ("sa", "usa", "off")
#: Integer code of each attention kind inside the jitted cores.
ATTN_CODE = {"off": 0, "sa": 1, "usa": 2}
#: MLP weights shared by all tokens (common noise) or drawn per token (independent noise).
NOISE_SHARINGS: tuple[str, ...] = ("common", "independent")
#: Hidden weights B, b drawn fresh every layer, or fixed per run (A stays fresh).
HIDDEN_WEIGHTS: tuple[str, ...] = ("fresh", "fixed")
#: Attention then MLP then Norm, or MLP(h/2)·Norm, attention(h)·Norm, MLP(h/2)·Norm.
SPLITTINGS: tuple[str, ...] = ("lie_trotter", "strang")
#: With or without the Norm step.
MANIFOLDS: tuple[str, ...] = ("sphere", "euclidean")
#: Tokens per tile of the generic MLP loop (the tile's pre-activations stay in L1).
_MLP_TILE = 64


class LayerParams(NamedTuple):
    """Validated scalars of one layer, passed as one argument to the jitted cores.

    ``aid``: activation id; ``h``: step; ``sn``, ``sw``, ``sb``: :math:`\\sigma_n, \\sigma_w,
    \\sigma_b`; ``attn``: :data:`ATTN_CODE`; ``alpha``, ``beta``: attention strength and inverse
    temperature; ``independent``, ``fixed``, ``strang``, ``sphere``: the switches; ``m``: width.
    """

    aid: int
    h: float
    sn: float
    sw: float
    sb: float
    attn: int
    alpha: float
    beta: float
    independent: bool
    fixed: bool
    strang: bool
    sphere: bool
    m: int


def layer_params(
    *,
    dt: object,
    sigma_noise: object,
    activation: object,
    width: object,
    attn_kind: object,
    attn_strength: object,
    beta: object,
    sigma_w: object,
    sigma_b: object,
    noise_sharing: object = "common",
    hidden_weights: object = "fresh",
    splitting: object = "lie_trotter",
    manifold: object = "sphere",
) -> LayerParams:
    """Validate the model parameters of :func:`kernels.tokens.simulate` (``ValueError`` naming the
    parameter and its allowed range) and pack them for the cores."""
    return LayerParams(
        aid=activation_id(activation),
        h=real("dt", dt, 0.0, 10.0, lo_open=True),
        sn=real("sigma_noise", sigma_noise, 0.0, 1e3),
        sw=real("sigma_w", sigma_w, 0.0, 1e3),
        sb=real("sigma_b", sigma_b, 0.0, 1e3),
        attn=ATTN_CODE[choice("attn_kind", attn_kind, ATTN_KINDS)],
        alpha=real("attn_strength", attn_strength, -1e3, 1e3),
        beta=real("beta", beta, 0.0, 100.0),
        independent=choice("noise_sharing", noise_sharing, NOISE_SHARINGS) == "independent",
        fixed=choice("hidden_weights", hidden_weights, HIDDEN_WEIGHTS) == "fixed",
        strang=choice("splitting", splitting, SPLITTINGS) == "strang",
        sphere=choice("manifold", manifold, MANIFOLDS) == "sphere",
        m=integer("width", width, 1, 1 << 16),
    )


# ---------------------------------------------------------------------------------------------
# Noise layout
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def source_block_size(d: int, m: int, fixed: bool) -> int:
    """Normals of one noise source and MLP sub-step: B, b, A (``m(2d+1)``) or A only (``md``)."""
    return m * d if fixed else m * (2 * d + 1)


def _padded_block_size(
    n: int, d: int, m: int, independent: bool, fixed: bool, strang: bool, noisy: bool
) -> int:
    if not noisy:
        return 0
    q = (2 if strang else 1) * (n if independent else 1) * source_block_size(d, m, fixed)
    return q + (q & 1)


def noise_block_size(
    n_tokens: int,
    dim: int,
    width: int,
    *,
    noise_sharing: str = "common",
    hidden_weights: str = "fresh",
    splitting: str = "lie_trotter",
    sigma_noise: float = 1.0,
) -> int:
    """Normals drawn per layer and realization: ``halves * S * P``, rounded up to even.

    ``P = m(2d+1)`` (fresh) or ``m d`` (fixed), ``S = 1`` (common) or ``N`` (independent),
    ``halves = 2`` for Strang; 0 when ``sigma_noise == 0``.
    """
    independent = choice("noise_sharing", noise_sharing, NOISE_SHARINGS) == "independent"
    fixed = choice("hidden_weights", hidden_weights, HIDDEN_WEIGHTS) == "fixed"
    strang = choice("splitting", splitting, SPLITTINGS) == "strang"
    return _padded_block_size(n_tokens, dim, width, independent, fixed, strang, sigma_noise != 0.0)


def block_size(p: LayerParams, n: int, d: int) -> int:
    """:func:`noise_block_size` of validated parameters for N tokens in dimension d."""
    return _padded_block_size(n, d, p.m, p.independent, p.fixed, p.strang, p.sn != 0.0)


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
def _activate_inplace(aid, u, n):
    """u[:n] = s(u[:n]); the cheap kinked activations are inlined so the loop vectorizes."""
    if aid == 0:
        return
    if aid == 1:
        for j in range(n):
            v = u[j]
            u[j] = v if v > 0.0 else 0.0
    elif aid == 2:
        for j in range(n):
            v = u[j]
            u[j] = v if v > 0.0 else LEAKY_SLOPE * v
    else:
        for j in range(n):
            u[j] = activate(aid, u[j])


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _mlp_shared_pwl(y, z, bmat, bvec, amat, c, sw, sb, aid):
    """Fused z += c A s(σ_w B y + σ_b b) for d in {2, 3} and piecewise-linear s (linear, relu,
    leaky ReLU): s(v) = max(v, 0) + lo min(v, 0) reproduces ``activate`` exactly."""
    d, n = y.shape
    m = bvec.size
    lo = 1.0 if aid == 0 else (LEAKY_SLOPE if aid == 2 else 0.0)
    y0 = y[0]
    y1 = y[1]
    z0 = z[0]
    z1 = z[1]
    if d == 3:
        y2 = y[2]
        z2 = z[2]
        for l in range(m):
            bl = sb * bvec[l]
            b0 = sw * bmat[3 * l]
            b1 = sw * bmat[3 * l + 1]
            b2 = sw * bmat[3 * l + 2]
            a0 = c * amat[l]
            a1 = c * amat[m + l]
            a2 = c * amat[2 * m + l]
            for j in range(n):
                v = bl + b0 * y0[j] + b1 * y1[j] + b2 * y2[j]
                s = max(v, 0.0) + lo * min(v, 0.0)
                z0[j] += a0 * s
                z1[j] += a1 * s
                z2[j] += a2 * s
    else:
        for l in range(m):
            bl = sb * bvec[l]
            b0 = sw * bmat[2 * l]
            b1 = sw * bmat[2 * l + 1]
            a0 = c * amat[l]
            a1 = c * amat[m + l]
            for j in range(n):
                v = bl + b0 * y0[j] + b1 * y1[j]
                s = max(v, 0.0) + lo * min(v, 0.0)
                z0[j] += a0 * s
                z1[j] += a1 * s


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _mlp_shared(y, z, bmat, bvec, amat, c, sw, sb, aid, ubuf):
    """z = y + c A s(σ_w B y + σ_b b) for all tokens sharing (A, B, b); y, z: (d, N).

    ``bmat``: B flat (m*d, row-major (l, k)); ``bvec``: (m,); ``amat``: A flat (d*m, row-major
    (k, l)); ``ubuf``: flat scratch of size m*T for a tile of T = ubuf.size // m tokens.
    """
    d, n = y.shape
    m = bvec.size
    tile = ubuf.size // m
    for k in range(d):
        yk = y[k]
        zk = z[k]
        for j in range(n):
            zk[j] = yk[j]
    if aid <= 2 and (d == 2 or d == 3):
        _mlp_shared_pwl(y, z, bmat, bvec, amat, c, sw, sb, aid)
        return
    for j0 in range(0, n, tile):
        j1 = min(n, j0 + tile)
        nt = j1 - j0
        # pre-activations of the tile, row l = hidden unit l (slices keep the indices provably
        # in range so the token loops vectorize); then one activation pass over the tile
        for l in range(m):
            ul = ubuf[l * nt : (l + 1) * nt]
            bl = sb * bvec[l]
            if d == 3:
                b0 = sw * bmat[3 * l]
                b1 = sw * bmat[3 * l + 1]
                b2 = sw * bmat[3 * l + 2]
                y0 = y[0, j0:j1]
                y1 = y[1, j0:j1]
                y2 = y[2, j0:j1]
                for j in range(nt):
                    ul[j] = bl + b0 * y0[j] + b1 * y1[j] + b2 * y2[j]
            elif d == 2:
                b0 = sw * bmat[2 * l]
                b1 = sw * bmat[2 * l + 1]
                y0 = y[0, j0:j1]
                y1 = y[1, j0:j1]
                for j in range(nt):
                    ul[j] = bl + b0 * y0[j] + b1 * y1[j]
            else:
                for j in range(nt):
                    ul[j] = bl
                # four coordinates per pass: one load/store of u per four FMAs
                k4 = d - d % 4
                for k in range(0, k4, 4):
                    b0 = sw * bmat[l * d + k]
                    b1 = sw * bmat[l * d + k + 1]
                    b2 = sw * bmat[l * d + k + 2]
                    b3 = sw * bmat[l * d + k + 3]
                    y0 = y[k, j0:j1]
                    y1 = y[k + 1, j0:j1]
                    y2 = y[k + 2, j0:j1]
                    y3 = y[k + 3, j0:j1]
                    for j in range(nt):
                        ul[j] += b0 * y0[j] + b1 * y1[j] + b2 * y2[j] + b3 * y3[j]
                for k in range(k4, d):
                    bk = sw * bmat[l * d + k]
                    yk = y[k, j0:j1]
                    for j in range(nt):
                        ul[j] += bk * yk[j]
        _activate_inplace(aid, ubuf, m * nt)
        # accumulate A s into z
        if d == 3:
            z0 = z[0, j0:j1]
            z1 = z[1, j0:j1]
            z2 = z[2, j0:j1]
            for l in range(m):
                ul = ubuf[l * nt : (l + 1) * nt]
                a0 = c * amat[l]
                a1 = c * amat[m + l]
                a2 = c * amat[2 * m + l]
                for j in range(nt):
                    s = ul[j]
                    z0[j] += a0 * s
                    z1[j] += a1 * s
                    z2[j] += a2 * s
        elif d == 2:
            z0 = z[0, j0:j1]
            z1 = z[1, j0:j1]
            for l in range(m):
                ul = ubuf[l * nt : (l + 1) * nt]
                a0 = c * amat[l]
                a1 = c * amat[m + l]
                for j in range(nt):
                    s = ul[j]
                    z0[j] += a0 * s
                    z1[j] += a1 * s
        else:
            # four hidden units per pass: one load/store of z per four FMAs
            m4 = m - m % 4
            for k in range(d):
                zk = z[k, j0:j1]
                for l in range(0, m4, 4):
                    a0 = c * amat[k * m + l]
                    a1 = c * amat[k * m + l + 1]
                    a2 = c * amat[k * m + l + 2]
                    a3 = c * amat[k * m + l + 3]
                    u0 = ubuf[l * nt : (l + 1) * nt]
                    u1 = ubuf[(l + 1) * nt : (l + 2) * nt]
                    u2 = ubuf[(l + 2) * nt : (l + 3) * nt]
                    u3 = ubuf[(l + 3) * nt : (l + 4) * nt]
                    for j in range(nt):
                        zk[j] += a0 * u0[j] + a1 * u1[j] + a2 * u2[j] + a3 * u3[j]
                for l in range(m4, m):
                    ak = c * amat[k * m + l]
                    ul = ubuf[l * nt : (l + 1) * nt]
                    for j in range(nt):
                        zk[j] += ak * ul[j]


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _mlp_one_token(y, z, j, bmat, bvec, amat, c, sw, sb, aid, u):
    """Token j only, with its own weights (independent noise); u: scratch (m,)."""
    d = y.shape[0]
    m = bvec.size
    for l in range(m):
        acc = sb * bvec[l]
        for k in range(d):
            acc += sw * bmat[l * d + k] * y[k, j]
        u[l] = acc
    _activate_inplace(aid, u, m)
    for k in range(d):
        acc = 0.0
        for l in range(m):
            acc += amat[k * m + l] * u[l]
        z[k, j] = y[k, j] + c * acc


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _mlp(y, z, w, off, bfix, bvfix, hsub, p, ubuf):
    """One MLP sub-step of size ``hsub`` reading normals w[off:], y -> z (p: LayerParams)."""
    d, n = y.shape
    m = p.m
    md = m * d
    c = p.sn * math.sqrt(hsub / m)
    p1 = source_block_size(d, m, p.fixed)
    for s in range(n if p.independent else 1):
        base = off + s * p1
        if p.fixed:
            bmat, bvec, amat = bfix[s], bvfix[s], w[base : base + md]
        else:
            bmat = w[base : base + md]
            bvec = w[base + md : base + md + m]
            amat = w[base + md + m : base + p1]
        if p.independent:
            _mlp_one_token(y, z, s, bmat, bvec, amat, c, p.sw, p.sb, p.aid, ubuf[:m])
        else:
            _mlp_shared(y, z, bmat, bvec, amat, c, p.sw, p.sb, p.aid, ubuf)


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
            _mlp(buf, x, w, 0, bfix, bvfix, p.h, p, ubuf)
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
        _mlp(x, buf, w, 0, bfix, bvfix, half, p, ubuf)
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
        _mlp(x, buf, w, p_half, bfix, bvfix, half, p, ubuf)
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
    ubuf = np.empty(p.m * min(n, _MLP_TILE))
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
