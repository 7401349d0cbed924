"""The background studies of the Adaptive SGD tab: what runs in the job threads.

:meth:`app.models.adaptive.model.AdaptiveModel.run_weak_error` and
:meth:`~app.models.adaptive.model.AdaptiveModel.run_scaling` gather their arguments from the
params on the event loop (:func:`weak_error_args`, :func:`scaling_args`); the functions below
run the kernel studies with them off the loop, reporting progress to the job.
"""

from __future__ import annotations

import math
from typing import Any

from app.models.jobs import ProgressFn
from kernels.adaptive import studies as kernel_studies

#: Highest c1, c2 of the weak-error study: c τ ≤ 1 at its largest step τ = 1/4.
WEAK_C_MAX = 4.0
#: Most paths per κ in the scaling study (it runs κ max / 2 + 2 ensembles).
SCALING_MAX_PATHS = 512


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


def weak_error(progress: ProgressFn, args: dict[str, Any]) -> dict[str, Any]:
    """Weak error vs τ (runs in the job thread)."""
    return kernel_studies.weak_error_study(progress=progress, **args)


def scaling(progress: ProgressFn, args: dict[str, Any]) -> dict[str, Any]:
    """Chain E f(θ_t) per κ under the scaling rule (runs in the job thread)."""
    return kernel_studies.scaling_study(progress=progress, **args)
