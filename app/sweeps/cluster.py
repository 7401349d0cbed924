"""Where sweeps compute: a Dask LocalCluster of worker processes started on first use and shared
by every session of the server, or an existing scheduler (``--dask-scheduler`` or
``$NOISESCOPE_DASK_SCHEDULER``: ``dask scheduler`` + ``dask worker`` on other machines,
dask-jobqueue, Kubernetes). Sweeps never compute inside the web server's process.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from app.text import shorten

__all__ = [
    "SCHEDULER_ENV",
    "ClusterUnavailable",
    "SharedCluster",
    "connect",
    "default_workers",
    "scheduler_from_env",
]

#: Environment variable naming an existing scheduler (``tcp://host:8786``).
SCHEDULER_ENV = "NOISESCOPE_DASK_SCHEDULER"
#: Environment of local worker processes: single-threaded numba, BLAS and OpenMP.
WORKER_ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
#: Seconds to wait for a scheduler before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10


class ClusterUnavailable(RuntimeError):
    """No cluster to run on; the message says which address failed and why."""


def default_workers() -> int:
    """Cores − 1, at least 1: one core stays with the web server."""
    return max(1, (os.cpu_count() or 1) - 1)


def scheduler_from_env() -> str | None:
    return os.environ.get(SCHEDULER_ENV) or None


def connect(scheduler: str | None = None, n_workers: int | None = None) -> Any:
    """A ``distributed.Client``: attached to ``scheduler`` when given, else on a new
    LocalCluster of ``n_workers`` single-threaded worker processes on 127.0.0.1."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise ClusterUnavailable(
                f"Cannot reach the Dask scheduler at {shorten(scheduler, 120)}: "
                f"{shorten(str(error), 160)}"
            ) from None
    workers = n_workers if n_workers is not None else default_workers()
    cluster = LocalCluster(
        n_workers=max(1, workers),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
        # one core per worker, as the models' seconds() estimates assume
        env=dict(WORKER_ENV),
    )
    return Client(cluster, set_as_default=False)


class SharedCluster:
    """One client per process, created on first use by whichever session sweeps first."""

    def __init__(self, scheduler: str | None = None, n_workers: int | None = None) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        """The shared client (``ClusterUnavailable`` if it cannot be had; the next call
        tries again)."""
        with self._lock:
            if self._client is not None and self._client.status in ("running", "connecting"):
                return self._client
            self._client = connect(self.scheduler, self.n_workers)
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None:
                cluster.close()


#: The server's cluster; ``noisescope serve`` configures it from its options.
SHARED = SharedCluster(scheduler_from_env())
