"""The Exploration maps view without a browser: maps, coverage and curves follow the model."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.models.exploration import ExplorationModel
from app.tabs.exploration.maps import GRID_SIDE, frame_size, map_size
from app.tabs.exploration.tab import ExplorationTab
from app.tabs.panel import TabPanel


@pytest.fixture
def tab() -> ExplorationTab:
    view = ExplorationTab()
    assert view.model.learning.result is None
    view.tick()  # the first tick of a live session starts the learning curves
    deadline = time.monotonic() + 60
    while view.model.learning.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert view.model.learning.result is not None
    # the job result arrives on a worker thread outside a server
    view.learning.update()
    view.policies.update()
    return view


def test_maps_show_the_grid_and_the_poorly_visited_set(tab: ExplorationTab):
    model = tab.model
    cells = tab.maps.cells["mixture"].data
    assert len(cells["x"]) == model.mdp.n_states == 68
    model.k_view = 0
    assert len(tab.maps.outline.data["x"]) == 22  # U_1 outlined
    values = np.asarray(tab.maps.cells["mixture"].data["value"])
    np.testing.assert_allclose(
        values, np.maximum(model.explorer["mixtures"][0], tab.maps.mapper.low), rtol=1e-12
    )
    assert ">0 / 7<" in tab.maps.readouts.object
    # π_0 is uniform: no greedy arrows; π_1 has some
    assert tab.maps.arrows.data["text"] == []
    model.k_view = 1
    assert len(tab.maps.arrows.data["text"]) > 20
    assert len(tab.maps.walls.data["x"]) == 121 - 68  # walls drawn dark


def test_layout_change_rebuilds_the_geometry(tab: ExplorationTab):
    tab.model.preset = "Combination lock"
    data = tab.maps.cells["mu"].data
    assert len(data["x"]) == 17 and set(data["row"]) == {0}
    strip = tab.maps.figures["mixture"]
    assert (strip.width, strip.height) == map_size((1, 17))  # a 1×(N+1) strip
    assert frame_size((1, 17)) == (17 * 25, 25) and not strip.yaxis[0].visible
    # the axes fit the cells: no blank margin around the strip
    assert (strip.x_range.start, strip.x_range.end) == (-0.5, 16.5)
    assert (strip.y_range.start, strip.y_range.end) == (0.5, -0.5)
    assert len(tab.maps.terminals.data["x"]) == 1  # state N hatched
    assert tab.maps.k_slider.end == 16 and tab.maps.k_slider.value == 0  # opens at k = 0
    ranges = (strip.x_range, strip.y_range)
    tab.model.preset = "FrozenLake"
    # the same range models, updated (new ones would make Bokeh walk the whole page again)
    assert (strip.x_range, strip.y_range) == ranges
    assert strip.x_range.bounds == (-0.5, 7.5) and strip.y_range.start == 7.5
    lake = tab.maps.figures["policy"]
    assert frame_size((8, 8)) == (GRID_SIDE, GRID_SIDE)  # square cells
    assert (lake.x_range.start, lake.x_range.end) == (-0.5, 7.5)
    assert (lake.y_range.start, lake.y_range.end) == (7.5, -0.5)
    tab.model.preset = "DeepSea"
    assert len(tab.maps.cells["mu"].data["x"]) == 55  # the terminal is not drawn


def test_coverage_marker_follows_k(tab: ExplorationTab):
    tab.model.k_view = 3
    assert all(marker.location == 3 for marker in tab.coverage.markers)
    assert len(tab.coverage.source.data["k"]) == tab.model.n_iters + 1


def test_learning_curves_and_table(tab: ExplorationTab):
    sources = tab.learning.sources
    assert set(sources) == {"rho", "mu", "blend", "uniform"}
    assert len(sources["rho"].data["x"]) == 1  # t = 0 until Play or the slider reveals more
    # before the curves, the title follows the explorer's act (above the fold in a lesson)
    assert "First the explorer builds μ: iteration 0 of 7" in tab.learning.figure.title.text
    tab.model.pg_view = 150
    tab.learning.update()
    assert sources["rho"].data["x"][-1] == 150 == tab.learning.figure.x_range.end
    assert "t = 150 of 2,000" in tab.learning.figure.title.text
    tab.learning.show_all.clicks += 1
    tab.learning.update()
    assert sources["rho"].data["x"][-1] == 2000 and len(sources["rho"].data["x"]) <= 602
    table = tab.learning.table.object
    assert "iters to 0.9 V*" in table and "222" in table  # ρ-restart count (spec ≈220)
    tab.learning.axis.value = "environment steps"
    x = np.asarray(sources["mu"].data["x"])
    assert x[0] == tab.model.explorer_cost()  # μ offset by the explorer's nominal cost
    assert "nominal" in tab.learning.note.object


def test_live_change_marks_curves_stale_and_tick_reruns(tab: ExplorationTab):
    tab.model.learning_study.debounce_s = 0.0
    old = tab.model.learning.result
    tab.model.restart_beta = 0.8
    assert tab.model.learning_study.stale
    time.sleep(0.01)
    tab.tick()
    deadline = time.monotonic() + 30
    while tab.model.learning.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert tab.model.learning.result is not old


def test_learned_policy_maps_show_the_distractor_trap(tab: ExplorationTab):
    tab.model.preset = "Distractor trap"
    tab.model.run_learning()
    deadline = time.monotonic() + 30
    while tab.model.learning.running and time.monotonic() < deadline:
        time.sleep(0.02)
    tab.learning.update()
    tab.policies.update()
    mdp = tab.model.mdp
    distractor = next(s for s in np.flatnonzero(mdp.absorbing) if s not in mdp.goal_states)
    goal = mdp.goal_states[0]
    values = {k: np.asarray(src.data["value"]) for k, src in tab.learning.policies.cells.items()}
    # ρ-restart PG settles on the distractor; μ-restart PG goes to the goal (spec §5.3)
    assert values["rho"][distractor] > values["rho"][goal]
    assert values["mu"][goal] > values["mu"][distractor]
    assert len(tab.learning.policies.arrows["mu"].data["text"]) > 30


def test_panels_share_the_panel_interface_and_the_card_is_data(tab: ExplorationTab):
    assert all(isinstance(panel, TabPanel) for panel in tab.panels)
    assert [type(p).__name__ for p in tab.panels if p.every_frame] == ["ExplorerMaps"]
    assert {tab.maps, tab.coverage, tab.learning, tab.policies, tab.sweep_panel} == set(tab.panels)
    assert "tick" not in vars(ExplorationTab) and "_update_plots" not in vars(ExplorationTab)
    card = next(c for c in tab._panels.objects if getattr(c, "title", "").startswith("Model card"))
    texts = [getattr(pane, "object", "") for pane in card.objects]
    assert any("Uₖ = {s ∈ Sᵥ" in text for text in texts)  # Unicode, not TeX
    assert sum(text.startswith("$d^{\\pi}_{\\nu}") for text in texts) == 1


def test_player_waits_frame_interval_between_steps(tab: ExplorationTab):
    model = tab.model
    model.k_view = 0
    model.playing = True
    tab.tick()
    tab.tick()  # within the model's frame_interval: no second step
    assert model.episode_share == pytest.approx(1 / model.substeps)
    tab._stepped_at -= model.frame_interval
    tab.tick()
    assert model.episode_share == pytest.approx(2 / model.substeps)
    model.playing = False
    # between two iterations the maps show the new policy and the mixture filling in
    assert "π₁" in tab.maps.figures["policy"].title.text
    assert ">π₁: " in tab.maps.readouts.object


def test_sampled_curves_mark_each_seeds_first_reward():
    tab = ExplorationTab(model=ExplorationModel(preset="DeepSea"))
    tab.model.run_learning()
    assert tab.model.learning.wait(60)
    tab.model.reveal_all()
    tab.learning.update()
    marks = tab.learning.marks.data
    assert len(marks["x"]) == 4 * 3  # four restarts, three seeds each
    assert tab.learning.marks_item.visible  # listed in the legend only when drawn
    assert set(marks["colour"]) == {"#d62728", "#1f77b4", "#9467bd", "#7f7f7f"}
    tab.model.pg_view = 12
    tab.learning.update()
    assert len(tab.learning.marks.data["x"]) < 12 and tab.model.mu_found_reward()
