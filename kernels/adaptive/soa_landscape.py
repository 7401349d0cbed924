"""Landscape quantities for every path at once (structure-of-arrays rows of ``wv``/``wm``).

Rows of the work arrays ``wv`` (NV, d, P) and ``wm`` (NM, d, d, P) shared by the vectorized
cores of :mod:`kernels.adaptive.core` and :mod:`kernels.adaptive.drift`; the landscapes are
those of :mod:`kernels.adaptive.landscapes` (spec §2.6).
"""

from __future__ import annotations

import math

from numba import njit

from kernels.adaptive.landscapes import LINREG, QUADRATIC, QUARTIC, _dw_parts

# vector rows
V_GRAD, V_THIRD, V_SIGD, V_D, V_DP, V_R, V_Y, V_HY, V_B0T, V_DW1, V_LDW, V_DW2, V_BT, V_BM = range(
    14
)
V_BV, V_NT, V_NM, V_NV, V_TMP = 14, 15, 16, 17, 18
NV = 19
# matrix rows
M_HESS, M_CHOL, M_MCH, M_DSIG, M_SIG, M_A1, M_JA = range(7)
NM = 7
FASTMATH = {"contract"}


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def landscape_soa(code, th, d, lmat, lvec, wv, wm, need_m, fill_const):
    """∇f, H, ∂³f, Σ_d, Σ^{1/2}, M^{1/2}, ∇Σ_d for every path (th: (≥d, P))."""
    n = th.shape[1]
    if code == QUADRATIC or code == QUARTIC:
        if fill_const:
            for i in range(d):
                for j in range(d):
                    acc = 0.0
                    for k in range(d):
                        acc += lmat[1, i, k] * lmat[1, j, k]
                    for p in range(n):
                        wm[M_HESS, i, j, p] = lmat[0, i, j]
                        wm[M_CHOL, i, j, p] = lmat[1, i, j]
                        wm[M_MCH, i, j, p] = lmat[2, i, j]
                        wm[M_DSIG, i, j, p] = 0.0
                        wm[M_SIG, i, j, p] = acc
                        if i == j:
                            wv[V_SIGD, i, p] = acc
                            wv[V_THIRD, i, p] = 0.0
        if code == QUADRATIC:
            for i in range(d):
                for p in range(n):
                    wv[V_GRAD, i, p] = 0.0
                for j in range(d):
                    a = lmat[0, i, j]
                    for p in range(n):
                        wv[V_GRAD, i, p] += a * th[j, p]
        else:
            for i in range(d):
                for p in range(n):
                    x = th[i, p]
                    wv[V_GRAD, i, p] = x * x * x + x
                    wm[M_HESS, i, i, p] = 3.0 * x * x + 1.0
                    wv[V_THIRD, i, p] = 6.0 * x
        return
    if code == LINREG:
        s2, sn2 = lvec[0], lvec[3]
        for p in range(n):
            rcr = 0.0
            for i in range(d):
                acc = 0.0
                for j in range(d):
                    acc += lmat[0, i, j] * (th[j, p] - lvec[1 + j])
                    wm[M_HESS, i, j, p] = lmat[0, i, j]
                wv[V_GRAD, i, p] = acc
                wv[V_THIRD, i, p] = 0.0
            for i in range(d):
                rcr += (th[i, p] - lvec[1 + i]) * wv[V_GRAD, i, p]
            for i in range(d):
                for j in range(d):
                    gi, gj = wv[V_GRAD, i, p], wv[V_GRAD, j, p]
                    wm[M_SIG, i, j, p] = s2 * (gi * gj + (rcr + sn2) * lmat[0, i, j])
                    wm[M_DSIG, i, j, p] = s2 * 2.0 * (gi * lmat[0, i, j] + gj * lmat[0, i, i])
                wv[V_SIGD, i, p] = wm[M_SIG, i, i, p]
            _chol_path(wm, M_SIG, M_CHOL, p, d, 1.0)
            if need_m:
                _chol_path(wm, M_SIG, M_MCH, p, d, 2.0)
        return
    s2 = lvec[0]
    for p in range(n):
        g1, h1, t1, g2, h2, t2 = _dw_parts(th[0, p], lvec)
        delta = 0.5 * abs(g1 - g2)
        sgn = 1.0 if g1 >= g2 else -1.0
        wv[V_GRAD, 0, p] = 0.5 * (g1 + g2)
        wm[M_HESS, 0, 0, p] = 0.5 * (h1 + h2)
        wv[V_THIRD, 0, p] = 0.5 * (t1 + t2)
        wm[M_SIG, 0, 0, p] = s2 * delta * delta
        wv[V_SIGD, 0, p] = s2 * delta * delta
        wm[M_CHOL, 0, 0, p] = math.sqrt(s2) * delta
        wm[M_DSIG, 0, 0, p] = s2 * delta * sgn * (h1 - h2)
        wm[M_MCH, 0, 0, p] = math.sqrt(2.0 * lvec[6]) * s2 * delta * delta


@njit(cache=True, nogil=True, error_model="numpy")
def _chol_path(wm, src, dst, p, d, square_scale):
    """Lower Cholesky of wm[src, :, :, p] (or of scale·(Σ∘Σ) if square_scale != 1) in place."""
    for j in range(d):
        s = _entry(wm, src, j, j, p, square_scale)
        for k in range(j):
            s -= wm[dst, j, k, p] ** 2
        piv = math.sqrt(s) if s > 1e-300 else 0.0
        wm[dst, j, j, p] = piv
        for i in range(j + 1, d):
            s2 = _entry(wm, src, i, j, p, square_scale)
            for k in range(j):
                s2 -= wm[dst, i, k, p] * wm[dst, j, k, p]
            wm[dst, i, j, p] = s2 / piv if piv > 0.0 else 0.0
        for i in range(j):
            wm[dst, i, j, p] = 0.0


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _entry(wm, src, i, j, p, square_scale):
    v = wm[src, i, j, p]
    return v if square_scale == 1.0 else square_scale * v * v
