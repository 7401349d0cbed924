"""The background studies of the Wasserstein-convergence tab: what runs in the job threads.

* :func:`sweep_job`: the width sweep of a :class:`SweepConfig` (its target kernel first, off the
  event loop), reporting each finished replicate for a progressive paint;
* :func:`lindeberg_job`: the Lindeberg exchange at one width;
* the work measures of both (weights drawn), which the model's cost guards compare with their
  caps, and :func:`powers_of_two`, the widths of a sweep.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from app.models.jobs import ProgressFn
from kernels import widenet as W
from kernels.widenet.studies import SweepConfig, lindeberg_study, width_sweep


def powers_of_two(lo: int, hi: int) -> tuple[int, ...]:
    """The powers of two from ``lo`` to ``hi`` (each rounded to the nearest power in log)."""
    a = max(1, round(math.log2(max(lo, 2))))
    b = max(a, round(math.log2(max(hi, 2))))
    return tuple(2**j for j in range(a, b + 1))


def sweep_weights(cfg: SweepConfig) -> float:
    """Weights drawn by a sweep (main + baseline), the work measure of the cost guard."""
    per_net = sum(n * n * (cfg.n_hidden - 1) + 4 * n for n in cfg.widths)
    if cfg.n_hidden == 1:
        per_net = 4 * max(cfg.widths)
    return float(per_net) * cfg.n_nets * (cfg.n_replicates + 3)


def lindeberg_weights(cfg: SweepConfig, width: int) -> int:
    """Weights drawn by the Lindeberg exchange at ``width`` (L + 2 hybrids of M networks)."""
    n = width
    return cfg.n_nets * (n * n * (cfg.n_hidden - 1) + 4 * n) * (cfg.n_hidden + 2)


def sweep_job(
    cfg: SweepConfig,
    target: Callable[[SweepConfig], np.ndarray],
    progress: ProgressFn,
    on_partial: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """The width sweep of ``cfg``; ``target(cfg)`` is called first because the true-law kernel
    may need a 1e7-sample Monte Carlo, which must not run on the event loop."""
    target(cfg)
    return width_sweep(cfg, progress=progress, on_partial=on_partial)


def lindeberg_job(
    cfg: SweepConfig, width: int, order: str, first_layer: str, progress: ProgressFn
) -> dict[str, Any]:
    """The Lindeberg exchange of one replicate of ``cfg`` at ``width``."""
    return lindeberg_study(
        replace(cfg, n_replicates=1),
        width,
        order=order,
        first_layer=first_layer,
        progress=progress,
    )


def nngp_target(cfg: SweepConfig, first_layer: str, gh_degree: int | None) -> np.ndarray:
    """The NNGP kernel of the inputs under ``cfg`` with first-layer kernel ``first_layer``
    ("true_law" or "gaussian_formula"): the target W₂ is measured against [derived]."""
    return W.nngp_kernel(
        cfg.inputs,
        activation=cfg.activation,
        n_hidden=cfg.n_hidden,
        c_w=cfg.c_w,
        c_b=cfg.c_b,
        readout_bias=cfg.readout_bias,
        first_layer=first_layer,
        weight_law=cfg.layer_laws[0],
        t_dof=cfg.t_dof,
        gh_degree=gh_degree,
    )
