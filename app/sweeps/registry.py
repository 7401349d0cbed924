"""Find a model's sweep interface by slug, without importing any model package statically."""

from __future__ import annotations

import importlib
from functools import cache

from app.sweeps.spec import ModelSweep

__all__ = ["SWEEP_SLUGS", "model_sweep"]

#: Every tab with a sweep, in the app's tab order (tests check this against ``app.main.TABS``).
SWEEP_SLUGS = ("tokens", "swarm", "widenet", "adaptive", "signature", "exploration")


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
