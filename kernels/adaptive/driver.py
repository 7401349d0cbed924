r"""Validation, state and chunked runs behind the entry points of :mod:`kernels.adaptive.simulate`.

* Validation: the starting state (:func:`check_theta0`, :func:`check_start`), the landscape
  (:func:`landscape_of`) and the continuous-equation arguments (:func:`sde_setup`); a
  ``ValueError`` names the parameter and its range.
* State: the chain's hyperparameters (:class:`ChainHyper`), its starting state
  (:class:`Start`) and one :class:`Leg` per continuous equation riding along.
* Chunked runs (:func:`run`): every entry point first takes one integer from ``rng`` (the seed
  of the independent W2 stream), then draws the normals ζ of the substeps in chunks of K steps,
  shape (K, n_sub, d, n_paths) (:data:`CHUNK_NORMALS` per chunk, K even, so the numbers do not
  depend on the chunking). The chain and every continuous leg consume the same chunk, through
  the jitted cores of :mod:`kernels.adaptive.core`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from kernels.adaptive import core as core
from kernels.adaptive import discrete as disc
from kernels.adaptive import landscapes as lands
from kernels.adaptive import sde as sde
from kernels.adaptive.landscapes import Landscape
from kernels.adaptive.theory import regime_hyperparameters
from kernels.common.normals import standard_normals
from kernels.common.progress import Cancelled, ProgressFn, throttled_progress
from kernels.common.validation import choice, real

#: Most paths of one ensemble.
MAX_PATHS = 1 << 20


def check_theta0(theta0: object, n_paths: int, d: int | None) -> np.ndarray:
    """θ0 of shape (d,) or (n_paths, d), finite, as a contiguous (n_paths, d) array."""
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


def check_start(value: object, name: str, shape: tuple[int, int], lo: float) -> np.ndarray:
    """A starting moment broadcast to ``shape``, finite and >= ``lo``."""
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), shape).copy()
    if not np.all(np.isfinite(arr)) or np.min(arr) < lo:
        raise ValueError(f"{name} must be finite and >= {lo:g}")
    return arr


def landscape_of(kw: dict[str, Any], d: int | None) -> Landscape:
    """The landscape named in the keyword dict ``kw`` (:func:`.landscapes.build_landscape`)."""
    return lands.build_landscape(
        kw["landscape"],
        d,
        noise_std=kw["noise_std"],
        A=kw.get("A"),
        gradient_noise=kw.get("gradient_noise", "shifted"),
        noise_level=kw.get("noise_level", 0.0),
        batch_size=kw.get("batch_size"),
    )


def sde_setup(optimizer: str, regime: str, order: str, kw: dict[str, Any]) -> dict[str, Any]:
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


SDE_DEFAULTS: dict[str, Any] = dict(
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


#: Normals drawn per chunk (about 1 MB): the chunk plan depends only on n_sub·n_paths·d.
CHUNK_NORMALS = 1 << 17


def _chunk_steps(per_step: int) -> int:
    """Steps per chunk: even, about CHUNK_NORMALS normals."""
    return max(2, 2 * (CHUNK_NORMALS // (2 * per_step)))


class ChainHyper(NamedTuple):
    """Hyperparameters of the discrete chain: η, β1, β2, ε (spec §2.2)."""

    lr: float
    beta1: float
    beta2: float
    eps: float


class Start(NamedTuple):
    """Starting state of every path: θ0, m0, v0, each (n_paths, d)."""

    theta: np.ndarray
    m: np.ndarray
    v: np.ndarray


class Leg:
    """One continuous equation riding along the chain's Brownian path (state (n_state, P))."""

    def __init__(self, opt, regime, order, flags, par, x0, n_rec, chain_hp):
        self.opt, self.regime, self.order = opt, regime, order
        self.flags, self.par = flags, par
        self.x = np.ascontiguousarray(x0.T)
        self.rec = np.full((n_rec, *self.x.shape), np.nan)
        self.rec[0] = self.x
        self.chain_hp = chain_hp  # (lr, beta1, beta2, eps, v_scale) for Adam's two first steps


def run(
    *,
    opt: int,
    v_order: int,
    land: Landscape,
    n_steps: int,
    n_sub: int,
    rec_every: int,
    rng: np.random.Generator,
    chain: ChainHyper | None,
    start: Start,
    legs: list[Leg],
    noise: np.ndarray | None = None,
    progress: ProgressFn | None = None,
    chain_land: Landscape | None = None,
) -> dict[str, Any]:
    """Draw the normals chunk by chunk and drive the chain and every leg with them.

    ``land`` drives the legs; ``chain_land`` (default ``land``) the chain, whose raw noise is
    σ0/η in the batch-equivalent regime; ``chain`` None runs the legs alone. Returns the
    chain's records (R, P, d).
    """
    code, lmat, lvec, d = land
    theta0, m0, v0 = start
    n_paths = theta0.shape[0]
    chain_land = land if chain_land is None else chain_land
    report = throttled_progress(progress)
    n_rec = n_steps // rec_every + 1
    w2_rng = np.random.default_rng(int(rng.integers(0, 2**63 - 1)))
    need_w2 = any(leg.order == sde.SME2 and leg.flags[sde.F_W2] == 1 for leg in legs)
    per_step = n_sub * n_paths * d
    big_k = _chunk_steps(per_step)
    theta, m, v = (np.ascontiguousarray(a.T) for a in (theta0, m0, v0))
    recs = [np.full((n_rec, d, n_paths), np.nan) for _ in range(3)]
    recs[0][0], recs[1][0], recs[2][0] = theta, m, v
    buf1 = np.empty(big_k * per_step)
    buf2 = np.empty(big_k * per_step if need_w2 else 0)
    z2_empty = np.empty((0, n_sub, d, n_paths))
    wv, wm = core.make_soa_work(d, n_paths)
    done = 0
    while done < n_steps:
        n_used = min(big_k, n_steps - done)
        if noise is None:
            zeta1 = standard_normals(rng, buf1).reshape(big_k, n_sub, d, n_paths)
        else:
            zeta1 = np.ascontiguousarray(noise[done : done + n_used, None].transpose(0, 1, 3, 2))
        zeta2 = z2_empty
        if need_w2:
            zeta2 = standard_normals(w2_rng, buf2).reshape(big_k, n_sub, d, n_paths)
        if chain is not None:
            lr, b1, b2, eps = chain
            core.chain_chunk(
                chain_land[0],
                opt,
                v_order,
                chain_land[1],
                chain_land[2],
                lr,
                b1,
                b2,
                eps,
                zeta1,
                n_used,
                done,
                theta,
                m,
                v,
                rec_every,
                *recs,
                wv,
                wm,
            )
        for leg in legs:
            s_first = 0
            if leg.opt == disc.ADAM and done == 0:
                s_first = adam_start(leg, chain_land, v_order, zeta1, start, rec_every)
            core.euler_chunk(
                code,
                leg.opt,
                leg.regime,
                leg.order,
                leg.flags,
                leg.par,
                lmat,
                lvec,
                leg.x,
                zeta1,
                zeta2,
                s_first,
                n_used,
                done,
                rec_every,
                leg.rec,
                wv,
                wm,
            )
        done += n_used
        if not report(done / n_steps, done == n_steps) and done < n_steps:
            raise Cancelled(steps_done=done)
    for leg in legs:
        leg.rec = leg.rec.transpose(0, 2, 1)
    return {
        "theta": recs[0].transpose(0, 2, 1),
        "m": recs[1].transpose(0, 2, 1),
        "v": recs[2].transpose(0, 2, 1),
    }


def adam_start(
    leg: Leg, land: Landscape, v_order: int, zeta1: np.ndarray, start: Start, rec_every: int
) -> int:
    """Two chain steps from (θ0, m0, v0), then the SDE state (θ, m, v·v_scale) (spec §2.4)."""
    code, lmat, lvec, d = land
    lr, b1, b2, eps, vs = leg.chain_hp
    th, m, v = (np.ascontiguousarray(a.T) for a in start)
    rec = [np.zeros((3, *th.shape)) for _ in range(3)]
    wv, wm = core.make_soa_work(d, th.shape[1])
    core.chain_chunk(
        code,
        disc.ADAM,
        v_order,
        lmat,
        lvec,
        lr,
        b1,
        b2,
        eps,
        zeta1,
        2,
        0,
        th,
        m,
        v,
        1,
        *rec,
        wv,
        wm,
    )
    for k in (1, 2):
        if k % rec_every == 0 and k // rec_every < leg.rec.shape[0]:
            leg.rec[k // rec_every] = np.concatenate([rec[0][k], rec[1][k], rec[2][k] * vs])
    leg.x[:] = np.concatenate([th, m, v * vs])
    return 2
