r"""Swarm escapes: the state of the tab (spec ``models/swarm.md``).

A softmin-energy swarm descends :math:`J_\beta=\sum_i w_i f(x_i)`; next to it run "ghost"
baselines from the same start and, for Langevin and CBO, the same noise increments (common
random numbers): independent overdamped Langevin, CBO and PSO. Many-run studies (hitting times,
success rates, the Kramers plot, dual annealing) run as background jobs. Agazzi, Carlei,
Romito, Saviozzi, arXiv:2509.17815.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import param

from app.models.budget import (
    MAX_JOB_SECONDS,
    MAX_RUN_BYTES,
    Cost,
    OverBudget,
    check,
    largest_fitting,
)
from app.models.jobs import BackgroundJob, ProgressFn
from app.models.swarm import costs, outcomes
from app.models.swarm import studies as swarm_studies
from app.models.swarm.landscape import Landscape
from app.models.swarm.params import TEACHING_DEFAULT, SwarmControls
from kernels import swarm
from kernels.swarm.objectives import OBJECTIVES
from kernels.swarm.theory import (
    barrier_constant,
    double_well_points,
    effective_potential,
    schedule_curves,
    stability_number,
)

__all__ = ["GHOSTS", "TEACHING_DEFAULT", "SwarmModel"]

GHOSTS = ("langevin", "cbo", "pso")
#: Frames of positions kept for the trails.
TRAIL_FRAMES = 16
#: At most this many frames of history are kept (older ones are thinned by 2).
MAX_RECORDS = 4000
#: A particle counts as "at a wall" within this fraction of the box width (spec §4.7).
WALL_FRACTION = 0.025
#: Shortest horizon of the Kramers study (Langevin's exits must mostly happen within it).
KRAMERS_HORIZON = 200.0
#: Points of the 1-D cut through the best point on which the effective potential is drawn.
CUT_POINTS = 400
HISTORY_FIELDS = (
    "t",
    "best",
    "J",
    "min_f",
    "mean_f",
    "explorers",
    "at_wall",
    "clipped",
    "best_langevin",
    "best_cbo",
    "best_pso",
)


#: How far a study's no-hit worst-case estimate may exceed the job limit (see ``_fit``).
STUDY_ESTIMATE_FACTOR = 2.0


class SwarmModel(SwarmControls):
    """Softmin swarm and its ghost baselines on a 1-D or 2-D landscape (spec §2–§5)."""

    #: Fewest seconds between two re-contours of the dashed level set {f = J + 1/β} while
    #: playing: it moves slowly, and every frame it was one more data-source change for the
    #: browser to apply (the particles themselves move every frame).
    level_set_interval: ClassVar[float] = 0.15

    def __init__(self, **params: Any) -> None:
        self._landscape: Landscape | None = None
        self.study = BackgroundJob(name="hitting-time study")
        self.sweep = BackgroundJob(name="success sweep")
        self.kramers = BackgroundJob(name="Kramers study")
        #: the budget notice of each job's last start, repeated once it is done
        self._notices: dict[str, str] = {}
        for job in (self.study, self.sweep, self.kramers):
            job.param.watch(self._repeat_notice, ["result"])
        # presets set their own speed (SimulationModel.apply_preset): a watcher here that reset
        # the speed on every preset change also undid the user's speed on the switch to Custom
        super().__init__(**params)

    # ------------------------------------------------------------------ run
    @property
    def box(self) -> tuple[float, float]:
        info = OBJECTIVES[self.objective]
        return info.lo, info.hi

    @property
    def kappa(self) -> float:
        """The drift scale κ (N or 1)."""
        return outcomes.kappa_of(self.kappa_mode, self.n_particles)

    @property
    def effective_tilt(self) -> float:
        """The tilt a the landscape uses (0 unless f is the tilted double well)."""
        return self.tilt if self.objective == "tilted_double_well" else 0.0

    def kernel_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`kernels.swarm.make_params` from the live params."""
        return dict(
            dt=self.dt,
            beta_schedule=self.beta_schedule,
            beta0=self.beta0,
            beta_rate=self.beta_rate,
            beta_max=self.beta_max,
            sigma_schedule=self.sigma_schedule,
            sigma0=self.sigma0,
            kappa_mode=self.kappa_mode,
            boundary=self.boundary,
            tilt=self.effective_tilt,
            energy_form=self.energy_form,
            step_clip=self.step_clip,
            cbo_lambda=self.cbo_lambda,
            cbo_sigma=self.cbo_sigma,
            pso_w=self.pso_w,
            pso_c1=self.pso_c1,
            pso_c2=self.pso_c2,
        )

    def params_for(self, dim: int, n: int) -> swarm.SwarmParams:
        return swarm.make_params(self.objective, dim, n, **self.kernel_kwargs())

    def run_cost(self) -> Cost:
        """The recorded history of the animated run (bounded by MAX_RECORDS and TRAIL_FRAMES)."""
        return costs.run_cost(
            self.n_particles, self.dim, len(HISTORY_FIELDS), MAX_RECORDS, TRAIL_FRAMES
        )

    def _initialize(self, rng: np.random.Generator) -> None:
        check(self.run_cost(), max_bytes=MAX_RUN_BYTES)
        self.x0 = swarm.initial_cloud(
            self.init,
            self.n_particles,
            self.dim,
            self.objective,
            rng,
            self.init_spread,
            self.effective_tilt,
        )
        self.swarm = swarm.SwarmState(self.x0)
        self.ghosts = {m: swarm.SwarmState(self.x0) for m in GHOSTS}
        # PSO reads uniforms from its own stream: toggling it never shifts the shared normals
        self._pso_rng = np.random.default_rng([self.seed, 3])
        self.trail: list[np.ndarray] = [self.x0.copy()]
        self.history: dict[str, list[float]] = {k: [] for k in HISTORY_FIELDS}
        #: method -> time its first hit of the target happened (the step h may move live)
        self._hit_t: dict[str, float] = {}
        self._record()

    def tick_steps(self) -> tuple[int, str]:
        """Steps one animation frame advances: ``speed``, or fewer if those would take more
        than :data:`costs.MAX_TICK_SECONDS`; and a notice when capped."""

        def cost(k: int) -> Cost:
            return costs.tick_cost(self.objective, k, self.n_particles, self.dim)

        steps, _ = largest_fitting(cost, self.speed, max_seconds=costs.MAX_TICK_SECONDS)
        if steps == self.speed:
            return steps, ""
        return steps, (
            f"{self.speed} steps would take about {cost(self.speed).seconds:.2f} s per frame; "
            f"the limit is {costs.MAX_TICK_SECONDS:g} s. Capped at {steps} steps per frame."
        )

    def step(self, n_steps: int | None = None) -> bool:
        """Advance by ``n_steps`` (default: :attr:`speed`, capped by the frame budget)."""
        if n_steps is None:
            n_steps, notice = self.tick_steps()
            if notice:
                notice = f"Speed capped: {notice}"
                if self.status != notice:
                    self.status = notice
        return super().step(n_steps)

    def _steps_until_end(self) -> int:
        return max(0, round((self.t_max - self.t) / self.dt))

    def _advance(self, n_steps: int, rng: np.random.Generator) -> float:
        params = self.params_for(self.dim, self.n_particles)
        states = {"softmin": self.swarm, **self.ghosts}
        before = {m: (s.steps, s.t) for m, s in states.items()}
        normals = swarm.draw_noise(rng, "softmin", n_steps, self.n_particles, self.dim)
        swarm.advance(self.swarm, params, "softmin", normals)
        swarm.advance(self.ghosts["langevin"], params, "langevin", normals)
        swarm.advance(self.ghosts["cbo"], params, "cbo", normals)
        uniforms = swarm.draw_noise(self._pso_rng, "pso", n_steps, self.n_particles, self.dim)
        swarm.advance(self.ghosts["pso"], params, "pso", uniforms)
        for m, s in states.items():
            # this chunk ran at the current h: the hit's time counts from the chunk's start
            # (hit_step · h would date a hit after a live change of h with the new h)
            if m not in self._hit_t and s.hit_step >= 0:
                steps, t = before[m]
                self._hit_t[m] = t + (s.hit_step - steps) * self.dt
        # ghosts keep their own clocks; the swarm's is the run's
        self.trail.append(self.swarm.x.copy())
        del self.trail[:-TRAIL_FRAMES]
        self._record()
        return self.swarm.t

    # ------------------------------------------------------------ snapshot
    def snapshot(self) -> dict[str, Any]:
        """The current swarm: positions, f, weights w, coefficients c, J, β(t), σ(t), the
        explorer mask (c < 0) and its share, and the J + 1/β level."""
        x = self.swarm.x
        finite = bool(np.all(np.isfinite(x)))
        f = self.values(x) if finite else np.full(len(x), np.nan)
        beta, sigma = self.schedules_at(np.array([self.t]))
        b = float(beta[0])
        if finite:
            w = swarm.softmin_weights(f, b)
            c = swarm.softmin_coefficients(f, b, self.energy_form)
            j = swarm.softmin_energy(f, b, self.energy_form)
        else:
            w = c = np.full(len(x), np.nan)
            j = math.nan
        explorers = c < 0
        return {
            "x": x,
            "f": f,
            "w": w,
            "c": c,
            "J": j,
            "beta": b,
            "sigma": float(sigma[0]),
            "explorers": explorers,
            "explorer_share": float(np.mean(explorers)),  # the fraction with cᵢ < 0
            "level": j + 1.0 / b if b > 0 else math.inf,
        }

    def values(self, x: np.ndarray) -> np.ndarray:
        """f at each row of ``x`` (n, d) on the current landscape."""
        return swarm.objective_value(self.objective, x, self.effective_tilt)

    def landscape(self) -> Landscape:
        """The landscape of the animated box (grid and level sets in 2-D, the curve in 1-D);
        the same object until the objective, the dimension or the tilt changes."""
        key = (self.objective, self.dim, self.effective_tilt)
        if self._landscape is None or self._landscape.key != key:
            lo, hi = self.box
            self._landscape = Landscape(*key, lo, hi)
        return self._landscape

    def explorer_potential(self, n_points: int = CUT_POINTS) -> dict[str, Any] | None:
        """The 1-D cut f(y) along x₁ through the best point (the double well: through x₂ = 0)
        and the effective potential U(y) = m + κ g_N(f(y) − m) one explorer sees when the
        other N − 1 sit at the leader's value m (spec §4.5) [derived heuristic].

        Returns ``{"y", "f", "U"}`` (n_points,) with ``leader`` m, ``barrier`` ΔV on the
        shallow side (None unless the double well) and ``bump`` κ(s_N − 1)/β (None for N < 2
        or β = 0); None while the swarm is not finite.
        """
        snap = self.snapshot()
        if not np.all(np.isfinite(snap["f"])):
            return None
        lo, hi = self.box
        y = np.linspace(lo, hi, n_points)
        pts = np.tile(self.swarm.best_x, (len(y), 1)) if self.dim > 1 else np.zeros((len(y), 1))
        if self.objective == "tilted_double_well" and self.dim > 1:
            pts[:, 1:] = 0.0
        pts[:, 0] = y
        f = self.values(pts)
        leader = float(np.min(snap["f"]))
        n, beta, kappa = self.n_particles, snap["beta"], self.kappa
        u = effective_potential(f, leader, n, beta, kappa) if n >= 2 else f
        barrier = (
            double_well_points(self.tilt).barrier_shallow
            if self.objective == "tilted_double_well"
            else None
        )
        bump = kappa * (barrier_constant(n) - 1) / beta if n >= 2 and beta > 0 else None
        return {"y": y, "f": f, "U": u, "leader": leader, "barrier": barrier, "bump": bump}

    def schedules_at(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return schedule_curves(
            t,
            self.beta_schedule,
            self.beta0,
            self.beta_rate,
            self.beta_max,
            self.sigma_schedule,
            self.sigma0,
        )

    def at_wall_fraction(self, x: np.ndarray) -> float:
        """Fraction of particles within 2.5 % of the box width of a wall (spec §4.7)."""
        lo, hi = self.box
        margin = WALL_FRACTION * (hi - lo)
        return float(np.mean(np.any((x < lo + margin) | (x > hi - margin), axis=1)))

    def _record(self) -> None:
        snap = self.snapshot()
        h = self.history
        h["t"].append(self.swarm.t)
        h["best"].append(self.swarm.best if self.swarm.steps else float(np.nanmin(snap["f"])))
        h["J"].append(snap["J"])
        h["min_f"].append(float(np.min(snap["f"])))
        h["mean_f"].append(float(np.mean(snap["f"])))
        h["explorers"].append(snap["explorer_share"])
        h["at_wall"].append(self.at_wall_fraction(snap["x"]))
        steps = max(1, self.swarm.steps * self.n_particles)
        h["clipped"].append(self.swarm.n_clipped / steps)
        for m in GHOSTS:
            g = self.ghosts[m]
            h["best_" + m].append(g.best if g.steps else h["best"][0])
        if len(h["t"]) > MAX_RECORDS:
            for k in h:
                h[k] = h[k][::2]

    @property
    def best_value(self) -> float:
        """The best f the swarm has seen (before the first step: the best start)."""
        if self.swarm.steps:
            return self.swarm.best
        return float(np.min(self.values(self.swarm.x)))

    def stability(self) -> tuple[float | None, str]:
        """hκL(1+(N−1)/e) and a one-line verdict (the stability badge, spec §2)."""
        lipschitz = OBJECTIVES[self.objective].lipschitz
        kappa = self.kappa
        if lipschitz is None:
            clip = "on" if self.step_clip > 0 else "off: switch it on"
            return None, f"no global L (cusp at 0); step clip {clip}"
        number = stability_number(self.dt, kappa, lipschitz, self.n_particles)
        verdict = "stable" if number < 1 else "UNSTABLE: lower h, N or κ"
        return number, verdict

    def hit_times(self) -> dict[str, float]:
        """Time at which the swarm and each ghost first reached the target (NaN: not yet)."""
        return {m: self._hit_t.get(m, math.nan) for m in ("softmin", *self.ghosts)}

    # ------------------------------------------------- story indicators (issue 12)
    def has_escaped(self) -> bool:
        """A swarm particle has reached the target basin: the deep well of the double well,
        the centre of Ackley (:func:`kernels.swarm.default_target`); the moment of the escape
        race and of the Ackley preset."""
        return math.isfinite(self.hit_times()["softmin"])

    def escaped_ahead_of_langevin(self) -> bool:
        """The swarm has reached the target while no Langevin ghost has yet (same start, same
        noise): the gap of the small-noise preset."""
        hits = self.hit_times()
        swarm_hit, ghost_hit = hits["softmin"], hits["langevin"]
        return math.isfinite(swarm_hit) and not ghost_hit <= swarm_hit

    def has_split(self) -> bool:
        """The swarm has split into leaders and explorers (spec §6.10, the quadratic bowl,
        whose minimum value is 0): some particles sit at the minimum (f < 1e-8) and every
        other one is an explorer (c < 0) outside the dashed level set {f = J + 1/β}, pressed
        against a wall when the walls reflect."""
        snap = self.snapshot()
        f = snap["f"]
        if not np.all(np.isfinite(f)):
            return False
        leaders = f < 1e-8
        outside = snap["explorers"] & (f > snap["level"])
        if self.boundary == "reflect":
            lo, hi = self.box
            margin = WALL_FRACTION * (hi - lo)
            x = snap["x"]
            outside &= np.any((x < lo + margin) | (x > hi - margin), axis=1)
        return bool(leaders.any() and np.all(leaders | outside))

    def _run_arrays(self) -> dict[str, np.ndarray]:
        arrays = {k: np.asarray(v, dtype=float) for k, v in self.history.items()}
        arrays["x"] = self.swarm.x
        for m in GHOSTS:
            arrays["x_" + m] = self.ghosts[m].x
        return arrays

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"x": self.swarm.x, **{m: g.x for m, g in self.ghosts.items()}}

    # -------------------------------------------------------------- studies
    def study_args(self) -> dict[str, Any]:
        """Arguments of :func:`kernels.swarm.studies.hitting_time_study` at the current params."""
        kwargs = self.kernel_kwargs()
        return dict(
            n_runs=self.n_runs,
            t_max=self.t_max,
            n_particles=self.n_particles,
            dim=self.study_dim,
            seed=self.seed,
            init=self.init,
            init_spread=self.init_spread,
            **kwargs,
        )

    def _fit(
        self, job: BackgroundJob, cost_of: Callable[[int], Cost], n_runs: int, minimum: int
    ) -> tuple[int | None, str]:
        # A study's estimate assumes no run ever hits the target (every run goes to T); runs
        # stop at their hit (the default β/σ sweep: 66 s estimated, 18 s measured), and the
        # job deadline (app.models.jobs.JOB_DEADLINE_S) stops any job whatever its estimate.
        # So a study may be estimated at up to STUDY_ESTIMATE_FACTOR x the job limit.
        """The runs of ``job`` that fit the work budget and the notice; (None, reason) and the
        job marked refused if even ``minimum`` runs do not fit."""
        try:
            runs, notice = largest_fitting(
                cost_of,
                n_runs,
                min(minimum, n_runs),
                max_seconds=STUDY_ESTIMATE_FACTOR * MAX_JOB_SECONDS,
            )
        except OverBudget as refused:
            job.cancel()
            self._notices[job.name] = ""
            job.param.update(running=False, progress=0.0, error=str(refused), message="Refused.")
            self.status = f"{job.name.capitalize()} refused: {refused}"
            return None, str(refused)
        self._notices[job.name] = notice
        if notice:
            self.status = f"{job.name.capitalize()}: {notice}"
        return runs, notice

    def _start(
        self, job: BackgroundJob, fn: Callable[[ProgressFn], Any], label: str, notice: str
    ) -> None:
        job.start(fn, f"{label} ({notice})" if notice else label)

    def _repeat_notice(self, event: param.parameterized.Event) -> None:
        """Once a job is done, its message keeps the budget notice of its start."""
        job = event.obj
        notice = " ".join(
            s
            for s in (
                self._notices.get(job.name, ""),
                event.new.get("notice", "") if isinstance(event.new, dict) else "",
            )
            if s
        )
        if notice and event.new is not None and not job.running:
            job.message = f"Done. {notice}"

    def study_cost(self, n_runs: int) -> Cost:
        """The hitting-time study at the current params with ``n_runs`` runs."""
        return costs.study_cost(
            self.objective,
            swarm_studies.STUDY_METHODS,
            n_runs,
            max(1, round(self.t_max / self.dt)),
            self.n_particles,
            self.study_dim,
        )

    def sweep_cost(self, n_runs: int) -> Cost:
        """The β/σ sweep at the current params with ``n_runs`` runs per value."""
        betas, sigmas = swarm_studies.sweep_values(self.beta0, self.sigma0)
        return costs.study_cost(
            self.objective,
            swarm_studies.SWEEP_METHODS,
            n_runs,
            max(1, round(self.t_max / self.dt)),
            self.n_particles,
            self.study_dim,
            n_studies=len(betas) + len(sigmas),
            what="β/σ sweep",
        )

    def kramers_cost(self, n_runs: int) -> Cost:
        """The Kramers study at the current params with ``n_runs`` runs per noise level."""
        return costs.study_cost(
            "tilted_double_well",
            swarm_studies.KRAMERS_METHODS,
            n_runs,
            max(1, round(max(self.t_max, KRAMERS_HORIZON) / self.dt)),
            self.n_particles,
            self.study_dim,
            n_studies=len(swarm_studies.KRAMERS_FACTORS),
            what="Kramers study",
        )

    def run_study(self) -> None:
        """Hitting times of softmin, Langevin, CBO and PSO, plus dual annealing (panel 6);
        fewer runs if the study is over the work budget, refused if even 10 are."""
        runs, notice = self._fit(self.study, self.study_cost, self.n_runs, 10)
        if runs is None:
            return
        objective, args = self.objective, self.study_args()
        args["n_runs"] = runs
        self._start(
            self.study,
            lambda progress: swarm_studies.hitting_study(objective, args, progress),
            "Running the study",
            notice,
        )

    def run_sweep(self) -> None:
        """Success rate by the horizon against β₀ and against σ₀ (panel 6)."""
        runs, notice = self._fit(self.sweep, self.sweep_cost, max(10, self.n_runs // 4), 10)
        if runs is None:
            return
        objective, args = self.objective, self.study_args()
        args["n_runs"] = runs
        beta0, sigma0 = self.beta0, self.sigma0
        self._start(
            self.sweep,
            lambda progress: swarm_studies.success_sweep(objective, args, beta0, sigma0, progress),
            "Sweeping β and σ",
            notice,
        )

    def run_kramers(self) -> None:
        """Mean hitting time against 1/σ² on the double well (the Kramers plot)."""
        runs, notice = self._fit(self.kramers, self.kramers_cost, max(10, self.n_runs // 4), 10)
        if runs is None:
            return
        args = self.study_args()
        # long horizon: Langevin's exits must mostly happen within it, or the means are censored
        args.update(n_runs=runs, t_max=max(self.t_max, KRAMERS_HORIZON))
        for key in ("tilt",):
            args[key] = self.tilt
        self._start(
            self.kramers,
            lambda progress: swarm_studies.kramers(args, progress),
            "Kramers study",
            notice,
        )

    # ------------------------------------------------------- study outcomes
    def study_distributions(self, by_evaluations: bool = False) -> dict[str, Any] | None:
        """Histograms and ECDFs of the last hitting-time study (None before the first), in
        time or in evaluations (:func:`app.models.swarm.outcomes.hitting_distributions`)."""
        result = self.study.result
        return None if result is None else outcomes.hitting_distributions(result, by_evaluations)

    def study_summary(self) -> dict[str, Any] | None:
        """The last study's setting (objective, d, N, M, T) and its table rows
        (:func:`app.models.swarm.outcomes.summary_rows`); None before the first."""
        result = self.study.result
        if result is None:
            return None
        args = result["args"]
        return {
            "objective": result["objective"],
            "dim": args["dim"],
            "n_particles": args["n_particles"],
            "n_runs": args["n_runs"],
            "t_max": args["t_max"],
            "rows": outcomes.summary_rows(result),
        }

    def sweep_curves(self) -> dict[str, dict[str, np.ndarray]] | None:
        """Success rate against β₀ (``"beta"``) and σ₀ (``"sigma"``) of the last sweep:
        ``{"values", method: rates, method + "_se": standard errors}``; None before the first."""
        return self.sweep.result

    def kramers_plot(self) -> dict[str, np.ndarray] | None:
        """The last Kramers study with its theory lines
        (:func:`app.models.swarm.outcomes.kramers_lines`); None before the first."""
        result = self.kramers.result
        return None if result is None else outcomes.kramers_lines(result)
