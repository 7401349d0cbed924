"""Find a model's sweep interface by slug, without importing any model package statically."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

from app.sweeps.spec import ModelSweep

__all__ = ["SWEEP_SLUGS", "model_sweep"]


def _sweep_packages() -> tuple[str, ...]:
    """Model packages under ``app/models/`` that declare a sweep (a ``sweep.py``), by name:
    derived from the tree, so a new tab adds no line here (``app.main.TABS`` stays the one
    list a tab edits; tests check that every registered tab is found)."""
    models = Path(__file__).resolve().parents[1] / "models"
    return tuple(
        sorted(
            info.name
            for info in pkgutil.iter_modules([str(models)])
            if info.ispkg and (models / info.name / "sweep.py").exists()
        )
    )


#: Every tab with a sweep (model packages with a ``sweep.py``), in name order.
SWEEP_SLUGS = _sweep_packages()


@cache
def model_sweep(slug: str) -> ModelSweep:
    """``app.models.<slug>.sweep.SWEEP``; ``KeyError`` naming the choices for an unknown slug."""
    if slug not in SWEEP_SLUGS:
        raise KeyError(f"no tab called {slug!r}; choose one of {', '.join(SWEEP_SLUGS)}")
    module = importlib.import_module(f"app.models.{slug}.sweep")
    sweep = module.SWEEP
    if not isinstance(sweep, ModelSweep) or sweep.slug != slug:
        raise TypeError(f"app.models.{slug}.sweep.SWEEP is not the ModelSweep of {slug!r}")
    return sweep
