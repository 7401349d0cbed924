r"""Parameter sweeps of the Adaptive SGD tab (issue 15): outcomes, parameters, one replicate.

One replicate is the tab's coupled run at one parameter point: the discrete chain (SGD, RMSprop
or Adam) and its continuous equations SDE1 and SME2, driven by the same Brownian increments
(common random numbers, spec ``models/adaptive.md`` §2.8), from θ0 to the horizon T, with
``n_paths`` paths and ``n_sub`` Euler–Maruyama substeps per step. It is the live view's
:func:`kernels.adaptive.simulate_coupled` call with the live view's effective parameters (the
same clamps and fallbacks: :meth:`app.models.adaptive.model.AdaptiveModel.effective`), with
the replicate's seed, recording only the start and the horizon.

Outcomes (the issue's list), all from the paths at the horizon T:

* ``loss_final``: E f(θ_T) of the chain, the mean loss over its paths [paper];
* ``weak_error_sde1``, ``weak_error_sme2``: the signed weak error in f of SDE1 and of SME2,
  E f(θ_T) − E f(X_T) over coupled paths (its mean over replicates is the weak error with its
  sign; a replicate's absolute value would be biased upward by the Monte Carlo noise); NaN
  where the kernels have no SME2 (batch-equivalent Adam, state-dependent noise);
* ``spread``: the chain's spread √tr Cov(θ_T) over its paths: the stationary spread once T is
  past the relaxation time (spec §4 panel 5: σ0, not η, sets it) [derived].

A replicate counts as diverged (``loss_final`` and ``spread`` +inf, the weak errors NaN) where
the live view shows its divergence banner (:meth:`AdaptiveModel._check_divergence`): a
non-finite chain, |θ_T| beyond 10³·max(1, |θ0|), or SGD at η ≥ 2/λ_max.

Parameters: the numeric params of :class:`AdaptiveParams` that change the numbers, the step
first. The headline pair is log₂ τ × c2, the issue's η × c2: τ sets the learning rate (η = τ
ballistic, η = √τ batch-equivalent) and c2 sets β2 through 1 − β2 = c2τ, the scaling the paper
is about; the chain leaves its SDE where c2τ approaches 1. ``fixed`` is empty: at the live
defaults (τ = 2⁻⁶, T = 8: 512 steps × 4 substeps × 128 paths, chain + SDE1 + SME2) a replicate
takes about 0.02 s (:func:`seconds`), well within the 0.2 s a default sweep allows.

The boundary is the divergence limit of the step (:func:`kernels.adaptive.stability_limit`,
[derived]): η < 2/λ_max for SGD and η < 2(√v* + ε)/λ_max for RMSprop and Adam, with
v* = σ²Σ̂_d the stationary second moment. In SDE units both regimes give the same line

.. math::

    \tau^* = \frac{2(\sigma\sqrt{\hat\Sigma_d} + \epsilon)}{\lambda_{\max}}
    \quad(\text{SGD: }\tau^* = 2/\lambda_{\max}),

since batch-equivalently η = √τ, the chain's ε is ε0/η and its v* is σ0²Σ̂_d/η². At the
defaults it lies at log₂ τ* ≈ −0.19, right of the slider range; smaller σ0 and ε0 bring it in.

Callisti, Romito, Triggiano, arXiv:2509.21614 [paper].
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np

from app.models.adaptive import costs
from app.models.adaptive.model import AdaptiveModel
from app.models.adaptive.params import AdaptiveParams
from app.sweeps.spec import Curve, ModelSweep, Outcome
from kernels import adaptive as ad

__all__ = [
    "OUTCOMES",
    "PARAMETERS",
    "SWEEP",
    "critical_tau",
    "divergence_boundary",
    "run",
    "seconds",
]

#: Numeric params worth sweeping, most useful first.
PARAMETERS = (
    "log2_tau",
    "c2",
    "sigma",
    "log10_eps",
    "c1",
    "t_final",
    "v0",
    "theta0_x",
    "theta0_y",
    "a11",
    "a12",
    "a22",
    "noise_level",
    "n_sub",
)

OUTCOMES = (
    Outcome(
        "loss_final",
        "E f at the horizon (chain)",
        "",
        "lower",
        "Mean over the chain's paths of the loss f(θ_T) at the horizon T.",
    ),
    Outcome(
        "weak_error_sde1",
        "weak error of SDE1 (chain − SDE1, in E f)",
        "",
        "none",
        "E f(θ_T) of the chain minus E f(X_T) of SDE1 on the same Brownian paths; its size is "
        "the weak error.",
    ),
    Outcome(
        "weak_error_sme2",
        "weak error of SME2 (chain − SME2, in E f)",
        "",
        "none",
        "E f(θ_T) of the chain minus E f(X_T) of the second-order SME2 on the same Brownian "
        "paths (NaN where SME2 is not implemented).",
    ),
    Outcome(
        "spread",
        "stationary spread of θ (chain)",
        "",
        "none",
        "√tr Cov(θ_T) over the chain's paths at the horizon: the stationary spread once T is "
        "past the relaxation time.",
    ),
)

#: Defaults of every param, under the values a sweep passes (which hold every param anyway).
_DEFAULTS = {name: AdaptiveParams.param[name].default for name in AdaptiveParams.param}

#: Python overhead of one replicate (validation, set-up, allocation): 2.8 ms measured for a
#: 16-path, 8-step run (best of 5, ``time.thread_time``), rounded up.
OVERHEAD_S = 3e-3
#: Measured time over :func:`app.models.adaptive.costs.run_cost` without its safety margin
#: (whose per-unit constants are the largest of each measured range). Measured on this 2-core
#: machine on 2026-12-05 with ``time.thread_time``, median of 5 replicates, while other
#: helpers ran: 0.81 (defaults, 20 ms), 0.73 (1024 paths, 147 ms), 0.69 (τ = 2⁻⁹, 140 ms),
#: 0.70 (512 paths × 16 substeps, 283 ms), 0.93 (linreg ballistic, 512 paths, 324 ms),
#: 0.37–0.71 for SGD, Adam, the ballistic regime, linreg and the double well at the default
#: sizes (7–19 ms). 0.75 keeps every case within a factor 2.5.
CALIBRATION = 0.75


class _Point(SimpleNamespace):
    """A parameter point with the live model's own derivations (borrowed, not copied): the
    effective parameters and clamps, the simulation options, the available orders, the
    curvature and noise scale its divergence message uses."""

    tau = AdaptiveModel.tau
    eps = AdaptiveModel.eps
    hessian = AdaptiveModel.hessian
    effective = AdaptiveModel.effective
    sim_options = AdaptiveModel.sim_options
    orders_available = AdaptiveModel.orders_available
    curvature = AdaptiveModel.curvature
    noise_scale_hat = AdaptiveModel.noise_scale_hat


def _point(values: Mapping[str, Any]) -> _Point:
    return _Point(**{**_DEFAULTS, **values})


def _orders(p: _Point, e: dict[str, Any]) -> tuple[str, ...]:
    return tuple(o for o in ("sde1", "sme2") if o in p.orders_available(e))


def _horizon(e: dict[str, Any], t_final: float) -> tuple[float, int]:
    """The run's horizon and number of steps, as the live view runs it (at least two steps)."""
    t_max = max(t_final, 2 * e["tau"])
    return t_max, max(1, round(t_max / e["tau"]))


def _diverged(p: _Point, e: dict[str, Any], theta: np.ndarray) -> bool:
    """The live view's divergence test (:meth:`AdaptiveModel._check_divergence`) on the
    chain's final state ``theta`` (n_paths, d)."""
    scale = 1e3 * max(1.0, float(np.max(np.abs(e["theta0"]))))
    if not np.all(np.isfinite(theta)) or float(np.max(np.abs(theta))) >= scale:
        return True
    return (
        e["optimizer"] == "sgd" and p.landscape != "double_well" and e["tau"] >= 2 / (p.curvature())
    )


def run(values: Mapping[str, Any], seed: int) -> dict[str, float]:
    r"""One replicate: the coupled chain, SDE1 and SME2 to the horizon, and the outcomes.

    With N paths :math:`\theta_T^{(i)}` of the chain and :math:`X_T^{(i)}` of a continuous
    order, driven by the same Brownian increments (spec §2.8):

    .. math::

        \text{loss\_final} = \frac1N\sum_i f(\theta_T^{(i)}),\qquad
        \text{weak\_error\_}o = \frac1N\sum_i\left(f(\theta_T^{(i)})-f(X_T^{o,(i)})\right),
        \qquad
        \text{spread} = \sqrt{\operatorname{tr}\widehat{\operatorname{Cov}}(\theta_T)}

    (sample covariance with N − 1). The chain and SDE1 are [paper] (batch-equivalent SDE1:
    [literature] Malladi et al.), SME2 is [paper] ballistic and [derived] batch-equivalent
    (spec §2.4); the spread as the stationary statistic is [derived] (spec §4 panel 5).

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`AdaptiveParams` by name (missing ones take their defaults).
        The live view's clamps apply (:meth:`AdaptiveModel.effective`): c·τ ≤ 1, SGD runs
        ballistic, A stays positive definite.
    seed : int
        Seed of the replicate's generator (``numpy.random.default_rng(seed)``).

    Returns
    -------
    dict of str to float
        ``loss_final``, ``weak_error_sde1``, ``weak_error_sme2``, ``spread``. A diverged chain
        (the live view's test, see the module docstring) gives +inf, +inf, NaN, NaN; a weak
        error is NaN where its order is not implemented and non-finite where that order blew
        up.

    Raises
    ------
    ValueError
        For a combination the kernels refuse.
    """
    p = _point(values)
    e = p.effective()
    orders = _orders(p, e)
    t_max, n_steps = _horizon(e, p.t_final)
    with np.errstate(all="ignore"):
        res = ad.simulate_coupled(
            e["optimizer"],
            regime=e["regime"],
            orders=orders,
            landscape=p.landscape,
            theta0=e["theta0"],
            tau=e["tau"],
            n_sub=p.n_sub,
            t_max=t_max,
            n_paths=p.n_paths,
            rng=np.random.default_rng(seed),
            record_every=n_steps,
            **p.sim_options(e),
        )
        theta = res["chain"]["theta"][-1]
        if _diverged(p, e, theta):
            return {
                "loss_final": math.inf,
                "weak_error_sde1": math.nan,
                "weak_error_sme2": math.nan,
                "spread": math.inf,
            }
        f_chain = res["chain"]["loss"][-1]
        out = {
            "loss_final": float(np.mean(f_chain)),
            "weak_error_sde1": math.nan,
            "weak_error_sme2": math.nan,
            "spread": float(np.sqrt(np.sum(np.var(theta, axis=0, ddof=1)))),
        }
        for order in orders:
            out[f"weak_error_{order}"] = float(np.mean(f_chain - res[order]["loss"][-1]))
    return out


def seconds(values: Mapping[str, Any]) -> float:
    r"""Estimated single-core seconds of one :func:`run` at ``values``.

    .. math::

        s = s_0 + c\,K\,n_{sub}\,N\,(t_{chain} + t_{SDE1} + t_{SME2})

    with K steps, N paths, the per path-substep times of :mod:`app.models.adaptive.costs`
    (per landscape; SME2 only where it runs) without their safety margin, the calibration
    c = :data:`CALIBRATION` and the overhead s0 = :data:`OVERHEAD_S`, both measured on the
    2-core reference machine.

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`AdaptiveParams` by name.

    Returns
    -------
    float
        Seconds.
    """
    p = _point(values)
    e = p.effective()
    _, n_steps = _horizon(e, p.t_final)
    cost = costs.run_cost(
        e["optimizer"], p.landscape, _orders(p, e), n_steps, p.n_sub, p.n_paths, n_steps, p.w2
    )
    return OVERHEAD_S + CALIBRATION * cost.seconds / costs.MARGIN


def critical_tau(values: Mapping[str, Any]) -> float:
    r"""The divergence limit of the step, in SDE time τ (spec §2.3; [derived]).

    .. math::

        \tau^* = \frac{2(\sigma\sqrt{v_1} + \epsilon)}{\lambda_{\max}}\ \text{(RMSprop,
        Adam)},\qquad \tau^* = \frac2{\lambda_{\max}}\ \text{(SGD)}

    with λ_max the landscape's top curvature and v1 = Σ̂_d the smallest per-sample gradient
    variance at the minimum (:meth:`AdaptiveModel.curvature`,
    :meth:`AdaptiveModel.noise_scale_hat`), σ and ε the noise scale and ε of the regime (σ0,
    ε0 batch-equivalent). It is :func:`kernels.adaptive.stability_limit` on the chain's η,
    rewritten in τ: ballistic η = τ; batch-equivalent η = √τ with ε = ε0/η and
    v* = σ0²Σ̂_d/η², so η < 2(√v* + ε)/λ_max reads τ < 2(σ0√Σ̂_d + ε0)/λ_max.

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`AdaptiveParams` by name.

    Returns
    -------
    float
        τ*: the chain diverges (SGD) or leaves its noise floor (RMSprop, Adam) for τ > τ*.
    """
    p = _point(values)
    return ad.stability_limit(p.optimizer, p.curvature(), p.eps, p.sigma**2 * p.noise_scale_hat())


def _log2_tau_gap(values: Mapping[str, Any]) -> float:
    """log₂ τ − log₂ τ*: negative on the stable side, positive beyond the limit."""
    return float(values["log2_tau"]) - math.log2(critical_tau(values))


#: Samples of the free axis when log₂ τ is one of the pair (the line is explicit).
N_LINE = 201
#: Grid of the implicit case (marching squares, each crossing refined by bisection).
N_GRID = 41
N_BISECT = 40


def divergence_boundary(
    values: Mapping[str, Any],
    x: str,
    y: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
) -> list[Curve]:
    r"""The divergence limit τ = τ* (:func:`critical_tau`) in the (x, y) plane.

    With log₂ τ on an axis the line is explicit, log₂ τ = log₂ τ*(other axis), sampled at
    :data:`N_LINE` points of the other axis. Otherwise the zero set of
    g = log₂ τ − log₂ τ*(x, y) is traced by marching squares on an :data:`N_GRID`² grid, each
    crossing of a cell edge refined by bisection along that edge, so every returned point lies
    on the closed form (pieces separated by NaN). Points outside the ranges are NaN.

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`AdaptiveParams` by name (the point of the other params).
    x, y : str
        The swept parameters.
    x_range, y_range : (float, float)
        Their ranges.

    Returns
    -------
    list of Curve
        One polyline, or ``[]`` when the pair does not move the limit or it lies outside the
        ranges.

    Notes
    -----
    [derived] (:func:`kernels.adaptive.stability_limit`).
    """
    base = {**_DEFAULTS, **values}
    (x0, x1), (y0, y1) = sorted(map(float, x_range)), sorted(map(float, y_range))
    if "log2_tau" in (x, y):
        other, (o0, o1) = (y, (y0, y1)) if x == "log2_tau" else (x, (x0, x1))
        t0, t1 = (x0, x1) if x == "log2_tau" else (y0, y1)
        os = np.linspace(o0, o1, N_LINE)
        ts = np.array([math.log2(critical_tau({**base, other: o})) for o in os])
        ts[(ts < t0) | (ts > t1)] = np.nan
        if not np.any(np.isfinite(ts)):
            return []
        return [(ts, os) if x == "log2_tau" else (os, ts)]
    return _marching_squares(lambda a, b: _log2_tau_gap({**base, x: a, y: b}), (x0, x1), (y0, y1))


def _marching_squares(
    g: Callable[[float, float], float], x_range: tuple[float, float], y_range: tuple[float, float]
) -> list[Curve]:
    """Segments of the zero set of ``g`` on a grid, crossings refined by bisection."""
    xs = np.linspace(*x_range, N_GRID)
    ys = np.linspace(*y_range, N_GRID)
    pos = np.array([[g(a, b) >= 0 for b in ys] for a in xs])
    if pos.all() or not pos.any():
        return []

    def refine(p: tuple[float, float], q: tuple[float, float], p_pos: bool) -> tuple[float, float]:
        (pa, pb), (qa, qb) = p, q
        for _ in range(N_BISECT):
            ma, mb = 0.5 * (pa + qa), 0.5 * (pb + qb)
            if (g(ma, mb) >= 0) == p_pos:
                pa, pb = ma, mb
            else:
                qa, qb = ma, mb
        return 0.5 * (pa + qa), 0.5 * (pb + qb)

    crossing: dict[tuple[int, int, int, int], tuple[float, float]] = {}

    def cross(i: int, j: int, k: int, m: int) -> tuple[float, float]:
        key = (i, j, k, m) if (i, j) < (k, m) else (k, m, i, j)
        if key not in crossing:
            crossing[key] = refine((xs[i], ys[j]), (xs[k], ys[m]), bool(pos[i, j]))
        return crossing[key]

    px: list[float] = []
    py: list[float] = []
    for i in range(N_GRID - 1):
        for j in range(N_GRID - 1):
            ring = ((i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1))
            points = [
                cross(*a, *b)
                for a, b in zip(ring, ring[1:] + ring[:1], strict=True)
                if pos[a] != pos[b]
            ]
            for s in range(0, len(points) - 1, 2):
                (ax, ay), (bx, by) = points[s], points[s + 1]
                px += [ax, bx, math.nan]
                py += [ay, by, math.nan]
    return [(np.array(px), np.array(py))]


SWEEP = ModelSweep(
    slug="adaptive",
    params_class=AdaptiveParams,
    parameters=PARAMETERS,
    headline=("log2_tau", "c2"),
    outcomes=OUTCOMES,
    run=run,
    seconds=seconds,
    boundary=divergence_boundary,
    boundary_label="divergence limit τ* = 2(σ√Σ̂_d + ε)/λ_max (SGD: 2/λ_max)",
    fixed={},
)
