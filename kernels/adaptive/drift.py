r"""Drift and noise increments of the continuous equations, for every path at once.

The structure-of-arrays form of :func:`kernels.adaptive.sde.coefficients` (spec §2.4–2.5,
sign convention of :mod:`kernels.adaptive.sde`): given the landscape rows of the work arrays
(:mod:`kernels.adaptive.soa_landscape`) and the Brownian increments ``wv[V_DW1]``,
``wv[V_DW2]``, :func:`drift_noise` writes the drift rows ``V_BT``/``V_BM``/``V_BV`` (θ, m, v)
and the noise-increment rows ``V_NT``/``V_NM``/``V_NV`` that :func:`kernels.adaptive.core.
euler_chunk` adds. Orders ``ode``, ``sde1`` and ``sme2`` (the order-2 drift
b0 + τ[a1 − ½((∇b0)b0 + ∂_t b0)] and the full noise, W2 switchable).
"""

from __future__ import annotations

import math

from numba import njit

from kernels.adaptive.discrete import ADAM, PYTORCH, RMSPROP, SGD
from kernels.adaptive.sde import (
    BALLISTIC,
    F_AUTHORS,
    F_DPRIME,
    F_VORDER,
    F_W2,
    ODE,
    P_C1,
    P_C2,
    P_EPS,
    P_FLOOR,
    P_O1,
    P_O2,
    P_TAU,
    SME2,
)
from kernels.adaptive.soa_landscape import (
    FASTMATH,
    M_A1,
    M_DSIG,
    M_HESS,
    M_JA,
    M_MCH,
    M_SIG,
    V_B0T,
    V_BM,
    V_BT,
    V_BV,
    V_D,
    V_DP,
    V_DW1,
    V_DW2,
    V_GRAD,
    V_HY,
    V_LDW,
    V_NM,
    V_NT,
    V_NV,
    V_R,
    V_SIGD,
    V_THIRD,
    V_TMP,
    V_Y,
)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def matvec_paths(wm, a, wv, src, dst, d, n):
    for i in range(d):
        for p in range(n):
            wv[dst, i, p] = 0.0
        for j in range(d):
            for p in range(n):
                wv[dst, i, p] += wm[a, i, j, p] * wv[src, j, p]


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def drift_noise(opt, regime, order, flags, par, t, x, d, n, wv, wm, lmat):
    """Rows V_BT/V_BM/V_BV (drift of θ, m, v) and V_NT/V_NM/V_NV (noise increments)."""
    tau, c1, c2, eps, vfloor = par[P_TAU], par[P_C1], par[P_C2], par[P_EPS], par[P_FLOOR]
    sq = math.sqrt(tau)
    ball = regime == BALLISTIC
    noisy = order != ODE
    sme2 = order == SME2
    grad, ldw = wv[V_GRAD], wv[V_LDW]
    bt, nt = wv[V_BT], wv[V_NT]
    if opt == SGD:
        if sme2:
            matvec_paths(wm, M_HESS, wv, V_GRAD, V_HY, d, n)
        for i in range(d):
            for p in range(n):
                bt[i, p] = -grad[i, p] - (0.5 * tau * wv[V_HY, i, p] if sme2 else 0.0)
                nt[i, p] = -sq * ldw[i, p] if noisy else 0.0
        return
    vi = d if opt == RMSPROP else 2 * d
    e_fac, gam, dgam, de = 1.0, 1.0, 0.0, 0.0
    if opt == ADAM:
        if sme2:
            q1, q2 = 1.0 - c1 * tau, 1.0 - c2 * tau
            p1 = q1 ** (t / tau + par[P_O1])
            p2 = q2 ** (t / tau + par[P_O2])
            g1, g2 = 1.0 - p1, 1.0 - p2
            dg1 = -p1 * math.log(q1) / tau if q1 > 0.0 else 0.0
            dg2 = -p2 * math.log(q2) / tau if q2 > 0.0 else 0.0
        else:
            g1, g2 = -math.expm1(-c1 * t), -math.expm1(-c2 * t)
            dg1, dg2 = c1 * math.exp(-c1 * t), c2 * math.exp(-c2 * t)
        gam = math.sqrt(g2) / g1
        dgam = gam * (0.5 * dg2 / g2 - dg1 / g1)
        e_fac = math.sqrt(g2)
        de = eps * 0.5 * dg2 / math.sqrt(g2)
    e = eps * e_fac
    approx = flags[F_DPRIME] == 1
    dd, dp, r = wv[V_D], wv[V_DP], wv[V_R]
    sigd = wv[V_SIGD]
    for i in range(d):
        for p in range(n):
            v = x[vi + i, p]
            rv = math.sqrt(max(v, vfloor))
            di = 1.0 / (rv + e)
            dd[i, p] = di
            dpi = -0.5 * di * di * di if approx else -0.5 / (rv * (rv + e) ** 2)
            dp[i, p] = dpi if v >= vfloor else 0.0
            g = grad[i, p]
            r[i, p] = (g * g if ball else 0.0) + sigd[i, p] - v
    bv, nv = wv[V_BV], wv[V_NV]
    if opt == RMSPROP:
        for i in range(d):
            for p in range(n):
                bt[i, p] = -dd[i, p] * grad[i, p]
                bv[i, p] = c2 * r[i, p]
                nt[i, p] = -(sq if ball else 1.0) * dd[i, p] * ldw[i, p] if noisy else 0.0
                nv[i, p] = 0.0
        if sme2:
            rmsprop_sme2(ball, flags, tau, c2, d, n, x, vi, wv, wm, lmat)
        return
    m = x[d : 2 * d]
    bm, nm = wv[V_BM], wv[V_NM]
    b0t = wv[V_B0T]
    for i in range(d):
        for p in range(n):
            b0t[i, p] = -gam * m[i, p] * dd[i, p]
            bt[i, p] = b0t[i, p]
            bm[i, p] = c1 * (grad[i, p] - m[i, p])
            bv[i, p] = c2 * r[i, p]
            nt[i, p] = 0.0
            nm[i, p] = (sq if ball else 1.0) * c1 * ldw[i, p] if noisy else 0.0
            nv[i, p] = 0.0
    if not sme2:
        return
    matvec_paths(wm, M_HESS, wv, V_B0T, V_HY, d, n)
    matvec_paths(wm, M_DSIG, wv, V_B0T, V_TMP, d, n)  # ∇Σ_d b0θ (0 for constant Σ)
    pt = flags[F_VORDER] == PYTORCH
    for i in range(d):
        for p in range(n):
            b0m, b0v, mi = bm[i, p], bv[i, p], m[i, p]
            a1t = -gam * c1 * (grad[i, p] - mi) * dd[i, p]
            if pt:
                a1t += -gam * c2 * mi * dp[i, p] * r[i, p]
            jt = -gam * dd[i, p] * b0m - gam * mi * dp[i, p] * b0v
            jm = c1 * wv[V_HY, i, p] - c1 * b0m
            acc = wv[V_TMP, i, p]
            jv = c2 * (2.0 * grad[i, p] * wv[V_HY, i, p] + acc) - c2 * b0v
            dtb = -mi * (dgam * dd[i, p] - gam * dd[i, p] * dd[i, p] * de)
            bt[i, p] += tau * (a1t - 0.5 * (jt + dtb))
            bm[i, p] += tau * (-0.5 * jm)
            bv[i, p] += tau * (-0.5 * jv)
            nv[i, p] = sq * 2.0 * c2 * grad[i, p] * wv[V_LDW, i, p]
    if flags[F_W2] == 1:
        add_w2(wm, wv, sq * c2, d, n)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def add_w2(wm, wv, scale, d, n):
    for i in range(d):
        for j in range(d):
            for p in range(n):
                wv[V_NV, i, p] += scale * wm[M_MCH, i, j, p] * wv[V_DW2, j, p]


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def rmsprop_sme2(ball, flags, tau, c2, d, n, x, vi, wv, wm, lmat):
    """Order-2 drift and noise of RMSprop (ballistic, or batch-equivalent with constant Σ)."""
    sq = math.sqrt(tau)
    grad, dd, dp, r, sigd = wv[V_GRAD], wv[V_D], wv[V_DP], wv[V_R], wv[V_SIGD]
    bt, bv, nt, nv, ldw = wv[V_BT], wv[V_BV], wv[V_NT], wv[V_NV], wv[V_LDW]
    for i in range(d):
        for p in range(n):
            wv[V_Y, i, p] = dd[i, p] * grad[i, p]
    matvec_paths(wm, M_HESS, wv, V_Y, V_HY, d, n)
    matvec_paths(wm, M_DSIG, wv, V_Y, V_TMP, d, n)  # ∇Σ_d D∇f (0 for constant Σ)
    hy = wv[V_HY]
    if ball:
        pt = flags[F_VORDER] == PYTORCH
        for i in range(d):
            for p in range(n):
                g = grad[i, p]
                b1t = -0.5 * (dd[i, p] * hy[i, p] - c2 * dp[i, p] * g * r[i, p])
                acc = wv[V_TMP, i, p]
                b1v = c2 * g * hy[i, p] + 0.5 * c2 * acc + 0.5 * c2 * c2 * r[i, p]
                if pt:
                    b1t += -c2 * dp[i, p] * (g * g * g + 3.0 * g * sigd[i, p] - x[vi + i, p] * g)
                bt[i, p] += tau * b1t
                bv[i, p] += tau * b1v
                nv[i, p] = sq * 2.0 * c2 * g * ldw[i, p]
        if flags[F_W2] == 1:
            add_w2(wm, wv, sq * c2, d, n)
        return
    authors = flags[F_AUTHORS] == 1
    f3 = -1.0 if authors else 0.25
    hc = c2 if authors else 1.0
    for i in range(d):
        for p in range(n):
            g = grad[i, p]
            bt[i, p] += tau * (
                -0.5 * (dd[i, p] * hy[i, p] - c2 * dp[i, p] * g * r[i, p])
                + f3 * dd[i, p] ** 3 * sigd[i, p] * wv[V_THIRD, i, p]
            )
            bv[i, p] += tau * (c2 * g * g + 0.5 * c2 * c2 * r[i, p])
            nv[i, p] = 2.0 * tau * c2 * g * ldw[i, p]
    # JA = −D H A with A = DΣD; A1 = −½hc(JA + JAᵀ) − ½ Σ_k r_k ∂A/∂u_k
    sig, ja, a1 = wm[M_SIG], wm[M_JA], wm[M_A1]
    for i in range(d):
        for j in range(d):
            for p in range(n):
                acc = 0.0
                for k in range(d):
                    acc += wm[M_HESS, i, k, p] * dd[k, p] * sig[k, j, p] * dd[j, p]
                ja[i, j, p] = -dd[i, p] * acc
    for i in range(d):
        for j in range(d):
            for p in range(n):
                s_ij = (
                    sig[i, j, p]
                    * c2
                    * (r[i, p] * dp[i, p] * dd[j, p] + dd[i, p] * dp[j, p] * r[j, p])
                )
                a1[i, j, p] = -0.5 * hc * (ja[i, j, p] + ja[j, i, p]) - 0.5 * s_ij
    # θ-noise −(D L + (τ/2) A1 (D L)^{−T}) dW1, (D L)^{−T} = D^{−1} L^{−T} (L^{−T} = lmat[3])
    for i in range(d):
        for p in range(n):
            nt[i, p] = -dd[i, p] * ldw[i, p]
        for j in range(d):
            for p in range(n):
                corr = 0.0
                for k in range(d):
                    corr += a1[i, k, p] / dd[k, p] * lmat[3, k, j]
                nt[i, p] -= 0.5 * tau * corr * wv[V_DW1, j, p]
    if flags[F_W2] == 1:
        add_w2(wm, wv, sq * c2, d, n)
