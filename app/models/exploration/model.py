r"""Exploration maps: the behaviour of the tab (spec ``models/exploration.md``).

A layout (four rooms, distractor rooms, corridor, combination lock, DeepSea, FrozenLake 8×8)
is explored by the Curious Explorer; the player scrubs through its iterations k, and a
background job runs policy gradient (exact or REINFORCE) restarted from ρ, μ, ν_β and uniform.
Restart params rebuild the MDP and the explorer (cached per parameter set); live params only
rerun the learning curves, reusing μ. After Miani, Parton, Romito, arXiv:2106.15503.

The params are declared in :class:`app.models.exploration.params.ExplorationParams`; everything
the views draw (map geometry, greedy arrows, colour values, coverage and learning series) is
computed here.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import param

from app.models.budget import OverBudget
from app.models.exploration import costs, maps
from app.models.exploration.cache import budgeted_key, explore_cached, make_layout
from app.models.exploration.params import (
    EXPLORER_PARAMS,
    LAYOUT_NAMES,
    TEACHING_DEFAULT,
    ExplorationParams,
)
from app.models.exploration.studies import RESTARTS, LearningSettings, run_learning_curves
from app.models.jobs import BackgroundJob
from kernels import exploration as ex

#: Message of stale learning curves (kept on screen, labelled, until the rerun replaces them).
LEARNING_STALE_MESSAGE = "Parameters changed: the curves are stale, rerunning…"


class ExplorationModel(ExplorationParams):
    """Curious Explorer maps and PG learning curves (spec §2–§5)."""

    #: Seconds between two player frames: one explorer iteration per frame is readable at
    #: about 1.5 Hz (the tab's tick honours it).
    frame_interval: ClassVar[float] = 0.7

    def __init__(self, **params: Any) -> None:
        self.learning = BackgroundJob(name="learning")
        self.explorer_notice = ""
        #: what the budget scaled down or refused in the last learning study ("" if nothing)
        self.learning_notice = ""
        super().__init__(**params)
        #: the learning curves, rerun once the live params rest (restart params: _initialize)
        self.learning_study = self.rerun_when_idle(
            self.learning,
            self._start_learning,
            watch=self.live_params,
            stale_message=LEARNING_STALE_MESSAGE,
        )
        self.learning_study.mark_stale()  # a fresh model starts nothing by itself
        self.param.watch(self._on_distractor, ["distractor_reward"])
        self.param.watch(self._on_k_view, ["k_view"])

    # ------------------------------------------------------------- explorer
    def explorer_key(self) -> tuple[Any, ...]:
        """The explorer's cache key: its params, K scaled down to the explorer's budget."""
        return budgeted_key(self.requested_explorer_key())[0]

    def requested_explorer_key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in EXPLORER_PARAMS)

    @property
    def explorer_budget_notice(self) -> str:
        """Why K was scaled down to the explorer's budget (``""`` if it was not)."""
        try:
            return budgeted_key(self.requested_explorer_key())[1]
        except ValueError:
            return ""

    def _initialize(self, rng: np.random.Generator) -> None:
        try:
            mdp, result, coverage, metrics = explore_cached(self.explorer_key())
        except OverBudget as exc:  # even K = 1 over the explorer's budget: refused
            self.explorer_notice = f"Explorer refused: {exc}"
            if not hasattr(self, "explorer"):
                raise
            return
        except ValueError as exc:  # bounded params should prevent this; never crash a session
            self.explorer_notice = f"Could not build this layout: {exc}"
            if not hasattr(self, "explorer"):
                raise
            return
        self.explorer, self.coverage, self.metrics = result, coverage, metrics
        self.mdp = self._learning_mdp(mdp)
        self.optimal = ex.optimal_policy(self.mdp, self.gamma)
        n = result["n_iters"]
        self.param.k_view.bounds = (0, max(n, 1))
        self._setting_k = True
        try:
            self.k_view = n
        finally:
            self._setting_k = False
        self.explorer_notice = self._describe_explorer()
        if self.explorer_budget_notice:
            self.explorer_notice += f" {self.explorer_budget_notice}"
        if hasattr(self, "learning_study"):  # not yet during the first reset
            self.learning_study.mark_stale()

    def _learning_mdp(self, mdp: ex.TabularMDP) -> ex.TabularMDP:
        """The explorer's MDP, rebuilt with the live distractor reward where it matters."""
        if mdp.layout != "distractor_rooms" or self.distractor_reward == 0.1:
            return mdp
        return make_layout(self.param_values(), distractor_reward=self.distractor_reward)

    def _describe_explorer(self) -> str:
        res = self.explorer
        n, k_stop = res["n_iters"], res["k_stop"]
        delta = res["delta"]
        if k_stop == 1:
            return (
                f"δ = {delta:.2g} is below every state's share of D₀: no state is poorly "
                "visited, so μ is the uniform policy's visitation. Raise c to explore."
            )
        if k_stop:
            return f"U emptied at k = {k_stop}: {n} curious policies, δ = {delta:.2g}."
        K = self.explorer_key()[EXPLORER_PARAMS.index("n_explore")]
        return f"U never emptied within K = {K} (δ = {delta:.2g}); μ = D_{n}."

    @property
    def n_iters(self) -> int:
        return int(self.explorer["n_iters"])

    def frame_arrays(self, k: int | None = None) -> dict[str, np.ndarray]:
        """Maps of iteration k: mixture D_k, U_{k+1}, d^{π_k}, π_k."""
        k = self.k_view if k is None else k
        k = min(max(int(k), 0), self.n_iters)
        res = self.explorer
        return {
            "mixture": res["mixtures"][k],
            "poorly": res["poorly_visited"][k],
            "visitation": res["visitations"][k],
            "policy": res["policies"][k],
        }

    def frame_summary(self, k: int | None = None) -> dict[str, float]:
        """Numbers of iteration k for the readouts: |U_{k+1}|, |S_v|, δ and the coverage of D̄_k."""
        k = self.k_view if k is None else min(max(int(k), 0), self.n_iters)
        res, cov = self.explorer, self.coverage
        return {
            "k": k,
            "n_iters": self.n_iters,
            "n_poorly": int(res["poorly_visited"][k].sum()),
            "n_valid": int(res["candidates"].sum()),
            "delta": float(res["delta"]),
            "entropy": float(cov["entropy"][k]),
            "min_mass": float(cov["min_mass"][k]),
            "mismatch": float(cov["mismatch"][k]),
        }

    def coverage_series(self) -> dict[str, np.ndarray]:
        """Coverage curves against k (spec §4.2); the log-axis ones floored at
        :data:`~app.models.exploration.maps.LOG_FLOOR`."""
        cov = self.coverage
        return {
            "k": np.asarray(cov["k"]),
            "frac": cov["frac_poorly"],
            "entropy": cov["entropy"],
            "opt_u": cov["opt_mass_on_U"],
            "min_mass": np.maximum(cov["min_mass"], maps.LOG_FLOOR),
            "mismatch": np.maximum(cov["mismatch"], maps.LOG_FLOOR),
        }

    def restarts(self) -> dict[str, np.ndarray]:
        """The four restart distributions ν: ρ, μ, ν_β, uniform over S_v."""
        mu = self.explorer["mu"]
        return {
            "rho": self.mdp.rho,
            "mu": mu,
            "blend": ex.blend_restart(self.mdp.rho, mu, self.restart_beta),
            "uniform": ex.uniform_restart(self.mdp),
        }

    # ----------------------------------------------------------------- maps
    def map_geometry(self) -> dict[str, Any]:
        """Drawn cells, walls, absorbing and start cells of the current MDP
        (:func:`app.models.exploration.maps.grid_geometry`, cached per MDP)."""
        cached = getattr(self, "_geometry", None)
        if cached is None or cached[0] is not self.mdp:
            self._geometry = (self.mdp, maps.grid_geometry(self.mdp))
        return self._geometry[1]

    def greedy_arrows(self, pi: np.ndarray) -> dict[str, Any]:
        """x, y and arrow text of the drawn cells where π (S, A) has a greedy action."""
        mdp = self.mdp
        mapping = None
        if mdp.layout == "deep_sea":
            mapping = ex.deep_sea_mapping(mdp.grid_shape[0], self.mapping_seed)
        return maps.arrow_cells(maps.greedy_labels(mdp, pi, mapping), self.map_geometry())

    def map_colour_range(self) -> tuple[float, float]:
        """(low, high) of the maps' log colour scale over the whole explorer run."""
        return maps.colour_range(self.explorer, self.map_geometry()["drawn"])

    def map_values(self, values: np.ndarray, low: float) -> np.ndarray:
        """Shares ``values`` (S,) of the drawn cells, raised to ``low``, NaN where unreachable."""
        drawn = self.map_geometry()["drawn"]
        return maps.shown_values(values, self.explorer["reachable"], drawn, low)

    def learned_policy_maps(self) -> dict[str, dict[str, Any] | None]:
        """Per restart ρ and μ: d^{π_T}_ρ of the first seed's learned policy on the drawn cells
        (floored at :data:`~app.models.exploration.maps.FLOOR`) and its greedy arrows; None
        until learning curves of the current MDP exist."""
        result = self.learning.result
        drawn = self.map_geometry()["drawn"]
        out: dict[str, dict[str, Any] | None] = {}
        for key in ("rho", "mu"):
            curves = None if result is None else result["curves"].get(key)
            if curves is None or len(curves["visitation"]) != self.mdp.n_states:
                out[key] = None
                continue
            out[key] = {
                "value": np.maximum(curves["visitation"][drawn], maps.FLOOR),
                "arrows": self.greedy_arrows(curves["policy"]),
            }
        return out

    # --------------------------------------------------------------- player
    def _advance(self, n_steps: int, rng: np.random.Generator) -> float:
        # the player loops over k = 0..n (scrubbing, not a simulation with a horizon)
        self._setting_k = True
        try:
            self.k_view = (self.k_view + n_steps) % (self.n_iters + 1)
        finally:
            self._setting_k = False
        return float(self.k_view)

    def _on_k_view(self, event: param.parameterized.Event) -> None:
        if not getattr(self, "_setting_k", False):
            self._bump_frame()

    def _run_arrays(self) -> dict[str, np.ndarray]:
        res = self.explorer
        arrays: dict[str, np.ndarray] = {
            "mu": np.asarray(res["mu"]),
            "mixtures": np.asarray(res["mixtures"]),
            "visitations": np.asarray(res["visitations"]),
            "poorly_visited": np.asarray(res["poorly_visited"]),
            "policies": np.asarray(res["policies"]),
            "rho": self.mdp.rho,
            "coords": self.mdp.coords,
        }
        for name in ("k", "frac_poorly", "entropy", "min_mass", "opt_mass_on_U", "mismatch"):
            arrays[f"coverage_{name}"] = np.asarray(self.coverage[name])
        curves = self.learning.result
        if curves is not None:
            for key, curve in curves["curves"].items():
                arrays[f"value_ratio_{key}"] = curve["mean"]
        return arrays

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"mu": np.asarray(self.explorer["mu"])}

    # ------------------------------------------------------------- learning
    def _on_distractor(self, event: param.parameterized.Event) -> None:
        self.mdp = self._learning_mdp(explore_cached(self.explorer_key())[0])
        self.optimal = ex.optimal_policy(self.mdp, self.gamma)

    def learn_at_next_poll(self) -> None:
        """Fill stale learning curves at the next :meth:`poll`, without waiting for the
        params to rest (a live view opening: throwaway models never start them)."""
        self.learning_study.run_at_next_poll()

    def learning_settings(self) -> LearningSettings:
        """Everything the learning job needs, frozen at start (the job runs in a thread)."""
        return LearningSettings(
            mdp=self.mdp,
            restarts=self.restarts(),
            gamma=self.gamma,
            lr=self.lr,
            n_iters=self.n_pg_iters,
            target_frac=self.target_frac,
            method=self.gradient,
            batch=self.batch,
            horizon=self.horizon,
            n_seeds=self.n_seeds if self.gradient == "sampled" else 1,
            seed=self.seed,
            v_star=self.optimal["v_rho"],
            explorer_cost=self.explorer_cost(),
        )

    def explorer_cost(self) -> int:
        """Nominal environment steps of the exact explorer: K·B·H (it draws no samples)."""
        return self.n_iters * self.batch * self.horizon

    def run_learning(self) -> None:
        """Learning curves from the four restarts, off the event loop (progress, cancel)."""
        self.learning_study.run()

    def budgeted_learning_settings(self) -> tuple[LearningSettings | None, str]:
        """The learning settings scaled down to the job budget (fewer seeds, then fewer
        updates T) and the notice naming the limit; ``(None, notice)`` if refused."""
        settings = self.learning_settings()
        try:
            seeds, n_iters, notice = costs.budgeted_learning(
                settings.mdp.nxt.shape,
                settings.mdp.acyclic,
                settings.n_iters,
                settings.method,
                settings.batch,
                settings.horizon,
                settings.n_seeds,
            )
        except OverBudget as exc:
            return None, f"Learning curves refused: {exc}"
        if notice:
            settings = settings._replace(n_seeds=seeds, n_iters=n_iters)
            notice = f"Learning curves: {notice}"
        return settings, notice

    def _start_learning(self) -> None:
        # checked before anything is allocated; the notice shows in the status line
        settings, notice = self.budgeted_learning_settings()
        previous, self.learning_notice = self.learning_notice, notice
        if notice:
            self.status = notice
        elif previous and self.status == previous:
            self.status = ""
        if settings is None:
            self.learning.cancel()
            self.learning.param.update(running=False, progress=0.0, error=notice, message="")
            return
        label = "REINFORCE" if settings.method == "sampled" else "Exact PG"
        if notice:
            label += " (scaled down to the budget)"
        self.learning.start(lambda progress: run_learning_curves(settings, progress), label)

    def learning_series(self, steps_view: bool) -> dict[str, dict[str, np.ndarray]] | None:
        """Per restart: x (PG iteration t, or environment steps) and the mean, low and high of
        V^{π_t}(ρ)/V*(ρ); None before the first learning result.

        Environment steps: REINFORCE's sampled steps (μ and ν_β offset by the explorer's
        nominal cost K·B·H); exact PG draws none, so its steps are nominal, B·H per iteration.
        """
        result = self.learning.result
        if result is None:
            return None
        sampled = result["method"] == "sampled"
        nominal = self.batch * self.horizon
        series = {}
        for key, curve in result["curves"].items():
            t = np.arange(len(curve["mean"]), dtype=float)
            if steps_view:
                x = (
                    curve["env_steps"]
                    if sampled
                    else t * nominal + (result["explorer_cost"] if key in ("mu", "blend") else 0)
                )
            else:
                x = t
            series[key] = {
                "x": x,
                "mean": curve["mean"],
                "low": curve["low"],
                "high": curve["high"],
            }
        return series


__all__ = [
    "LAYOUT_NAMES",
    "RESTARTS",
    "TEACHING_DEFAULT",
    "ExplorationModel",
    "make_layout",
]
