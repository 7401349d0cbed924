r"""The public entry points of :mod:`kernels.adaptive`: the chain, the continuous equations, both.

:func:`simulate_optimizer` (the discrete chain in raw hyperparameters), :func:`simulate_sde`
(one continuous equation) and :func:`simulate_coupled` (the chain of a regime and several
continuous orders on one Brownian path) validate their arguments and run them through
:func:`kernels.adaptive.driver.run`. The facade :mod:`kernels.adaptive` re-exports them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels.adaptive import discrete as disc
from kernels.adaptive import landscapes as lands
from kernels.adaptive import sde as sde
from kernels.adaptive.driver import (
    MAX_PATHS,
    SDE_DEFAULTS,
    ChainHyper,
    Leg,
    Start,
    check_start,
    check_theta0,
    landscape_of,
    run,
    sde_setup,
)
from kernels.adaptive.landscapes import loss_many
from kernels.common.progress import ProgressFn
from kernels.common.validation import choice, integer, real, resolve_rng


def simulate_optimizer(
    optimizer: str,
    *,
    landscape: str,
    theta0: object,
    lr: float,
    n_steps: int,
    n_paths: int,
    rng: object,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    noise_std: float = 1.0,
    A: object = None,
    record_every: int = 1,
    gradient_noise: str = "shifted",
    v_order: str = "lagged",
    v0: object = 1.0,
    m0: object = 0.0,
    n_sub: int = 1,
    noise: object = None,
    noise_level: float = 0.0,
    progress: ProgressFn | None = None,
) -> dict[str, np.ndarray]:
    r"""Ensemble of the discrete optimizer in raw hyperparameters (spec §2.2).

    With :math:`g_k=\nabla f(\theta_k)+\Sigma^{1/2}(\theta_k)\xi_k`, :math:`\xi_k\sim N(0,I)`:

    .. math::

        \text{SGD: }\theta_{k+1}=\theta_k-\eta g_k;\qquad
        \text{RMSprop: }v_{k+1}=\beta_2v_k+(1-\beta_2)g_k^2,\
        \theta_{k+1}=\theta_k-\frac{\eta\,g_k}{\sqrt{v_k}+\epsilon};\\
        \text{Adam: }m_{k+1}=\beta_1m_k+(1-\beta_1)g_k,\
        \theta_{k+1}=\theta_k-\eta\frac{\sqrt{1-\beta_2^{k+1}}}{1-\beta_1^{k+2}}
        \frac{m_{k+1}}{\sqrt{v_k}+\epsilon\sqrt{1-\beta_2^{k+1}}}

    (lagged ordering; ``v_order="pytorch"`` uses :math:`v_{k+1}` in the θ-step and Adam's
    offsets k+1, k+1, as ``torch.optim``).

    Parameters
    ----------
    optimizer : {"sgd", "rmsprop", "adam"}
    landscape : {"quadratic", "linreg", "double_well", "quartic"}
        ``quadratic`` is :math:`\tfrac12\theta^\top A\theta`; see
        :mod:`kernels.adaptive.landscapes` for the others and their noise models.
    theta0 : (d,) or (n_paths, d) array
        Start.
    lr, beta1, beta2, eps : float
        η > 0, β1, β2 in [0, 1], ε ≥ 0.
    n_steps, n_paths : int
        Steps and paths.
    rng : int or numpy.random.Generator
        Seed or generator (ignored when ``noise`` is given).
    noise_std : float
        σ: the gradient noise is :math:`\Sigma=\sigma^2\hat\Sigma`.
    A : (d, d) array, optional
        Hessian of the quadratic (symmetric positive definite; default [[1, .5], [.5, 1]]).
    record_every : int
        Record every this many steps.
    gradient_noise : {"shifted", "isotropic"}
        Quadratic noise: shifted minimum (:math:`\Sigma=\sigma^2AA^\top`) or :math:`\sigma^2I`.
    v_order : {"lagged", "pytorch"}
        The authors' ordering or ``torch.optim``'s.
    v0, m0 : float or (n_paths, d) array
        Starting second and first moments (spec: 1 and 0; torch uses 0 and 0).
    n_sub : int
        Substeps per step of the Brownian path the noise is drawn from (common random numbers
        with :func:`simulate_sde` at ``dt = τ/n_sub``).
    noise : (n_steps, n_paths, d) array, optional
        Pre-drawn :math:`\xi` instead of ``rng``.
    noise_level : float
        α of the double well's noise mix.
    progress : callable, optional
        ``progress(fraction) -> bool``; False cancels (:mod:`kernels.common.progress`).

    Returns
    -------
    dict
        ``theta``, ``m``, ``v`` of shape (n_steps // record_every + 1, n_paths, d), ``loss``
        (records, n_paths) and ``steps`` (records,).

    Notes
    -----
    [paper] (the authors' public code); the PyTorch ordering follows ``torch.optim``.
    """
    opt = disc.OPTIMIZERS[choice("optimizer", optimizer, tuple(disc.OPTIMIZERS))]
    vo = disc.V_ORDERS[choice("v_order", v_order, tuple(disc.V_ORDERS))]
    n_steps = integer("n_steps", n_steps, 1, 10**8)
    n_paths = integer("n_paths", n_paths, 1, MAX_PATHS)
    record_every = integer("record_every", record_every, 1, n_steps)
    n_sub = integer("n_sub", n_sub, 1, 4096)
    lr = real("lr", lr, 0.0, 1e6, lo_open=True)
    beta1 = real("beta1", beta1, 0.0, 1.0)
    beta2 = real("beta2", beta2, 0.0, 1.0)
    eps = real("eps", eps, 0.0, 1e6)
    th0 = np.asarray(theta0, dtype=np.float64)
    land = landscape_of(locals(), th0.shape[-1] if th0.ndim else 1)
    d = land[3]
    theta = check_theta0(theta0, n_paths, d)
    rng_ = resolve_rng(rng) if noise is None else np.random.default_rng(0)
    xi = None
    if noise is not None:
        xi = np.asarray(noise, dtype=np.float64)
        if xi.shape != (n_steps, n_paths, d) or not np.all(np.isfinite(xi)):
            raise ValueError(f"noise must be finite with shape {(n_steps, n_paths, d)}")
        n_sub = 1
    out = run(
        opt=opt,
        v_order=vo,
        land=land,
        n_steps=n_steps,
        n_sub=n_sub,
        rec_every=record_every,
        rng=rng_,
        chain=ChainHyper(lr, beta1, beta2, eps),
        start=Start(
            theta,
            check_start(m0, "m0", theta.shape, -np.inf),
            check_start(v0, "v0", theta.shape, 0.0),
        ),
        legs=[],
        noise=xi,
        progress=progress,
    )
    out["loss"] = loss_many(land[0], out["theta"].reshape(-1, d), land[1], land[2]).reshape(
        out["theta"].shape[:2]
    )
    out["steps"] = np.arange(out["theta"].shape[0]) * record_every
    return out


def simulate_coupled(
    optimizer: str,
    *,
    regime: str,
    orders: tuple[str, ...],
    landscape: str,
    theta0: object,
    tau: float,
    n_sub: int,
    t_max: float,
    n_paths: int,
    rng: object,
    chain: bool = True,
    **options: Any,
) -> dict[str, Any]:
    r"""The chain of a regime and its continuous equations ``orders`` on one Brownian path
    (spec §2.3, §2.4, §2.8).

    The chain runs with :func:`kernels.adaptive.regime_hyperparameters` (ballistic
    :math:`\eta=\tau`; batch-equivalent :math:`\eta=\sqrt\tau`, noise :math:`\sigma_0/\eta`,
    :math:`u=\eta^2v`); each order is integrated by Euler–Maruyama with
    :math:`h=\tau/n_{sub}`, e.g. for RMSprop in the ballistic SME2

    .. math::

        d\theta=-D\nabla f\,dt+\tau b_1^\theta dt+\sqrt\tau D\Sigma^{1/2}dW_1,\quad
        dv=c_2(\nabla f^2+\Sigma_d-v)\,dt+\tau b_1^vdt
        +\sqrt\tau\left(-2c_2\,\mathrm{diag}(\nabla f)\Sigma^{1/2}dW_1+c_2M^{1/2}dW_2\right)

    with :math:`D=1/(\sqrt v+\epsilon)`; the chain's step k uses
    :math:`\xi_k=\sum_j\zeta_{k,j}/\sqrt{n_{sub}}` of the same normals
    :math:`\Delta W_1=\sqrt h\,\zeta`. Adam's equations start from the chain after two steps.

    Parameters
    ----------
    optimizer : {"sgd", "rmsprop", "adam"}
    regime : {"ballistic", "batch_equivalent"}
        SGD is ballistic only.
    orders : tuple of {"ode", "sde1", "sme2", "sme2_no_w2"}
        Continuous equations to run (``sme2_no_w2``: SME2 without the :math:`dW_2` term).
    landscape : {"quadratic", "linreg", "double_well", "quartic"}
    theta0 : (d,) or (n_paths, d) array
        Start of every path.
    tau : float
        SDE time per step, 0 < τ ≤ 16.
    n_sub : int
        Euler–Maruyama substeps per step.
    t_max : float
        Horizon; ``round(t_max / tau)`` steps.
    n_paths : int
        Paths.
    rng : int or numpy.random.Generator
        Seed or generator.
    chain : bool
        Run the chain too (False: the continuous equations alone).
    **options
        ``c1, c2`` (:math:`1-\beta_i=c_i\tau`), ``eps`` (ε or ε0), ``noise_std`` (σ or σ0),
        ``A``, ``gradient_noise``, ``v0`` (v0 ballistic, u0 batch-equivalent), ``m0``,
        ``w2``, ``v_order``, ``d_prime`` ("exact"/"approx"), ``b1_coeffs``
        ("derived"/"authors"), ``v_floor`` (default τ), ``record_every``, ``noise_level``,
        ``progress``.

    Returns
    -------
    dict
        ``t`` (records,), ``n_steps``, ``chain`` and one entry per order, each
        ``{"theta": (records, n_paths, d), "m", "v": same shape or None, "loss": (records,
        n_paths)}``; the chain's ``v`` is on the SDE's scale (u = η²v batch-equivalent).

    Notes
    -----
    [paper] the equations of the authors' public code; [literature] Malladi et al.'s
    batch-equivalent SDE1; [derived] the order-2 batch-equivalent terms, the exact D′, the
    kept :math:`c_2M^{1/2}dW_2` block and the sign of the v-noise (common random numbers).
    """
    unknown = set(options) - set(SDE_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)}")
    kw = {**SDE_DEFAULTS, **options}
    tau = real("tau", tau, 0.0, 16.0, lo_open=True)
    n_sub = integer("n_sub", n_sub, 1, 4096)
    t_max = real("t_max", t_max, 0.0, 1e4, lo_open=True)
    n_paths = integer("n_paths", n_paths, 1, MAX_PATHS)
    n_steps = max(1, round(t_max / tau))
    rec_every = integer("record_every", kw["record_every"], 1, n_steps)
    kw["tau"] = tau
    th0 = np.asarray(theta0, dtype=np.float64)
    land = landscape_of({**kw, "landscape": landscape}, th0.shape[-1] if th0.ndim else 1)
    code, d = land[0], land[3]
    theta = check_theta0(theta0, n_paths, d)
    legs: list[Leg] = []
    names = []
    setup = None
    for name in orders:
        order = "sme2" if name == "sme2_no_w2" else name
        setup = sde_setup(optimizer, regime, order, {**kw, "w2": kw["w2"] and name != "sme2_no_w2"})
        if setup["order"] == sde.SME2 and setup["reg"] == sde.BATCH_EQUIVALENT:
            if not lands.constant_sigma(code):
                raise ValueError(
                    "order 'sme2' in the batch_equivalent regime needs a constant noise "
                    "covariance (landscape 'quadratic' or 'quartic')"
                )
        if setup["opt"] == disc.ADAM and n_steps < 2:
            raise ValueError("Adam's continuous equations start after two steps: t_max >= 2 tau")
        names.append(name)
    if setup is None:
        setup = sde_setup(optimizer, regime, "sde1", kw)
    hp = setup["hp"]
    vs = hp["v_scale"]
    u0 = check_start(kw["v0"], "v0", theta.shape, 0.0)
    m0 = check_start(kw["m0"], "m0", theta.shape, -np.inf)
    n_rec = n_steps // rec_every + 1
    for name in names:
        order = "sme2" if name == "sme2_no_w2" else name
        s = sde_setup(optimizer, regime, order, {**kw, "w2": kw["w2"] and name != "sme2_no_w2"})
        parts = [theta] + ([m0] if s["opt"] == disc.ADAM else []) + ([u0] if s["opt"] else [])
        x0 = np.ascontiguousarray(np.concatenate(parts, axis=1))
        legs.append(
            Leg(
                s["opt"],
                s["reg"],
                s["order"],
                s["flags"],
                s["par"],
                x0,
                n_rec,
                (hp["lr"], hp["beta1"], hp["beta2"], hp["eps"], vs),
            )
        )
    rng_ = resolve_rng(rng)
    raw = run(
        opt=setup["opt"],
        v_order=setup["vo"],
        land=land,
        n_steps=n_steps,
        n_sub=n_sub,
        rec_every=rec_every,
        rng=rng_,
        chain=ChainHyper(hp["lr"], hp["beta1"], hp["beta2"], hp["eps"]) if chain else None,
        start=Start(theta, m0, u0 / vs),
        legs=legs,
        noise=None,
        progress=kw["progress"],
        chain_land=landscape_of({**kw, "landscape": landscape, "noise_std": hp["noise_std"]}, d),
    )
    out: dict[str, Any] = {"t": np.arange(n_rec) * rec_every * tau, "n_steps": n_steps}

    def finish(th: np.ndarray, m: np.ndarray | None, v: np.ndarray | None) -> dict[str, Any]:
        loss = loss_many(code, th.reshape(-1, d), land[1], land[2]).reshape(th.shape[:2])
        return {"theta": th, "m": m, "v": v, "loss": loss}

    if chain:
        opt = setup["opt"]
        out["chain"] = finish(
            raw["theta"], raw["m"] if opt == disc.ADAM else None, raw["v"] * vs if opt else None
        )
    for name, leg in zip(names, legs, strict=True):
        r = leg.rec
        out[name] = finish(
            r[..., :d],
            r[..., d : 2 * d] if leg.opt == disc.ADAM else None,
            r[..., -d:] if leg.opt else None,
        )
    return out


def simulate_sde(
    optimizer: str,
    *,
    regime: str,
    order: str,
    landscape: str,
    theta0: object,
    dt: float,
    t_max: float,
    n_paths: int,
    rng: object,
    tau: float,
    **options: Any,
) -> dict[str, np.ndarray]:
    r"""Euler–Maruyama ensemble of one continuous equation of a regime (spec §2.4).

    .. math::

        x\leftarrow x+b(x,t)\,h+G(x,t)\,\Delta W,\qquad h=\text{dt}=\tau/n_{sub},\quad
        \Delta W=(\Delta W_1,\Delta W_2)

    with the drift b and diffusion G of the ODE (b0, no noise), SDE1 (b0 and the leading
    noise) or SME2 (:math:`b_0+\tau b_1`, full noise) of :func:`simulate_coupled`.
    ``simulate_sde(..., dt=τ/s, rng=seed)`` and ``simulate_optimizer(..., n_sub=s,
    rng=seed)`` are driven by the same Brownian path.

    Parameters
    ----------
    optimizer : {"sgd", "rmsprop", "adam"}
    regime : {"ballistic", "batch_equivalent"}
    order : {"ode", "sde1", "sme2"}
    landscape : {"quadratic", "linreg", "double_well", "quartic"}
    theta0 : (d,) or (n_paths, d) array
        Start.
    dt : float
        Substep; must divide ``tau`` into an integer number of substeps.
    t_max : float
        Horizon.
    n_paths : int
        Paths.
    rng : int or numpy.random.Generator
        Seed or generator.
    tau : float
        The discrete step τ the equation approximates (η = τ or √τ).
    **options
        As for :func:`simulate_coupled`.

    Returns
    -------
    dict
        ``theta`` (records, n_paths, d), ``m``/``v`` (same shape, or None), ``loss``
        (records, n_paths), ``t`` (records,).

    Notes
    -----
    [paper] with the [derived] terms listed in :func:`simulate_coupled`.
    """
    tau_ = real("tau", tau, 0.0, 16.0, lo_open=True)
    dt = real("dt", dt, 0.0, tau_, lo_open=True)
    n_sub = round(tau_ / dt)
    if abs(n_sub * dt - tau_) > 1e-9 * tau_:
        raise ValueError(f"dt must divide tau into an integer number of substeps; got {dt!r}")
    res = simulate_coupled(
        optimizer,
        regime=regime,
        orders=(order,),
        landscape=landscape,
        theta0=theta0,
        tau=tau_,
        n_sub=n_sub,
        t_max=t_max,
        n_paths=n_paths,
        rng=rng,
        chain=False,
        **options,
    )
    return {**res[order], "t": res["t"]}
