"""Sweep engine units (issue 15, items 4, 5, 7, 8): axes, clamping, seeds, the replicate cache,
batching, the in-process engine against direct runs, resume after an interruption, labelled
results and their CSV and NetCDF files."""

from __future__ import annotations

import dataclasses
import io
import math
import threading

import numpy as np
import pytest
import xarray as xr

from app.sweeps import engine, registry, run_sweep
from app.sweeps.cache import ReplicateCache
from app.sweeps.engine import DIVERGED, FAILED, OK, SweepCancelled, execute, plan_sweep
from app.sweeps.grid import (
    Axis,
    SweepDefinition,
    SweepError,
    baseline_values,
    cell_values,
    default_axis,
    parse_axis,
    validate,
)
from app.sweeps.results import cell_summary, to_csv, to_dataset, to_netcdf
from app.sweeps.seeds import replicate_seed

SWARM = registry.model_sweep("swarm")
#: A small swarm sweep: 3 × 2 cells, 2 replicates, about 0.03 s per replicate.
SMALL = SweepDefinition("swarm", Axis("sigma0", 0.1, 0.7, 3), Axis("beta0", 0, 100, 2), "", 2, 5)


def test_axes_read_write_and_space_their_values() -> None:
    axis = parse_axis("sigma0=0.1:0.8:8:log")
    assert axis == Axis("sigma0", 0.1, 0.8, 8, True)
    assert parse_axis(axis.text()) == axis
    np.testing.assert_allclose(axis.values(), np.geomspace(0.1, 0.8, 8))
    np.testing.assert_allclose(Axis("a", 0, 1, 5).values(), [0, 0.25, 0.5, 0.75, 1])
    assert Axis("n", 1, 10, 4).values(integer=True).tolist() == [1, 4, 7, 10]
    for bad in (
        "sigma0",
        "sigma0=1:2",
        "=1:2:3",
        "sigma0=a:2:3",
        "sigma0=1:2:3:cubic",
        "x=nan:1:2",
    ):
        with pytest.raises(SweepError):
            parse_axis(bad)


def test_validation_clamps_with_notices_and_refuses_what_it_cannot_mend() -> None:
    low, high = SWARM.params_class.param["sigma0"].bounds
    definition = SweepDefinition(
        "swarm", Axis("sigma0", -5, 1e9, 99, True), Axis("beta0", 50, 10, 4), "", 500, 1
    )
    checked, notices = validate(SWARM, definition)
    assert (checked.x.lo, checked.x.hi, checked.x.n) == (low, high, 32)
    assert checked.x.log is False  # a log axis through 0 falls back to linear, with a notice
    assert (checked.y.lo, checked.y.hi) == (10, 50)  # reversed ends are put in order
    assert checked.replicates == 64
    assert len(notices) == 4, notices
    with pytest.raises(SweepError, match="cannot sweep"):
        validate(SWARM, dataclasses.replace(SMALL, x=Axis("objective", 0, 1, 2)))
    with pytest.raises(SweepError, match="both axes"):
        validate(SWARM, dataclasses.replace(SMALL, y=Axis("sigma0", 0.1, 0.5, 2)))
    with pytest.raises(KeyError, match="no outcome"):
        validate(SWARM, dataclasses.replace(SMALL, outcome="nonsense"))
    clamped, notices = validate(SWARM, dataclasses.replace(SMALL, fixed={"n_particles": "1e6"}))
    assert clamped.fixed["n_particles"] == SWARM.params_class.param["n_particles"].bounds[1]
    assert notices


def test_default_axes_use_the_proposed_range_or_the_soft_bounds() -> None:
    assert default_axis(SWARM, "sigma0") == Axis("sigma0", 0.05, 0.8, 8, False)
    lo, hi = SWARM.params_class.param["beta0"].get_soft_bounds()
    assert default_axis(SWARM, "beta0", 5) == Axis("beta0", lo, hi, 5, False)


def test_cells_run_x_fastest_and_carry_every_parameter() -> None:
    checked, _ = validate(SWARM, SMALL)
    cells = cell_values(SWARM, checked)
    assert len(cells) == 6
    assert [c["sigma0"] for c in cells[:3]] == pytest.approx([0.1, 0.4, 0.7])
    assert [c["beta0"] for c in cells] == [0, 0, 0, 100, 100, 100]
    assert set(cells[0]) == set(baseline_values(SWARM))


def test_replicate_seeds_are_the_seed_sequence_children_and_distinct() -> None:
    # SeedSequence(seed).spawn(...)[cell].spawn(...)[replicate] has spawn_key (cell, replicate)
    child = np.random.SeedSequence(7).spawn(4)[3].spawn(3)[2]
    assert replicate_seed(7, 3, 2) == int(child.generate_state(1)[0] & 0x7FFFFFFF)
    seeds = {replicate_seed(7, c, r) for c in range(40) for r in range(8)}
    assert len(seeds) == 320
    assert replicate_seed(7, 3, 2) == replicate_seed(7, 3, 2) != replicate_seed(8, 3, 2)
    with pytest.raises(ValueError):
        replicate_seed(-1, 0, 0)


def test_the_cache_round_trips_and_keys_on_every_input(tmp_path) -> None:
    cache = ReplicateCache(tmp_path)
    values = baseline_values(SWARM)
    key = cache.key("swarm", values, 11)
    assert cache.get(key) is None
    record = {"cell": 0, "replicate": 1, "outcomes": {"a": math.nan, "b": 2.5}, "status": OK}
    cache.put(key, record)
    back = cache.get(key)
    assert back["outcomes"]["b"] == 2.5 and math.isnan(back["outcomes"]["a"])
    assert cache.key("swarm", values, 12) != key
    assert cache.key("swarm", {**values, "sigma0": 0.3}, 11) != key
    assert not list(tmp_path.rglob("*.tmp"))
    next(tmp_path.rglob("*.json")).write_text("{truncated")
    assert cache.get(key) is None  # an unreadable entry is a miss, not an error


def test_batches_cover_every_replicate_once_and_bound_the_task_size() -> None:
    plan = plan_sweep(dataclasses.replace(SMALL, replicates=5))
    items = plan.items()
    groups = plan.batches(items)
    assert sorted(i for g in groups for i in g) == sorted(items)
    assert len(items) == len(set(items)) == 30
    for group in groups[:-1]:  # every full batch computes about TASK_SECONDS
        load = sum(plan.seconds_per_cell[c] for c, _ in group)
        assert load >= engine.TASK_SECONDS
        assert load - plan.seconds_per_cell[group[-1][0]] < engine.TASK_SECONDS


def test_in_process_results_equal_direct_runs_of_the_model() -> None:
    plan = execute(plan_sweep(SMALL))
    assert (plan.status == OK).all()
    for cell, rep in [(0, 0), (4, 1), (5, 0)]:
        direct = SWARM.run(plan.cells[cell], replicate_seed(SMALL.seed, cell, rep))
        for name, value in direct.items():
            assert plan.values[name][cell, rep] == value, name


def test_a_sweep_over_the_budget_is_refused_naming_the_limit() -> None:
    huge = dataclasses.replace(
        SMALL, x=Axis("sigma0", 0.1, 0.7, 32), y=Axis("t_max", 100, 200, 32), replicates=64
    )
    with pytest.raises(SweepError, match=r"over the limit of 20 min"):
        plan_sweep(huge)
    assert plan_sweep(huge, max_seconds=None).estimated_seconds > engine.MAX_SWEEP_SECONDS


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def run(values, seed):
        calls.append(seed)
        return SWARM.run(values, seed)

    counted = dataclasses.replace(SWARM, run=run)
    monkeypatch.setattr(engine, "model_sweep", lambda slug: counted)
    return calls


def test_an_interrupted_sweep_resumes_and_a_repeated_one_is_instant(tmp_path, monkeypatch) -> None:
    calls = _counting(monkeypatch)
    cache = ReplicateCache(tmp_path)
    cancel = threading.Event()
    first = plan_sweep(SMALL)

    def stop_after_some(plan):
        if plan.done >= 4:
            cancel.set()

    with pytest.raises(SweepCancelled):
        execute(first, None, cache, on_update=stop_after_some, cancel=cancel, update_interval=0)
    done_before = len(calls)
    assert 4 <= done_before < first.total
    resumed = execute(plan_sweep(SMALL), None, cache)
    assert len(calls) == first.total  # only the missing replicates ran
    again = execute(plan_sweep(SMALL), None, cache)
    assert len(calls) == first.total  # nothing ran
    fresh = execute(plan_sweep(SMALL))
    for name in fresh.values:
        np.testing.assert_array_equal(resumed.values[name], fresh.values[name])
        np.testing.assert_array_equal(again.values[name], fresh.values[name])


def test_diverged_undefined_and_refused_replicates_are_marked_not_fatal(monkeypatch) -> None:
    names = [o.name for o in SWARM.outcomes]

    def run(values, seed):
        if values["sigma0"] > 0.5:  # diverged: infinite outcomes
            return dict.fromkeys(names, math.inf)
        if values["beta0"] > 50:
            raise ValueError("refused")
        if values["sigma0"] < 0.2:  # undefined: NaN, in no mean, not diverged
            return dict.fromkeys(names, math.nan)
        if values["sigma0"] == 0.4:
            raise FloatingPointError("overflow in the integrator")
        return SWARM.run(values, seed)

    monkeypatch.setattr(engine, "model_sweep", lambda slug: dataclasses.replace(SWARM, run=run))
    plan = execute(plan_sweep(SMALL))
    status = plan.status.reshape(2, 3, 2)  # (beta0, sigma0, replicate)
    assert (status[1, :2] == FAILED).all()
    assert (status[0, 1] == DIVERGED).all()
    assert (status[:, 2] == OK).all() and (status[0, 0] == OK).all()
    dataset = to_dataset(plan)
    assert dataset["diverged"].values.tolist() == [[0, 2, 2], [0, 0, 2]]
    assert dataset["failed"].values.tolist() == [[0, 0, 0], [2, 2, 0]]
    assert dataset["n"].values.tolist() == [[0, 0, 0], [0, 0, 0]]
    assert dataset["pending"].values.sum() == 0
    assert "refused" in plan.messages and "overflow in the integrator" in plan.messages


def test_cell_summary_is_mean_and_standard_error_over_finite_replicates() -> None:
    values = np.array([[1.0, 2.0, 3.0, np.nan], [np.inf, np.nan, 5.0, 5.0], [np.nan] * 4])
    mean, stderr, n = cell_summary(values)
    assert n.tolist() == [3, 2, 0]
    assert mean[0] == 2.0 and mean[1] == 5.0 and math.isnan(mean[2])
    assert stderr[0] == pytest.approx(np.std([1, 2, 3], ddof=1) / math.sqrt(3))
    assert stderr[1] == 0.0 and math.isnan(stderr[2])


def test_results_are_labelled_and_written_as_csv_and_netcdf() -> None:
    dataset = run_sweep(
        "swarm",
        x="sigma0=0.1:0.7:3",
        y="beta0=0:100:2",
        replicates=2,
        seed=5,
        scheduler="in-process",
        cache=False,
    )
    assert dataset["mean"].dims == ("beta0", "sigma0")
    assert dataset["success_softmin"].dims == ("beta0", "sigma0", "replicate")
    assert dataset["mean"].attrs["long_name"] == SWARM.outcomes[0].label
    assert dataset.attrs["tab"] == "swarm" and dataset.attrs["seed"] == 5
    lines = to_csv(dataset).splitlines()
    assert lines[0] == "sigma0,beta0,mean,stderr,n"
    assert len(lines) == 7
    first = lines[1].split(",")
    cell = dataset.sel(sigma0=0.1, beta0=0)
    assert float(first[2]) == pytest.approx(float(cell["mean"]), rel=1e-9)
    back = xr.open_dataset(io.BytesIO(to_netcdf(dataset)), engine="scipy")
    xr.testing.assert_allclose(back["mean"], dataset["mean"])
    np.testing.assert_array_equal(back["n"].values, dataset["n"].values)


def test_every_tab_has_a_sweep() -> None:
    from app.main import TABS

    assert set(registry.SWEEP_SLUGS) == {tab.slug for tab in TABS}
    for slug in registry.SWEEP_SLUGS:
        sweep = registry.model_sweep(slug)
        assert set(sweep.headline) <= set(sweep.parameters)
        assert len({o.name for o in sweep.outcomes}) == len(sweep.outcomes)


def test_a_session_reads_and_writes_its_link_keys() -> None:
    from app.sweeps.session import NO_AXIS, SweepSession

    session = SweepSession("swarm", cache=ReplicateCache("/nonexistent"))
    assert session.to_query() == {}  # nothing in the link until a sweep is asked for
    notices = session.apply_query(
        {"sweep_x": "beta0=-50:150:40", "sweep_y": "none", "sweep_reps": "x"}
    )
    assert session.x == "beta0" and session.y == NO_AXIS
    assert (session.x_lo, session.x_hi, session.x_n) == (0, 150, 32)
    assert len(notices) == 2 and "clamped" in notices[0] and "sweep_reps" in notices[1]
    assert session.to_query() == {
        "sweep_x": "beta0=0:150:32",
        "sweep_outcome": "success_softmin",
        "sweep_reps": "4",
        "sweep_y": "none",
    }
    # a one-parameter sweep over the headline x says so (a fresh session's y is beta0)
    session.param.update(x="sigma0", y=NO_AXIS)
    fresh = SweepSession("swarm", cache=ReplicateCache("/nonexistent"))
    fresh.apply_query(session.to_query())
    assert fresh.to_query() == session.to_query() and fresh.y == NO_AXIS
    assert session.apply_query({"sweep_x": "<script>=1:2:3"})[0].startswith("Ignored")


def test_a_session_fixes_only_what_the_user_moved() -> None:
    from app.sweeps.grid import preset_values
    from app.sweeps.session import SweepSession

    session = SweepSession("widenet", cache=ReplicateCache("/nonexistent"))
    live = preset_values(session.sweep)
    assert session.definition(live, 3).fixed == {}  # the sweep's own lighter settings hold
    moved = {**live, "c_b": 0.5}
    assert session.definition(moved, 3).fixed == {"c_b": 0.5}


def test_an_unreachable_cluster_is_a_message_in_the_tab(monkeypatch) -> None:
    from app.sweeps import cluster
    from app.sweeps.session import SweepSession

    monkeypatch.setattr(cluster, "SHARED", cluster.SharedCluster("tcp://127.0.0.1:9"))
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    session = SweepSession("swarm", cache=ReplicateCache("/nonexistent"))
    session.param.update(x_n=2, y_n=2, replicates=1)
    session.start({}, 1)
    for _ in range(200):
        if not session.running:
            break
        threading.Event().wait(0.05)
    assert not session.running
    assert session.error.startswith("Cannot reach the Dask scheduler at tcp://127.0.0.1:9")
