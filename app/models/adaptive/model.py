r"""Adaptive SGD: the state of the tab (spec ``models/adaptive.md``).

An ensemble of discrete optimizer runs (SGD, RMSprop, Adam) and the ensembles of the matching
continuous equations (ODE, SDE1, SME2), driven by the same Brownian increments, recomputed in
one call whenever a parameter changes; playing moves a time cursor through the stored frames.
Weak-error and scaling-rule studies run as background jobs; the "Weak order" preset's study is
computed once per process at start-up (:func:`warm_weak_study`), and a model asking for a
weak-error study this process has (or is computing) shows (or follows) it rather than computing
it again. Callisti, Romito, Triggiano, arXiv:2509.21614.

A run is computed in three parts (issue 14: the event loop never blocks): :meth:`plan_run`
reads the params and fits the run into its budget (cheap, on the caller's thread);
:func:`compute_run` simulates the plan (seconds at the largest sizes; touches no model state);
:meth:`AdaptiveModel.apply_run` shows the result. A throwaway model (tests, notebooks, the
sweeps) does all three at once when a parameter changes. A live view calls
:meth:`AdaptiveModel.compute_off_loop`: from then on :func:`compute_run` runs in the model's
``run_job`` on the job pool and the view hands each result to ``apply_run`` on its own loop;
meanwhile the previous run stays on screen, the status line shows the progress and Play waits
(the cursor stands still until the new run is shown, then plays on from its start, or from the
same frame after a change of a live parameter).
"""

from __future__ import annotations

import functools
import math
import threading
from typing import Any, ClassVar

import numpy as np
import param

from app.models import budget
from app.models.adaptive import costs, studies, summaries
from app.models.adaptive.params import (
    ORDERS,
    PLAY_UNITS,
    TEACHING_DEFAULT,
    WEAK_ORDER,
    AdaptiveParams,
)
from app.models.base import PLAYING, READY
from app.models.jobs import BackgroundJob, Cancelled, ProgressFn
from kernels import adaptive as ad
from kernels.adaptive.landscapes import DOUBLE_WELL_DEFAULTS, LINREG_C

__all__ = [
    "ORDERS",
    "TEACHING_DEFAULT",
    "AdaptiveModel",
    "LiveAdaptiveModel",
    "compute_run",
    "warm_weak_study",
]

#: Stored frames per run (the record stride grows with the number of steps).
MAX_FRAMES = 200
#: Path-substeps per leg and redraw above which the redraw is thinned (about 0.3 s).
WORK_BUDGET = 3 * 10**7
#: A run has settled (:meth:`AdaptiveModel.has_settled`) once the noise-free ODE's loss stays
#: below this fraction of the chain's noise floor and the chain's mean second moment stays
#: within this relative band of its late level.
SETTLED_ODE_FRACTION = 0.1
SETTLED_V_BAND = 0.1
#: Share of the run (its end) whose mean is the "late level" of a settling quantity.
LATE_SHARE = 0.25
#: The double well's split is decided (:meth:`AdaptiveModel.has_split`) once the share of
#: chain paths left of the barrier stays within this many (fractional) points of its final value.
SPLIT_BAND = 0.02
#: Status of a run recomputed after a change of a live parameter (without a budget notice).
RECOMPUTED = "Recomputed: chain and continuous ensembles, same noise."
#: Steps of the start state a live view shows before its first run arrives (the run's own
#: first steps: the same seed draws the same first normals).
START_STEPS = 2
#: The landscape grid's side and contour levels, and the 1-D density's bins, the views draw.
GRID_N, GRID_LEVELS, DENSITY_BINS = 90, 9, 60


class AdaptiveModel(AdaptiveParams):
    """Discrete adaptive optimizers next to their continuous equations (spec §2–§5)."""

    #: Hold a run whose params changed until a view takes runs off the loop
    #: (:meth:`compute_off_loop`) or :meth:`finish_run` asks for it; False: compute it at once.
    defer_runs: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        #: computes the runs of a live view (:meth:`compute_off_loop`) on the job pool
        self.run_job = BackgroundJob(name="adaptive_run")
        #: runs go to :attr:`run_job`; the view applies them (:meth:`apply_run`)
        self._off_loop = False
        #: the plan of the run awaited (None: the run shown is up to date)
        self._pending: dict[str, Any] | None = None
        self._plans = 0
        #: Step was pressed while the run was computed: step once it is shown
        self._step_when_shown = False
        self.weak_job = BackgroundJob(name="weak_error")
        self.scaling_job = BackgroundJob(name="scaling")
        for job in (self.weak_job, self.scaling_job):
            job.param.watch(self._keep_notice, ["result"])
        self.run: dict[str, Any] = {}
        #: counts the runs computed (a view redraws what it drew for an older one)
        self.run_serial = 0
        self.notice = ""
        #: play units of the cursor (PLAY_UNITS per run; see :meth:`_advance`)
        self._play_units = 0
        self._moving_cursor = False
        #: what is derived from the current run once (indicator frames, densities), lazily
        self._per_run: dict[str, Any] = {}
        #: start the weak-error study at the next poll (its preset was chosen in a live view)
        self._weak_on_poll = False
        #: the shared job (:data:`.studies.WEAK_STUDIES`) :attr:`weak_job` follows, and its
        #: watcher; the lock keeps following and starting a study of one's own apart
        self._weak_source: tuple[BackgroundJob, Any] | None = None
        self._weak_lock = threading.RLock()
        super().__init__(**params)
        self.param.watch(
            self._recompute, [p for p in self.live_params if p not in self.study_only_params]
        )
        self.param.watch(self._on_time_index, ["time_index"])
        #: the scaling study follows its params: stale on a change, rerun once they rest
        self.scaling_study = self.rerun_when_idle(
            self.scaling_job, self._start_scaling, watch=self.scaling_params
        )
        self.param.watch(self._on_preset_story, ["preset"])
        self._on_preset_story()

    # ------------------------------------------------------------ parameters
    @property
    def tau(self) -> float:
        return 2.0**self.log2_tau

    @property
    def eps(self) -> float:
        return 10.0**self.log10_eps

    def hessian(self) -> np.ndarray:
        """A with the off-diagonal clamped so that A stays positive definite."""
        lim = 0.95 * math.sqrt(self.a11 * self.a22)
        return np.array(
            [[self.a11, np.clip(self.a12, -lim, lim)], [np.clip(self.a12, -lim, lim), self.a22]]
        )

    def effective(self) -> dict[str, Any]:
        """Parameters actually simulated, with notices for clamped ones."""
        notes = []
        optimizer, regime = self.optimizer, self.regime
        if optimizer == "sgd" and regime != "ballistic":
            regime = "ballistic"
            notes.append("SGD runs in the ballistic regime only.")
        tau = self.tau
        c1, c2 = self.c1, self.c2
        cmax = 1.0 / tau
        if max(c1, c2) > cmax:
            notes.append(f"c·τ ≤ 1 needed: c clamped to {cmax:.3g}.")
            c1, c2 = min(c1, cmax), min(c2, cmax)
        order = self.sde_order
        if (
            order == "sme2"
            and regime == "batch_equivalent"
            and (optimizer == "adam" or self.landscape != "quadratic")
        ):
            order = "sde1"
            notes.append(
                "SME2 is not available here (batch-equivalent Adam, or state-dependent "
                "noise): showing SDE1."
            )
        if abs(self.a12) > 0.95 * math.sqrt(self.a11 * self.a22):
            notes.append("A12 clamped so that A stays positive definite.")
        dim = 1 if self.landscape == "double_well" else 2
        theta0 = [self.theta0_x] if dim == 1 else [self.theta0_x, self.theta0_y]
        return dict(
            optimizer=optimizer,
            regime=regime,
            tau=tau,
            c1=c1,
            c2=c2,
            order=order,
            theta0=theta0,
            notes=notes,
        )

    def sim_options(self, e: dict[str, Any]) -> dict[str, Any]:
        opts = dict(
            c1=e["c1"],
            c2=e["c2"],
            eps=self.eps,
            noise_std=self.sigma,
            v0=self.v0,
            w2=self.w2,
            v_order=self.v_order,
            d_prime=self.d_prime,
            b1_coeffs=self.b1_coeffs,
            v_floor=self.v_floor_tau * e["tau"],
        )
        if self.landscape == "quadratic":
            opts.update(A=self.hessian(), gradient_noise=self.gradient_noise)
        if self.landscape == "double_well":
            opts.update(noise_level=self.noise_level)
        return opts

    def orders_available(self, e: dict[str, Any]) -> tuple[str, ...]:
        sme2_ok = e["regime"] == "ballistic" or (
            e["optimizer"] == "rmsprop" and self.landscape == "quadratic"
        )
        return ("ode", "sde1", "sme2") if sme2_ok else ("ode", "sde1")

    # ------------------------------------------------------------ simulation
    def _initialize(self, rng: np.random.Generator) -> None:
        """Nothing: :meth:`reset` requests the run once the base class has reset the clock (the
        run draws from its own generator, seeded with :attr:`seed`)."""

    def reset(self) -> None:
        super().reset()
        self._request_run(fresh=True)

    def _recompute(self, *events: param.parameterized.Event) -> None:
        if not self._applying_preset:
            self._request_run(fresh=False)

    def _request_run(self, fresh: bool) -> None:
        """A run for the current params: computed and shown now (a throwaway model), handed to
        :attr:`run_job` (a live view's), or held (:attr:`defer_runs`, no view yet). ``fresh``
        starts the cursor at 0; otherwise it stays on its frame (a pending fresh run stays
        fresh)."""
        keep = not fresh and (self._pending is None or self._pending["keep_cursor"])
        self._plans += 1
        self._pending = self.plan_run(keep_cursor=keep, token=self._plans)
        if self._off_loop:
            self._start_run_job()
        elif not self.defer_runs:
            self.finish_run()

    def plan_run(self, keep_cursor: bool = False, token: int = 0) -> dict[str, Any]:
        """Everything :func:`compute_run` needs, read from the params now: the effective
        parameters (with ε, σ, the landscape and A, which the panels read from the run), the
        orders drawn, steps, record stride, paths and substeps within the budget (with a notice
        for each cut), the seed. Cheap (no simulation): a view calls it on its event loop.

        Parameters
        ----------
        keep_cursor : bool
            Show the run at the cursor's frame (a live parameter changed); False: from t = 0.
        token : int
            Which request this is: :meth:`apply_run` shows only the run of the latest one.

        Returns
        -------
        dict
            ``token, keep_cursor, seed, effective, orders, landscape, n_sub, t_max, n_paths,
            record_every, options`` (the kernel's keyword options), ``gradient_noise, v0``.
        """
        e = self.effective()
        e.update(eps=self.eps, sigma=self.sigma, landscape=self.landscape, A=self.hessian())
        n_steps = max(2, round(self.t_final / e["tau"]))
        rec_every = max(1, math.ceil(n_steps / MAX_FRAMES))
        orders = self.orders_available(e)
        n_sub = self.n_sub
        work = n_steps * self.n_paths * len(orders)
        if work * n_sub > WORK_BUDGET:  # keep a redraw interactive (≲ 1 s on one core)
            orders = tuple(dict.fromkeys(("ode", e["order"])))
            n_sub = max(1, min(n_sub, WORK_BUDGET // (n_steps * self.n_paths * len(orders))))
            e["notes"].append(
                f"Large run: only the ODE and {e['order']} are drawn, with {n_sub} EM "
                "substep(s) per step; lower N paths or T for the full comparison."
            )
        rec_every, n_paths, n_sub, notes = self._run_budget(e, orders, n_steps, n_sub, rec_every)
        e["notes"].extend(notes)
        return dict(
            token=token,
            keep_cursor=keep_cursor,
            seed=self.seed,
            effective=e,
            orders=orders,
            landscape=self.landscape,
            n_sub=n_sub,
            t_max=max(self.t_final, 2 * e["tau"]),
            n_paths=n_paths,
            record_every=rec_every,
            options=self.sim_options(e),
            gradient_noise=self.gradient_noise,
            v0=self.v0,
        )

    def finish_run(self) -> None:
        """Compute the awaited run here and now and show it (a throwaway model at every change;
        a :class:`LiveAdaptiveModel` without a view when asked, e.g. by :meth:`step`)."""
        if self._pending is not None:
            self.apply_run(compute_run(self._pending))

    def compute_off_loop(self) -> None:
        """From now on compute every run in :attr:`run_job` (the caller hands each result to
        :meth:`apply_run` on its loop, and calls :meth:`show_run_progress` when the job reports).
        An awaited run starts now; a model without any run yet shows the start state of the
        awaited one meanwhile: its first :data:`START_STEPS` steps (a few milliseconds)."""
        self._off_loop = True
        plan = self._pending
        if plan is None:
            return
        if not self.run:
            start = dict(plan, t_max=START_STEPS * plan["effective"]["tau"], record_every=1)
            self._show(compute_run(start), 0)
            self._bump_frame()
        self._start_run_job()

    def _start_run_job(self) -> None:
        plan = self._pending
        work = functools.partial(compute_run, plan, derived=True)
        self.run_job.start(work, label="Computing the run")
        self.status = self._computing_status(0.0)

    def _computing_status(self, fraction: float) -> str:
        plan = self._pending
        n_steps = round(plan["t_max"] / plan["effective"]["tau"])
        return (
            f"Computing the run ({plan['n_paths']} paths × {n_steps} steps): "
            f"{100 * fraction:.0f} %. Play waits for it."
        )

    def show_run_progress(self) -> None:
        """The status line while :attr:`run_job` computes (a view calls this on its loop when
        the job reports); a failed or stopped run leaves the previous one on screen, saying
        why."""
        job = self.run_job
        if self._pending is None or not self._off_loop:
            return
        if job.running:
            self.status = self._computing_status(job.progress)
        elif job.message != "Done.":  # failed, or stopped at the job deadline
            self._pending = None
            self.status = (
                f"The run could not be computed ({job.error or job.message}); the previous run "
                "is shown."
            )

    @property
    def computing(self) -> bool:
        """True while a run is awaited: the run shown is an older one (or the start state)."""
        return self._pending is not None

    def apply_run(self, run: dict[str, Any]) -> bool:
        """Show ``run`` (from :func:`compute_run`) if it is the run awaited: the cursor at 0 (a
        fresh run) or on its frame, the divergence check, the status.

        Parameters
        ----------
        run : dict
            A result of :func:`compute_run`.

        Returns
        -------
        bool
            True if shown; False (nothing changes) for the run of a plan a newer one replaced.
        """
        plan = run["plan"]
        if self._pending is None or plan["token"] != self._pending["token"]:
            return False
        self._pending = None
        last = len(run["t"]) - 1
        self._show(run, min(self.time_index, last) if plan["keep_cursor"] else 0)
        self._check_divergence()
        if not self.diverged:
            fresh = PLAYING if self.playing else READY  # Play went on while it computed
            self.status = self.notice or (RECOMPUTED if plan["keep_cursor"] else fresh)
        self._bump_frame()
        if self._step_when_shown:
            self._step_when_shown = False
            self.step_frame()
        return True

    def _show(self, run: dict[str, Any], index: int) -> None:
        self.run = run
        self.theory = run["theory"]
        self.notice = " ".join(run["effective"]["notes"])
        self.param.time_index.bounds = (0, len(run["t"]) - 1)
        self._per_run = dict(run.get("derived", {}))
        self.run_serial += 1
        with param.edit_constant(self):
            self.t = float(run["t"][index])
        self.time_index = index
        self._play_units = self._units_at(index)  # the run may have a new number of frames

    def _run_budget(
        self, e: dict[str, Any], orders: tuple[str, ...], n_steps: int, n_sub: int, rec_every: int
    ) -> tuple[int, int, int, list[str]]:
        """Record stride, paths and EM substeps of the run within the budget (:mod:`.costs`):
        frames stored more sparsely if the history would exceed MAX_RUN_BYTES, then fewer paths
        (down to the control's lower bound), then fewer substeps, if the recompute would take
        longer than MAX_RUN_SECONDS; with a notice for each."""
        notes = []
        n_steps = max(n_steps, round(max(self.t_final, 2 * e["tau"]) / e["tau"]))
        opt, land = e["optimizer"], self.landscape

        def cost(rec: int, paths: int, sub: int) -> budget.Cost:
            return costs.run_cost(opt, land, orders, n_steps, sub, paths, rec, self.w2)

        rec_every, note = costs.frames_fitting(
            lambda rec: cost(rec, self.n_paths, n_sub), n_steps, rec_every
        )
        if note:
            notes.append(note)
        limits = dict(max_bytes=budget.MAX_RUN_BYTES, max_seconds=costs.MAX_RUN_SECONDS)
        fewest = min(self.n_paths, self.param.n_paths.bounds[0])
        try:
            n_paths, note = budget.largest_fitting(
                lambda paths: cost(rec_every, paths, n_sub), self.n_paths, fewest, **limits
            )
        except budget.OverBudget:  # the fewest paths are still too slow: fewer substeps next
            n_paths, note = fewest, ""
            if fewest < self.n_paths:
                note = f"{cost(rec_every, self.n_paths, n_sub).problem(**limits)} Scaled down "
                note += f"to {n_paths} (from {self.n_paths})."
        if note:
            notes.append(f"{note[:-1]} paths.")
        sub, note = budget.largest_fitting(
            lambda sub: cost(rec_every, n_paths, sub), n_sub, 1, **limits
        )
        if note:
            notes.append(f"{note[:-1]} EM substeps per step.")
        return rec_every, n_paths, sub, notes

    def _check_divergence(self) -> None:
        """Pause with a banner when the chain blows up (NaN, or |θ| beyond 10³·max(1, |θ0|))
        or, for SGD on a quadratic-type landscape, when η ≥ 2/λ_max (exact criterion)."""
        th = self.run["chain"]["theta"]
        e = self.run["effective"]
        scale = 1e3 * max(1.0, float(np.max(np.abs(e["theta0"]))))
        finite = bool(np.all(np.isfinite(th))) and float(np.max(np.abs(th))) < scale
        if e["optimizer"] == "sgd" and self.landscape != "double_well":
            finite = finite and e["tau"] < 2.0 / self.curvature()
        if not finite and not self.diverged:
            self._mark_diverged()
        elif finite and self.diverged:
            with param.edit_constant(self):
                self.diverged = False
            self.divergence_message = ""
            self.status = "Back to a stable step: the run recomputed."

    def _mark_diverged(self) -> None:
        super()._mark_diverged()
        e = self.run.get("effective") or self.effective()
        hp = self.hyperparameters(e)
        lam = self.curvature()
        v_star = hp["noise_std"] ** 2 * self.noise_scale_hat()
        limit = ad.stability_limit(e["optimizer"], lam, hp["eps"], v_star)
        rule = (
            "η < 2/λ_max"
            if e["optimizer"] == "sgd"
            else "η < 2(√v* + ε)/λ_max, v* ≈ Σ_d the stationary second moment"
        )
        self.divergence_message = (
            f"The discrete {e['optimizer']} chain diverged: learning rate η = {hp['lr']:.3g} "
            f"exceeds the stability limit {rule} ≈ {limit:.3g} (λ_max = {lam:.3g}). The run is "
            f"paused: {self.divergence_hint}."
        )

    def curvature(self) -> float:
        """Largest curvature of the landscape near its minima."""
        if self.landscape == "quadratic":
            return float(np.linalg.eigvalsh(self.hessian()).max())
        if self.landscape == "linreg":
            return float(np.linalg.eigvalsh(LINREG_C).max())
        x1, x2, _, _ = DOUBLE_WELL_DEFAULTS
        xs = np.linspace(x1, x2, 401)
        f = ad.loss_values("double_well", xs[:, None])
        return float(np.max(np.gradient(np.gradient(f, xs), xs)))

    def noise_scale_hat(self) -> float:
        """Typical per-sample gradient variance Σ̂_d at the minimum (for the stability limit)."""
        if self.landscape == "quadratic":
            a = self.hessian()
            return float(np.diag(a @ a.T if self.gradient_noise == "shifted" else np.eye(2)).min())
        return 0.16 if self.landscape == "linreg" else 1.0

    # ------------------------------------------------------------- playback
    # The run is computed whole; playing moves a cursor through its stored frames. The cursor
    # moves in play units, PLAY_UNITS per run and ``speed`` per animation frame, so every run
    # plays in PLAY_UNITS / speed frames whatever its number of stored frames (17 to about
    # 200): a frame is shown for several animation frames when the run has few of them.
    def _advance(self, n_steps: int, rng: np.random.Generator) -> float:
        self._play_units = min(PLAY_UNITS, self._play_units + n_steps)
        index = self._index_at(self._play_units)
        self._moving_cursor = True
        try:
            self.time_index = index
        finally:
            self._moving_cursor = False
        return float(self.run["t"][index])

    def _steps_until_end(self) -> int:
        return PLAY_UNITS - self._play_units

    def step(self, n_steps: int | None = None) -> bool:
        """Move the cursor (:meth:`_advance`). While a live view's run is computed nothing
        moves (False; Play stays on and plays the run once it is shown); a model holding a run
        without a view computes it first."""
        if self._pending is not None:
            if self._off_loop:
                return False
            self.finish_run()
        return super().step(n_steps)

    def step_frame(self) -> bool:
        """Show the next stored frame (the tab's Step button: a frame of play may not reach it
        on a run with few frames); False, with the horizon notice, at the end of the run.
        Pressed while a live view's run is computed, it steps once the run is shown (False
        now)."""
        if self._pending is not None and self._off_loop:
            self._step_when_shown = True
            return False
        last = len(self.run["t"]) - 1
        target = self._units_at(min(self.time_index + 1, last))
        return self.step(max(1, target - self._play_units))

    def _index_at(self, units: int) -> int:
        """The stored frame shown at ``units`` play units."""
        last = len(self.run["t"]) - 1
        return min(last, units * last // PLAY_UNITS)

    def _units_at(self, index: int) -> int:
        """The fewest play units at which the stored frame ``index`` is shown."""
        last = len(self.run["t"]) - 1
        return PLAY_UNITS if index >= last else -(-index * PLAY_UNITS // last)

    def _on_time_index(self, event: param.parameterized.Event) -> None:
        if not self.run:  # a held run never computed yet (LiveAdaptiveModel without a view)
            return
        if not self._moving_cursor:  # the scrubber: play on from the frame it shows
            self._play_units = self._units_at(event.new)
        with param.edit_constant(self):
            self.t = float(self.run["t"][event.new])
        if not self.playing:
            self._bump_frame()

    # ------------------------------------------------------- preset indicators
    def has_settled(self) -> bool:
        """The run has reached its stationary state at the cursor: the noise-free ODE has come
        down, for good, to a tenth of the chain's noise floor (the chain's mean loss over the
        last quarter of the run), and for RMSprop and Adam the chain's mean second moment stays
        within 10% of its late level from here on (the story of the teaching default, of both
        scaling-rule presets and of SGD)."""
        return self.time_index >= self._mark("settled", self._settled_index)

    def has_reached_valley(self) -> bool:
        """The chain's mean path has reached the valley floor of the quadratic: the gradient at
        the mean has no larger component along A's steep axis than along its shallow one (the
        authors' quadratic: the clouds cut across the contours, then turn along the valley)."""
        return self.time_index >= self._mark("valley", self._valley_index)

    def has_split(self) -> bool:
        """The double well's paths have split between the two wells for good: from the cursor
        on, the share of chain paths left of the barrier stays within 2 points of its final
        value."""
        return self.time_index >= self._mark("split", self._split_index)

    def _mark(self, name: str, compute: Any) -> int:
        return self._cached(name, lambda: int(compute()))

    def _cached(self, name: str, compute: Any) -> Any:
        """``compute()`` once per run (what the run's worker derived is already here)."""
        if name not in self._per_run:
            self._per_run[name] = compute()
        return self._per_run[name]

    def _settled_index(self) -> int:
        run = self.run
        n = len(run["t"])
        late = slice(min(n - 1, int((1 - LATE_SHARE) * n)), n)
        floor = float(np.nanmean(run["chain"]["loss"][late]))
        index = 0
        if "ode" in run:
            ode = run["ode"]["loss"][:, 0]
            index = max(index, _holds_from(ode <= SETTLED_ODE_FRACTION * floor))
        v = run["chain"]["v"]
        if v is not None and run["effective"]["optimizer"] != "sgd":
            ev = np.nanmean(v, axis=1)  # (frames, d)
            level = ev[late].mean(0)
            within = np.all(np.abs(ev - level) <= SETTLED_V_BAND * np.abs(level), axis=1)
            index = max(index, _holds_from(within))
        return index

    def _valley_index(self) -> int:
        theta = self.run["chain"]["theta"]
        e = self.run["effective"]
        if e["landscape"] != "quadratic" or theta.shape[2] != 2:
            return len(theta)
        _, vecs = np.linalg.eigh(e["A"])
        grad = np.nanmean(theta, axis=1) @ e["A"]  # A is symmetric
        steep, shallow = np.abs(grad @ vecs[:, -1]), np.abs(grad @ vecs[:, 0])
        reached = np.nonzero(steep <= shallow)[0]
        return int(reached[0]) if len(reached) else len(theta)

    def _split_index(self) -> int:
        theta = self.run["chain"]["theta"]
        if theta.shape[2] != 1:
            return len(theta)
        left = self.well_shares("chain")
        return _holds_from(np.abs(left - left[-1]) <= SPLIT_BAND)

    def well_shares(self, name: str) -> np.ndarray:
        """Share of the paths of ``name`` (``"chain"`` or an order) left of the double well's
        barrier at every stored frame."""
        barrier = double_well_points()[1]
        x = self.run[name]["theta"][:, :, 0]
        ok = np.isfinite(x)
        return np.sum((x < barrier) & ok, axis=1) / np.maximum(np.sum(ok, axis=1), 1)

    def _on_preset_story(self, *_: param.parameterized.Event) -> None:
        """A preset whose story is the weak-error study shows it at once if this process has
        it (the "Weak order" preset's is computed at start-up: :func:`warm_weak_study`);
        either way the next poll (a live view's tick; a throwaway model is never polled) asks
        again with the params then, which a link's overrides may have changed, and follows
        the job computing it or starts the study (:meth:`run_weak_error`)."""
        story = self.story()
        if story is None or story.panel != "weak":
            return
        self._weak_on_poll = True
        try:
            args, notice = studies.fit_weak_error(studies.weak_error_args(self))
        except budget.OverBudget:
            return  # refused at the poll, with the reason under the button
        self._weak_shared(args, notice, follow=False)

    def poll(self) -> None:
        super().poll()
        if not self._off_loop:  # a live session without a view: nobody else computes the run
            self.finish_run()
        if self._weak_on_poll and (not self.weak_job.running or self._weak_source is not None):
            self._weak_on_poll = False
            self.run_weak_error()

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"chain": self.run["chain"]["theta"][self.time_index]}

    def _run_arrays(self) -> dict[str, np.ndarray]:
        if not self._off_loop:
            self.finish_run()
        out: dict[str, np.ndarray] = {"t": self.run["t"]}
        for key in ("chain", *self.run["orders"]):
            out[f"{key}_loss_mean"] = self.run[key]["loss"].mean(1)
            out[f"{key}_theta"] = self.run[key]["theta"]
        return out

    # ------------------------------------------------------- what the panels show
    def hyperparameters(self, e: dict[str, Any] | None = None) -> dict[str, float]:
        """Discrete η, β1, β2, ε, noise std of the chain simulated with the effective
        parameters ``e`` (default: those of the current run), spec §2.3."""
        e = e or self.run.get("effective") or self.effective()
        eps, sigma = e.get("eps", self.eps), e.get("sigma", self.sigma)
        return ad.regime_hyperparameters(e["regime"], e["tau"], e["c1"], e["c2"], eps, sigma)

    def batch_size(self, e: dict[str, Any] | None = None) -> float:
        """Batch size B the noise scale stands for: σ = 1/√B (ballistic), σ0 = √(τ/B)."""
        e = e or self.run["effective"]
        sigma = e.get("sigma", self.sigma)
        if sigma <= 0:
            return math.inf
        return 1.0 / sigma**2 if e["regime"] == "ballistic" else e["tau"] / sigma**2

    def readout_values(self, index: int | None = None) -> dict[str, Any]:
        """The hero's readout at frame ``index`` (default: the cursor): time, η, β1, β2, B, the
        mean loss of the chain and of the drawn continuous order and, on the 1-D double well,
        the share of each left of the barrier (``chain_left``, ``order_left``)."""
        idx = self.time_index if index is None else index
        run = self.run
        e = run["effective"]
        hp = self.hyperparameters(e)
        out = {
            "t": float(run["t"][idx]),
            "lr": hp["lr"],
            "beta1": hp["beta1"],
            "beta2": hp["beta2"],
            "batch": self.batch_size(e),
            "order": e["order"],
            "chain_loss": float(np.nanmean(run["chain"]["loss"][idx])),
            "order_loss": float(np.nanmean(run[e["order"]]["loss"][idx])),
        }
        if run["chain"]["theta"].shape[2] == 1:
            out["chain_left"] = float(self.well_shares("chain")[idx])
            out["order_left"] = float(self.well_shares(e["order"])[idx])
        return out

    def landscape_grid(
        self, n: int = GRID_N, n_levels: int = GRID_LEVELS
    ) -> dict[str, np.ndarray] | None:
        """The loss on an n × n grid around the run's paths (:func:`run_landscape_grid`),
        cached per run (a live view's run brings it from the worker)."""
        return self._cached(
            _grid_key(n, n_levels), lambda: run_landscape_grid(self.run, n, n_levels)
        )

    def mean_path(self, name: str, index: int | None = None) -> np.ndarray:
        """Mean over paths of θ of ``name`` (``"chain"`` or an order) up to frame ``index``:
        (index + 1, d)."""
        idx = self.time_index if index is None else index
        return np.nanmean(self.run[name]["theta"][: idx + 1], axis=1)

    def cloud_ellipse(
        self, name: str, index: int | None = None, scale: float = 2.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``scale``-σ covariance ellipse of the cloud ``name`` at frame ``index`` (default:
        the cursor; 2σ holds about 86% of a Gaussian cloud), 2-D landscapes."""
        idx = self.time_index if index is None else index
        return summaries.covariance_ellipse(self.run[name]["theta"][idx], scale=scale)

    def density_over_time(self, name: str, n_bins: int = DENSITY_BINS) -> dict[str, Any]:
        """Where the 1-D paths of ``name`` are at each stored frame
        (:func:`app.models.adaptive.summaries.density_over_time`), cached per run."""
        return self._cached(
            _density_key(name, n_bins),
            lambda: summaries.density_over_time(self.run[name]["theta"][:, :, 0], n_bins),
        )

    def moments(self, key: str) -> dict[str, Any] | None:
        """Loss mean and 10–90% band over time, and E v_t per coordinate (or None), of the
        chain or an order ``key``; None if the run has no such key."""
        return self._cached(f"moments:{key}", lambda: run_moments(self.run, key))

    def final_distribution(self, index: int | None = None) -> dict[str, Any]:
        """Densities of θ₁ at frame ``index`` for the chain, SDE1 and SME2 (those in the run)
        on common bins, and the deterministic ODE's θ₁ (NaN if not run)."""
        idx = self.time_index if index is None else index
        run = self.run
        samples = {k: run[k]["theta"][idx, :, 0] for k in ("chain", "sde1", "sme2") if k in run}
        out = summaries.densities(samples)
        out["ode"] = float(run["ode"]["theta"][idx, 0, 0]) if "ode" in run else np.nan
        return out

    def weak_error_curves(self, phi: int) -> dict[str, Any] | None:
        """The weak-error study's curves for test function ``phi`` (0: ‖θ‖², 1: ‖v‖², 2: f),
        with slope guides (:func:`app.models.adaptive.summaries.weak_error_curves`); None
        before the study has run."""
        res = self.weak_job.result
        return None if res is None else summaries.weak_error_curves(res, phi)

    # ---------------------------------------------------------------- studies
    def run_weak_error(self) -> None:
        """Weak error vs τ of ODE/SDE1/SME2 (with and without W2), off the event loop; within
        the job budget (:func:`.studies.fit_weak_error`: fewer paths, or refused). A study of
        the same arguments this process has is shown at once, one being computed for every
        session (:func:`warm_weak_study`) is followed: neither is computed again."""
        try:
            args, notice = studies.fit_weak_error(studies.weak_error_args(self))
        except budget.OverBudget as exc:
            self._refuse(self.weak_job, exc)
            return
        if self._weak_shared(args, notice):
            return
        label = f"Weak error vs τ ({notice})" if notice else "Weak error vs τ"
        with self._weak_lock:
            self._unfollow_weak()
            self.weak_job.start(lambda p: studies.weak_error(p, args, notice), label)

    def _weak_shared(self, args: dict[str, Any], notice: str, follow: bool = True) -> bool:
        """Show the kept weak-error study of ``args`` in :attr:`weak_job`, or (if ``follow``)
        follow the shared job computing it; False if this process has neither."""
        key = studies.weak_key(args)
        result = studies.WEAK_STUDIES.get(key)
        job = None if result is not None or not follow else studies.WEAK_STUDIES.job(key)
        if result is None and job is None:
            return False
        with self._weak_lock:
            following = self._weak_source is not None and self._weak_source[0] is job
            if job is not None and following and self.weak_job.running:
                return True  # following it already
            self._unfollow_weak()
            self.weak_job.cancel()  # a study of other arguments still going
            if result is not None:
                self._show_weak(result, notice, "Done (kept from an earlier run).")
                return True
            self.weak_job.param.update(
                running=True,
                progress=job.progress,
                error="",
                message=f"{job.message} (started with the server)",
            )
            watcher = job.param.watch(
                functools.partial(self._follow_weak, job, notice), ["running", "progress"]
            )
            self._weak_source = (job, watcher)
        if not job.running:  # it ended before the watcher was in place
            self._follow_weak(job, notice)
        return True

    def _follow_weak(self, job: BackgroundJob, notice: str, *_: Any) -> None:
        """Mirror the shared ``job``'s progress in :attr:`weak_job` and show its result when it
        is done (on the job's thread); a failed or stopped one leaves the study to start at
        the next poll. Stops following once :attr:`weak_job` was cancelled or restarted."""
        with self._weak_lock:
            if self._weak_source is None or self._weak_source[0] is not job:
                return
            if not self.weak_job.running:  # cancelled here (the Cancel button, a closed view)
                self._unfollow_weak()
                return
            if job.running:
                self.weak_job.progress = job.progress
                return
            self._unfollow_weak()
            if job.result is not None and job.message == "Done.":
                self._show_weak(job.result, notice, "Done.")
            else:
                self.weak_job.param.update(running=False, message=job.message, error=job.error)
                self._weak_on_poll = True

    def _unfollow_weak(self) -> None:
        if self._weak_source is not None:
            job, watcher = self._weak_source
            self._weak_source = None
            job.param.unwatch(watcher)

    def _show_weak(self, result: dict[str, Any], notice: str, message: str) -> None:
        """Show a finished weak-error study (a shared result: :attr:`weak_job` gets a copy
        with ``notice``) without a job of its own."""
        self.weak_job.param.update(
            result=studies.with_notice(result, notice),
            progress=1.0,
            running=False,
            error="",
            message=f"{message} {notice}".strip(),
        )

    def run_scaling(self) -> None:
        """Chain E f(θ_t) for κ = 1, 2, …, κ max under the scaling rule, off the event loop
        (now; the study also reruns by itself once its params rest after a change)."""
        self.scaling_study.run()

    def _start_scaling(self) -> None:
        try:
            args, notice = studies.fit_scaling(studies.scaling_args(self))
        except budget.OverBudget as exc:
            self._refuse(self.scaling_job, exc)
            return
        label = f"Scaling-rule runs ({notice})" if notice else "Scaling-rule runs"
        self.scaling_job.start(lambda p: studies.scaling(p, args, notice), label)

    @staticmethod
    def _refuse(job: BackgroundJob, exc: budget.OverBudget) -> None:
        """A study over budget even at its smallest size: not started, the reason shown."""
        job.cancel()
        job.param.update(running=False, progress=0.0, error=str(exc), message="Refused.")

    @staticmethod
    def _keep_notice(event: param.parameterized.Event) -> None:
        """A finished study's budget notice stays under its button (the job writes "Done.")."""
        job, result = event.obj, event.new
        if isinstance(result, dict) and result.get("notice") and job.message == "Done.":
            job.message = f"Done. {result['notice']}"


class LiveAdaptiveModel(AdaptiveModel):
    """The model of a live view (:class:`app.tabs.adaptive.tab.AdaptiveTab`): it computes no
    run until its view takes runs off the event loop (:meth:`~AdaptiveModel.compute_off_loop`),
    so the params of a link, applied before the view exists, cost the loop nothing; without a
    view, :meth:`~AdaptiveModel.step`, :meth:`~AdaptiveModel.poll` or an export compute the
    held run first (the same numbers as :class:`AdaptiveModel`)."""

    defer_runs = True


def warm_weak_study() -> BackgroundJob | None:
    """Start the "Weak order" preset's weak-error study (its parameters, the default seed) into
    :data:`.studies.WEAK_STUDIES`, once per process: the Adaptive SGD tab calls this when it
    is built, and the server builds every tab once at start-up, so a session choosing the
    preset shows the study at once (or follows its progress) instead of computing it.

    The study is written to the disk cache when done, so later starts of the same installation
    read it instead of computing it (about 20 s of both cores).

    Returns
    -------
    BackgroundJob or None
        The start-up job; None if there was nothing to compute (kept already, read from the
        disk cache, or over budget).
    """

    def start() -> BackgroundJob | None:
        model = LiveAdaptiveModel(preset=WEAK_ORDER)  # a live model: no run is computed
        try:
            args, _ = studies.fit_weak_error(studies.weak_error_args(model))
        except budget.OverBudget:
            return None
        key = studies.weak_key(args)
        store = studies.WEAK_STUDIES
        if store.get(key) is not None or store.running(key) or store.load(key):
            return None  # kept, computing, or read from the disk cache of an earlier start
        return studies.start_weak_study(args, persist=True)

    return studies.WEAK_STUDIES.warm(start)


def compute_run(
    plan: dict[str, Any], progress: ProgressFn | None = None, derived: bool = False
) -> dict[str, Any]:
    """Simulate the plan of :meth:`AdaptiveModel.plan_run`: the coupled chain and continuous
    ensembles (:func:`kernels.adaptive.simulate_coupled`) and the exact moments. Touches no
    model state (safe on a worker thread).

    Parameters
    ----------
    plan : dict
        From :meth:`AdaptiveModel.plan_run`.
    progress : callable, optional
        ``progress(fraction) -> bool``; False stops the run (:class:`Cancelled`).
    derived : bool
        Also derive what a view draws of the whole run (``derived``: the landscape grid, the
        loss bands, the 1-D density; a third of a second at the largest sizes), so that
        showing the run costs its event loop little.

    Returns
    -------
    dict
        The kernel's run with ``effective``, ``orders``, ``rec_every``, ``theory`` (see
        :func:`run_theory`), the ``plan`` it came from and, if asked, ``derived``.
    """
    if progress is not None and progress(0.0) is False:
        raise Cancelled()  # replaced while it waited for a worker
    e = plan["effective"]
    run = ad.simulate_coupled(
        e["optimizer"],
        regime=e["regime"],
        orders=plan["orders"],
        landscape=plan["landscape"],
        theta0=e["theta0"],
        tau=e["tau"],
        n_sub=plan["n_sub"],
        t_max=plan["t_max"],
        n_paths=plan["n_paths"],
        rng=np.random.default_rng(plan["seed"]),
        record_every=plan["record_every"],
        progress=progress,
        **plan["options"],
    )
    run.update(effective=e, orders=plan["orders"], rec_every=plan["record_every"], plan=plan)
    run["theory"] = run_theory(plan, run)
    if derived:
        run["derived"] = run_derived(run)
    return run


def run_derived(run: dict[str, Any]) -> dict[str, Any]:
    """What the views draw of the whole run, keyed as :class:`AdaptiveModel` caches it: the
    default landscape grid, every ensemble's loss band, the chain's 1-D density."""
    out: dict[str, Any] = {_grid_key(GRID_N, GRID_LEVELS): run_landscape_grid(run)}
    out.update({f"moments:{key}": run_moments(run, key) for key in ("chain", *run["orders"])})
    if run["chain"]["theta"].shape[2] == 1:
        x = run["chain"]["theta"][:, :, 0]
        out[_density_key("chain", DENSITY_BINS)] = summaries.density_over_time(x, DENSITY_BINS)
    return out


def _grid_key(n: int, n_levels: int) -> str:
    return f"grid:{n}:{n_levels}"


def _density_key(name: str, n_bins: int) -> str:
    return f"density:{name}:{n_bins}"


def run_moments(run: dict[str, Any], key: str) -> dict[str, Any] | None:
    """Loss mean and 10–90% band over time, and E v_t per coordinate (or None), of the chain
    or an order ``key`` of ``run``; None if the run has no such key."""
    if key not in run:
        return None
    res = run[key]
    mean, lo, hi = summaries.loss_band(res["loss"])
    v = res["v"]
    return {"mean": mean, "lo": lo, "hi": hi, "v": None if v is None else np.nanmean(v, 1)}


def run_landscape_grid(
    run: dict[str, Any], n: int = GRID_N, n_levels: int = GRID_LEVELS
) -> dict[str, np.ndarray] | None:
    """The loss on an n × n grid around the paths of ``run`` (0.5–99.5% of the chain and the
    drawn order, padded) with ``n_levels`` contour levels; None on 1-D landscapes.

    Returns ``{"x": (n,), "y": (n,), "f": (n, n), "levels": (n_levels,)}``.
    """
    if run["chain"]["theta"].shape[2] == 1:
        return None
    e = run["effective"]
    th = np.concatenate([run["chain"]["theta"], run[e["order"]]["theta"]], 1)
    finite = th[np.all(np.isfinite(th), axis=2)]
    if len(finite):
        lo = np.percentile(finite, 0.5, axis=0)
        hi = np.percentile(finite, 99.5, axis=0)
    else:
        lo, hi = np.array([-3.0, -3.0]), np.array([3.0, 3.0])
    pad = 0.15 * (hi - lo) + 0.2
    lo, hi = lo - pad, hi + pad
    xs = np.linspace(lo[0], hi[0], n)
    ys = np.linspace(lo[1], hi[1], n)
    gx, gy = np.meshgrid(xs, ys)
    kw = {"A": e["A"]} if e["landscape"] == "quadratic" else {}
    f = ad.loss_values(e["landscape"], np.stack([gx, gy], -1), **kw)
    levels = np.quantile(f, np.linspace(0.02, 0.9, n_levels))
    return {"x": xs, "y": ys, "f": f, "levels": levels}


def run_theory(plan: dict[str, Any], run: dict[str, Any]) -> dict[str, np.ndarray]:
    """Exact moment recursions for SGD on the quadratic (spec §6.1), u(t) for RMSprop in the
    batch-equivalent regime, at the run's stored times."""
    out: dict[str, np.ndarray] = {}
    t = run["t"]
    e = plan["effective"]
    if plan["landscape"] == "quadratic":
        a = e["A"]
        s = e["sigma"] ** 2 * (a @ a.T if plan["gradient_noise"] == "shifted" else np.eye(2))
        if e["optimizer"] == "sgd":
            rec = ad.sgd_moments(a, s, e["theta0"], e["tau"], run["n_steps"])
            out["chain_loss"] = rec["loss"][:: run["rec_every"]][: len(t)]
            out["sde_loss"] = ad.sgd_sde_moments(a, s, e["theta0"], e["tau"], t, order=e["order"])[
                "loss"
            ]
        elif e["regime"] == "batch_equivalent":
            out["u"] = ad.batch_equivalent_u(t[:, None], np.diag(s)[None], plan["v0"], e["c2"])
    return out


def _holds_from(condition: np.ndarray) -> int:
    """The first index from which ``condition`` holds to the end (its length if it fails at
    the end)."""
    failing = np.nonzero(~np.asarray(condition, dtype=bool))[0]
    return 0 if len(failing) == 0 else int(failing[-1]) + 1


@functools.cache
def double_well_points() -> tuple[float, float, float]:
    """The double well's left minimum, barrier and right minimum (the loss f = ½(f1 + f2) does
    not depend on the noise level α)."""
    x1, x2, _, _ = DOUBLE_WELL_DEFAULTS
    xs = np.linspace(x1 - 1.0, x2, 6001)
    f = ad.loss_values("double_well", xs[:, None])
    inner = np.nonzero((f[1:-1] < f[:-2]) & (f[1:-1] < f[2:]))[0] + 1
    left, right = int(inner[0]), int(inner[-1])
    barrier = left + int(np.argmax(f[left : right + 1]))
    return float(xs[left]), float(xs[barrier]), float(xs[right])
