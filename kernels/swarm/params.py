"""The parameter bundle of the swarm kernels (spec ``models/swarm.md`` §2 table).

:func:`make_params` validates every parameter of a run (``ValueError`` naming it) and packs them
into :class:`SwarmParams`, the one bundle the driver, the studies and the app pass around
instead of repeating the keywords. Re-exported by :mod:`kernels.swarm`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels.common.validation import choice, integer, real
from kernels.swarm.core import METHOD_IDS
from kernels.swarm.objectives import OBJECTIVES, objective_id
from kernels.swarm.softmin import ENERGY_FORMS
from kernels.swarm.starts import MAX_DIM, default_target

__all__ = [
    "BETA_SCHEDULES",
    "BOUNDARIES",
    "CBO_NOISES",
    "KAPPA_MODES",
    "METHODS",
    "SIGMA_SCHEDULES",
    "SwarmParams",
    "make_params",
]

METHODS = tuple(METHOD_IDS)
BETA_SCHEDULES = ("constant", "linear", "exponential", "logarithmic")
SIGMA_SCHEDULES = ("constant", "log_cooling")
KAPPA_MODES = ("N", "1")
BOUNDARIES = ("reflect", "periodic", "none")
CBO_NOISES = ("isotropic", "anisotropic")


# ---------------------------------------------------------------------------- params
@dataclass(frozen=True)
class SwarmParams:
    """Validated parameters of a run, packed for :func:`kernels.swarm.core.run_block`."""

    objective: str
    fpar: np.ndarray
    ipar: np.ndarray
    target: np.ndarray

    @property
    def obj(self) -> int:
        return OBJECTIVES[self.objective].id

    @property
    def dt(self) -> float:
        return float(self.fpar[1])


def make_params(
    objective: str,
    dim: int,
    n_particles: int,
    *,
    dt: float,
    beta_schedule: str = "constant",
    beta0: float = 20.0,
    beta_rate: float = 0.2,
    beta_max: float = 1000.0,
    sigma_schedule: str = "constant",
    sigma0: float = 0.25,
    kappa_mode: str = "N",
    boundary: str = "reflect",
    tilt: float = 0.1,
    box: tuple[float, float] | None = None,
    energy_form: str = "weighted_mean",
    step_clip: float = 0.0,
    cbo_lambda: float = 1.0,
    cbo_sigma: float = 0.7,
    cbo_noise: str = "isotropic",
    pso_w: float = 0.9,
    pso_c1: float = 0.5,
    pso_c2: float = 0.3,
    hit_target: np.ndarray | None = None,
    hit_radius: float | None = None,
    stop_at_hit: bool = False,
) -> SwarmParams:
    r"""Validate every parameter of a run (``ValueError`` naming it) and pack them into the
    bundle :class:`SwarmParams` (spec §2 table).

    The softmin step it parametrizes is

    .. math::

        X_i \leftarrow X_i - h\kappa c_i(X;\beta(t))\nabla f(X_i) + \sigma(t)\sqrt h\,\xi_i,
        \qquad \kappa = N \text{ or } 1,

    with β(t) = β₀, β₀ + rt, β₀e^{rt} or β₀log(e + rt), capped at β_max, and σ(t) = σ₀ or
    σ₀√(log 2/log(2 + t)). Provenance: [paper] (a stochastic gradient flow of a soft-min
    energy with an increasing β); the schedules, κ and the discretization are [derived]; CBO
    and PSO coefficients [literature].

    Parameters
    ----------
    objective : str
        One of :data:`OBJECTIVES`.
    dim, n_particles : int
        Dimension d (1–50) and particles N.
    dt : float
        Step h > 0.
    beta_schedule, beta0, beta_rate, beta_max : str, float, float, float
        β(t): the schedule, β₀, the rate r and the cap β_max.
    sigma_schedule, sigma0 : str, float
        σ(t): ``"constant"`` or ``"log_cooling"``, and σ₀.
    kappa_mode : {"N", "1"}
        The drift scale κ.
    boundary : {"reflect", "periodic", "none"}
        The box walls.
    tilt : float
        The tilt a of the double well, |a| ≤ 0.35.
    box : (float, float), optional
        [lo, hi] (default: the objective's box).
    energy_form : {"weighted_mean", "log_sum_exp"}
        The form of J.
    step_clip : float
        Largest drift displacement per step (0: off).
    cbo_lambda, cbo_sigma, cbo_noise : float, float, str
        CBO drift λ, noise σ_c and ``"isotropic"`` / ``"anisotropic"`` noise.
    pso_w, pso_c1, pso_c2 : float
        PSO inertia and the pulls to the personal and global bests.
    hit_target : ndarray, shape (d,), optional
        The point to hit (default: :func:`default_target`).
    hit_radius : float, optional
        Sup-norm hit radius (default: the target's).
    stop_at_hit : bool
        Stop a run at its first hit (CBO: also once collapsed).

    Returns
    -------
    SwarmParams
        ``fpar`` (16,) and ``ipar`` (6,) in the layout of :mod:`kernels.swarm.core`, and
        ``target`` (d,).
    """
    objective_id(objective)
    d = integer("dim", dim, 1, MAX_DIM)
    n = integer("n_particles", n_particles, 1, 10_000)
    lo, hi = (OBJECTIVES[objective].lo, OBJECTIVES[objective].hi) if box is None else box
    lo = real("box lo", lo, -1e6, 1e6)
    hi = real("box hi", hi, -1e6, 1e6)
    if not hi > lo:
        raise ValueError(f"box must have lo < hi; got ({lo}, {hi})")
    if hit_target is None:
        target, radius = default_target(objective, d, tilt)
        radius = radius if hit_radius is None else real("hit_radius", hit_radius, 0.0, 1e6)
    else:
        target = np.asarray(hit_target, dtype=np.float64).reshape(-1)
        if target.shape != (d,) or not np.all(np.isfinite(target)):
            raise ValueError(f"hit_target must be a finite vector of length {d}")
        radius = 0.25 if hit_radius is None else real("hit_radius", hit_radius, 0.0, 1e6)
    kappa = float(n) if choice("kappa_mode", kappa_mode, KAPPA_MODES) == "N" else 1.0
    fpar = np.array(
        [
            real("tilt", tilt, -0.35, 0.35),
            real("dt", dt, 0.0, 1.0, lo_open=True),
            real("beta0", beta0, 0.0, 1e6),
            real("beta_rate", beta_rate, 0.0, 100.0),
            real("beta_max", beta_max, 0.0, 1e8),
            real("sigma0", sigma0, 0.0, 100.0),
            kappa,
            real("step_clip", step_clip, 0.0, 1e6),
            lo,
            hi,
            real("cbo_lambda", cbo_lambda, 0.0, 1e3),
            real("cbo_sigma", cbo_sigma, 0.0, 1e3),
            real("pso_w", pso_w, 0.0, 2.0),
            real("pso_c1", pso_c1, 0.0, 10.0),
            real("pso_c2", pso_c2, 0.0, 10.0),
            radius,
        ]
    )
    ipar = np.array(
        [
            BETA_SCHEDULES.index(choice("beta_schedule", beta_schedule, BETA_SCHEDULES)),
            SIGMA_SCHEDULES.index(choice("sigma_schedule", sigma_schedule, SIGMA_SCHEDULES)),
            BOUNDARIES.index(choice("boundary", boundary, BOUNDARIES)),
            ENERGY_FORMS.index(choice("energy_form", energy_form, ENERGY_FORMS)),
            CBO_NOISES.index(choice("cbo_noise", cbo_noise, CBO_NOISES)),
            int(bool(stop_at_hit)),
        ],
        dtype=np.int64,
    )
    return SwarmParams(objective, fpar, ipar, np.ascontiguousarray(target))
