"""Bounded work of the Exploration maps tab (issue 13): what the explorer and the learning curves
cost, estimated from all their parameters together before anything runs.

Two pieces of work run here:

* the **explorer** (synchronously, in ``reset``; cached per parameter set): K+1 curious
  policies, each an inner solve (value iteration, soft VI, or 50 exact PG updates) plus one exact
  visitation solve. It blocks the session while it runs, so its limit is
  :data:`MAX_EXPLORER_SECONDS`, tighter than a background job's; over it, K is scaled down.
* the **learning curves** (a :class:`~app.models.jobs.BackgroundJob`): 4 restarts × seeds runs
  of T policy-gradient updates, each an exact value solve plus (REINFORCE) B episodes of at most
  H steps. Over :data:`~app.models.budget.MAX_JOB_SECONDS`, the seeds are scaled down first,
  then T (both keep the curves' prefix: every run has its own random stream, drawn chunk by chunk).

The animated run only moves the shown iteration k and the PG updates shown (``_advance`` costs
about the same whatever the speed) and records nothing: its memory is the explorer's arrays (K+1
maps each; a frame between two iterations mixes one more map of S numbers), costed with the
explorer and held to :data:`~app.models.budget.MAX_RUN_BYTES`; its tick is :func:`tick_cost`.

Per-operation constants were MEASURED on the 2-core reference machine (load ≈ 5 from the other
sessions) by timing the real jitted kernels after ``exploration.warmup()``, then doubled
(margin ×2, :data:`MARGIN`):

* value iteration (``solvers.value_iteration``, γ = 0.999, random R, 22 863 sweeps): 11 ns per
  (s, a) per sweep on four rooms (M = 4), 13 ns on DeepSea 30 (M = 2) → :data:`SEC_VI_SA`;
* soft VI (``soft_value_iteration``, τ = 0.005): 22 ns (four rooms), 29 ns (DeepSea) per (s, a)
  per sweep → :data:`SEC_SOFT_VI_SA`;
* one exact PG update (``core.exact_pg_chunk``, 2000 updates): 46 µs on DeepSea 30 (acyclic,
  S·A·M = 1864: 25 ns per (s, a, m)) → :data:`SEC_SAM`; 61 µs on four rooms (cyclic, S = 68:
  the rest, 33 µs over S³/3 + 4S² LU operations, is 0.27 ns each) → :data:`SEC_LU_OP`;
* REINFORCE (``core.reinforce_chunk``, B = 64, H = 500, 20 updates): 135 ns per sampled
  environment step on four rooms (solve included; 48 ns on DeepSea) → :data:`SEC_ENV_STEP`;
  ``Generator.random`` 7 ns per uniform → :data:`SEC_UNIFORM`;
* one player step (``ExplorationModel.step()`` at speed 5, a whole run of four rooms): 3.4 ms,
  whatever the speed (the shown iteration and PG update move by ``speed`` steps; the longest
  part counts the reveal steps left, at most a few hundred) → :data:`SEC_PLAYER_STEP`.
"""

from __future__ import annotations

import math
from typing import Any

from app.models.budget import (
    MAX_JOB_BYTES,
    MAX_JOB_SECONDS,
    MAX_RUN_BYTES,
    Cost,
    largest_fitting,
)

#: Safety factor on every measured constant (estimate error, a busy machine).
MARGIN = 2.0
#: Seconds per (state, action) per sweep of value iteration (measured 13 ns).
SEC_VI_SA = 13e-9
#: Seconds per (state, action) per sweep of soft value iteration (measured 29 ns).
SEC_SOFT_VI_SA = 29e-9
#: Seconds per (state, action, successor) operation of an exact PG update (measured 25 ns).
SEC_SAM = 25e-9
#: Seconds per LU operation (S³/3 + 4S² per cyclic solve; measured 0.27 ns).
SEC_LU_OP = 0.3e-9
#: Seconds per sampled REINFORCE environment step (measured 135 ns, solve amortised).
SEC_ENV_STEP = 135e-9
#: Seconds per uniform drawn for REINFORCE (measured 7 ns).
SEC_UNIFORM = 7e-9
#: Seconds of one player step (``step()`` at any speed; measured 3.4 ms).
SEC_PLAYER_STEP = 3.4e-3
#: The explorer runs synchronously in ``reset`` (it blocks the session): its own, tighter limit.
MAX_EXPLORER_SECONDS = 10.0

#: Kernel constants the estimates follow (kernels/exploration: explorer.py, driver.py).
VI_TOL = 1e-10
VI_MAX_SWEEPS = 200_000
#: Largest change of the first sweep: intrinsic rewards ≤ −log(1e-4) ≈ 9.2 (maxent), plus the
#: soft value's τ log A ≤ 1.4.
VI_FIRST_CHANGE = 11.0
INNER_PG_STEPS = 50
REINFORCE_CHUNK = 20
N_RESTARTS = 4
FLOAT = 8


def vi_sweeps(gamma: float) -> int:
    """Upper bound on the sweeps of (soft) value iteration to the tolerance: the sup-norm change
    contracts by γ each sweep from at most :data:`VI_FIRST_CHANGE`."""
    n = math.log(VI_TOL / VI_FIRST_CHANGE) / math.log(gamma)
    return int(min(VI_MAX_SWEEPS, math.ceil(n)))


def exact_update_seconds(shape: tuple[int, int, int], acyclic: bool) -> float:
    """Seconds of one exact PG update (policy matrix, LU solve, gradient), before the margin."""
    S, A, M = shape
    lu = 0.0 if acyclic else S**3 / 3 + 4 * S * S
    return SEC_SAM * S * A * M + SEC_LU_OP * lu


def explorer_bytes(shape: tuple[int, int, int], n_explore: int) -> float:
    """Bytes of the explorer's result arrays for K = ``n_explore`` iterations (the kernel fills
    (K+1)-row buffers and returns copies, so it holds this twice), without temporaries."""
    S, A, _M = shape
    rows = n_explore + 1
    floats = rows * S * A * 2 + rows * S * 2 + S  # policies, rewards; visitations, mixtures; μ
    bools = rows * S + rows * S * A + 2 * S  # poorly (states, pairs); candidates, reachable
    return FLOAT * floats + bools


def explorer_cost(p: dict[str, Any], shape: tuple[int, int, int], acyclic: bool) -> Cost:
    """The explorer of the params ``p`` (K = ``p["n_explore"]``) on an MDP of ``shape``
    (S, A, M): K inner solves and K+1 visitation solves, plus the optimal policy's VI."""
    S, A, _M = shape
    K = int(p["n_explore"])
    solve = exact_update_seconds(shape, acyclic)
    sweeps = vi_sweeps(float(p["gamma"]))
    if p["inner_solver"] == "vi":
        # acyclic with zero reward on the absorbing states (excluded from U): Jacobi sweeps are
        # exact after the longest path, at most S + 1 sweeps (measured: 0.01 s on DeepSea 30)
        exact_after = S + 1 if acyclic and p["exclude_terminal"] else sweeps
        inner = min(sweeps, exact_after) * S * A * SEC_VI_SA
    elif p["inner_solver"] == "soft_vi":
        inner = sweeps * S * A * SEC_SOFT_VI_SA
    else:  # "pg": INNER_PG_STEPS exact updates
        inner = INNER_PG_STEPS * solve
    seconds = K * inner + (K + 1) * solve + sweeps * S * A * SEC_VI_SA  # + V* for the metrics
    temporaries = FLOAT * (S * S + S * A * S + 4 * S * A)  # LU work, dense P, Q buffers
    return Cost(
        bytes=MARGIN * (2 * explorer_bytes(shape, K) + temporaries),
        seconds=MARGIN * seconds,
        what=f"explorer (K = {K} iterations)",
    )


def tick_cost(speed: int) -> Cost:
    """One animation tick at ``speed``: the player moves by ``speed`` steps in about constant
    time and keeps nothing (the maps it shows are the explorer's arrays)."""
    return Cost(bytes=0.0, seconds=MARGIN * SEC_PLAYER_STEP, what=f"player step (speed {speed})")


def budgeted_explorer(
    p: dict[str, Any], shape: tuple[int, int, int], acyclic: bool
) -> tuple[int, str]:
    """The largest K ≤ ``p["n_explore"]`` whose explorer fits, and a notice if it is smaller
    (raises :class:`~app.models.budget.OverBudget` if even K = 1 does not fit)."""
    K, notice = largest_fitting(
        lambda k: explorer_cost({**p, "n_explore": k}, shape, acyclic),
        int(p["n_explore"]),
        minimum=1,
        max_bytes=MAX_RUN_BYTES,  # the explorer's maps are the run the player shows
        max_seconds=MAX_EXPLORER_SECONDS,
    )
    return K, notice.replace("Scaled down to", "Scaled down to K =")


def learning_bytes(
    shape: tuple[int, int, int], n_iters: int, method: str, batch: int, horizon: int, n_seeds: int
) -> float:
    """Bytes the learning-curve study holds at its peak: REINFORCE's uniforms of one chunk,
    the LU work, one run's buffers and copies, and the kept curves of every run."""
    S, A, _M = shape
    T = n_iters
    uniforms = REINFORCE_CHUNK * batch * (2 * horizon + 1) * FLOAT if method == "sampled" else 0
    run = FLOAT * (2 * (T + 1) + 2 * T) + FLOAT * (S * S + 6 * S * A)  # values, steps (+copies)
    kept = FLOAT * (T + 1) * (N_RESTARTS * n_seeds * 2 + N_RESTARTS * 4)  # ratios, steps; curves
    return uniforms + run + kept


def learning_cost(
    shape: tuple[int, int, int],
    acyclic: bool,
    n_iters: int,
    method: str,
    batch: int,
    horizon: int,
    n_seeds: int,
) -> Cost:
    """The learning-curve study: 4 restarts × ``n_seeds`` runs of T = ``n_iters`` updates."""
    S = shape[0]
    per_update = exact_update_seconds(shape, acyclic)
    if method == "sampled":
        steps = batch * (min(horizon, S) if acyclic else horizon)  # acyclic: episodes ≤ S steps
        per_update += steps * SEC_ENV_STEP + batch * (2 * horizon + 1) * SEC_UNIFORM
    runs = N_RESTARTS * n_seeds
    return Cost(
        bytes=MARGIN * learning_bytes(shape, n_iters, method, batch, horizon, n_seeds),
        seconds=MARGIN * runs * (n_iters + 1) * per_update,
        what=f"learning-curve study ({runs} runs of T = {n_iters} updates)",
    )


def budgeted_learning(
    shape: tuple[int, int, int],
    acyclic: bool,
    n_iters: int,
    method: str,
    batch: int,
    horizon: int,
    n_seeds: int,
) -> tuple[int, int, str]:
    """``(n_seeds, n_iters, notice)`` that fit: fewer seeds first, then fewer updates T; the
    notice names the limit (``""`` if nothing was scaled). Raises
    :class:`~app.models.budget.OverBudget` if one seed of one update does not fit."""

    def cost(seeds: int, T: int) -> Cost:
        return learning_cost(shape, acyclic, T, method, batch, horizon, seeds)

    full = cost(n_seeds, n_iters)
    reason = full.problem(MAX_JOB_BYTES, MAX_JOB_SECONDS)
    if not reason:
        return n_seeds, n_iters, ""
    if cost(1, n_iters).fits():
        seeds, _ = largest_fitting(lambda s: cost(s, n_iters), n_seeds, minimum=1)
        return seeds, n_iters, f"{reason} Scaled down to {seeds} seeds (from {n_seeds})."
    T, _ = largest_fitting(lambda t: cost(1, t), n_iters, minimum=1)
    done = f"Scaled down to T = {T} updates (from {n_iters})"
    if n_seeds > 1:
        done += f" and 1 seed (from {n_seeds})"
    return 1, T, f"{reason} {done}."
