"""Bounded work of the expected-signature tab (issue 13 item 3): costs, limits and the maxima."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from app.models.budget import MAX_JOB_BYTES, MAX_JOB_SECONDS, MAX_RUN_BYTES
from app.models.signature import costs
from app.models.signature.brownian import BM_CHUNK, BrownianInset
from app.models.signature.data import MAX_UPLOAD_BYTES, load_dataset
from app.models.signature.features import FeatureConfig, build_features
from app.models.signature.model import BM_START_CHUNKS, SignatureModel
from app.models.signature.studies import FeatureCache
from app.url_state import apply_query
from kernels import signature as S
from tests.app.budget_probe import HARD_BYTES, HARD_SECONDS, measure

SMALL = costs.Sizes(n_series=10, n_train=6, channels=1, length=12, grid=23)


# ------------------------------------------------------------------------ cost functions
@pytest.mark.parametrize(
    "field", ["n_series", "n_train", "channels", "length", "grid", "lead_lag", "cholesky"]
)
def test_feature_cost_grows_with_each_size(field: str) -> None:
    value = getattr(SMALL, field)
    if isinstance(value, bool):
        # lead-lag doubles the channels; a full root (eigh) costs more than a triangular one
        small, big = SMALL, dataclasses.replace(SMALL, **{field: not value})
    else:  # channels 1 → 2 keeps depth 5 (more channels can lower it, at the feature cap)
        big = dataclasses.replace(SMALL, **{field: value + 1 if field == "channels" else 2 * value})
        small = SMALL
    a, b = costs.features_cost(small, 8), costs.features_cost(big, 8)
    assert b.seconds > a.seconds
    assert b.bytes >= a.bytes and (b.bytes > a.bytes or field in ("n_train", "cholesky"))


def test_feature_cost_grows_with_m_map_and_mode() -> None:
    by_m = [costs.features_cost(SMALL, m) for m in (1, 2, 3, 8, 50, 128)]
    assert all(y.bytes > x.bytes and y.seconds > x.seconds for x, y in itertools.pairwise(by_m))
    base = costs.features_cost(SMALL, 8)
    mapped = costs.features_cost(SMALL, 8, map_channels=6)
    samples = costs.features_cost(SMALL, 8, mode="sample_predictions")
    assert mapped.bytes > base.bytes and mapped.seconds > base.seconds
    assert samples.bytes > base.bytes and samples.seconds > base.seconds


def test_feature_set_bytes_equal_the_real_arrays() -> None:
    data = load_dataset("basic_motions")  # 6 channels: every term non-trivial
    config = FeatureConfig("basic_motions", "rbf", 0.1, 1.0, 0.1, 1, True, True, False, 0)
    post = S.gp_posterior(data.length, refine=1)
    fs = build_features(config, data, post)
    fs.extend(3)  # snapshots at M = 1, 2, 3
    sizes = costs.Sizes(data.n_series, len(data.y_train), data.channels, data.length, 100)
    assert (sizes.d_aug, sizes.depth, sizes.n_sig) == (fs.d_aug, fs.depth, fs.raw.shape[1])
    assert sizes.n_moments == fs.moments.shape[1]
    assert costs.feature_set_bytes(sizes, 3) == fs.nbytes
    # the job's estimate counts those plus z (S, M, c, G) and the other temporaries
    z_bytes = data.n_series * 3 * data.channels * 100 * 8
    assert costs.features_cost(sizes, 3).bytes > fs.nbytes + z_bytes


def test_brownian_costs_match_the_block_arrays() -> None:
    rng = np.random.default_rng(0)
    paths = S.brownian_paths(BM_CHUNK, 50, 2, 1.0, rng)
    sigs = S.signature_batch(paths, 4)
    cost = costs.brownian_block_cost(2, 50)
    assert cost.bytes == 2 * paths.nbytes + 3 * sigs.nbytes  # paths, increments; sigs, squares
    assert costs.brownian_block_cost(3, 50).seconds > cost.seconds
    assert costs.brownian_block_cost(2, 100).seconds > cost.seconds
    assert costs.blocks_per_tick(2, 200, 2) == 2  # the teaching default is not capped
    assert costs.blocks_per_tick(3, 1000, 20) == 1  # never below one block
    inset = BrownianInset(2, 1.0, 50)
    inset.add(3, 10**6, rng)
    assert costs.run_history_cost(3 * BM_CHUNK, 2).bytes >= inset.sums.nbytes * 2
    assert costs.run_history_cost(50_000, 3).fits(max_bytes=MAX_RUN_BYTES)


def test_marginal_likelihood_and_upload_costs_grow() -> None:
    ml = costs.marginal_likelihood_cost
    assert ml(20, 100).seconds > ml(10, 100).seconds and ml(10, 200).seconds > ml(10, 100).seconds
    assert ml(67, 24).fits()  # ItalyPowerDemand
    assert costs.upload_cost(MAX_UPLOAD_BYTES).fits()


def test_cache_keeps_its_sets_under_the_memory_limit() -> None:
    data = load_dataset("italy_power_demand")
    post = S.gp_posterior(data.length)
    cache = FeatureCache(max_bytes=1)  # every set is over: only the newest is kept
    for seed in (0, 1):
        config = FeatureConfig(
            "italy_power_demand", "rbf", 0.1, 1.0, 0.1, 1, True, True, False, seed
        )
        cache.get_or_build(config, data, post, lambda f: True)
    assert len(cache) == 1 and next(iter(cache)).seed == 1


# ------------------------------------------------------------------------ the teaching default
def test_default_is_far_inside_the_budget() -> None:
    model = SignatureModel()
    assert model.features_job.wait(60) and not model.features_job.error
    # the restart draws its first blocks uncapped, and Play keeps up with the preset's speed
    assert model.budget_notice == "" and model.blocks_per_tick() == BM_START_CHUNKS
    model.step()
    assert model.budget_notice == "" and "Speed capped" not in model.status
    cost = costs.features_cost(model.sizes(), model.n_samples)
    assert cost.bytes < MAX_JOB_BYTES / 4 and cost.seconds < MAX_JOB_SECONDS / 4
    assert model.features_job.result["m"] == model.n_samples


# ------------------------------------------------------------------------ known offenders
def test_every_slider_at_its_maximum_link_is_refused_with_a_notice() -> None:
    model = SignatureModel(seed=1)
    model.features_job.wait(60)
    apply_query(model, maxima_query("italy_power_demand"))
    assert model.features_job.wait(30)
    assert "limit is" in model.features_job.error and "Refused" in model.features_job.error
    assert model.budget_notice and "limit is" in model.status


def test_many_samples_on_a_fine_grid_are_scaled_down_with_a_notice() -> None:
    model = SignatureModel(seed=1)
    model.features_job.wait(60)
    query = {"grid_refine": "8", "lead_lag": "1", "n_samples": "128"}
    apply_query(model, query)
    assert model.features_job.wait(120) and not model.features_job.error
    m = model.features_job.result["m"]
    assert 1 <= m < 128
    assert "Scaled down to" in model.budget_notice and "limit is" in model.budget_notice
    assert model.features_job.result["notice"] == model.budget_notice


# ------------------------------------------------------------------------ maxima
def maxima_query(dataset: str) -> dict[str, str]:
    """Every numeric param at its upper bound, selectors at their most expensive option."""
    model_class = SignatureModel
    query: dict[str, str] = {"dataset": dataset}
    for name in model_class.scientific_params():
        p = model_class.param[name]
        if name == "dataset":
            continue
        if name == "kernel":
            query[name] = "matern52"
        elif name == "feature_mode":
            query[name] = "sample_predictions"
        elif name == "grid_refine":
            query[name] = str(max(p.objects))
        elif isinstance(p.default, bool):
            query[name] = "1"
        elif getattr(p, "bounds", None) is not None:
            query[name] = str(p.bounds[1])
    return query


@pytest.mark.slow
@pytest.mark.parametrize(
    ("dataset", "map_channels"),
    [("italy_power_demand", 6), ("italy_power_demand", 0), ("basic_motions", 6)],
)
def test_every_control_at_its_maximum_stays_within_the_hard_limits(
    dataset: str, map_channels: int
) -> None:
    values = {k: v for k, v in maxima_query(dataset).items()}
    values["map_channels"] = str(map_channels)
    model = SignatureModel(seed=1)
    model.features_job.wait(60)
    model.speed = model.param.speed.bounds[1]

    def construct() -> None:
        apply_query(model, values)
        assert model.features_job.wait(HARD_SECONDS)

    peak, seconds, _ = measure(construct)
    assert peak < HARD_BYTES and seconds < HARD_SECONDS, (peak, seconds)
    assert model.lead_lag and model.grid_refine == 8 and model.n_samples == 128
    assert model.budget_notice and "limit" in model.budget_notice  # scaled or refused
    print(f"\n{dataset} k={map_channels} reset+features: {peak / 2**20:.0f} MiB {seconds:.1f} s")

    peak, seconds, _ = measure(lambda: [model.step() for _ in range(3)])
    assert peak < HARD_BYTES and seconds < 3 * 1.0, (peak, seconds)
    assert model.brownian.count > 0 and "Speed capped" in model.status
    print(f"  3 animation steps: {peak / 2**20:.0f} MiB {seconds:.2f} s")

    def features() -> None:
        model.refresh_features()
        assert model.features_job.wait(HARD_SECONDS)

    peak, seconds, _ = measure(features)
    assert peak < HARD_BYTES and seconds < HARD_SECONDS, (peak, seconds)
    print(f"  feature job again: {peak / 2**20:.0f} MiB {seconds:.1f} s")

    peak, seconds, _status = measure(model.fit_marginal_likelihood)
    assert peak < HARD_BYTES and seconds < HARD_SECONDS, (peak, seconds)
    print(f"  marginal likelihood: {peak / 2**20:.0f} MiB {seconds:.1f} s")
    model.features_job.wait(HARD_SECONDS)  # the fit changed the GP params: let its job end


@pytest.mark.slow
def test_the_largest_upload_stays_within_the_hard_limits() -> None:
    """A 2 MB wide CSV of 3000 short series × 8… the parser's worst case: many tiny cells."""
    rng = np.random.default_rng(0)
    n_cols = 500
    header = "label," + ",".join(f"t{j}" for j in range(n_cols)) + "\n"
    row_len = 2 * n_cols + 2
    rows = (MAX_UPLOAD_BYTES - len(header)) // row_len
    body = "".join(
        f"{'ab'[i % 2]}," + ",".join(str(v) for v in rng.integers(0, 10, n_cols)) + "\n"
        for i in range(rows)
    )
    content = (header + body).encode()[:MAX_UPLOAD_BYTES]
    content = content[: content.rfind(b"\n") + 1]
    model = SignatureModel(seed=1, grid_refine=8, n_samples=128)  # lead-lag would refuse it
    model.features_job.wait(HARD_SECONDS)

    def upload() -> None:
        model.upload_csv(content, "big.csv")
        assert model.features_job.wait(HARD_SECONDS)

    peak, seconds, _ = measure(upload)
    print(
        f"\nupload {len(content) / 1e6:.1f} MB + features: {peak / 2**20:.0f} MiB {seconds:.1f} s"
    )
    assert peak < HARD_BYTES and seconds < HARD_SECONDS, (peak, seconds)
    assert model.upload_message.startswith(("Loaded", "Upload rejected"))
    if model.upload_message.startswith("Upload rejected"):
        assert "limit" in model.upload_message
    else:
        assert model.budget_notice and "limit" in model.budget_notice
        peak, seconds, status = measure(model.fit_marginal_likelihood)
        print(f"  marginal likelihood: {peak / 2**20:.0f} MiB {seconds:.1f} s: {status}")
        assert peak < HARD_BYTES and seconds < HARD_SECONDS, (peak, seconds)
        assert "Scaled down" in status
        model.features_job.wait(HARD_SECONDS)
