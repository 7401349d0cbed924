"""Where a swarm run starts and what it must hit (spec ``models/swarm.md`` §2, §5).

:func:`initial_cloud` draws the start; :func:`default_target` gives the global minimizer and the
radius that counts as a hit. Re-exported by :mod:`kernels.swarm`.
"""

from __future__ import annotations

import numpy as np

from kernels.common.validation import choice, integer, real, resolve_rng
from kernels.swarm.objectives import OBJECTIVES, objective_id
from kernels.swarm.theory import double_well_points

__all__ = ["INITS", "MAX_DIM", "default_target", "initial_cloud"]

INITS = ("shallow_well", "uniform", "corner")
#: Largest dimension of a run.
MAX_DIM = 50


def default_target(objective: str, dim: int, tilt: float = 0.1) -> tuple[np.ndarray, float]:
    r"""The global minimizer to be hit and the sup-norm radius that counts as a hit.

    A run hits at the first step with a particle in
    :math:`\{x : \max_k |x_k - x^\star_k| \le r\}`. Double well: the deep minimum
    (x₁ from :func:`kernels.swarm.theory.double_well_points`, other coordinates 0), r = 0.5
    (well inside its basin: the saddle is ≥ 1.1 away for |a| ≤ 0.35). Ackley, Rastrigin,
    quadratic: 0, r = 0.25 (spec §5 P5). Styblinski–Tang: −2.903534·1, r = 0.5. Rosenbrock:
    1, r = 0.25. Provenance: [derived] (minimizers [literature]; radii chosen for this app).

    Parameters
    ----------
    objective : str
        One of :data:`kernels.swarm.OBJECTIVES`.
    dim : int
        Dimension d, 1 ≤ d ≤ 50.
    tilt : float
        The tilt a of the double well.

    Returns
    -------
    target : ndarray, shape (d,)
        The global minimizer x*.
    radius : float
        The hit radius r.
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
    r"""Initial positions of a swarm (spec §2), drawn from ``rng`` in one call.

    .. math::

        \text{shallow\_well: } x_i \sim \mathcal N(x_{\rm shallow}, s_0^2 I),\quad
        \text{uniform: } x_i \sim U[lo, hi]^d,\quad
        \text{corner: } x_i \sim U[lo + 0.7(hi-lo),\, lo + 0.9(hi-lo)]^d,

    with :math:`x_{\rm shallow}` the shallow minimum of the double well (other objectives: the
    centre of the box). Provenance: [derived].

    Parameters
    ----------
    init : {"shallow_well", "uniform", "corner"}
        The start.
    n : int
        Particles N.
    dim : int
        Dimension d, 1 ≤ d ≤ 50.
    objective : str
        One of :data:`kernels.swarm.OBJECTIVES` (its box and, for the double well, its wells).
    rng : numpy.random.Generator or int
        The randomness.
    spread : float
        s₀ of the shallow-well start.
    tilt : float
        The tilt a of the double well.
    box : (float, float), optional
        [lo, hi] (default: the objective's box).

    Returns
    -------
    ndarray, shape (N, d)
        The start.
    """
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
