"""Bounded work for the widenet tab (issue 13 item 3): the cost estimates of
:mod:`app.models.widenet.costs`, and every job at the parameters' maxima within the hard limits."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import param
import pytest

from app.models.budget import MAX_JOB_BYTES, MAX_JOB_SECONDS, MAX_RUN_BYTES, OverBudget
from app.models.widenet import CACHE_SIZE, WidenetModel
from app.models.widenet.costs import (
    cache_bytes,
    fit_lindeberg,
    fit_sweep,
    lindeberg_cost,
    result_bytes,
    sample_arrays_bytes,
    step_cost,
    sweep_cost,
)
from app.url_state import apply_query
from kernels.widenet.studies import SweepConfig, _sample_widths, width_sweep
from tests.app.budget_probe import HARD_BYTES, HARD_SECONDS, measure

BASE = SweepConfig(
    layer_laws=("centred_exp", "centred_exp"),
    widths=(2, 4, 8, 16),
    n_nets=2000,
    n_replicates=3,
)
DEEP = replace(BASE, layer_laws=("centred_exp",) * 3, n_hidden=2)


# ------------------------------------------------------------------------------ cost functions
@pytest.mark.parametrize("cfg", [BASE, DEEP], ids=["shallow", "deep"])
@pytest.mark.parametrize(
    "change",
    [
        {"n_nets": 4000},
        {"n_replicates": 6},
        {"widths": (2, 4, 8, 16, 32)},
        {"n_inputs": 3},
        {"activation": "tanh"},
        {"layer_laws": None},  # student_t everywhere
    ],
)
def test_costs_grow_with_every_size(cfg: SweepConfig, change: dict):
    if change.get("layer_laws", 0) is None:
        change = {"layer_laws": ("student_t",) * len(cfg.layer_laws)}
    bigger = replace(cfg, **change)
    small, large = sweep_cost(cfg), sweep_cost(bigger)
    assert large.seconds > small.seconds
    assert large.bytes >= small.bytes
    lin_small, lin_large = lindeberg_cost(cfg, 8), lindeberg_cost(bigger, 8)
    assert lin_large.seconds >= lin_small.seconds and lin_large.bytes >= lin_small.bytes


def test_costs_grow_with_depth_and_width_shown():
    deeper = replace(DEEP, layer_laws=("centred_exp",) * 4, n_hidden=3)
    assert sweep_cost(deeper).seconds > sweep_cost(DEEP).seconds
    assert lindeberg_cost(DEEP, 16).seconds > lindeberg_cost(DEEP, 8).seconds
    assert lindeberg_cost(deeper, 8).seconds > lindeberg_cost(DEEP, 8).seconds


def test_exact_bytes_of_the_arrays():
    for cfg in (BASE, replace(DEEP, n_inputs=2)):
        ys, covs = _sample_widths(cfg, np.random.SeedSequence(1), lambda *_: True, 1)
        assert sample_arrays_bytes(cfg) == ys.nbytes + covs.nbytes
        res = width_sweep(cfg)
        kept = res["samples"].nbytes + res["widths"].nbytes
        for key in ("main", "baseline"):
            kept += sum(a.nbytes for a in res[key].values())
        assert result_bytes(cfg) == kept
        assert cache_bytes([cfg, cfg]) == 2 * kept
        assert sweep_cost(cfg).bytes >= kept + ys.nbytes + covs.nbytes


def test_teaching_presets_run_as_asked():
    # no change of numbers for in-budget parameters: every preset fits
    for preset in WidenetModel.presets:
        m = WidenetModel(preset=preset)
        cost = sweep_cost(m.sweep_config())
        assert cost.fits(), (preset, cost)
        assert m.config == m.sweep_config() and m.sweep_notice == ""
        assert "limit" not in m.status
        assert lindeberg_cost(m.config, m.shown_width()).fits()


def test_fit_sweep_scales_down_in_order_and_says_why():
    big = replace(BASE, n_nets=100_000, n_replicates=20, widths=tuple(2**j for j in range(1, 11)))
    cfg, notice = fit_sweep(big)
    assert sweep_cost(cfg).fits() and cfg.n_replicates == 3 and cfg.n_nets < 100_000
    assert "Scaled down to R = 3 (from 20)" in notice and "30 s time limit" in notice
    deep = replace(big, layer_laws=("student_t",) * 5, n_hidden=4)
    cfg, notice = fit_sweep(deep)
    assert sweep_cost(cfg).fits() and cfg.widths[-1] < 1024 and "widths up to" in notice
    with pytest.raises(OverBudget, match="30 s time limit"):
        fit_sweep(replace(deep, widths=(512, 1024)))
    # the memory limit is named when memory is what binds
    cfg, notice = fit_sweep(big, max_bytes=20 * 2**20, max_seconds=1e9)
    assert "20 MiB memory limit" in notice and sweep_cost(cfg).bytes <= 20 * 2**20


def test_fit_lindeberg_scales_networks():
    deep = replace(DEEP, n_nets=100_000, layer_laws=("student_t",) * 3)
    cfg, notice = fit_lindeberg(deep, 256)
    assert lindeberg_cost(cfg, 256).fits() and cfg.n_nets < 100_000
    assert "Scaled down to M = " in notice and "30 s time limit" in notice
    assert fit_lindeberg(BASE, 8) == (BASE, "")
    with pytest.raises(OverBudget, match="Too large"):
        fit_lindeberg(replace(deep, layer_laws=("student_t",) * 5, n_hidden=4), 1024)


def test_recorded_history_is_bounded():
    # the largest sweep the controls can ask for, CACHE_SIZE times, under MAX_RUN_BYTES
    widest = SweepConfig(
        layer_laws=("student_t",) * 5,
        n_hidden=4,
        n_inputs=3,
        widths=tuple(2**j for j in range(1, 11)),
        n_nets=100_000,
        n_replicates=20,
    )
    assert cache_bytes([widest] * CACHE_SIZE) < MAX_RUN_BYTES
    assert step_cost().fits(max_seconds=0.2)


# ---------------------------------------------------------------------------------- maxima
def _maxima() -> dict:
    """Every numeric param at its upper bound, every selector at its most expensive option."""
    values: dict = {}
    for name in WidenetModel.scientific_params():
        p = WidenetModel.param[name]
        if isinstance(p, param.Boolean):
            values[name] = True
        elif isinstance(p, param.Number) and p.bounds is not None:
            values[name] = p.bounds[1]
    values.update(
        weight_law="student_t",  # ~80 ns per weight, 20× the others
        activation="tanh",
        first_layer_kernel="true_law",  # the 1e7-sample Monte Carlo
        first_layer_law="as_chosen",
        estimator="rao_blackwell",
        hybrid_order="readout_first",  # the dense hidden layers stay longest
        speed=WidenetModel.param.speed.bounds[1],
    )
    return values


def _run_everything(m: WidenetModel) -> dict[str, tuple[float, float]]:
    """Peak bytes and seconds of every job and of a few animation steps."""
    out = {}

    def sweep() -> None:
        m.run_sweep()
        assert m.sweep.wait(HARD_SECONDS)

    def lindeberg() -> None:
        m.run_lindeberg()
        assert m.lindeberg.wait(HARD_SECONDS)

    def frame() -> None:
        """One Play tick: the width shown moves on, and every panel re-reads its numbers."""
        m.step()
        m.curves(), m.output_law(), m.w2_plot(), m.lindeberg_plot(), m.covariance_plot()

    def steps() -> float:
        worst = 0.0
        for _ in range(3):
            worst = max(worst, measure(frame)[1])
        return worst

    for name, work in (("sweep", sweep), ("lindeberg", lindeberg)):
        peak, seconds, _ = measure(work)
        out[name] = (peak, seconds)
        assert peak < HARD_BYTES and seconds < HARD_SECONDS, (name, peak, seconds)
    m.curves(), m.w2_plot()  # the first draw of a config (one-off: floor band, process warm-up)
    peak, _, worst = measure(steps)
    out["steps"] = (peak, worst)
    assert peak < HARD_BYTES and worst < 0.5, out
    print({k: (round(b / 2**20), round(s, 2)) for k, (b, s) in out.items()})
    return out


@pytest.mark.slow
def test_every_param_at_its_maximum_is_refused_with_a_notice():
    values = _maxima()
    peak, seconds, m = measure(lambda: WidenetModel(**values))
    assert peak < HARD_BYTES and seconds < HARD_SECONDS
    assert m.config.widths == (1024,) and m.config.n_hidden == 4  # width_min = width_max = 1024
    # L = 4 Student-t layers of width 1024: even 3 × 1000 networks take minutes
    assert m.sweep_refused and "Too large" in m.sweep.message and "30 s time limit" in m.status
    m.poll()
    assert not m.sweep.running
    out = _run_everything(m)
    assert m.sweep.result is None and "Too large" in m.sweep.message
    assert m.lindeberg.result is None and "Too large" in m.lindeberg.message
    assert "Lindeberg exchange refused" in m.status
    assert out["sweep"][1] < 1 and out["lindeberg"][1] < 1


@pytest.mark.slow
def test_widest_sweep_at_the_maxima_is_scaled_down_and_runs_in_time():
    # the maxima with the smallest width at its lower bound: the widest sweep, 2–1024
    values = _maxima() | {"width_min": 2, "width": 64}
    peak, seconds, m = measure(lambda: WidenetModel(**values))
    assert peak < HARD_BYTES and seconds < HARD_SECONDS
    assert not m.sweep_refused and m.config.n_replicates == 3 and m.config.n_nets < 100_000
    assert "Scaled down to R = 3 (from 20)" in m.status and "30 s time limit" in m.status
    out = _run_everything(m)
    assert not m.sweep.error and m.sweep.result is not None
    assert "30 s time limit" in m.sweep.message  # kept after "Done."
    assert m.lindeberg.result is not None and not m.lindeberg.error
    assert max(s for _, s in out.values()) < HARD_SECONDS
    assert sweep_cost(m.config).bytes < MAX_JOB_BYTES and sweep_cost(m.config).seconds <= (
        MAX_JOB_SECONDS
    )


def test_links_at_the_maxima_are_refused_or_scaled_with_a_notice():
    m = WidenetModel()
    notices = apply_query(
        m,
        {
            "tab": "widenet",
            "weight_law": "student_t",
            "activation": "tanh",
            "n_hidden": "4",
            "width_min": "1024",
            "width_max": "1024",
            "n_nets": "100000",
            "n_replicates": "20",
            "n_inputs": "3",
        },
    )
    assert not notices
    assert m.sweep_refused and "Too large" in m.sweep.message and "time limit" in m.status
    m.poll()
    assert not m.sweep.running and m.sweep_pending is False
    apply_query(m, {"width_min": "2", "n_hidden": "1"})
    assert not m.sweep_refused and m.config.n_nets < 100_000 and m.config.n_replicates == 3
    assert "Scaled down" in m.status and "30 s time limit" in m.status
    assert m.config.widths == tuple(2**j for j in range(1, 11))
