"""Behaviour of the Wasserstein-convergence tab: a cached, cancellable width sweep of networks.

Restart parameters define a :class:`kernels.widenet.studies.SweepConfig`; its sweep runs as a
:class:`BackgroundJob` (progress, cancel) kept in step with the config by a
:class:`app.models.rerun.RerunningStudy`, and is cached per config, so returning to a setting is
instant. Live parameters (width shown, estimator, floor correction, first-layer kernel, baseline,
Gauss–Hermite degree) only re-read the cached statistics. "Play" doubles the width shown, one
width of the sweep per frame (:attr:`WidenetModel.frame_interval`), and each preset's story
indicator (:attr:`WidenetModel.stories`) reads the widths walked so far. Sweeps of the presets
at their default seed are also kept process-wide (:data:`SHARED`), and the teaching default's
is computed once at start-up (:func:`warm_shared_sweep`): a first view, and any later session
opening a preset already sampled, draws at once. The parameters are declared in
:mod:`app.models.widenet.params`, the job functions in :mod:`app.models.widenet.studies`, the
plotted numbers in :mod:`app.models.widenet.curves`. Spec ``models/widenet.md``.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any, ClassVar

import numpy as np

from app.models.budget import MAX_RUN_BYTES, OverBudget
from app.models.jobs import BackgroundJob, ProgressFn
from app.models.warm import SharedResults
from app.models.widenet import curves
from app.models.widenet.costs import cache_bytes, fit_lindeberg, fit_sweep
from app.models.widenet.params import ACTIVATIONS, WidenetControls
from app.models.widenet.studies import (
    lindeberg_job,
    lindeberg_weights,
    nngp_target,
    powers_of_two,
    sweep_job,
    sweep_weights,
)
from kernels import widenet as W
from kernels.widenet.studies import SweepConfig

__all__ = [
    "ACTIVATIONS",
    "AUTO_LINDEBERG_WEIGHTS",
    "CACHE_SIZE",
    "SHARED",
    "SharedSweeps",
    "WidenetModel",
    "config_from",
    "warm_shared_sweep",
]

#: Sweeps kept per session (each holds the replicate-0 samples: ≤ 12 MB; all of them together
#: stay under the budget's MAX_RUN_BYTES, see :func:`app.models.widenet.costs.cache_bytes`).
CACHE_SIZE = 4
#: Lindeberg studies start by themselves below this many weight draws (~1 s at ~2 ns each).
AUTO_LINDEBERG_WEIGHTS = 5 * 10**8
#: Message of a sweep that waits for the next tick of a live session.
WAITING_MESSAGE = "Waiting to sample…"

# ---- story indicators (a preset's phenomenon, read at the widths Play has walked) -----------
#: W₂ of the network over W₂ of the all-Gaussian-weights baseline: "an order of magnitude
#: apart" (skewed weights at n ≈ 128, the lattice at n ≈ 128; spec §6.11).
GAP_RATIO = 10.0
#: Coupling upper bound over the Rao–Blackwell W₂: "ten times too pessimistic" (0.75√n for
#: ReLU with Gaussian weights, spec §6.9: n ≈ 180).
BOUND_RATIO = 10.0
#: Relative distance of Ŵ from the predicted first-layer plateau that counts as "on it", and
#: the consecutive widths it must stay there (spec §3a, §6.3: 0.100847 for the trap preset).
PLATEAU_TOLERANCE = 0.10
PLATEAU_WIDTHS = 3


def config_from(values: Mapping[str, Any]) -> SweepConfig:
    """The sweep a full set of parameter values asks for (``seed`` and every scientific param
    by name); the one that runs may be scaled down (:func:`app.models.widenet.costs.fit_sweep`)."""
    law = values["weight_law"]
    n_hidden = int(values["n_hidden"])
    first = "gaussian" if values["first_layer_law"] == "force_gaussian" else law
    lo, hi = sorted((int(values["width_min"]), int(values["width_max"])))
    return SweepConfig(
        layer_laws=(first,) + (law,) * n_hidden,
        activation=values["activation"],
        n_hidden=n_hidden,
        c_w=float(values["c_w"]),
        c_b=float(values["c_b"]),
        readout_bias=bool(values["readout_bias"]),
        t_dof=float(values["t_dof"]),
        n_inputs=int(values["n_inputs"]),
        input_angle=float(values["input_angle"]),
        widths=powers_of_two(lo, hi),
        n_nets=int(values["n_nets"]),
        n_replicates=int(values["n_replicates"]),
        seed=int(values["seed"]),
    )


class SharedSweeps(SharedResults):
    """Sweeps of the presets at their default seed, kept for every session of the process.

    A class opening the same lesson link, or a lecturer returning to a preset, finds its sweep
    here instead of sampling it again. Only preset configs are kept (six at most, about 7 MB
    all together: :func:`app.models.widenet.costs.cache_bytes`), so the store is bounded
    whatever links arrive; results are read-only dicts shared by reference.
    """

    def __init__(self) -> None:
        super().__init__("shared sweep")
        self._keys: frozenset[SweepConfig] | None = None

    def keys(self) -> frozenset[SweepConfig]:
        """The configs that may be kept: every preset's sweep at the default seed, as it runs
        (scaled to the work budget like a session's)."""
        if self._keys is None:
            defaults = {n: WidenetModel.param[n].default for n in WidenetModel.scientific_params()}
            defaults["seed"] = WidenetModel.param.seed.default
            keys = set()
            for preset in WidenetModel.presets.values():
                try:
                    keys.add(fit_sweep(config_from({**defaults, **preset}))[0])
                except OverBudget:
                    continue
            self._keys = frozenset(keys)
        return self._keys

    def keeps(self, key: Hashable) -> bool:
        """Only a preset's sweep at the default seed is kept (:meth:`keys`)."""
        return key in self.keys()

    def compute(self, cfg: SweepConfig, target: Any) -> BackgroundJob:
        """Sample ``cfg`` in the background into the store (sessions asking meanwhile wait)."""
        return self.start(
            cfg,
            lambda progress: sweep_job(cfg, target, progress, lambda _: None),
            "Sampling the teaching default",
        )


#: The process-wide store of preset sweeps.
SHARED = SharedSweeps()


def warm_shared_sweep() -> BackgroundJob | None:
    """Start sampling the teaching default's sweep into :data:`SHARED`, once per process (the
    tab calls this when it is built, and the server builds every tab once at start-up), so the
    first view of the tab draws at once. Returns the job (None if there was nothing to do)."""

    def start() -> BackgroundJob | None:
        model = WidenetModel()
        cfg = model.config
        if cfg is None or model.sweep_refused or SHARED.get(cfg) is not None:
            return None
        return SHARED.compute(cfg, model.target)

    return SHARED.warm(start)


class WidenetModel(WidenetControls):
    """Random networks of growing width against their NNGP Gaussian limit (spec §2–§5)."""

    #: Play doubles the width shown once per 3 s: a width a lecturer can name and point at
    #: (a preset's story unfolds over three to seven doublings: 9–20 s, inside the 10–60 s
    #: pace window of app/models/story.py, which at this interval is 3–20 frames).
    frame_interval: ClassVar[float] = 3.0
    #: Seconds the restart params must rest before a stale sweep starts: none, since their
    #: widgets are throttled (one event on release), so the next tick of a live session starts
    #: the sweep of the new config.
    sweep_debounce_s: ClassVar[float] = 0.0

    def __init__(self, **params: Any) -> None:
        self.sweep = BackgroundJob(name="sweep")
        self.lindeberg = BackgroundJob(name="lindeberg")
        self._cache: OrderedDict[SweepConfig, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.result: dict[str, Any] | None = None
        #: the sweep of the current config, started by :meth:`poll` when stale (set by reset)
        self.sweep_study = self.rerun_when_idle(
            self.sweep,
            self.run_sweep,
            watch=(),
            stale_message=WAITING_MESSAGE,
            debounce_s=self.sweep_debounce_s,
        )
        #: the sweep finished: start the Lindeberg exchange on the next tick if it is cheap
        self.lindeberg_pending = False
        #: Bumped whenever a background result arrives (read by the view's tick).
        self.version = 0
        self._curves: dict[str, Any] | None = None
        self._curves_key: tuple | None = None
        self.config: SweepConfig | None = None
        #: what the work budget did to the current sweep ("" if it runs as asked; the refusal
        #: if it was refused) and to the last Lindeberg exchange
        self.sweep_notice = ""
        self.sweep_refused = False
        self.lindeberg_notice = ""
        self._targets: dict[tuple, np.ndarray] = {}
        #: widths shown in the current run: the start, then one per frame (story indicators)
        self._walk: list[int] = []
        super().__init__(**params)
        self.lindeberg.param.watch(lambda *_: self._touch(), ["result"])
        # a job's own "Done." would hide what the budget did: keep the notice in its message
        self.sweep.param.watch(
            lambda e: self._keep_notice(self.sweep, self.sweep_notice, e), ["message"]
        )
        self.lindeberg.param.watch(
            lambda e: self._keep_notice(self.lindeberg, self.lindeberg_notice, e), ["message"]
        )

    # ------------------------------------------------------------------ config
    def sweep_config(self) -> SweepConfig:
        """The sweep the controls ask for (the one that runs may be scaled down to the work
        budget: :attr:`config`, :func:`app.models.widenet.costs.fit_sweep`)."""
        return config_from(self.param_values())

    #: Weights drawn by a sweep (main + baseline), the work measure of the cost guard.
    sweep_weights = staticmethod(sweep_weights)

    @property
    def sweep_pending(self) -> bool:
        """True while the current config's sweep waits for the next tick of a live session."""
        return self.sweep_study.stale

    # ------------------------------------------------------------------- hooks
    def _initialize(self, rng: np.random.Generator) -> None:
        """Use the cached sweep of this config, or mark it stale (:meth:`poll` starts it: the tab
        calls that on its animation ticks, so hidden tabs and throwaway models never sample)."""
        asked = self.sweep_config()
        try:
            cfg, self.sweep_notice = fit_sweep(asked)  # costed before anything is allocated
            self.sweep_refused = False
        except OverBudget as exc:
            cfg, self.sweep_notice, self.sweep_refused = asked, str(exc), True
        self.config = cfg
        self._walk = [self.shown_width()]
        self.lindeberg.cancel()
        self.lindeberg.result = None
        with self._lock:
            cached = self._cache.get(cfg)
        if cached is None:
            cached = SHARED.get(cfg)
        if cached is not None:
            self._adopt(cached)
            return
        self.result = None
        self.lindeberg_pending = False
        if self.sweep_refused:
            self.sweep_study.settle()
            self.sweep.cancel()
            self.sweep.param.update(progress=0.0, message=self.sweep_notice, error="")
            return
        self.sweep_study.mark_stale()  # cancels a running sweep, says it waits
        self.sweep.param.update(progress=0.0, error="")

    def _remember(self, cfg: SweepConfig, res: dict[str, Any]) -> None:
        """Keep ``res`` in the session's cache: the recorded history, at most CACHE_SIZE
        sweeps and MAX_RUN_BYTES (the oldest go first)."""
        with self._lock:
            self._cache[cfg] = res
            self._cache.move_to_end(cfg)
            while len(self._cache) > CACHE_SIZE or (
                len(self._cache) > 1 and cache_bytes(list(self._cache)) > MAX_RUN_BYTES
            ):
                self._cache.popitem(last=False)

    def _adopt(self, res: dict[str, Any]) -> None:
        """Show a finished sweep of the current config (the session's cache or :data:`SHARED`)."""
        self._remember(self.config, res)
        self.result = res
        self.sweep_study.settle()
        self.sweep.cancel()
        self.sweep.param.update(
            progress=1.0, message=_with(self.sweep_notice, "Done (cached)."), error=""
        )
        self.lindeberg_pending = True

    def run_sweep(self) -> None:
        """Start (or restart) the width sweep of the current config in the background."""
        cfg = self.config
        self.sweep_study.settle()  # started now, whoever asked
        if cfg is None or self.sweep_refused:
            return
        with self._lock:
            self._cache.pop(cfg, None)
        label = "Sampling networks" + (
            " (scaled down to the work budget)" if self.sweep_notice else ""
        )
        self.sweep.start(lambda progress: self._run_sweep(cfg, progress), label)

    def rerun(self) -> None:
        """The "Rerun sweep" button: sample the current config afresh."""
        self.lindeberg.cancel()
        self.lindeberg.result = None
        self.sweep_study.run()

    def poll(self) -> None:
        """Start pending work (the tab calls this on each animation tick): a stale sweep (the
        base's rerun clock), else the Lindeberg exchange once a sweep is done. A sweep the
        start-up job is sampling is waited for, not sampled twice."""
        if self.result is None and self.sweep_pending and self.config is not None:
            shared = SHARED.get(self.config)
            if shared is not None:
                self._adopt(shared)
                self.status = "Loaded from the cache: press Play to step through the widths."
                self._touch()
            elif SHARED.running(self.config):
                return
        super().poll()
        if self.lindeberg_pending and not self.sweep.running:
            self.lindeberg_pending = False
            self._maybe_start_lindeberg()

    def _run_sweep(self, cfg: SweepConfig, progress: ProgressFn) -> dict[str, Any]:
        def partial(res: dict[str, Any]) -> None:
            if self.config == cfg:
                self.result = res
                self._touch()

        W.floor_band(cfg.n_nets)  # cached per M: the panels' floor band, off the event loop
        res = sweep_job(cfg, self.target, progress, partial)
        SHARED.put(cfg, res)
        self._remember(cfg, res)
        if self.config == cfg:
            self.result = res
            self.status = (
                f"Sampled {cfg.n_replicates} × {cfg.n_nets:,} networks at {len(cfg.widths)} "
                f"widths ({cfg.widths[0]}–{cfg.widths[-1]})."
                + (f" {self.sweep_notice}" if self.sweep_notice else "")
            )
            self.lindeberg_pending = True
            self._touch()
        return res

    def _touch(self) -> None:
        """New results arrived (possibly on a worker thread): the view redraws on its next tick
        (:attr:`version` changes; no param event fires off the event loop)."""
        self.version += 1

    def _steps_until_end(self) -> int | None:
        return None

    def _advance(self, n_steps: int, rng: np.random.Generator) -> float:
        """Animate: step the width shown through the sweep's widths (cyclically)."""
        widths = list(self.config.widths) if self.config else [self.width]
        i = (widths.index(self.shown_width()) + 1) % len(widths)
        keep, self._applying_preset = self._applying_preset, True  # not a user edit: no Custom
        try:
            self.width = widths[i]
        finally:
            self._applying_preset = keep
        self._walk.append(widths[i])
        return float(i)

    def step(self, n_steps: int | None = None) -> bool:
        """One frame: the next width of the sweep (the status says which, while playing too)."""
        moved = super().step(1)
        if moved and self.result is not None and self.config is not None:
            widths = self.config.widths
            self.status = (
                f"Showing width n = {self.shown_width()} of {widths[0]}–{widths[-1]}: "
                f"Play doubles it every {self.frame_interval:g} s."
            )
        return moved

    def _run_arrays(self) -> dict[str, np.ndarray]:
        c = self.curves()
        if c is None:
            return {"width": np.asarray(self.config.widths if self.config else [], float)}
        out = {
            "width": c["widths"].astype(float),
            "w2": c["w2"],
            "w2_err": c["w2_err"],
            "floor": np.full(c["widths"].size, c["floor"]),
            "skewness": c["skew"],
            "excess_kurtosis": c["kurt"],
            "cornish_fisher": c["cf"],
        }
        if c["baseline"] is not None:
            out["w2_gaussian_baseline"] = c["baseline"]
        if self.result is not None and self.result.get("samples") is not None:
            out["outputs_replicate0"] = np.asarray(self.result["samples"], dtype=float)
        return out

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {}  # outputs are checked in the kernel (a failed sweep reports its error)

    # ---------------------------------------------------------------- derived
    def shown_width(self) -> int:
        """The sweep width closest (in log) to ``width``."""
        widths = np.asarray(self.config.widths if self.config else [self.width])
        return int(widths[np.argmin(np.abs(np.log2(widths) - math.log2(self.width)))])

    def target(self, cfg: SweepConfig | None = None) -> np.ndarray:
        """K (k, k): the limit covariance under the live first-layer kernel (cached)."""
        cfg = cfg or self.config
        mode = self.first_layer_kernel
        key = (cfg, mode, self.gh_degree)
        if key not in self._targets:
            gh = self.gh_degree if cfg.activation == "tanh" else None
            first = "gaussian_formula" if cfg.layer_laws[0] == "gaussian" else mode
            self._targets[key] = nngp_target(cfg, first, gh)
        return self._targets[key]

    def model_floor(self, m: int | None = None, variance: float | None = None) -> dict[str, float]:
        """Noise floor of the quantile estimator at M networks (default: the current sweep)."""
        cfg = self.config
        if variance is None:
            key = (cfg, self.first_layer_kernel, self.gh_degree)
            k = self._targets.get(key)
            variance = float(k[0, 0]) if k is not None else 0.5  # rough until K is known
        return W.floor_band(m or cfg.n_nets, variance)

    def gaussian_readout(self) -> bool:
        return bool(self.config) and self.config.layer_laws[-1] == "gaussian"

    def effective_estimator(self) -> str:
        est = self.estimator
        if est == "auto":
            return "rao_blackwell" if self.gaussian_readout() else "quantile"
        if est == "rao_blackwell" and not self.gaussian_readout():
            return "quantile"
        return est

    def curves(self) -> dict[str, Any] | None:
        """Everything panels B and E plot, from the cache (memoized per result and live state)."""
        res = self.result
        if res is None or res.get("main") is None:
            return None
        key = (
            id(res),
            res.get("baseline") is not None,
            len(res["main"]["s2"]),
            self.estimator,
            self.floor_correction,
            self.first_layer_kernel,
            self.gh_degree,
            self.show_gaussian_baseline,
        )
        if self._curves_key != key:
            self._curves = curves.sweep_curves(self, res)
            self._curves_key = key
        return self._curves

    def output_law(self) -> dict[str, Any] | None:
        """Panel A's numbers at the width shown (:func:`app.models.widenet.curves.output_law`)."""
        return curves.output_law(self)

    def w2_plot(self) -> dict[str, Any]:
        """Panel B's numbers (:func:`app.models.widenet.curves.w2_plot`)."""
        return curves.w2_plot(self)

    def lindeberg_plot(self) -> dict[str, Any] | None:
        """Panel C's numbers (:func:`app.models.widenet.curves.lindeberg_plot`)."""
        return curves.lindeberg_plot(self)

    def covariance_plot(self) -> dict[str, Any] | None:
        """Panel D's numbers (:func:`app.models.widenet.curves.covariance_plot`)."""
        return curves.covariance_plot(self)

    def shown_samples(self) -> np.ndarray | None:
        """Outputs (M, k) of replicate 0 at the width shown, or None before they exist."""
        res = self.result
        if res is None or res.get("samples") is None:
            return None
        idx = list(res["config"].widths).index(self.shown_width())
        return np.asarray(res["samples"][idx], dtype=float)

    def covariance(self) -> np.ndarray | None:
        """Empirical E[yyᵀ] (replicate mean) at the width shown."""
        res = self.result
        if res is None or res.get("main") is None:
            return None
        idx = list(res["config"].widths).index(self.shown_width())
        return res["main"]["cov"][:, idx].mean(axis=0)

    # -------------------------------------------------------- story indicators
    def walked(self) -> list[int]:
        """The widths shown in the current run: where it started, then one per frame."""
        return list(self._walk)

    def _walked_indices(self, c: dict[str, Any]) -> list[int]:
        """Indices into the sweep's widths of the widths walked, in order."""
        widths = [int(n) for n in c["widths"]]
        return [widths.index(n) for n in self._walk if n in widths]

    def gap_to_baseline_opened(self) -> bool:
        """Play has shown a width where Ŵ is at least :data:`GAP_RATIO` times the W₂ of the
        all-Gaussian-weights network (grey): the 1/√n rate of skewed or lattice weights
        against the 1/n of Gaussian ones (teaching default, lattice)."""
        c = self.curves()
        if c is None or c["baseline"] is None:
            return False
        return any(c["w2"][i] >= GAP_RATIO * c["baseline"][i] for i in self._walked_indices(c))

    def reached_floor(self) -> bool:
        """Play has shown a width where Ŵ is within twice the noise floor: the output can no
        longer be told from its Gaussian limit with M networks (uniform weights)."""
        c = self.curves()
        if c is None:
            return False
        return any(c["w2"][i] <= 2.0 * c["floor"] for i in self._walked_indices(c))

    def first_layer_plateau(self) -> float:
        """|√K_true − √K_gauss| at x₁: the distance between the true limit and the Gaussian
        formula's, where W₂ against the latter levels off (spec §3a, §6.3) [derived]."""
        cfg = self.config
        gh = self.gh_degree if cfg.activation == "tanh" else None
        k = {mode: nngp_target(cfg, mode, gh)[0, 0] for mode in ("true_law", "gaussian_formula")}
        return abs(math.sqrt(k["true_law"]) - math.sqrt(k["gaussian_formula"]))

    def plateau_held(self) -> bool:
        """Against the Gaussian-formula target, Ŵ has stayed within :data:`PLATEAU_TOLERANCE`
        of :meth:`first_layer_plateau` at :data:`PLATEAU_WIDTHS` widths in a row of Play's
        walk: it stopped falling (first-layer trap)."""
        c = self.curves()
        if c is None or self.first_layer_kernel != "gaussian_formula":
            return False
        if self.config.layer_laws[0] == "gaussian":
            return False  # a Gaussian first layer: the formula is exact, no plateau
        plateau = self.first_layer_plateau()
        if plateau <= 2.0 * c["floor"]:
            return False
        run = 0
        for i in self._walked_indices(c):
            run = run + 1 if abs(c["w2"][i] / plateau - 1.0) < PLATEAU_TOLERANCE else 0
            if run >= PLATEAU_WIDTHS:
                return True
        return False

    def bounds_gap_opened(self) -> bool:
        """Play has shown a width where the coupling upper bound (1/√n) is at least
        :data:`BOUND_RATIO` times the Rao–Blackwell W₂ (1/n): the bound is that pessimistic
        (Gaussian weights between two bounds)."""
        c = self.curves()
        if c is None or c["upper"] is None:
            return False
        return any(c["upper"][i] >= BOUND_RATIO * c["w2"][i] for i in self._walked_indices(c))

    # -------------------------------------------------------------- lindeberg
    def run_lindeberg(self) -> None:
        """Start the Lindeberg exchange at the width shown (background job)."""
        if self.config is None:
            return
        cfg, width = self.config, self.shown_width()
        order, mode = self.hybrid_order, self.first_layer_kernel
        try:
            cfg, self.lindeberg_notice = fit_lindeberg(cfg, width, order)  # before allocating
        except OverBudget as exc:
            self.lindeberg_notice = ""
            self.lindeberg.cancel()
            self.lindeberg.param.update(progress=0.0, message=str(exc), error="")
            self.status = f"Lindeberg exchange refused. {exc}"
            return
        label = "Swapping layers"
        if self.lindeberg_notice:
            label += " (scaled down to the work budget)"
            self.status = f"Lindeberg exchange: {self.lindeberg_notice}"
        self.lindeberg.start(
            lambda progress: lindeberg_job(cfg, width, order, mode, progress), label
        )

    def _maybe_start_lindeberg(self) -> None:
        work = lindeberg_weights(self.config, self.shown_width())
        if work <= AUTO_LINDEBERG_WEIGHTS and not self.lindeberg.running:
            self.run_lindeberg()

    def reset(self) -> None:
        super().reset()
        if self.sweep_refused:
            self.status = f"Sweep refused. {self.sweep_notice}"
        elif self.result is None:
            self.status = "Sampling networks in the background: the plots fill in as they come."
        else:
            self.status = "Loaded from the cache: press Play to step through the widths."
        if self.sweep_notice and not self.sweep_refused:
            self.status += f" {self.sweep_notice}"

    @staticmethod
    def _keep_notice(job: BackgroundJob, notice: str, event: Any) -> None:
        """A job that ran scaled down ends with "Done." plus what the budget did."""
        if notice and event.new == "Done.":
            job.message = _with(notice, "Done.")


def _with(notice: str, message: str) -> str:
    """``message`` followed by the budget's ``notice`` (if any)."""
    return f"{message} {notice}" if notice else message
