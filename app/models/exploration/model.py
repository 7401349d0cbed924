r"""Exploration maps: the behaviour of the tab (spec ``models/exploration.md``).

A layout (four rooms, distractor rooms, corridor, combination lock, DeepSea, FrozenLake 8×8)
is explored by the Curious Explorer, and a background job runs policy gradient (exact or
REINFORCE) restarted from ρ, μ, ν_β and uniform. Play walks through one run in two acts: the
explorer's iterations k = 0..K, each split into a few steps in which the new curious policy's
episodes join the mixture, then the learning curves, revealed update by update (a geometric
schedule: the first updates slowly, the long tail faster).
Restart params rebuild the MDP and the explorer (cached per parameter set); live params only
rerun the learning curves, reusing μ. After Miani, Parton, Romito, arXiv:2106.15503.

The params are declared in :class:`app.models.exploration.params.ExplorationParams`; everything
the views draw (map geometry, greedy arrows, colour values, coverage and learning series) is
computed here.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import param

from app.models.budget import OverBudget
from app.models.exploration import costs, maps
from app.models.exploration.cache import budgeted_key, explore_cached, make_layout
from app.models.exploration.params import (
    DEFAULT_EXPLORER_ACT_STEPS,
    EXPLORER_ACT_STEPS,
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
#: Each step of the learning act reveals this factor more PG updates (at least one more).
REVEAL_RATIO = 1.05
#: Most points of one learning curve sent to the browser (a fixed stride per result).
CURVE_POINTS = 600
#: Status lines of the two acts of a run.
EXPLORER_STATUS = "Building μ: each new policy is paid to visit the outlined cells."
LEARNING_STATUS = "μ is built: policy gradient from each restart, update by update."
WAITING_STATUS = "μ is built: waiting for the learning curves…"
END_STATUS = "End of the run: Reset replays it; drag k or t to look back."


class ExplorationModel(ExplorationParams):
    """Curious Explorer maps and PG learning curves (spec §2–§5)."""

    #: Seconds between two player frames (the tab's tick honours it): 4 frames a second,
    #: smooth enough for the mixture filling in and the curves growing, cheap to redraw.
    frame_interval: ClassVar[float] = 0.25

    def __init__(self, **params: Any) -> None:
        #: steps of the run's explorer act (the preset's pace; kept when a change makes it Custom)
        self.explorer_act_steps = DEFAULT_EXPLORER_ACT_STEPS
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
        self.param.watch(self._on_pg_view, ["pg_view"])
        self.param.watch(self._on_pg_cap, ["n_pg_iters"])

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
        self.param.pg_view.bounds = (0, max(self.n_pg_iters, 1))
        # a fresh run opens at π₀, before any curious policy, with no learning curve shown
        self._sub = 0
        self._move(k=0, t=0)
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
            return f"U emptied after k = {n}: {n} curious policies, δ = {delta:.2g}."
        K = self.explorer_key()[EXPLORER_PARAMS.index("n_explore")]
        subscript = str(n).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
        return f"U never emptied within K = {K} (δ = {delta:.2g}); μ = D{subscript}."

    @property
    def n_iters(self) -> int:
        return int(self.explorer["n_iters"])

    def apply_preset(self, name: str) -> None:
        """Load a preset (:meth:`SimulationModel.apply_preset`) with its pace: the steps of the
        explorer's act (:data:`~app.models.exploration.params.EXPLORER_ACT_STEPS`)."""
        self.explorer_act_steps = EXPLORER_ACT_STEPS.get(name, DEFAULT_EXPLORER_ACT_STEPS)
        super().apply_preset(name)

    @property
    def substeps(self) -> int:
        """Steps per explorer iteration: the explorer's act lasts about
        :attr:`explorer_act_steps` steps whatever K (so that a few iterations are not over in a
        second, nor many in minutes)."""
        return max(1, math.ceil(self.explorer_act_steps / max(self.n_iters, 1)))

    @property
    def episode_share(self) -> float:
        """Share f of the next curious policy's episodes already in the mixture shown."""
        return getattr(self, "_sub", 0) / self.substeps

    def frame_arrays(self, k: int | None = None) -> dict[str, np.ndarray]:
        """Maps of iteration k: mixture D_k, U_{k+1}, d^{π_k}, π_k.

        Without ``k``: the player's position, which may lie between k and k + 1, while the
        episodes of π_{k+1} join the mixture: a share f of them gives the mixture
        (n·D_k + f·d^{π_{k+1}})/(n + f), n the policies in D_k (D_{k+1} at f = 1), and the
        policy maps show π_{k+1}, the policy being run; U_{k+1} is still its target.
        """
        f = 0.0
        if k is None:
            k, f = self.k_view, self.episode_share
        k = min(max(int(k), 0), self.n_iters)
        res = self.explorer
        if f == 0 or k >= self.n_iters:
            return {
                "mixture": res["mixtures"][k],
                "poorly": res["poorly_visited"][k],
                "visitation": res["visitations"][k],
                "policy": res["policies"][k],
                "policy_index": k,
            }
        visits = res["visitations"][k + 1]
        n_mixed = k + 1 if self.include_pi0 else k
        if n_mixed == 0:  # π₀ left out: D₀ = d^{π₀} gives way to D₁ = d^{π₁}
            mixture = (1 - f) * res["mixtures"][k] + f * visits
        else:
            mixture = (n_mixed * res["mixtures"][k] + f * visits) / (n_mixed + f)
        return {
            "mixture": mixture,
            "poorly": res["poorly_visited"][k],
            "visitation": visits,
            "policy": res["policies"][k + 1],
            "policy_index": k + 1,
        }

    def frame_summary(self, k: int | None = None) -> dict[str, float]:
        """Numbers of iteration k for the readouts: |U_{k+1}|, |S_v|, δ and the coverage of D̄_k;
        ``policy`` is the curious policy drawn and ``share`` the share of its episodes in the
        mixture (the player's position when ``k`` is None)."""
        share = self.episode_share if k is None else 0.0
        k = self.k_view if k is None else min(max(int(k), 0), self.n_iters)
        res, cov = self.explorer, self.coverage
        return {
            "k": k,
            "policy": k + 1 if share > 0 else k,
            "share": share if share > 0 else 1.0,
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
    def _move(self, k: int | None = None, t: int | None = None) -> None:
        """Set the shown iteration and PG update without counting as a user's scrub."""
        self._setting_k = True
        try:
            if k is not None:
                self.k_view = k
            if t is not None:
                self.pg_view = t
        finally:
            self._setting_k = False

    def _explorer_left(self) -> int:
        """Steps left in the explorer's act of the run."""
        m = self.substeps
        return max(self.n_iters * m - (self.k_view * m + self._sub), 0)

    def learning_ready(self) -> bool:
        """Whether learning curves of the current parameters are there to reveal."""
        study = self.learning_study
        return self.learning.result is not None and not (study.stale or self.learning.running)

    def _learning_pending(self) -> bool:
        return self.learning.running or self.learning_study.stale

    def reveal_end(self) -> int:
        """Last PG update of the learning result (0 without one)."""
        result = self.learning.result
        return 0 if result is None else len(result["curves"]["rho"]["mean"]) - 1

    def _next_reveal(self, t: int) -> int:
        return min(self.reveal_end(), max(t + 1, math.ceil(t * REVEAL_RATIO)))

    def _reveal_left(self) -> int:
        t, end, steps = self.pg_view, self.reveal_end(), 0
        while t < end:
            t, steps = self._next_reveal(t), steps + 1
        return steps

    def _steps_until_end(self) -> int | None:
        if not hasattr(self, "explorer"):
            return 0
        left = self._explorer_left()
        if self.learning_ready():
            return left + self._reveal_left()
        # hold at the end of the explorer's act while the curves are computed; no curves
        # coming (refused by the budget, failed): the run ends with the explorer
        return left + (1 if self._learning_pending() else 0)

    def _advance(self, n_steps: int, rng: np.random.Generator) -> float:
        m = self.substeps
        started = self.k_view == 0 and self._sub == 0 and self.pg_view == 0
        moves = min(n_steps, self._explorer_left())
        if moves:
            k, self._sub = divmod(self.k_view * m + self._sub + moves, m)
            self._move(k=k)
            if started:
                self.status = EXPLORER_STATUS
        left = n_steps - moves
        if left and self.learning_ready():
            t = self.pg_view
            for _ in range(left):
                t = self._next_reveal(t)
            if self.pg_view == 0:
                self.status = LEARNING_STATUS
            self._move(t=t)
        elif left:
            self.status = WAITING_STATUS
        return self.k_view + self._sub / m + self.pg_view / max(self.reveal_end(), 1)

    def step(self, n_steps: int | None = None) -> bool:
        """Advance the run (see :meth:`SimulationModel.step`); at its end say what comes next."""
        advanced = super().step(n_steps)
        if not advanced and not self.diverged:
            self.status = END_STATUS
        return advanced

    def _on_k_view(self, event: param.parameterized.Event) -> None:
        if not getattr(self, "_setting_k", False):
            self._sub = 0  # a scrub shows whole iterations
            self._bump_frame()

    def _on_pg_view(self, event: param.parameterized.Event) -> None:
        if not getattr(self, "_setting_k", False):
            self._bump_frame()

    def _on_pg_cap(self, event: param.parameterized.Event) -> None:
        self.param.pg_view.bounds = (0, max(self.n_pg_iters, 1))
        if self.pg_view > self.n_pg_iters:
            self._move(t=self.n_pg_iters)

    def reveal_all(self) -> None:
        """Show the learning curves over all their updates (the "Show all updates" button)."""
        self.pg_view = max(self.reveal_end(), self.pg_view)

    # ----------------------------------------------------------- indicators
    def has_covered(self) -> bool:
        """The explorer's stopping rule holds at the iteration shown: no valid state is
        poorly visited any more (U_{k+1} = ∅)."""
        return self._sub == 0 and not np.any(self.explorer["poorly_visited"][self.k_view])

    def revealed_reach(self, restart: str) -> int | None:
        """First PG update t ≤ the updates shown at which the mean curve of ``restart`` reaches
        the target x·V* (None if not yet, or without learning curves)."""
        result = self.learning.result
        if result is None or self.pg_view == 0:
            return None
        mean = np.asarray(result["curves"][restart]["mean"][: self.pg_view + 1])
        hit = np.flatnonzero(mean >= self.target_frac - 1e-12)
        return int(hit[0]) if hit.size else None

    def mu_reached_target(self) -> bool:
        """The learning curves shown so far have the μ-restart reaching the target x·V*."""
        return self.revealed_reach("mu") is not None

    def first_rewards(self, restart: str) -> list[int | None]:
        """Per seed of a sampled study: the PG update during which the ``restart`` run's
        first episode reached the goal (None: never, or exact gradient)."""
        result = self.learning.result
        if result is None or result["method"] != "sampled":
            return []
        batch = max(int(self.batch), 1)
        return [
            None if e is None else math.ceil(e / batch)
            for e in result["curves"][restart]["first_goal"]
        ]

    def found_reward(self, restart: str) -> bool:
        """Sampled PG: every seed of ``restart`` has found the reward in the updates shown."""
        found = self.first_rewards(restart)
        return bool(found) and all(t is not None and t <= self.pg_view for t in found)

    def mu_found_reward(self) -> bool:
        """Sampled PG: every μ-restart seed has found the reward in the updates shown."""
        return self.found_reward("mu")

    def all_seeds_found_reward(self) -> bool:
        """Sampled PG: every seed of every restart has found the reward in the updates shown
        (the last first-reward mark is on the plot: the gap between restarts is complete)."""
        result = self.learning.result
        return result is not None and all(self.found_reward(key) for key in result["curves"])

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

    def learning_series(
        self, steps_view: bool, upto: int | None = None
    ) -> dict[str, dict[str, np.ndarray]] | None:
        """Per restart: x (PG iteration t, or environment steps) and the mean, low and high of
        V^{π_t}(ρ)/V*(ρ) for t = 0..``upto`` (default: the updates shown, :attr:`pg_view`),
        at most about :data:`CURVE_POINTS` of them (a stride, and always the last one);
        None before the first learning result.

        Environment steps: REINFORCE's sampled steps (μ and ν_β offset by the explorer's
        nominal cost K·B·H); exact PG draws none, so its steps are nominal, B·H per iteration.
        """
        result = self.learning.result
        if result is None:
            return None
        sampled = result["method"] == "sampled"
        nominal = self.batch * self.horizon
        length = len(result["curves"]["rho"]["mean"])
        stop = min(self.pg_view if upto is None else int(upto), length - 1)
        stride = max(1, math.ceil((stop + 1) / CURVE_POINTS))
        shown = np.unique(np.append(np.arange(0, stop + 1, stride), stop))
        series = {}
        for key, curve in result["curves"].items():
            t = shown.astype(float)
            if steps_view:
                x = (
                    np.asarray(curve["env_steps"])[shown]
                    if sampled
                    else t * nominal + (result["explorer_cost"] if key in ("mu", "blend") else 0)
                )
            else:
                x = t
            series[key] = {
                "x": x,
                "mean": np.asarray(curve["mean"])[shown],
                "low": np.asarray(curve["low"])[shown],
                "high": np.asarray(curve["high"])[shown],
            }
        return series

    def first_reward_marks(self, steps_view: bool) -> dict[str, list[Any]]:
        """Sampled PG: one mark per (restart, seed) whose first reward came within the updates
        shown: x (update, or environment steps), y (0: drawn on the baseline), restart key."""
        result = self.learning.result
        marks: dict[str, list[Any]] = {"x": [], "y": [], "restart": []}
        if result is None or result["method"] != "sampled":
            return marks
        for key, curve in result["curves"].items():
            for t in self.first_rewards(key):
                if t is None or t > self.pg_view or t >= len(curve["mean"]):
                    continue
                marks["x"].append(float(curve["env_steps"][t]) if steps_view else float(t))
                marks["y"].append(0.0)
                marks["restart"].append(key)
        return marks


__all__ = [
    "LAYOUT_NAMES",
    "RESTARTS",
    "TEACHING_DEFAULT",
    "ExplorationModel",
    "make_layout",
]
