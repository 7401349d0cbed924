"""Benchmark of kernels/tokens.py: JIT compile, cached start, µs per layer vs a numpy reference.

Run ``python benchmarks/bench_tokens.py`` (about a minute). ``main(argv)`` returns the rows for
``benchmarks/run_all.py``; each row is a dict with keys ``model``, ``case``, ``unit``, ``numba``,
``numpy`` and ``ratio`` (numpy / numba; None where there is no reference).

The numpy reference is the same layer written with vectorized numpy (Gram matrix, ``np.exp``,
matmuls, ``rng.standard_normal`` for the weights), checked against the kernel on identical normals
before it is timed. Everything runs serially on one core, as in the server (numpy's BLAS is
pinned to one thread).
"""

from __future__ import annotations

import os

# serial comparison: keep numpy's BLAS on one thread too (must precede the numpy import)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
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

import kernels.tokens as T  # noqa: E402

DT, SIGMA_NOISE, WIDTH, BETA, ALPHA = 5e-3, 2.0, 64, 1.0, 1.0


# ---------------------------------------------------------------------------------------------
# numpy reference (sphere, common fresh noise, relu, Lie-Trotter)
# ---------------------------------------------------------------------------------------------


def numpy_layer(x: np.ndarray, w: np.ndarray, attn: bool, m: int) -> np.ndarray:
    """One layer for x (N, d) with the normals block w = [B (m, d) | b (m) | A (d, m)]."""
    d = x.shape[1]
    if attn:
        e = np.exp(BETA * (x @ x.T - 1.0))  # softmax shifted by the row max 1 on the sphere
        y = x + DT * ALPHA * (e @ x) / e.sum(axis=1, keepdims=True)
    else:
        y = x
    big_b = w[: m * d].reshape(m, d)
    b = w[m * d : m * d + m]
    a = w[m * d + m : m * d + m + d * m].reshape(d, m)
    z = y + SIGMA_NOISE * math.sqrt(DT / m) * np.maximum(y @ big_b.T, 0.0) @ a.T  # sigma_b = 0
    del b
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def numpy_run(x: np.ndarray, n_layers: int, attn: bool, m: int, rng) -> np.ndarray:
    d = x.shape[1]
    for _ in range(n_layers):
        x = numpy_layer(x, rng.standard_normal(m * (2 * d + 1)), attn, m)
    return x


def numpy_pair_run(x: np.ndarray, n_layers: int, m: int, rng) -> np.ndarray:
    """Ensemble (R, N, d), attention off, one weight set per realization per layer."""
    r, _, d = x.shape
    c = SIGMA_NOISE * math.sqrt(DT / m)
    for _ in range(n_layers):
        w = rng.standard_normal((r, m * (2 * d + 1)))
        big_b = w[:, : m * d].reshape(r, m, d)
        a = w[:, m * d + m :].reshape(r, d, m)
        s = np.maximum(np.einsum("rnd,rmd->rnm", x, big_b), 0.0)
        z = x + c * np.einsum("rnm,rdm->rnd", s, a)
        x = z / np.linalg.norm(z, axis=2, keepdims=True)
    return x


def kernel_cfg(attn: bool, m: int) -> dict:
    return dict(
        dt=DT,
        sigma_noise=SIGMA_NOISE,
        activation="relu",
        width=m,
        attn_kind="sa" if attn else "off",
        attn_strength=ALPHA if attn else 0.0,
        beta=BETA,
    )


def check_reference(n: int, d: int, attn: bool, m: int) -> float:
    """Max |kernel - numpy| after 3 layers on the same normals (should be ~1e-15)."""
    gen = np.random.default_rng(0)
    x0 = T.initial_tokens("uniform", n, d, gen)
    q = T.noise_block_size(n, d, m)
    normals = gen.standard_normal((3, 1, q))
    got = T.advance_with_normals(x0[None], normals, **kernel_cfg(attn, m))[0]
    x = x0
    for k in range(3):
        x = numpy_layer(x, normals[k, 0], attn, m)
    return float(np.abs(got - x).max())


def layers_for(seconds_per_layer: float, budget: float = 0.25) -> int:
    return int(min(20_000, max(3, budget / max(seconds_per_layer, 1e-9))))


def time_layer(n: int, d: int, attn: bool, m: int = WIDTH) -> tuple[float, float, float]:
    """(numba µs/layer, numpy µs/layer, max deviation on shared normals)."""
    gen = np.random.default_rng(1)
    x0 = T.initial_tokens("uniform", n, d, gen)
    cfg = kernel_cfg(attn, m)

    def kernel(k: int) -> None:
        T.simulate(x0, n_steps=k, rng=gen, stride=k, **cfg)

    def reference(k: int) -> None:
        numpy_run(x0, k, attn, m, gen)

    out = []
    for fn in (kernel, reference):
        fn(2)
        probe = best_time(lambda fn=fn: fn(3), repeats=1) / 3
        k = layers_for(probe)
        out.append(best_time(lambda fn=fn, k=k: fn(k)) / k * 1e6)
    return out[0], out[1], check_reference(min(n, 64), d, attn, m)


def time_pairs(m: int, r: int = 1024) -> tuple[float, float]:
    """µs per layer per realization for an ensemble of R pairs (attention off)."""
    gen = np.random.default_rng(2)
    x0s = np.stack([T.initial_tokens("pair", 2, 3, gen, rho0=0.9999) for _ in range(r)])
    cfg = kernel_cfg(False, m)
    k = 50
    numba = best_time(lambda: T.simulate_ensemble(x0s, n_steps=k, rng=gen, stride=k, **cfg))
    ref = best_time(lambda: numpy_pair_run(x0s, k, m, gen))
    return numba / (k * r) * 1e6, ref / (k * r) * 1e6


# ---------------------------------------------------------------------------------------------
# compile / cached start in fresh processes
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------


def row(case: str, unit: str, numba: float, numpy: float | None = None, **extra) -> dict:
    ratio = numpy / numba if numpy is not None and numba > 0 else None
    return dict(
        model="tokens", case=case, unit=unit, numba=numba, numpy=numpy, ratio=ratio, **extra
    )


def fmt(v: float | None, digits: int = 1) -> str:
    if v is None:
        return "—"
    return f"{v:.{digits}f}" if v < 1e4 else f"{v:.3g}"


def markdown(rows: list[dict]) -> str:
    lines = [
        "| case | unit | numba | numpy | numpy/numba |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        digits = 2 if r["unit"] == "s" else 1
        lines.append(
            f"| {r['case']} | {r['unit']} | {fmt(r['numba'], digits)} | "
            f"{fmt(r['numpy'], digits)} | {fmt(r['ratio'], 1)}{'×' if r['ratio'] else ''} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N in {32, 128} only")
    parser.add_argument("--no-compile", action="store_true", help="skip the subprocess timings")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows: list[dict] = []
    if not args.no_compile:
        with tempfile.TemporaryDirectory(prefix="noisescope-numba-") as cache:
            imp, cold = fresh_process_start("kernels.tokens", cache)
            _, warm = fresh_process_start("kernels.tokens", cache)
        rows.append(row("JIT compile, empty cache (warmup())", "s", cold, import_s=imp))
        rows.append(row("cached start (warmup())", "s", warm))
    T.warmup()
    sizes = (32, 128) if args.quick else (32, 128, 512, 2048)
    for d in (3, 16):
        for n in sizes:
            for attn in (False, True):
                numba_us, numpy_us, dev = time_layer(n, d, attn)
                label = f"N={n}, d={d}, m={WIDTH}, {'SA' if attn else 'attention off'}"
                rows.append(row(label, "µs/layer", numba_us, numpy_us, max_deviation=dev))
    # the last row of the spec's §8 table
    numba_us, numpy_us, dev = time_layer(32, 64, False)
    rows.append(row(f"N=32, d=64, m={WIDTH}, attention off", "µs/layer", numba_us, numpy_us))
    for m in (8, 64):
        numba_us, numpy_us = time_pairs(m)
        rows.append(
            row(
                f"pair ensemble R=1024, N=2, d=3, m={m}", "µs/layer/realization", numba_us, numpy_us
            )
        )
    print(markdown(rows))
    devs = [r["max_deviation"] for r in rows if "max_deviation" in r]
    print(f"\nnumpy reference vs kernel on identical normals: max deviation {max(devs):.1e}")
    print(f"benchmark wall time: {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    return rows


if __name__ == "__main__":
    main()
