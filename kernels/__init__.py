"""Pure numerical kernels of noisescope: numpy + numba only, no UI imports.

One package per model (``kernels/<model>/``, the tab's slug) plus :mod:`kernels.common`, the
numerics several models share. A module that owns jitted code exposes ``warmup()``, which
compiles (or loads from the numba cache) its cores on tiny inputs; :func:`warm_all` finds and
calls them all before the server listens. Nothing here lists the models: they are the packages
on disk, and a test keeps them equal to the app's one registry, ``app.main.TABS``.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from pathlib import Path

#: Shared numerics, warmed before the models that use them.
COMMON = "common"


def model_packages() -> tuple[str, ...]:
    """Names of the model packages under ``kernels/`` (every subpackage but :data:`COMMON`)."""
    here = [str(Path(__file__).resolve().parent)]
    return tuple(
        sorted(
            info.name for info in pkgutil.iter_modules(here) if info.ispkg and info.name != COMMON
        )
    )


def warm_modules(packages: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Every module with a ``warmup()`` in :data:`COMMON` and ``packages`` (default: all model
    packages), in warm-up order: shared numerics first, then each package's submodules in name
    order, then its facade (which runs the public API end to end)."""
    names: list[str] = []
    for package in (COMMON, *(model_packages() if packages is None else packages)):
        facade = importlib.import_module(f"kernels.{package}")
        for info in sorted(pkgutil.iter_modules(facade.__path__), key=lambda i: i.name):
            module = importlib.import_module(f"kernels.{package}.{info.name}")
            if callable(getattr(module, "warmup", None)):
                names.append(module.__name__)
        if callable(getattr(facade, "warmup", None)):
            names.append(facade.__name__)
    return tuple(names)


def warm_all(verbose: bool = False) -> dict[str, float]:
    """Compile or cache-load every kernel; return seconds spent per module."""
    timings: dict[str, float] = {}
    for name in warm_modules():
        start = time.perf_counter()
        importlib.import_module(name).warmup()
        timings[name] = time.perf_counter() - start
        if verbose:
            print(f"  warmed {name} in {timings[name]:.2f} s", flush=True)
    return timings
