"""Pinned numbers of every tab: the teaching default at seed 1 and one study per tab.

The layout issue moved every module; these arrays, computed before the move and stored in
``tests/data/pinned/<slug>.npz``, show that nothing the user sees changed. Run this file as a
script to rewrite them (only when a change of numbers is intended and explained in its commit):

    .venv/bin/python tests/app/pinned_runs.py
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

PINNED_DIR = Path(__file__).resolve().parent.parent / "data" / "pinned"

#: Steps of the animated run after which its export is pinned (per tab; widenet's Play steps
#: the width shown, one per call).
RUN_STEPS: dict[str, int] = {
    "tokens": 200,
    "swarm": 200,
    "widenet": 1,
    "adaptive": 200,
    "signature": 50,
    "exploration": 3,
}

#: Steps per frame of a pinned run whose tab's speed changed after the pins were written (issue
#: 12 paced the presets): the old frame size, so the run and its per-frame history stay the same.
STEPS_PER_FRAME: dict[str, int] = {"swarm": 250, "tokens": 100}

#: The study each tab pins: (model method that starts it, job attribute that holds the result).
STUDIES: dict[str, tuple[str, str]] = {
    "tokens": ("run_ensemble", "ensemble"),
    "swarm": ("run_study", "study"),
    "widenet": ("run_sweep", "sweep"),
    "adaptive": ("run_weak_error", "weak_job"),
    "signature": ("refresh_features", "features_job"),
    "exploration": ("run_learning", "learning"),
}


#: Result keys that hold wall-clock timings, not numbers of the run.
WALL_CLOCK_KEYS = frozenset({"seconds", "elapsed"})


def flatten(value: Any, prefix: str = "") -> dict[str, np.ndarray]:
    """Every numeric leaf of a nested result (dicts, tuples, dataclasses, arrays) by path."""
    out: dict[str, np.ndarray] = {}
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            if key in WALL_CLOCK_KEYS:
                continue
            out.update(flatten(value[key], f"{prefix}{key}/"))
    elif hasattr(value, "_asdict"):
        out.update(flatten(value._asdict(), prefix))
    elif hasattr(value, "__dataclass_fields__"):
        out.update(flatten({k: getattr(value, k) for k in value.__dataclass_fields__}, prefix))
    elif isinstance(value, list | tuple):
        if value and all(isinstance(v, int | float | np.number) for v in value):
            out[prefix.rstrip("/")] = np.asarray(value, dtype=float)
        else:
            for i, item in enumerate(value):
                out.update(flatten(item, f"{prefix}{i}/"))
    elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        out[prefix.rstrip("/")] = value.astype(float)
    elif isinstance(value, bool | int | float | np.number):
        out[prefix.rstrip("/")] = np.asarray(float(value))
    return out


#: Arrays larger than this are pinned by an evenly strided sample of their elements plus their sum
#: and sum of squares (keeps the stored files small; any change in the dynamics moves all three).
MAX_PINNED = 4096


def pinned_form(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Large arrays replaced by ``name@sample``, ``name@sum`` and ``name@sumsq``."""
    out: dict[str, np.ndarray] = {}
    for name, a in arrays.items():
        if a.size <= MAX_PINNED:
            out[name] = a
            continue
        flat = a.ravel()
        out[f"{name}@sample"] = flat[:: -(-flat.size // MAX_PINNED)]
        out[f"{name}@sum"] = np.asarray(np.sum(flat))
        out[f"{name}@sumsq"] = np.asarray(np.sum(flat * flat))
    return out


def wait(job: Any, timeout: float = 300.0) -> Any:
    """Block until a BackgroundJob finishes; its result (an AssertionError if it failed)."""
    assert job.wait(timeout), f"{job.name} still running after {timeout} s"
    assert not job.error, job.error
    return job.result


def compute(slug: str) -> dict[str, np.ndarray]:
    """The pinned arrays of one tab, computed now with a fresh model at seed 1."""
    from app.main import TABS
    from app.models.jobs import BackgroundJob

    tab_class = next(tab for tab in TABS if tab.slug == slug)
    model = tab_class.model_class(seed=1)
    # jobs a fresh model starts by itself (widenet's sweep, signature's features) finish first:
    # what the run exports must not depend on how far they got
    if hasattr(model, "poll"):
        model.poll()
    for job in [v for v in vars(model).values() if isinstance(v, BackgroundJob)]:
        wait(job)
    for _ in range(RUN_STEPS[slug]):
        model.step(STEPS_PER_FRAME.get(slug))
    arrays = {f"run/{k}": v for k, v in flatten(model._run_arrays()).items()}
    method, job = STUDIES[slug]
    getattr(model, method)()
    arrays.update({f"study/{k}": v for k, v in flatten(wait(getattr(model, job))).items()})
    return pinned_form(arrays)


def main() -> None:
    from app.main import TABS

    PINNED_DIR.mkdir(parents=True, exist_ok=True)
    for tab in TABS:
        start = time.perf_counter()
        arrays = compute(tab.slug)
        np.savez_compressed(PINNED_DIR / f"{tab.slug}.npz", **arrays)
        size = sum(a.size for a in arrays.values())
        seconds = time.perf_counter() - start
        print(f"{tab.slug}: {len(arrays)} arrays, {size} numbers, {seconds:.1f} s")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    main()
