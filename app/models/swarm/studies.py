"""Background studies of the Swarm escapes model (spec §4.6): the functions the jobs run.

Each takes plain arguments (a snapshot of the parameters at the click) and a progress callback,
so a study never reads a model that the user keeps changing meanwhile. Their sizes were fitted to
the work budget by the model before the click started them (:mod:`app.models.swarm.costs`); the
dual-annealing runs of the hitting-time study are bounded here (:func:`annealing_plan`, and a
wall-clock limit on the runs together).
"""

from __future__ import annotations

import time
from typing import Any

from app.models.jobs import ProgressFn
from app.models.swarm import costs
from kernels.common.progress import Cancelled
from kernels.swarm import studies as swarm_batch

#: Noise-level factors of the Kramers study.
KRAMERS_FACTORS = (1.0, 1.15, 1.3, 1.5, 1.75, 2.0)
#: Methods each study runs.
STUDY_METHODS = ("softmin", "langevin", "cbo", "pso")
SWEEP_METHODS = ("softmin", "langevin", "cbo")
KRAMERS_METHODS = ("softmin", "langevin")


def annealing_plan(args: dict[str, Any]) -> tuple[int, int, str]:
    """Runs and evaluations per run of the study's dual annealing, and a notice if the
    evaluation budget was lowered to keep one run within :data:`costs.ANNEAL_RUN_SECONDS`."""
    n_steps = round(args["t_max"] / args["dt"])
    budget = int(min(args["n_particles"] * n_steps, 200_000))
    runs = min(args["n_runs"], 50)
    cost = costs.annealing_run_cost(args["dim"], budget)
    if cost.fits(max_seconds=costs.ANNEAL_RUN_SECONDS):
        return runs, budget, ""
    lowered = max(10, int(costs.ANNEAL_RUN_SECONDS / (costs.MARGIN * costs.ANNEAL_EVAL_SECONDS)))
    notice = (
        f"{cost.problem(max_seconds=costs.ANNEAL_RUN_SECONDS)} Dual annealing: "
        f"{lowered} evaluations per run (from {budget})."
    )
    return runs, lowered, notice


def hitting_study(objective: str, args: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """Four methods with common random numbers (90 % of the bar), then dual annealing."""
    res = swarm_batch.hitting_time_study(
        objective,
        methods=STUDY_METHODS,
        progress=lambda f: progress(0.9 * f),
        **args,
    )
    runs, budget, notice = annealing_plan(args)
    deadline = time.monotonic() + costs.ANNEAL_SECONDS
    timed_out = [False]

    def anneal_progress(f: float) -> bool:
        if time.monotonic() > deadline:
            timed_out[0] = True
            return False
        return progress(0.9 + 0.1 * f)

    def anneal(n_runs: int, report: ProgressFn) -> swarm_batch.AnnealingStudy:
        return swarm_batch.annealing_study(
            objective,
            dim=args["dim"],
            n_runs=n_runs,
            max_evals=budget,
            seed=args["seed"],
            tilt=args["tilt"],
            progress=report,
        )

    try:
        annealing = anneal(runs, anneal_progress)
    except Cancelled as stop:
        if not timed_out[0]:
            raise
        # the runs done within the limit, again (run r reads seed [seed, r]: the same numbers)
        done = max(1, stop.steps_done)
        annealing = anneal(done, progress)
        notice = " ".join(
            s
            for s in (
                notice,
                f"Dual annealing reached its {costs.ANNEAL_SECONDS:.0f} s limit: "
                f"{done} of {runs} runs kept.",
            )
            if s
        )
    return {
        "methods": res,
        "annealing": annealing,
        "args": args,
        "objective": objective,
        "notice": notice,
    }


def sweep_values(beta0: float, sigma0: float) -> tuple[list[float], list[float]]:
    """The β₀ and σ₀ values the success sweep visits."""
    betas = sorted({0.0, beta0 / 10, beta0 / 3, beta0, 3 * beta0} | {0.5, 5.0})
    sigmas = sorted({round(sigma0 * s, 4) for s in (0.6, 0.8, 1.0, 1.25, 1.6)})
    return betas, sigmas


def success_sweep(
    objective: str, args: dict[str, Any], beta0: float, sigma0: float, progress: ProgressFn
) -> dict[str, Any]:
    betas, sigmas = sweep_values(beta0, sigma0)
    common = {k: v for k, v in args.items() if k not in ("beta0", "sigma0")}
    by_beta = swarm_batch.success_sweep(
        objective,
        name="beta0",
        values=betas,
        methods=SWEEP_METHODS,
        sigma0=sigma0,
        progress=lambda f: progress(0.5 * f),
        **common,
    )
    by_sigma = swarm_batch.success_sweep(
        objective,
        name="sigma0",
        values=sigmas,
        methods=SWEEP_METHODS,
        beta0=beta0,
        progress=lambda f: progress(0.5 + 0.5 * f),
        **common,
    )
    return {"beta": by_beta, "sigma": by_sigma}


def kramers(args: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    sigma0 = args.pop("sigma0")
    sigmas = [sigma0 * s for s in KRAMERS_FACTORS]
    args["methods"] = KRAMERS_METHODS
    out = swarm_batch.kramers_study(sigmas=sigmas, progress=progress, **args)
    out["args"] = {**args, "sigma0": sigma0}
    return out
