r"""Many-run studies of the Adaptive SGD tab: weak error vs τ, and scaling-rule collapse.

* :func:`weak_error_study` (spec §4 panel 4, preset ``weak_order_ballistic``): for each τ the
  chain and the continuous equations run on one Brownian path per sample (common random
  numbers, EM step h fixed), and the weak error :math:`|E\varphi(\theta^{chain}_T)-
  E\varphi(X_T)|` is reported for :math:`\varphi\in\{\|\theta\|^2,\|v\|^2,f\}` with its Monte
  Carlo standard error (of the coupled difference) and the fitted log–log slope.
* :func:`scaling_study` (panel 3): the chain's E f(θ_t) on SDE time for batch sizes κB under a
  scaling rule, over the SDE1 of the base parameters [derived; literature: Malladi et al.].

Paths are split into independent batches with their own seeds (``SeedSequence.spawn``), so the
result does not depend on how many worker threads run them; batches run on two threads (the
numba cores release the GIL). Progress and cancellation follow :mod:`kernels.common.progress`.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from kernels.adaptive.scaling import scaled_sde_parameters
from kernels.adaptive.simulate import simulate_coupled
from kernels.common.progress import Cancelled, ProgressFn, throttled_progress
from kernels.common.validation import choice, integer, real

PHIS = ("theta_sq", "v_sq", "loss")
#: Threads per study (the server has two cores).
STUDY_THREADS = 2
#: Paths per batch (each batch has its own seed; about 16 MB of normals per chunk).
STUDY_BATCH = 1024


def _phi(res: dict[str, Any], landscape: str, A: object) -> np.ndarray:
    th = res["theta"][-1]
    v = res["v"][-1] if res["v"] is not None else np.zeros_like(th)
    return np.stack([np.sum(th * th, 1), np.sum(v * v, 1), res["loss"][-1]], axis=1)


def weak_error_study(
    optimizer: str = "rmsprop",
    *,
    regime: str = "ballistic",
    taus: object = (2**-2, 2**-3, 2**-4, 2**-5, 2**-6),
    orders: tuple[str, ...] = ("ode", "sde1", "sme2", "sme2_no_w2"),
    t_max: float = 1.0,
    n_paths: int = 10**5,
    h: float = 2**-11,
    seed: int = 0,
    landscape: str = "quadratic",
    theta0: object = (1.0, 1.0),
    progress: ProgressFn | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Weak errors (n_order, n_tau, 3) of the continuous ``orders`` against the chain.

    ``options`` go to :func:`kernels.adaptive.simulate_coupled` (``A, noise_std, c1, c2, eps,
    v0, …``). Defaults are preset 3 of the spec except the landscape matrix, which the caller
    passes (``A=np.eye(2)``). ``"sme2_no_w2"`` is SME2 without the c2M^{1/2}dW2 term.
    Returns ``taus, orders, phis, chain_mean, error, stderr, slope``.
    """
    tau_arr = np.sort(np.asarray(taus, dtype=np.float64))[::-1]
    n_paths = integer("n_paths", n_paths, 2, 10**7)
    h = real("h", h, 0.0, float(tau_arr.min()), lo_open=True)
    t_max = real("t_max", t_max, 0.0, 100.0, lo_open=True)
    for name in orders:
        choice("orders", name, ("ode", "sde1", "sme2", "sme2_no_w2"))
    report = throttled_progress(progress)

    def alive(_: float) -> bool:  # mid-batch cancellation check (between chunks)
        return progress is None or progress(done_work[0] / total_work) is not False

    n_o, n_t = len(orders), len(tau_arr)
    stoch = tuple(o for o in orders if o != "ode")  # the ODE is deterministic: one path
    sums = np.zeros((n_o, n_t, 3))
    sq_sums = np.zeros((n_o, n_t, 3))
    chain_sums = np.zeros((n_t, 3))
    chain_sq = np.zeros((n_t, 3))
    total_work = float(sum(round(tau / h) / tau for tau in tau_arr))
    done_work = [0.0]
    seeds = np.random.SeedSequence(seed).spawn(n_t)
    for it, tau in enumerate(tau_arr):
        n_sub = round(tau / h)
        if abs(n_sub * h - tau) > 1e-9 * tau:
            raise ValueError(f"h must divide every tau; got h={h!r}, tau={tau!r}")
        sizes = [STUDY_BATCH] * (n_paths // STUDY_BATCH)
        sizes += [n_paths % STUDY_BATCH] if n_paths % STUDY_BATCH else []
        batch_seeds = seeds[it].spawn(len(sizes))
        step_work = n_sub / tau / n_paths
        common = dict(
            regime=regime,
            landscape=landscape,
            theta0=theta0,
            tau=float(tau),
            n_sub=n_sub,
            t_max=t_max,
            record_every=max(1, round(t_max / tau)),
            **options,
        )

        def one(args: tuple[int, np.random.SeedSequence], common=common, w=step_work):
            size, ss = args
            if not report(done_work[0] / total_work, True):
                raise Cancelled()
            res = simulate_coupled(
                optimizer,
                orders=stoch,
                n_paths=size,
                rng=np.random.default_rng(ss),
                progress=alive,
                **common,
            )
            chain = _phi(res["chain"], landscape, options.get("A"))
            diffs = np.stack([chain - _phi(res[o], landscape, options.get("A")) for o in stoch])
            done_work[0] += w * size
            return chain.sum(0), (chain * chain).sum(0), diffs.sum(1), (diffs * diffs).sum(1)

        with ThreadPoolExecutor(STUDY_THREADS) as pool:
            for c_sum, c_sq, d_sum, d_sq in pool.map(one, zip(sizes, batch_seeds, strict=True)):
                chain_sums[it] += c_sum
                chain_sq[it] += c_sq
                for io, name in enumerate(stoch):
                    sums[orders.index(name), it] += d_sum[io]
                    sq_sums[orders.index(name), it] += d_sq[io]
        if "ode" in orders:
            ode = simulate_coupled(
                optimizer, orders=("ode",), n_paths=1, rng=0, chain=False, **common
            )
            io = orders.index("ode")
            sums[io, it] = chain_sums[it] - n_paths * _phi(ode["ode"], landscape, None)[0]
            sq_sums[io, it] = (
                chain_sq[it] - chain_sums[it] ** 2 / n_paths + sums[io, it] ** 2 / n_paths
            )
    mean = sums / n_paths
    var = np.maximum(sq_sums / n_paths - mean**2, 0.0)
    error = np.abs(mean)
    stderr = np.sqrt(var / (n_paths - 1))
    slope = np.full((n_o, 3), np.nan)
    for io in range(n_o):
        for ip in range(3):
            ok = error[io, :, ip] > 0
            if ok.sum() >= 2:
                slope[io, ip] = np.polyfit(np.log(tau_arr[ok]), np.log(error[io, ok, ip]), 1)[0]
    report(1.0, True)
    return {
        "taus": tau_arr,
        "orders": tuple(orders),
        "phis": PHIS,
        "chain_mean": chain_sums / n_paths,
        "error": error,
        "stderr": stderr,
        "slope": slope,
        "n_paths": n_paths,
        "h": h,
    }


def scaled_parameters(
    optimizer: str,
    regime: str,
    kappa: float,
    rule: str,
    *,
    tau: float,
    c1: float,
    c2: float,
    eps: float,
    sigma: float,
) -> dict[str, Any]:
    """SDE parameters for batch size κB under ``rule``, κ clamped where 1−β would exceed 1.

    Batch-equivalent: :func:`kernels.adaptive.scaling.scaled_sde_parameters`. Ballistic (SGD):
    ``linear`` η→κη, B→κB gives τ→κτ, σ→σ/√κ (τσ² fixed: the SDE is invariant);
    ``srsr``/``no_beta_eps`` η→√κη give τ→√κτ, σ→σ/√κ.
    """

    def raw(k: float) -> dict[str, Any]:
        if regime == "batch_equivalent":
            return scaled_sde_parameters(k, tau=tau, c1=c1, c2=c2, eps=eps, sigma=sigma, rule=rule)
        t_new = k * tau if rule == "linear" else math.sqrt(k) * tau
        return {
            "tau": t_new,
            "c1": c1 * tau / t_new,
            "c2": c2 * tau / t_new,
            "eps": eps,
            "sigma": sigma / math.sqrt(k),
        }

    def gap(p: dict[str, Any]) -> float:  # 1 − β of the fastest moment
        cmax = max(p["c1"], p["c2"]) if optimizer == "adam" else p["c2"]
        return 0.0 if optimizer == "sgd" else cmax * p["tau"]

    out, used, message = raw(kappa), kappa, ""
    if gap(out) > 1.0:
        lo, hi = 1.0, kappa
        for _ in range(60):  # the largest κ' ≤ κ with 1−β ≤ 1 (monotone in κ)
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if gap(raw(mid)) <= 1.0 else (lo, mid)
        message = f"κ = {kappa:g}: 1−β = {gap(out):.3g} > 1, clamped to κ = {lo:.3g}."
        out, used = raw(lo), lo
    out["kappa"] = used
    out["message"] = message
    return out


def scaling_study(
    optimizer: str = "rmsprop",
    *,
    regime: str = "batch_equivalent",
    kappas: object = (1, 2, 4, 8),
    rule: str = "srsr",
    tau: float,
    c1: float = 1.0,
    c2: float = 0.5,
    eps: float = 0.1,
    sigma: float = 0.5,
    t_max: float = 8.0,
    n_paths: int = 256,
    n_grid: int = 200,
    seed: int = 0,
    landscape: str = "quadratic",
    theta0: object = (2.0, 1.0),
    progress: ProgressFn | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Chain E f(θ_t) per κ on a common SDE-time grid, and SDE1 at the base parameters."""
    choice("rule", rule, ("srsr", "no_beta_eps", "linear"))
    ks = [real("kappas", k, 0.0, 1e4, lo_open=True) for k in np.atleast_1d(kappas)]
    report = throttled_progress(progress)
    grid = np.linspace(0.0, t_max, n_grid)
    curves, used, messages = [], [], []
    seeds = np.random.SeedSequence(seed).spawn(len(ks) + 1)
    for i, k in enumerate(ks):
        if not report(i / (len(ks) + 1)):
            raise Cancelled()
        p = scaled_parameters(
            optimizer, regime, k, rule, tau=tau, c1=c1, c2=c2, eps=eps, sigma=sigma
        )
        if p["message"]:
            messages.append(p["message"])
        res = simulate_coupled(
            optimizer,
            regime=regime,
            orders=(),
            landscape=landscape,
            theta0=theta0,
            tau=p["tau"],
            n_sub=1,
            t_max=t_max,
            n_paths=n_paths,
            rng=np.random.default_rng(seeds[i]),
            c1=p["c1"],
            c2=p["c2"],
            eps=p["eps"],
            noise_std=p["sigma"],
            **options,
        )
        curves.append(np.interp(grid, res["t"], res["chain"]["loss"].mean(1)))
        used.append(p["kappa"])
    report(len(ks) / (len(ks) + 1))
    ref = simulate_coupled(
        optimizer,
        regime=regime,
        orders=("sde1",),
        landscape=landscape,
        theta0=theta0,
        tau=tau,
        n_sub=4,
        t_max=t_max,
        n_paths=n_paths,
        rng=np.random.default_rng(seeds[-1]),
        chain=False,
        c1=c1,
        c2=c2,
        eps=eps,
        noise_std=sigma,
        **options,
    )
    report(1.0, True)
    return {
        "t": grid,
        "kappas": np.array(used),
        "requested": np.array(ks),
        "curves": np.array(curves),
        "sde": np.interp(grid, ref["t"], ref["sde1"]["loss"].mean(1)),
        "rule": rule,
        "messages": messages,
    }


__all__ = ["PHIS", "scaled_parameters", "scaling_study", "weak_error_study"]
