"""Setup shared by the Adaptive SGD kernel tests (``tests.kernels.adaptive_helpers``)."""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from kernels.adaptive import landscapes as lands
from kernels.adaptive import sde as sde


def pointwise(
    opt,
    regime,
    order,
    *,
    tau,
    c1=1.0,
    c2=1.0,
    eps=0.1,
    v_order=0,
    w2=1,
    d_prime=0,
    authors=0,
    v_floor=0.0,
    landscape="quadratic",
    A=((1.0,),),
    noise_std=0.0,
    gradient_noise="shifted",
    dim=None,
):
    """(drift, diffusion) callables f(t, x), G(t, x) from the per-path coefficients."""
    th_dim = dim if dim is not None else np.atleast_2d(A).shape[0]
    th_dim = None if landscape in ("linreg", "double_well") else th_dim
    code, lmat, lvec, d = lands.build_landscape(
        landscape,
        th_dim,
        noise_std=noise_std,
        A=A if landscape == "quadratic" else None,
        gradient_noise=gradient_noise,
    )
    offsets = (1.0, 1.0) if v_order else (2.0, 1.0)
    par = np.array([tau, c1, c2, eps, v_floor, *offsets])
    flags = np.array([w2, v_order, d_prime, authors], dtype=np.int64)
    ns = sde.state_size(opt, d)
    work = sde.make_work(d)

    def both(t, x):
        b, g = np.zeros(ns), np.zeros((ns, 2 * d))
        sde.coefficients(
            code,
            opt,
            regime,
            order,
            flags,
            par,
            lmat,
            lvec,
            np.ascontiguousarray(x, dtype=np.float64),
            float(t),
            b,
            g,
            work,
        )
        return b, g

    return (lambda t, x: both(t, x)[0]), (lambda t, x: both(t, x)[1])


def ode_solution(opt, order, x0, t0, t1, **kw):
    """State at t1 of dx/dt = b(x, t) from the pointwise drift, by DOP853 at rtol 1e-12."""
    drift, _ = pointwise(opt, sde.BALLISTIC, order, **kw)
    sol = solve_ivp(drift, (t0, t1), np.asarray(x0, float), rtol=1e-12, atol=1e-13, method="DOP853")
    return sol.y[:, -1]
