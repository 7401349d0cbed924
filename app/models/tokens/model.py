r"""Token synchronization: the state of the tab (spec ``models/tokens.md``).

Tokens on :math:`S^{d-1}` pass through a deep transformer whose MLP weights are random and
shared by all tokens (common noise); attention attracts (α>0) or repels (α<0). The model keeps
the current tokens, a strided history for the depth panels, and runs the ensemble study off the
event loop. Agazzi, Bruno, Mosig García, Saviozzi, Romito, arXiv:2604.26898.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import param

from app.models.base import SimulationModel
from app.models.jobs import BackgroundJob, ProgressFn
from kernels import tokens
from kernels.common.activations import ACTIVATIONS
from kernels.tokens import theory as token_theory

#: At most this many snapshots are kept per run (the stride grows with the horizon).
MAX_RECORDS = 400
ENERGY_KINDS = ("glpr", "mean_norm", "distance")
INITS = ("uniform", "hemisphere", "cap", "pair", "equiangular")
#: Bins of the similarity histogram on [-1, 1] (even, so |ρ| folds it exactly).
SIMILARITY_BINS = 40
HISTORY_FIELDS = (
    "t",
    "tokens",
    "diameter",
    "mean_norm",
    "clusters",
    "sync_fraction",
    "similarity",
)

TEACHING_DEFAULT = "Teaching default: noise alone synchronizes"


class TokensModel(SimulationModel):
    """Tokens of a deep transformer with common-noise random MLPs (spec §2–§3)."""

    speed = param.Integer(default=100, doc="Layers advanced per animation tick.")
    n_tokens = param.Integer(32, label="N tokens", bounds=(2, 256), doc="N: number of tokens.")
    dim = param.Selector(
        default=3,
        label="d dimension",
        objects=[2, 3, 4, 8, 16, 32, 64],
        doc="d: tokens live on the sphere S^(d-1).",
    )
    width = param.Integer(
        64,
        label="m MLP width",
        bounds=(1, 512),
        doc="m: MLP width. With fresh hidden weights the limit does not depend on m.",
    )
    sigma_noise = param.Number(
        2.0,
        label="σ_n noise strength",
        bounds=(0.0, 4.0),
        step=0.05,
        doc="σ_n: strength of the common noise (random MLPs).",
    )
    activation = param.Selector(
        default="relu",
        label="s activation",
        objects=list(ACTIVATIONS),
        doc="s: the MLP activation.",
    )
    sigma_w = param.Number(
        1.0, label="σ_w weight scale", bounds=(0.1, 3.0), step=0.05, doc="σ_w: hidden weight scale."
    )
    sigma_b = param.Number(
        0.0,
        label="σ_b bias scale",
        bounds=(0.0, 3.0),
        step=0.05,
        doc="σ_b: hidden bias scale (breaks odd symmetry).",
    )
    attn_kind = param.Selector(
        default="sa",
        label="Attention kind",
        objects=["sa", "usa"],
        doc="Attention: softmax (SA) or unnormalized (USA) self-attention, Q=K=V=I.",
    )
    attn_strength = param.Number(
        0.0,
        label="α attention strength",
        bounds=(-2.0, 2.0),
        step=0.05,
        doc="α: attention strength; α>0 attracts, α<0 repels, 0 switches attention off.",
    )
    beta = param.Number(
        1.0,
        label="β inverse temperature",
        bounds=(0.0, 10.0),
        step=0.1,
        doc="β: attention inverse temperature.",
    )
    dt = param.Number(
        5e-3,
        label="h layer step",
        bounds=(1e-3, 2e-2),
        step=1e-3,
        doc="h: layer step (depth L = T/h layers).",
    )
    t_max = param.Number(
        10.0,
        label="T horizon (depth)",
        bounds=(1.0, 40.0),
        step=0.5,
        doc="T: horizon (network depth).",
    )
    n_real = param.Integer(
        64,
        label="R realizations",
        bounds=(1, 1024),
        doc="R: realizations of the noise for the ensemble panel.",
    )
    rho0 = param.Number(
        0.9999,
        label="ρ₀ initial overlap",
        bounds=(-1.0, 1.0),
        step=1e-4,
        doc="ρ₀: initial overlap ⟨x_i,x_j⟩ for the pair and equiangular starts.",
    )
    init = param.Selector(
        label="Initial tokens", default="uniform", objects=list(INITS), doc="Initial token cloud."
    )
    energy_kind = param.Selector(
        default="glpr",
        label="Energy",
        objects=list(ENERGY_KINDS),
        doc="Interaction energy: (a) GLPR gap, (b) 1−|x̄|², (c) mean |x_i−x_j|^q.",
    )
    energy_q = param.Number(
        0.5,
        label="q energy exponent",
        bounds=(0.1, 2.0),
        step=0.05,
        doc="q: exponent of energy (c).",
    )
    noise_sharing = param.Selector(
        default="common",
        label="Noise sharing",
        objects=["common", "independent"],
        doc="Common: one random MLP per layer for all tokens. Independent: one per token.",
    )
    hidden_weights = param.Selector(
        default="fresh",
        label="Hidden weights",
        objects=["fresh", "fixed"],
        doc="Fresh: all MLP weights redrawn each layer. Fixed: B, b drawn once per run.",
    )
    splitting = param.Selector(
        default="lie_trotter",
        label="Splitting",
        objects=["lie_trotter", "strang"],
        doc="Lie–Trotter (attention then MLP) or Strang/Macaron (MLP/2, attention, MLP/2).",
    )
    manifold = param.Selector(
        default="sphere",
        label="Manifold",
        objects=["sphere", "euclidean"],
        doc="Sphere: normalize after each layer. Euclidean: no normalization (exploratory).",
    )

    restart_params = ("n_tokens", "dim", "init", "rho0", "hidden_weights", "manifold", "n_real")
    live_params = (
        "width",
        "sigma_noise",
        "activation",
        "sigma_w",
        "sigma_b",
        "attn_kind",
        "attn_strength",
        "beta",
        "dt",
        "t_max",
        "energy_kind",
        "energy_q",
        "noise_sharing",
        "splitting",
    )
    display_order = (
        "sigma_noise",
        "activation",
        "attn_strength",
        "attn_kind",
        "beta",
        "dim",
        "n_tokens",
        "width",
        "init",
        "dt",
        "t_max",
        "energy_kind",
        "sigma_w",
        "sigma_b",
        "noise_sharing",
        "hidden_weights",
        "splitting",
        "manifold",
        "n_real",
        "rho0",
        "energy_q",
    )
    advanced_params = (
        "sigma_w",
        "sigma_b",
        "n_real",
        "rho0",
        "energy_q",
        "noise_sharing",
        "hidden_weights",
        "splitting",
        "manifold",
    )
    presets = {
        TEACHING_DEFAULT: {"seed": 1},
        "Independent noise": {"noise_sharing": "independent"},
        "Odd activation: two antipodal clusters": {"activation": "tanh"},
        "Odd activation plus bias: one cluster": {
            "activation": "tanh",
            "sigma_w": 0.8,
            "sigma_b": 1.0,
            "sigma_noise": 1.5,
        },
        "Dimension decides: tanh never collapses": {
            "dim": 32,
            "n_tokens": 16,
            "sigma_noise": 1.0,
            "activation": "tanh",
        },
        "Dimension decides: sigmoid collapses": {
            "dim": 32,
            "n_tokens": 16,
            "sigma_noise": 1.0,
            "activation": "sigmoid",
        },
        "Repulsive attention beats weak noise": {
            "n_tokens": 16,
            "attn_strength": -0.5,
            "t_max": 20.0,
            "sigma_noise": 0.7,
        },
        "Strong noise beats repulsive attention": {
            "n_tokens": 16,
            "attn_strength": -0.5,
            "t_max": 20.0,
            "sigma_noise": 2.0,
        },
        "Mean vs median": {
            "n_tokens": 2,
            "init": "pair",
            "rho0": 0.9999,
            "sigma_noise": 1.0,
            "n_real": 1024,
            "width": 8,
            "t_max": 2.0,
        },
    }
    default_preset = TEACHING_DEFAULT
    divergence_hint = (
        "lower the noise strength σ_n or the layer step h (or switch back to the sphere), "
        "then reset"
    )

    def __init__(self, **params: Any) -> None:
        self.ensemble = BackgroundJob(name="ensemble")
        self.x = np.zeros((0, 0))
        super().__init__(**params)
        #: monotonic time of the last change that made the ensemble result stale (None: fresh)
        self.ensemble_stale_since: float | None = None
        display_only = {"energy_kind", "energy_q"}  # energies are recomputed from positions
        self.param.watch(
            self._clear_ensemble,
            [p for p in (*self.scientific_params(), "seed") if p not in display_only],
        )

    # ------------------------------------------------------------ simulation
    def kernel_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`kernels.tokens.simulate` from the live params."""
        return {
            "dt": self.dt,
            "sigma_noise": self.sigma_noise,
            "activation": self.activation,
            "width": self.width,
            "attn_kind": self.attn_kind,
            "attn_strength": self.attn_strength,
            "beta": self.beta,
            "sigma_w": self.sigma_w,
            "sigma_b": self.sigma_b,
            "noise_sharing": self.noise_sharing,
            "hidden_weights": self.hidden_weights,
            "splitting": self.splitting,
            "manifold": self.manifold,
        }

    def _initialize(self, rng: np.random.Generator) -> None:
        self.x, self.init_notice = _start_tokens(
            self.init, self.run_n_tokens, self.dim, rng, self.rho0
        )
        self._fixed = None
        if self.hidden_weights == "fixed":
            self._fixed = tokens.draw_fixed_weights(
                len(self.x), self.dim, self.width, rng, noise_sharing=self.noise_sharing
            )
        self.history: dict[str, list[Any]] = {name: [] for name in HISTORY_FIELDS}
        self._record(0.0)
        # projection for d > 3, fixed per seed so the picture is stable along the run
        proj_rng = np.random.default_rng([self.seed, 7])
        q, _ = np.linalg.qr(proj_rng.standard_normal((self.dim, 2)))
        self.projection = q

    @property
    def run_n_tokens(self) -> int:
        """Tokens actually simulated: the pair start always has two."""
        return 2 if self.init == "pair" else self.n_tokens

    @property
    def record_stride(self) -> int:
        """Layers between stored snapshots (history keeps ≤ :data:`MAX_RECORDS` frames)."""
        return max(1, int(np.ceil(self.t_max / self.dt / MAX_RECORDS)))

    def _steps_until_end(self) -> int:
        return round((self.t_max - self.t) / self.dt)

    def _advance(self, n_steps: int, rng: np.random.Generator) -> float:
        kwargs = self.kernel_kwargs()
        if self.hidden_weights == "fixed" and (
            self._fixed is None or self._fixed.B.shape[-2] != self.width
        ):
            # width is live; with fixed weights a new width needs new B, b (spec table)
            self._fixed = tokens.draw_fixed_weights(
                len(self.x), self.dim, self.width, rng, noise_sharing=self.noise_sharing
            )
        t = self.t
        done = 0
        stride = self.record_stride
        while done < n_steps and self._state_is_finite():
            to_record = stride - (self.n_steps_done + done) % stride
            chunk = min(to_record, n_steps - done)
            path = tokens.simulate(
                self.x, n_steps=chunk, stride=chunk, rng=rng, fixed_weights=self._fixed, **kwargs
            )
            self.x = path[-1]
            done += chunk
            t += chunk * self.dt
            if (self.n_steps_done + done) % stride == 0:
                self._record(t)
        return t

    def _record(self, t: float) -> None:
        """Store a snapshot and its diagnostics (computed once per snapshot, not per frame)."""
        x = self.x
        finite = bool(np.all(np.isfinite(x)))
        h = self.history
        h["t"].append(t)
        h["tokens"].append(x.copy())
        h["diameter"].append(tokens.diameter(x) if finite else np.nan)
        h["mean_norm"].append(tokens.mean_vector_norm(x) if finite else np.nan)
        clusters, sync_fraction = tokens.cluster_stats(x) if finite else (0, np.nan)
        h["clusters"].append(clusters)
        h["sync_fraction"].append(sync_fraction)
        h["similarity"].append(
            tokens.similarity_histogram(x[None], bins=SIMILARITY_BINS)[0]
            if finite
            else np.zeros(SIMILARITY_BINS)
        )

    def history_array(self, name: str) -> np.ndarray:
        """One recorded field as an array, first axis = snapshot."""
        return np.asarray(self.history[name])

    def _run_arrays(self) -> dict[str, np.ndarray]:
        arrays = {name: self.history_array(name) for name in HISTORY_FIELDS}
        arrays["energy"] = self.energy(arrays["tokens"])
        arrays["final_tokens"] = self.x
        return arrays

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"tokens": self.x}

    def energy(self, xs: np.ndarray) -> np.ndarray:
        """The selected interaction energy of token sets ``xs`` (..., N, d)."""
        return tokens.energy(xs, self.energy_kind, beta=self.beta, q=self.energy_q)

    # ---------------------------------------------------------------- theory
    def theory(self) -> dict[str, float]:
        """Analytic predictions at the current parameters (spec §6.2–6.3)."""
        common = dict(sigma_w=self.sigma_w, sigma_b=self.sigma_b)
        kappa1, kappa1_prime = tokens.activation_moments(self.activation, **common)
        attention = dict(attn_kind=self.attn_kind, attn_strength=self.attn_strength, beta=self.beta)
        return {
            "kappa1": kappa1,
            "kappa1_prime": kappa1_prime,
            "lambda_dist": tokens.lyapunov_exponent(
                self.activation, self.dim, sigma_noise=self.sigma_noise, **common, **attention
            ),
            "critical_dimension": token_theory.critical_dimension(self.activation, **common),
            "moment_threshold": token_theory.moment_threshold(
                self.activation, self.dim, sigma_noise=self.sigma_noise, **common, **attention
            ),
        }

    # -------------------------------------------------------------- ensemble
    def run_ensemble(self) -> None:
        """Simulate R realizations to the horizon off the event loop (panel 4)."""
        self.ensemble_stale_since = None
        args = dict(
            init=self.init,
            n_tokens=self.run_n_tokens,
            dim=self.dim,
            rho0=self.rho0,
            n_real=self.n_real,
            n_steps=max(1, round(self.t_max / self.dt)),
            seed=self.seed,
            kwargs=self.kernel_kwargs(),
        )
        self.ensemble.start(lambda progress: _ensemble(progress=progress, **args), "Simulating")

    def _clear_ensemble(self, *events: param.parameterized.Event) -> None:
        if self.ensemble.running:
            self.ensemble.cancel()
        # the previous result stays on screen (labelled stale) until the rerun replaces it:
        # blanking the panel on every change would cost a repaint for nothing
        self.ensemble.message = "Parameters changed: the plot is stale, rerunning…"
        self.ensemble_stale_since = time.monotonic()


def _ensemble(
    *,
    progress: ProgressFn,
    init: str,
    n_tokens: int,
    dim: int,
    rho0: float,
    n_real: int,
    n_steps: int,
    seed: int,
    kwargs: dict[str, Any],
) -> dict[str, np.ndarray]:
    """R independent runs from independent starts; positions every ``stride`` layers."""
    rng = np.random.default_rng([seed, 1])  # a stream distinct from the animated run's
    x0s = np.stack([_start_tokens(init, n_tokens, dim, rng, rho0)[0] for _ in range(n_real)])
    stride = max(1, n_steps // 200)
    # a cancel raises kernels.common.progress.Cancelled, which the BackgroundJob reports
    path = tokens.simulate_ensemble(
        x0s, n_steps=n_steps, stride=stride, rng=rng, progress=progress, **kwargs
    )
    t = np.arange(path.shape[0]) * stride * kwargs["dt"]
    return {"t": t, "x": path}


def _start_tokens(
    init: str, n_tokens: int, dim: int, rng: np.random.Generator, rho0: float
) -> tuple[np.ndarray, str]:
    """Initial tokens and a notice; a start that does not fit (e.g. equiangular with d ≤ N)
    falls back to a uniform cloud (the kernel validates before drawing, so the stream is
    the same either way)."""
    try:
        return tokens.initial_tokens(init, n_tokens, dim, rng, rho0=rho0), ""
    except ValueError as exc:
        return tokens.initial_tokens("uniform", n_tokens, dim, rng), (
            f"{exc} Started from a uniform cloud instead."
        )
