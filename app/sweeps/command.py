"""``noisescope sweep``: a sweep from the terminal, written to NetCDF or CSV (issue 15, item 4).

noisescope sweep tokens --x sigma_n=0:2:8 --y alpha=-1:1:8 --replicates 4 --out phase.nc
noisescope sweep tokens --list
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from app.sweeps.registry import SWEEP_SLUGS

__all__ = ["add_arguments", "run_command"]

#: Characters of the terminal progress bar.
BAR_WIDTH = 30


def add_arguments(sweep: argparse.ArgumentParser) -> None:
    sweep.add_argument("tab", choices=SWEEP_SLUGS, help="the tab to sweep")
    sweep.add_argument(
        "--list",
        action="store_true",
        help="print the tab's sweepable parameters and its outcomes, then exit",
    )
    sweep.add_argument("--x", metavar="NAME=LO:HI:N[:log]", help="the first (or only) axis")
    sweep.add_argument("--y", metavar="NAME=LO:HI:N[:log]", help="the second axis (optional)")
    sweep.add_argument("--outcome", default="", help="outcome summarised (default: the first)")
    sweep.add_argument("--replicates", type=int, default=4, help="runs per cell (default: 4)")
    sweep.add_argument("--seed", type=int, default=1, help="seed of every run's seed (default: 1)")
    sweep.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another parameter's value (default: the tab's teaching default); repeatable",
    )
    sweep.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help=(
            "tcp://HOST:PORT of a running Dask scheduler ($NOISESCOPE_DASK_SCHEDULER also "
            "works); 'in-process' computes here; default: a local cluster of worker processes"
        ),
    )
    sweep.add_argument(
        "--dask-workers",
        type=int,
        metavar="N",
        help="worker processes of the local cluster (default: cores − 1, at least 1)",
    )
    sweep.add_argument(
        "--max-minutes",
        type=float,
        default=20.0,
        help="refuse sweeps estimated above this much single-core compute (default: 20)",
    )
    sweep.add_argument("--no-cache", action="store_true", help="neither reuse nor store runs")
    sweep.add_argument("--out", metavar="FILE.nc|FILE.csv", help="where to write the result")
    sweep.set_defaults(handler=run_command)


def print_listing(tab: str, out: TextIO = sys.stdout) -> None:
    """``parameters:`` (name, bounds, label), then ``outcomes:`` (name, label, unit)."""
    from app.sweeps.registry import model_sweep

    sweep = model_sweep(tab)
    print("parameters:", file=out)
    for name in sweep.parameters:
        p = sweep.params_class.param[name]
        low, high = p.bounds
        headline = "  (headline)" if name in sweep.headline else ""
        print(f"  {name}  [{low:g}, {high:g}]  {p.label}{headline}", file=out)
    print("outcomes:", file=out)
    for outcome in sweep.outcomes:
        unit = f" [{outcome.unit}]" if outcome.unit else ""
        print(f"  {outcome.name}  {outcome.label}{unit}", file=out)


def _progress(out: TextIO) -> Any:
    start = time.monotonic()

    def show(plan: Any) -> None:
        fraction = plan.done / max(plan.total, 1)
        filled = round(fraction * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        elapsed = time.monotonic() - start
        out.write(f"\r[{bar}] {plan.done}/{plan.total} runs  {elapsed:5.1f} s")
        out.flush()

    return show


def run_command(args: argparse.Namespace) -> int:
    from app.sweeps import run_sweep
    from app.sweeps.cluster import ClusterUnavailable
    from app.sweeps.grid import SweepError
    from app.sweeps.results import to_csv, to_netcdf

    if args.list:
        print_listing(args.tab)
        return 0
    if not args.x or not args.out:
        print("noisescope sweep: --x and --out are required (or --list)", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.suffix not in (".nc", ".csv"):
        print("noisescope sweep: --out must end in .nc or .csv", file=sys.stderr)
        return 2
    fixed = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"noisescope sweep: --set {item!r}: expected NAME=VALUE", file=sys.stderr)
            return 2
        fixed[name.strip()] = value.strip()
    try:
        dataset = run_sweep(
            args.tab,
            x=args.x,
            y=args.y,
            outcome=args.outcome,
            replicates=args.replicates,
            seed=args.seed,
            fixed=fixed,
            scheduler=args.dask_scheduler,
            workers=args.dask_workers,
            cache=not args.no_cache,
            max_seconds=args.max_minutes * 60,
            on_update=_progress(sys.stderr),
        )
    except (SweepError, KeyError, ClusterUnavailable) as error:
        message = error.args[0] if error.args else str(error)
        print(f"\nnoisescope sweep: {message}", file=sys.stderr)
        return 1
    print("", file=sys.stderr)
    if dataset.attrs.get("notices"):
        print(f"notices: {dataset.attrs['notices']}", file=sys.stderr)
    if out.suffix == ".csv":
        out.write_text(to_csv(dataset))
    else:
        out.write_bytes(to_netcdf(dataset))
    print(f"wrote {out}", file=sys.stderr)
    return 0
