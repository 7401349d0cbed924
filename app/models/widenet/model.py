"""State of the Wasserstein-convergence tab: a cached, cancellable width sweep of random networks.

Restart parameters define a :class:`kernels.widenet.studies.SweepConfig`; its sweep runs as a
:class:`BackgroundJob` (progress, cancel) and is cached per config, so returning to a setting is
instant. Live parameters (width shown, estimator, floor correction, first-layer kernel, baseline,
Gauss–Hermite degree) only re-read the cached statistics. "Play" steps the width shown through
the sweep. Spec ``models/widenet.md``.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import param

from app.models.base import SimulationModel
from app.models.jobs import BackgroundJob, ProgressFn
from app.models.widenet.curves import sweep_curves
from kernels import widenet as W
from kernels.widenet.studies import SweepConfig, lindeberg_study, width_sweep

#: Sweeps kept per session (each holds the replicate-0 samples: ≤ 12 MB).
CACHE_SIZE = 4
#: Weight draws above which a sweep is refused (~10 min on one core at 15 ns per weight).
MAX_SWEEP_WEIGHTS = 4 * 10**10
#: Lindeberg studies start by themselves below this many weight draws (~1 s at ~2 ns each).
AUTO_LINDEBERG_WEIGHTS = 5 * 10**8
ACTIVATIONS = ("relu", "tanh", "erf", "linear")


def _powers_of_two(lo: int, hi: int) -> tuple[int, ...]:
    a = max(1, round(math.log2(max(lo, 2))))
    b = max(a, round(math.log2(max(hi, 2))))
    return tuple(2**j for j in range(a, b + 1))


class WidenetModel(SimulationModel):
    """Random networks of growing width against their NNGP Gaussian limit (spec §2–§5)."""

    weight_law = param.Selector(
        default="centred_exp",
        objects=list(W.WEIGHT_LAWS),
        doc="Law of every weight (standardised: mean 0, variance 1). Skewed (centred_exp) or "
        "lattice (rademacher) laws converge like n^-1/2, smooth symmetric ones like n^-1.",
    )
    t_dof = param.Number(
        label="ν: Student-t degrees of freedom",
        default=6.0,
        bounds=(4.5, 30.0),
        step=0.5,
        doc="ν: degrees of freedom of the Student-t law (ν > 4 for a finite fourth moment).",
    )
    activation = param.Selector(
        default="relu",
        objects=list(ACTIVATIONS),
        doc="σ: the hidden activation. ReLU is the teaching case; tanh and erf are smooth.",
    )
    n_hidden = param.Integer(
        label="L: hidden layers", default=1, bounds=(1, 4), doc="L: number of hidden layers."
    )
    width = param.Integer(
        label="n: width shown",
        default=64,
        bounds=(2, 1024),
        doc="n: the width shown in the output-law and covariance panels (snaps to the nearest "
        "width of the sweep).",
    )
    width_min = param.Integer(
        label="Smallest width",
        default=2,
        bounds=(2, 1024),
        doc="Smallest width of the sweep (rounded to a power of two).",
    )
    width_max = param.Integer(
        label="Largest width",
        default=256,
        bounds=(2, 1024),
        doc="Largest width of the sweep (rounded to a power of two).",
    )
    c_w = param.Number(
        label="C_W: weight variance",
        default=1.0,
        bounds=(0.5, 3.0),
        step=0.05,
        doc="C_W: weight variance.",
    )
    c_b = param.Number(
        label="C_b: bias variance",
        default=0.1,
        bounds=(0.0, 1.0),
        step=0.01,
        doc="C_b: bias variance (0 = no biases).",
    )
    readout_bias = param.Boolean(default=False, doc="Add a Gaussian readout bias of variance C_b.")
    n_inputs = param.Integer(
        label="k: inputs", default=1, bounds=(1, 3), doc="k: number of inputs x_r on the circle."
    )
    input_angle = param.Number(
        label="Δθ: angle between inputs (°)",
        default=60.0,
        bounds=(1.0, 180.0),
        step=1.0,
        doc="Δθ: angle between consecutive inputs, in degrees.",
    )
    n_nets = param.Integer(
        label="M: networks per width",
        default=20_000,
        bounds=(1000, 100_000),
        doc="M: independent networks sampled per width and replicate.",
    )
    n_replicates = param.Integer(
        label="R: replicates", default=5, bounds=(3, 20), doc="R: replicates for the error bars."
    )
    first_layer_kernel = param.Selector(
        default="true_law",
        objects=["true_law", "gaussian_formula"],
        doc="Target of the first layer: its true (non-Gaussian) law, or the Gaussian formula "
        "C_W⟨x,x'⟩/n0 + C_b, which leaves a width-independent plateau for non-Gaussian weights.",
    )
    first_layer_law = param.Selector(
        default="as_chosen",
        objects=["as_chosen", "force_gaussian"],
        doc="Keep the chosen law in the first layer, or force it Gaussian.",
    )
    estimator = param.Selector(
        default="auto",
        objects=["auto", "quantile", "rao_blackwell", "two_sample"],
        doc="W2 estimator: sorted outputs against Gaussian quantiles, the Rao–Blackwell Gaussian "
        "mixture (Gaussian readout only), or against a Gaussian sample. auto: Rao–Blackwell when "
        "the readout is Gaussian, else quantile.",
    )
    floor_correction = param.Boolean(
        default=False, doc="Plot √max(Ŵ² − F_M², 0): subtract the noise floor."
    )
    hybrid_order = param.Selector(
        default="readout_first",
        objects=["readout_first", "input_first"],
        doc="Order in which the Lindeberg exchange makes layers Gaussian.",
    )
    show_gaussian_baseline = param.Boolean(
        default=True, doc="Show the all-Gaussian-weights network in grey."
    )
    gh_degree = param.Integer(
        label="Gauss–Hermite nodes (tanh)",
        default=40,
        bounds=(20, 100),
        doc="Gauss–Hermite nodes of the tanh dual kernel.",
    )

    restart_params = (
        "weight_law",
        "t_dof",
        "activation",
        "n_hidden",
        "width_min",
        "width_max",
        "c_w",
        "c_b",
        "readout_bias",
        "n_inputs",
        "input_angle",
        "n_nets",
        "n_replicates",
        "first_layer_law",
        "hybrid_order",
    )
    live_params = (
        "width",
        "first_layer_kernel",
        "estimator",
        "floor_correction",
        "show_gaussian_baseline",
        "gh_degree",
    )
    display_order = (
        "weight_law",
        "activation",
        "n_hidden",
        "width",
        "width_min",
        "width_max",
        "n_nets",
        "n_replicates",
        "estimator",
        "floor_correction",
        "first_layer_kernel",
        "show_gaussian_baseline",
        "c_w",
        "c_b",
        "readout_bias",
        "n_inputs",
        "input_angle",
        "t_dof",
        "first_layer_law",
        "hybrid_order",
        "gh_degree",
    )
    advanced_params = (
        "c_w",
        "c_b",
        "readout_bias",
        "n_inputs",
        "input_angle",
        "t_dof",
        "first_layer_law",
        "hybrid_order",
        "gh_degree",
    )
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "teaching_default": {"n_replicates": 3},
        "smooth_symmetric": {
            "weight_law": "uniform",
            "width_min": 4,
            "width_max": 64,
            "width": 16,
            "n_nets": 100_000,
            "n_replicates": 3,
        },
        "lattice": {
            "weight_law": "rademacher",
            "activation": "linear",
            "c_b": 0.0,
            "width_min": 4,
            "width_max": 1024,
            "n_replicates": 3,
        },
        "first_layer_trap": {
            "weight_law": "rademacher",
            "activation": "tanh",
            "first_layer_kernel": "gaussian_formula",
            "n_replicates": 3,
        },
        "bounds_sandwich": {
            "weight_law": "gaussian",
            "width_min": 16,
            "width_max": 1024,
            "width": 256,
            "n_replicates": 3,
            "estimator": "rao_blackwell",
        },
        "lindeberg_swap": {
            "n_hidden": 2,
            "width": 8,
            "width_min": 2,
            "width_max": 64,
            "n_nets": 100_000,
            "n_replicates": 3,
        },
    }
    default_preset = "teaching_default"
    divergence_hint = "lower C_W or the depth"

    def __init__(self, **params: Any) -> None:
        self.sweep = BackgroundJob(name="sweep")
        self.lindeberg = BackgroundJob(name="lindeberg")
        self._cache: OrderedDict[SweepConfig, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.result: dict[str, Any] | None = None
        self.sweep_pending = False
        self.lindeberg_pending = False
        #: Bumped whenever a background result arrives (read by the view's tick).
        self.version = 0
        self._curves: dict[str, Any] | None = None
        self._curves_key: tuple | None = None
        self.config: SweepConfig | None = None
        self._targets: dict[tuple, np.ndarray] = {}
        super().__init__(**params)
        self.lindeberg.param.watch(lambda *_: self._touch(), ["result"])

    # ------------------------------------------------------------------ config
    def sweep_config(self) -> SweepConfig:
        law = self.weight_law
        first = "gaussian" if self.first_layer_law == "force_gaussian" else law
        lo, hi = sorted((self.width_min, self.width_max))
        return SweepConfig(
            layer_laws=(first,) + (law,) * self.n_hidden,
            activation=self.activation,
            n_hidden=self.n_hidden,
            c_w=float(self.c_w),
            c_b=float(self.c_b),
            readout_bias=bool(self.readout_bias),
            t_dof=float(self.t_dof),
            n_inputs=self.n_inputs,
            input_angle=float(self.input_angle),
            widths=_powers_of_two(lo, hi),
            n_nets=self.n_nets,
            n_replicates=self.n_replicates,
            seed=self.seed,
        )

    @staticmethod
    def sweep_weights(cfg: SweepConfig) -> float:
        """Weights drawn by a sweep (main + baseline), the work measure of the cost guard."""
        per_net = sum(n * n * (cfg.n_hidden - 1) + 4 * n for n in cfg.widths)
        if cfg.n_hidden == 1:
            per_net = 4 * max(cfg.widths)
        return float(per_net) * cfg.n_nets * (cfg.n_replicates + 3)

    # ------------------------------------------------------------------- hooks
    def _initialize(self, rng: np.random.Generator) -> None:
        """Use the cached sweep of this config, or mark it pending (:meth:`run_sweep` starts it:
        the tab does so on its next animation tick, so hidden tabs never sample)."""
        cfg = self.sweep_config()
        self.config = cfg
        self.lindeberg.cancel()
        self.lindeberg.result = None
        self.sweep_pending = False
        with self._lock:
            cached = self._cache.get(cfg)
        if cached is not None:
            self.result = cached
            self.sweep.cancel()
            self.sweep.param.update(progress=1.0, message="Done (cached).", error="")
            self.lindeberg_pending = True
            return
        self.result = None
        self.lindeberg_pending = False
        if self.sweep_weights(cfg) > MAX_SWEEP_WEIGHTS:
            self.sweep.cancel()
            self.sweep.param.update(
                progress=0.0, message="Too large: lower the widths, the depth or M.", error=""
            )
            return
        self.sweep.cancel()
        self.sweep.param.update(progress=0.0, message="Waiting to sample…", error="")
        self.sweep_pending = True

    def run_sweep(self) -> None:
        """Start (or restart) the width sweep of the current config in the background."""
        cfg = self.config
        self.sweep_pending = False
        if cfg is None or self.sweep_weights(cfg) > MAX_SWEEP_WEIGHTS:
            return
        with self._lock:
            self._cache.pop(cfg, None)
        self.sweep.start(lambda progress: self._run_sweep(cfg, progress), "Sampling networks")

    def rerun(self) -> None:
        """The "Rerun sweep" button: sample the current config afresh."""
        self.lindeberg.cancel()
        self.lindeberg.result = None
        self.run_sweep()

    def poll(self) -> None:
        """Start pending work (called by the tab on each animation tick)."""
        if self.sweep_pending:
            self.run_sweep()
        elif self.lindeberg_pending and not self.sweep.running:
            self.lindeberg_pending = False
            self._maybe_start_lindeberg()

    def _run_sweep(self, cfg: SweepConfig, progress: ProgressFn) -> dict[str, Any]:
        def partial(res: dict[str, Any]) -> None:
            if self.config == cfg:
                self.result = res
                self._touch()

        self.target(cfg)  # the true-law kernel may need a 1e7-sample Monte Carlo: off the loop
        res = width_sweep(cfg, progress=progress, on_partial=partial)
        with self._lock:
            self._cache[cfg] = res
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        if self.config == cfg:
            self.result = res
            self.status = (
                f"Sampled {cfg.n_replicates} × {cfg.n_nets:,} networks at {len(cfg.widths)} "
                f"widths ({cfg.widths[0]}–{cfg.widths[-1]})."
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
        return float(i)

    def step(self, n_steps: int | None = None) -> bool:
        return super().step(1)

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
            self._targets[key] = W.nngp_kernel(
                cfg.inputs,
                activation=cfg.activation,
                n_hidden=cfg.n_hidden,
                c_w=cfg.c_w,
                c_b=cfg.c_b,
                readout_bias=cfg.readout_bias,
                first_layer=first,
                weight_law=cfg.layer_laws[0],
                t_dof=cfg.t_dof,
                gh_degree=gh,
            )
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
            self._curves = sweep_curves(self, res)
            self._curves_key = key
        return self._curves

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

    # -------------------------------------------------------------- lindeberg
    def run_lindeberg(self) -> None:
        """Start the Lindeberg exchange at the width shown (background job)."""
        if self.config is None:
            return
        cfg, width = self.config, self.shown_width()
        order, mode = self.hybrid_order, self.first_layer_kernel
        self.lindeberg.start(
            lambda progress: lindeberg_study(
                replace(cfg, n_replicates=1),
                width,
                order=order,
                first_layer=mode,
                progress=progress,
            ),
            "Swapping layers",
        )

    def _maybe_start_lindeberg(self) -> None:
        cfg = self.config
        n = self.shown_width()
        work = cfg.n_nets * (n * n * (cfg.n_hidden - 1) + 4 * n) * (cfg.n_hidden + 2)
        if work <= AUTO_LINDEBERG_WEIGHTS and not self.lindeberg.running:
            self.run_lindeberg()

    def reset(self) -> None:
        super().reset()
        if self.result is None:
            self.status = "Sampling networks in the background: the plots fill in as they come."
        else:
            self.status = "Loaded from the cache: press Play to step through the widths."
