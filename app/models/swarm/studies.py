"""Background studies of the Swarm escapes model (spec §4.6): the functions the jobs run.

Each takes plain arguments (a snapshot of the parameters at the click) and a progress callback,
so a study never reads a model that the user keeps changing meanwhile.
"""

from __future__ import annotations

from typing import Any

from app.models.jobs import ProgressFn
from kernels.swarm import studies as swarm_batch


def hitting_study(objective: str, args: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    """Four methods with common random numbers (90 % of the bar), then dual annealing."""
    res = swarm_batch.hitting_time_study(
        objective,
        methods=("softmin", "langevin", "cbo", "pso"),
        progress=lambda f: progress(0.9 * f),
        **args,
    )
    n_steps = round(args["t_max"] / args["dt"])
    budget = int(min(args["n_particles"] * n_steps, 200_000))
    runs = min(args["n_runs"], 50)
    annealing = swarm_batch.annealing_study(
        objective,
        dim=args["dim"],
        n_runs=runs,
        max_evals=budget,
        seed=args["seed"],
        tilt=args["tilt"],
        progress=lambda f: progress(0.9 + 0.1 * f),
    )
    return {"methods": res, "annealing": annealing, "args": args, "objective": objective}


def success_sweep(
    objective: str, args: dict[str, Any], beta0: float, sigma0: float, progress: ProgressFn
) -> dict[str, Any]:
    betas = sorted({0.0, beta0 / 10, beta0 / 3, beta0, 3 * beta0} | {0.5, 5.0})
    sigmas = sorted({round(sigma0 * s, 4) for s in (0.6, 0.8, 1.0, 1.25, 1.6)})
    common = {k: v for k, v in args.items() if k not in ("beta0", "sigma0")}
    methods = ("softmin", "langevin", "cbo")
    by_beta = swarm_batch.success_sweep(
        objective,
        name="beta0",
        values=betas,
        methods=methods,
        sigma0=sigma0,
        progress=lambda f: progress(0.5 * f),
        **common,
    )
    by_sigma = swarm_batch.success_sweep(
        objective,
        name="sigma0",
        values=sigmas,
        methods=methods,
        beta0=beta0,
        progress=lambda f: progress(0.5 + 0.5 * f),
        **common,
    )
    return {"beta": by_beta, "sigma": by_sigma}


def kramers(args: dict[str, Any], progress: ProgressFn) -> dict[str, Any]:
    sigma0 = args.pop("sigma0")
    sigmas = [sigma0 * s for s in (1.0, 1.15, 1.3, 1.5, 1.75, 2.0)]
    args["methods"] = ("softmin", "langevin")
    out = swarm_batch.kramers_study(sigmas=sigmas, progress=progress, **args)
    out["args"] = {**args, "sigma0": sigma0}
    return out
