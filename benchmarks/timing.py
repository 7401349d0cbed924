"""Timing helpers shared by the ``bench_*.py`` scripts (not a benchmark itself: run_all only
discovers ``bench_*.py``)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """Best wall time of ``repeats`` calls of ``fn`` (seconds): the least disturbed run."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def fresh_process_start(module: str, cache_dir: str) -> tuple[float, float]:
    """(import seconds, ``warmup()`` seconds) of kernel ``module`` in a new interpreter whose
    numba cache is ``cache_dir``: run twice on one empty directory to get the cold compile and
    then the cached start."""
    # every warm-up of the model's package (its submodules' cores, then the facade's API run)
    package = module.split(".")[-1]
    probe = (
        f"import importlib, time, kernels; t0 = time.perf_counter(); import {module} as K;"
        " t1 = time.perf_counter();"
        f" [importlib.import_module(n).warmup() for n in kernels.warm_modules(({package!r},))];"
        " t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=str(ROOT))
    res = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if res.returncode != 0:
        raise RuntimeError(res.stderr)
    imported, warmed = (float(v) for v in res.stdout.split()[-2:])
    return imported, warmed
