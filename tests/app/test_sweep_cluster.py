"""Sweeps on real Dask clusters (issue 15, items 3-6 and 8): a LocalCluster of 2 worker
processes and of 1, a separately started ``dask scheduler`` + ``dask worker`` that the CLI
attaches to, a worker killed mid-sweep, an unreachable scheduler, two sweeps sharing a cluster.
Every comparison is bit-identical against the in-process numbers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app.serve_process import REPO_ROOT, free_port
from app.sweeps import cluster, engine, run_sweep
from app.sweeps.engine import execute, plan_sweep
from app.sweeps.grid import Axis, SweepDefinition

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

BIN = Path(sys.executable).parent
SWEEP = dict(x="sigma0=0.05:0.8:4", y="beta0=0:200:4", replicates=3, seed=9, cache=False)


def _same(a, b) -> None:
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


@pytest.fixture(scope="module")
def reference():
    return run_sweep("swarm", scheduler="in-process", **SWEEP)


@pytest.fixture(scope="module")
def two_workers():
    client = cluster.connect(None, 2)
    yield client
    local = client.cluster
    client.close()
    local.close()


def test_one_and_two_local_workers_give_the_in_process_numbers(reference, two_workers) -> None:
    plan = execute(plan_sweep(_definition()), two_workers)
    from app.sweeps.results import to_dataset

    _same(reference, to_dataset(plan))
    _same(reference, run_sweep("swarm", workers=1, **SWEEP))
    assert len(two_workers.scheduler_info()["workers"]) == 2


def _definition(**changes) -> SweepDefinition:
    base = SweepDefinition(
        "swarm", Axis("sigma0", 0.05, 0.8, 4), Axis("beta0", 0, 200, 4), "", 3, 9
    )
    return SweepDefinition(**{**base.__dict__, **changes})


def test_a_killed_worker_loses_and_duplicates_nothing(two_workers, monkeypatch) -> None:
    # many small tasks so the kill lands mid-sweep
    monkeypatch.setattr(engine, "TASK_SECONDS", 0.05)
    definition = _definition(x=Axis("sigma0", 0.05, 0.8, 8), y=Axis("beta0", 0, 200, 6))
    expected = execute(plan_sweep(definition))
    plan = plan_sweep(definition)
    seen: list[int] = []
    killed: list[int] = []

    def kill_one(current) -> None:
        seen.append(current.done)
        if not killed and current.done >= current.total // 4:
            pids = two_workers.run(os.getpid)
            victim = next(iter(pids.values()))
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    execute(plan, two_workers, on_update=kill_one, update_interval=0)
    assert killed and seen[-1] == plan.total
    assert (plan.status != engine.PENDING).all()
    for name in expected.values:
        np.testing.assert_array_equal(plan.values[name], expected.values[name], err_msg=name)


def test_two_sessions_sweeps_both_make_progress(two_workers, monkeypatch) -> None:
    monkeypatch.setattr(engine, "TASK_SECONDS", 0.1)
    first_result: dict[str, float] = {}
    finished: dict[str, float] = {}
    start = time.monotonic()

    def run(name: str, definition: SweepDefinition) -> None:
        def seen(plan) -> None:
            if plan.done and name not in first_result:
                first_result[name] = time.monotonic() - start

        execute(plan_sweep(definition), two_workers, on_update=seen, update_interval=0)
        finished[name] = time.monotonic() - start

    big = _definition(x=Axis("sigma0", 0.05, 0.8, 10), y=Axis("beta0", 0, 200, 8))
    small = _definition(x=Axis("sigma0", 0.1, 0.7, 3), y=Axis("beta0", 10, 150, 3), seed=2)
    first = threading.Thread(target=run, args=("big", big))
    first.start()
    time.sleep(0.5)  # the big sweep's tasks are all queued before the small one arrives
    run("small", small)
    first.join()
    # the later, smaller sweep is not queued behind the whole earlier one
    assert finished["small"] < finished["big"], (finished, first_result)


def test_the_cli_attaches_to_a_separately_started_scheduler(tmp_path, reference) -> None:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    scheduler = subprocess.Popen(
        [
            BIN / "dask",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            ":0",
            "--no-show",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [
            BIN / "dask",
            "worker",
            address,
            "--nthreads",
            "1",
            "--nworkers",
            "2",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        out = tmp_path / "sweep.csv"
        result = subprocess.run(
            [
                BIN / "noisescope",
                "sweep",
                "swarm",
                "--x",
                SWEEP["x"],
                "--y",
                SWEEP["y"],
                "--replicates",
                "3",
                "--seed",
                "9",
                "--no-cache",
                "--dask-scheduler",
                address,
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        from app.sweeps.results import to_csv

        assert out.read_text() == to_csv(reference)
        assert "runs" in result.stderr  # the progress bar
    finally:
        for process in (worker, scheduler):
            process.send_signal(signal.SIGINT)
        for process in (worker, scheduler):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_an_unreachable_scheduler_is_a_clear_message(tmp_path) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    result = subprocess.run(
        [
            BIN / "noisescope",
            "sweep",
            "swarm",
            "--x",
            "sigma0=0.1:0.5:2",
            "--no-cache",
            "--dask-scheduler",
            address,
            "--out",
            str(tmp_path / "x.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert f"Cannot reach the Dask scheduler at {address}" in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(cluster.ClusterUnavailable, match="Cannot reach"):
        cluster.SharedCluster(address).client()
