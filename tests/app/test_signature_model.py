"""The expected-signature model without a browser: data sets, caching, jobs, uploads, sessions."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.models.signature.data import UPLOAD_EXAMPLE, load_dataset
from app.models.signature.features import FeatureConfig, build_features
from app.models.signature.model import SignatureModel
from app.models.signature.summary import summarise
from kernels import signature as S


def wait(model: SignatureModel, timeout: float = 60.0) -> dict:
    job = model.features_job
    deadline = time.monotonic() + timeout
    while job.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not job.running, "feature job did not finish"
    assert job.error == "", job.error
    return job.result


@pytest.mark.parametrize(
    ("name", "shape_train", "shape_test", "n_classes"),
    [
        ("italy_power_demand", (67, 1, 24), (1029, 1, 24), 2),
        ("gunpoint", (50, 1, 150), (150, 1, 150), 2),
        ("arrow_head", (36, 1, 251), (175, 1, 251), 3),
        ("basic_motions", (40, 6, 100), (40, 6, 100), 4),
        ("synthetic_ou", (200, 1, 100), (200, 1, 100), 2),
    ],
)
def test_datasets_load_offline_read_only_and_cached(name, shape_train, shape_test, n_classes):
    data = load_dataset(name)
    assert data.x_train.shape == shape_train and data.x_test.shape == shape_test
    assert len(data.classes) == n_classes
    assert load_dataset(name) is data  # one copy per process
    with pytest.raises(ValueError):
        data.x_train[0, 0, 0] = 1.0  # shared between sessions: read-only


def test_default_model_computes_accuracies_off_the_loop() -> None:
    model = SignatureModel()
    result = wait(model)
    assert set(result["acc_depth"]) == {"NoAug", "GP-mean", "GP-ES (M=8)"}
    assert result["depths"] == [1, 2, 3, 4, 5]  # d = 2 (time + value): N up to 5
    for curve in result["acc_depth"].values():
        assert all(0.0 <= a <= 1.0 for a in curve)
    # spec §4 panel 3: depth 1 is the end-to-end increment only, depth 4 does much better
    assert result["acc_depth"]["GP-mean"][3] > result["acc_depth"]["GP-mean"][0] + 0.1
    assert result["ms"] == [1, 2, 4, 8] and len(result["acc_m"]) == 4
    assert result["embedding"].shape == (67 + 1029, 2)


def test_accuracies_are_computed_from_features_not_stored() -> None:
    # an independent recomputation with the head on the cached features gives the same number
    model = SignatureModel()
    result = wait(model)
    fs = model._cache[model.config()]
    again = summarise(fs, m=8, depth=4, mode="expected_signature", levelwise=True, c=1.0)
    assert again["acc_depth"] == result["acc_depth"]
    # and changing the head's C changes them
    model.head_c = 1e-3
    assert wait(model)["acc_depth"] != result["acc_depth"]


def test_live_changes_reuse_the_cache_and_extend_m() -> None:
    model = SignatureModel()
    wait(model)
    fs = model._cache[model.config()]
    model.n_samples = 20
    wait(model)
    assert model._cache[model.config()] is fs and fs.m_done == 20
    assert set(fs.states) >= {1, 2, 4, 8, 16, 20}
    # the extended sums equal a fresh computation with M = 20 (bit-identical)
    fresh = build_features(fs.config, fs.data, fs.post)
    fresh.extend(20)
    assert np.array_equal(fresh.states[20][0], fs.states[20][0])
    model.depth = 2
    result = wait(model)
    assert result["depth"] == 2 and len(model._cache) == 1


def test_expected_signature_of_highlighted_series_matches_cached_feature() -> None:
    model = SignatureModel(series_index=70)
    wait(model)
    panel = model.series_signature()
    fs = model._cache[model.config()]
    n = S.sig_length(2, 4)
    assert np.allclose(panel["es"], fs.expected(8)[0][70, :n], rtol=1e-12, atol=1e-14)
    assert panel["es"][0] == pytest.approx(1.0)  # time increment is exactly 1 (§6.10)


def test_restart_params_change_the_feature_set() -> None:
    model = SignatureModel()
    wait(model)
    model.noise_var = 0.5
    wait(model)
    assert len(model._cache) == 2
    keys = list(model._cache)
    assert keys[0].noise_var == 0.1 and keys[1].noise_var == 0.5


@pytest.mark.parametrize(
    "mode",
    ["spline_signature", "fourier_signature", "moments", "sample_predictions", "raw_signature"],
)
def test_every_feature_mode_gives_an_accuracy(mode: str) -> None:
    model = SignatureModel(dataset="synthetic_ou", feature_mode=mode, grid_refine=2)
    result = wait(model)
    assert 0.0 <= result["accuracy"] <= 1.0 and result["mode"] == mode


def test_fourier_and_spline_interpolants_pass_through_the_data() -> None:
    from app.models.signature.features import fourier_interpolate

    x = np.random.default_rng(0).standard_normal((3, 1, 9))
    assert np.allclose(fourier_interpolate(x, np.arange(9.0)), x, atol=1e-12)


def test_depth_capped_by_feature_length() -> None:
    model = SignatureModel(dataset="basic_motions", depth=5, lead_lag=True)
    assert model.effective_depth() == 3  # d = 13: 13 + 169 + 2197 ≤ 3000 < + 13⁴


def test_gp_drag_preview_deforms_paths_smoothly() -> None:
    model = SignatureModel()
    a = model.series_view(length_scale=0.1)
    b = model.series_view(length_scale=0.101)
    assert np.max(np.abs(a["paths"] - b["paths"])) < 0.05  # same z: a small move
    assert np.all(a["upper"] >= a["lower"])
    wide = model.series_view(noise_var=1.0)
    assert np.mean(wide["upper"] - wide["lower"]) > np.mean(a["upper"] - a["lower"])


def test_upload_is_per_session_and_bad_files_keep_the_app_working() -> None:
    one, two = SignatureModel(), SignatureModel()
    wait(one), wait(two)
    message = one.upload_csv(b"label,a,b,c\nx,1,2,3\nx,4,5,6\n", "bad.csv")
    assert "Upload rejected" in message and "Only one class" in message
    assert one.dataset == "italy_power_demand"  # nothing changed
    message = one.upload_csv(UPLOAD_EXAMPLE.encode(), "example.csv")
    assert message.startswith("Loaded example.csv")
    result = wait(one)
    assert one.dataset == "upload" and result["n_train"] == len(one.data.y_train)
    assert two.upload_data is None and two.data.name == "italy_power_demand"


def test_upload_selected_without_a_file_falls_back() -> None:
    model = SignatureModel(dataset="upload")
    wait(model)
    assert "No CSV uploaded" in model.upload_message
    assert model.data.name == "italy_power_demand"


def test_brownian_inset_grows_with_play_and_converges() -> None:
    model = SignatureModel(bm_samples=3000, bm_steps=50, seed=4)
    wait(model)
    assert model.brownian.count == 2000  # BM_START_CHUNKS blocks of 500 at a restart
    while model.step():
        pass
    assert model.brownian.count == 3000 and model.t == 3000.0
    errors = np.asarray(model.brownian.trace["error"])
    se = np.asarray(model.brownian.trace["stderr"])
    # levels 1–3: pure MC error; a max over ≤ 8 coordinates stays within 5 s.e. (§6.9)
    assert np.all(errors[-1, :3] < 5 * se[-1, :3])


def test_same_seed_same_numbers_across_models() -> None:
    a, b = SignatureModel(seed=7), SignatureModel(seed=7)
    ra, rb = wait(a), wait(b)
    assert ra["acc_depth"] == rb["acc_depth"]
    assert np.array_equal(ra["embedding"], rb["embedding"])
    c = SignatureModel(seed=8)
    assert not np.array_equal(wait(c)["embedding"], ra["embedding"])


def test_marginal_likelihood_fit_improves_the_likelihood() -> None:
    model = SignatureModel(dataset="gunpoint")
    wait(model)
    rows = model.data.x_train.reshape(-1, 150)
    before = S.log_marginal_likelihood(rows, length_scale=0.1, signal_var=1.0, noise_var=0.1)
    model.fit_marginal_likelihood()
    after = S.log_marginal_likelihood(
        rows,
        length_scale=model.length_scale,
        signal_var=model.signal_var,
        noise_var=model.noise_var,
    )
    assert after > before
    wait(model)


def test_export_contains_accuracies_and_brownian_trace() -> None:
    model = SignatureModel()
    wait(model)
    npz = np.load(__import__("io").BytesIO(model.export_npz()))
    assert "accuracy_vs_depth_NoAug" in npz and npz["embedding"].shape == (1096, 2)
    csv = model.export_csv()
    assert "embedding_pc1,embedding_pc2,class_index,is_test" in csv
    assert len(csv.strip().splitlines()) > 1096


def test_feature_config_is_the_cache_key() -> None:
    model = SignatureModel()
    assert isinstance(model.config(), FeatureConfig)
    assert model.config() == SignatureModel().config()


def test_channel_map_equals_mapped_samples_and_changes_feature_length() -> None:
    # §3 / §6.8: A^{⊗k} applied to the averaged signature = expected signature of AX
    from app.models.signature.summary import ChannelMap

    model = SignatureModel(dataset="basic_motions", depth=3, map_channels=2)
    result = wait(model)
    assert result["feature_dim"] == 3  # time + k = 2 mapped channels
    assert result["depths"] == [1, 2, 3, 4]
    fs = model._cache[model.config()]
    mapper = ChannelMap(2, 6, True, model.seed)
    es_mapped, d = mapper(fs.expected(8)[0][:2], 7, 4)
    # the same samples of series 0–1, mapped before signing
    x = fs.data.all_series()[:2]
    means = fs.post.mean(x)
    z = S.sample_normals(model.seed, np.arange(2), 8, 6, fs.post.grid.size)
    for s in range(2):
        paths = S.gp_sample_paths(fs.post, means[s], z[s])  # (M, 6, G)
        mapped = np.einsum("kc,mcg->mgk", mapper.a, paths)
        aug = np.stack([S.augment(p, fs.post.grid) for p in mapped])
        direct = S.signature_batch(aug, 4).mean(axis=0)
        # identical products summed in another order: round-off relative to the largest term
        assert np.max(np.abs(direct - es_mapped[s])) < 1e-10 * np.max(np.abs(direct))
    assert d == 3


def test_concurrent_builds_share_the_first_feature_set(monkeypatch) -> None:
    # Regression (KeyError: 8 in test_channel_map_…): a job cancelled while building stored its
    # own set over the one the live job had extended. The first set stored now wins.
    import threading

    from app.models.signature import studies

    built: list[object] = []
    gate = threading.Barrier(2)
    build = studies.build_features

    def slow_build(config, data, post, progress):
        if threading.current_thread() not in threads:
            # A job thread left running by an earlier test in this process (CI, 42ce992) must
            # neither take a place at the barrier nor count as one of the two builds.
            return build(config, data, post, progress)
        gate.wait(timeout=5)  # both jobs miss the cache before either stores
        built.append(object())
        return built[-1]

    monkeypatch.setattr(studies, "build_features", slow_build)
    cache = studies.FeatureCache()
    config = SignatureModel().config()
    got: list[object] = []
    threads = [
        threading.Thread(target=lambda: got.append(cache.get_or_build(config, None, None, None)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(built) == 2 and got[0] is got[1] and cache[config] is got[0]
    assert list(cache) == [config] and len(cache) == 1


def test_explicit_arguments_leave_one_extended_feature_set() -> None:
    # construction with live and restart params starts (and cancels) several jobs
    for _ in range(3):
        model = SignatureModel(dataset="synthetic_ou", depth=3, n_samples=4, map_channels=1)
        wait(model)
        assert model._cache[model.config()].has(4)


def test_views_read_model_computed_numbers() -> None:
    model = SignatureModel(dataset="basic_motions", depth=3)
    means = model.class_means()
    data = model.data
    assert means["classes"] == sorted(set(data.y_train.tolist()))
    first = data.x_train[data.y_train == means["classes"][0], 0].mean(axis=0)
    assert np.array_equal(means["means"][0], first) and means["t"].shape == (data.length,)
    sig = model.series_signature()
    d = sig["d"]
    assert sig["level2"].shape == (d, d)
    assert sig["levy_area"] == pytest.approx(0.5 * (sig["level2"][0, 1] - sig["level2"][1, 0]))
    assert SignatureModel(depth=1).series_signature()["level2"] is None
    errors = model.identity_errors
    assert errors["chen"] < 1e-12 and errors["line"] < 1e-12
    inset = model.brownian
    slope = inset.slope_line()
    assert slope["x"][0] == inset.trace["m"][0] and slope["x"][1] >= 10 * slope["x"][0]
    assert slope["y"][1] == pytest.approx(slope["y"][0] * np.sqrt(slope["x"][0] / slope["x"][1]))
    numbers = inset.readout()
    assert numbers["count"] == inset.count and numbers["exact_diagonal"] == inset.horizon / 2
    assert numbers["level2_diagonal"].shape == (inset.dim,)
    wait(model)


def test_drag_cadence_lives_on_the_model() -> None:
    assert SignatureModel.drag_redraw_interval > 0
    assert set(SignatureModel.live_drag_params) <= set(SignatureModel.restart_params)
