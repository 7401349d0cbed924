"""The Exploration maps model at hostile in-range links: no NaN, no numpy warning (issue 13).

A fuzz of 1029 random combinations of the explorer's parameters at their bounds (six layouts,
every selector value) found six that warned, all with ε = 0, π₀ left out of the mixture and
the smooth bonus: ``invalid value encountered in sqrt`` in the bonus √(δ/D̄), then ``invalid
value encountered in divide`` in the greedy policy of the resulting all-NaN Q. The cause was
the exact visitation solve, whose rounding residues around 0 (down to about −1e-17) made a
share negative; :func:`kernels.exploration.explorer.visitation` now returns d ≥ 0. The links
below are four of those combinations and a grid of extremes around them (before the fix 6
of these 16 failed, after it none).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from app.models.exploration.model import ExplorationModel
from app.url_state import apply_query

#: Combinations the fuzz found warning before the fix (as links: every value a string).
FOUND = [
    "layout=four_rooms&gamma=0.999&n_actions=4&n_explore=30&explore_eps=0&exclude_terminal=false"
    "&intrinsic_reward=bonus&include_pi0=false&poorly_set=state_actions&inner_solver=pg"
    "&temperature=1",
    "layout=frozen_lake_8x8&gamma=0.9&n_explore=2&explore_eps=0&exclude_terminal=false"
    "&threshold_rule=raw&intrinsic_reward=bonus&include_pi0=false&inner_solver=vi",
    "layout=frozen_lake_8x8&size=5&coverage_c=0.01&n_explore=5&explore_eps=0"
    "&exclude_terminal=false&threshold_rule=raw&intrinsic_reward=bonus&include_pi0=false"
    "&inner_solver=soft_vi&temperature=0.005",
    "layout=distractor_rooms&size=30&deep_sea_stochastic=true&n_explore=5&explore_eps=0"
    "&exclude_terminal=false&intrinsic_reward=bonus&include_pi0=false&poorly_set=state_actions",
]
LAYOUTS = ("four_rooms", "distractor_rooms", "corridor", "lock", "deep_sea", "frozen_lake_8x8")
#: Every layout with both rewards that take D̄ apart (bonus, maximum entropy), at the extremes
#: the found ones share (ε = 0, no π₀, terminals kept), the longest horizon and lowest threshold.
GRID = [
    f"layout={layout}&intrinsic_reward={reward}&explore_eps=0&include_pi0=false"
    f"&exclude_terminal=false&gamma=0.999&coverage_c=0.01&slip=0.5&size=30&n_actions=4"
    for layout, reward in itertools.product(LAYOUTS, ("bonus", "maxent"))
]


def query(link: str) -> dict[str, str]:
    return dict(pair.split("=") for pair in link.split("&"))


@pytest.mark.parametrize("link", FOUND + GRID)
def test_extreme_links_explore_without_a_numpy_warning(link: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning (NaN, invalid value) fails
        model = ExplorationModel()
        assert apply_query(model, query(link)) == []  # every value in range, applied as is
        assert not model.explorer_notice.startswith(("Explorer refused", "Could not")), (
            model.explorer_notice
        )
        for _ in range(3 * model.explorer["n_iters"] + 3):  # the explorer's act, k by k
            model.step()
    result = model.explorer
    for name in ("mu", "mixtures", "visitations", "policies", "intrinsic_rewards"):
        values = np.asarray(result[name])
        assert np.all(np.isfinite(values)), name
        assert np.all(values >= 0), name  # shares, probabilities and bonuses are never negative
    np.testing.assert_allclose(result["policies"].sum(-1), 1.0, rtol=1e-12)  # rows: one roundoff
