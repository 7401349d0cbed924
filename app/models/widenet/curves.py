"""Curves of the Wasserstein-convergence tab recomputed from a cached sweep (panels B and E).

Pure functions of the model's live parameters and the sweep's sufficient statistics
(:mod:`kernels.widenet.studies`): changing the estimator, the floor correction or the first-layer
kernel never resamples.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from kernels import widenet as W
from kernels.widenet.studies import SweepConfig, bounds_table, w2_table

if TYPE_CHECKING:
    from app.models.widenet.model import WidenetModel


def sweep_curves(model: WidenetModel, res: dict[str, Any]) -> dict[str, Any]:
    """W2 (replicate mean and spread), floor, fitted slope, cumulants, Cornish–Fisher proxy,
    bounds, lattice curve and Gaussian baseline at input x₁."""
    cfg = res["config"]
    k = model.target(cfg)
    kv = np.diag(k)
    est = model.effective_estimator()
    main = res["main"]
    stats = {name: v[:, :, :1] for name, v in main.items() if name not in ("cov",)}
    table = w2_table(stats, kv[:1], est, res["z2"], res["g2"])[:, :, 0]
    floor = W.floor_band(cfg.n_nets, float(kv[0]))
    floor_value = floor["two_sample"] if est == "two_sample" else floor["mean"]
    if model.floor_correction and est != "rao_blackwell":
        rms = floor["two_sample"] if est == "two_sample" else floor["rms"]
        table = W.floor_corrected(table, rms)
    w2 = table.mean(axis=0)
    err = table.std(axis=0, ddof=1) if table.shape[0] > 1 else np.zeros_like(w2)
    widths = np.asarray(cfg.widths)
    slope, used = W.fit_slope(widths, w2, None if est == "rao_blackwell" else floor_value)
    skew = main["skew"][:, :, 0].mean(axis=0)
    kurt = main["kurt"][:, :, 0].mean(axis=0)
    out: dict[str, Any] = {
        "widths": widths,
        "w2": w2,
        "w2_err": err,
        "estimator": est,
        "floor": floor_value,
        "floor_lo": floor["lo"],
        "floor_hi": floor["hi"],
        "slope": slope,
        "slope_points": used,
        "skew": skew,
        "kurt": kurt,
        "skew_err": main["skew"][:, :, 0].std(axis=0),
        "kurt_err": main["kurt"][:, :, 0].std(axis=0),
        "variance": float(kv[0]),
        "cf": W.cornish_fisher_w2(math.sqrt(kv[0]), skew, kurt),
        "baseline": None,
        "lower": None,
        "upper": None,
        "replicates": table.shape[0],
    }
    if model.gaussian_readout():
        lo, hi = bounds_table(stats, kv[:1])
        out["lower"], out["upper"] = lo[:, :, 0].mean(axis=0), hi[:, :, 0].mean(axis=0)
    if cfg.n_hidden == 1:
        out["exact"] = exact_cumulants(cfg)
        if (
            cfg.activation == "linear"
            and cfg.layer_laws == ("rademacher", "rademacher")
            and cfg.c_b == 0.0
        ):
            # y(x₁) = C_W (2 Bin(n, ½) − n)/√n exactly: the lattice's exact W2 (spec §6.10)
            out["lattice"] = cfg.c_w * np.array([W.lattice_w2_exact(int(n)) for n in widths])
    base = res.get("baseline")
    if model.show_gaussian_baseline and base is not None:
        bcfg = cfg.baseline()
        kb = np.diag(model.target(bcfg))[:1]
        bstats = {name: v[:, :, :1] for name, v in base.items() if name != "cov"}
        out["baseline"] = w2_table(bstats, kb, "rao_blackwell", res["z2"], res["g2"])[:, :, 0].mean(
            axis=0
        )
        out["baseline_slope"] = W.fit_slope(widths, out["baseline"])[0]
    return out


def exact_cumulants(cfg: SweepConfig) -> dict[str, float] | None:
    """Exact √n·skewness and n·kurtosis of a one-hidden-layer config, None if undefined."""
    try:
        return W.shallow_cumulants_exact(
            activation=cfg.activation,
            weight_law=cfg.layer_laws[0],
            readout_law=cfg.layer_laws[-1],
            c_w=cfg.c_w,
            c_b=cfg.c_b,
            readout_bias=cfg.readout_bias,
            t_dof=cfg.t_dof,
        )
    except ValueError:
        return None
