"""Benchmark of kernels/widenet: networks per second, the full width sweep, W2 against POT.

Run ``python benchmarks/bench_widenet.py`` (about a minute). ``main(argv)`` returns rows for
``benchmarks/run_all.py`` with keys ``model``, ``case``, ``unit``, ``numba``, ``numpy`` and
``ratio`` (reference time / numba time, so > 1 means numba is faster; for rates the ratio is
numba rate / reference rate).

* networks/s: :func:`kernels.widenet.sample_outputs` on one thread against a vectorized numpy
  forward pass (batches of networks, ``rng.standard_exponential`` weights, batched matmuls),
  centred-exponential weights, ReLU, C_b = 0.1, widths 16…1024, depth 1…3; the numpy reference
  is checked against the kernel's law (mean output variance) before it is timed.
* the full sweep of the spec's performance target: n = 2…256, M = 2·10⁴, L = 1, five replicates
  (plus the all-Gaussian baseline) on one core, and the time to the first replicate (the first
  figure on screen).
* ``w2_quantile`` on 10⁵ samples against POT's ``ot.wasserstein_1d`` (same value, checked).
Everything runs on one core (numpy's BLAS pinned to one thread).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import ot  # noqa: E402

import kernels  # noqa: E402
from kernels import widenet as W  # noqa: E402
from kernels.widenet.studies import SweepConfig, width_sweep  # noqa: E402

X1 = W.circle_inputs(1, 0.0)
C_B = 0.1


def numpy_networks(n_nets: int, width: int, depth: int, rng: np.random.Generator) -> np.ndarray:
    """Vectorized numpy forward pass of ``n_nets`` networks (centred Exp weights, ReLU, one input).

    Networks go in batches whose weight tensors stay below ~32 MB."""
    batch = max(1, min(n_nets, (1 << 22) // (width * width)))
    out = np.empty(n_nets)
    x = X1[0]
    sb = math.sqrt(C_B)
    for s in range(0, n_nets, batch):
        b = min(batch, n_nets - s)
        w1 = rng.standard_exponential((b, width, 2)) - 1.0
        b1 = rng.standard_exponential((b, width)) - 1.0
        a = np.maximum(w1 @ x / math.sqrt(2.0) + sb * b1, 0.0)  # (b, n)
        for _ in range(depth - 1):
            w = rng.standard_exponential((b, width, width)) - 1.0
            z = np.einsum("bij,bj->bi", w, a) / math.sqrt(width) + sb * rng.standard_normal(
                (b, width)
            )
            a = np.maximum(z, 0.0)
        v = rng.standard_exponential((b, width)) - 1.0
        out[s : s + b] = np.einsum("bj,bj->b", v, a) / math.sqrt(width)
    return out


def _time(fn, repeat: int = 2) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def networks_per_second(width: int, depth: int) -> tuple[float, float, float]:
    """(numba networks/s, numpy networks/s, relative variance gap of the two samples)."""
    weights = width * width * (depth - 1) + 4 * width
    m = int(min(50_000, max(40, 1.5e7 / weights)))

    def run_numba():
        return W.sample_outputs(
            X1,
            width=width,
            n_hidden=depth,
            activation="relu",
            weight_law="centred_exp",
            n_nets=m,
            rng=1,
            c_b=C_B,
            n_threads=1,
        )

    rng = np.random.default_rng(2)
    y_nb = run_numba()
    y_np = numpy_networks(m, width, depth, rng)
    gap = abs(y_nb.var() - y_np.var()) / y_np.var()
    t_nb = _time(run_numba)
    t_np = _time(lambda: numpy_networks(m, width, depth, rng))
    return m / t_nb, m / t_np, gap


def full_sweep() -> tuple[float, float]:
    """(seconds for the full sweep on one thread, seconds to the first replicate)."""
    cfg = SweepConfig(layer_laws=("centred_exp", "centred_exp"), n_nets=20_000, n_replicates=5)
    first = []
    t0 = time.perf_counter()
    width_sweep(cfg, n_threads=1, on_partial=lambda r: first.append(time.perf_counter() - t0))
    return time.perf_counter() - t0, first[0]


def w2_versus_pot() -> tuple[float, float, float]:
    """(seconds w2_quantile, seconds POT wasserstein_1d, |difference|) on 1e5 samples."""
    rng = np.random.default_rng(3)
    y = rng.standard_exponential(100_000) - 1.0
    grid = W.norm_ppf((np.arange(y.size) + 0.5) / y.size)
    ours = W.w2_quantile(y, 1.0)
    ref = math.sqrt(ot.wasserstein_1d(y, grid, p=2))
    t_ours = _time(lambda: W.w2_quantile(y, 1.0), 5)
    t_pot = _time(lambda: ot.wasserstein_1d(y, grid, p=2), 5)
    return t_ours, t_pot, abs(ours - ref)


def row(case: str, unit: str, numba: float, numpy: float | None, ratio: float | None, **extra):
    return dict(
        model="widenet", case=case, unit=unit, numba=numba, numpy=numpy, ratio=ratio, **extra
    )


def markdown(rows: list[dict]) -> str:
    lines = ["| case | unit | numba | reference | ratio |", "|---|---|---:|---:|---:|"]
    for r in rows:
        ref = "—" if r["numpy"] is None else f"{r['numpy']:.4g}"
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.1f}×"
        lines.append(f"| {r['case']} | {r['unit']} | {r['numba']:.4g} | {ref} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="widths 16 and 256 only")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    t0 = time.perf_counter()
    for name in kernels.warm_modules(("widenet",)):  # as the server warms: cores, then facade
        importlib.import_module(name).warmup()
    rows = [row("warmup() (compile or cache load)", "s", time.perf_counter() - t0, None, None)]
    widths = (16, 256) if args.quick else (16, 64, 256, 1024)
    gaps = []
    for depth in (1, 2, 3):
        for width in widths:
            nb, npy, gap = networks_per_second(width, depth)
            if width * width * (depth - 1) <= 4096:  # ≥ 3000 networks: the variances compare
                gaps.append(gap)
            rows.append(
                row(
                    f"networks/s, n={width}, L={depth}, centred_exp",
                    "networks/s",
                    nb,
                    npy,
                    nb / npy,
                )
            )
    total, first = full_sweep()
    rows.append(
        row(
            "full sweep n=2…256, M=2e4, L=1, R=5 (+baseline), 1 thread",
            "s",
            total,
            None,
            None,
            target="≤ 5 s",
        )
    )
    rows.append(
        row("first replicate of that sweep (first figure)", "s", first, None, None, target="≤ 1 s")
    )
    t_ours, t_pot, diff = w2_versus_pot()
    rows.append(
        row(
            "w2_quantile vs POT wasserstein_1d, 1e5 samples",
            "s",
            t_ours,
            t_pot,
            t_pot / t_ours,
            abs_difference=diff,
        )
    )
    print(markdown(rows))
    print(f"\nnumpy reference vs kernel: max relative variance gap {max(gaps):.3f}")
    print(f"benchmark wall time: {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    return rows


if __name__ == "__main__":
    main()
