"""Bounded work of the token tab (issue 13): costs, scaling down, refusals, and every control at
its maximum within 1 GB and 60 s."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from app.models import budget
from app.models.tokens import costs, studies
from app.models.tokens.model import MAX_RECORDS, SIMILARITY_BINS, TokensModel
from app.url_state import apply_query
from kernels import tokens
from tests.app.budget_probe import HARD_BYTES, HARD_SECONDS, measure

KW: dict[str, Any] = dict(
    dt=5e-3,
    sigma_noise=2.0,
    activation="relu",
    width=64,
    attn_kind="sa",
    attn_strength=0.5,
    beta=1.0,
    sigma_w=1.0,
    sigma_b=0.0,
    noise_sharing="common",
    hidden_weights="fresh",
    splitting="lie_trotter",
    manifold="sphere",
)


# ------------------------------------------------------------------ cost functions
@pytest.mark.parametrize("size", ["n_real", "n", "d", "n_steps", "width"])
def test_ensemble_cost_grows_with_every_size(size: str) -> None:
    base = dict(n_real=8, n=16, d=8, n_steps=400, width=32)

    def cost(**over: int) -> budget.Cost:
        a = {**base, **over}
        return costs.ensemble_cost(
            {**KW, "width": a["width"]}, a["n_real"], a["n"], a["d"], a["n_steps"], 200
        )

    small, large = cost(), cost(**{size: base[size] * 4})
    assert large.seconds > small.seconds
    assert large.bytes >= small.bytes


def test_study_costs_grow_with_their_sizes() -> None:
    assert costs.strong_error_cost(KW, 64, 32).seconds > costs.strong_error_cost(KW, 3, 32).seconds
    assert costs.strong_error_cost(KW, 3, 64).seconds > costs.strong_error_cost(KW, 3, 8).seconds
    ns = costs.VARIANCE_N_TOKENS
    assert costs.variance_cost(KW, 3, ns).seconds > costs.variance_cost(KW, 3, ns[:2]).seconds
    assert costs.variance_cost(KW, 3, ns).bytes > costs.variance_cost(KW, 3, ns[:2]).bytes
    assert costs.variance_cost(KW, 64, ns).seconds > costs.variance_cost(KW, 3, ns).seconds
    run = [costs.run_cost(KW, 32, 3, k, SIMILARITY_BINS).bytes for k in (10, 100, 401)]
    assert run == sorted(run) and run[0] < run[-1]
    ticks = [costs.tick_seconds(KW, 32, 3, k, 10) for k in (1, 10, 100)]
    assert ticks == sorted(ticks) and ticks[0] < ticks[-1]


def test_ensemble_bytes_match_the_real_frames() -> None:
    """The frames (F, R, N, d), the starts and the noise buffer, against the real arrays."""
    n_real, n, d, n_steps = 3, 5, 4, 450
    kw = {**KW, "width": 8}
    result = studies.ensemble(
        progress=lambda f: True,
        init="uniform",
        n_tokens=n,
        dim=d,
        rho0=0.9,
        n_real=n_real,
        n_steps=n_steps,
        seed=1,
        kwargs=kw,
    )
    frames = costs.ensemble_frames(n_steps, studies.ENSEMBLE_FRAMES)
    assert result["x"].shape == (frames, n_real, n, d)
    expected = (
        result["x"].nbytes
        + 3 * result["x"][0].nbytes
        + costs.noise_buffer_bytes(n_real, costs.block_size(kw, n, d))
    )
    cost = costs.ensemble_cost(kw, n_real, n, d, n_steps, studies.ENSEMBLE_FRAMES)
    assert cost.bytes == expected
    # fixed weights: exactly the arrays the kernel draws, (R, S, m, d) and (R, S, m)
    fixed = tokens.draw_fixed_weights(n, d, 8, 0, noise_sharing="independent")
    indep = {**kw, "hidden_weights": "fixed", "noise_sharing": "independent"}
    assert costs.fixed_bytes(indep, 1, n, d) == fixed.B.nbytes + fixed.b.nbytes


def test_run_history_bytes_match_the_recorded_arrays() -> None:
    model = TokensModel(n_tokens=6, dim=4, t_max=1.0, dt=0.01)
    model.step(100)
    records = len(model.history["t"])
    arrays = [model.history_array(name) for name in ("tokens", "similarity")]
    scalars = 5 * records * 8  # t, diameter, mean_norm, clusters, sync_fraction
    kept = sum(a.nbytes for a in arrays) + scalars
    assert costs.history_bytes(records, 6, 4, SIMILARITY_BINS) == 2 * kept  # list + array copy


def test_study_sizes_are_the_kernel_defaults() -> None:
    """Passing the sizes explicitly changed no number of the studies."""
    strong = inspect.signature(tokens.strong_error_study).parameters
    assert strong["n_tokens"].default == costs.STRONG_N_TOKENS
    assert strong["width"].default == costs.STRONG_WIDTH
    assert strong["t_max"].default == costs.STRONG_T_MAX
    assert tuple(strong["levels"].default) == costs.STRONG_LEVELS
    assert strong["ref_level"].default == costs.STRONG_REF_LEVEL
    assert strong["n_paths"].default == costs.STRONG_PATHS
    var = inspect.signature(tokens.statistic_variance_study).parameters
    assert tuple(var["n_tokens_list"].default) == costs.VARIANCE_N_TOKENS
    assert var["n_noise"].default == costs.VARIANCE_NOISE
    assert var["n_samples"].default == costs.VARIANCE_SAMPLES
    assert var["t_max"].default == costs.VARIANCE_T_MAX
    assert var["dt"].default == costs.VARIANCE_DT
    assert var["width"].default == costs.VARIANCE_WIDTH


def test_teaching_default_is_inside_every_budget() -> None:
    model = TokensModel()
    assert model.ensemble_cost().fits()
    assert model.steps_per_tick() == (model.speed, "")
    assert model._max_records == MAX_RECORDS and model.run_notice == ""
    kw = model._study_kwargs()
    assert costs.strong_error_cost(kw, model.dim, costs.STRONG_PATHS).fits()
    assert costs.variance_cost(kw, model.dim, costs.VARIANCE_N_TOKENS).fits()


# ------------------------------------------------------------------ links and jobs
OFFENDING_LINK = {
    "tab": "tokens",
    "n_tokens": "256",
    "n_real": "1024",
    "width": "512",
    "dim": "64",
    "t_max": "40",
    "dt": "0.001",
}


def test_offending_link_is_refused_with_a_notice() -> None:
    """Issue 13: this link made the ensemble allocate 25.1 GiB (201, 1024, 256, 64)."""
    model = TokensModel(n_real=1024, t_max=40.0)
    model.run_ensemble()  # a long run in flight: the refusal cancels it
    apply_query(model, OFFENDING_LINK)
    assert (model.n_tokens, model.n_real, model.dim) == (256, 1024, 64)
    assert not model.ensemble_cost().fits()
    peak, seconds, _ = measure(model.ensemble_study.run)
    assert model.ensemble.wait(10.0)  # the cancelled run has reported "Cancelled."
    assert not model.ensemble.running and model.ensemble.result is None
    assert model.ensemble.message.startswith("Not run:")
    assert "limit is 30 s" in model.ensemble.message
    assert peak < 50e6 and seconds < 1.0


def test_oversized_ensemble_is_scaled_down_with_a_notice() -> None:
    model = TokensModel(n_tokens=64, dim=16, width=8, n_real=1024, t_max=10.0, dt=0.02)
    m, _ = budget.largest_fitting(model.ensemble_cost, model.n_real)
    assert 1 < m < 1024

    def work() -> None:
        model.run_ensemble()
        assert model.ensemble.wait(HARD_SECONDS)
        model.ensemble_summary()  # the panel's energies of every frame, on the result

    peak, seconds, _ = measure(work)
    assert peak < HARD_BYTES and seconds < HARD_SECONDS
    assert model.ensemble.result["x"].shape[1] == m
    message = model.ensemble.message
    assert message.startswith("Done.") and "limit" in message
    assert f"Scaled down to {m} (from 1024 realizations)." in message


def test_animation_tick_is_capped_with_a_notice() -> None:
    model = TokensModel(n_tokens=256, dim=64, width=512, t_max=40.0)
    model.speed = 500
    cap, notice = model.steps_per_tick()
    assert 0 < cap < 500
    assert model.step()
    assert model.n_steps_done == cap
    assert model.status == notice and "capped" in notice and "limit" in notice
    model.step(3)  # an explicit count is kept (scripts, tests)
    assert model.n_steps_done == cap + 3


# ------------------------------------------------------------------ every control at its max
def _maximal(**selectors: str) -> dict[str, Any]:
    """Every numeric param at its upper bound (the layer step at its lower bound: the most
    layers), selectors at their most expensive option unless given."""
    model = TokensModel
    values: dict[str, Any] = {}
    for name in (*model.scientific_params(), "speed"):
        p = model.param[name]
        bounds = getattr(p, "bounds", None)
        if bounds is not None and isinstance(p.default, int | float):
            values[name] = bounds[1]
    values["dt"] = model.param["dt"].bounds[0]
    values["dim"] = max(model.param["dim"].objects)
    values.update(
        activation="gelu" if "gelu" in model.param["activation"].objects else "relu",
        attn_kind="sa",
        init="uniform",
        noise_sharing="independent",
        hidden_weights="fresh",
        splitting="strang",
        manifold="sphere",
        energy_kind="glpr",
    )
    values.update(selectors)
    return values


def _assert_within(label: str, peak: float, seconds: float, report: list[str]) -> None:
    report.append(f"{label}: {peak / 1e6:.0f} MB, {seconds:.1f} s")
    assert peak < HARD_BYTES, label
    assert seconds < HARD_SECONDS, label


def _run_job(job_name: str, model: TokensModel) -> tuple[float, float, str]:
    start = {
        "ensemble": model.run_ensemble,
        "strong_error": model.run_strong_error,
        "variance": model.run_variance,
    }[job_name]
    job = getattr(model, job_name)

    def work() -> None:
        start()
        assert job.wait(HARD_SECONDS * 2)

    peak, seconds, _ = measure(work)
    assert not job.error, job.error
    return peak, seconds, job.message


@pytest.mark.slow
@pytest.mark.parametrize(
    "selectors",
    [
        {},  # independent fresh noise, Strang: the most normals per layer
        {"hidden_weights": "fixed", "noise_sharing": "common", "splitting": "lie_trotter"},
    ],
    ids=["fresh-independent", "fixed-common"],
)
def test_every_control_at_its_maximum_stays_within_1gb_and_60s(
    selectors: dict[str, str],
) -> None:
    report: list[str] = []
    values = _maximal(**selectors)
    peak, seconds, model = measure(lambda: TokensModel(**values))
    _assert_within("construction", peak, seconds, report)
    assert model.n_tokens == 256 and model.dim == 64 and model.width == 512
    assert model.n_real == 1024 and model.speed == 500

    def ticks() -> None:
        for _ in range(3):
            model.step()

    peak, seconds, _ = measure(ticks)
    _assert_within("3 animation steps", peak, seconds, report)
    assert seconds < 3 * 4 * costs.TICK_SECONDS  # each tick short (margin for a busy machine)
    # capped or refused, and said so
    assert f"limit is {costs.TICK_SECONDS:g} s per animation step" in model.status

    jobs = ["ensemble"] if selectors else ["ensemble", "strong_error", "variance"]
    for name in jobs:
        peak, seconds, message = _run_job(name, model)
        _assert_within(name, peak, seconds, report)
        # at these sizes every job is over the full budget: refused or scaled, with the limit
        assert "limit" in message, (name, message)
        assert message.startswith(("Not run:", "Done.")), (name, message)
    print("\n".join(report))
