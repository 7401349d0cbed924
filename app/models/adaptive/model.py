r"""Adaptive SGD: the state of the tab (spec ``models/adaptive.md``).

An ensemble of discrete optimizer runs (SGD, RMSprop, Adam) and the ensembles of the matching
continuous equations (ODE, SDE1, SME2), driven by the same Brownian increments, recomputed in
one call whenever a parameter changes; playing moves a time cursor through the stored frames.
Weak-error and scaling-rule studies run as background jobs. Callisti, Romito, Triggiano,
arXiv:2509.21614.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import param

from app.models.adaptive.params import ORDERS, TEACHING_DEFAULT, AdaptiveParams
from app.models.jobs import BackgroundJob, ProgressFn
from kernels import adaptive as ad
from kernels.adaptive import studies as studies
from kernels.adaptive.landscapes import DOUBLE_WELL_DEFAULTS, LINREG_C

__all__ = ["ORDERS", "TEACHING_DEFAULT", "AdaptiveModel"]

#: Stored frames per run (the record stride grows with the number of steps).
MAX_FRAMES = 200
#: Path-substeps per leg and redraw above which the redraw is thinned (about 0.3 s).
WORK_BUDGET = 3 * 10**7


class AdaptiveModel(AdaptiveParams):
    """Discrete adaptive optimizers next to their continuous equations (spec §2–§5)."""

    def __init__(self, **params: Any) -> None:
        self.weak_job = BackgroundJob(name="weak_error")
        self.scaling_job = BackgroundJob(name="scaling")
        self.run: dict[str, Any] = {}
        self.notice = ""
        super().__init__(**params)
        self.param.watch(self._recompute, [p for p in self.live_params if p not in _STUDY_ONLY])
        self.param.watch(self._on_time_index, ["time_index"])

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
        self._compute(rng)
        with param.edit_constant(self):
            self.t = 0.0
        self.time_index = 0

    def _compute(self, rng: np.random.Generator | None = None) -> None:
        e = self.effective()
        n_steps = max(2, round(self.t_final / e["tau"]))
        rec_every = max(1, math.ceil(n_steps / MAX_FRAMES))
        rng = np.random.default_rng(self.seed) if rng is None else rng
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
        self.run = ad.simulate_coupled(
            e["optimizer"],
            regime=e["regime"],
            orders=orders,
            landscape=self.landscape,
            theta0=e["theta0"],
            tau=e["tau"],
            n_sub=n_sub,
            t_max=max(self.t_final, 2 * e["tau"]),
            n_paths=self.n_paths,
            rng=rng,
            record_every=rec_every,
            **self.sim_options(e),
        )
        self.run["effective"] = e
        self.run["orders"] = orders
        self.run["rec_every"] = rec_every
        self.notice = " ".join(e["notes"])
        self.param.time_index.bounds = (0, len(self.run["t"]) - 1)
        self.theory = self._theory(e)

    def _theory(self, e: dict[str, Any]) -> dict[str, np.ndarray]:
        """Exact moment recursions for SGD on the quadratic (spec §6.1), u(t) for RMSprop."""
        out: dict[str, np.ndarray] = {}
        t = self.run["t"]
        if self.landscape == "quadratic":
            a = self.hessian()
            s = self.sigma**2 * (a @ a.T if self.gradient_noise == "shifted" else np.eye(2))
            if e["optimizer"] == "sgd":
                rec = ad.sgd_moments(a, s, e["theta0"], e["tau"], self.run["n_steps"])
                out["chain_loss"] = rec["loss"][:: self.run["rec_every"]][: len(t)]
                out["sde_loss"] = ad.sgd_sde_moments(
                    a, s, e["theta0"], e["tau"], t, order=e["order"]
                )["loss"]
            elif e["regime"] == "batch_equivalent":
                out["u"] = ad.batch_equivalent_u(t[:, None], np.diag(s)[None], self.v0, e["c2"])
        return out

    def _recompute(self, *events: param.parameterized.Event) -> None:
        if self._applying_preset:
            return
        was = self.time_index
        self._compute()
        index = min(was, len(self.run["t"]) - 1)
        with param.edit_constant(self):
            self.t = float(self.run["t"][index])
        self.time_index = index
        self._check_divergence()
        if not self.diverged:
            self.status = self.notice or "Recomputed: chain and continuous ensembles, same noise."
        self._bump_frame()

    def reset(self) -> None:
        super().reset()
        if self.notice:
            self.status = self.notice
        self._check_divergence()

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
        hp = ad.regime_hyperparameters(
            e["regime"], e["tau"], e["c1"], e["c2"], self.eps, self.sigma
        )
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

    def _advance(self, n_steps: int, rng: np.random.Generator) -> float:
        index = min(self.time_index + n_steps, len(self.run["t"]) - 1)
        self.time_index = index
        return float(self.run["t"][index])

    def _steps_until_end(self) -> int:
        return len(self.run["t"]) - 1 - self.time_index

    def _on_time_index(self, event: param.parameterized.Event) -> None:
        with param.edit_constant(self):
            self.t = float(self.run["t"][event.new])
        if not self.playing:
            self._bump_frame()

    def _state_arrays(self) -> dict[str, np.ndarray]:
        return {"chain": self.run["chain"]["theta"][self.time_index]}

    def _run_arrays(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {"t": self.run["t"]}
        for key in ("chain", *self.run["orders"]):
            out[f"{key}_loss_mean"] = self.run[key]["loss"].mean(1)
            out[f"{key}_theta"] = self.run[key]["theta"]
        return out

    # ---------------------------------------------------------------- studies
    def run_weak_error(self) -> None:
        """Weak error vs τ of ODE/SDE1/SME2 (with and without W2), off the event loop."""
        e = self.effective()
        opts = self.sim_options(e)
        opts.pop("v_floor")
        args = dict(
            optimizer=e["optimizer"] if e["optimizer"] != "sgd" else "sgd",
            regime=e["regime"],
            theta0=e["theta0"],
            landscape=self.landscape,
            n_paths=self.weak_paths,
            seed=self.seed,
            t_max=1.0,
            **opts,
        )
        orders = ("ode", "sde1", "sme2", "sme2_no_w2")
        if "sme2" not in self.orders_available(e):
            orders = ("ode", "sde1")
        if e["optimizer"] == "sgd":
            orders = ("ode", "sde1", "sme2")
        args["orders"] = orders
        args["c1"], args["c2"] = min(e["c1"], 4.0), min(e["c2"], 4.0)  # c τ ≤ 1 at τ = 1/4
        self.weak_job.start(lambda p: _weak(p, args), "Weak error vs τ")

    def run_scaling(self) -> None:
        """Chain E f(θ_t) for κ = 1, 2, …, κ max under the scaling rule, off the event loop."""
        e = self.effective()
        opts = self.sim_options(e)
        for key in ("c1", "c2", "eps", "noise_std"):
            opts.pop(key)
        kappas = [2**i for i in range(int(math.log2(self.kappa_max)) + 1)]
        args = dict(
            optimizer=e["optimizer"],
            regime=e["regime"],
            kappas=kappas,
            rule=self.scaling_rule,
            tau=e["tau"],
            c1=e["c1"],
            c2=e["c2"],
            eps=self.eps,
            sigma=self.sigma,
            t_max=self.t_final,
            n_paths=min(self.n_paths, 512),
            seed=self.seed,
            landscape=self.landscape,
            theta0=e["theta0"],
            **opts,
        )
        self.scaling_job.start(lambda p: _scaling(p, args), "Scaling-rule runs")


_STUDY_ONLY = ("scaling_rule", "kappa_max", "weak_paths")


def _weak(progress: ProgressFn, args: dict[str, Any]) -> dict[str, Any]:
    return studies.weak_error_study(progress=progress, **args)


def _scaling(progress: ProgressFn, args: dict[str, Any]) -> dict[str, Any]:
    return studies.scaling_study(progress=progress, **args)
