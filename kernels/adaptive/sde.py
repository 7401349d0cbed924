r"""Continuous equations of SGD, RMSprop and Adam, pointwise: codes and jitted coefficients.

Spec ``models/adaptive.md`` §2.3–§2.5. The state is x = θ (SGD), (θ, v) (RMSprop; u = η²v in
the batch-equivalent regime) or (θ, m, v) (Adam). :func:`coefficients` writes the drift b(x, t)
and the diffusion G(x, t) (n_state × 2d) acting on (dW1, dW2);
:func:`kernels.adaptive.core.euler_chunk` integrates :math:`x \leftarrow x + b\,h + G\,\Delta W`
on the substep grid h = τ/n_sub (its drift and noise rows, :mod:`kernels.adaptive.drift`, are
this module's equations for every path at once).

Sign convention [derived]: the chain's noise is :math:`z=+\Sigma^{1/2}\xi` with
:math:`\xi\sqrt\tau=\sum\Delta W_1` (see :mod:`kernels.adaptive.discrete`), so the θ-noise
is :math:`-D\Sigma^{1/2}dW_1` and the v-noise :math:`+2c_2\,\mathrm{diag}(\nabla f)\Sigma^{1/2}
dW_1`. That is the spec's system with :math:`W_1\to-W_1`: the same law, and with it the chain and
the SDE are coupled path by path. (For Adam the spec's v-noise sign
:math:`-2c_2\mathrm{diag}(\nabla f)\Sigma^{1/2}dW_1` next to the m-noise :math:`+c_1\Sigma^{1/2}
dW_1` gives the wrong sign of Cov(Δm, Δv); this moment-matched version fixes it.)

Orders: ``ode`` (b0 only, no noise), ``sde1`` (b0 plus the leading noise), ``sme2`` (the
order-2 drift b0 + τ[a1 − ½((∇b0)b0 + ∂_t b0)], the full noise, W2 switchable).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.adaptive.discrete import ADAM, PYTORCH, RMSPROP, SGD
from kernels.adaptive.landscapes import (
    A1,
    AMAT,
    B0T,
    CHOL,
    DD,
    DP,
    DSIG,
    GRAD,
    HESS,
    HY,
    JA,
    MCH,
    N_MAT,
    N_VEC,
    RV,
    SIG,
    SIGD,
    THIRD,
    YV,
    evaluate,
)

BALLISTIC, BATCH_EQUIVALENT = 0, 1
REGIMES = {"ballistic": BALLISTIC, "batch_equivalent": BATCH_EQUIVALENT}
ODE, SDE1, SME2 = 0, 1, 2
ORDERS = {"ode": ODE, "sde1": SDE1, "sme2": SME2}
# flags: [w2 on, v_order, d_prime approx, authors' b1 coefficients]
F_W2, F_VORDER, F_DPRIME, F_AUTHORS = 0, 1, 2, 3
# params: [tau, c1, c2, eps, v_floor, clock offset 1, clock offset 2]
P_TAU, P_C1, P_C2, P_EPS, P_FLOOR, P_O1, P_O2 = 0, 1, 2, 3, 4, 5, 6


def state_size(opt: int, d: int) -> int:
    """Number of state coordinates: d, 2d or 3d."""
    return d * (1 if opt == SGD else 2 if opt == RMSPROP else 3)


def make_work(d: int) -> tuple[np.ndarray, np.ndarray]:
    """Scratch arrays ``(wv, wm)`` of :func:`coefficients` (rows named in :mod:`.landscapes`)."""
    return np.zeros((N_VEC, d)), np.zeros((N_MAT, d, d))


@njit(cache=True, nogil=True, inline="always")
def _matvec(wm: np.ndarray, a: int, wv: np.ndarray, x: int, out: int, d: int) -> None:
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += wm[a, i, j] * wv[x, j]
        wv[out, i] = acc


@njit(cache=True, nogil=True)
def coefficients(
    code: int,
    opt: int,
    regime: int,
    order: int,
    flags: np.ndarray,
    par: np.ndarray,
    lmat: np.ndarray,
    lvec: np.ndarray,
    x: np.ndarray,
    t: float,
    b: np.ndarray,
    gmat: np.ndarray,
    work: tuple[np.ndarray, np.ndarray],
) -> None:
    """Drift ``b`` (n_state) and diffusion ``gmat`` (n_state, 2d) at state ``x``, time ``t``.

    ``work`` is :func:`make_work` (d): scratch arrays, so the hot loop allocates nothing.
    """
    ns = x.shape[0]
    d = gmat.shape[1] // 2
    tau, c1, c2, eps, vfloor = par[P_TAU], par[P_C1], par[P_C2], par[P_EPS], par[P_FLOOR]
    sq = math.sqrt(tau)
    use_w2 = flags[F_W2] == 1
    wv, wm = work
    evaluate(code, x, d, lmat, lvec, wv, wm, order == SME2 and use_w2)
    for i in range(ns):
        b[i] = 0.0
        for j in range(2 * d):
            gmat[i, j] = 0.0
    if opt == SGD:
        for i in range(d):
            b[i] = -wv[GRAD, i]
            if order == SME2:  # −∇(τ/4 |∇f|²) = −(τ/2) H∇f
                acc = 0.0
                for j in range(d):
                    acc += wm[HESS, i, j] * wv[GRAD, j]
                b[i] -= 0.5 * tau * acc
            if order != ODE:
                for j in range(d):
                    gmat[i, j] = -sq * wm[CHOL, i, j]
        return
    # the second-moment state and its preconditioner D(v) = 1/(√v + e), D' = dD/dv
    vi = d if opt == RMSPROP else 2 * d
    e_fac = 1.0
    gam = 1.0
    dgam = 0.0
    de = 0.0
    if opt == ADAM:
        if order == SME2:  # clocks that match the discrete factors exactly (spec §2.5)
            q1 = 1.0 - c1 * tau
            q2 = 1.0 - c2 * tau
            p1 = q1 ** (t / tau + par[P_O1])
            p2 = q2 ** (t / tau + par[P_O2])
            g1 = 1.0 - p1
            g2 = 1.0 - p2
            dg1 = -p1 * math.log(q1) / tau if q1 > 0.0 else 0.0
            dg2 = -p2 * math.log(q2) / tau if q2 > 0.0 else 0.0
        else:
            g1 = -math.expm1(-c1 * t)
            g2 = -math.expm1(-c2 * t)
            dg1 = c1 * math.exp(-c1 * t)
            dg2 = c2 * math.exp(-c2 * t)
        gam = math.sqrt(g2) / g1
        dgam = gam * (0.5 * dg2 / g2 - dg1 / g1)
        e_fac = math.sqrt(g2)
        de = eps * 0.5 * dg2 / math.sqrt(g2)
    e = eps * e_fac
    for i in range(d):
        v = x[vi + i]
        vv = max(v, vfloor)
        rv = math.sqrt(vv)
        wv[DD, i] = 1.0 / (rv + e)
        if v < vfloor:
            wv[DP, i] = 0.0
        elif flags[F_DPRIME] == 1:
            wv[DP, i] = -0.5 * wv[DD, i] ** 3
        else:
            wv[DP, i] = -0.5 / (rv * (rv + e) ** 2)
    ball = regime == BALLISTIC
    # r: the v-drift's bracket, ∇f² + Σ_d − v (ballistic) or Σ_d − u (batch-equivalent)
    for i in range(d):
        wv[RV, i] = (wv[GRAD, i] * wv[GRAD, i] if ball else 0.0) + wv[SIGD, i] - x[vi + i]
    if opt == RMSPROP:
        for i in range(d):
            b[i] = -wv[DD, i] * wv[GRAD, i]
            b[d + i] = c2 * wv[RV, i]
            if order != ODE:
                for j in range(d):
                    gmat[i, j] = -(sq if ball else 1.0) * wv[DD, i] * wm[CHOL, i, j]
        if order != SME2:
            return
        for i in range(d):
            wv[YV, i] = wv[DD, i] * wv[GRAD, i]
        _matvec(wm, HESS, wv, YV, HY, d)
        if ball:
            for i in range(d):
                b1t = -0.5 * (wv[DD, i] * wv[HY, i] - c2 * wv[DP, i] * wv[GRAD, i] * wv[RV, i])
                acc = 0.0
                for j in range(d):
                    acc += wm[DSIG, i, j] * wv[YV, j]
                b1v = c2 * wv[GRAD, i] * wv[HY, i] + 0.5 * c2 * acc + 0.5 * c2 * c2 * wv[RV, i]
                if flags[F_VORDER] == PYTORCH:
                    gi = wv[GRAD, i]
                    b1t += -c2 * wv[DP, i] * (gi**3 + 3.0 * gi * wv[SIGD, i] - x[vi + i] * gi)
                b[i] += tau * b1t
                b[d + i] += tau * b1v
                for j in range(d):
                    gmat[d + i, j] = sq * 2.0 * c2 * wv[GRAD, i] * wm[CHOL, i, j]
                    if use_w2:
                        gmat[d + i, d + j] = sq * c2 * wm[MCH, i, j]
            return
        # batch-equivalent order 2, constant Σ (spec §2.4, moment-matching form)
        authors = flags[F_AUTHORS] == 1
        f3 = -1.0 if authors else 0.25
        hc = c2 if authors else 1.0
        for i in range(d):
            b[i] += tau * (
                -0.5 * (wv[DD, i] * wv[HY, i] - c2 * wv[DP, i] * wv[GRAD, i] * wv[RV, i])
                + f3 * wv[DD, i] ** 3 * wv[SIGD, i] * wv[THIRD, i]
            )
            b[d + i] += tau * (c2 * wv[GRAD, i] * wv[GRAD, i] + 0.5 * c2 * c2 * wv[RV, i])
        # A = DΣD, J = −DH, A1 = −½hc(JA + AJᵀ) − ½ Σ_k r_k ∂A/∂u_k (r_k = c2(Σ_d − u)_k)
        for i in range(d):
            for j in range(d):
                wm[AMAT, i, j] = wv[DD, i] * wm[SIG, i, j] * wv[DD, j]
        for i in range(d):
            for j in range(d):
                acc = 0.0
                for k in range(d):
                    acc += -wv[DD, i] * wm[HESS, i, k] * wm[AMAT, k, j]
                wm[JA, i, j] = acc
        for i in range(d):
            for j in range(d):
                s_ij = wm[SIG, i, j] * (
                    c2 * wv[RV, i] * wv[DP, i] * wv[DD, j] + wv[DD, i] * wv[DP, j] * c2 * wv[RV, j]
                )
                wm[A1, i, j] = -0.5 * hc * (wm[JA, i, j] + wm[JA, j, i]) - 0.5 * s_ij
        for i in range(d):
            for j in range(d):
                corr = 0.0
                for k in range(d):
                    corr += wm[A1, i, k] / wv[DD, k] * lmat[3, k, j]
                gmat[i, j] = -(wv[DD, i] * wm[CHOL, i, j] + 0.5 * tau * corr)
                gmat[d + i, j] = 2.0 * tau * c2 * wv[GRAD, i] * wm[CHOL, i, j]
                if use_w2:
                    gmat[d + i, d + j] = sq * c2 * wm[MCH, i, j]
        return
    # Adam: x = (θ, m, v)
    m = x[d : 2 * d]
    for i in range(d):
        wv[B0T, i] = -gam * m[i] * wv[DD, i]
        b[i] = wv[B0T, i]
        b[d + i] = c1 * (wv[GRAD, i] - m[i])
        b[2 * d + i] = c2 * wv[RV, i]
        if order != ODE:
            for j in range(d):
                gmat[d + i, j] = (sq if ball else 1.0) * c1 * wm[CHOL, i, j]
    if order != SME2:
        return
    _matvec(wm, HESS, wv, B0T, HY, d)
    for i in range(d):
        b0m = b[d + i]
        b0v = b[2 * d + i]
        a1t = -gam * c1 * (wv[GRAD, i] - m[i]) * wv[DD, i]
        if flags[F_VORDER] == PYTORCH:
            a1t += -gam * c2 * m[i] * wv[DP, i] * wv[RV, i]
        jt = -gam * wv[DD, i] * b0m - gam * m[i] * wv[DP, i] * b0v
        jm = c1 * wv[HY, i] - c1 * b0m
        acc = 0.0
        for j in range(d):
            acc += wm[DSIG, i, j] * wv[B0T, j]
        jv = c2 * (2.0 * wv[GRAD, i] * wv[HY, i] + acc) - c2 * b0v
        dtb = -m[i] * (dgam * wv[DD, i] - gam * wv[DD, i] * wv[DD, i] * de)
        b[i] += tau * (a1t - 0.5 * (jt + dtb))
        b[d + i] += tau * (-0.5 * jm)
        b[2 * d + i] += tau * (-0.5 * jv)
        for j in range(d):
            gmat[2 * d + i, j] = sq * 2.0 * c2 * wv[GRAD, i] * wm[CHOL, i, j]
            if use_w2:
                gmat[2 * d + i, d + j] = sq * c2 * wm[MCH, i, j]


def warmup() -> None:
    """Compile :func:`coefficients` on tiny inputs (every optimizer and order)."""
    from kernels.adaptive.landscapes import build_landscape

    code, lmat, lvec, d = build_landscape("quadratic", None, noise_std=0.5)
    par = np.array([0.1, 1.0, 0.5, 0.1, 0.1, 2.0, 1.0])
    flags = np.array([1, 0, 0, 0], dtype=np.int64)
    for opt in (SGD, RMSPROP, ADAM):
        ns = state_size(opt, d)
        for order in (ODE, SDE1, SME2):
            coefficients(
                code,
                opt,
                BALLISTIC,
                order,
                flags,
                par,
                lmat,
                lvec,
                np.ones(ns),
                0.5,
                np.zeros(ns),
                np.zeros((ns, 2 * d)),
                make_work(d),
            )
