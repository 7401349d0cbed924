"""What the Swarm escapes tab's work costs, estimated before anything is allocated (issue 13).

Every piece of work the tab runs is a loop of Euler–Maruyama steps of some of the four methods
(softmin, Langevin, CBO, PSO) over an (N, d) cloud, fed by noise drawn in chunks, plus SciPy's
dual annealing in the hitting-time study:

* the animated run: one tick advances all four methods by ``speed`` steps from noise drawn for
  the whole tick; its recorded history is bounded (``MAX_RECORDS`` rows, ``TRAIL_FRAMES`` frames);
* the hitting-time study (four methods, M runs of ``T / h`` steps, chunks of ``CHUNK_STEPS``),
  the β/σ sweep (three methods, one study per swept value) and the Kramers study (two methods,
  six noise levels, a horizon of at least 200);
* dual annealing: at most ``min(max_evals, ANNEAL_EVALS_PER_DIM · d)`` objective calls a run.

Seconds are step counts times per-step constants measured on the 2-core reference machine
(see :data:`STEP_NS`, :data:`COORD_NS`, :data:`ANNEAL_EVAL_SECONDS`), times :data:`MARGIN`.
They assume that no method hits the target early (the worst case: a study usually stops sooner).
"""

from __future__ import annotations

from app.models.budget import Cost
from kernels.swarm.driver import CHUNK_STEPS

#: Safety factor on every measured constant. 1: the constants below were measured while five
#: other test sessions loaded the two cores, so they already overstate a quiet machine, and
#: the job deadline (app.models.jobs.JOB_DEADLINE_S) bounds any study whatever its estimate.
MARGIN = 1.0

# Measured 2026-12-05 on the 2-core reference machine while five other test sessions ran:
# kernels.swarm.advance of one method through noise it draws itself (draw_noise, included),
# 3 repeats, the fastest kept; a = time per step at N = d = 1 (20 000 steps), b = the extra time
# per particle coordinate and step at N = 100, d = 20 (200 steps), per landscape (the cost of f
# and ∇f differs). Rounded up; the estimate is MARGIN × (a + b · N · d) per step and method.
#: a: nanoseconds per step of one method (the largest over the landscapes).
STEP_NS = {"softmin": 95.0, "langevin": 65.0, "cbo": 140.0, "pso": 60.0}
#: b: nanoseconds per particle coordinate and step of one method, per landscape.
COORD_NS = {
    "tilted_double_well": {"softmin": 21.0, "langevin": 18.0, "cbo": 38.0, "pso": 20.0},
    "quadratic": {"softmin": 7.0, "langevin": 8.0, "cbo": 27.0, "pso": 8.0},
    "ackley": {"softmin": 25.0, "langevin": 23.0, "cbo": 40.0, "pso": 22.0},
    "rastrigin": {"softmin": 34.0, "langevin": 23.0, "cbo": 51.0, "pso": 19.0},
    "styblinski_tang": {"softmin": 25.0, "langevin": 21.0, "cbo": 46.0, "pso": 8.0},
    "rosenbrock": {"softmin": 13.0, "langevin": 9.0, "cbo": 39.0, "pso": 7.0},
}
ALL_METHODS = ("softmin", "langevin", "cbo", "pso")

# SciPy's dual_annealing (kernels.swarm.studies.annealing_study) on a target it never hits:
# 61 µs per evaluation at d = 50 (20 000 evaluations), 85 µs at d = 2 and 115 µs at d = 1 (the
# default maxiter = 1000 stopped it after 4022 and 2033 evaluations: about 2000 per dimension
# plus the local searches). Rounded up to 120 µs; MARGIN on top.
#: Seconds per objective evaluation of dual annealing.
ANNEAL_EVAL_SECONDS = 120e-6
#: Evaluations one annealing run can make at most per dimension (maxiter = 1000 iterations).
ANNEAL_EVALS_PER_DIM = 2500
#: Estimated seconds one annealing run may take (its evaluation budget is lowered to fit).
ANNEAL_RUN_SECONDS = 3.0
#: Wall-clock seconds the annealing runs of one study may take together; runs past it are
#: dropped (the runs that fit are computed again, reproducibly: run r uses seed [seed, r]).
ANNEAL_SECONDS = 6.0

#: Longest a single animation frame's steps may take (the speed is capped per frame to fit).
MAX_TICK_SECONDS = 0.2

#: Bytes of one recorded history entry: a Python float (24) and its list slot (8).
_FLOAT_ENTRY_BYTES = 32


def step_seconds(objective: str, methods: tuple[str, ...], n: int, d: int) -> float:
    """Estimated seconds of one step of every method in ``methods`` on an (n, d) cloud."""
    coord = COORD_NS[objective]
    ns = sum(STEP_NS[m] + coord[m] * n * d for m in methods)
    return MARGIN * ns * 1e-9


def noise_bytes(n_steps: int, n: int, d: int, pso: bool) -> int:
    """Bytes of the noise drawn for ``n_steps`` steps: the normals (padded to an even count),
    the uniforms of Box–Muller behind them (a temporary of the same size) and, with PSO, its
    own uniforms (n_steps, 2, N, d)."""
    size = n_steps * n * d
    normals = 8 * (size + size % 2)
    return 2 * normals + (16 * size if pso else 0)


def tick_cost(objective: str, n_steps: int, n: int, d: int) -> Cost:
    """One animation frame of ``n_steps`` steps: noise for the frame, the four methods, the
    best-so-far buffers ``advance`` allocates (one float a step and method)."""
    return Cost(
        bytes=noise_bytes(n_steps, n, d, pso=True) + 8 * n_steps * len(ALL_METHODS),
        seconds=n_steps * step_seconds(objective, ALL_METHODS, n, d),
        what=f"animation frame of {n_steps} steps",
    )


def run_cost(n: int, d: int, history_fields: int, max_records: int, trail_frames: int) -> Cost:
    """The animated run's recorded history: ``history_fields`` lists of at most
    ``max_records + 1`` floats, ``trail_frames + 1`` frames of positions, the five states
    (swarm, three ghosts, x0) and the 200 × 200 landscape grid."""
    history = history_fields * (max_records + 1) * _FLOAT_ENTRY_BYTES
    positions = 8 * n * d * (trail_frames + 1 + 5 * 3 + 1)
    grid = 8 * 200 * 200
    return Cost(bytes=history + positions + grid, seconds=0.0, what="recorded run")


def study_cost(
    objective: str,
    methods: tuple[str, ...],
    n_runs: int,
    n_steps: int,
    n: int,
    d: int,
    n_studies: int = 1,
    what: str = "hitting-time study",
) -> Cost:
    """``n_studies`` hitting-time studies of ``n_runs`` runs of ``n_steps`` steps of
    ``methods`` (:func:`kernels.swarm.studies.hitting_time_study`): one chunk of noise at a
    time, the states of every method, the per-run records; no early hits assumed."""
    chunk = min(CHUNK_STEPS, max(1, n_steps))
    states = len(methods) * 8 * (3 * n * d + n + d)
    records = len(methods) * 4 * 8 * n_runs
    memory = noise_bytes(chunk, n, d, "pso" in methods) + 8 * chunk * len(methods)
    seconds = n_studies * n_runs * n_steps * step_seconds(objective, methods, n, d)
    return Cost(bytes=memory + states + records, seconds=seconds, what=what)


def annealing_run_evals(d: int, max_evals: int) -> int:
    """Evaluations one dual-annealing run can make: its budget, or what maxiter allows."""
    return min(max_evals, ANNEAL_EVALS_PER_DIM * d)


def annealing_run_cost(d: int, max_evals: int) -> Cost:
    """One dual-annealing run in dimension ``d`` with ``max_evals`` evaluations at most."""
    evals = annealing_run_evals(d, max_evals)
    return Cost(
        bytes=8 * 64 * d * d,  # L-BFGS-B's memory and the visiting state: O(d²) floats at most
        seconds=MARGIN * evals * ANNEAL_EVAL_SECONDS,
        what="dual-annealing run",
    )
