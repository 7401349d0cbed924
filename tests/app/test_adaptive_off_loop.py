"""A live Adaptive SGD view computes its runs off the event loop (issue 14, item 2).

The model plans a run on the loop (params, budget: milliseconds), the job pool simulates it
and the view shows the result on its loop; meanwhile the previous run stays on screen, the
status line shows the progress, and Play waits. Without a Bokeh document the view applies a
result on the job's thread, before the job reports done, so ``run_job.wait()`` is enough here.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.models.adaptive.model import AdaptiveModel, LiveAdaptiveModel, compute_run
from app.tabs.adaptive.tab import AdaptiveTab
from app.url_state import apply_query
from tests.app.adaptive_live import settled

#: The heaviest link of issue 13/14 (4096 paths × 51 200 steps before the budget): 14.5–16 s
#: on the loop before the run budget, 3.6 s (idle machine) to 9 s (loaded) after it.
HEAVY = {"n_paths": 4096, "t_final": 50.0, "log2_tau": -10.0}
#: What a change may cost the loop: planning measured 10–30 ms on the 2-core machine under a
#: load of 8 (other helpers' test runs); 0.5 s leaves room for that load and still fails if
#: the 3.6–9 s simulation ran here.
LOOP_BUDGET_S = 0.5


@pytest.fixture
def tab() -> AdaptiveTab:
    view = settled(AdaptiveTab())
    yield view
    view.close()


def test_a_link_costs_a_live_model_nothing_before_its_view() -> None:
    model = LiveAdaptiveModel()
    start = time.perf_counter()
    apply_query(model, {k: str(v) for k, v in HEAVY.items()})
    assert time.perf_counter() - start < LOOP_BUDGET_S
    assert model.computing and not model.run  # held: nothing simulated yet
    view = AdaptiveTab(model=model)  # the view shows the run's start state meanwhile
    try:
        assert model.computing and len(model.run["t"]) == 3  # t = 0, τ, 2τ
        assert "Computing the run" in model.status
        settled(view)
        assert model.run["chain"]["theta"].shape[1] < 4096  # scaled to the run budget
        np.testing.assert_array_equal(model.run["t"][:1], [0.0])
    finally:
        view.close()


def test_a_heavy_change_returns_at_once_with_its_progress(tab: AdaptiveTab) -> None:
    model = tab.model
    start = time.perf_counter()
    model.param.update(**HEAVY)
    assert time.perf_counter() - start < LOOP_BUDGET_S
    assert model.computing and model.run_job.running
    assert "Computing the run" in model.status and "Play waits" in model.status
    model.run_job.cancel()


def test_the_run_shown_has_the_numbers_of_a_throwaway_model(tab: AdaptiveTab) -> None:
    model = tab.model
    model.param.update(n_paths=512, sigma=0.7, log2_tau=-7.0)
    settled(tab)
    reference = AdaptiveModel(n_paths=512, sigma=0.7, log2_tau=-7.0)  # computed where asked
    assert model.run["orders"] == reference.run["orders"]
    for key in ("chain", *model.run["orders"]):
        for name in ("theta", "loss"):
            np.testing.assert_array_equal(model.run[key][name], reference.run[key][name])
    assert model.status == reference.status and model.run_serial > 1
    assert model.param.time_index.bounds[1] == len(model.run["t"]) - 1


def test_play_waits_for_the_run_then_plays_it(tab: AdaptiveTab, monkeypatch) -> None:
    import threading

    from app.models.adaptive import model as adaptive_model

    release = threading.Event()
    compute = adaptive_model.compute_run

    def held(*args, **kwargs):  # the job pool is busy: the run arrives when released
        release.wait(30)
        return compute(*args, **kwargs)

    monkeypatch.setattr(adaptive_model, "compute_run", held)
    model = tab.model
    model.playing = True
    model.time_index = 40
    model.n_paths = 1024  # a restart: the new run plays from its start once shown
    for _ in range(3):
        tab.tick()  # an animation frame: nothing moves, Play stays on
    assert model.computing and model.playing and model.time_index == 40
    assert not model.step_frame() and model.time_index == 40  # Step waits too
    release.set()
    settled(tab)
    assert model.playing and "press play" not in model.status
    assert model.time_index == 1  # from the new run's start, and the Step pressed meanwhile
    assert model.run["chain"]["theta"].shape[1] == 1024
    assert model.step_frame() and model.time_index == 2
    model.playing = False


def test_a_live_change_keeps_the_cursor(tab: AdaptiveTab) -> None:
    model = tab.model
    model.time_index = 50
    model.sigma = 0.7
    settled(tab)
    assert model.time_index == 50 and model.status.startswith("Recomputed")


def test_a_replaced_run_is_never_shown(tab: AdaptiveTab) -> None:
    model = tab.model
    model.sigma = 0.6
    first = model.plan_run(token=model._pending["token"])  # the plan the job computes
    model.sigma = 0.8  # replaces it before it arrives
    assert not model.apply_run(compute_run(first))  # the older result is dropped
    settled(tab)
    assert model.run["effective"]["sigma"] == 0.8


def test_a_failed_run_says_why_and_keeps_the_previous(tab: AdaptiveTab) -> None:
    model = tab.model
    shown = model.run
    model.run_job.start(lambda _progress: 1 / 0, label="Computing the run")
    model._plans += 1
    model._pending = model.plan_run(token=model._plans)
    model.run_job.wait(10)
    model.show_run_progress()
    assert not model.computing and model.run is shown
    assert "could not be computed" in model.status and "ZeroDivisionError" in model.status
