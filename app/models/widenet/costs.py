"""What the widenet tab's work costs, from all its parameters together (issue 13, bounded work).

Every piece of work the model runs is costed here *before* anything is allocated:

* the width sweep (:func:`sweep_cost`): R + min(R, 3) replicates (main and all-Gaussian
  baseline) of M networks at every width, each replicate holding y (W, M, k) and Σ̂ (W, M, k, k),
  reduced to sufficient statistics, plus the true first-layer kernel's Monte Carlo;
* the Lindeberg exchange (:func:`lindeberg_cost`): L + 2 hybrids of M networks at one width;
* the animated run's recorded history (:func:`cache_bytes`): the cached sweep results (the
  replicate-0 samples as float32 and the statistics of every replicate). Play itself only
  steps the width shown through the cached sweep (no sampling).

:func:`fit_sweep` scales an over-budget sweep down (fewer replicates R, then fewer networks M,
then the widest widths dropped, M grown back as far as fits) and says so; :func:`fit_lindeberg`
scales the exchange's M down. Both raise :class:`app.models.budget.OverBudget` if even the
smallest version does not fit.

Seconds are operation counts × per-operation constants measured on the 2-core machine (with
five other sessions sharing it, load ≈ 4–6) by timing the real kernels as the job runs them
(``kernels.widenet.studies._sample_widths`` with the default two numba threads; the reduction
``_reduce`` and the first-layer Monte Carlo ``SweepConfig.target`` single-threaded), then
multiplied by :data:`MARGIN` = 1: measured under that load they already overstate a quiet
machine (the Lindeberg preset: 32 s estimated with a margin of 2, 20 s measured at load 6, about
5 s quiet), and the job deadline (:data:`app.models.jobs.JOB_DEADLINE_S`) bounds any job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from app.models.budget import MAX_JOB_BYTES, MAX_JOB_SECONDS, Cost, OverBudget, largest_fitting
from kernels.widenet.studies import SweepConfig, hybrid_laws

__all__ = [
    "MARGIN",
    "MIN_NETS",
    "MIN_REPLICATES",
    "cache_bytes",
    "fit_lindeberg",
    "fit_sweep",
    "lindeberg_cost",
    "net_seconds",
    "over",
    "result_bytes",
    "sample_arrays_bytes",
    "step_cost",
    "sweep_cost",
]

#: Safety factor on every time estimate (module docstring).
MARGIN = 1.0
#: Fewest networks per width a scaled-down sweep or exchange keeps (the control's lower bound).
MIN_NETS = 1000
#: Fewest replicates a scaled-down sweep keeps (the control's lower bound: error bars).
MIN_REPLICATES = 3
#: Dimension of the inputs x_r (points on the unit circle).
N0 = 2
#: Rao–Blackwell bins kept per (replicate, width, input) (``kernels.widenet.rao_blackwell``).
RB_BINS = 256
#: Statistics of shape (W, k) per replicate (s2, c, c_two, skew, kurt, cs2, cs).
N_SCALAR_STATS = 7
#: Samples of the true first-layer law's Monte Carlo (``kernels.widenet.theory``).
FIRST_LAYER_MC = 10**7

# ---- measured constants, nanoseconds (2-core machine, 2026-12, under load ≈ 4–6) -------------
# Shallow prefix sweep (L = 1), per hidden unit = draws × SHALLOW_DRAW_NS[law] + k activations
# + k·n0 + k² multiply-adds (SHALLOW_MAC_NS): timed with _sample_widths on 8000 networks of
# width 1024 (c_b > 0: 4 draws per unit): gaussian 38.6 / 61.5 ns per unit at k = 1 / 3,
# rademacher 19.5 / 37.9, uniform 18.0 / 38.6, centred_exp 24.3 / 53.2, student_t 180 / 407
# (a fit of draws·d + k·act + k²·mac; Student-t rounded up).
SHALLOW_DRAW_NS = {
    "gaussian": 9.0,
    "rademacher": 4.0,
    "uniform": 4.0,
    "centred_exp": 5.0,
    "student_t": 80.0,
}
SHALLOW_MAC_NS = 3.0
# Dense layer (L ≥ 2), per weight = DENSE_DRAW_NS[law] + k·DENSE_MAC_NS: timed with
# _sample_widths on 1024 networks of width 256, L = 2, relu: rademacher 1.91 / 3.17 ns per
# weight at k = 1 / 3, uniform 2.26 / 3.34, centred_exp 4.17 / 5.61, student_t 52 / 88.
DENSE_DRAW_NS = {
    "gaussian": 9.0,
    "rademacher": 1.2,
    "uniform": 1.6,
    "centred_exp": 3.5,
    "student_t": 80.0,
}
DENSE_MAC_NS = 0.8
# Gaussian layer through the shortcut, per normal drawn (k per unit; the k² work is
# SHALLOW_MAC_NS): the all-Gaussian L = 2 network above, 18 / 61 ns per unit at k = 1 / 3.
GAUSS_NORMAL_NS = 13.0
# Activation, per unit and input: (tanh − linear) / k on the shallow sweep at k = 3, rademacher:
# 162 − 61 ns → 34 ns per tanh, 144 − 61 → 28 ns per erf; relu and linear a few ns.
ACTIVATION_NS = {"relu": 2.0, "linear": 2.0, "tanh": 35.0, "erf": 30.0}
# Reduction to sufficient statistics (_reduce: sorts, moments, Rao–Blackwell bins), per
# (width, network, input), single-threaded numpy: W = 10, M = 1e5, k = 3 took 3.7 s (1.2 µs);
# the lindeberg_swap sweep's 3.6e6 elements took 3.6 s (1.0 µs).
REDUCE_NS = 1300.0
# True first-layer Monte Carlo, per sample = 3 draws + k activations + overhead: measured
# 1.28 s (centred_exp, relu, k = 3) and 2.88 s (student_t, tanh, k = 3) for 1e7 samples.
MC_OVERHEAD_NS = 120.0
# Lindeberg exchange: sorting the M outputs of each hybrid and their differences, per network
# (the reduction's per-column timing, sort + moments of 20,000 values: 6 ms, 300 ns a value;
# the sort and one difference are about half of that).
SORT_NS = 150.0
#: One animation step: Play moves the width shown through the cached sweep and the panels
#: re-read cached statistics (measured ≤ 0.05 s at every maximum; the maxima test checks it).
STEP_SECONDS = 0.05

_BYTES = 8  # float64


def _k(cfg: SweepConfig) -> int:
    return int(cfg.n_inputs)


def net_seconds(cfg: SweepConfig, layer_laws: tuple[str, ...] | None = None) -> float:
    """Raw seconds (no margin) to sample one network at every width of ``cfg`` (or with the
    given per-layer laws), as :func:`kernels.widenet.studies._sample_widths` does it."""
    laws = cfg.layer_laws if layer_laws is None else layer_laws
    k = _k(cfg)
    act = ACTIVATION_NS[cfg.activation]
    has_bias = cfg.c_b > 0.0
    if cfg.n_hidden == 1:
        # one pass over the widest layer's units gives every width (shallow prefix sweep)
        per_unit = (
            (N0 + has_bias) * SHALLOW_DRAW_NS[laws[0]]
            + SHALLOW_DRAW_NS[laws[-1]]
            + k * (N0 * SHALLOW_MAC_NS + act)
            + k * k * SHALLOW_MAC_NS
        )
        return max(cfg.widths) * per_unit * 1e-9
    total = 0.0
    for n in cfg.widths:
        ns = 0.0
        for layer, law in enumerate(laws):
            fan_in = N0 if layer == 0 else n
            n_out = 1 if layer == len(laws) - 1 else n
            if law == "gaussian":  # the exact O(n k²) shortcut
                ns += n_out * k * GAUSS_NORMAL_NS + n * k * k * SHALLOW_MAC_NS
            else:
                ns += n_out * fan_in * (DENSE_DRAW_NS[law] + k * DENSE_MAC_NS)
                if has_bias and n_out > 1:
                    bias_law = law if layer == 0 else "gaussian"
                    ns += n_out * SHALLOW_DRAW_NS[bias_law]
            if n_out > 1:
                ns += n_out * k * act
        ns += n * k * k * SHALLOW_MAC_NS  # the readout's Gram matrix (Σ̂)
        total += ns
    return total * 1e-9


def _mc_seconds(cfg: SweepConfig) -> float:
    """Raw seconds of the true first-layer kernel's Monte Carlo (0 for a Gaussian first layer)."""
    law = cfg.layer_laws[0]
    if law == "gaussian":
        return 0.0
    per = 3 * SHALLOW_DRAW_NS[law] + _k(cfg) * ACTIVATION_NS[cfg.activation] + MC_OVERHEAD_NS
    return FIRST_LAYER_MC * per * 1e-9


def sample_arrays_bytes(cfg: SweepConfig) -> int:
    """Bytes of y (W, M, k) and Σ̂ (W, M, k, k) of one replicate (exact)."""
    k = _k(cfg)
    return len(cfg.widths) * cfg.n_nets * (k + k * k) * _BYTES


def _stats_bytes(cfg: SweepConfig, n_rep: int) -> int:
    """Bytes of the stacked statistics of ``n_rep`` replicates (exact)."""
    w, k = len(cfg.widths), _k(cfg)
    per = w * k * (N_SCALAR_STATS + min(RB_BINS, cfg.n_nets) + k)
    return n_rep * per * _BYTES


def result_bytes(cfg: SweepConfig) -> int:
    """Bytes of the arrays a finished sweep keeps (exact): replicate-0 samples as float32, the
    main and baseline statistics and the widths."""
    w, k = len(cfg.widths), _k(cfg)
    samples = w * cfg.n_nets * k * 4
    stats = _stats_bytes(cfg, cfg.n_replicates) + _stats_bytes(cfg, min(cfg.n_replicates, 3))
    return samples + stats + w * 8


def sweep_cost(cfg: SweepConfig) -> Cost:
    """Peak memory and time of the width sweep of ``cfg`` (main replicates and baseline)."""
    r_main, r_base = cfg.n_replicates, min(cfg.n_replicates, 3)
    w, m, k = len(cfg.widths), cfg.n_nets, _k(cfg)
    # transient, per replicate: y and Σ̂ (the shallow path holds its chunk parts too), the
    # isfinite mask, the reduction's vectors, the reference Gaussian sample and the grid
    held = sample_arrays_bytes(cfg) * (2 if cfg.n_hidden == 1 else 1)
    transient = held + w * m * k + 12 * m * _BYTES
    # kept: the result, and the statistics stacked once more while a replicate is added
    kept = result_bytes(cfg) + _stats_bytes(cfg, r_main)
    seconds = (
        r_main * m * net_seconds(cfg)
        + r_base * m * net_seconds(cfg.baseline())
        + (r_main + r_base) * w * m * k * REDUCE_NS * 1e-9
        + _mc_seconds(cfg)
    )
    what = (
        f"width sweep ({r_main} + {r_base} replicates × {m:,} networks, widths "
        f"{cfg.widths[0]}–{cfg.widths[-1]}, {cfg.n_hidden} hidden layer"
        f"{'s' if cfg.n_hidden > 1 else ''}, k = {k})"
    )
    return Cost(bytes=transient + kept, seconds=MARGIN * seconds, what=what)


def lindeberg_cost(cfg: SweepConfig, width: int, order: str = "readout_first") -> Cost:
    """Peak memory and time of the Lindeberg exchange of ``cfg`` at ``width``: L + 2 hybrids of
    M networks (one replicate)."""
    one = replace(cfg, widths=(int(width),), n_replicates=1)
    m = cfg.n_nets
    n_h = cfg.n_hidden + 2
    seconds = 0.0
    for j in range(n_h):
        seconds += m * net_seconds(one, hybrid_laws(cfg.layer_laws, j, order))
    seconds += n_h * m * SORT_NS * 1e-9 + _mc_seconds(cfg)
    held = sample_arrays_bytes(one) * (2 if cfg.n_hidden == 1 else 1)
    held_bytes = held + (n_h + 4) * m * _BYTES  # + the sorted outputs of every hybrid, the grid
    what = f"Lindeberg exchange ({n_h} hybrids × {m:,} networks at width {int(width)})"
    return Cost(bytes=held_bytes, seconds=MARGIN * seconds, what=what)


def cache_bytes(configs: list[SweepConfig]) -> int:
    """Memory the session keeps for its animated run: the cached sweep results."""
    return sum(result_bytes(c) for c in configs)


def step_cost() -> Cost:
    """One animation step: the width shown moves through the cached sweep."""
    return Cost(bytes=0.0, seconds=STEP_SECONDS, what="animation step")


def _largest(
    cost_of: Callable[[int], Cost], n: int, minimum: int, max_bytes: float, max_seconds: float
) -> int | None:
    """The largest fitting value in [minimum, n], or None if even ``minimum`` is over."""
    try:
        return largest_fitting(cost_of, n, minimum, max_bytes, max_seconds)[0]
    except OverBudget:
        return None


def fit_sweep(
    cfg: SweepConfig,
    max_bytes: float = MAX_JOB_BYTES,
    max_seconds: float = MAX_JOB_SECONDS,
) -> tuple[SweepConfig, str]:
    """The sweep that runs for ``cfg``: ``cfg`` itself if it fits, else one scaled down (fewer
    replicates, then fewer networks, then the widest widths dropped and the networks grown back
    as far as fits), and a notice naming the limit and what was done ("" if nothing). Raises
    :class:`OverBudget` if even the smallest sweep (3 replicates of 1000 networks at the two
    narrowest widths) is over."""
    full = sweep_cost(cfg)
    if full.fits(max_bytes, max_seconds):
        return cfg, ""
    limits = (max_bytes, max_seconds)

    def ok(c: SweepConfig) -> tuple[SweepConfig, str]:
        done = []
        if c.n_replicates != cfg.n_replicates:
            done.append(f"R = {c.n_replicates} (from {cfg.n_replicates})")
        if c.n_nets != cfg.n_nets:
            done.append(f"M = {c.n_nets:,} (from {cfg.n_nets:,})")
        if c.widths != cfg.widths:
            done.append(f"widths up to {c.widths[-1]} (from {cfg.widths[-1]})")
        why = over(full, max_bytes, max_seconds)
        return c, f"Scaled down to {', '.join(done)}: the sweep asked was {why}."

    r_min = min(MIN_REPLICATES, cfg.n_replicates)
    r = _largest(
        lambda r: sweep_cost(replace(cfg, n_replicates=r)), cfg.n_replicates, r_min, *limits
    )
    if r is not None:
        return ok(replace(cfg, n_replicates=r))
    c = replace(cfg, n_replicates=r_min)
    m_min = min(MIN_NETS, cfg.n_nets)
    m = _largest(lambda m: sweep_cost(replace(c, n_nets=m)), cfg.n_nets, m_min, *limits)
    if m is not None:
        return ok(replace(c, n_nets=m))
    c = replace(c, n_nets=m_min)
    keep_min = min(2, len(cfg.widths))
    n_w = _largest(
        lambda n: sweep_cost(replace(c, widths=cfg.widths[:n])), len(cfg.widths), keep_min, *limits
    )
    if n_w is None:
        smallest = replace(c, widths=cfg.widths[:keep_min])
        raise OverBudget(
            f"Too large: {over(sweep_cost(smallest), max_bytes, max_seconds)} even at "
            f"R = {smallest.n_replicates}, M = {m_min:,}, widths {smallest.widths[0]}–"
            f"{smallest.widths[-1]}. Lower the widths, the depth or M."
        )
    c = replace(c, widths=cfg.widths[:n_w])
    m = _largest(lambda m: sweep_cost(replace(c, n_nets=m)), cfg.n_nets, m_min, *limits)
    c = replace(c, n_nets=m or m_min)
    return ok(c)


def fit_lindeberg(
    cfg: SweepConfig,
    width: int,
    order: str = "readout_first",
    max_bytes: float = MAX_JOB_BYTES,
    max_seconds: float = MAX_JOB_SECONDS,
) -> tuple[SweepConfig, str]:
    """The exchange's config: ``cfg`` with as many of its M networks as fit, and a notice naming
    the limit if M was lowered; raises :class:`OverBudget` if 1000 networks do not fit."""

    def cost_of(m: int) -> Cost:
        return lindeberg_cost(replace(cfg, n_nets=m), width, order)

    full = cost_of(cfg.n_nets)
    if full.fits(max_bytes, max_seconds):
        return cfg, ""
    smallest = min(MIN_NETS, cfg.n_nets)
    try:
        m = largest_fitting(cost_of, cfg.n_nets, smallest, max_bytes, max_seconds)[0]
    except OverBudget:
        raise OverBudget(
            f"Too large: {over(cost_of(smallest), max_bytes, max_seconds)} even with "
            f"M = {smallest:,} networks. Lower the width shown, the depth or M."
        ) from None
    why = over(full, max_bytes, max_seconds)
    notice = f"Scaled down to M = {m:,} (from {cfg.n_nets:,}): the exchange asked was {why}."
    return replace(cfg, n_nets=m), notice


def over(cost: Cost, max_bytes: float = MAX_JOB_BYTES, max_seconds: float = MAX_JOB_SECONDS) -> str:
    """Which limit ``cost`` is over, in a few words ("" if none): "over the 30 s time limit
    (about 95 s)"."""
    if cost.bytes > max_bytes:
        return (
            f"over the {max_bytes / 2**20:.0f} MiB memory limit (about "
            f"{cost.bytes / 2**20:,.0f} MiB)"
        )
    if cost.seconds > max_seconds:
        return f"over the {max_seconds:.0f} s time limit (about {cost.seconds:,.0f} s)"
    return ""
