"""The shared "rerun once the user stops moving" study, without a tab or a kernel."""

from __future__ import annotations

from app.models.jobs import BackgroundJob
from app.models.rerun import RERUN_DEBOUNCE_S, RerunningStudy
from tests.app.toy_model import ToyModel


def _study() -> tuple[RerunningStudy, list[int]]:
    started: list[int] = []
    job = BackgroundJob(name="toy")
    return RerunningStudy(job, lambda: started.append(1)), started


def test_new_study_is_stale_and_runs_on_the_first_poll_after_the_debounce() -> None:
    study, started = _study()
    assert study.stale and study.stale_since == 0.0
    assert study.poll(now=RERUN_DEBOUNCE_S + 0.01)
    assert started == [1] and not study.stale
    assert not study.poll(now=1e9)  # up to date: nothing more
    assert started == [1]


def test_changes_restart_the_debounce_and_label_the_result_stale() -> None:
    study, started = _study()
    study.settle()
    study.mark_stale()
    t0 = study.stale_since
    assert study.job.message.startswith("Parameters changed")
    assert not study.poll(now=t0 + RERUN_DEBOUNCE_S / 2)  # still moving
    study.mark_stale()  # another change
    assert not study.poll(now=t0 + RERUN_DEBOUNCE_S / 2)
    assert study.poll(now=study.stale_since + RERUN_DEBOUNCE_S + 0.01)
    assert started == [1]


def test_run_at_next_poll_skips_the_debounce_only_when_stale() -> None:
    study, started = _study()
    study.settle()
    study.run_at_next_poll()
    assert not study.stale and not study.poll()
    study.mark_stale()
    study.run_at_next_poll()
    assert study.poll() and started == [1]


def test_model_watches_params_and_polls_its_studies() -> None:
    model = ToyModel()
    started: list[float] = []
    study = model.rerun_when_idle(
        BackgroundJob(name="toy"), lambda: started.append(model.noise), watch=["noise"]
    )
    study.settle()
    model.noise = 0.3
    assert study.stale
    study.stale_since -= RERUN_DEBOUNCE_S + 0.01  # as if the user rested for the debounce
    model.poll()
    assert started == [0.3] and not study.stale
