"""Learning curves of the Exploration maps tab: PG from each restart, summarised for plotting.

Runs in a :class:`~app.models.jobs.BackgroundJob` worker: plain arguments in, plain arrays out.
Each (restart, seed) run gets its own random stream ``SeedSequence([seed, restart, run])``, so
one curve does not change when another restart or seed count is added.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from kernels import exploration as ex
from kernels.common.progress import ProgressFn

#: Restart keys in plotting order, with their legend labels.
RESTARTS = {
    "rho": "ρ (start)",
    "mu": "μ (explorer)",
    "blend": "νᵦ (blend)",
    "uniform": "uniform over Sᵥ",
}


def first_reaching(values: np.ndarray, level: float) -> int | None:
    """First t with values[t] ≥ level (None if never)."""
    hit = np.flatnonzero(values >= level)
    return int(hit[0]) if hit.size else None


class LearningSettings(NamedTuple):
    """Everything one learning-curve study needs, frozen when it starts (it runs in a thread).

    ``restarts`` maps each restart key of :data:`RESTARTS` to ν (S,); ``n_iters`` is T,
    ``batch`` B and ``horizon`` H (REINFORCE); ``n_seeds`` runs per restart (1 for exact PG);
    ``v_star`` V*(ρ); ``explorer_cost`` the explorer's nominal K·B·H environment steps.
    """

    mdp: ex.TabularMDP
    restarts: dict[str, np.ndarray]
    gamma: float
    lr: float
    n_iters: int
    target_frac: float
    method: str
    batch: int
    horizon: int
    n_seeds: int
    seed: int
    v_star: float
    explorer_cost: int


def run_learning_curves(settings: LearningSettings, progress: ProgressFn) -> dict[str, Any]:
    """V^{π_t}(ρ)/V*(ρ) curves (mean, min, max over seeds) and the metric-table numbers."""
    mdp, restarts, gamma, lr = settings.mdp, settings.restarts, settings.gamma, settings.lr
    n_iters, target_frac, method = settings.n_iters, settings.target_frac, settings.method
    batch, horizon, n_seeds, seed = (
        settings.batch,
        settings.horizon,
        settings.n_seeds,
        settings.seed,
    )
    v_star, explorer_cost = settings.v_star, settings.explorer_cost
    n_runs = len(restarts) * n_seeds
    curves: dict[str, dict[str, Any]] = {}
    run = 0
    for r_index, (key, nu) in enumerate(restarts.items()):
        ratios, steps, firsts = [], [], []
        for s_index in range(n_seeds):
            done = run

            def report(fraction: float, done: int = done) -> bool:
                return progress((done + fraction) / n_runs)

            out = ex.policy_gradient(
                mdp,
                restart=nu,
                gamma=gamma,
                lr=lr,
                n_iters=n_iters,
                target_frac=target_frac,
                method=method,
                batch=batch,
                horizon=horizon,
                v_star=v_star,
                progress=report,
                rng=np.random.default_rng(np.random.SeedSequence([seed, r_index, s_index])),
            )
            ratios.append(out["values"] / v_star)
            if s_index == 0:  # the first seed's final policy, for the greedy-arrow maps
                final_policy = out["policy"]
            if method == "sampled":
                steps.append(np.cumsum(out["env_steps"]))
                firsts.append(out["first_goal_episode"])
            run += 1
        ratio = np.array(ratios)
        mean = ratio.mean(axis=0)
        curve: dict[str, Any] = {
            "mean": mean,
            "low": ratio.min(axis=0),
            "high": ratio.max(axis=0),
            "iters_half": [first_reaching(r, 0.5) for r in ratio],
            "iters_90": [first_reaching(r, 0.9) for r in ratio],
            "iters_target": [first_reaching(r, target_frac) for r in ratio],
        }
        curve["policy"] = final_policy
        curve["visitation"] = ex.state_visitation(mdp, final_policy, mdp.rho, gamma)
        if method == "sampled":
            cum = np.mean(steps, axis=0)  # mean environment steps after t updates
            offset = explorer_cost if key in ("mu", "blend") else 0
            curve["env_steps"] = offset + np.concatenate([[0.0], cum])
            curve["first_goal"] = firsts
        curves[key] = curve
    return {
        "curves": curves,
        "method": method,
        "n_iters": n_iters,
        "target_frac": target_frac,
        "n_seeds": n_seeds,
        "explorer_cost": explorer_cost,
    }
