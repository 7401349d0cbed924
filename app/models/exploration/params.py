"""The parameters of the Exploration maps tab: declarations, display order, presets (spec §3, §5).

:class:`ExplorationParams` holds only params and their grouping; the behaviour lives in
:class:`app.models.exploration.model.ExplorationModel`, its subclass. The explorer params
(:data:`EXPLORER_PARAMS`) rebuild the MDP and rerun the explorer; the live params only rerun the
learning curves.
"""

from __future__ import annotations

from typing import Any

import param

from app.models.base import SimulationModel
from kernels import exploration as ex

LAYOUT_NAMES = {
    "four_rooms": "Four rooms",
    "distractor_rooms": "Rooms with a distractor",
    "corridor": "Corridor trap",
    "lock": "Combination lock",
    "deep_sea": "DeepSea",
    "frozen_lake_8x8": "FrozenLake 8×8",
}
#: Restart-needed params that define the explorer (the cache key); rewards are not among them.
EXPLORER_PARAMS = (
    "layout",
    "gamma",
    "slip",
    "size",
    "n_actions",
    "mapping_seed",
    "deep_sea_stochastic",
    "coverage_c",
    "n_explore",
    "explore_eps",
    "exclude_terminal",
    "threshold_rule",
    "intrinsic_reward",
    "include_pi0",
    "poorly_set",
    "inner_solver",
    "temperature",
)

TEACHING_DEFAULT = "Four rooms: curiosity spreads"

PRESETS: dict[str, dict[str, Any]] = {
    TEACHING_DEFAULT: {"layout": "four_rooms"},
    "Combination lock": {
        "layout": "lock",
        "size": 16,
        "gamma": 0.99,
        "coverage_c": 1.0,
        "n_explore": 16,
        "lr": 1.0,
        "target_frac": 0.5,
        "n_pg_iters": 5000,
    },
    "Distractor trap": {"layout": "distractor_rooms", "distractor_reward": 0.1},
    "DeepSea": {
        "layout": "deep_sea",
        "size": 10,
        "gamma": 0.99,
        "n_explore": 20,
        "gradient": "sampled",
        "lr": 0.5,
        "horizon": 10,
        "n_pg_iters": 3000,
        "target_frac": 0.5,
    },
    "FrozenLake": {
        "layout": "frozen_lake_8x8",
        "gamma": 0.99,
        "n_explore": 20,
        "n_pg_iters": 3000,
    },
    "Lock with REINFORCE": {
        "layout": "lock",
        "size": 10,
        "gamma": 0.99,
        "coverage_c": 1.0,
        "n_explore": 10,
        "gradient": "sampled",
        "lr": 0.5,
        "batch": 8,
        "horizon": 30,
        "target_frac": 0.5,
        "n_pg_iters": 1000,
    },
}


class ExplorationParams(SimulationModel):
    """The params of the Exploration maps tab (behaviour: :class:`ExplorationModel`)."""

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
