r"""Chunked driver of the swarm kernels: validated parameters, run state, noise, one advance.

:func:`make_params` validates every parameter of spec ``models/swarm.md`` §2 (``ValueError``
naming it) and packs them for :func:`kernels.swarm.core.run_block`; :class:`SwarmState` holds one
realization between chunks; :func:`draw_noise` draws the random numbers a method reads and
:func:`advance` runs a chunk through them. :func:`initial_cloud` and :func:`default_target` give
the starts and the basins to hit. The public API is re-exported by :mod:`kernels.swarm`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels.common.normals import standard_normals
from kernels.common.validation import choice, integer, real, resolve_rng
from kernels.swarm.core import METHOD_IDS, run_block
from kernels.swarm.objectives import OBJECTIVES, objective_id
from kernels.swarm.theory import double_well_points

__all__ = [
    "BETA_SCHEDULES",
    "BOUNDARIES",
    "CBO_NOISES",
    "CHUNK_STEPS",
    "ENERGY_FORMS",
    "INITS",
    "KAPPA_MODES",
    "MAX_DIM",
    "METHODS",
    "SIGMA_SCHEDULES",
    "SwarmParams",
    "SwarmState",
    "advance",
    "check_points",
    "default_target",
    "draw_noise",
    "initial_cloud",
    "make_params",
]

METHODS = tuple(METHOD_IDS)
BETA_SCHEDULES = ("constant", "linear", "exponential", "logarithmic")
SIGMA_SCHEDULES = ("constant", "log_cooling")
KAPPA_MODES = ("N", "1")
BOUNDARIES = ("reflect", "periodic", "none")
ENERGY_FORMS = ("weighted_mean", "log_sum_exp")
CBO_NOISES = ("isotropic", "anisotropic")
INITS = ("shallow_well", "uniform", "corner")
#: Steps per chunk of drawn noise (even: the normal stream does not depend on the chunking).
CHUNK_STEPS = 512
MAX_DIM = 50


def check_points(x: object, dim_max: int = 10_000) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] < 1 or not 1 <= arr.shape[1] <= dim_max:
        raise ValueError(f"x must have shape (n, d) with n >= 1, d >= 1; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("x must be finite")
    return np.ascontiguousarray(arr)


def default_target(objective: str, dim: int, tilt: float = 0.1) -> tuple[np.ndarray, float]:
    """The global minimizer to be hit and the sup-norm radius that counts as a hit.

    Double well: the deep minimum (x₁ from :func:`double_well_points`, other coordinates 0),
    radius 0.5 (well inside its basin: the saddle is ≥ 1.1 away for |a| ≤ 0.35). Ackley,
    Rastrigin, quadratic: 0, radius 0.25 (spec §5 P5). Styblinski–Tang: −2.903534·1, radius
    0.5. Rosenbrock: 1, radius 0.25.
    """
    objective_id(objective)
    d = integer("dim", dim, 1, MAX_DIM)
    if objective == "tilted_double_well":
        target = np.zeros(d)
        target[0] = double_well_points(tilt).deep
        return target, 0.5
    if objective == "styblinski_tang":
        return np.full(d, -2.903534), 0.5
    if objective == "rosenbrock":
        return np.ones(d), 0.25
    return np.zeros(d), 0.25


def initial_cloud(
    init: str,
    n: int,
    dim: int,
    objective: str,
    rng: np.random.Generator | int,
    spread: float = 0.05,
    tilt: float = 0.1,
    box: tuple[float, float] | None = None,
) -> np.ndarray:
    """Initial positions (n, d) (spec §2): ``shallow_well`` N(x_shallow, s₀²I) (double well:
    the shallow minimum; otherwise the centre of the box), ``uniform`` on the box, ``corner``
    U[lo + 0.7(hi−lo), lo + 0.9(hi−lo)]^d. Draws from ``rng`` (one call)."""
    choice("init", init, INITS)
    n_ = integer("n", n, 1, 10_000)
    d = integer("dim", dim, 1, MAX_DIM)
    s0 = real("spread", spread, 0.0, 10.0)
    gen = resolve_rng(rng)
    lo, hi = box if box is not None else OBJECTIVES[objective][1:3]
    if init == "uniform":
        return gen.uniform(lo, hi, size=(n_, d))
    if init == "corner":
        return gen.uniform(lo + 0.7 * (hi - lo), lo + 0.9 * (hi - lo), size=(n_, d))
    centre = np.full(d, 0.5 * (lo + hi))
    if objective == "tilted_double_well":
        centre[:] = 0.0
        centre[0] = double_well_points(tilt).shallow
    return centre + s0 * gen.standard_normal((n_, d))


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
    """Validate every parameter (``ValueError`` naming it) and pack them (spec §2 table)."""
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


# ----------------------------------------------------------------------------- state
class SwarmState:
    """Positions and running records of one realization (continued chunk after chunk).

    ``x`` (N, d) positions; ``v``, ``pbest_x``, ``pbest_f`` the PSO velocities and personal
    bests; ``best_x`` (d,) the best point seen; ``t`` the time; ``best`` the best f seen;
    ``n_f_evals``, ``n_grad_evals``, ``n_clipped`` counters; ``hit_step`` the step whose
    positions first hit the target (−1: not yet); ``steps`` the steps done.
    """

    def __init__(self, x0: np.ndarray) -> None:
        self.x = np.array(x0, dtype=np.float64, order="C")
        n, d = self.x.shape
        self.v = np.zeros((n, d))
        self.pbest_x = self.x.copy()
        self.pbest_f = np.full(n, np.inf)
        self.best_x = self.x[0].copy()
        self.record = np.array([0.0, np.inf])  # t, best f
        self.counters = np.array([0, 0, 0, -1, 0], dtype=np.int64)

    t = property(lambda self: float(self.record[0]))
    best = property(lambda self: float(self.record[1]))
    n_f_evals = property(lambda self: int(self.counters[0]))
    n_grad_evals = property(lambda self: int(self.counters[1]))
    n_clipped = property(lambda self: int(self.counters[2]))
    hit_step = property(lambda self: int(self.counters[3]))
    steps = property(lambda self: int(self.counters[4]))

    def copy(self) -> SwarmState:
        other = SwarmState(self.x)
        for name in ("v", "pbest_x", "pbest_f", "best_x", "record", "counters"):
            setattr(other, name, getattr(self, name).copy())
        return other


def draw_noise(rng: np.random.Generator, method: str, n_steps: int, n: int, d: int) -> np.ndarray:
    """The random numbers ``method`` reads for ``n_steps`` steps: normals (n_steps, N, d) for
    softmin, Langevin and CBO (an odd count is padded by one discarded normal), uniforms
    (n_steps, 2, N, d) for PSO."""
    if method == "pso":
        return rng.random((n_steps, 2, n, d))
    size = n_steps * n * d
    buf = np.empty(size + (size % 2))
    standard_normals(rng, buf)
    return buf[:size].reshape(n_steps, n, d)


_EMPTY_XI = np.zeros((0, 1, 1))
_EMPTY_U = np.zeros((0, 2, 1, 1))
_NO_FRAMES = np.zeros((0, 1, 1))


def advance(
    state: SwarmState,
    params: SwarmParams,
    method: str,
    noise: np.ndarray,
    best_out: np.ndarray | None = None,
    frames: np.ndarray | None = None,
    stride: int = 0,
) -> int:
    """Advance ``state`` through the pre-drawn ``noise`` of :func:`draw_noise`; return steps
    done (fewer only when ``stop_at_hit`` stopped at a hit). ``best_out`` (n_steps,) receives
    the best-so-far f before each step; ``frames`` receives x every ``stride`` global steps."""
    mid = METHOD_IDS[choice("method", method, METHODS)]
    n_steps = noise.shape[0]
    if noise.shape[-2:] != state.x.shape:
        raise ValueError(f"noise must end with shape {state.x.shape}; got {noise.shape}")
    xi, u = (_EMPTY_XI, noise) if mid == 3 else (noise, _EMPTY_U)
    best = np.empty(n_steps) if best_out is None else best_out
    return run_block(
        mid,
        params.obj,
        params.fpar,
        params.ipar,
        state.x,
        state.v,
        state.pbest_x,
        state.pbest_f,
        state.best_x,
        state.record,
        state.counters,
        np.ascontiguousarray(xi),
        np.ascontiguousarray(u),
        n_steps,
        best,
        _NO_FRAMES if frames is None else frames,
        stride if frames is not None else 0,
        params.target,
    )
