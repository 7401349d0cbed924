r"""Token synchronization under parameter sweeps (issue 15): outcomes, parameters, the λ = 0 line.

One replicate is the live view's run (spec ``models/tokens.md`` §2–§4) taken to its horizon:
the same start (:func:`app.models.tokens.studies.start_tokens`), the same kernel calls
(:func:`kernels.tokens.simulate`, continued chunk by chunk with one Generator, which the kernel
guarantees is bit-identical to one long call) and the same snapshot stride
(:data:`app.models.tokens.model.MAX_RECORDS` snapshots). The replicate's Generator is
``np.random.default_rng(seed)``, as the live model's, so a replicate *is* the live run at that
seed and parameter point. Outcomes (spec §4 panels 1 and 3, §6.2):

* ``final_log_diameter`` (default): :math:`\log\operatorname{diam}(x_T)`, the clearest
  synchronized/spread contrast in one number;
* ``sync_fraction``: the GLPR fraction of pairs with :math:`\langle x_i,x_j\rangle > 0.999`;
* ``diameter_slope``: the measured depth slope of the log-diameter where the pair linearization
  holds, to set against ``predicted_lambda`` (:math:`\lambda_{\rm dist}`, closed form). Its
  window is the longest stretch of snapshots with 1e-6 < diameter < 0.45, on either side of the
  line: the live panel's fit (:func:`app.models.tokens.readouts.diameter_fit`) runs from the
  first such snapshot to the end of the run, which is the same for a collapsing cloud but, for
  a pair that separates (λ > 0), averages in the saturated part (measured 0.38 for λ = 1.375,
  where this window gives 1.47 ± 0.09);
* ``clusters``: connected groups at overlap 0.9999 (odd activations leave two antipodal ones).

No outcome has a "better" direction: synchronization is the phenomenon, neither good nor bad (in
a transformer it is rank collapse).

Parameters: the bounded numeric params of :class:`~app.models.tokens.params.TokensParams` that
change a replicate's outcomes. ``dim`` is a Selector (not sweepable by the interface) and is set
with the other choices; ``n_real`` (the ensemble panel's size) and ``energy_q`` (a display
option) change no outcome here. ``rho0`` matters only for the pair and equiangular starts.
Headline σ_n × α: the issue's pair and the spec's phase diagram (§4 panel 6), where common noise
fights repulsive attention across the line :math:`\alpha_{\rm eff} = \sigma_n^2\lambda_1`.

Cost: the teaching default (N = 32, d = 3, m = 64, 2000 layers) takes 9 ms per replicate on an
idle core of the 2-core machine (17–30 ms while other jobs run), and the heaviest corner of the
default headline sweep (attention on) 12–24 ms, well under the 0.2 s per replicate a default
8 × 8 × 4 sweep allows; so :attr:`SWEEP.fixed` is empty and a sweep runs the live horizon and
sizes, which makes a cell's replicate the very run the live view shows at that seed.

Agazzi, Bruno, Mosig García, Saviozzi, Romito, arXiv:2604.26898.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.models.tokens import costs, studies
from app.models.tokens.model import MAX_RECORDS
from app.models.tokens.params import TokensParams
from app.models.tokens.readouts import DIAMETER_FLOOR, MIN_FIT_POINTS, NEAR_SYNC_DIAMETER
from app.sweeps.spec import Curve, ModelSweep, Outcome
from kernels import tokens
from kernels.common.dual_kernel import CLOSED_FORM_ACTIVATIONS
from kernels.tokens import theory as token_theory

__all__ = [
    "BOUNDARY_LABEL",
    "HEADLINE",
    "OUTCOMES",
    "PARAMETERS",
    "SWEEP",
    "boundary",
    "kernel_kwargs",
    "run",
    "seconds",
]

PARAMETERS: tuple[str, ...] = (
    "sigma_noise",
    "attn_strength",
    "beta",
    "sigma_w",
    "sigma_b",
    "n_tokens",
    "width",
    "dt",
    "t_max",
    "rho0",
)
HEADLINE: tuple[str, str] = ("sigma_noise", "attn_strength")

OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "final_log_diameter",
        "final log-diameter",
        "",
        "none",
        "Natural log of the largest distance between two tokens at the horizon, floored at "
        "log 1e-9 (the live plot's floor): about 0.7 when spread, very negative when synchronized.",
    ),
    Outcome(
        "sync_fraction",
        "synchronized pairs",
        "",
        "none",
        "Fraction of token pairs with overlap above 0.999 at the horizon (the GLPR statistic).",
    ),
    Outcome(
        "diameter_slope",
        "log-diameter slope",
        "per unit depth",
        "none",
        "Least-squares slope of the log-diameter over the longest stretch of snapshots with "
        "1e-6 < diameter < 0.45, where λ_dist predicts it; over the second half of the run "
        "(about 0) when the tokens never come that close.",
    ),
    Outcome(
        "predicted_lambda",
        "predicted λ_dist",
        "per unit depth",
        "none",
        "The two-token Lyapunov exponent of the distance, closed form in the kernel moments; "
        "the same in every replicate.",
    ),
    Outcome(
        "clusters",
        "clusters",
        "",
        "none",
        "Connected groups of tokens at the horizon, two tokens linked when their overlap "
        "exceeds 0.9999 (antipodal clusters count separately).",
    ),
)

BOUNDARY_LABEL = "λ_dist = 0: noise balances attention (two-token closed form)"

#: Diameters at or below this are round-off for a slope (the default floor of
#: :func:`kernels.tokens.fit_log_slope`).
SLOPE_FLOOR = 1e-6
#: Snapshots simulated per kernel call: bounds the frames held at once (N = 256, d = 64:
#: 51 frames ≈ 7 MB rather than 400 frames ≈ 52 MB).
FRAMES_PER_CALL = 50

#: The params whose values enter λ_dist (spec §6.2).
LAMBDA_PARAMS = ("sigma_noise", "attn_strength", "beta", "sigma_w", "sigma_b")
#: Grid nodes per axis on which the λ_dist = 0 contour is traced; fewer when both axes are
#: σ_w and σ_b (each node then evaluates the moments' closed form, ~20 µs).
BOUNDARY_NODES = 161
BOUNDARY_NODES_MOMENTS_2D = 81

#: Cost constants of :func:`seconds` (fitted to measured replicates; see its docstring): one
#: normal drawn, one work unit of the MLP and Norm, one of attention, one call of a smooth
#: activation, one pair and (d + 8) of a diameter, and the fixed part of a replicate.
SECONDS_PER_NORMAL = 6e-9
SECONDS_PER_WORK = 0.12e-9
SECONDS_PER_ATTENTION = 0.1e-9
SECONDS_PER_ACTIVATION = 12e-9
SECONDS_PER_PAIR_DIM = 0.3e-9
OVERHEAD_SECONDS = 0.6e-3
#: Activations the MLP evaluates inline at no cost beyond its work units (kinked, d ≤ 3 fused).
FUSED_ACTIVATIONS = ("linear", "relu", "leaky_relu")


# ------------------------------------------------------------------------------------ run
def kernel_kwargs(values: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :func:`kernels.tokens.simulate` at a parameter point.

    The same mapping as :meth:`app.models.tokens.model.TokensModel.kernel_kwargs`, read from a
    plain dict (integer params rounded, so a sweep grid of floats is accepted).

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`~app.models.tokens.params.TokensParams` by name.

    Returns
    -------
    dict
        ``dt, sigma_noise, activation, width, attn_kind, attn_strength, beta, sigma_w,
        sigma_b, noise_sharing, hidden_weights, splitting, manifold``.

    Notes
    -----
    No equation: a change of representation. Provenance: not applicable.
    """
    return {
        "dt": float(values["dt"]),
        "sigma_noise": float(values["sigma_noise"]),
        "activation": values["activation"],
        "width": round(float(values["width"])),
        "attn_kind": values["attn_kind"],
        "attn_strength": float(values["attn_strength"]),
        "beta": float(values["beta"]),
        "sigma_w": float(values["sigma_w"]),
        "sigma_b": float(values["sigma_b"]),
        "noise_sharing": values["noise_sharing"],
        "hidden_weights": values["hidden_weights"],
        "splitting": values["splitting"],
        "manifold": values["manifold"],
    }


def _sizes(values: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """(tokens simulated, d, layers to the horizon, layers between snapshots), as the live run:
    the pair start always has two tokens, L = round(T/h), stride = ⌈T/(h·MAX_RECORDS)⌉."""
    n = 2 if values["init"] == "pair" else round(float(values["n_tokens"]))
    t_max, dt = float(values["t_max"]), float(values["dt"])
    n_steps = max(1, round(t_max / dt))
    stride = max(1, math.ceil(t_max / dt / MAX_RECORDS))
    return n, int(values["dim"]), n_steps, stride


def _finite(x: np.ndarray) -> bool:
    """The live model's divergence test: finite, and below its blow-up threshold."""
    return bool(np.all(np.isfinite(x)) and np.max(np.abs(x)) <= TokensParams.blowup_threshold)


def _linear_regime_slope(t: np.ndarray, diameter: np.ndarray) -> float:
    """Slope of log diameter over the longest run of snapshots in (SLOPE_FLOOR, NEAR_SYNC)
    (at least MIN_FIT_POINTS of them); else over the second half of the usable run."""
    inside = np.concatenate(([False], (diameter > SLOPE_FLOOR) & (diameter < NEAR_SYNC_DIAMETER)))
    edges = np.flatnonzero(np.diff(np.concatenate((inside, [False])).astype(np.int8)))
    starts, stops = edges[0::2], edges[1::2]  # runs [start, stop) in snapshot indices
    if starts.size:
        k = int(np.argmax(stops - starts))
        start, stop = int(starts[k]), int(stops[k])
        if stop - start >= MIN_FIT_POINTS:
            tt, dd = t[start:stop], diameter[start:stop]
            return float(tokens.fit_log_slope(tt, dd, floor=SLOPE_FLOOR, t_min=float(tt[0])))
    return float(tokens.fit_log_slope(t, diameter, floor=SLOPE_FLOOR))


def run(values: Mapping[str, Any], seed: int) -> dict[str, float]:
    r"""One replicate of the token model to its horizon; every outcome of :data:`OUTCOMES`.

    The live run at ``values`` with seed ``seed``: ``rng = np.random.default_rng(seed)``, the
    initial tokens (:func:`app.models.tokens.studies.start_tokens`), fixed hidden weights if
    chosen, then :math:`L = \mathrm{round}(T/h)` layers of :func:`kernels.tokens.simulate`

    .. math::
        y_i = x_i + h\alpha\sum_j w_{ij}x_j,\quad
        z_i = y_i + \sigma_n\sqrt{h/m}\,A_k s(\sigma_w B_k y_i + \sigma_b b_k),\quad
        x_i^{k+1} = z_i/|z_i|,

    with the diameter recorded every ``stride`` layers (the live view's ≤ 400 snapshots).

    Outcomes, with :math:`D(x) = \max_{i<j}|x_i - x_j|`:

    * ``final_log_diameter`` :math:`= \log\max(D(x_T), 10^{-9})` [derived];
    * ``sync_fraction`` :math:`= \binom N2^{-1}\#\{i<j: \langle x_i,x_j\rangle > 0.999\}`
      [literature: GLPR arXiv:2312.10794];
    * ``diameter_slope``: least-squares slope :math:`b` of :math:`\log D(x_{t_k}) \approx
      a + b t_k` over the longest stretch of snapshots with :math:`10^{-6} < D < 0.45` (the
      linear regime near synchronization, :math:`1-\rho \le 0.1`), at least 8 of them; when
      there is none, over the second half of the run down to :math:`10^{-6}`, which is about
      0 for tokens that stay spread [derived];
    * ``predicted_lambda`` :math:`= \lambda_{\rm dist} = -\alpha_{\rm eff} + \tfrac12\sigma_n^2
      [-(d-1)\kappa_1 + (d-3)\kappa_1']`, the rate ``diameter_slope`` estimates
      (:func:`kernels.tokens.lyapunov_exponent`) [derived, spec §6.2];
    * ``clusters``: connected components of the graph
      :math:`\langle x_i,x_j\rangle > 0.9999` [literature: GLPR].

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`~app.models.tokens.params.TokensParams` by name (``seed``
        among them is ignored: the replicate's seed is the argument).
    seed : int
        Seed of the replicate's Generator.

    Returns
    -------
    dict of str to float
        One value per outcome. A run that diverges (non-finite tokens or tokens beyond the
        live model's blow-up threshold, possible on the euclidean manifold) returns +inf for
        every measured outcome, the engine's mark of divergence (:func:`app.sweeps.engine.
        diverged`; NaN would mean "undefined here"); ``predicted_lambda`` stays its closed form.
        ``diameter_slope`` is NaN (undefined) only if fewer than 3 snapshots are usable.

    Raises
    ------
    ValueError
        For a combination the kernels refuse (none within the params' bounds is known).
    """
    kw = kernel_kwargs(values)
    n, d, n_steps, stride = _sizes(values)
    rng = np.random.default_rng(int(seed))
    x, _ = studies.start_tokens(values["init"], n, d, rng, float(values["rho0"]))
    fixed = None
    if kw["hidden_weights"] == "fixed":
        fixed = tokens.draw_fixed_weights(n, d, kw["width"], rng, noise_sharing=kw["noise_sharing"])
    predicted = float(
        tokens.lyapunov_exponent(
            kw["activation"],
            d,
            sigma_noise=kw["sigma_noise"],
            sigma_w=kw["sigma_w"],
            sigma_b=kw["sigma_b"],
            attn_kind=kw["attn_kind"],
            attn_strength=kw["attn_strength"],
            beta=kw["beta"],
        )
    )
    snapshots = n_steps // stride
    diameters = [np.atleast_1d(tokens.diameter(x))]
    done = 0
    with np.errstate(all="ignore"):
        while done < snapshots and _finite(x):
            k = min(FRAMES_PER_CALL, snapshots - done)
            path = tokens.simulate(
                x, n_steps=k * stride, stride=stride, rng=rng, fixed_weights=fixed, **kw
            )
            diameters.append(tokens.diameter(path[1:]))
            x, done = path[-1], done + k
        rest = n_steps - snapshots * stride  # layers after the last snapshot, as the live run
        if rest and _finite(x):
            end = tokens.simulate(x, n_steps=rest, stride=rest, rng=rng, fixed_weights=fixed, **kw)
            x = end[-1]
        if not _finite(x):
            return {o.name: math.inf for o in OUTCOMES} | {"predicted_lambda": predicted}
        diameter = np.concatenate(diameters)
        t = np.arange(diameter.size) * stride * kw["dt"]
        clusters, fraction = tokens.cluster_stats(x)
        return {
            "final_log_diameter": math.log(max(float(tokens.diameter(x)), DIAMETER_FLOOR)),
            "sync_fraction": float(fraction),
            "diameter_slope": _linear_regime_slope(t, diameter),
            "predicted_lambda": predicted,
            "clusters": float(clusters),
        }


# -------------------------------------------------------------------------------- seconds
def seconds(values: Mapping[str, Any]) -> float:
    r"""Estimated single-core seconds of one :func:`run` at ``values``.

    .. math::
        t \approx L\big(c_{\rm n} Q + c_{\rm w} W_{\rm mlp} + c_{\rm a} W_{\rm attn}
        + c_{\rm s} E\big) + c_{\rm p}(F+1)\tbinom N2 (d+8) + t_0,

    per layer (L of them): Q normals drawn (:func:`app.models.tokens.costs.block_size`), the work
    units of the MLP and Norm and of attention (:func:`app.models.tokens.costs.work_per_layer`
    with and without attention), and E = N·m (×2 for Strang) activation calls when s is smooth
    (the kinked ones are fused into the work units); then the diameter of F + 1 snapshots and a
    fixed part t₀ (start, theory, Python around the kernel calls).

    Calibration (2026-12, this 2-core machine, numba compiled): 19 replicates spanning N = 2–256,
    d = 3–64, m = 16–512, attention on and off, independent noise, Strang, fixed weights and five
    activations, each the fastest of 5 runs; a non-negative least-squares fit of relative error
    gave 4.8 ns per normal, 0.09 ns per MLP unit, 0.062 ns per attention unit, 9.9 ns per smooth
    activation call, 0.25 ns per pair·(d+8) and 0.47 ms fixed, within ×1.2 of every point but
    softmax attention at N = 256, d = 64 (×0.6: its cost per unit grows with d). The constants
    (:data:`SECONDS_PER_NORMAL`, …) are those rounded up by about 25 %. Teaching default: 9 ms
    measured, 11 ms estimated. While other jobs share the machine a replicate runs up to ×2.5
    slower (measured 17–30 ms at the default); the slow test in
    ``tests/app/test_tokens_sweep.py`` holds the estimate within ×3 of the measurement.

    Not included: the first evaluation of the kernel moments κ₁, κ₁' for a quadrature activation
    at a new (σ_w, σ_b) (:func:`kernels.tokens.lyapunov_exponent` for ``predicted_lambda``),
    which builds a Gauss–Hermite rule once per rule size and process (up to ~1 s at q = 9).

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`~app.models.tokens.params.TokensParams` by name.

    Returns
    -------
    float
        Seconds, > 0.

    Notes
    -----
    A cost model, not a result: no provenance tag.
    """
    kw = kernel_kwargs(values)
    n, d, n_steps, stride = _sizes(values)
    frames = n_steps // stride + 1
    q = costs.block_size(kw, n, d)
    work = costs.work_per_layer(kw, n, d) - 4 * q  # the normals are counted by q
    attention = work - (costs.work_per_layer({**kw, "attn_strength": 0.0}, n, d) - 4 * q)
    calls = 0
    if kw["sigma_noise"] > 0.0 and kw["activation"] not in FUSED_ACTIVATIONS:
        calls = n * kw["width"] * (2 if kw["splitting"] == "strang" else 1)
    layer = (
        SECONDS_PER_NORMAL * q
        + SECONDS_PER_WORK * (work - attention)
        + SECONDS_PER_ATTENTION * attention
        + SECONDS_PER_ACTIVATION * calls
    )
    pairs = SECONDS_PER_PAIR_DIM * frames * n * (n - 1) / 2 * (d + 8)
    return n_steps * layer + pairs + OVERHEAD_SECONDS


# ------------------------------------------------------------------------------- boundary
def _grid(values: Mapping[str, Any], x: str, y: str, xs: np.ndarray, ys: np.ndarray) -> dict:
    """The five λ params on the (len(ys), len(xs)) grid: x and y varying, the others fixed."""
    grid = {}
    for name in LAMBDA_PARAMS:
        value = np.full((ys.size, xs.size), float(values[name]))
        if name == x:
            value = np.broadcast_to(xs[None, :], value.shape).copy()
        if name == y:
            value = np.broadcast_to(ys[:, None], value.shape).copy()
        grid[name] = value
    return grid


def _nodes(span: Sequence[float], n: int) -> np.ndarray:
    """n grid nodes over (lo, hi): geometric where a sweep axis defaults to a log scale
    (lo > 0 and hi/lo > 20, as :mod:`app.sweeps.grid`), so a log plot gets even detail."""
    lo, hi = float(span[0]), float(span[1])
    if lo > 0.0 and hi / lo > 20.0:
        return np.geomspace(lo, hi, n)
    return np.linspace(lo, hi, n)


def _lambda_parts(values: Mapping[str, Any], grid: dict) -> tuple[np.ndarray, np.ndarray]:
    """λ₁ (λ_dist at σ_n = 1 without attention) and the gain α_eff/α at every grid node, each
    closed form evaluated once per distinct (σ_w, σ_b) or β."""
    act, d, kind = values["activation"], int(values["dim"]), values["attn_kind"]
    weights = np.stack([grid["sigma_w"].ravel(), grid["sigma_b"].ravel()], axis=1)
    pairs, where = np.unique(weights, axis=0, return_inverse=True)
    lambda_1 = np.array([token_theory.lyapunov_exponent(act, d, 1.0, sw, sb) for sw, sb in pairs])
    betas, at = np.unique(grid["beta"], return_inverse=True)
    gain = np.array([token_theory.attention_effective_strength(kind, 1.0, b) for b in betas])
    shape = grid["beta"].shape
    return lambda_1[where.ravel()].reshape(shape), gain[at.ravel()].reshape(shape)


def _edge_roots(
    name: str,
    lo: np.ndarray,
    hi: np.ndarray,
    lam_lo: np.ndarray,
    lam_hi: np.ndarray,
    node: dict,
) -> np.ndarray:
    """Where λ = 0 on grid edges along parameter ``name`` from ``lo`` to ``hi``.

    Closed form when λ is explicit in ``name`` (λ = σ_n²λ₁ − α·gain(β)): α = σ_n²λ₁/gain,
    σ_n = √(α·gain/λ₁), β = log(σ_n²λ₁/α) (USA); linear interpolation along σ_w, σ_b.
    ``node``: the other params (and ``lambda_1``, ``gain``) at the edges' first nodes.
    """
    sn, a, l1, g = node["sigma_noise"], node["attn_strength"], node["lambda_1"], node["gain"]
    with np.errstate(all="ignore"):
        linear = lo + (hi - lo) * lam_lo / (lam_lo - lam_hi)
        if name == "attn_strength":
            root = sn * sn * l1 / g
        elif name == "sigma_noise":
            root = np.sqrt(a * g / l1)
        elif name == "beta" and node["kind"] == "usa":
            root = np.log(sn * sn * l1 / a)
        else:
            root = linear
        root = np.where(np.isfinite(root), root, linear)
    return np.clip(root, np.minimum(lo, hi), np.maximum(lo, hi))


def _chains(segments: list[tuple[Any, Any]]) -> list[list[Any]]:
    """Join segments (pairs of edge keys) that share an edge into maximal chains of keys."""
    links: dict[Any, list[int]] = {}
    for k, (p, q) in enumerate(segments):
        links.setdefault(p, []).append(k)
        links.setdefault(q, []).append(k)
    used = [False] * len(segments)
    chains = []
    # open chains start at an end shared by one segment, closed loops anywhere
    starts = [key for key, ks in links.items() if len(ks) == 1] + list(links)
    for start in starts:
        key, chain = start, [start]
        while True:
            nxt = next((k for k in links[key] if not used[k]), None)
            if nxt is None:
                break
            used[nxt] = True
            p, q = segments[nxt]
            key = q if p == key else p
            chain.append(key)
        if len(chain) > 1:
            chains.append(chain)
    return chains


def boundary(
    values: Mapping[str, Any],
    x: str,
    y: str,
    x_range: Sequence[float],
    y_range: Sequence[float],
) -> list[Curve]:
    r"""The λ_dist = 0 line in the (x, y) plane at the other parameters ``values``.

    Two tokens synchronize locally iff :math:`\lambda_{\rm dist} < 0` (spec §6.2, [derived]):

    .. math::
        \lambda_{\rm dist} = \sigma_n^2\lambda_1(\sigma_w, \sigma_b) - \alpha\,g(\beta),
        \quad \lambda_1 = \tfrac12\big[-(d-1)\kappa_1 + (d-3)\kappa_1'\big],
        \quad g = 1\ (\text{SA}),\ e^{\beta}\ (\text{USA}),

    (:func:`kernels.tokens.lyapunov_exponent` at :math:`\sigma_n = 1`, α = 0 gives
    :math:`\lambda_1`; :func:`kernels.tokens.theory.attention_effective_strength` gives g). In
    the σ_n × α plane this is :math:`\alpha = \sigma_n^2\lambda_1/g`
    (:func:`kernels.tokens.theory.phase_line_alpha`; ReLU, d = 3, SA: :math:`\alpha =
    -\sigma_n^2/2`). For any pair the sign of λ is tabulated on a
    :data:`BOUNDARY_NODES`-square grid over the ranges (geometric along an axis the sweep draws
    on a log scale, linear otherwise) and the zero contour traced cell by cell
    (marching squares); the crossing on each grid edge is solved in closed form along σ_n, α and
    β (so those points lie exactly on the line) and interpolated linearly along σ_w and σ_b.
    λ does not depend on N, m, h, T or ρ₀: against one of those the line is straight, and a pair
    of two of them has none. Along σ_w or σ_b the line is drawn only for activations whose
    moments κ₁, κ₁' have closed forms (linear, ReLU, leaky ReLU, erf, sin): for the others each
    new pre-activation variance needs a Gauss–Hermite rule of up to 2304 nodes, whose first
    construction takes up to seconds in :mod:`kernels.common.dual_kernel` (measured: 14 s for all
    rules up to q = 9 with tanh), too slow to trace a line over a grid. Where σ_n = 0 and α = 0
    nothing moves and λ = 0 trivially; those nodes take the sign of λ₁ (the limit σ_n → 0), so
    no line is drawn along that edge.

    Parameters
    ----------
    values : mapping
        Every parameter of :class:`~app.models.tokens.params.TokensParams` by name.
    x, y : str
        The swept parameters (names in :data:`PARAMETERS`).
    x_range, y_range : sequence of two floats
        The plotted ranges (lo, hi).

    Returns
    -------
    list of Curve
        One ``(xs, ys)`` polyline per connected piece of the line inside the ranges; ``[]``
        when λ has one sign over the whole plane (or depends on neither parameter).
    """
    if x not in LAMBDA_PARAMS and y not in LAMBDA_PARAMS:
        return []
    moment_axes = {x, y} & {"sigma_w", "sigma_b"}
    if moment_axes and values["activation"] not in CLOSED_FORM_ACTIVATIONS:
        return []
    nodes = BOUNDARY_NODES_MOMENTS_2D if len(moment_axes) == 2 else BOUNDARY_NODES
    xs, ys = _nodes(x_range, nodes), _nodes(y_range, nodes)
    grid = _grid(values, x, y, xs, ys)
    lambda_1, gain = _lambda_parts(values, grid)
    sn, a = grid["sigma_noise"], grid["attn_strength"]
    lam = sn * sn * lambda_1 - a * gain
    static = (sn == 0.0) & (a * gain == 0.0)
    lam = np.where(static, lambda_1, lam)  # the σ_n → 0 limit of λ/σ_n² where nothing moves
    positive = lam > 0.0
    if positive.all() or not positive.any():
        return []
    node = {**grid, "lambda_1": lambda_1, "gain": gain, "kind": values["attn_kind"]}

    def first(sl: tuple[slice, slice]) -> dict:
        return {k: (v[sl] if isinstance(v, np.ndarray) else v) for k, v in node.items()}

    # crossings on the edges along x ("h", j, i): nodes (j, i)-(j, i+1); along y ("v", j, i)
    left, right = (slice(None), slice(None, -1)), (slice(None), slice(1, None))
    low, up = (slice(None, -1), slice(None)), (slice(1, None), slice(None))
    gx = np.broadcast_to(xs[None, :], lam.shape)
    gy = np.broadcast_to(ys[:, None], lam.shape)
    h_root = _edge_roots(x, gx[left], gx[right], lam[left], lam[right], first(left))
    v_root = _edge_roots(y, gy[low], gy[up], lam[low], lam[up], first(low))
    h_cross = positive[left] != positive[right]
    v_cross = positive[low] != positive[up]

    def point(key: tuple[str, int, int]) -> tuple[float, float]:
        kind, j, i = key
        return (h_root[j, i], ys[j]) if kind == "h" else (xs[i], v_root[j, i])

    segments = []
    cells = h_cross[:-1, :] | h_cross[1:, :] | v_cross[:, :-1] | v_cross[:, 1:]
    for j, i in zip(*np.nonzero(cells), strict=True):
        sides = {
            "bottom": ("h", j, i),
            "top": ("h", j + 1, i),
            "left": ("v", j, i),
            "right": ("v", j, i + 1),
        }
        crossed = [
            s for s, (k, jj, ii) in sides.items() if (h_cross if k == "h" else v_cross)[jj, ii]
        ]
        if len(crossed) == 2:
            segments.append((sides[crossed[0]], sides[crossed[1]]))
        elif len(crossed) == 4:  # saddle: cut off the corners whose sign differs from the centre
            centre = lam[j : j + 2, i : i + 2].mean() > 0.0
            corners = {
                ("bottom", "left"): positive[j, i],
                ("bottom", "right"): positive[j, i + 1],
                ("top", "right"): positive[j + 1, i + 1],
                ("top", "left"): positive[j + 1, i],
            }
            for (s1, s2), sign in corners.items():
                if sign != centre:
                    segments.append((sides[s1], sides[s2]))
    curves: list[Curve] = []
    for chain in _chains(segments):
        pts = np.array([point(key) for key in chain], dtype=float)
        curves.append((pts[:, 0], pts[:, 1]))
    return curves


SWEEP = ModelSweep(
    slug="tokens",
    params_class=TokensParams,
    parameters=PARAMETERS,
    headline=HEADLINE,
    outcomes=OUTCOMES,
    run=run,
    seconds=seconds,
    boundary=boundary,
    boundary_label=BOUNDARY_LABEL,
    fixed={},
)
