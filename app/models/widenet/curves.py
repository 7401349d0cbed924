"""Everything the panels of the Wasserstein-convergence tab draw, computed from a cached sweep.

Pure functions of the model's live parameters and the sweep's sufficient statistics
(:mod:`kernels.widenet.studies`): changing the estimator, the floor correction or the first-layer
kernel never resamples. :func:`sweep_curves` serves panels B and E (and the export);
:func:`output_law`, :func:`w2_plot`, :func:`lindeberg_plot` and :func:`covariance_plot` give
panels A–D their numbers, so the views only draw.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import betaincinv, ndtri

from kernels import widenet as W
from kernels.widenet.studies import SweepConfig, bounds_table, w2_table

#: Points drawn on the QQ plot (evenly spaced order statistics).
QQ_POINTS = 400
#: Bins of the output histogram.
HIST_BINS = 80
#: Smallest value drawn on a log axis (a zero distance would vanish from the plot).
LOG_FLOOR = 1e-6
#: Networks drawn in the two-input scatter.
SCATTER_POINTS = 2000

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
        "exact_skew": None,
        "exact_kurt": None,
    }
    if model.gaussian_readout():
        lo, hi = bounds_table(stats, kv[:1])
        out["lower"], out["upper"] = lo[:, :, 0].mean(axis=0), hi[:, :, 0].mean(axis=0)
    if cfg.n_hidden == 1:
        out["exact"] = exact_cumulants(cfg)
        if out["exact"] is not None:
            n = widths.astype(float)
            out["exact_skew"] = abs(out["exact"]["skew_sqrt_n"]) / np.sqrt(n)
            out["exact_kurt"] = abs(out["exact"]["kurt_n"]) / n
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


def output_law(model: WidenetModel) -> dict[str, Any] | None:
    """Panel A: histogram, N(0, K) density, QQ points with their pure-noise envelope and the
    sample moments of y(x₁) at the width shown; None before the samples exist."""
    y = model.shown_samples()
    if y is None:
        return None
    y1 = y[:, 0]
    k = float(model.target(model.result["config"])[0, 0])
    sd = math.sqrt(k)
    lo, hi = np.quantile(y1, [0.0005, 0.9995])
    lo, hi = min(lo, -4 * sd), max(hi, 4 * sd)
    counts, edges = np.histogram(y1, bins=HIST_BINS, range=(lo, hi), density=True)
    xs = np.linspace(lo, hi, 300)
    m_n = y1.size
    idx = np.unique(np.linspace(0, m_n - 1, QQ_POINTS).round().astype(int))
    i = idx + 1
    d = y1 - y1.mean()
    m2 = float(d @ d) / m_n
    return {
        "width": model.shown_width(),
        "edges": edges,
        "counts": counts,
        "density_x": xs,
        # N(0, sd²) density and quantiles, and the Beta(i, m - i + 1) law of the i-th of m
        # uniform order statistics (its 2.5 % and 97.5 % quantiles: the QQ envelope); with
        # scipy.special rather than scipy.stats, whose import costs the server 40 MB
        "density_y": np.exp(-0.5 * (xs / sd) ** 2) / (sd * math.sqrt(2 * math.pi)),
        "qq_x": sd * ndtri((i - 0.5) / m_n),
        "qq_y": np.sort(y1)[idx],
        "env_lo": sd * ndtri(betaincinv(i, m_n - i + 1, 0.025)),
        "env_hi": sd * ndtri(betaincinv(i, m_n - i + 1, 0.975)),
        "variance": k,
        "sample_variance": m2,
        "skew": float(np.mean(d**3)) / m2**1.5,
        "kurt": float(np.mean(d**4)) / m2**2 - 3.0,
        "skew_se": math.sqrt(6 / m_n),
        "kurt_se": math.sqrt(24 / m_n),
    }


def w2_plot(model: WidenetModel) -> dict[str, Any]:
    """Panel B: Ŵ(n) with error bars, the floor band and the named lines (reference slopes
    anchored at the smallest width, fitted slope, proxies, baseline, bounds, lattice), floored
    at :data:`LOG_FLOOR`. Before the sweep: ``curves`` None and the predicted floor band."""
    c = model.curves()
    if c is None:
        cfg = model.config
        floor = None
        if cfg is not None:
            f = model.model_floor()
            floor = (list(cfg.widths), [f["lo"]] * len(cfg.widths), [f["hi"]] * len(cfg.widths))
        return {"curves": None, "floor": floor, "lines": {}}
    n = c["widths"].astype(float)
    w = np.maximum(c["w2"], LOG_FLOOR)
    anchor = w[0]
    lines = {
        "slope −1/2": (n, anchor * (n / n[0]) ** -0.5),
        "slope −1": (n, anchor * (n / n[0]) ** -1.0),
        "Cornish–Fisher": (n, c["cf"]),
    }
    if np.isfinite(c["slope"]):
        keep = w > (0 if c["estimator"] == "rao_blackwell" else 2 * c["floor"])
        xs = n[keep]
        coef = np.polyfit(np.log(xs), np.log(w[keep]), 1)
        lines["fitted slope"] = (xs, np.exp(np.polyval(coef, np.log(xs))))
    if c["baseline"] is not None:
        lines["Gaussian baseline"] = (n, np.maximum(c["baseline"], LOG_FLOOR))
    if c["lower"] is not None:
        lines["Gelbrich lower bound"] = (n, np.maximum(c["lower"], LOG_FLOOR))
        lines["coupling upper bound"] = (n, c["upper"])
    if c.get("lattice") is not None:
        lines["exact W₂ (lattice)"] = (n, c["lattice"])
    return {
        "curves": c,
        "widths": n,
        "w2": w,
        "w2_lo": np.maximum(w - c["w2_err"], LOG_FLOOR),
        "w2_hi": w + c["w2_err"],
        "floor": (
            n,
            np.full(n.size, max(c["floor_lo"], LOG_FLOOR)),
            np.full(n.size, c["floor_hi"]),
        ),
        "lines": lines,
    }


def lindeberg_plot(model: WidenetModel) -> dict[str, Any] | None:
    """Panel C: the hybrids' W2 to their own limits, the swap increments, the two-sample floor
    and the drop against the sum of increments; None before the exchange ran."""
    res = model.lindeberg.result
    if res is None:
        return None
    w2, inc = res["w2"], res["increments"]
    j = np.arange(w2.size)
    floor = model.model_floor(res["n_nets"], float(res["targets"][0]))["two_sample"]
    return {
        "hybrid": j,
        "w2": w2,
        "layer1_swapped": res["layer1_swapped"],
        "increment_x": j[:-1] + 0.5,
        "increments": inc,
        "floor_x": [-0.5, j[-1] + 0.5],
        "floor": floor,
        "width": res["width"],
        "order": res["order"],
        "drop": w2[0] - w2[-2],
        "sum_increments": float(inc[:-1].sum()),
    }


def covariance_plot(model: WidenetModel) -> dict[str, Any] | None:
    """Panel D: Ĉ − K at the width shown, the relative Frobenius and Gelbrich errors against
    width, the 1σ/2σ ellipses of N(0, K) at x₁, x₂ and a scatter of outputs; None before the
    sweep. With one input (a stale result while a restart is under way) only ``diff`` and the
    Frobenius errors are filled in (``ellipses`` None)."""
    res = model.result
    if res is None or res.get("main") is None:
        return None
    cfg = res["config"]
    k_mat = model.target(cfg)
    c = model.covariance()
    diff = c - k_mat
    covs = res["main"]["cov"].mean(axis=0)
    rel = np.linalg.norm(covs - k_mat, axis=(1, 2)) / np.linalg.norm(k_mat)
    widths = np.asarray(cfg.widths, float)
    out: dict[str, Any] = {
        "k": k_mat.shape[0],
        "diff": diff,
        "widths": widths,
        "rel_frobenius": np.maximum(rel, LOG_FLOOR),
        "ellipses": None,
    }
    if out["k"] < 2:
        return out
    eig, vec = np.linalg.eigh(k_mat[:2, :2])
    angle = float(np.arctan2(vec[1, 1], vec[0, 1]))
    axes = 2.0 * np.sqrt(np.maximum(eig, 0.0))  # full axes of the 1σ ellipse
    out["ellipses"] = {
        "x": [0.0, 0.0],
        "y": [0.0, 0.0],
        "w": [axes[1], 2 * axes[1]],
        "h": [axes[0], 2 * axes[0]],
        "angle": [angle, angle],
    }
    y = model.shown_samples()
    out["points"] = None if y is None else (y[:SCATTER_POINTS, 0], y[:SCATTER_POINTS, 1])
    gel = [W.gelbrich_lower(covs[i], k_mat) for i in range(len(cfg.widths))]
    out["gelbrich_by_width"] = np.maximum(np.asarray(gel), LOG_FLOOR)
    eig_k = np.linalg.eigvalsh(k_mat)
    out["gelbrich"] = W.gelbrich_lower(c, k_mat)
    out["frobenius"] = float(np.linalg.norm(diff) / np.linalg.norm(k_mat))
    out["cond"] = float(eig_k[-1] / max(eig_k[0], 1e-300))
    return out
