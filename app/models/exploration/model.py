r"""Exploration maps: the state of the tab (spec ``models/exploration.md``).

A layout (four rooms, distractor rooms, corridor, combination lock, DeepSea, FrozenLake 8×8)
is explored by the Curious Explorer; the player scrubs through its iterations k, and a
background job runs policy gradient (exact or REINFORCE) restarted from ρ, μ, ν_β and uniform.
Restart params rebuild the MDP and the explorer (cached per parameter set); live params only
rerun the learning curves, reusing μ. After Miani, Parton, Romito, arXiv:2106.15503.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import param

from app.models.base import SimulationModel
from app.models.exploration.cache import (
    EXPLORER_PARAMS,
    LAYOUT_NAMES,
    explore_cached,
    make_layout,
)
from app.models.exploration.presets import PRESETS, TEACHING_DEFAULT
from app.models.exploration.studies import RESTARTS, run_learning_curves
from app.models.jobs import BackgroundJob
from kernels import exploration as ex


class ExplorationModel(SimulationModel):
    """Curious Explorer maps and PG learning curves (spec §2–§5)."""

    speed = param.Integer(default=1, bounds=(1, 5), doc="Explorer iterations per player step.")
    layout = param.Selector(
        default="four_rooms",
        objects=list(LAYOUT_NAMES),
        label="Layout",
        doc="The MDP: four rooms, rooms with a distractor, corridor trap, combination lock, "
        "DeepSea or FrozenLake 8×8.",
    )
    gamma = param.Number(
        0.95,
        bounds=(0.9, 0.999),
        step=0.001,
        label="γ discount",
        doc="γ: discount factor of every return and visitation.",
    )
    slip = param.Number(
        0.0,
        bounds=(0.0, 0.5),
        step=0.01,
        label="p_slip slip",
        doc="p_slip: probability that a move goes in a random other direction "
        "(grids, corridor, lock; FrozenLake always slips with 2/3).",
    )
    size = param.Integer(
        16, bounds=(5, 30), label="N size", doc="N: combination-lock length or DeepSea side."
    )
    n_actions = param.Integer(
        2,
        bounds=(2, 4),
        label="A lock actions",
        doc="A: actions of the lock; all but one reset to the start.",
    )
    coverage_c = param.Number(
        0.1,
        bounds=(0.01, 3.0),
        step=0.01,
        label="c coverage",
        doc="c: a valid state is poorly visited when its share of the "
        "mixture is below δ = c/|S_v|.",
    )
    n_explore = param.Integer(
        10,
        bounds=(1, 30),
        label="K explorer iterations",
        doc="K: maximum number of curious policies.",
    )
    explore_eps = param.Number(
        0.1,
        bounds=(0.0, 0.5),
        step=0.01,
        label="ε mixing",
        doc="ε: each curious policy mixes in the uniform policy with weight ε.",
    )
    exclude_terminal = param.Boolean(
        True, label="Exclude terminals", doc="Drop absorbing states from U and from μ."
    )
    mapping_seed = param.Integer(
        0,
        bounds=(0, 999),
        label="DeepSea mapping seed",
        doc="Seed of DeepSea's random action-to-direction mapping.",
    )
    deep_sea_stochastic = param.Boolean(
        False, label="DeepSea stochastic", doc="DeepSea 'right' succeeds with probability 1−1/N."
    )
    threshold_rule = param.Selector(
        default="renormalised",
        objects=list(ex.THRESHOLD_RULES),
        label="Threshold rule",
        doc="renormalised: D over S_v, δ = c/|S_v|; raw: D over all states, δ = c/|S|.",
    )
    intrinsic_reward = param.Selector(
        default="indicator",
        objects=list(ex.INTRINSIC_REWARDS),
        label="Intrinsic reward",
        doc="indicator 1_U; bonus min(1, √(δ/D̄)); maxent −log(D̄ + 1e-4) shifted ≥ 0.",
    )
    include_pi0 = param.Boolean(
        True, label="Include π₀ in μ", doc="Keep the uniform policy π₀ in the mixture D_k."
    )
    poorly_set = param.Selector(
        default="states",
        objects=list(ex.POORLY_SETS),
        label="Poorly visited set over",
        doc="states: U ⊂ S_v; state_actions: U over pairs (s, a) with δ = c/(|S_v||A|), "
        "PC-PG-like (maps outline states with a poorly visited action).",
    )
    inner_solver = param.Selector(
        default="vi",
        objects=list(ex.INNER_SOLVERS),
        label="Inner solver",
        doc="vi: value iteration, ε-greedy; soft_vi: softmax of the soft-optimal Q at "
        "temperature τ; pg: 50 steps of exact softmax PG from ρ (η = 5).",
    )
    temperature = param.Number(
        0.05,
        bounds=(0.005, 1.0),
        step=0.005,
        label="τ soft-VI temperature",
        doc="τ: temperature of the soft-VI inner solver (small τ → greedy).",
    )
    distractor_reward = param.Number(
        0.1,
        bounds=(0.0, 0.5),
        step=0.01,
        label="r_d distractor",
        doc="r_d: reward of the distractor (learning only).",
    )
    restart_beta = param.Number(
        0.5,
        bounds=(0.0, 1.0),
        step=0.05,
        label="β blend",
        doc="β: weight of ρ in the blended restart ν_β = βρ + (1−β)μ.",
    )
    gradient = param.Selector(
        default="exact",
        objects=["exact", "sampled"],
        label="Gradient",
        doc="exact: softmax PG with the exact gradient; sampled: "
        "REINFORCE with B episodes per update.",
    )
    lr = param.Number(
        5.0,
        bounds=(0.01, 20.0),
        step=0.01,
        label="η step size",
        doc="η: policy-gradient step size.",
    )
    n_pg_iters = param.Integer(
        2000,
        bounds=(100, 30000),
        label="T iteration cap",
        doc="T: policy-gradient updates per curve.",
    )
    target_frac = param.Number(
        0.9, bounds=(0.1, 0.99), step=0.01, label="x target", doc="x: success when V(ρ) ≥ x·V*(ρ)."
    )
    batch = param.Integer(
        8, bounds=(1, 64), label="B episodes", doc="B: REINFORCE episodes per update."
    )
    horizon = param.Integer(
        100, bounds=(10, 500), label="H horizon", doc="H: REINFORCE episode truncation."
    )
    n_seeds = param.Integer(
        3, bounds=(1, 10), label="seeds", doc="Seeds per sampled curve (mean ± band)."
    )
    k_view = param.Integer(
        0, bounds=(0, 30), label="k iteration shown", doc="Explorer iteration shown in the maps."
    )

    restart_params = EXPLORER_PARAMS
    live_params = (
        "distractor_reward",
        "restart_beta",
        "gradient",
        "lr",
        "n_pg_iters",
        "target_frac",
        "batch",
        "horizon",
        "n_seeds",
    )
    display_order = (
        "layout",
        "coverage_c",
        "n_explore",
        "explore_eps",
        "gamma",
        "slip",
        "size",
        "gradient",
        "lr",
        "restart_beta",
        "target_frac",
        "n_pg_iters",
        "distractor_reward",
        "batch",
        "horizon",
        "n_seeds",
        "n_actions",
        "mapping_seed",
        "deep_sea_stochastic",
        "exclude_terminal",
        "threshold_rule",
        "intrinsic_reward",
        "include_pi0",
        "poorly_set",
        "inner_solver",
        "temperature",
    )
    advanced_params = (
        "n_actions",
        "mapping_seed",
        "deep_sea_stochastic",
        "exclude_terminal",
        "threshold_rule",
        "intrinsic_reward",
        "include_pi0",
        "poorly_set",
        "inner_solver",
        "temperature",
        "n_seeds",
    )
    presets = PRESETS
    default_preset = TEACHING_DEFAULT
    divergence_hint = "lower the step size η, then reset"

    def __init__(self, **params: Any) -> None:
        self.learning = BackgroundJob(name="learning")
        self.learning_stale_since: float | None = 0.0
        self.explorer_notice = ""
        super().__init__(**params)
        self.param.watch(self._on_live, list(self.live_params))
        self.param.watch(self._on_k_view, ["k_view"])

    # ------------------------------------------------------------- explorer
    def explorer_key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in EXPLORER_PARAMS)

    def _initialize(self, rng: np.random.Generator) -> None:
        try:
            mdp, result, coverage, metrics = explore_cached(self.explorer_key())
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
        self._mark_learning_stale()

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
        return f"U never emptied within K = {self.n_explore} (δ = {delta:.2g}); μ = D_{n}."

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

    def restarts(self) -> dict[str, np.ndarray]:
        """The four restart distributions ν: ρ, μ, ν_β, uniform over S_v."""
        mu = self.explorer["mu"]
        return {
            "rho": self.mdp.rho,
            "mu": mu,
            "blend": ex.blend_restart(self.mdp.rho, mu, self.restart_beta),
            "uniform": ex.uniform_restart(self.mdp),
        }

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
    def _on_live(self, *events: param.parameterized.Event) -> None:
        if any(e.name == "distractor_reward" for e in events):
            self.mdp = self._learning_mdp(explore_cached(self.explorer_key())[0])
            self.optimal = ex.optimal_policy(self.mdp, self.gamma)
        self._mark_learning_stale()

    def _mark_learning_stale(self) -> None:
        if self.learning.running:
            self.learning.cancel()
        self.learning.message = "Parameters changed: the curves are stale, rerunning…"
        self.learning_stale_since = time.monotonic()

    def learning_settings(self) -> dict[str, Any]:
        """Everything the learning job needs, frozen at start (the job runs in a thread)."""
        return {
            "mdp": self.mdp,
            "restarts": self.restarts(),
            "gamma": self.gamma,
            "lr": self.lr,
            "n_iters": self.n_pg_iters,
            "target_frac": self.target_frac,
            "method": self.gradient,
            "batch": self.batch,
            "horizon": self.horizon,
            "n_seeds": self.n_seeds if self.gradient == "sampled" else 1,
            "seed": self.seed,
            "v_star": self.optimal["v_rho"],
            "explorer_cost": self.explorer_cost(),
        }

    def explorer_cost(self) -> int:
        """Nominal environment steps of the exact explorer: K·B·H (it draws no samples)."""
        return self.n_iters * self.batch * self.horizon

    def run_learning(self) -> None:
        """Learning curves from the four restarts, off the event loop (progress, cancel)."""
        self.learning_stale_since = None
        settings = self.learning_settings()
        label = "REINFORCE" if settings["method"] == "sampled" else "Exact PG"
        self.learning.start(
            lambda progress: run_learning_curves(progress=progress, **settings), label
        )


__all__ = ["LAYOUT_NAMES", "RESTARTS", "TEACHING_DEFAULT", "ExplorationModel", "make_layout"]
