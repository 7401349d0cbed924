r"""Expected signature: the state of the tab (spec ``models/signature.md``).

A data set's series become random paths through their GP posterior; the feature is the Monte
Carlo expected signature, classified by standardise + logistic regression against the NoAug
and GP-mean baselines. Romito, Triggiano, arXiv:2310.10836.

Restart parameters (data set, GP hyperparameters, grid, augmentations, seed) define a feature
set, computed off the event loop by :attr:`SignatureModel.features_job` and cached per session;
live parameters (depth, M, head, feature mode) are answered from that cache. The animation
(play/step) is Monte Carlo: each step draws one more posterior sample path of the highlighted
series (:class:`~app.models.signature.sampler.SeriesSampler`, panels 1–2) and one more block of
Brownian paths for the teaching inset (panel 5); ``speed`` is steps per second.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import Any, ClassVar

import numpy as np
import param

from app.models.budget import MAX_RUN_BYTES, Cost, OverBudget, check, largest_fitting
from app.models.jobs import BackgroundJob
from app.models.signature import costs, head
from app.models.signature.brownian import BM_CHUNK, BrownianInset, identity_errors
from app.models.signature.data import (
    DATASETS,
    UPLOAD,
    Dataset,
    UploadError,
    load_dataset,
    parse_csv,
)
from app.models.signature.features import FeatureConfig
from app.models.signature.params import SignatureParams
from app.models.signature.sampler import MAX_SHOWN_PATHS, SeriesSampler
from app.models.signature.studies import FeatureCache, compute_features
from app.models.story import NOMINAL_FPS
from app.text import escape_markdown, shorten
from kernels import signature as S

#: Blocks drawn at a restart, so the inset shows a first stretch of its convergence curve.
BM_START_CHUNKS = 4
#: Monte Carlo error of the highlighted series' expected signature (largest 2 s.e. of a level
#: relative to the level's largest coefficient) at which the estimate counts as settled, and
#: as precise: the pace indicators of the data-set presets.
SETTLED_ERROR = 0.05
PRECISE_ERROR = 0.02
#: Largest posterior grid for live redraws (Cholesky ≈ 13 ms at G = 600, spec §8).
MAX_GRID = 600


class SignatureModel(SignatureParams):
    """GP augmentation, expected signatures and the classifier head (spec §2–§5)."""

    #: GP sliders whose drag redraws panel 1 live, before the release restarts the features.
    live_drag_params: ClassVar[tuple[str, ...]] = ("length_scale", "noise_var", "signal_var")
    #: Fewest seconds between two live redraws of panel 1 during such a drag (one posterior
    #: factorisation per redraw: ≈ 13 ms at the largest grid, spec §8).
    drag_redraw_interval: ClassVar[float] = 0.05

    def __init__(self, **params: Any) -> None:
        self.features_job = BackgroundJob(name="features")
        #: uploads and marginal-likelihood fits run on the job pool, off the event loop
        self.upload_job = BackgroundJob(name="upload")
        self.fit_job = BackgroundJob(name="fit")
        self.upload_data: Dataset | None = None
        #: feature sets per restart configuration, shared by this session's jobs
        self._cache = FeatureCache()
        self._posteriors: OrderedDict[tuple, S.Posterior] = OrderedDict()
        self._cache_lock = threading.Lock()  # guards the posterior cache
        self.sampler: SeriesSampler | None = None
        super().__init__(**params)
        self.param.watch(
            self._on_live,
            ["n_samples", "depth", "feature_mode", "standardise_levels", "head_c", "map_channels"],
        )
        self.param.watch(self._on_bm_samples, ["bm_samples"])
        self.param.watch(self._on_sampler_param, ["series_index", "n_samples"])
        self.param.watch(lambda *_: self.sampler is not None and self._note_error(), ["depth"])

    # ------------------------------------------------------------------ data
    @property
    def data(self) -> Dataset:
        if self.dataset == UPLOAD:
            return self.upload_data if self.upload_data is not None else load_dataset(DATASETS[0])
        return load_dataset(self.dataset)

    def data_key(self) -> str:
        if self.dataset == UPLOAD and self.upload_data is not None:
            return f"upload:{id(self.upload_data)}"
        return self.dataset if self.dataset != UPLOAD else DATASETS[0]

    def upload_csv(self, content: bytes, filename: str = "upload.csv") -> str:
        """Parse an uploaded CSV into this session's data set, here and now; returns the
        message shown. The tab uses :meth:`start_upload` (parsing off the event loop)."""
        self.accept_upload(self.parse_upload(content, filename))
        return self.upload_message

    def start_upload(self, content: bytes, filename: str = "upload.csv") -> None:
        """Parse an upload on the job pool (a 2 MB file takes seconds; the server's event
        loop keeps serving every session meanwhile); the view hands the job's result to
        :meth:`accept_upload` on its own loop."""
        shown_name = escape_markdown(shorten(filename, 60))
        self.upload_message = f"Reading {shown_name}…"
        self.upload_job.start(
            lambda _progress: self.parse_upload(content, filename), label="Reading the file"
        )

    def parse_upload(self, content: bytes, filename: str) -> tuple[Dataset | None, str]:
        """``(data set, message)`` of an upload, or ``(None, why it was refused)``; changes
        nothing in the model (safe on a worker thread)."""
        shown_name = escape_markdown(shorten(filename, 60))
        try:
            check(costs.upload_cost(len(content or b"")))
            data = parse_csv(content, name=filename)
            self._check_upload_fits(data)
        except (UploadError, OverBudget) as exc:  # the message may quote the file
            return None, shorten(f"Upload rejected: {escape_markdown(exc)}")
        return data, (
            f"Loaded {shown_name}: {len(data.y_train)} train / {len(data.y_test)} test series, "
            f"{data.channels} channel(s) × {data.length} points, {len(data.classes)} classes."
        )

    def accept_upload(self, parsed: tuple[Dataset | None, str]) -> None:
        """Show :meth:`parse_upload`'s message and switch to the data set it read, if any."""
        data, message = parsed
        self.upload_message = message
        if data is not None:
            self.upload_data = data
            if self.dataset == UPLOAD:
                self.reset()
            else:
                self.dataset = UPLOAD  # restarts through the watcher
        self.status = message

    def _check_upload_fits(self, data: Dataset) -> None:
        """Refuse a data set whose cheapest feature job (M = 1, r = 1, the current
        augmentations, no channel map) is over the work budget."""
        cheapest = costs.features_cost(self.sizes(data, refine=1), 1)
        problem = cheapest.problem()
        if problem:
            raise OverBudget(f"{problem} Upload fewer or shorter series, or fewer channels.")

    def sizes(self, data: Dataset | None = None, refine: int | None = None) -> costs.Sizes:
        """The sizes of the feature job of ``data`` (default: the current data set) under the
        current configuration."""
        data = self.data if data is None else data
        r = int(self.grid_refine if refine is None else refine)
        r = max(1, min(r, (MAX_GRID - 1) // (data.length - 1)))  # as effective_refine
        return costs.Sizes(
            n_series=data.n_series,
            n_train=len(data.y_train),
            channels=data.channels,
            length=data.length,
            grid=r * (data.length - 1) + 1,
            add_time=bool(self.add_time),
            basepoint=bool(self.basepoint),
            lead_lag=bool(self.lead_lag),
        )

    @property
    def current_index(self) -> int:
        return min(self.series_index, self.data.n_series - 1)

    @property
    def current_channel(self) -> int:
        return min(self.channel, self.data.channels - 1)

    # ------------------------------------------------------------- posterior
    def config(self) -> FeatureConfig:
        return FeatureConfig(
            dataset=self.data_key(),
            kernel=self.kernel,
            length_scale=float(self.length_scale),
            signal_var=float(self.signal_var),
            noise_var=float(self.noise_var),
            grid_refine=self.effective_refine(),
            add_time=self.add_time,
            basepoint=self.basepoint,
            lead_lag=self.lead_lag,
            seed=int(self.seed),
        )

    def effective_refine(self, refine: int | None = None) -> int:
        """``grid_refine`` capped so that G = r(L−1)+1 ≤ :data:`MAX_GRID` (spec §8)."""
        r = int(self.grid_refine if refine is None else refine)
        return max(1, min(r, (MAX_GRID - 1) // (self.data.length - 1)))

    def posterior(self, **overrides: Any) -> S.Posterior:
        """The GP posterior (one factorisation per hyperparameter setting, cached)."""
        values = {
            n: getattr(self, n)
            for n in ("kernel", "length_scale", "signal_var", "noise_var", "grid_refine")
        }
        values.update(overrides)
        values["grid_refine"] = self.effective_refine(values["grid_refine"])
        key = (self.data.length, *(values[n] for n in sorted(values)))
        with self._cache_lock:
            post = self._posteriors.get(key)
        if post is None:
            post = S.gp_posterior(
                self.data.length,
                refine=int(values["grid_refine"]),
                kernel=values["kernel"],
                length_scale=float(values["length_scale"]),
                signal_var=float(values["signal_var"]),
                noise_var=float(values["noise_var"]),
            )
            with self._cache_lock:
                self._posteriors[key] = post
                while len(self._posteriors) > 3:
                    self._posteriors.popitem(last=False)
        return post

    def series_view(self, **overrides: Any) -> dict[str, Any]:
        """Panel 1 for the highlighted series: observations, posterior mean, ±2σ band and
        sample paths. Without overrides the paths are the newest the run has drawn (the last is
        the newest); under a dragged GP slider (``overrides``) they are the first M under those
        hyperparameters (same keys z, so a drag deforms the paths smoothly)."""
        post = self.posterior(**overrides)
        values, label, split = self.data.series(self.current_index)
        mean = post.mean(values)  # (c, G)
        if overrides or self.sampler is None:
            n_show = min(self.n_samples, MAX_SHOWN_PATHS)
            z = S.sample_normals(
                self.seed, np.array([self.current_index]), n_show, values.shape[0], post.grid.size
            )[0]
            paths = S.gp_sample_paths(post, mean, z)
            drawn = n_show
        else:
            sampler = self.current_sampler()
            paths = sampler.view()["paths"]
            drawn = sampler.count
        ch = self.current_channel
        sd = np.sqrt(post.variance)
        return {
            "t": post.t,
            "y": values[ch],
            "grid": post.grid,
            "mean": mean[ch],
            "lower": mean[ch] - 2 * sd,
            "upper": mean[ch] + 2 * sd,
            "paths": paths[:, ch],
            "drawn": drawn,
            "label": label,
            "split": split,
            "jitter": post.jitter,
            "method": post.method,
        }

    def effective_depth(self) -> int:
        """``depth`` capped so that the feature length Σ d^k stays ≤ 3000."""
        d_aug = S.augmented_dim(self.data.channels, self.add_time, self.lead_lag)
        return min(self.depth, S.max_depth(d_aug))

    def series_signature(self) -> dict[str, Any]:
        """Panel 2: expected signature of the highlighted series from the paths drawn so far
        (M at a restart, one more per step; ± s.e.), with the GP-mean and NoAug signatures, at
        the effective depth."""
        sampler = self.current_sampler()
        depth = min(self.effective_depth(), sampler.depth)
        n = int(sampler.offsets[depth])
        es, se = sampler.estimate(depth)
        d = sampler.d
        level2 = es[d : d + d * d].reshape(d, d) if depth >= 2 else None
        largest: tuple[int, int, float] = (0, 0, float("nan"))
        if level2 is None:
            area = float("nan")
        else:  # Lévy area of the first two channels: the antisymmetric part of level 2
            area = 0.5 * float(level2[0, 1] - level2[1, 0]) if d > 1 else 0.0
            areas = 0.5 * (level2 - level2.T)
            i, j = np.unravel_index(int(np.argmax(np.abs(np.triu(areas, 1)))), areas.shape)
            largest = (int(i), int(j), float(areas[i, j]))
        return {
            "largest_area": largest,
            "es": es,
            "se": se,
            "mean": sampler.mean_signature[:n],
            "raw": sampler.raw_signature[:n],
            "depth": depth,
            "d": d,
            "level2": level2,
            "levy_area": area,
            "drawn": sampler.count,
            "error": sampler.relative_error(depth),
        }

    # -------------------------------------------------------- the animated sample
    def _sampler_key(self) -> tuple:
        """What the sampler's paths depend on besides M (the posterior is compared by
        identity: one cached object per hyperparameter setting)."""
        flags = (self.add_time, self.basepoint, self.lead_lag)
        return (self.data_key(), self.current_index, int(self.seed), flags)

    def _restart_sampler(self) -> None:
        """Draw the highlighted series' first M sample paths afresh (a restart, or a new
        series or M): the classifier's own samples, from which Play continues."""
        index = self.current_index
        self.sampler = SeriesSampler(
            self.posterior(),
            self.data.series(index)[0],
            index,
            int(self.seed),
            dict(add_time=self.add_time, basepoint=self.basepoint, lead_lag=self.lead_lag),
        )
        self.sampler.key = self._sampler_key()
        self.sampler.draw(self.n_samples)
        self._note_error()

    def current_sampler(self) -> SeriesSampler:
        """The sampler of the current parameters (drawn afresh if a view asks between a
        parameter change and the restart it causes, e.g. while a preset is being applied)."""
        sampler = self.sampler
        if (
            sampler is None
            or sampler.key != self._sampler_key()
            or sampler.post is not (self.posterior())
        ):
            self._restart_sampler()
        return self.sampler

    def _note_error(self) -> None:
        self.sampler.note_error((SETTLED_ERROR, PRECISE_ERROR), self.effective_depth())

    def _on_sampler_param(self, *events: param.parameterized.Event) -> None:
        if self.sampler is None:
            return
        self._restart_sampler()
        if not self._applying_preset:  # a preset restarts the whole run afterwards
            self._bump_frame()

    def mc_error(self) -> float:
        """The Monte Carlo error of the highlighted series' expected signature over the paths
        drawn so far (see :meth:`SeriesSampler.relative_error`; inf below two paths)."""
        return self.current_sampler().relative_error(self.effective_depth())

    # ---------------------------------------------------- pace indicators (issue 12)
    def expected_signature_settled(self) -> bool:
        """The Monte Carlo error of the highlighted series' expected signature (panel 2, the
        "MC error" chip) has fallen to :data:`SETTLED_ERROR` in this run."""
        return self.sampler.error_reached(SETTLED_ERROR, self.effective_depth())

    def expected_signature_precise(self) -> bool:
        """… and to :data:`PRECISE_ERROR` (for a preset that starts from many samples)."""
        return self.sampler.error_reached(PRECISE_ERROR, self.effective_depth())

    def brownian_confirmed(self) -> bool:
        """The teaching inset has drawn its M_B paths and its Monte Carlo estimate matches the
        closed form exp(T/2 Σ eᵢ⊗eᵢ) within the spec's tolerance (§6.9: 4 s.e. per level, plus
        0.005 at level 4 for the discretisation bias)."""
        inset = self.brownian
        if inset.count < self.bm_samples or not inset.trace["m"]:
            return False
        error = np.asarray(inset.trace["error"][-1])
        stderr = np.asarray(inset.trace["stderr"][-1])
        allowed = 4 * stderr + np.array([0.0, 0.0, 0.0, 0.005])[: len(stderr)]
        return bool(np.all(error <= allowed + 1e-12))

    def class_means(self) -> dict[str, Any]:
        """Training-set mean of each class (first ten classes) in the channel shown, on the
        observation times: the shape a class "looks like" (panel 1's optional overlay)."""
        data = self.data
        ch = self.current_channel
        labels = data.y_train
        classes = sorted(set(labels.tolist()))[:10]
        return {
            "t": np.linspace(0.0, 1.0, data.length),
            "classes": classes,
            "means": [data.x_train[labels == c, ch].mean(axis=0) for c in classes],
        }

    @property
    def identity_errors(self) -> dict[str, float]:
        """Chen and straight-line identity errors of the signature kernel (the inset's
        self-check, spec §6.1–6.2); computed once per process."""
        return identity_errors()

    # -------------------------------------------------------------- features
    def refresh_features(self) -> None:
        """Recompute (or look up) features and refit the head off the event loop."""
        config = self.config()
        post = self.posterior()
        sizes = dataclasses.replace(self.sizes(), cholesky=post.method == "cholesky")
        mode, k_map = self.feature_mode, int(self.map_channels)

        def cost_of(k: int) -> Cost:
            return costs.features_cost(sizes, k, mode=mode, map_channels=k_map)

        try:
            m, notice = largest_fitting(cost_of, int(self.n_samples))
        except OverBudget:
            refusal = (
                f"{cost_of(1).problem()} Refused, even with M = 1: lower k mapped channels or "
                "the grid refinement r, or switch off lead-lag."
            )
            self.budget_notice = refusal
            self.status = refusal

            def refuse(progress: Any) -> None:
                raise OverBudget(refusal)

            self.features_job.start(refuse, "Checking the work budget")
            return
        if notice:
            notice = f"M samples: {notice}"
        self.budget_notice = notice
        snapshot = dict(
            config=config,
            data=self.data,
            m=m,
            depth=self.effective_depth(),
            mode=self.feature_mode,
            levelwise=self.standardise_levels,
            c=float(self.head_c),
            map_channels=int(self.map_channels),
            index=self.current_index,
        )

        def job(progress: Any) -> dict[str, Any]:
            result = compute_features(progress, cache=self._cache, post=post, **snapshot)
            result["notice"] = notice
            return result

        self.features_job.start(job, "Computing features")
        if notice:
            self.status = notice

    def _on_live(self, *events: param.parameterized.Event) -> None:
        if self._applying_preset:
            return
        self.refresh_features()
        if not self.budget_notice:
            self.status = "Updating accuracies from the cached features…"

    # ---------------------------------------------------- marginal likelihood
    def fit_marginal_likelihood(self) -> str:
        """Set ℓ, σ_f², σ_n² to the maximiser of the training set's log marginal likelihood,
        here and now (the tab uses :meth:`start_fit`)."""
        self.apply_fit(self.compute_fit())
        return self.status

    def start_fit(self) -> None:
        """Run the marginal-likelihood fit on the job pool (it can take seconds on a large
        upload); the view hands the result to :meth:`apply_fit` on its own loop."""
        self.upload_message = "Fitting ℓ, σ_f², σ_n² by marginal likelihood…"
        self.fit_job.start(lambda _progress: self.compute_fit(), label="Fitting")

    def compute_fit(self) -> tuple[dict[str, float] | None, str]:
        """``(new ℓ, σ_f², σ_n², message)`` of the fit, or ``(None, why it was refused)``;
        changes nothing in the model (safe on a worker thread)."""
        bounds = [self.param[n].bounds for n in ("length_scale", "signal_var", "noise_var")]
        x_train = self.data.x_train
        c, length = x_train.shape[1], x_train.shape[2]
        try:
            k, notice = largest_fitting(
                lambda k: costs.marginal_likelihood_cost(k * c, length), len(x_train)
            )
        except OverBudget as exc:
            return None, f"Marginal-likelihood fit refused: {exc}"
        if notice:
            notice = f" Training series: {notice}"
        (ls, sf2, sn2), value = head.fit_hyperparameters(
            x_train[:k],
            self.kernel,
            (self.length_scale, self.signal_var, self.noise_var),
            bounds,
        )
        values = {
            "length_scale": round(ls, 4),
            "signal_var": round(sf2, 4),
            "noise_var": float(f"{sn2:.3g}"),
        }
        return values, f"Fitted by marginal likelihood (log ML = {value:.1f}).{notice}"

    def apply_fit(self, fitted: tuple[dict[str, float] | None, str]) -> None:
        """Set the fitted hyperparameters (if any) and show the fit's message."""
        values, message = fitted
        if values is not None:
            self.param.update(**values)
        self.status = message
        self.upload_message = message

    # ----------------------------------------------------- simulation hooks
    def _initialize(self, rng: np.random.Generator) -> None:
        if self.dataset == UPLOAD and self.upload_data is None:
            self.upload_message = "No CSV uploaded in this session yet: showing ItalyPowerDemand."
        data = self.data
        # the sliders span this data set (values beyond are clamped by current_index/channel)
        self.param.series_index.softbounds = (0, data.n_series - 1)
        self.param.channel.softbounds = (0, max(1, data.channels - 1))
        check(costs.run_history_cost(self.bm_samples, self.bm_dim), max_bytes=MAX_RUN_BYTES)
        self.brownian = BrownianInset(self.bm_dim, self.bm_horizon, self.bm_steps)
        self.brownian.add(self.blocks_per_tick(), self.bm_samples, rng)
        self._restart_sampler()
        self.refresh_features()

    def blocks_per_tick(self, speed: int | None = None) -> int:
        """Brownian blocks a restart may add at once: ``speed`` blocks (default
        :data:`BM_START_CHUNKS`), capped by the time budget of one step
        (:data:`~app.models.signature.costs.MAX_TICK_SECONDS`)."""
        n = BM_START_CHUNKS if speed is None else speed
        return costs.blocks_per_tick(self.bm_dim, self.bm_steps, n)

    @property
    def frame_interval(self) -> float:  # type: ignore[override]
        """Seconds between two steps while playing: ``speed`` steps per second (every tick
        from :data:`~app.models.story.NOMINAL_FPS` on), so one can watch each path arrive."""
        return 0.0 if self.speed >= NOMINAL_FPS else 1.0 / self.speed

    def step_seconds(self) -> float:
        """Estimated seconds of one step (a block of Brownian paths; the one GP sample path
        it also draws costs far less)."""
        return costs.brownian_block_cost(self.bm_dim, self.bm_steps).seconds

    def step(self, n_steps: int | None = None) -> bool:
        """``n_steps`` steps (default one): each draws one more sample path of the
        highlighted series and one more block of Brownian paths. A notice says when a step
        takes longer than the play speed allows."""
        capped = ""
        if n_steps is None:
            n_steps = 1
            seconds = self.step_seconds()
            # noticeably slower than asked (a twice-longer step), while the inset still draws
            slow = seconds * min(self.speed, NOMINAL_FPS) > 2.0
            if slow and self.brownian.blocks_left(self.bm_samples) > 0:
                capped = (
                    f"Speed capped at about {1 / seconds:.1f} sample paths per second (from "
                    f"{self.speed}): each step draws a block of {BM_CHUNK} Brownian paths, about "
                    f"{seconds:.2f} s at these Brownian settings; lower n Brownian steps or d_B."
                )
        advanced = super().step(n_steps)
        if advanced and capped:
            self.budget_notice = self.status = capped
        if not advanced and not self.diverged:
            self.status = (
                f"Done: {self.sampler.count:,} sample paths of series {self.current_index} and "
                f"{self.brownian.count:,} Brownian paths drawn. Reset to draw them again."
            )
        return advanced

    def reset(self) -> None:
        super().reset()
        if self.budget_notice:  # set by the feature job's budget check: keep it in view
            self.status = self.budget_notice

    def _advance(self, n_steps: int, rng: np.random.Generator) -> float:
        self.brownian.add(n_steps, self.bm_samples, rng)
        self.sampler.draw(n_steps)
        self._note_error()
        return float(self.brownian.count)

    def _steps_until_end(self) -> int:
        return max(self.brownian.blocks_left(self.bm_samples), self.sampler.left)

    def _on_bm_samples(self, event: param.parameterized.Event) -> None:
        if event.new < self.brownian.count and not self._applying_preset:
            self.reset()  # fewer paths than already drawn: start the inset again

    def _run_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {
            "brownian_paths": np.asarray(self.brownian.trace["m"], dtype=float),
            "brownian_max_error": np.asarray(self.brownian.trace["error"], dtype=float),
            "brownian_mean": self.brownian.estimate()[0],
            "brownian_exact": self.brownian.exact,
        }
        result = self.features_job.result
        if result is not None:
            for name, values in result["acc_depth"].items():
                arrays[f"accuracy_vs_depth_{name}"] = np.asarray(values, dtype=float)
            arrays["embedding"] = result["embedding"]
            # the CSV holds the longest 1-D arrays: one row per series of the embedding
            classes = sorted(set(result["labels"].tolist()))
            arrays["embedding_pc1"] = result["embedding"][:, 0]
            arrays["embedding_pc2"] = result["embedding"][:, 1]
            arrays["class_index"] = np.array(
                [classes.index(v) for v in result["labels"]], dtype=float
            )
            arrays["is_test"] = (np.arange(len(result["labels"])) >= result["n_train"]) * 1.0
        return arrays

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"brownian_sums": self.brownian.sums}
