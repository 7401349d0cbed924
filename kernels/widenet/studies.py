r"""The widenet tab's studies: the width sweep (W2, cumulants, covariances) and the Lindeberg
exchange, as cacheable summaries from which every live view is recomputed instantly.

A sweep stores, per replicate r, width n and input i, sufficient statistics rather than a
distance, so the target variance K (``first_layer_kernel``), the estimator and the floor
correction can change without new samples (spec §2 "live" params):

* ``s2`` = mean y², ``c`` = mean y₍ⱼ₎zⱼ, ``z2`` = mean zⱼ² (quantile grid zⱼ):
  :math:`\hat W^2(K) = s_2 - 2\sqrt K c + K z_2`;
* ``c_two``, ``g2``: the same against a sorted N(0, 1) sample (two-sample estimator);
* ``rb_bins``: Σ̂ᵢᵢ in 256 quantile bins (Rao–Blackwell), ``cs2``, ``cs``: mean Σ̂ᵢᵢ and mean
  √Σ̂ᵢᵢ (Gelbrich and coupling bounds);
* ``skew``, ``kurt``, ``cov`` (empirical E[yyᵀ]) and the samples of replicate 0.

Seeding: replicate r of variant v draws from ``SeedSequence([seed, v, r])`` split into fixed
chunks (:mod:`kernels.widenet.driver`), so the results do not depend on the thread count or
on the order in which the replicates are computed. Provenance: [derived].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from kernels.common.activations import activation_id
from kernels.common.progress import Cancelled, ProgressFn, throttled_progress
from kernels.common.validation import integer
from kernels.widenet.core import shallow_prefix_chunk
from kernels.widenet.driver import (
    NetworkSpec,
    chunk_bounds,
    chunk_generators,
    root_key,
    run_networks,
    run_tasks,
)
from kernels.widenet.estimators import quantile_grid
from kernels.widenet.laws import law_id
from kernels.widenet.rao_blackwell import RB_BINS, bin_variances, w2_mixture
from kernels.widenet.theory import circle_inputs, nngp_kernel

VARIANT_MAIN = 0
VARIANT_BASELINE = 1
_VARIANT_LINDEBERG = 7
_VARIANT_REFERENCE = 99


@dataclass(frozen=True)
class SweepConfig:
    """Restart parameters of a sweep (hashable: the cache key)."""

    layer_laws: tuple[str, ...]
    activation: str = "relu"
    n_hidden: int = 1
    c_w: float = 1.0
    c_b: float = 0.1
    readout_bias: bool = False
    t_dof: float = 6.0
    n_inputs: int = 1
    input_angle: float = 60.0
    widths: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128, 256)
    n_nets: int = 20_000
    n_replicates: int = 5
    seed: int = 0

    @property
    def inputs(self) -> np.ndarray:
        return circle_inputs(self.n_inputs, self.input_angle)

    def baseline(self) -> SweepConfig:
        """The all-Gaussian network with the same architecture."""
        return replace(self, layer_laws=("gaussian",) * (self.n_hidden + 1))

    def target(self, first_layer: str = "true_law") -> np.ndarray:
        """Limit covariance K (k, k) of this configuration."""
        return nngp_kernel(
            self.inputs,
            activation=self.activation,
            n_hidden=self.n_hidden,
            c_w=self.c_w,
            c_b=self.c_b,
            readout_bias=self.readout_bias,
            first_layer="gaussian_formula" if self.layer_laws[0] == "gaussian" else first_layer,
            weight_law=self.layer_laws[0],
            t_dof=self.t_dof,
        )


def _sample_widths(
    cfg: SweepConfig,
    seed_seq: np.random.SeedSequence,
    report: Callable[[float], bool],
    n_threads: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """y (W, M, k) and Σ̂ (W, M, k, k) of one replicate at every width."""
    x = cfg.inputs
    k = x.shape[0]
    widths = np.asarray(cfg.widths, dtype=np.int64)
    n_w, m = widths.size, cfg.n_nets
    lids = np.array([law_id(name) for name in cfg.layer_laws], dtype=np.int64)
    aid = activation_id(cfg.activation)
    bounds = chunk_bounds(m)
    ys = np.empty((n_w, m, k))
    covs = np.empty((n_w, m, k, k))
    if cfg.n_hidden == 1:
        gens = chunk_generators(seed_seq, len(bounds))
        root = root_key(seed_seq)
        parts: list[Any] = [None] * len(bounds)

        def task(c: int) -> Callable[[], None]:
            def run() -> None:
                s, e = bounds[c]
                out = np.empty((n_w, e - s, k))
                cov = np.empty((n_w, e - s, k, k))
                shallow_prefix_chunk(
                    gens[c],
                    root,
                    s,
                    x,
                    lids[0],
                    lids[1],
                    widths,
                    aid,
                    cfg.c_w,
                    cfg.c_b,
                    cfg.readout_bias,
                    cfg.t_dof,
                    out,
                    cov,
                )
                parts[c] = (out, cov)

            return run

        run_tasks([task(c) for c in range(len(bounds))], report, n_threads=n_threads)
        for c, (s, e) in enumerate(bounds):
            ys[:, s:e], covs[:, s:e] = parts[c]
        return ys, covs
    costs = np.array([float(n) * n * (cfg.n_hidden - 1) + 4.0 * n for n in widths])
    done = 0.0
    for w_idx, child in enumerate(seed_seq.spawn(n_w)):
        base, share = done / costs.sum(), costs[w_idx] / costs.sum()

        def sub(frac: float, base=base, share=share) -> bool:
            return report(base + share * frac)

        spec = NetworkSpec(
            x,
            lids,
            int(widths[w_idx]),
            aid,
            cfg.c_w,
            cfg.c_b,
            cfg.readout_bias,
            cfg.t_dof,
            True,
        )
        run_networks(spec, child, ys[w_idx], covs[w_idx], sub, n_threads)
        done += costs[w_idx]
    return ys, covs


def _reduce(ys: np.ndarray, covs: np.ndarray, gauss_sorted: np.ndarray) -> dict[str, np.ndarray]:
    """Sufficient statistics of one replicate (arrays indexed [width, input])."""
    n_w, m, k = ys.shape
    z = quantile_grid(m)
    stats = {name: np.empty((n_w, k)) for name in ("s2", "c", "c_two", "skew", "kurt", "cs2", "cs")}
    stats["rb_bins"] = np.empty((n_w, k, min(RB_BINS, m)))
    stats["cov"] = np.einsum("wmi,wmj->wij", ys, ys) / m
    for w in range(n_w):
        for i in range(k):
            y = ys[w, :, i]
            ysort = np.sort(y)
            stats["s2"][w, i] = ysort @ ysort / m
            stats["c"][w, i] = ysort @ z / m
            stats["c_two"][w, i] = ysort @ gauss_sorted / m
            d = y - y.mean()
            m2 = d @ d / m
            stats["skew"][w, i] = np.mean(d**3) / m2**1.5 if m2 > 0 else 0.0
            stats["kurt"][w, i] = np.mean(d**4) / m2**2 - 3.0 if m2 > 0 else 0.0
            sv = np.maximum(covs[w, :, i, i], 0.0)
            stats["cs2"][w, i] = sv.mean()
            stats["cs"][w, i] = np.sqrt(sv).mean()
            stats["rb_bins"][w, i] = bin_variances(sv)
    return stats


def width_sweep(
    cfg: SweepConfig,
    *,
    with_baseline: bool = True,
    progress: ProgressFn | None = None,
    on_partial: Callable[[dict[str, Any]], None] | None = None,
    n_threads: int | None = None,
) -> dict[str, Any]:
    """Run the sweep: replicates of the chosen network, then of the all-Gaussian baseline.

    Returns ``{"config", "widths", "main": stats, "baseline": stats or None, "samples"}`` with
    every stat stacked over replicates (leading axis R). ``on_partial(result)`` is called after
    each replicate with what is done so far (progressive paint).
    """
    integer("n_replicates", cfg.n_replicates, 1, 100)
    report = throttled_progress(progress)
    variants = [(VARIANT_MAIN, cfg, cfg.n_replicates)]
    if with_baseline:
        variants.append((VARIANT_BASELINE, cfg.baseline(), min(cfg.n_replicates, 3)))
    cost_one = 1.0  # baseline layers use the O(nk²) shortcut for L >= 2: same order for L = 1
    total = sum(r for _, _, r in variants) * cost_one
    result: dict[str, Any] = {
        "config": cfg,
        "widths": np.asarray(cfg.widths),
        "main": None,
        "baseline": None,
        "samples": None,
        "z2": float(quantile_grid(cfg.n_nets) @ quantile_grid(cfg.n_nets)) / cfg.n_nets,
    }
    done = 0
    for variant, vcfg, n_rep in variants:
        collected: list[dict[str, np.ndarray]] = []
        for r in range(n_rep):
            seq = np.random.SeedSequence([cfg.seed, variant, r])
            ref = np.random.default_rng(np.random.SeedSequence([cfg.seed, _VARIANT_REFERENCE, r]))
            gauss_sorted = np.sort(ref.standard_normal(cfg.n_nets))

            def sub(frac: float, done=done) -> bool:
                return report((done + frac) / total)

            ys, covs = _sample_widths(vcfg, seq, sub, n_threads)
            if not np.all(np.isfinite(ys)):
                raise FloatingPointError(
                    "network outputs overflowed: lower C_W, the depth or the width"
                )
            collected.append(_reduce(ys, covs, gauss_sorted))
            if variant == VARIANT_MAIN and r == 0:
                result["samples"] = ys.astype(np.float32)
                result["g2"] = float(gauss_sorted @ gauss_sorted) / cfg.n_nets
            key = "main" if variant == VARIANT_MAIN else "baseline"
            result[key] = {name: np.stack([c[name] for c in collected]) for name in collected[0]}
            done += 1
            if not report(done / total, True):
                raise Cancelled("cancelled", partial=result)
            if on_partial is not None:
                on_partial(dict(result))
    return result


def w2_table(
    stats: dict[str, np.ndarray], variances: np.ndarray, estimator: str, z2: float, g2: float
) -> np.ndarray:
    """W2 per (replicate, width, input) from cached statistics; ``variances`` is diag K (k,)."""
    sq = np.sqrt(np.asarray(variances, dtype=float))
    if estimator == "quantile":
        val = stats["s2"] - 2.0 * sq * stats["c"] + sq**2 * z2
        return np.sqrt(np.maximum(val, 0.0))
    if estimator == "two_sample":
        val = stats["s2"] - 2.0 * sq * stats["c_two"] + sq**2 * g2
        return np.sqrt(np.maximum(val, 0.0))
    if estimator == "rao_blackwell":
        bins = stats["rb_bins"]
        out = np.empty(bins.shape[:3])
        for idx in np.ndindex(*out.shape):
            out[idx] = w2_mixture(bins[idx], float(sq[idx[2]] ** 2))
        return out
    raise ValueError(f"estimator must be quantile, two_sample or rao_blackwell; got {estimator!r}")


def bounds_table(
    stats: dict[str, np.ndarray], variances: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(Gelbrich lower, coupling upper) per (replicate, width, input) for a Gaussian readout."""
    sq = np.sqrt(np.asarray(variances, dtype=float))
    lower = np.abs(np.sqrt(stats["cs2"]) - sq)
    upper = np.sqrt(np.maximum(stats["cs2"] - 2.0 * sq * stats["cs"] + sq**2, 0.0))
    return lower, upper


def hybrid_laws(layer_laws: tuple[str, ...], n_swapped: int, order: str) -> tuple[str, ...]:
    """Laws of hybrid H_j: ``n_swapped`` layers made Gaussian from the readout or the input."""
    laws = list(layer_laws)
    idx = range(len(laws) - 1, -1, -1) if order == "readout_first" else range(len(laws))
    for j, layer in enumerate(idx):
        if j < n_swapped:
            laws[layer] = "gaussian"
    return tuple(laws)


def lindeberg_study(
    cfg: SweepConfig,
    width: int,
    *,
    order: str = "readout_first",
    first_layer: str = "true_law",
    progress: ProgressFn | None = None,
    n_threads: int | None = None,
) -> dict[str, Any]:
    """Hybrids H_0..H_{L+1} at one width: W2 of input x_1 to each hybrid's own limit (quantile)
    and the two-sample increments W2(H_j, H_{j+1}). ``layer1_swapped[j]`` marks the hybrids whose
    first layer (hence whose limit) changed."""
    n_h = cfg.n_hidden + 1
    report = throttled_progress(progress)
    m = cfg.n_nets
    z = quantile_grid(m)
    sorted_y: list[np.ndarray] = []
    w2 = np.empty(n_h + 1)
    swapped1 = np.zeros(n_h + 1, dtype=bool)
    targets = np.empty(n_h + 1)
    for j in range(n_h + 1):
        laws = hybrid_laws(cfg.layer_laws, j, order)
        hcfg = replace(cfg, layer_laws=laws, widths=(int(width),))
        swapped1[j] = laws[0] != cfg.layer_laws[0]
        targets[j] = hcfg.target(first_layer)[0, 0]
        seq = np.random.SeedSequence([cfg.seed, _VARIANT_LINDEBERG, j])

        def sub(frac: float, j=j) -> bool:
            return report((j + frac) / (n_h + 1))

        ys, _ = _sample_widths(hcfg, seq, sub, n_threads)
        y = np.sort(ys[0, :, 0])
        sorted_y.append(y)
        w2[j] = math.sqrt(float(np.mean((y - math.sqrt(targets[j]) * z) ** 2)))
    increments = np.array(
        [math.sqrt(float(np.mean((sorted_y[j] - sorted_y[j + 1]) ** 2))) for j in range(n_h)]
    )
    return {
        "width": int(width),
        "order": order,
        "w2": w2,
        "increments": increments,
        "targets": targets,
        "layer1_swapped": swapped1,
        "n_nets": m,
    }
