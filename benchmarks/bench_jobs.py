"""Fair background jobs (issue 14 item 4): how long one session's study takes while another
session keeps the job pool busy, against its time alone.

Session B's study (the victim) is the signature tab's feature pass (its teaching default, after
a seed change: the time a user waits for the accuracy panel) or the tokens tab's default
ensemble. Session A keeps 4 heavy studies queued (token ensembles of ``--heavy-real``
realizations, about 7 s each alone at the default). For each scheduler, ``--repeats`` pairs: the
victim alone, then the victim started 0.5 s after A's studies (stopped once it ends); the
slowdown is the ratio of the medians (issue 14: at most 2 for the fair scheduler). Schedulers:
``fair`` (:class:`app.models.jobs.JobPool` as the server runs it: cores + 1 workers, at most
cores jobs per session) and ``fifo`` (the former pool: 2 workers, one first-come-first-served
queue).

Usage: ``python benchmarks/bench_jobs.py [--victim signature|tokens] [--scheduler fair]``
(about a minute per scheduler; the FIFO case waits for two rounds of A's studies).
``main(argv)`` returns rows for ``benchmarks/run_all.py``. Other load on the machine makes
every time noisy: the 1-minute load average at the start is in each row.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.models import jobs  # noqa: E402
from app.models.jobs import BackgroundJob, JobPool  # noqa: E402
from app.models.signature.model import SignatureModel  # noqa: E402
from app.models.tokens.model import TokensModel  # noqa: E402

#: seconds any one job may take here before the benchmark gives up (the jobs' own deadline)
TIMEOUT = jobs.JOB_DEADLINE_S + 5
#: the schedulers compared: name -> the pool
SCHEDULERS: dict[str, Callable[[], JobPool]] = {
    "fair": JobPool,
    "fifo": lambda: JobPool(workers=2, fair=False),
}


class Victim:
    """Session B's study: ``run()`` starts it on a model owned by ``"B"`` and returns its job."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.seed = 1
        if kind == "signature":
            self.model: Any = SignatureModel()
            self.model.features_job.wait(TIMEOUT)  # the pass the constructor started
        else:
            self.model = TokensModel()
        self.model.set_job_owner("B")

    def run(self) -> BackgroundJob:
        self.seed += 1  # a fresh seed: nothing cached, the same amount of work
        if self.kind == "signature":
            self.model.seed = self.seed  # restarts the run and its feature pass
            return self.model.features_job
        self.model.param.update(seed=self.seed)
        self.model.run_ensemble()
        return self.model.ensemble


def timed(run: Callable[[], BackgroundJob]) -> float:
    """Seconds from ``run()`` to the end of the job it started."""
    start = time.perf_counter()
    job = run()
    if not job.wait(TIMEOUT) or job.error:
        raise RuntimeError(f"{job.name}: {job.error or 'timed out'}")
    return time.perf_counter() - start


class Heavy:
    """Session A: 4 token ensembles of ``n_real`` realizations, started and stopped at once."""

    def __init__(self, n_real: int) -> None:
        self.models = [TokensModel(n_real=n_real) for _ in range(4)]
        for model in self.models:
            model.set_job_owner("A")

    def start(self) -> None:
        for model in self.models:
            model.param.update(seed=model.seed + 1)  # nothing cached
            model.run_ensemble()

    def stop(self) -> None:
        for model in self.models:
            model.ensemble.cancel()
        for model in self.models:
            model.ensemble.wait(TIMEOUT)


def measure(scheduler: str, victim: Victim, heavy: Heavy, repeats: int) -> dict[str, Any]:
    """One row: the victim alone and while session A keeps 4 heavy ensembles queued, in
    ``repeats`` interleaved pairs (a changing background load hits both alike); medians."""
    jobs.POOL = pool = SCHEDULERS[scheduler]()
    load = os.getloadavg()[0]
    solo, loaded = [], []
    for _ in range(repeats):
        solo.append(timed(victim.run))
        heavy.start()
        time.sleep(0.5)  # A's studies hold the workers (and, under FIFO, the queue)
        loaded.append(timed(victim.run))
        heavy.stop()
    return {
        "scheduler": scheduler,
        "workers": pool.workers,
        "per session": pool.per_owner if pool.fair else None,
        "victim": victim.kind,
        "solo s": statistics.median(solo),
        "with 4 heavy studies s": statistics.median(loaded),
        "slowdown": statistics.median(loaded) / statistics.median(solo),
        "worst pair": max(b / a for a, b in zip(solo, loaded, strict=True)),
        "heavy study est s": heavy.models[0].ensemble_cost().seconds,
        "load avg 1 min": load,
    }


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--victim", choices=("signature", "tokens"), default="signature")
    parser.add_argument("--scheduler", action="append", choices=list(SCHEDULERS))
    parser.add_argument("--heavy-real", type=int, default=128, help="A's realizations (128)")
    parser.add_argument("--repeats", type=int, default=3, help="solo/loaded pairs (3)")
    args = parser.parse_args(argv)
    former = jobs.POOL
    try:
        victim = Victim(args.victim)
        timed(victim.run)  # compiled kernels and loaded data, before any timing
        timed(Victim("tokens").run)  # A's kernel too
        heavy = Heavy(args.heavy_real)
        rows = []
        for scheduler in args.scheduler or list(SCHEDULERS):
            rows.append(measure(scheduler, victim, heavy, args.repeats))
            print(rows[-1], flush=True)
    finally:
        jobs.POOL = former
    return rows


if __name__ == "__main__":
    from run_all import markdown_table

    print(markdown_table(main()))
