"""Run every ``benchmarks/bench_*.py`` (each exposes ``main(argv) -> list[dict]``), print a
markdown table per benchmark and write them to ``benchmarks/results/table.md``.

Usage: ``python benchmarks/run_all.py [-k SUBSTRING]`` (``make bench`` runs them all).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results" / "table.md"


def discover(pattern: str = "") -> list[Path]:
    """Benchmark scripts whose name contains ``pattern``, sorted by name."""
    return [path for path in sorted(BENCH_DIR.glob("bench_*.py")) if pattern in path.stem]


def run_module(path: Path) -> list[dict[str, Any]]:
    """Import a benchmark script by path and return ``main([])``'s rows, each tagged with the
    script name under ``benchmark`` unless it set one."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    name = path.stem.removeprefix("bench_")
    return [{"benchmark": name, **row} for row in module.main([])]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """A markdown table whose columns are the union of the rows' keys, in first-seen order."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def report_tables(rows: Sequence[dict[str, Any]]) -> str:
    """One ``## <benchmark>`` section and table per benchmark, in run order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row["benchmark"]), []).append(row)
    return "".join(
        f"\n## {name}\n\n"
        + markdown_table([{k: v for k, v in r.items() if k != "benchmark"} for r in group])
        for name, group in groups.items()
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks; exit status 1 if any of them raised."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only scripts whose name contains this")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(BENCH_DIR))  # scripts may share helpers from this folder

    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    for path in discover(args.k):
        print(f"== {path.name}", flush=True)
        start = time.perf_counter()
        try:
            rows += run_module(path)
        except Exception as error:
            traceback.print_exc()
            failed.append(path.name)
            rows.append(
                {
                    "benchmark": path.stem.removeprefix("bench_"),
                    "measure": "FAILED",
                    "note": f"{type(error).__name__}: {error}",
                }
            )
        print(f"   {time.perf_counter() - start:.1f} s", flush=True)

    header = (
        f"# noisescope benchmarks\n\n{time.strftime('%Y-%m-%d %H:%M')} · Python "
        f"{platform.python_version()} · {platform.machine()} · {os.cpu_count()} CPUs · "
        f"{platform.platform()}\n"
    )
    report = header + report_tables(rows)
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    print(f"written to {RESULTS.relative_to(BENCH_DIR.parent)}")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
