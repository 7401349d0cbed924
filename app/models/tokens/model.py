r"""Token synchronization: the behaviour of the tab (spec ``models/tokens.md``).

Tokens on :math:`S^{d-1}` pass through a deep transformer whose MLP weights are random and
shared by all tokens (common noise); attention attracts (α>0) or repels (α<0). The model keeps
the current tokens and a strided history for the depth panels, computes every number the
panels show (fits, ensemble statistics, kernel curves, phase diagrams) and runs three studies
off the event loop: the ensemble (rerun by itself once the parameters rest), the strong error
and the variance decomposition (on request). Agazzi, Bruno, Mosig García, Saviozzi, Romito,
arXiv:2604.26898.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Any, ClassVar, TypeVar

import numpy as np

from app.models import budget
from app.models.jobs import BackgroundJob, ProgressFn
from app.models.tokens import costs, readouts, studies
from app.models.tokens.params import (
    ACTIVATION_NAMES,
    ENERGY_KINDS,
    INITS,
    TEACHING_DEFAULT,
    TokensParams,
)
from app.models.tokens.readouts import (
    DIAMETER_FLOOR,
    DiameterFit,
    EnsembleSummary,
    PhasePlane,
    StrongErrorCurves,
    VarianceCurves,
)
from kernels import tokens
from kernels.common.dual_kernel import dual_kernel
from kernels.tokens import theory as token_theory

__all__ = [
    "DIAMETER_FLOOR",
    "ENERGY_KINDS",
    "INITS",
    "MAX_RECORDS",
    "SIMILARITY_BINS",
    "TEACHING_DEFAULT",
    "DiameterFit",
    "EnsembleSummary",
    "PhasePlane",
    "StrongErrorCurves",
    "TokensModel",
    "VarianceCurves",
]

#: At most this many snapshots are kept per run (the stride grows with the horizon).
MAX_RECORDS = 400
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
#: Dimensions (columns) of the activation × dimension sign map.
PHASE_DIMS = (2, 3, 4, 8, 16, 32, 64)
#: The (σ_n², α) plane of the phase diagram and its grid.
PHASE_SIGMA2_MAX = 16.0
PHASE_ALPHA_RANGE = (-2.0, 2.0)
PHASE_GRID = (160, 120)
#: Overlaps at which the kernel curves are drawn.
KERNEL_RHO = np.linspace(-1.0, 1.0, 201)
#: Overlap above which a pair counts as synchronized (the hero's "pairs > 0.999" chip).
SYNC_OVERLAP = 0.999
#: A cloud at least this wide (some pair at overlap ≤ 0.5) is far from one cluster.
SPREAD_DIAMETER = 1.0

_T = TypeVar("_T")


class TokensModel(TokensParams):
    """Tokens of a deep transformer with common-noise random MLPs (spec §2–§3)."""

    #: The activation × dimension sign map's rows and columns.
    sign_map_activations: ClassVar[tuple[str, ...]] = ACTIVATION_NAMES
    sign_map_dims: ClassVar[tuple[int, ...]] = PHASE_DIMS

    def __init__(self, **params: Any) -> None:
        self.ensemble = BackgroundJob(name="ensemble")
        self.strong_error = BackgroundJob(name="strong_error")
        self.variance = BackgroundJob(name="variance")
        self.x = np.zeros((0, 0))
        self._cache: dict[str, tuple[Hashable, Any]] = {}
        #: (key, summary) of the last ensemble result its worker summarized, until the job
        #: delivers it (:meth:`ensemble_summary`)
        self._worker_summary: tuple[Hashable, EnsembleSummary] | None = None
        #: per job, the notice of its last budget decision: appended to "Done." when the work
        #: was scaled down; kept as the message when it was refused (a run it cancelled
        #: reports "Cancelled." later, which would hide why)
        self._job_notices: dict[str, str] = {}
        self._job_refusals: dict[str, str] = {}
        for job in (self.ensemble, self.strong_error, self.variance):
            job.param.watch(self._on_job_message, ["message"])
        #: notice of the animated run's budget (shown in the status)
        self.run_notice = ""
        self._max_records = MAX_RECORDS
        #: the run's energies so far (:meth:`run_energy`) and what they were computed for
        self._run_energy_key: tuple | None = None
        self._run_energies = np.empty(0)
        super().__init__(**params)
        #: the ensemble, kept in step with every param that changes its numbers
        self.ensemble_study = self.rerun_when_idle(
            self.ensemble,
            self._start_ensemble,
            watch=[p for p in (*self.scientific_params(), "seed") if p not in self.display_params],
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
        self._budget_history()
        self.x, self.init_notice = studies.start_tokens(
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
        return max(1, int(np.ceil(self.t_max / self.dt / self._max_records)))

    # ---------------------------------------------------------------- budget
    def _budget_history(self) -> None:
        """Snapshots the history may keep within :data:`app.models.budget.MAX_RUN_BYTES`
        (:data:`MAX_RECORDS` whenever that fits: then nothing changes)."""
        kw, n, d = self.kernel_kwargs(), self.run_n_tokens, self.dim
        self._max_records, notice = budget.largest_fitting(
            lambda k: costs.run_cost(kw, n, d, k + 1, SIMILARITY_BINS),
            MAX_RECORDS,
            minimum=2,
            max_bytes=budget.MAX_RUN_BYTES,
            max_seconds=math.inf,
        )
        self.run_notice = f"{notice} (snapshots kept)" if notice else ""

    def tick_cost(self, steps: int) -> budget.Cost:
        """The cost of one animation tick of ``steps`` layers at the current params."""
        kw, n, d = self.kernel_kwargs(), self.run_n_tokens, self.dim
        return costs.tick_cost(kw, n, d, steps, self.record_stride)

    def steps_per_tick(self) -> tuple[int, str]:
        """Layers one animation tick may advance, and a notice: :attr:`speed`, or fewer when
        that would take more than :data:`app.models.tokens.costs.TICK_SECONDS`; 0 when even
        one layer is over budget (then the notice says why)."""
        limits = dict(max_bytes=budget.MAX_JOB_BYTES, max_seconds=costs.TICK_SECONDS)
        try:
            cap, notice = budget.largest_fitting(self.tick_cost, self.speed, 1, **limits)
        except budget.OverBudget:
            one = self.tick_cost(1)
            problem = (
                one.problem(**limits)
                if one.bytes > budget.MAX_JOB_BYTES
                else f"One layer would take about {one.seconds:.1f} s; the limit is "
                f"{costs.TICK_SECONDS:g} s per animation step."
            )
            return 0, (
                f"Not advanced: {problem} Lower N, d or m, or use common noise and Lie–Trotter."
            )
        if cap < self.speed:
            notice = (
                f"Speed capped at {cap} layers per step (from {self.speed}): the limit is "
                f"{costs.TICK_SECONDS:g} s per animation step."
            )
        return cap, notice

    def step(self, n_steps: int | None = None) -> bool:
        """Advance by ``n_steps``; an animation tick (no argument) advances :attr:`speed`
        layers, capped so that the tick stays within its budget, with a notice."""
        if n_steps is not None or self.diverged:
            return super().step(n_steps)
        cap, notice = self.steps_per_tick()
        if cap == 0:
            self.playing = False
            self.status = notice
            return False
        advanced = super().step(cap)
        if advanced and notice:
            self.status = notice
        return advanced

    def reset(self) -> None:
        super().reset()
        if self.run_notice:
            self.status = self.run_notice

    def _on_job_message(self, event: Any) -> None:
        name = event.obj.name
        notice, refusal = self._job_notices.get(name, ""), self._job_refusals.get(name, "")
        if notice and event.new == "Done.":
            event.obj.message = f"Done. {notice}"
        elif refusal and event.new == "Cancelled.":
            event.obj.message = refusal
        elif event.new != refusal:
            self._job_refusals[name] = ""  # a new start or a stale mark: the refusal is over

    def _start_budgeted(
        self,
        job: BackgroundJob,
        cost_of: Callable[[int], budget.Cost],
        n: int,
        minimum: int,
        start: Callable[[int], None],
        unit: str,
        clear: bool = False,
    ) -> bool:
        """Start ``start(m)`` with the largest ``m ≤ n`` whose cost fits (the job's message
        names the limit when ``m < n``), or refuse: no run, the message says why (``clear``: and
        the last result is dropped, as it belongs to other params)."""
        try:
            m, notice = budget.largest_fitting(cost_of, n, minimum)
        except budget.OverBudget as exc:
            self._job_notices[job.name] = ""
            self._job_refusals[job.name] = refusal = f"Not run: {exc}"
            job.cancel()
            job.param.update(running=False, progress=0.0, error="")
            if clear:
                job.result = None
            job.message = refusal
            return False
        notice = f"{notice[:-2]} {unit})." if notice else ""  # "(from n paths)."
        self._job_notices[job.name] = notice
        start(m)
        if notice and job.message.endswith("…"):  # still running: "Done." adds it at the end
            job.message = f"{job.message} {notice}"
        return True

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

    def run_energy(self) -> tuple[np.ndarray, np.ndarray]:
        """The selected energy of the animated run at its recorded depths: ``(t, energy)``,
        each (snapshots,), for the ensemble panel. Only snapshots added since the last call
        are evaluated (all of them after a reset or a change of the energy), so a panel
        redrawn every few frames costs one snapshot's energy, not the whole history's."""
        h = self.history
        key = (_Same(h["tokens"]), self.energy_kind, self.energy_q, self.beta)
        if self._run_energy_key != key:
            self._run_energy_key, self._run_energies = key, np.empty(0)
        done = len(self._run_energies)
        if done < len(h["tokens"]):
            new = self.energy(np.asarray(h["tokens"][done:]))
            self._run_energies = np.concatenate([self._run_energies, new])
        return self.history_array("t"), self._run_energies

    def energy(self, xs: np.ndarray) -> np.ndarray:
        """The selected interaction energy of token sets ``xs`` (..., N, d)."""
        return tokens.energy(xs, self.energy_kind, beta=self.beta, q=self.energy_q)

    # ------------------------------------------------------ story indicators
    # Each returns True once its preset's phenomenon has happened in the current run (the
    # preset's Story names it; tests/app/test_stories.py times it in frames). They read
    # the current tokens, not the strided history, so they fire on the layer it happens.
    def has_synchronized(self) -> bool:
        """Every pair of tokens has overlap ⟨xᵢ, xⱼ⟩ > :data:`SYNC_OVERLAP` (the GLPR
        statistic of the hero's chip at 100 %): one cluster."""
        return bool(np.all(self._pair_overlaps() > SYNC_OVERLAP))

    def has_antipodal_clusters(self) -> bool:
        """Every pair is synchronized or antipodal (|⟨xᵢ, xⱼ⟩| > :data:`SYNC_OVERLAP`) and
        some pair is antipodal: two clusters on opposite sides of the sphere."""
        rho = self._pair_overlaps()
        return bool(np.all(np.abs(rho) > SYNC_OVERLAP) and np.any(rho < -SYNC_OVERLAP))

    def has_stayed_spread(self) -> bool:
        """Half the depth is behind and the cloud is still wide (diameter ≥
        :data:`SPREAD_DIAMETER`, some pair at overlap ≤ 0.5): the preset's synchronizing
        twin has collapsed well before that depth."""
        return self.t >= 0.5 * self.t_max - 0.5 * self.dt and bool(
            tokens.diameter(self.x) >= SPREAD_DIAMETER
        )

    def has_mean_median_split(self) -> bool:
        """The ensemble is up to date and, at a depth the run has reached, its mean energy
        has risen by a factor e above its start while its median has fallen by a factor e:
        the heavy tail shows (spec §6.3)."""
        if self.ensemble.running or self.ensemble_study.stale:
            return False
        summary = self.ensemble_summary()
        if summary is None:
            return False
        mean, median = summary.stats["mean"], summary.stats["median"]
        reached = summary.t <= self.t + 0.5 * self.dt
        split = (mean >= math.e * mean[0]) & (median <= median[0] / math.e)
        return bool(np.any(split & reached))

    def _pair_overlaps(self) -> np.ndarray:
        """⟨xᵢ, xⱼ⟩ for the pairs i < j of the current tokens."""
        g = self.gram()
        return g[np.triu_indices(len(g), 1)]

    # ---------------------------------------------------------- diagnostics
    def gram(self) -> np.ndarray:
        """Gram matrix ⟨x_i, x_j⟩ of the current tokens, (N, N)."""
        return tokens.gram(self.x)

    def similarity_depth(self, absolute: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
        """Pair similarities against depth: ``(t (frames,), fraction (frames, bins), low)``.

        ``fraction[f, b]`` is the fraction of pairs in bin b of snapshot f; the bins span
        ``[low, 1]``: [-1, 1] for ρ, or [0, 1] for |ρ| (``absolute``: antipodal pairs folded
        onto their mirror bins).
        """
        t = self.history_array("t")
        frac = self.history_array("similarity")
        if not absolute:
            return t, frac, -1.0
        half = SIMILARITY_BINS // 2
        return t, frac[:, half:] + frac[:, :half][:, ::-1], 0.0

    def diameter_fit(self) -> DiameterFit:
        """The recorded diameter, its log slope fitted near synchronization and λ_dist
        (:func:`app.models.tokens.readouts.diameter_fit`)."""
        return readouts.diameter_fit(
            self.history_array("t"),
            self.history_array("diameter"),
            self.theory()["lambda_dist"],
        )

    # ---------------------------------------------------------------- theory
    def _theory_key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.theory_params)

    def _cached(self, name: str, key: Hashable, compute: Callable[[], _T]) -> _T:
        """``compute()``, reused while ``key`` stays the same (panels redraw often)."""
        hit = self._cache.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        value = compute()
        self._cache[name] = (key, value)
        return value

    def theory(self) -> dict[str, float]:
        """Analytic predictions at the current parameters (spec §6.2–6.3)."""
        return dict(self._cached("theory", self._theory_key(), self._compute_theory))

    def _compute_theory(self) -> dict[str, float]:
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

    def kernel_curves(self) -> dict[str, np.ndarray]:
        """The dual kernel κ(ρ) and the two-point drift b(ρ) and diffusion a(ρ) (spec §2).

        ``{"rho", "kappa", "b", "a"}``, each of shape (201,) over ρ ∈ [-1, 1].
        """
        return self._cached("kernel", self._theory_key(), self._compute_kernel_curves)

    def _compute_kernel_curves(self) -> dict[str, np.ndarray]:
        rho = KERNEL_RHO
        kappa = dual_kernel(self.activation, rho, sigma_w=self.sigma_w, sigma_b=self.sigma_b)
        b, a = token_theory.two_point_coefficients(
            rho,
            activation=self.activation,
            dim=self.dim,
            sigma_noise=self.sigma_noise,
            sigma_w=self.sigma_w,
            sigma_b=self.sigma_b,
        )
        return {"rho": rho, "kappa": kappa, "b": b, "a": a}

    def phase_plane(self) -> PhasePlane:
        """λ_dist over the (σ_n², α) plane and its zero line, at the other current params.

        λ_dist is linear in σ_n² and α: λ = σ_n² λ₁ − gain·α, with λ₁ its value at σ_n = 1,
        α = 0 and gain = α_eff/α (spec §6.2).
        """
        return self._cached("phase", self._theory_key(), self._compute_phase_plane)

    def _compute_phase_plane(self) -> PhasePlane:
        weights = dict(sigma_w=self.sigma_w, sigma_b=self.sigma_b)
        lambda_1 = tokens.lyapunov_exponent(self.activation, self.dim, sigma_noise=1.0, **weights)
        gain = token_theory.attention_effective_strength(self.attn_kind, 1.0, self.beta)
        s2 = np.linspace(0.0, PHASE_SIGMA2_MAX, PHASE_GRID[0])
        alpha = np.linspace(*PHASE_ALPHA_RANGE, PHASE_GRID[1])
        lam = s2[None, :] * lambda_1 - gain * alpha[:, None]
        line = token_theory.phase_line_alpha(
            np.sqrt(s2),
            self.activation,
            self.dim,
            attn_kind=self.attn_kind,
            beta=self.beta,
            **weights,
        )
        return PhasePlane(s2, alpha, lam, line)

    def sign_map(self) -> np.ndarray:
        """λ_dist (σ_n = 1, no attention) for every activation × dimension of the sign map,
        shape (len(:attr:`sign_map_activations`), len(:attr:`sign_map_dims`))."""
        return self._cached(
            "sign_map",
            (self.sigma_w, self.sigma_b),
            lambda: token_theory.sign_map(
                self.sign_map_activations,
                self.sign_map_dims,
                sigma_w=self.sigma_w,
                sigma_b=self.sigma_b,
            ),
        )

    # -------------------------------------------------------------- ensemble
    def run_ensemble(self) -> None:
        """Simulate R realizations to the horizon off the event loop (panel 4), now."""
        self.ensemble_study.run()

    def ensemble_cost(self, n_real: int | None = None) -> budget.Cost:
        """The ensemble's cost at the current params (with ``n_real`` realizations)."""
        return costs.ensemble_cost(
            self.kernel_kwargs(),
            self.n_real if n_real is None else n_real,
            self.run_n_tokens,
            self.dim,
            max(1, round(self.t_max / self.dt)),
            studies.ENSEMBLE_FRAMES,
        )

    def ensemble_args(self) -> dict[str, Any]:
        """The ensemble's arguments at the current params (:func:`studies.shared_ensemble`,
        with the number of realizations)."""
        return dict(
            init=self.init,
            n_tokens=self.run_n_tokens,
            dim=self.dim,
            rho0=self.rho0,
            n_steps=max(1, round(self.t_max / self.dt)),
            seed=self.seed,
            kwargs=self.kernel_kwargs(),
        )

    def _start_ensemble(self) -> None:
        args = self.ensemble_args()

        def start(n_real: int) -> None:
            self.ensemble.start(
                lambda progress: self._summarized_ensemble(progress, n_real, args),
                "Simulating",
            )

        self._start_budgeted(
            self.ensemble, self.ensemble_cost, self.n_real, 1, start, "realizations", clear=True
        )

    def energy_exponent(self) -> float:
        """p such that the selected energy scales like r^p near synchronization (spec §6.3)."""
        return self.energy_q / 2.0 if self.energy_kind == "distance" else 1.0

    def ensemble_summary(self) -> EnsembleSummary | None:
        """Statistics of the selected energy over the ensemble's realizations and the
        predicted mean and median rates (None before the first result)."""
        result = self.ensemble.result
        if result is None:
            return None
        key = self._ensemble_key(result)
        done = self._worker_summary
        if done is not None and done[0] == key:
            return self._cached("ensemble", key, lambda: done[1])
        return self._cached("ensemble", key, lambda: self._summarize_ensemble(result))

    def _ensemble_key(self, result: dict[str, np.ndarray]) -> tuple[Any, ...]:
        return (_Same(result), self.energy_kind, self.energy_q, self._theory_key())

    def _summarized_ensemble(
        self, progress: ProgressFn, n_real: int, args: dict[str, Any]
    ) -> dict[str, np.ndarray]:
        """The ensemble (:func:`studies.shared_ensemble`), its summary at the current
        parameters computed here in the job's worker and kept for :meth:`ensemble_summary`:
        otherwise every session computes it on the event loop when the result arrives (the
        energy of every pair of tokens in every frame of every run: 65 ms at the
        teaching default). Kept only if no parameter it depends on moved meanwhile, and
        apart from the summary of the result on show: a result the job drops (its seed moved
        on while it ran: a student pausing, moving the seed and playing) must not evict it,
        or the page's next redraw recomputes it on the loop (85-110 ms per move)."""
        result = studies.shared_ensemble(progress, n_real, **args)
        key = self._ensemble_key(result)
        summary = self._summarize_ensemble(result)
        if self._ensemble_key(result) == key:
            self._worker_summary = (key, summary)
        return result

    def _summarize_ensemble(self, result: dict[str, np.ndarray]) -> EnsembleSummary:
        p = self.energy_exponent()
        mean_rate = token_theory.moment_growth_rate(
            p,
            activation=self.activation,
            dim=self.dim,
            sigma_noise=self.sigma_noise,
            sigma_w=self.sigma_w,
            sigma_b=self.sigma_b,
            attn_kind=self.attn_kind,
            attn_strength=self.attn_strength,
            beta=self.beta,
        )
        lambda_r = 2.0 * self.theory()["lambda_dist"]
        energy = self.energy(result["x"])  # (frames, R)
        return readouts.ensemble_summary(result["t"], energy, p, lambda_r, float(mean_rate))

    # ------------------------------------------------------ advanced studies
    def _study_kwargs(self) -> dict[str, Any]:
        return dict(
            activation=self.activation,
            dim=self.dim,
            sigma_noise=self.sigma_noise,
            sigma_w=self.sigma_w,
            sigma_b=self.sigma_b,
            attn_kind=self.attn_kind,
            attn_strength=self.attn_strength,
            beta=self.beta,
        )

    def run_strong_error(self) -> None:
        """Start the strong-error study (spec §6.9) at the current params, off the loop;
        fewer paths when the full study is over budget."""
        kwargs = self._study_kwargs()
        args = dict(seed=self.seed, kwargs=kwargs)

        def start(n_paths: int) -> None:
            self.strong_error.start(
                lambda progress: studies.strong_error(progress=progress, n_paths=n_paths, **args),
                "Refining the layer step",
            )

        self._start_budgeted(
            self.strong_error,
            lambda n: costs.strong_error_cost(kwargs, self.dim, n),
            costs.STRONG_PATHS,
            2,
            start,
            "paths",
        )

    def run_variance(self) -> None:
        """Start the variance decomposition (spec §4 panel 7) at the current params; fewer
        token counts N (the largest dropped) when the full study is over budget."""
        kwargs = self._study_kwargs()
        args = dict(seed=self.seed, kwargs=kwargs)
        ns = costs.VARIANCE_N_TOKENS

        def start(k: int) -> None:
            self.variance.start(
                lambda progress: studies.variance(progress=progress, n_tokens_list=ns[:k], **args),
                "Sampling tokens and noise",
            )

        self._start_budgeted(
            self.variance,
            lambda k: costs.variance_cost(kwargs, self.dim, ns[:k]),
            len(ns),
            2,
            start,
            "token counts N",
        )

    def strong_error_curves(self) -> StrongErrorCurves | None:
        """The last strong-error result with its slope-1/2 reference (None before one)."""
        result = self.strong_error.result
        return None if result is None else readouts.strong_error_curves(result)

    def variance_curves(self) -> VarianceCurves | None:
        """The last variance result with its N^(-1/2) reference (None before one)."""
        result = self.variance.result
        return None if result is None else readouts.variance_curves(result)


class _Same:
    """A cache key part equal only to the same object (and keeping it alive, so its id is not
    reused by a later result)."""

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)
