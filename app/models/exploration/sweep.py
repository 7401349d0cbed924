r"""Sweep outcomes of the Exploration maps tab (issue 15): explorer, then PG from ρ and from μ.

One replicate builds the layout, runs the Curious Explorer to μ (``kernels.exploration``
``curious_explorer``, the same call as the tab's explorer cache), then runs policy gradient for
the full cap T from the start distribution ρ and from the explorer's restart μ
(``policy_gradient``, the same call as the tab's learning curves), and reports:

* how many PG iterations each restart needs to reach x·V*(ρ), and their ratio: **does restarting
  from μ help here?** (spec §4.3–§4.4, orderings §6.15);
* how well the explorer covers the valid set after K iterations (spec §4.2, §4.4).

Headline pair: c × ε (``coverage_c`` × ``explore_eps``), as issue 15 names it: the threshold
δ = c/|S_v| decides which states are "poorly visited" and ε how spread each curious policy is, the
two knobs that shape μ.

Every PG run goes to the cap T (no early stop at the target): the cost of a replicate is then
known in advance (:func:`seconds`), and the value reached at T is an outcome too (it tells a
trapped restart, e.g. ρ in the distractor rooms at ≈ 0.185, from a merely slow one). The exact
gradient (the default) and the explorer draw nothing, so a replicate's seed only matters with
the sampled gradient (REINFORCE): the ρ run draws from ``SeedSequence([seed, 0, 0])`` and the μ
run from ``SeedSequence([seed, 1, 0])``, the streams the tab's learning study gives its first
seed, so a sweep replicate with seed s repeats the tab's first REINFORCE curve at seed s.

Differences from the live tab: K is not scaled down to the explorer's budget (the sweep has its
own budget, from :func:`seconds`); the explorer's diagnostics use the MDP with the cell's
distractor reward (the explorer itself ignores rewards, so μ is the same). No parameter is fixed:
at the defaults (four rooms, T = 2000 exact updates) a replicate takes 0.09–0.14 s, under the 0.2 s
a default 8 × 8 × 4 sweep allows.

Provenance (spec ``models/exploration.md``): the explorer loop, the threshold and the layouts are
this app's reconstruction [derived]; exact softmax PG and the mismatch coefficient
[literature: Agarwal, Kakade, Lee, Mahajan, JMLR 22(98) 2021; Kakade & Langford 2002]; that a
curious restart distribution μ helps PG is the paper's claim [paper].
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from app.models.exploration.cache import make_layout
from app.models.exploration.params import ExplorationParams
from app.sweeps.spec import ModelSweep, Outcome
from kernels import exploration as ex

__all__ = ["OUTCOMES", "PARAMETERS", "SWEEP", "run", "seconds"]

#: Sweepable parameters, most useful first (the explorer's knobs, then PG's, then the layout's
#: sizes; ``restart_beta`` is left out: no outcome here uses the blend ν_β).
PARAMETERS = (
    "coverage_c",
    "explore_eps",
    "n_explore",
    "lr",
    "gamma",
    "slip",
    "target_frac",
    "size",
    "n_actions",
    "distractor_reward",
    "n_pg_iters",
    "temperature",
    "batch",
    "horizon",
)

OUTCOMES = (
    Outcome(
        "iters_ratio",
        "iterations ratio ρ / μ",
        "",
        "higher",
        "(t_ρ + 1)/(t_μ + 1), t the PG iterations to x·V*(ρ) from each restart (T + 1 if "
        "not reached): above 1, restarting from the explorer's μ reaches the target sooner.",
    ),
    Outcome(
        "iters_rho",
        "iterations to target from ρ",
        "iterations",
        "lower",
        "First t at which the value of πₜ from ρ reaches x·V*(ρ), PG restarted from the start ρ "
        "(T + 1 if not reached within the cap T).",
    ),
    Outcome(
        "iters_mu",
        "iterations to target from μ",
        "iterations",
        "lower",
        "First t at which the value of πₜ from ρ reaches x·V*(ρ), PG restarted from the "
        "explorer's μ (T + 1 if not reached within the cap T).",
    ),
    Outcome(
        "coverage",
        "coverage after K",
        "",
        "higher",
        "1 − |U|/|Sᵥ| after the last iteration: share of the valid states whose share of the final "
        "mixture reached the threshold δ = c/|Sᵥ|.",
    ),
    Outcome(
        "final_value_rho",
        "V/V* at T from ρ",
        "",
        "higher",
        "V/V*, the value from ρ, after the T updates of PG restarted from ρ.",
    ),
    Outcome(
        "final_value_mu",
        "V/V* at T from μ",
        "",
        "higher",
        "V/V*, the value from ρ, after the T updates of PG restarted from μ.",
    ),
    Outcome(
        "entropy_mu",
        "entropy of μ",
        "",
        "higher",
        "H(μ)/log|Sᵥ|: how evenly the restart distribution μ spreads over the valid states "
        "(1 = uniform).",
    ),
    Outcome(
        "mismatch",
        "mismatch ‖d*/μ‖∞",
        "",
        "lower",
        "max over valid states of d*(s)/μ(s), d* the optimal policy's visits from ρ: the "
        "distribution mismatch PG bounds pay for.",
    ),
)

# ---------------------------------------------------------------------------- the replicate


def run(values: Mapping[str, Any], seed: int) -> dict[str, float]:
    r"""One replicate: the Curious Explorer's μ, then PG from ρ and from μ to the cap T.

    Explorer (spec §2) [derived]: π_0 uniform, U_k = {s ∈ S_v : D̄_{k−1}(s) < δ}, δ = c/|S_v|,
    π_k ε-greedy on the indicator reward 1_{U_k}, D_k = (1/(k+1)) Σ_{j≤k} d^{π_j}_ρ and
    μ = D_K on S_v, renormalised. Then softmax PG from θ_0 = 0 on V(ν) for ν = ρ and ν = μ,
    T = ``n_pg_iters`` updates each, exact or REINFORCE [literature: Agarwal et al. 2021].

    Outcomes, with t_ν the first t with V^{π_t}(ρ) ≥ x·V*(ρ) in the run restarted from ν
    (T + 1 if it never does):

    .. math::

        \text{iters\_rho} = t_\rho,\qquad \text{iters\_mu} = t_\mu,\qquad
        \text{iters\_ratio} = \frac{t_\rho + 1}{t_\mu + 1}\quad\text{[derived]}

        \text{final\_value\_}\nu = \frac{V^{\pi_T}(\rho)}{V^*(\rho)}\quad\text{[derived]},
        \qquad \text{coverage} = 1 - \frac{|U_{K+1}|}{|S_v|}\quad\text{[derived]}

        \text{entropy\_mu} = -\frac{\sum_{s\in S_v}\mu(s)\log\mu(s)}{\log|S_v|}
        \quad\text{[derived]},\qquad
        \text{mismatch} = \max_{s\in S_v}\frac{d^{\pi^*}_\rho(s)}{\mu(s)}
        \quad\text{[literature: Kakade \& Langford 2002]}

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`~app.models.exploration.params.ExplorationParams` by name
        (the layout and its geometry, the explorer's settings, ``gradient``, ``lr``,
        ``n_pg_iters``, ``target_frac``, ``batch``, ``horizon``, ``distractor_reward``, …).
    seed : int
        The replicate's seed; used only by the sampled gradient (REINFORCE): the ρ run draws
        from ``SeedSequence([seed, 0, 0])``, the μ run from ``SeedSequence([seed, 1, 0])``, as
        the tab's learning study does for its first seed.

    Returns
    -------
    dict of str to float
        One value per outcome of :data:`OUTCOMES`. ``mismatch`` is +inf where μ puts no mass on
        a state the optimal policy visits (possible only with ε = 0 and π_0 left out of μ).

    Raises
    ------
    ValueError
        If the kernels refuse the combination (for example a layout with no valid state).

    Notes
    -----
    The explorer and exact PG are deterministic; iteration counts allow ±1 between conventions
    (spec §2). Cost: :func:`seconds`.
    """
    p = dict(values)
    gamma = float(p["gamma"])
    mdp = make_layout(p, distractor_reward=float(p["distractor_reward"]))
    explorer = ex.curious_explorer(
        mdp,
        gamma=gamma,
        coverage_c=float(p["coverage_c"]),
        n_explore=int(p["n_explore"]),
        explore_eps=float(p["explore_eps"]),
        exclude_terminal=bool(p["exclude_terminal"]),
        threshold_rule=p["threshold_rule"],
        intrinsic_reward=p["intrinsic_reward"],
        include_pi0=bool(p["include_pi0"]),
        poorly_set=p["poorly_set"],
        inner_solver=p["inner_solver"],
        temperature=float(p["temperature"]),
    )
    metrics = ex.explorer_metrics(mdp, explorer, gamma)
    v_star = float(ex.optimal_policy(mdp, gamma)["v_rho"])
    T = int(p["n_pg_iters"])
    method = p["gradient"]
    iters: dict[str, float] = {}
    finals: dict[str, float] = {}
    for r_index, (key, nu) in enumerate((("rho", mdp.rho), ("mu", explorer["mu"]))):
        rng = (
            np.random.default_rng(np.random.SeedSequence([int(seed), r_index, 0]))
            if method == "sampled"
            else None
        )
        out = ex.policy_gradient(
            mdp,
            restart=nu,
            gamma=gamma,
            lr=float(p["lr"]),
            n_iters=T,
            target_frac=float(p["target_frac"]),
            method=method,
            rng=rng,
            batch=int(p["batch"]),
            horizon=int(p["horizon"]),
            v_star=v_star,
        )
        hit = out["iters_to_target"]
        iters[key] = float(T + 1 if hit is None else hit)
        finals[key] = float(out["values"][-1] / v_star)
    return {
        "iters_ratio": (iters["rho"] + 1.0) / (iters["mu"] + 1.0),
        "iters_rho": iters["rho"],
        "iters_mu": iters["mu"],
        "coverage": 1.0 - float(metrics["final_poorly_frac"]),
        "final_value_rho": finals["rho"],
        "final_value_mu": finals["mu"],
        "entropy_mu": float(metrics["entropy_mu"]),
        "mismatch": float(metrics["mismatch"]),
    }


# ------------------------------------------------------------------------------ cost model
# Single-core constants MEASURED on the 2-core reference machine while the other sessions ran
# (load 1.5–3.5): median of 3–5 timings of the jitted kernels after ``exploration.warmup()`` over
# locks N = 5…30 (A = 2, 4, slip 0 and 0.2), DeepSea 5…30, four rooms (slip 0, 0.2), distractor
# rooms, corridor and FrozenLake, fitted by relative least squares. Whole replicates (defaults,
# every preset, c = 3 with K = 30 at γ = 0.99 and 0.999, each inner solver, T = 100…10 000,
# REINFORCE) are then predicted within a factor 2.1 either way (e.g. defaults: 89–145 ms
# measured, 108 ms estimated; four rooms with T = 10 000: 423–475 ms measured, 512 estimated).
# At load ≈ 5 every time doubles (defaults: 0.17–0.23 s), still within the factor 3 tested.
#: Seconds of one exact PG update: fixed part (measured 0.27 µs) …
SEC_UPDATE = 0.3e-6
#: … plus per (state, action, successor) (17–27 ns: DeepSea 10 → 30) …
SEC_UPDATE_SAM = 22e-9
#: … plus per S² on cyclic layouts (dense LU of I − γP_π; 4.1 ns; the S³ term fits to ≈ 0 up to
#: S = 68, the largest cyclic layout: four rooms 21–31 µs per update).
SEC_UPDATE_S2 = 4.1e-9
#: Seconds per (state, action) of one value-iteration sweep …
SEC_VI_SA = 2.5e-9
#: … plus per (state, action, successor) (measured 2.8 ns per (s, a) at M = 1, 4.5 at M = 4,
#: 5.6 at M = 3 on FrozenLake; 23 017 sweeps at γ = 0.999, as the γ-contraction predicts).
SEC_VI_SAM = 0.8e-9
#: Seconds per (state, action) of one soft-VI sweep (9–12 ns: an exp and a log per state).
SEC_SOFT_VI_SA = 11e-9
#: Seconds per sampled REINFORCE environment step (15–40 ns; the estimate takes B·H steps, an
#: upper bound: episodes end at absorbing states, 0.3–1 × B·H measured).
SEC_ENV_STEP = 25e-9
#: Seconds per uniform drawn for REINFORCE (B(2H + 1) per update; ≈ 7 ns).
SEC_UNIFORM = 7e-9
#: Fixed seconds of a replicate: layout build (up to 7 ms for DeepSea 30), validation,
#: diagnostics.
SEC_FIXED = 2e-3

#: Value-iteration stopping rule (kernels/exploration/explorer.py) and the inner PG steps.
VI_TOL = 1e-10
VI_MAX_SWEEPS = 200_000
INNER_PG_STEPS = 50


@lru_cache(maxsize=128)
def _shape(
    layout: str, size: int, n_actions: int, slipping: bool, stochastic: bool
) -> tuple[int, int, int, bool]:
    """(S, A, M, acyclic) of a layout (built once per geometry: DeepSea 30 takes ≈ 7 ms)."""
    p = {
        "layout": layout,
        "size": size,
        "n_actions": n_actions,
        "slip": 0.1 if slipping else 0.0,
        "mapping_seed": 0,
        "deep_sea_stochastic": stochastic,
    }
    mdp = make_layout(p, distractor_reward=0.1)
    S, A, M = mdp.nxt.shape
    return S, A, M, bool(mdp.acyclic)


def _vi_sweeps(gamma: float, first_change: float) -> int:
    """Sweeps of Jacobi VI to the tolerance: the change contracts by γ from ``first_change``."""
    n = math.log(VI_TOL / first_change) / math.log(gamma)
    return int(min(VI_MAX_SWEEPS, max(1, math.ceil(n))))


def seconds(values: Mapping[str, Any]) -> float:
    r"""Estimated single-core seconds of one :func:`run` at ``values``.

    With S states, A actions, M successors per (s, a), K = ``n_explore``, T = ``n_pg_iters``,
    n_VI(γ) = log(10⁻¹⁰)/log γ value-iteration sweeps (S + 1 on acyclic layouts when the
    intrinsic rewards sit on non-absorbing states):

    .. math::

        t \approx t_0 + K\,(t_\text{inner} + t_\text{upd}) + t_\text{upd}
        + 2\,n_\text{VI}\,t_\text{sweep} + 2\,(T+1)\,(t_\text{upd} + t_\text{sample})

    with t_upd = a + b·SAM (+ c·S² on cyclic layouts, the dense LU), t_sweep = e·SA + f·SAM,
    t_inner a VI (soft VI: its own per-sweep constant; ``pg``: 50 updates), and t_sample =
    B·min(H, S)·g + B(2H + 1)·h for REINFORCE (0 for exact PG) [derived].

    Parameters
    ----------
    values : mapping
        Every parameter of ``ExplorationParams`` by name.

    Returns
    -------
    float
        Seconds on the 2-core reference machine (constants measured there; see the module's
        comments). K is an upper bound: the explorer stops early when U empties.

    Notes
    -----
    [derived]: operation counts of the kernels, constants measured.
    """
    S, A, M, acyclic = _shape(
        str(values["layout"]),
        int(values["size"]),
        int(values["n_actions"]),
        float(values["slip"]) > 0,
        bool(values["deep_sea_stochastic"]),
    )
    gamma = float(values["gamma"])
    SA, SAM = S * A, S * A * M
    update = SEC_UPDATE + SEC_UPDATE_SAM * SAM + (0.0 if acyclic else SEC_UPDATE_S2 * S * S)
    sweep = SEC_VI_SA * SA + SEC_VI_SAM * SAM
    full_sweeps = _vi_sweeps(gamma, 1.0)
    solver = values["inner_solver"]
    if solver == "vi":
        n_sweeps = S + 1 if acyclic and values["exclude_terminal"] else full_sweeps
        inner = n_sweeps * sweep
    elif solver == "soft_vi":
        inner = full_sweeps * (SEC_SOFT_VI_SA * SA + SEC_VI_SAM * SAM)
    else:
        inner = INNER_PG_STEPS * update
    K = int(values["n_explore"])
    explorer = K * (inner + update) + update
    # V* and d^{π*} for the diagnostics: VI on the extrinsic rewards, exact after the longest
    # path (≤ S + 1 sweeps) on acyclic layouts
    optimal = 2 * (min(S + 1, full_sweeps) if acyclic else full_sweeps) * sweep
    if values["gradient"] == "sampled":
        B, H = int(values["batch"]), int(values["horizon"])
        steps = B * (min(H, S) if acyclic else H)
        update += steps * SEC_ENV_STEP + B * (2 * H + 1) * SEC_UNIFORM
    pg = 2 * (int(values["n_pg_iters"]) + 1) * update
    return SEC_FIXED + explorer + optimal + pg


SWEEP = ModelSweep(
    slug="exploration",
    params_class=ExplorationParams,
    parameters=PARAMETERS,
    headline=("coverage_c", "explore_eps"),
    outcomes=OUTCOMES,
    run=run,
    seconds=seconds,
)
