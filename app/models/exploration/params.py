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
from app.models.story import Story
from kernels import exploration as ex

LAYOUT_NAMES = {
    "four_rooms": "Four rooms",
    "distractor_rooms": "Rooms with a distractor",
    "corridor": "Corridor trap",
    "lock": "Combination lock",
    "deep_sea": "DeepSea",
    "frozen_lake_8x8": "FrozenLake 8×8",
}
#: Words shown for the identifiers of the other selectors (the identifier stays in the link).
THRESHOLD_LABELS = {"Renormalised over valid states": "renormalised", "Raw, over all states": "raw"}
REWARD_LABELS = {
    "Indicator of U": "indicator",
    "Smooth bonus": "bonus",
    "Maximum entropy (−log D̄)": "maxent",
}
POORLY_SET_LABELS = {"States": "states", "State–action pairs": "state_actions"}
SOLVER_LABELS = {
    "Value iteration, ε-greedy": "vi",
    "Soft value iteration": "soft_vi",
    "Policy gradient (50 steps)": "pg",
}
GRADIENT_LABELS = {"Exact gradient": "exact", "Sampled (REINFORCE)": "sampled"}
assert set(THRESHOLD_LABELS.values()) == set(ex.THRESHOLD_RULES)
assert set(REWARD_LABELS.values()) == set(ex.INTRINSIC_REWARDS)
assert set(POORLY_SET_LABELS.values()) == set(ex.POORLY_SETS)
assert set(SOLVER_LABELS.values()) == set(ex.INNER_SOLVERS)

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

#: Presets (their pace: :data:`EXPLORER_ACT_STEPS`; frames measured in
#: tests/app/test_stories.py).
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
        "n_seeds": 5,
        "target_frac": 0.5,
        "n_pg_iters": 1000,
    },
}

#: Steps of the explorer's act of a run (Play: the explorer's iterations, then the learning
#: curves), per preset; others take :data:`DEFAULT_EXPLORER_ACT_STEPS`. A preset whose story is
#: in the learning curves builds μ briefly (its maps are below the curves then), so that the
#: curves start moving a few seconds after Play.
DEFAULT_EXPLORER_ACT_STEPS = 64
EXPLORER_ACT_STEPS = {
    "Combination lock": 16,
    "Distractor trap": 16,
    "DeepSea": 16,
    "FrozenLake": 16,
    "Lock with REINFORCE": 16,
}

#: What each preset shows, where, and the model method that tells when it has happened.
STORIES: dict[str, Story] = {
    TEACHING_DEFAULT: Story(
        look_for="π₀, the uniform policy, hardly leaves the top-left room: its visits pile up "
        "near the start ★, and 22 of 67 cells are outlined as poorly visited. Each new policy "
        "is paid only for reaching outlined cells: watch its episodes light them up, room by "
        "room, until none is outlined (k = 7).",
        indicator="has_covered",
        controls=("coverage_c", "n_explore"),
    ),
    "Combination lock": Story(
        look_for="A 16-state lock: one action moves on, the other sends you back to the start; "
        "the reward is at the far end. After a short explorer act, watch the curves: blue "
        "(restarts from μ) crosses the dashed target after about 80 updates, red (restarts "
        "from the start ρ) only after about 270.",
        panel="learning",
        indicator="mu_reached_target",
        controls=("size", "restart_beta"),
    ),
    "Distractor trap": Story(
        look_for="A reward of 0.1 (hatched, row 3, column 3) lies four steps from the start; the "
        "goal is sixteen steps away. From the start ρ, policy gradient settles on the "
        "distractor: red flattens at 0.18 of V*. From μ it has seen the far rooms: blue climbs "
        "to the target 0.9 after about 260 updates.",
        panel="learning",
        indicator="mu_reached_target",
        controls=("distractor_reward", "restart_beta"),
    ),
    "DeepSea": Story(
        look_for="A 10 × 10 staircase: each step goes one row down, and only ten right moves in "
        "a row reach the reward, bottom right (a random policy: once in 1024 episodes). Each "
        "triangle marks the update in which a REINFORCE seed first found it: the blue seeds "
        "(restarts from μ) within about 12 updates, the last red one (from the start ρ) only "
        "after about 145.",
        panel="learning",
        indicator="all_seeds_found_reward",
        controls=("size", "lr"),
    ),
    "FrozenLake": Story(
        look_for="The 8 × 8 FrozenLake: a move goes where you meant one time in three, and the "
        "hatched holes end the episode. μ spreads over the whole lake. Restarted from μ "
        "(blue), policy gradient reaches 0.9 of V* after about 540 updates; from the start ρ "
        "(red), after about 810.",
        panel="learning",
        indicator="mu_reached_target",
        controls=("slip", "target_frac"),
    ),
    "Lock with REINFORCE": Story(
        look_for="The 10-state lock learned from samples: REINFORCE, 8 episodes of 30 steps per "
        "update, 5 seeds (the band spans them). From the start few episodes reach the end; "
        "from μ they start all along the lock. Blue (μ) reaches half of V* after about 40 "
        "updates, red (ρ) after about 65.",
        panel="learning",
        indicator="mu_reached_target",
        controls=("batch", "horizon"),
    ),
}


class ExplorationParams(SimulationModel):
    """The params of the Exploration maps tab (behaviour: :class:`ExplorationModel`)."""

    speed = param.Integer(
        default=1,
        bounds=(1, 5),
        doc="Steps of the run per animation frame: batches of the new curious policy's "
        "episodes while the explorer builds μ, then notches of the learning curves.",
    )
    layout = param.Selector(
        default="four_rooms",
        objects={name: key for key, name in LAYOUT_NAMES.items()},
        label="Layout",
        doc="The MDP: four rooms, rooms with a distractor, corridor trap, combination lock, "
        "DeepSea or FrozenLake 8×8.",
    )
    gamma = param.Number(
        0.95,
        bounds=(0.9, 0.999),
        step=0.001,
        label="Discount γ",
        doc="γ: discount factor of every return and visitation.",
    )
    slip = param.Number(
        0.0,
        bounds=(0.0, 0.5),
        step=0.01,
        label="Slip probability p",
        doc="p: probability that a move goes in a random other direction "
        "(grids, corridor, lock; FrozenLake always slips with 2/3).",
    )
    size = param.Integer(
        16,
        bounds=(5, 30),
        label="Lock length or DeepSea size N",
        doc="N: combination-lock length or DeepSea side.",
    )
    n_actions = param.Integer(
        2,
        bounds=(2, 4),
        label="Actions of the lock A",
        doc="A: actions of the lock; all but one reset to the start.",
    )
    coverage_c = param.Number(
        0.1,
        bounds=(0.01, 3.0),
        step=0.01,
        label="Coverage threshold c",
        doc="c: a valid state is poorly visited when its share of the mixture is below δ = c/|Sᵥ|.",
    )
    n_explore = param.Integer(
        10,
        bounds=(1, 30),
        label="Explorer iterations K",
        doc="K: maximum number of curious policies.",
    )
    explore_eps = param.Number(
        0.1,
        bounds=(0.0, 0.5),
        step=0.01,
        label="Uniform mixing ε",
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
        objects=THRESHOLD_LABELS,
        label="Threshold rule",
        doc="Renormalised: the mixture D over the valid states Sᵥ, δ = c/|Sᵥ|; raw: D over all "
        "states, δ = c/|S|.",
    )
    intrinsic_reward = param.Selector(
        default="indicator",
        objects=REWARD_LABELS,
        label="Intrinsic reward",
        doc="Indicator: 1 on U, 0 elsewhere; smooth bonus: min(1, √(δ/D̄)); maximum entropy: "
        "−log(D̄ + 10⁻⁴), shifted to be ≥ 0.",
    )
    include_pi0 = param.Boolean(
        True, label="Include π₀ in μ", doc="Keep the uniform policy π₀ in the mixture Dₖ."
    )
    poorly_set = param.Selector(
        default="states",
        objects=POORLY_SET_LABELS,
        label="Poorly visited set over",
        doc="States: U ⊂ Sᵥ; state–action pairs: U over pairs (s, a) with δ = c/(|Sᵥ||A|), "
        "PC-PG-like (maps outline states with a poorly visited action).",
    )
    inner_solver = param.Selector(
        default="vi",
        objects=SOLVER_LABELS,
        label="Inner solver",
        doc="Value iteration, ε-greedy; soft value iteration: softmax of the soft-optimal Q at "
        "temperature τ; policy gradient: 50 steps of exact softmax PG from ρ (η = 5).",
    )
    temperature = param.Number(
        0.05,
        bounds=(0.005, 1.0),
        step=0.005,
        label="Soft-VI temperature τ",
        doc="τ: temperature of the soft-VI inner solver (small τ → greedy).",
    )
    distractor_reward = param.Number(
        0.1,
        bounds=(0.0, 0.5),
        step=0.01,
        label="Distractor reward",
        doc="r_d: reward of the distractor (learning only).",
    )
    restart_beta = param.Number(
        0.5,
        bounds=(0.0, 1.0),
        step=0.05,
        label="Weight of ρ in the blend β",
        doc="β: weight of ρ in the blended restart νᵦ = βρ + (1−β)μ.",
    )
    gradient = param.Selector(
        default="exact",
        objects=GRADIENT_LABELS,
        label="Gradient",
        doc="Exact: softmax PG with the exact gradient; sampled: "
        "REINFORCE with B episodes per update.",
    )
    lr = param.Number(
        5.0,
        bounds=(0.01, 20.0),
        step=0.01,
        label="Step size η",
        doc="η: policy-gradient step size.",
    )
    n_pg_iters = param.Integer(
        2000,
        bounds=(100, 30000),
        label="PG updates T",
        doc="T: policy-gradient updates per curve.",
    )
    target_frac = param.Number(
        0.9,
        bounds=(0.1, 0.99),
        step=0.01,
        label="Target fraction x of V*",
        doc="x: success when V(ρ) ≥ x·V*(ρ).",
    )
    batch = param.Integer(
        8, bounds=(1, 64), label="Episodes per update B", doc="B: REINFORCE episodes per update."
    )
    horizon = param.Integer(
        100, bounds=(10, 500), label="Episode length H", doc="H: REINFORCE episode truncation."
    )
    n_seeds = param.Integer(
        3, bounds=(1, 10), label="Seeds", doc="Seeds per sampled curve (mean ± band)."
    )
    k_view = param.Integer(
        0,
        bounds=(0, 30),
        label="Explorer iteration shown k",
        doc="Explorer iteration shown in the maps.",
    )
    pg_view = param.Integer(
        0,
        bounds=(0, 30000),
        label="PG updates shown t",
        doc="Policy-gradient updates shown in the learning curves (Play reveals them once the "
        "explorer has built μ).",
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
    stories = STORIES
    default_preset = TEACHING_DEFAULT
    divergence_hint = "lower the step size η, then reset"
