r"""The MLP of one token layer, jitted: the common noise (spec ``models/tokens.md`` §2).

One MLP sub-step of size :math:`h_{\rm sub}` (h for Lie–Trotter, h/2 twice for Strang) maps

.. math:: z_i = y_i + \sigma_n\sqrt{h_{\rm sub}/m}\,A\,s(\sigma_w B y_i + \sigma_b b)

with Gaussian weights read from the layer's block of normals (layout in
:mod:`kernels.tokens.core`), shared by all tokens (common noise) or drawn per token
(independent noise) [literature; Shalova arXiv:2608.16664]. Agazzi, Bruno, Mosig García,
Saviozzi, Romito, arXiv:2604.26898. :func:`mlp_substep` is called by the layer in
:mod:`kernels.tokens.core` and compiled with it (its ``warmup``).
"""

from __future__ import annotations

import math

from numba import njit

from kernels.common.activations import LEAKY_SLOPE, activate
from kernels.common.normals import FASTMATH_CONTRACT as _FM
from kernels.tokens.params import source_block_size

__all__ = ["MLP_TILE", "mlp_substep"]

#: Tokens per tile of the generic MLP loop (the tile's pre-activations stay in L1).
MLP_TILE = 64


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
def mlp_substep(y, z, w, off, bfix, bvfix, hsub, p, ubuf):
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
