"""The background studies of the Adaptive SGD tab: what runs in the job threads.

:meth:`app.models.adaptive.model.AdaptiveModel.run_weak_error` and
:meth:`~app.models.adaptive.model.AdaptiveModel.run_scaling` gather their arguments from the
params on the event loop (:func:`weak_error_args`, :func:`scaling_args`); the functions below
run the kernel studies with them off the loop, reporting progress to the job.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from app.models import budget
from app.models.adaptive import costs
from app.models.jobs import BackgroundJob, ProgressFn
from app.models.warm import SharedResults
from kernels.adaptive import studies as kernel_studies

#: Highest c1, c2 of the weak-error study: c τ ≤ 1 at its largest step τ = 1/4.
WEAK_C_MAX = 4.0
#: Most paths per κ in the scaling study (it runs κ max / 2 + 2 ensembles).
SCALING_MAX_PATHS = 512
#: Fewest paths a budget leaves the weak-error study (the control's lower bound).
WEAK_MIN_PATHS = 1000
#: Fewest paths and records per run a budget leaves the scaling study.
SCALING_MIN_PATHS = 16
SCALING_MIN_RECORDS = 400
#: Weak-error results kept per process, by their arguments (:func:`weak_key`): the "Weak order"
#: preset's study is computed at start-up (:func:`app.models.adaptive.model.warm_weak_study`),
#: and a class choosing the same parameters and seed together should pay for it once.
WEAK_CACHE_SIZE = 8
#: The process-wide store of weak-error results (without their budget notices) and of the
#: start-up job computing the preset's.
#: The preset's start-up study is also kept on disk (computed once per installation).
WEAK_STUDIES = SharedResults("weak-error study", max_size=WEAK_CACHE_SIZE, disk_slug="adaptive")


def weak_error_args(model: Any) -> dict[str, Any]:
    """Arguments of :func:`kernels.adaptive.studies.weak_error_study` from ``model``'s params."""
    e = model.effective()
    opts = model.sim_options(e)
    opts.pop("v_floor")
    args = dict(
        optimizer=e["optimizer"],
        regime=e["regime"],
        theta0=e["theta0"],
        landscape=model.landscape,
        n_paths=model.weak_paths,
        seed=model.seed,
        t_max=1.0,
        **opts,
    )
    orders: tuple[str, ...] = ("ode", "sde1", "sme2", "sme2_no_w2")
    if "sme2" not in model.orders_available(e):
        orders = ("ode", "sde1")
    if e["optimizer"] == "sgd":
        orders = ("ode", "sde1", "sme2")
    args["orders"] = orders
    args["c1"], args["c2"] = min(e["c1"], WEAK_C_MAX), min(e["c2"], WEAK_C_MAX)
    return args


def scaling_args(model: Any) -> dict[str, Any]:
    """Arguments of :func:`kernels.adaptive.studies.scaling_study` from ``model``'s params."""
    e = model.effective()
    opts = model.sim_options(e)
    for key in ("c1", "c2", "eps", "noise_std"):
        opts.pop(key)
    kappas = [2**i for i in range(int(math.log2(model.kappa_max)) + 1)]
    return dict(
        optimizer=e["optimizer"],
        regime=e["regime"],
        kappas=kappas,
        rule=model.scaling_rule,
        tau=e["tau"],
        c1=e["c1"],
        c2=e["c2"],
        eps=model.eps,
        sigma=model.sigma,
        t_max=model.t_final,
        n_paths=min(model.n_paths, SCALING_MAX_PATHS),
        seed=model.seed,
        landscape=model.landscape,
        theta0=e["theta0"],
        **opts,
    )


def fit_weak_error(args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """``args`` of the weak-error study within the job budget: fewer paths if needed (at least
    the 1000 of the control's lower bound), and the notice; :class:`OverBudget` if even that
    does not fit."""

    def cost(n_paths: int) -> budget.Cost:
        return costs.weak_error_cost(
            args["optimizer"], args["landscape"], args["orders"], n_paths, args.get("w2", True)
        )

    n = args["n_paths"]
    fitted, notice = budget.largest_fitting(cost, n, minimum=min(n, WEAK_MIN_PATHS))
    if notice:
        notice = f"{notice[:-1]} paths."
    return {**args, "n_paths": fitted}, notice


def scaling_taus(args: dict[str, Any]) -> list[float]:
    """The step τ of every κ of the scaling study (after the study's own clamping)."""
    return [
        kernel_studies.scaled_parameters(
            args["optimizer"],
            args["regime"],
            k,
            args["rule"],
            tau=args["tau"],
            c1=args["c1"],
            c2=args["c2"],
            eps=args["eps"],
            sigma=args["sigma"],
        )["tau"]
        for k in args["kappas"]
    ]


def fit_scaling(args: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """``args`` of the scaling study within the job budget: records kept more sparsely if the
    runs' histories would not fit (the curves are resampled on 200 points anyway), then fewer
    paths if it would take too long; the notice; :class:`OverBudget` if nothing fits."""
    taus = scaling_taus(args)
    t_max, tau = args["t_max"], args["tau"]
    n_min = min(costs.scaling_steps([*taus, tau], t_max))
    n_max = max(costs.scaling_steps([*taus, tau], t_max))

    def cost(paths: int, rec: int) -> budget.Cost:
        return costs.scaling_cost(
            args["optimizer"], args["landscape"], taus, tau, t_max, paths, rec
        )

    notes = []
    rec, paths = 1, args["n_paths"]
    if cost(paths, 1).bytes > budget.MAX_JOB_BYTES:
        # the fewest records per run that the study needs: its 200-point grid
        kept, _ = budget.largest_fitting(
            lambda m: cost(paths, min(n_min, max(1, -(-n_max // m)))),
            n_max,
            minimum=min(n_max, SCALING_MIN_RECORDS),
            max_seconds=math.inf,
        )
        rec = min(n_min, max(1, -(-n_max // kept)))
        notes.append(
            f"{cost(paths, 1).problem()} Recorded every {rec}th step instead of every step."
        )
    paths, note = budget.largest_fitting(
        lambda p: cost(p, rec), paths, minimum=min(paths, SCALING_MIN_PATHS)
    )
    if note:
        notes.append(f"{note[:-1]} paths.")
    out = {**args, "n_paths": paths}
    if rec > 1:
        out["record_every"] = rec
    return out, " ".join(notes)


def weak_error(progress: ProgressFn, args: dict[str, Any], notice: str = "") -> dict[str, Any]:
    """Weak error vs τ (runs in the job thread), kept in :data:`WEAK_STUDIES` for the next
    session asking for these ``args``; ``notice`` (how the budget scaled it) goes into the
    result."""
    result = kernel_studies.weak_error_study(progress=progress, **args)
    WEAK_STUDIES.put(weak_key(args), result)
    return with_notice(result, notice)


def start_weak_study(args: dict[str, Any], persist: bool = False) -> BackgroundJob:
    """Compute the weak-error study of ``args`` into :data:`WEAK_STUDIES` in a job of the store
    (a session asking for the same ``args`` meanwhile follows it: :meth:`SharedResults.job`);
    ``persist`` also writes it to the store's disk cache."""
    return WEAK_STUDIES.start(
        weak_key(args),
        lambda progress: kernel_studies.weak_error_study(progress=progress, **args),
        "Weak error vs τ",
        persist=persist,
    )


def with_notice(result: dict[str, Any], notice: str) -> dict[str, Any]:
    """A new dict of a weak-error ``result`` (a panel redraws; the kept one stays as it was),
    with the budget's ``notice`` if there is one."""
    out = dict(result)
    if notice:
        out["notice"] = notice
    return out


def weak_key(args: dict[str, Any]) -> str:
    """The key of a weak-error study's ``args`` in :data:`WEAK_STUDIES`: a text of their values
    (arrays by their values)."""

    def plain(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return repr(sorted((name, plain(value)) for name, value in args.items()))


def scaling(progress: ProgressFn, args: dict[str, Any], notice: str = "") -> dict[str, Any]:
    """Chain E f(θ_t) per κ under the scaling rule (runs in the job thread); ``notice`` joins
    the result's messages."""
    result = kernel_studies.scaling_study(progress=progress, **args)
    if notice:
        result["messages"] = [*result["messages"], notice]
        result["notice"] = notice
    return result
