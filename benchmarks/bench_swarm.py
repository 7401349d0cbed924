"""Benchmark of kernels/swarm/: steps per second against a vectorized numpy reference, the
200-run hitting-time study, and success rates at equal evaluation budgets next to SciPy's
dual_annealing.

Run ``python benchmarks/bench_swarm.py`` (about a minute). ``main(argv)`` returns the rows for
``benchmarks/run_all.py``: keys ``model``, ``case``, ``unit``, ``numba``, ``numpy``, ``ratio``
(numpy / numba time) and, for the studies, ``value`` and ``note``.

* The numpy reference is the same softmin step written with vectorized numpy (the objective,
  weights and update on whole arrays, ``rng.standard_normal`` per step), checked against the
  kernel on identical normals before it is timed. Both include drawing the normals.
* The study rows time :func:`kernels.swarm.studies.hitting_time_study` (one core: serial loops,
  BLAS pinned to one thread).
* The success rows run the teaching settings of spec §5 P5 on 2-D Ackley and Rastrigin: every
  method takes the same number of particle-steps (softmin and Langevin spend one ∇f each, CBO
  and PSO one f each); dual annealing gets the same number of f evaluations.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from timing import best_time, fresh_process_start  # noqa: E402

from kernels import swarm  # noqa: E402
from kernels.swarm import studies as swarm_batch  # noqa: E402

BETA, SIGMA, DT = 5.0, 0.5, 1e-3
STEPS_CHECKED = 2
TWO_PI = 2 * math.pi


# ---------------------------------------------------------------------------------------------
# numpy reference: softmin on Rastrigin, reflecting walls
# ---------------------------------------------------------------------------------------------


def numpy_step(x: np.ndarray, xi: np.ndarray, lo: float, hi: float) -> np.ndarray:
    n, d = x.shape
    f = 10 * d + np.sum(x * x - 10 * np.cos(TWO_PI * x), axis=1)
    g = 2 * x + 10 * TWO_PI * np.sin(TWO_PI * x)
    w = np.exp(-BETA * (f - f.min()))
    w /= w.sum()
    j = w @ f
    c = w * (1 - BETA * (f - j))
    y = x - DT * n * c[:, None] * g + SIGMA * math.sqrt(DT) * xi
    y = np.where(y < lo, 2 * lo - y, y)
    y = np.where(y > hi, 2 * hi - y, y)
    return np.clip(y, lo, hi)


def numpy_run(x: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    lo, hi = swarm.OBJECTIVES["rastrigin"][1:3]
    n, d = x.shape
    for _ in range(steps):
        x = numpy_step(x, rng.standard_normal((n, d)), lo, hi)
    return x


def check_reference(n: int, d: int) -> float:
    """Max |kernel − numpy| after STEPS_CHECKED steps on the same normals (few steps: the
    benchmark's step is far above the stability bound, so differences of an ulp grow ~40× per
    step; the tests check the steps at 1e-12 on stable settings)."""
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-4, 4, size=(n, d))
    noise = rng.standard_normal((STEPS_CHECKED, n, d))
    state = swarm.SwarmState(x0)
    params = swarm.make_params("rastrigin", d, n, dt=DT, beta0=BETA, sigma0=SIGMA)
    swarm.advance(state, params, "softmin", noise)
    lo, hi = swarm.OBJECTIVES["rastrigin"][1:3]
    x = x0
    for k in range(STEPS_CHECKED):
        x = numpy_step(x, noise[k], lo, hi)
    return float(np.abs(state.x - x).max())


def time_steps(n: int, d: int) -> tuple[float, float, float]:
    """(numba steps/s, numpy steps/s, max deviation on shared normals)."""
    rng = np.random.default_rng(1)
    x0 = rng.uniform(-4, 4, size=(n, d))
    kw = dict(method="softmin", dt=DT, beta0=BETA, sigma0=SIGMA, rng=rng)

    def kernel(k: int) -> None:
        swarm.simulate("rastrigin", x0, n_steps=k, stride=k, **kw)

    def reference(k: int) -> None:
        numpy_run(x0, k, rng)

    rates = []
    for fn in (kernel, reference):
        fn(2)
        probe = best_time(lambda fn=fn: fn(20), repeats=1) / 20
        k = int(min(200_000, max(20, 0.25 / max(probe, 1e-9))))
        rates.append(k / best_time(lambda fn=fn, k=k: fn(k)))
    return rates[0], rates[1], check_reference(min(n, 100), d)


# ---------------------------------------------------------------------------------------------
# studies
# ---------------------------------------------------------------------------------------------

P1 = dict(n_particles=10, dim=2, dt=2e-3, beta0=20.0, sigma0=0.25, tilt=0.1, t_max=60.0)


def time_hitting_study(n_runs: int) -> tuple[float, dict]:
    swarm_batch.hitting_time_study("tilted_double_well", n_runs=2, seed=9, **{**P1, "t_max": 1.0})
    t0 = time.perf_counter()
    res = swarm_batch.hitting_time_study(
        "tilted_double_well", methods=("softmin", "langevin", "cbo"), n_runs=n_runs, seed=0, **P1
    )
    return time.perf_counter() - t0, res


P5 = dict(
    n_particles=20,
    dim=2,
    dt=5e-4,
    beta0=50.0,
    sigma0=0.6,
    step_clip=0.05,
    t_max=20.0,
    init="corner",
)


def success_rows(objective: str, n_runs: int, sigma: float) -> list[dict]:
    params = {**P5, "sigma0": sigma}
    t0 = time.perf_counter()
    res = swarm_batch.hitting_time_study(
        objective, methods=("softmin", "langevin", "cbo", "pso"), n_runs=n_runs, seed=0, **params
    )
    elapsed = time.perf_counter() - t0
    steps = round(params["t_max"] / params["dt"])
    budget = params["n_particles"] * steps
    rows = []
    for m, s in res.items():
        evals = np.where(s.grad_evals > 0, s.grad_evals, s.f_evals)[np.isfinite(s.hit_time)]
        kind = "∇f" if m in ("softmin", "langevin") else "f"
        rows.append(
            dict(
                model="swarm",
                case=f"{objective} 2-D: {m}",
                unit="success rate",
                value=s.success_rate,
                note=(
                    f"± {s.standard_error:.2f}; median hitting time "
                    f"{'—' if math.isnan(s.median_hit_time) else f'{s.median_hit_time:.2f}'}; "
                    f"median {kind}-evals to hit "
                    f"{int(np.median(evals)) if evals.size else '—'}; "
                    f"budget {budget} {kind}-evals; "
                    f"σ = {sigma}, β = {P5['beta0']}, N = {P5['n_particles']}, h = {P5['dt']}, "
                    f"clip {P5['step_clip']}, corner start, M = {n_runs}; "
                    f"{elapsed:.1f} s for all four"
                ),
            )
        )
    t0 = time.perf_counter()
    da = swarm_batch.annealing_study(objective, dim=2, n_runs=n_runs, max_evals=budget, seed=0)
    rows.append(
        dict(
            model="swarm",
            case=f"{objective} 2-D: scipy dual_annealing",
            unit="success rate",
            value=da.success_rate,
            note=(
                f"median f-evals to hit {int(np.median(da.nfev[da.hit])) if da.hit.any() else '—'}"
                f" (budget {budget}); M = {n_runs}; {time.perf_counter() - t0:.1f} s"
            ),
        )
    )
    return rows


# ---------------------------------------------------------------------------------------------


def row(case: str, unit: str, numba: float, numpy: float | None = None, **extra) -> dict:
    ratio = numba / numpy if numpy else None  # rates: higher is faster
    return dict(model="swarm", case=case, unit=unit, numba=numba, numpy=numpy, ratio=ratio, **extra)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and runs")
    parser.add_argument("--no-compile", action="store_true", help="skip the subprocess timings")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows: list[dict] = []
    if not args.no_compile:
        with tempfile.TemporaryDirectory(prefix="noisescope-numba-") as cache:
            imp, cold = fresh_process_start("kernels.swarm", cache)
            _, warm = fresh_process_start("kernels.swarm", cache)
        rows.append(row("JIT compile, empty cache (warmup())", "s", cold, import_s=imp))
        rows.append(row("cached start (warmup())", "s", warm))
    swarm.warmup()
    sizes = (10, 100) if args.quick else (10, 100, 1000)
    dims = (2, 10) if args.quick else (2, 10, 50)
    for d in dims:
        for n in sizes:
            numba_rate, numpy_rate, dev = time_steps(n, d)
            rows.append(
                row(
                    f"softmin steps, Rastrigin, N={n}, d={d}",
                    "steps/s",
                    numba_rate,
                    numpy_rate,
                    max_deviation=dev,
                )
            )
    runs = 50 if args.quick else 200
    seconds, res = time_hitting_study(runs)
    rates = ", ".join(f"{m} {s.success_rate:.2f}" for m, s in res.items())
    rows.append(
        dict(
            model="swarm",
            case=f"{runs}-run hitting-time study, softmin + Langevin + CBO, P1 "
            "(tilted double well, N=10, T=60)",
            unit="s",
            value=seconds,
            note=f"target ≤ 3 s on one core; success by T: {rates}",
        )
    )
    m_success = 40 if args.quick else 100
    rows += success_rows("ackley", m_success, 0.6)
    rows += success_rows("rastrigin", m_success, 1.5)
    for r in rows:
        print({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in r.items()})
    print(f"benchmark wall time: {time.perf_counter() - started:.0f} s")
    return rows


if __name__ == "__main__":
    main()
