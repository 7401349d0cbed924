"""Chunked noise and the chain/continuous-equation legs around the vectorized cores.

Internal to :mod:`kernels.adaptive`: every entry point first takes one integer from ``rng``
(the seed of the independent W2 stream), then draws the normals ζ of the substeps in chunks of
K steps, shape (K, n_sub, d, n_paths) (:data:`CHUNK_NORMALS` per chunk, K even, so the numbers
do not depend on the chunking). The chain and every continuous leg consume the same chunk.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels.adaptive import discrete as disc
from kernels.adaptive import sde as sde
from kernels.adaptive import soa as soa
from kernels.common.normals import standard_normals
from kernels.common.progress import Cancelled, ProgressFn, throttled_progress

#: Normals drawn per chunk (about 1 MB): the chunk plan depends only on n_sub·n_paths·d.
CHUNK_NORMALS = 1 << 17


def _chunk_steps(per_step: int) -> int:
    """Steps per chunk: even, about CHUNK_NORMALS normals."""
    return max(2, 2 * (CHUNK_NORMALS // (2 * per_step)))


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
    land: tuple[int, np.ndarray, np.ndarray, int],
    n_paths: int,
    n_steps: int,
    n_sub: int,
    rec_every: int,
    rng: np.random.Generator,
    chain: tuple[float, float, float, float] | None,
    theta0: np.ndarray,
    m0: np.ndarray,
    v0: np.ndarray,
    legs: list[Leg],
    noise: np.ndarray | None,
    progress: ProgressFn | None,
    chain_land: tuple[int, np.ndarray, np.ndarray, int] | None = None,
) -> dict[str, Any]:
    """Draw the normals chunk by chunk and drive the chain and every leg with them.

    ``land`` drives the legs; ``chain_land`` (default ``land``) the chain, whose raw noise is
    σ0/η in the batch-equivalent regime. Returns the chain's records (R, P, d).
    """
    code, lmat, lvec, d = land
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
    wv, wm = soa.make_soa_work(d, n_paths)
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
            soa.chain_chunk(
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
                s_first = adam_start(leg, chain_land, v_order, zeta1, theta0, m0, v0, rec_every)
            soa.euler_chunk(
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


def adam_start(leg: Leg, land, v_order, zeta1, theta0, m0, v0, rec_every) -> int:
    """Two chain steps from (θ0, m0, v0), then the SDE state (θ, m, v·v_scale) (spec §2.4)."""
    code, lmat, lvec, d = land
    lr, b1, b2, eps, vs = leg.chain_hp
    th, m, v = (np.ascontiguousarray(a.T) for a in (theta0, m0, v0))
    rec = [np.zeros((3, *th.shape)) for _ in range(3)]
    wv, wm = soa.make_soa_work(d, th.shape[1])
    soa.chain_chunk(
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
