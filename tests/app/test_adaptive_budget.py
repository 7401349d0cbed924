"""Bounded work of the Adaptive SGD tab (issue 13): costs, scaling down, refusals, maxima."""

from __future__ import annotations

import numpy as np
import param
import pytest

from app.models import budget
from app.models.adaptive import AdaptiveModel, costs, studies
from app.url_state import apply_query
from tests.app.budget_probe import HARD_BYTES, HARD_SECONDS, measure

ORDERS3 = ("ode", "sde1", "sme2")


def _run_bytes(run: dict) -> int:
    """Bytes of every array the run keeps (views of one record share nothing: each is a
    disjoint slice of its leg's record)."""
    total = run["t"].nbytes
    for key in ("chain", *run["orders"]):
        total += sum(a.nbytes for a in run[key].values() if isinstance(a, np.ndarray))
    return total


# ------------------------------------------------------------------ cost functions


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam"])
@pytest.mark.parametrize("landscape", ["quadratic", "linreg", "double_well"])
def test_run_bytes_are_exact_for_a_small_run(optimizer: str, landscape: str) -> None:
    m = AdaptiveModel(
        optimizer=optimizer, regime="ballistic", landscape=landscape, n_paths=24, t_final=2.0
    )
    run = m.run
    n_rec, n_paths = len(run["t"]), run["chain"]["theta"].shape[1]
    kept = costs.run_kept_bytes(optimizer, landscape, run["orders"], n_rec, n_paths)
    assert kept == _run_bytes(run)
    cost = costs.run_cost(
        optimizer, landscape, run["orders"], run["n_steps"], m.n_sub, n_paths, run["rec_every"]
    )
    assert cost.bytes > kept  # plus the chain's three records, buffers and temporaries


def test_costs_grow_with_every_size() -> None:
    base = dict(n_steps=512, n_sub=4, n_paths=128, rec_every=3)
    ref = costs.run_cost("adam", "quadratic", ORDERS3, **base)
    for key in base:
        if key == "rec_every":
            continue
        bigger = costs.run_cost("adam", "quadratic", ORDERS3, **{**base, key: 2 * base[key]})
        assert bigger.seconds > ref.seconds and bigger.bytes >= ref.bytes, key
    sparser = costs.run_cost("adam", "quadratic", ORDERS3, **{**base, "rec_every": 6})
    assert sparser.bytes < ref.bytes
    assert costs.run_cost("adam", "quadratic", ("ode",), **base).seconds < ref.seconds
    assert costs.run_cost("adam", "linreg", ORDERS3, **base).seconds > ref.seconds
    assert costs.run_cost("sgd", "quadratic", ORDERS3, **base).bytes < ref.bytes

    weak = [costs.weak_error_cost("rmsprop", "quadratic", ORDERS3, n) for n in (1000, 2000)]
    assert weak[1].seconds == pytest.approx(2 * weak[0].seconds)
    assert weak[1].bytes >= weak[0].bytes
    taus = [2**-6, 2**-5]
    sc = costs.scaling_cost("rmsprop", "quadratic", taus, 2**-6, 8.0, 128)
    assert costs.scaling_cost("rmsprop", "quadratic", taus, 2**-6, 8.0, 256).seconds > sc.seconds
    assert costs.scaling_cost("rmsprop", "quadratic", taus, 2**-6, 16.0, 128).bytes > sc.bytes
    assert costs.scaling_cost("rmsprop", "quadratic", taus, 2**-6, 8.0, 128, 4).bytes < sc.bytes


def test_teaching_defaults_are_inside_the_budget_and_unchanged() -> None:
    m = AdaptiveModel()
    assert m.notice == "" and m.run["chain"]["theta"].shape[1] == m.n_paths
    args, notice = studies.fit_weak_error(studies.weak_error_args(m))
    assert notice == "" and args["n_paths"] == m.weak_paths
    sargs, notice = studies.fit_scaling(studies.scaling_args(m))
    assert notice == "" and "record_every" not in sargs
    for name in AdaptiveModel.presets:
        assert "limit" not in AdaptiveModel(preset=name).notice, name


# ------------------------------------------------------------ scaling down, refusals


def test_offending_link_is_scaled_with_a_notice() -> None:
    """``?tab=adaptive&n_paths=4096&t_final=50&log2_tau=-10``: 51 200 steps × 4096 paths."""
    m = AdaptiveModel()
    apply_query(m, {"tab": "adaptive", "n_paths": "4096", "t_final": "50", "log2_tau": "-10"})
    run = m.run
    assert run["n_steps"] == 51200 and run["chain"]["theta"].shape[1] < 4096
    assert "limit is 5 s" in m.status and "paths" in m.status
    cost = costs.run_cost(
        "rmsprop",
        "quadratic",
        run["orders"],
        run["n_steps"],
        1,
        run["chain"]["theta"].shape[1],
        run["rec_every"],
    )
    assert cost.fits(budget.MAX_RUN_BYTES, costs.MAX_RUN_SECONDS)


def test_history_over_the_run_limit_is_stored_more_sparsely() -> None:
    m = AdaptiveModel(optimizer="adam", regime="ballistic", n_sub=2, n_paths=4096)
    m.param.update(log2_tau=-5.0, t_final=6.25)  # 200 steps, three orders, 4096 paths
    assert m.run["rec_every"] > 1 and "limit is 200 MiB" in m.status
    assert _run_bytes(m.run) <= budget.MAX_RUN_BYTES


def test_too_slow_at_the_fewest_paths_takes_fewer_substeps() -> None:
    m = AdaptiveModel(
        landscape="linreg",
        optimizer="adam",
        regime="ballistic",
        sde_order="sme2",
        n_paths=16,
        log2_tau=-10.0,
        t_final=50.0,
        n_sub=64,
    )
    assert m.run["chain"]["theta"].shape[1] == 16 and "EM substeps per step" in m.status
    assert "limit is 5 s" in m.status


def test_an_animation_step_only_moves_the_cursor() -> None:
    assert costs.tick_cost(AdaptiveModel.param.speed.bounds[1]).seconds <= 0.2


def test_weak_error_study_is_scaled_down_with_a_notice() -> None:
    m = AdaptiveModel(landscape="linreg", weak_paths=100000)
    args, notice = studies.fit_weak_error(studies.weak_error_args(m))
    assert 1000 <= args["n_paths"] < 100000
    assert "limit is 30 s" in notice and "Scaled down" in notice
    cost = costs.weak_error_cost("rmsprop", "linreg", args["orders"], args["n_paths"])
    assert cost.fits()


def test_scaling_study_records_sparsely_then_scales_paths() -> None:
    m = AdaptiveModel(log2_tau=-10.0, t_final=50.0, n_paths=512, kappa_max=32)
    args, notice = studies.fit_scaling(studies.scaling_args(m))
    assert args["record_every"] > 1 and "limit is 400 MiB" in notice
    cost = costs.scaling_cost(
        "rmsprop",
        "quadratic",
        studies.scaling_taus(args),
        args["tau"],
        args["t_max"],
        args["n_paths"],
        args["record_every"],
    )
    assert cost.fits()


def test_a_study_over_budget_at_its_smallest_is_refused(monkeypatch) -> None:
    m = AdaptiveModel()
    monkeypatch.setattr(costs, "MARGIN", 1e6)
    m.run_weak_error()
    assert not m.weak_job.running and m.weak_job.message == "Refused."
    assert "limit is 30 s" in m.weak_job.error
    m.run_scaling()
    assert not m.scaling_job.running and "limit" in m.scaling_job.error


# ------------------------------------------------------------------------- maxima


def _maxima() -> dict:
    """Every numeric param at the bound that costs most (the upper one; for log₂ τ the lower
    one: more steps), selectors at their most expensive option (Adam with SME2 in the
    ballistic regime on linear regression: the dearest landscape per path-substep)."""
    values = {}
    for name in AdaptiveModel.scientific_params():
        p = AdaptiveModel.param[name]
        if isinstance(p, param.Number) and p.bounds is not None:
            values[name] = p.bounds[1]
    values.update(
        log2_tau=-10.0,
        optimizer="adam",
        regime="ballistic",
        landscape="linreg",
        sde_order="sme2",
        w2=True,
        scaling_rule="srsr",
        kappa_max=32,
    )
    return values


@pytest.mark.slow
def test_every_control_at_its_maximum_stays_within_the_hard_limits() -> None:
    values = _maxima()
    assert values["n_paths"] == 4096 and values["weak_paths"] == 100000
    assert values["t_final"] == 50.0 and values["n_sub"] == 64
    peak, seconds, m = measure(lambda: AdaptiveModel(seed=1, **values))
    assert peak < HARD_BYTES and seconds < HARD_SECONDS
    assert "limit" in m.status and "Scaled down" in m.status
    print(f"\nconstruction: {peak / 2**20:.0f} MiB, {seconds:.1f} s; {m.status}")

    m.speed = m.param.speed.bounds[1]
    for _ in range(3):
        peak, seconds, _ = measure(m.step)
        assert peak < HARD_BYTES and seconds < 0.2
    print(f"step at speed {m.speed}: {seconds * 1e3:.1f} ms")

    for start, job in ((m.run_weak_error, m.weak_job), (m.run_scaling, m.scaling_job)):

        def work(start=start, job=job) -> bool:
            start()
            return job.wait(2 * HARD_SECONDS)

        peak, seconds, done = measure(work)
        print(f"{job.name}: {peak / 2**20:.0f} MiB, {seconds:.1f} s; {job.message}")
        assert done and not job.error, job.error
        assert peak < HARD_BYTES and seconds < HARD_SECONDS
        assert "limit" in job.message and job.result["notice"] in job.message
