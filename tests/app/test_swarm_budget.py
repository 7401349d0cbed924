"""Bounded work of the Swarm escapes tab (issue 13): costs, the per-frame speed cap, studies
scaled down or refused with a notice naming the limit, and every control at its maximum within
1 GB and 60 s."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from app.models import budget
from app.models.swarm import costs
from app.models.swarm import studies as swarm_studies
from app.models.swarm.model import HISTORY_FIELDS, MAX_RECORDS, TRAIL_FRAMES, SwarmModel
from app.url_state import apply_query
from kernels import swarm
from kernels.swarm.studies import hitting_time_study
from tests.app.budget_probe import HARD_BYTES, HARD_SECONDS, measure


# ------------------------------------------------------------------ cost functions
@pytest.mark.parametrize("size", ["n_runs", "n_steps", "n", "d"])
def test_study_cost_grows_with_every_size(size: str) -> None:
    base = dict(n_runs=10, n_steps=600, n=8, d=3)

    def cost(**over: int) -> budget.Cost:
        return costs.study_cost("tilted_double_well", costs.ALL_METHODS, **{**base, **over})

    small, large = cost(), cost(**{size: 2 * base[size]})
    assert large.seconds > small.seconds
    assert large.bytes >= small.bytes


def test_more_methods_and_studies_cost_more() -> None:
    args = dict(n_runs=10, n_steps=600, n=8, d=3)
    two = costs.study_cost("ackley", ("softmin", "langevin"), **args)
    four = costs.study_cost("ackley", costs.ALL_METHODS, **args)
    many = costs.study_cost("ackley", costs.ALL_METHODS, n_studies=6, **args)
    assert two.seconds < four.seconds < many.seconds and two.bytes < four.bytes


@pytest.mark.parametrize("size", ["n_steps", "n", "d"])
def test_tick_cost_grows_with_every_size(size: str) -> None:
    base = dict(n_steps=100, n=10, d=2)
    small = costs.tick_cost("rastrigin", **base)
    large = costs.tick_cost("rastrigin", **{**base, size: 2 * base[size]})
    assert large.seconds > small.seconds and large.bytes > small.bytes


def test_run_and_annealing_costs_grow() -> None:
    args = (len(HISTORY_FIELDS), MAX_RECORDS, TRAIL_FRAMES)
    assert costs.run_cost(200, 2, *args).bytes > costs.run_cost(10, 2, *args).bytes
    assert costs.run_cost(10, 2, *args).bytes > costs.run_cost(10, 1, *args).bytes
    assert costs.annealing_run_cost(3, 10_000).seconds > costs.annealing_run_cost(2, 10_000).seconds
    assert costs.annealing_run_cost(50, 2000).seconds < costs.annealing_run_cost(50, 9000).seconds


def test_noise_bytes_are_the_drawn_arrays() -> None:
    """Exact bytes of a small case: the normals' buffer (odd count padded), the Box–Muller
    uniforms behind it (the same size) and PSO's uniforms."""
    rng = np.random.default_rng(0)
    n_steps, n, d = 7, 3, 1  # 21 normals: padded to 22
    normals = swarm.draw_noise(rng, "softmin", n_steps, n, d)
    uniforms = swarm.draw_noise(rng, "pso", n_steps, n, d)
    assert normals.base is not None and normals.base.nbytes == 8 * 22
    assert costs.noise_bytes(n_steps, n, d, pso=False) == 2 * normals.base.nbytes
    assert costs.noise_bytes(n_steps, n, d, pso=True) == 2 * normals.base.nbytes + uniforms.nbytes


def test_study_records_are_the_result_arrays() -> None:
    args = dict(n_runs=3, n_steps=4, n=2, d=1)
    res = hitting_time_study(
        "quadratic", methods=("softmin", "cbo"), n_runs=3, t_max=4e-3, dt=1e-3, n_particles=2,
        dim=1, seed=0,
    )  # fmt: skip
    result_bytes = sum(
        a.nbytes for s in res.values() for a in (s.hit_time, s.f_evals, s.grad_evals, s.best)
    )
    with_records = costs.study_cost("quadratic", ("softmin", "cbo"), **args).bytes
    without = costs.study_cost("quadratic", ("softmin", "cbo"), **{**args, "n_runs": 0}).bytes
    assert with_records - without == result_bytes


def test_recorded_history_stays_bounded() -> None:
    model = SwarmModel(n_particles=5, dt=1e-2, t_max=500.0)
    for _ in range(60):
        model.step(100)
    assert len(model.history["t"]) <= MAX_RECORDS + 1
    assert len(model.trail) <= TRAIL_FRAMES
    assert model.run_cost().fits(max_bytes=budget.MAX_RUN_BYTES)


def test_teaching_default_fits_unchanged() -> None:
    model = SwarmModel()
    assert model.tick_steps() == (model.speed, "")
    assert model.study_cost(model.n_runs).fits()
    runs, evals, notice = swarm_studies.annealing_plan(model.study_args())
    assert (runs, evals, notice) == (50, 200_000, "")


# ------------------------------------------------------------------ scaling and refusals
def test_speed_is_capped_per_frame_with_a_notice() -> None:
    model = SwarmModel(objective="rastrigin", n_particles=200)
    model.speed = 5000
    steps, notice = model.tick_steps()
    assert 1 <= steps < 5000 and "limit is 0.2 s" in notice
    assert costs.tick_cost("rastrigin", steps, 200, 2).seconds <= costs.MAX_TICK_SECONDS
    done = model.n_steps_done
    model.step()
    assert model.n_steps_done - done == steps and "Speed capped" in model.status


def test_annealing_evaluations_are_lowered_in_high_dimension() -> None:
    args = dict(t_max=60.0, dt=2e-3, n_particles=10, n_runs=200, dim=50)
    runs, evals, notice = swarm_studies.annealing_plan(args)
    assert runs == 50 and evals < 200_000 and "limit" in notice
    assert costs.annealing_run_cost(50, evals).fits(max_seconds=costs.ANNEAL_RUN_SECONDS)


def test_a_big_study_is_scaled_down_with_a_notice() -> None:
    model = SwarmModel(n_runs=2000)
    model.run_study()
    try:
        message = model.study.message
        assert "Scaled down to" in message and "(from 2000)" in message and "limit" in message
        assert "Scaled down" in model.status
    finally:
        model.study.cancel()
        model.study.wait(30)


def test_an_impossible_link_is_refused_with_a_notice() -> None:
    model = SwarmModel()
    query = {"n_runs": "2000", "t_max": "500", "dt": "0.00001", "n_particles": "200"}
    query.update(study_dim="50")
    assert apply_query(model, query) == []
    for run, job in (
        (model.run_study, model.study),
        (model.run_sweep, model.sweep),
        (model.run_kramers, model.kramers),
    ):
        run()
        assert job.wait(5)
        assert not job.running and job.result is None
        assert "limit is 60 s" in job.error and job.message == "Refused."
        assert "refused" in model.status and "limit" in model.status


# ------------------------------------------------------------------ every control at its maximum
def maxima(model: SwarmModel, dt_low: bool) -> dict[str, Any]:
    """Every numeric param at its upper bound (``dt`` optionally at its lower bound: the most
    steps), the selectors at their most expensive option, every ghost shown."""
    values: dict[str, Any] = {}
    for name in model.scientific_params():
        p = model.param[name]
        bounds = getattr(p, "bounds", None)
        if isinstance(bounds, tuple) and bounds[1] is not None:
            values[name] = bounds[1]
    values.update(objective="rastrigin", dim=2, show_langevin=True, show_cbo=True, show_pso=True)
    if dt_low:
        values["dt"] = model.param.dt.bounds[0]
    return values


@pytest.mark.slow
@pytest.mark.parametrize("dt_low", [False, True], ids=["upper_bounds", "smallest_step"])
def test_every_control_at_its_maximum(dt_low: bool) -> None:
    values = maxima(SwarmModel(), dt_low)

    def build() -> SwarmModel:
        model = SwarmModel(**values)
        model.speed = model.param.speed.bounds[1]
        return model

    peak, seconds, model = measure(build)
    assert peak < HARD_BYTES and seconds < HARD_SECONDS
    for _ in range(3):
        peak, seconds, _ = measure(model.step)
        assert peak < HARD_BYTES and seconds < 1.0  # one frame: ≲ 0.2 s estimated
    assert "Speed capped" in model.status and "limit" in model.status
    for run, job in (
        (model.run_study, model.study),
        (model.run_sweep, model.sweep),
        (model.run_kramers, model.kramers),
    ):
        peak, seconds, _ = measure(lambda run=run, job=job: (run(), job.wait(HARD_SECONDS)))
        assert peak < HARD_BYTES and seconds < HARD_SECONDS
        assert not job.running
        # over budget even with the fewest runs: refused, the notice naming the limit
        assert "limit" in (job.error or job.message), (job.error, job.message)


@pytest.mark.slow
def test_a_scaled_study_at_the_largest_sizes_stays_within_the_limits() -> None:
    """N = 200, d = 50, M = 2000 with a short horizon: the study is scaled to the runs that fit,
    and its dual annealing (lowered evaluations, wall-clock limit) keeps the job short."""
    model = SwarmModel(
        objective="rastrigin", n_particles=200, study_dim=50, n_runs=2000, t_max=1.0, dt=1e-2
    )
    peak, seconds, _ = measure(lambda: (model.run_study(), model.study.wait(2 * HARD_SECONDS)))
    assert not model.study.error, model.study.error
    result = model.study.result
    assert peak < HARD_BYTES and seconds < HARD_SECONDS, (peak, seconds)
    assert 10 <= result["args"]["n_runs"] < 2000
    assert "Scaled down to" in model.study.message and "limit" in model.study.message
    assert "Dual annealing" in result["notice"]
