"""The explorer cache of the Exploration maps tab: one explorer run per parameter set.

The explorer ignores rewards, so its result depends only on the restart-needed params listed in
:data:`~app.models.exploration.params.EXPLORER_PARAMS`; live params (restart blend, step size,
distractor reward, ...) reuse it. Results are shared between sessions and therefore made
read-only.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from app.models.exploration import costs
from app.models.exploration.params import EXPLORER_PARAMS
from kernels import exploration as ex

#: Position of K (``n_explore``) in the explorer key.
K_INDEX = EXPLORER_PARAMS.index("n_explore")


@lru_cache(maxsize=256)
def budgeted_key(key: tuple[Any, ...]) -> tuple[tuple[Any, ...], str]:
    """The explorer key with K scaled down to fit the explorer's budget, and the notice naming
    the limit (``""`` if it fits as asked). Raises
    :class:`~app.models.budget.OverBudget` if even K = 1 does not fit; ``ValueError`` if the
    layout cannot be built. Checked before the explorer allocates anything."""
    p = dict(zip(EXPLORER_PARAMS, key, strict=True))
    mdp = make_layout(p, distractor_reward=0.1)  # cheap: the MDP tables only
    K, notice = costs.budgeted_explorer(p, mdp.nxt.shape, mdp.acyclic)
    if not notice:
        return key, ""
    return (*key[:K_INDEX], K, *key[K_INDEX + 1 :]), notice


@lru_cache(maxsize=32)
def explore_cached(key: tuple[Any, ...]) -> tuple[ex.TabularMDP, dict[str, Any], dict, dict]:
    """MDP, explorer result, coverage curves and metrics for one parameter set (read-only)."""
    p = dict(zip(EXPLORER_PARAMS, key, strict=True))
    mdp = make_layout(p, distractor_reward=0.1)
    result = ex.curious_explorer(
        mdp,
        gamma=p["gamma"],
        coverage_c=p["coverage_c"],
        n_explore=p["n_explore"],
        explore_eps=p["explore_eps"],
        exclude_terminal=p["exclude_terminal"],
        threshold_rule=p["threshold_rule"],
        intrinsic_reward=p["intrinsic_reward"],
        include_pi0=p["include_pi0"],
        poorly_set=p["poorly_set"],
        inner_solver=p["inner_solver"],
        temperature=p["temperature"],
    )
    coverage = ex.coverage_curves(mdp, result, p["gamma"])
    metrics = ex.explorer_metrics(mdp, result, p["gamma"])
    for value in (*result.values(), *coverage.values()):
        if isinstance(value, np.ndarray):
            value.flags.writeable = False  # shared between sessions: read-only
    return mdp, result, coverage, metrics


def make_layout(p: dict[str, Any], distractor_reward: float) -> ex.TabularMDP:
    """The MDP of the params ``p`` (only the parameters its layout uses)."""
    layout = p["layout"]
    kwargs: dict[str, Any] = {}
    if layout in ("four_rooms", "distractor_rooms", "corridor", "lock"):
        kwargs["slip"] = p["slip"]
    if layout == "distractor_rooms":
        kwargs["distractor_reward"] = distractor_reward
    if layout == "lock":
        kwargs.update(size=max(p["size"], 5), n_actions=p["n_actions"])
    if layout == "deep_sea":
        kwargs.update(
            size=p["size"],
            mapping_seed=p["mapping_seed"],
            deterministic=not p["deep_sea_stochastic"],
        )
    return ex.make_mdp(layout, **kwargs)
