r"""Adaptive SGD: discrete RMSprop/Adam/SGD ensembles and their continuous equations.

Callisti, Romito, Triggiano, *Effective continuous equations for adaptive SGD: a stochastic
analysis view*, arXiv:2509.21614 [paper]; spec ``models/adaptive.md``. Public API:

* :func:`simulate_optimizer`: the discrete chain in raw hyperparameters (η, β1, β2, ε, σ);
* :func:`simulate_sde`: the ODE / SDE1 / SME2 of a regime (``ballistic``: η = τ;
  ``batch_equivalent``: η = √τ, u = η²v), Euler–Maruyama with step ``dt`` = τ/n_sub;
* :func:`simulate_coupled`: the chain and several continuous orders on one Brownian path;
* :func:`scaling_rule` (the square-root rule), :func:`regime_hyperparameters`, the closed forms
  of :mod:`kernels.adaptive.theory` and the studies of :mod:`kernels.adaptive.studies`.

Common random numbers [spec §2.8]: every entry point first takes one integer from ``rng`` (the
seed of the independent W2 stream), then draws the normals ζ of the substeps in fixed chunks of
steps, shape (K, n_sub, n_paths, d). The SDE uses ΔW1 = √h ζ and chain step k uses
ξ_k = Σ_j ζ_{k,j}/√n_sub, so ``simulate_optimizer(..., n_sub=s, rng=seed)`` and
``simulate_sde(..., dt=τ/s, rng=seed)`` are driven by the same Brownian path. Adam's SDEs start
from the chain after two steps (Γ is singular at t = 0), as the authors do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from kernels.adaptive import discrete as disc
from kernels.adaptive import landscapes as lands
from kernels.adaptive import sde as sde
from kernels.adaptive import soa as soa
from kernels.adaptive.driver import Leg, run
from kernels.adaptive.theory import (
    SCALING_RULES,
    adam_clock,
    adam_discrete_factor,
    batch_equivalent_u,
    regime_hyperparameters,
    scaled_sde_parameters,
    scaling_rule,
    sgd_moments,
    sgd_sde_moments,
    sgd_stationary_variance,
    stability_limit,
)
from kernels.common.progress import ProgressFn
from kernels.common.validation import choice, integer, real, resolve_rng

__all__ = [
    "SCALING_RULES",
    "adam_clock",
    "adam_discrete_factor",
    "batch_equivalent_u",
    "loss_values",
    "regime_hyperparameters",
    "scaled_sde_parameters",
    "scaling_rule",
    "sgd_moments",
    "sgd_sde_moments",
    "sgd_stationary_variance",
    "simulate_coupled",
    "simulate_optimizer",
    "simulate_sde",
    "stability_limit",
    "warmup",
]

MAX_PATHS = 1 << 20


def _theta0(theta0: object, n_paths: int, d: int | None) -> np.ndarray:
    th = np.asarray(theta0, dtype=np.float64)
    if th.ndim == 0:
        th = th.reshape(1)
    if not np.all(np.isfinite(th)) or np.max(np.abs(th)) > 1e6:
        raise ValueError("theta0 must be finite with entries in [-1e6, 1e6]")
    if th.ndim == 1:
        th = np.tile(th, (n_paths, 1))
    if th.shape[0] != n_paths or (d is not None and th.shape[1] != d):
        raise ValueError(f"theta0 must have shape (dim,) or (n_paths, dim); got {th.shape}")
    return np.ascontiguousarray(th)


def _start(value: object, name: str, shape: tuple[int, int], lo: float) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), shape).copy()
    if not np.all(np.isfinite(arr)) or np.min(arr) < lo:
        raise ValueError(f"{name} must be finite and >= {lo:g}")
    return arr


def _landscape(kw: dict[str, Any], d: int | None) -> tuple[int, np.ndarray, np.ndarray, int]:
    return lands.build_landscape(
        kw["landscape"],
        d,
        noise_std=kw["noise_std"],
        A=kw.get("A"),
        gradient_noise=kw.get("gradient_noise", "shifted"),
        noise_level=kw.get("noise_level", 0.0),
        batch_size=kw.get("batch_size"),
    )


def loss_values(landscape: str, theta: np.ndarray, A: object = None, **kw: Any) -> np.ndarray:
    """f(θ) for an array of states ``theta`` (..., d) (quadratic: ½θᵀAθ)."""
    th = np.asarray(theta, dtype=np.float64)
    code, lmat, lvec, _ = lands.build_landscape(landscape, th.shape[-1], noise_std=0.0, A=A, **kw)
    flat = np.ascontiguousarray(th.reshape(-1, th.shape[-1]))
    return _loss_many(code, flat, lmat, lvec).reshape(th.shape[:-1])


def _loss_many(code: int, flat: np.ndarray, lmat: np.ndarray, lvec: np.ndarray) -> np.ndarray:
    return _loss_core(code, flat, lmat, lvec)


@njit(cache=True, nogil=True)
def _loss_core(code: int, flat: np.ndarray, lmat: np.ndarray, lvec: np.ndarray) -> np.ndarray:
    out = np.empty(flat.shape[0])
    for i in range(flat.shape[0]):
        out[i] = lands.loss(code, flat[i], lmat, lvec)
    return out


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
    r"""Ensemble of the discrete optimizer (spec §2.2), g_k = ∇f(θ_k) + Σ^{1/2}(θ_k)ξ_k.

    Parameters
    ----------
    optimizer : {"sgd", "rmsprop", "adam"}
    landscape : {"quadratic", "linreg", "double_well", "quartic"}
        ``quadratic`` is ½θᵀAθ (``A`` any symmetric positive-definite matrix, default
        [[1, .5], [.5, 1]]); ``gradient_noise`` ``"shifted"`` (Σ = σ²AAᵀ, spec §2.6) or
        ``"isotropic"`` (i.i.d. N(0, σ²) per coordinate).
    theta0 : (d,) or (n_paths, d)
    lr, beta1, beta2, eps, noise_std : η, β1, β2, ε, σ.
    v_order : "lagged" (authors) or "pytorch" (``torch.optim`` ordering).
    v0, m0 : starting second and first moments (spec: v0 = 1, m0 = 0; torch uses 0, 0).
    n_sub : substeps per step of the Brownian path the noise is drawn from (coupling).
    noise : optional pre-drawn ξ of shape (n_steps, n_paths, d) instead of ``rng``.

    Returns
    -------
    dict with ``theta``, ``m``, ``v`` of shape (n_steps // record_every + 1, n_paths, d),
    ``loss`` (records, n_paths) and ``steps`` (records,).
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
    land = _landscape(locals(), th0.shape[-1] if th0.ndim else 1)
    d = land[3]
    theta = _theta0(theta0, n_paths, d)
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
        n_paths=n_paths,
        n_steps=n_steps,
        n_sub=n_sub,
        rec_every=record_every,
        rng=rng_,
        chain=(lr, beta1, beta2, eps),
        theta0=theta,
        m0=_start(m0, "m0", theta.shape, -np.inf),
        v0=_start(v0, "v0", theta.shape, 0.0),
        legs=[],
        noise=xi,
        progress=progress,
    )
    out["loss"] = _loss_many(land[0], out["theta"].reshape(-1, d), land[1], land[2]).reshape(
        out["theta"].shape[:2]
    )
    out["steps"] = np.arange(out["theta"].shape[0]) * record_every
    return out


def _sde_setup(optimizer: str, regime: str, order: str, kw: dict[str, Any]) -> dict[str, Any]:
    """Validate the continuous-equation arguments shared by simulate_sde and simulate_coupled."""
    opt = disc.OPTIMIZERS[choice("optimizer", optimizer, tuple(disc.OPTIMIZERS))]
    reg = sde.REGIMES[choice("regime", regime, tuple(sde.REGIMES))]
    ordc = sde.ORDERS[choice("order", order, tuple(sde.ORDERS))]
    choice("d_prime", kw["d_prime"], ("exact", "approx"))
    choice("b1_coeffs", kw["b1_coeffs"], ("derived", "authors"))
    if opt == disc.SGD and reg == sde.BATCH_EQUIVALENT:
        raise ValueError("regime must be 'ballistic' for optimizer 'sgd' (spec §2.3)")
    if opt == disc.ADAM and reg == sde.BATCH_EQUIVALENT and ordc == sde.SME2:
        raise ValueError("order 'sme2' is not implemented for Adam in the batch_equivalent regime")
    tau = kw["tau"]
    c1 = real("c1", kw["c1"], 0.0, 1.0 / tau)
    c2 = real("c2", kw["c2"], 0.0, 1.0 / tau)
    eps = real("eps", kw["eps"], 0.0, 1e6)
    floor = tau if kw["v_floor"] is None else real("v_floor", kw["v_floor"], 0.0, 1e6)
    vo = disc.V_ORDERS[choice("v_order", kw["v_order"], tuple(disc.V_ORDERS))]
    offsets = (1.0, 1.0) if vo == disc.PYTORCH else (2.0, 1.0)
    par = np.array([tau, c1, c2, eps, floor, *offsets])
    flags = np.array(
        [
            int(bool(kw["w2"])),
            vo,
            int(kw["d_prime"] == "approx"),
            int(kw["b1_coeffs"] == "authors"),
        ],
        dtype=np.int64,
    )
    hp = regime_hyperparameters(regime, tau, c1, c2, eps, kw["noise_std"])
    return {"opt": opt, "reg": reg, "order": ordc, "par": par, "flags": flags, "vo": vo, "hp": hp}


_SDE_DEFAULTS: dict[str, Any] = dict(
    c1=1.0,
    c2=0.5,
    eps=0.1,
    noise_std=1.0,
    A=None,
    gradient_noise="shifted",
    v0=1.0,
    m0=0.0,
    w2=True,
    v_order="lagged",
    d_prime="exact",
    b1_coeffs="derived",
    v_floor=None,
    record_every=1,
    noise_level=0.0,
    progress=None,
)


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
    """The chain of the regime (η, β, ε, σ from :func:`regime_hyperparameters`) and the
    continuous equations ``orders`` on the same Brownian path (spec §2.8).

    ``options`` are those of :func:`simulate_sde` (``c1, c2, eps, noise_std, A, v0, m0, w2,
    v_order, ...``; ``v0`` is v0 in the ballistic and u0 in the batch-equivalent regime).
    Returns ``{"t", "chain": {"theta", "m", "v", "loss"}, order: {...}}``; the chain's ``v`` is
    reported on the SDE's scale (u = η²v in the batch-equivalent regime); each order's dict may
    also carry ``w2`` variants when ``orders`` contains ``"sme2_no_w2"``.
    """
    unknown = set(options) - set(_SDE_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown options {sorted(unknown)}")
    kw = {**_SDE_DEFAULTS, **options}
    tau = real("tau", tau, 0.0, 16.0, lo_open=True)
    n_sub = integer("n_sub", n_sub, 1, 4096)
    t_max = real("t_max", t_max, 0.0, 1e4, lo_open=True)
    n_paths = integer("n_paths", n_paths, 1, MAX_PATHS)
    n_steps = max(1, round(t_max / tau))
    rec_every = integer("record_every", kw["record_every"], 1, n_steps)
    kw["tau"] = tau
    th0 = np.asarray(theta0, dtype=np.float64)
    land = _landscape({**kw, "landscape": landscape}, th0.shape[-1] if th0.ndim else 1)
    code, d = land[0], land[3]
    theta = _theta0(theta0, n_paths, d)
    legs: list[Leg] = []
    names = []
    setup = None
    for name in orders:
        order = "sme2" if name == "sme2_no_w2" else name
        setup = _sde_setup(
            optimizer, regime, order, {**kw, "w2": kw["w2"] and name != "sme2_no_w2"}
        )
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
        setup = _sde_setup(optimizer, regime, "sde1", kw)
    hp = setup["hp"]
    vs = hp["v_scale"]
    u0 = _start(kw["v0"], "v0", theta.shape, 0.0)
    m0 = _start(kw["m0"], "m0", theta.shape, -np.inf)
    n_rec = n_steps // rec_every + 1
    for name in names:
        order = "sme2" if name == "sme2_no_w2" else name
        s = _sde_setup(optimizer, regime, order, {**kw, "w2": kw["w2"] and name != "sme2_no_w2"})
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
        n_paths=n_paths,
        n_steps=n_steps,
        n_sub=n_sub,
        rec_every=rec_every,
        rng=rng_,
        chain=(hp["lr"], hp["beta1"], hp["beta2"], hp["eps"]) if chain else None,
        theta0=theta,
        m0=m0,
        v0=u0 / vs,
        legs=legs,
        noise=None,
        progress=kw["progress"],
        chain_land=_landscape({**kw, "landscape": landscape, "noise_std": hp["noise_std"]}, d),
    )
    out: dict[str, Any] = {"t": np.arange(n_rec) * rec_every * tau, "n_steps": n_steps}

    def finish(th: np.ndarray, m: np.ndarray | None, v: np.ndarray | None) -> dict[str, Any]:
        loss = _loss_many(code, th.reshape(-1, d), land[1], land[2]).reshape(th.shape[:2])
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
    r"""Euler–Maruyama ensemble of a continuous equation of spec §2.4 (step ``dt`` = τ/n_sub).

    Parameters
    ----------
    optimizer : {"sgd", "rmsprop", "adam"}
    regime : {"ballistic", "batch_equivalent"}
    order : {"ode", "sde1", "sme2"}
    tau : the discrete step τ the equation approximates (η = τ or √τ).
    options : ``c1, c2`` (1−β_i = c_iτ), ``eps`` (ε or ε0), ``noise_std`` (σ or σ0), ``A``,
        ``gradient_noise``, ``v0`` (v0 or u0), ``m0``, ``w2`` (the c2M^{1/2}dW2 term),
        ``v_order``, ``d_prime`` ("exact"/"approx" = −D³/2), ``b1_coeffs``
        ("derived"/"authors"), ``v_floor`` (default τ), ``record_every`` (in steps of τ).

    Returns
    -------
    dict with ``theta`` (records, n_paths, d), ``m``/``v`` (or None), ``loss``, ``t``.
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


def warmup() -> None:
    """Compile every jitted core of the Adaptive SGD kernels on tiny inputs."""
    lands.warmup()
    soa.warmup()
    sde.warmup()
    for opt, orders in (
        ("sgd", ("ode", "sde1", "sme2")),
        ("rmsprop", ("sde1", "sme2")),
        ("adam", ("ode", "sde1", "sme2")),
    ):
        simulate_coupled(
            opt,
            regime="ballistic",
            orders=orders,
            landscape="quadratic",
            theta0=[1.0, 1.0],
            tau=0.25,
            n_sub=1,
            t_max=0.5,
            n_paths=2,
            rng=0,
        )
    loss_values("quadratic", np.ones((2, 2)))
