"""Parameter sweeps and phase diagrams on every tab, computed on Dask (issue 15).

In a notebook::

    from app.sweeps import run_sweep
    ds = run_sweep("tokens", x="sigma_n=0:2:8", y="alpha=-1:1:8", replicates=4)
    ds["mean"].plot()

The model packages say what can be swept and measured (``app/models/<slug>/sweep.py``);
:mod:`~app.sweeps.grid` reads and clamps definitions, :mod:`~app.sweeps.engine` runs them,
:mod:`~app.sweeps.cluster` provides the Dask cluster, :mod:`~app.sweeps.cache` keeps finished
replicates on disk and :mod:`~app.sweeps.results` labels the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import xarray as xr

    from app.sweeps.engine import Plan
    from app.sweeps.grid import Axis

__all__ = ["Axis", "SweepDefinition", "SweepError", "run_sweep"]


def __getattr__(name: str) -> Any:
    # the grid's names on first use: `noisescope warm` imports the CLI, which must load no
    # param or Panel (tests/app/test_cli.py)
    if name in ("Axis", "SweepDefinition", "SweepError"):
        from app.sweeps import grid

        return getattr(grid, name)
    raise AttributeError(f"module 'app.sweeps' has no attribute {name!r}")


#: ``scheduler`` value that runs every replicate in the calling process.
IN_PROCESS = "in-process"


def run_sweep(
    tab: str,
    x: str | Axis,
    y: str | Axis | None = None,
    outcome: str = "",
    replicates: int = 4,
    seed: int = 1,
    fixed: Mapping[str, Any] | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    cache: bool | str = True,
    max_seconds: float | None = None,
    on_update: Callable[[Plan], None] | None = None,
) -> xr.Dataset:
    """Sweep ``tab`` over one or two parameters and return the labelled result.

    Parameters
    ----------
    tab : str
        The tab's slug (``tokens``, ``swarm``, ``widenet``, ``adaptive``, ``signature``,
        ``exploration``).
    x, y : str or Axis
        ``"NAME=LO:HI:N"`` or ``"NAME=LO:HI:N:log"``; ``y`` optional.
    outcome : str
        Which outcome gets ``mean``/``stderr``/``n`` (default: the model's first); every
        outcome's replicates are in the result anyway.
    replicates, seed : int
        Runs per cell; the seed every run's seed derives from.
    fixed : mapping
        Other parameters' values (the CLI's ``--set``) (default: the tab's teaching default).
    scheduler : str
        ``tcp://host:port`` of a running scheduler, ``"in-process"`` to compute here, or None
        for ``$NOISESCOPE_DASK_SCHEDULER``, else a LocalCluster of ``workers`` processes.
    cache : bool or str
        Reuse and store finished replicates (True: the default cache directory; a path: there).
    max_seconds : float
        Refuse sweeps estimated above this much single-core compute (None: no limit).
    """
    from app.sweeps import cluster
    from app.sweeps.cache import ReplicateCache
    from app.sweeps.engine import execute, plan_sweep
    from app.sweeps.grid import SweepDefinition, parse_axis
    from app.sweeps.results import to_dataset

    definition = SweepDefinition(
        slug=tab,
        x=parse_axis(x) if isinstance(x, str) else x,
        y=parse_axis(y) if isinstance(y, str) else y,
        outcome=outcome,
        replicates=replicates,
        seed=seed,
        fixed=dict(fixed or {}),
    )
    plan = plan_sweep(definition, max_seconds)
    store = None if cache is False else ReplicateCache(None if cache is True else cache)
    address = scheduler or cluster.scheduler_from_env()
    if address == IN_PROCESS:
        execute(plan, None, store, on_update)
    else:
        client = cluster.connect(address, workers)
        try:
            execute(plan, client, store, on_update)
        finally:
            shared = getattr(client, "cluster", None)
            client.close()
            if shared is not None:
                shared.close()
    return to_dataset(plan)
