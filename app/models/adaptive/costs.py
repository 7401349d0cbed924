"""What the Adaptive SGD tab's work costs, estimated before anything is allocated (issue 13).

Three pieces of work: the animated run (one :func:`kernels.adaptive.simulate_coupled` call,
recomputed at every change, in a live view on the job pool while the user waits for it;
playing only moves a cursor through its stored frames), the weak-error study and the scaling
study (background jobs). Each estimate is a
:class:`app.models.budget.Cost` from the array shapes the kernel allocates and an operation
count times a per-operation constant measured on the 2-core reference machine.

Seconds. The unit of work is one path advanced by one Euler–Maruyama substep (all d
coordinates); the chain (with the normals it draws) and every continuous leg each cost one
constant per unit. Measured on 2026-12-05 with ``time.thread_time`` (CPU time of one thread,
so the other helpers' load does not inflate it), best of 3 runs of ``simulate_coupled`` with
1000 steps × 1024 paths × n_sub 2, each leg timed as (chain + leg) − (chain alone), CPU ns
per unit:

============  =====  =========  ==============================================
landscape     chain  ode, sde1  sme2 (with W2, the worst)
============  =====  =========  ==============================================
quadratic     17–21  11–21      22–54 (batch-equivalent; 14–43 without W2)
linreg        61–62  92–108     141–164
double_well   11–13  9–15       14–22
============  =====  =========  ==============================================

The constants below are the largest of each column (for SME2 without W2, of its own
measurements), times :data:`MARGIN` = 2 (a busy
machine, the other job of the pool, the estimate's error).

Bytes. Float64 arrays: the chain records θ, m, v (records, d, P) (m, v even when the
optimizer has none), each leg records its state (records, n_state, P) with n_state = d (SGD),
2d (RMSprop), 3d (Adam); the losses (records, P) of the chain and each leg, the chain's
rescaled v, a (records·P, d) copy inside the loss evaluation; the normals' chunk buffers (two
when a leg needs W2) and the cores' scratch ``wv`` (19, d, P), ``wm`` (7, d, d, P).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from app.models.budget import MAX_RUN_BYTES, Cost

#: Safety factor on the measured per-unit times.
MARGIN = 2.0
#: CPU seconds per path-substep of the chain (normals included), per landscape.
CHAIN_S = {"quadratic": 21e-9, "linreg": 62e-9, "double_well": 13e-9}
#: CPU seconds per path-substep of an ODE or SDE1 leg.
LEG_S = {"quadratic": 21e-9, "linreg": 108e-9, "double_well": 15e-9}
#: CPU seconds per path-substep of an SME2 leg (its W2 normals included).
SME2_S = {"quadratic": 54e-9, "linreg": 164e-9, "double_well": 22e-9}
#: CPU seconds per path-substep of SME2 without W2 (the weak-error study's ``sme2_no_w2``;
#: quadratic measured 14–43 ns, the others taken as SME2's).
SME2_NO_W2_S = {**SME2_S, "quadratic": 43e-9}
#: Estimated seconds one recompute of the animated run may take: it reruns at every change of a
#: parameter and the view waits for it (off the event loop since issue 14, but Play waits),
#: so it must stay interactive (about 2.5 s of CPU at most).
MAX_RUN_SECONDS = 5.0
#: Seconds of one animation tick: playing moves the time cursor through stored frames (no
#: simulation), whatever the speed; the views redraw O(n_paths) summaries (measured in the
#: maxima test of ``tests/app/test_adaptive_budget.py``: well under 0.2 s at 4096 paths).
TICK_SECONDS = 0.05
#: Worker threads of each kernel study (``kernels.adaptive.studies.STUDY_THREADS``).
STUDY_THREADS = 2
#: Paths per batch of the weak-error study (``kernels.adaptive.studies.STUDY_BATCH``).
STUDY_BATCH = 1024
#: Normals per chunk buffer (``kernels.adaptive.driver.CHUNK_NORMALS``).
CHUNK_NORMALS = 1 << 17
#: Rows of the cores' scratch arrays (``kernels.adaptive.soa_landscape.NV, NM``).
NV, NM = 19, 7
#: The weak-error study's steps τ, EM substep h and horizon (``studies.weak_error_study``).
WEAK_TAUS = (2**-2, 2**-3, 2**-4, 2**-5, 2**-6)
WEAK_H = 2**-11
WEAK_T = 1.0
F8 = 8


def dim(landscape: str) -> int:
    return 1 if landscape == "double_well" else 2


def n_state(optimizer: str, d: int) -> int:
    """Rows of a continuous leg's state: θ, then m (Adam), then v (RMSprop, Adam)."""
    return d * (1 + (optimizer == "adam") + (optimizer != "sgd"))


def _leg_seconds(landscape: str, orders: Iterable[str], w2: bool = True) -> float:
    table = {"sme2": SME2_S if w2 else SME2_NO_W2_S, "sme2_no_w2": SME2_NO_W2_S}
    return sum(table.get(o, LEG_S)[landscape] for o in orders)


def _chunk_steps(per_step: int) -> int:
    return max(2, 2 * (CHUNK_NORMALS // (2 * per_step)))


def run_kept_bytes(
    optimizer: str, landscape: str, orders: Iterable[str], n_rec: int, n_paths: int
) -> int:
    """Bytes of the arrays :func:`kernels.adaptive.simulate_coupled` returns (with the chain)."""
    d, rp = dim(landscape), n_rec * n_paths
    chain = rp * d * (1 + (optimizer == "adam") + (optimizer != "sgd")) + rp
    legs = sum(rp * n_state(optimizer, d) + rp for _ in orders)
    return F8 * (chain + legs + n_rec)


def coupled_bytes(
    optimizer: str,
    landscape: str,
    orders: Iterable[str],
    n_steps: int,
    n_sub: int,
    n_paths: int,
    rec_every: int,
    w2: bool = True,
) -> int:
    """Peak bytes of one ``simulate_coupled`` call: its records and losses, the chain's three
    records, the normals' chunk buffers, the scratch arrays and the loss evaluation's copy."""
    orders = tuple(orders)
    d, p = dim(landscape), n_paths
    n_rec = n_steps // rec_every + 1
    per_step = n_sub * p * d
    buffers = _chunk_steps(per_step) * per_step * (1 + (w2 and any(o == "sme2" for o in orders)))
    scratch = NV * d * p + NM * d * d * p
    starts = 4 * p * d + sum(2 * n_state(optimizer, d) * p for _ in orders)
    records = 3 * n_rec * d * p + sum(n_rec * n_state(optimizer, d) * p for _ in orders)
    finish = n_rec * p * d * 2 + n_rec * p * (1 + len(orders))  # v copy, loss copy, losses
    return F8 * (buffers + 2 * scratch + starts + records + finish)


def run_cost(
    optimizer: str,
    landscape: str,
    orders: Iterable[str],
    n_steps: int,
    n_sub: int,
    n_paths: int,
    rec_every: int,
    w2: bool = True,
) -> Cost:
    """The animated run: one coupled simulation of the chain and ``orders``."""
    orders = tuple(orders)
    per_unit = CHAIN_S[landscape] + _leg_seconds(landscape, orders, w2)
    seconds = MARGIN * n_steps * n_sub * n_paths * per_unit
    n_bytes = coupled_bytes(optimizer, landscape, orders, n_steps, n_sub, n_paths, rec_every, w2)
    return Cost(n_bytes, seconds, f"run of {n_paths} paths × {n_steps} steps")


def tick_cost(speed: int) -> Cost:
    """One animation tick at play speed ``speed``: the cursor moves, nothing is simulated."""
    return Cost(0.0, TICK_SECONDS, f"animation step at play speed {speed}")


def weak_error_cost(
    optimizer: str, landscape: str, orders: Iterable[str], n_paths: int, w2: bool = True
) -> Cost:
    """The weak-error study: per τ, n_paths coupled paths of the chain and the stochastic
    orders for 1/τ steps of τ/h substeps, in batches of 1024 on two threads (the ODE runs one
    path)."""
    stoch = tuple(o for o in orders if o != "ode")
    per_unit = CHAIN_S[landscape] + _leg_seconds(landscape, stoch, w2)
    units = sum(round(WEAK_T / tau) * round(tau / WEAK_H) for tau in WEAK_TAUS) * n_paths
    seconds = MARGIN * units * per_unit / STUDY_THREADS
    batch = min(n_paths, STUDY_BATCH)
    worst = max(
        coupled_bytes(
            optimizer,
            landscape,
            stoch,
            round(WEAK_T / tau),
            round(tau / WEAK_H),
            batch,
            max(1, round(WEAK_T / tau)),
            w2,
        )
        for tau in WEAK_TAUS
    )
    return Cost(STUDY_THREADS * worst, seconds, f"weak-error study of {n_paths} paths")


def scaling_steps(taus: Iterable[float], t_max: float) -> list[int]:
    return [max(1, round(t_max / tau)) for tau in taus]


def scaling_cost(
    optimizer: str,
    landscape: str,
    taus: Iterable[float],
    tau: float,
    t_max: float,
    n_paths: int,
    rec_every: int = 1,
) -> Cost:
    """The scaling study: a chain run (n_sub 1) per scaled step in ``taus``, one after the
    other, then SDE1 alone at the base ``tau`` with 4 substeps, all recorded every
    ``rec_every`` steps (the peak is the largest single run)."""
    steps = scaling_steps(taus, t_max)
    n_ref = max(1, round(t_max / tau))
    seconds = (
        MARGIN
        * n_paths
        * (sum(steps) * CHAIN_S[landscape] + n_ref * 4 * (CHAIN_S[landscape] + LEG_S[landscape]))
    )
    peak = max(
        [coupled_bytes(optimizer, landscape, (), n, 1, n_paths, rec_every) for n in steps]
        + [coupled_bytes(optimizer, landscape, ("sde1",), n_ref, 4, n_paths, rec_every)]
    )
    return Cost(peak, seconds, f"scaling study of {n_paths} paths × {n_ref} steps")


def frames_fitting(
    cost_of_rec_every: Callable[[int], Cost], n_steps: int, rec_every: int
) -> tuple[int, str]:
    """The smallest record stride ≥ ``rec_every`` whose run keeps its history under
    MAX_RUN_BYTES, and a notice if it had to be coarser than ``rec_every``."""
    cost = cost_of_rec_every(rec_every)
    if cost.fits(max_bytes=MAX_RUN_BYTES, max_seconds=math.inf):
        return rec_every, ""
    rec = rec_every
    while rec < n_steps and not cost_of_rec_every(rec).fits(MAX_RUN_BYTES, math.inf):
        rec = min(n_steps, max(rec + 1, math.ceil(rec * 1.1)))
    reason = cost.problem(MAX_RUN_BYTES, math.inf)
    return rec, f"{reason} Stored every {rec}th step ({n_steps // rec + 1} frames)."
