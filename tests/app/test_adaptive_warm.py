"""The "Weak order" preset's study, computed once per process at start-up (issue 12 item 4).

The preset's study is made small here (1000 paths per τ, the control's lower bound, about a
second) by patching the preset; the code paths are those of the full 20000 paths.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import panel as pn
import pytest

from app.models.adaptive import studies
from app.models.adaptive.model import AdaptiveModel, LiveAdaptiveModel, warm_weak_study
from app.models.adaptive.params import WEAK_ORDER
from app.models.base import CUSTOM_PRESET
from app.models.warm import SharedResults
from app.tabs.adaptive.tab import AdaptiveTab
from app.url_state import apply_query

#: Seconds a (1000-path) study may take on a busy 2-core machine before a test gives up.
WAIT_S = 120.0


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A fresh process-wide store (not yet warmed), the preset's study at 1000 paths, and the
    arguments of every kernel study computed."""
    monkeypatch.setattr(studies, "WEAK_STUDIES", SharedResults("weak-error study", max_size=8))
    monkeypatch.setitem(AdaptiveModel.presets[WEAK_ORDER], "weak_paths", 1000)
    seen: list[dict[str, Any]] = []
    original = studies.kernel_studies.weak_error_study

    def counted(**kwargs: Any) -> dict[str, Any]:
        # not counted: a full-size start-up study a view of an earlier test began in this
        # process (its store is not this test's), which may still be running
        if kwargs["n_paths"] < AdaptiveModel.param.weak_paths.default:
            seen.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(studies.kernel_studies, "weak_error_study", counted)
    return seen


@pytest.fixture
def release(calls, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Hold every weak-error study (counted in ``calls``) until the returned event is set."""
    event = threading.Event()
    counted = studies.kernel_studies.weak_error_study

    def held(**kwargs: Any) -> dict[str, Any]:
        assert event.wait(WAIT_S)
        return counted(**kwargs)

    monkeypatch.setattr(studies.kernel_studies, "weak_error_study", held)
    return event


def _warm() -> Any:
    job = warm_weak_study()
    assert job is not None and job.running
    return job


def _finish(job: Any) -> None:
    assert job.wait(WAIT_S), "the study did not finish"
    assert job.message == "Done." and not job.error, job.error


def test_after_the_warm_study_the_preset_shows_it_without_a_job(calls) -> None:
    job = _warm()
    _finish(job)
    assert warm_weak_study() is job  # once per process
    for model_class in (AdaptiveModel, LiveAdaptiveModel):
        m = model_class(preset=WEAK_ORDER)
        assert m.weak_job.result is not None and not m.weak_job.running
        assert m.weak_job.message.startswith("Done (kept")
        assert m.weak_error_curves(0) is not None
        m.poll()  # a live view's first tick starts no study either
        assert not m.weak_job.running
    assert len(calls) == 1  # only the start-up study was computed


def test_the_warm_study_equals_a_direct_computation(calls) -> None:
    _finish(_warm())
    m = AdaptiveModel(preset=WEAK_ORDER)
    args, notice = studies.fit_weak_error(studies.weak_error_args(m))
    assert notice == "" and args["n_paths"] == 1000 and args["seed"] == m.param.seed.default
    direct = studies.kernel_studies.weak_error_study(progress=None, **args)
    shown = m.weak_job.result
    assert shown.keys() == direct.keys()
    for key, value in direct.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(shown[key], value, err_msg=key)  # same seed: exact
        else:
            assert shown[key] == value, key


def test_a_model_made_while_the_warm_study_runs_follows_it(calls, release) -> None:
    job = _warm()
    m = AdaptiveModel(preset=WEAK_ORDER)
    live = LiveAdaptiveModel(preset=WEAK_ORDER)
    for model in (m, live):
        assert not model.weak_job.running  # nothing to show yet: the poll asks again
        model.poll()  # the first tick of a live view: it follows, starts nothing
        model.poll()  # and goes on following
        assert model.weak_job.running and model.weak_job.result is None
        assert "started with the server" in model.weak_job.message
    release.set()
    _finish(job)
    for model in (m, live):
        assert not model.weak_job.running and model.weak_job.progress == 1.0
        assert model.weak_job.message == "Done."
        res = model.weak_job.result
        assert res is not None and res is not job.result  # a copy: the panel redraws
        np.testing.assert_array_equal(res["error"], job.result["error"])
    assert len(calls) == 1


def test_a_link_overriding_the_preset_gets_its_own_study(calls, release) -> None:
    job = _warm()
    live = LiveAdaptiveModel()
    # the preset first (it follows the start-up study), then the link's own study size
    apply_query(live, {"preset": WEAK_ORDER, "weak_paths": "1024"})
    assert live.preset == CUSTOM_PRESET and not live.weak_job.running
    live.poll()  # the first tick asks with the link's params: a study of its own
    assert live.weak_job.running and "started with the server" not in live.weak_job.message
    release.set()
    _finish(job)
    assert live.weak_job.wait(WAIT_S) and live.weak_job.message == "Done."
    assert live.weak_job.result["n_paths"] == 1024 and job.result["n_paths"] == 1000
    assert len(calls) == 2


def test_cancelling_a_follower_does_not_stop_the_warm_study(calls, release) -> None:
    job = _warm()
    m = AdaptiveModel(preset=WEAK_ORDER)
    m.poll()
    assert m.weak_job.running
    m.weak_job.cancel()  # the Cancel button, or the session's view closed
    release.set()
    _finish(job)
    assert m.weak_job.result is None and m.weak_job.message == "Cancelled."
    assert AdaptiveModel(preset=WEAK_ORDER).weak_job.result is not None  # kept for others


def test_another_seed_or_parameter_does_not_adopt_the_warm_study(calls) -> None:
    job = _warm()
    _finish(job)
    other_seed = AdaptiveModel(preset=WEAK_ORDER, seed=2)
    assert other_seed.weak_job.result is None and not other_seed.weak_job.running
    changed = AdaptiveModel(preset=WEAK_ORDER)  # adopts the warm study, then σ moves
    changed.sigma = 0.5
    assert changed.preset == CUSTOM_PRESET
    for m in (other_seed, changed):
        m.run_weak_error()
        assert m.weak_job.running  # computes its own study
        assert m.weak_job.wait(WAIT_S) and m.weak_job.message == "Done."
        assert not np.array_equal(m.weak_job.result["error"], job.result["error"])
    assert len(calls) == 3  # the start-up study and the two of their own


def test_a_second_identical_request_is_shown_from_the_store(calls) -> None:
    m = AdaptiveModel(preset=WEAK_ORDER, seed=3)  # not the warmed seed: computed here
    m.run_weak_error()
    assert m.weak_job.wait(WAIT_S) and m.weak_job.result is not None
    again = AdaptiveModel(preset=WEAK_ORDER, seed=3)
    assert again.weak_job.result is not None and not again.weak_job.running
    np.testing.assert_array_equal(again.weak_job.result["error"], m.weak_job.result["error"])
    assert len(calls) == 1


def test_the_shared_store_bounds_its_results_and_forgets_finished_jobs() -> None:
    store = SharedResults("test", max_size=2)
    for key in "abc":
        store.put(key, key.upper())
    assert store.get("a") is None and store.get("b") == "B" and store.get("c") == "C"
    assert store.get("b") == "B"  # read last: "c" is now the least recently used
    store.put("d", "D")
    assert store.get("c") is None and store.get("b") == "B"
    release = threading.Event()
    job = store.start("e", lambda progress: release.wait(WAIT_S) and "E", "testing")
    assert store.job("e") is job and store.running("e")
    release.set()
    assert job.wait(WAIT_S) and job.result == "E"
    assert store.job("e") is None and store.get("e") == "E"


def test_a_view_opened_on_the_preset_draws_the_warm_study_at_once(calls) -> None:
    job = _warm()
    _finish(job)
    view = AdaptiveTab(model=LiveAdaptiveModel(preset=WEAK_ORDER))
    try:
        view.weak.update()  # the first draw
        assert len(view.weak._lines["sme2"].data["x"]) == 5  # five steps τ, before any tick
        assert "1000 coupled paths per τ" in view.weak.summary.object
        bars = list(view.weak.controls.select(pn.indicators.Progress))
        texts = [s.object for s in view.weak.controls.select(pn.pane.Str)]
        assert [bar.value for bar in bars] == [100] and texts == [view.model.weak_job.message]
        assert texts[0].startswith("Done (kept")
        view.tick()
        assert not view.model.weak_job.running and len(calls) == 1
    finally:
        view.close()


def test_a_view_opened_while_the_warm_study_runs_says_so_then_draws_it(calls, release) -> None:
    job = _warm()
    view = AdaptiveTab(model=LiveAdaptiveModel(preset=WEAK_ORDER))
    try:
        view.weak.update()
        assert view.weak.summary.object.startswith("Press")  # nothing asked for yet
        view.tick()  # the first tick follows the start-up study
        assert view.weak.summary.object.startswith("Computing the study")
        release.set()
        _finish(job)
        assert len(view.weak._lines["sme2"].data["x"]) == 5
        assert view.weak.summary.object.startswith("1000 coupled paths per τ")
        assert len(calls) == 1
    finally:
        view.close()


def test_the_start_up_study_is_kept_on_disk_for_the_next_start(
    calls, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """The next server start reads the study from the disk cache instead of computing it; an
    unreadable file is computed again."""
    from app.models import warm

    monkeypatch.setenv(warm.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(studies, "WEAK_STUDIES", SharedResults("weak-error study", 8, "adaptive"))
    _finish(_warm())
    assert len(calls) == 1
    files = list(tmp_path.glob("*.pickle"))
    assert len(files) == 1
    first = studies.WEAK_STUDIES

    # a new process: a fresh store, warmed again
    monkeypatch.setattr(studies, "WEAK_STUDIES", SharedResults("weak-error study", 8, "adaptive"))
    assert warm_weak_study() is None  # nothing to compute
    assert len(calls) == 1
    m = AdaptiveModel(preset=WEAK_ORDER)
    assert not m.weak_job.running
    kept = next(iter(first._results.values()))
    for key, value in kept.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(m.weak_job.result[key], value, err_msg=key)

    # a damaged file: the next start computes the study again and rewrites it
    files[0].write_bytes(b"\x80\x05 not a whole pickle")
    monkeypatch.setattr(studies, "WEAK_STUDIES", SharedResults("weak-error study", 8, "adaptive"))
    _finish(_warm())
    assert len(calls) == 2
    assert studies.WEAK_STUDIES.load(next(iter(studies.WEAK_STUDIES._results)))
