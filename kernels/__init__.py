"""Pure numerical kernels of noisescope: numpy + numba only, no UI imports.

Each model module exposes a ``warmup()`` that compiles (or loads from the numba cache) every
jitted core it owns on tiny inputs; :func:`warm_all` calls them all before the server listens.
"""

from __future__ import annotations

import importlib
import time

#: Kernel modules that expose ``warmup()`` (every module that owns jitted code, plus the public
#: ``tokens`` API that runs the token tab end to end), dependencies first; a new tab adds its
#: module here.
KERNEL_MODULES: tuple[str, ...] = (
    "kernels.common.activations",
    "kernels.common.normals",
    "kernels.common.dual_kernel",
    "kernels.tokens.core",
    "kernels.tokens.theory",
    "kernels.tokens.diagnostics",
    "kernels.tokens",
    "kernels.swarm.objectives",
    "kernels.swarm.core",
    "kernels.swarm",
    "kernels.widenet",
    "kernels.adaptive",
    "kernels.signature",
    "kernels.exploration.solvers",
    "kernels.exploration.core",
    "kernels.exploration",
)


def warm_all(verbose: bool = False) -> dict[str, float]:
    """Compile or cache-load every kernel; return seconds spent per module."""
    timings: dict[str, float] = {}
    for name in KERNEL_MODULES:
        start = time.perf_counter()
        importlib.import_module(name).warmup()
        timings[name] = time.perf_counter() - start
        if verbose:
            print(f"  warmed {name} in {timings[name]:.2f} s", flush=True)
    return timings
