"""The ``noisescope`` command: ``serve`` the app, or ``warm`` the numba cache.

``warm`` imports only :mod:`kernels` (numpy + numba), so it runs without the UI stack, and
stores the signature tab's data sets on disk from a child process (servers then read them
without sktime); ``serve`` warms the same kernels *before* the server listens, so the first
visitor never waits for a JIT compile (``@njit(cache=True)`` makes every later start load the
compiled code from ``NUMBA_CACHE_DIR`` or ``__pycache__``).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any

DEFAULT_PORT = 5006
DEFAULT_ADDRESS = "127.0.0.1"
#: Comma-separated extra websocket origins (host[:port]); how Docker passes them in.
ORIGIN_ENV = "NOISESCOPE_ALLOW_WEBSOCKET_ORIGIN"
_ALL_INTERFACES = ("0.0.0.0", "::", "")
#: How often the server tends its memory (app/memory.py): freezes connected pages out of the
#: cycle collector, returns the memory of destroyed sessions to the system.
MEMORY_TEND_MS = 1000


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``noisescope`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="noisescope",
        description=(
            "noisescope: an interactive browser lab for the stochastic dynamics of learning. "
            "One tab per research paper; numba kernels feed a Panel app."
        ),
        epilog="Run 'noisescope COMMAND --help' for the options of a command.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve",
        help="warm the numba kernels, then serve the app in the browser",
        description=(
            "Warm every numba kernel (compile, or load from the cache), then serve the app. "
            "Binds to localhost unless --address says otherwise. Health check: GET /liveness. "
            "Static files of assets/ are served under /assets/."
        ),
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="TCP port to listen on (default: %(default)s)",
    )
    serve.add_argument(
        "--address",
        default=DEFAULT_ADDRESS,
        help=(
            "interface to bind (default: %(default)s, this machine only; "
            "0.0.0.0 listens on every interface, e.g. inside a container)"
        ),
    )
    serve.add_argument(
        "--allow-websocket-origin",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help=(
            "also accept browser sessions whose page was loaded from HOST[:PORT]; repeatable. "
            f"localhost:PORT and 127.0.0.1:PORT are always allowed; ${ORIGIN_ENV} "
            "(comma-separated) adds more"
        ),
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help=(
            "also answer requests whose Host header is HOST; repeatable. localhost, 127.0.0.1, "
            "::1, the bind address and every --allow-websocket-origin host are always "
            "allowed; any other Host gets 403 (a guard against DNS rebinding)"
        ),
    )
    serve.add_argument(
        "--frame-ancestors",
        default="'self'",
        metavar="SOURCES",
        help=(
            "pages that may embed the app in a frame, as a CSP frame-ancestors source list "
            "(default: %(default)s; e.g. \"'self' https://course.example.org\")"
        ),
    )
    serve.add_argument("--show", action="store_true", help="open the app in a browser tab")
    serve.add_argument(
        "--num-threads",
        type=int,
        nargs="?",
        const=0,
        default=None,
        metavar="N",
        help=(
            "run session callbacks on a pool of N threads (bare flag or 0: Python's default "
            "pool size); default: no pool, callbacks run on the server's event loop"
        ),
    )
    serve.add_argument(
        "--num-procs",
        type=int,
        default=1,
        metavar="N",
        help=(
            "serve from N processes forked after the warm-up (0: one per core; default: "
            "%(default)s). Uses every core; trade-offs in the README (sessions split "
            "between processes, one process's memory each, serial signature kernels)"
        ),
    )
    serve.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        default=None,
        help=(
            "run sweeps on the Dask scheduler at tcp://HOST:PORT ($NOISESCOPE_DASK_SCHEDULER "
            "also works); default: a local cluster started on the first sweep"
        ),
    )
    serve.add_argument(
        "--dask-workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes of the local sweep cluster (default: cores − 1, at least 1)",
    )
    serve.set_defaults(handler=_serve)

    warm = commands.add_parser(
        "warm",
        help="compile every numba kernel into the cache, print timings, exit",
        description=(
            "Compile (or load from the cache) every numba kernel, print the time per module "
            "and exit. The cache lives in $NUMBA_CACHE_DIR if set, else next to the sources."
        ),
    )
    warm.set_defaults(handler=_warm)

    from app.sweeps import command as sweep_command

    sweep_command.add_arguments(
        commands.add_parser(
            "sweep",
            help="sweep a tab over one or two parameters and write the result (.nc or .csv)",
            description=(
                "Run a tab's model over a grid of one or two parameters, R replicates per "
                "cell, on a Dask cluster (a local one by default), with a progress bar; "
                "finished runs are cached, so an interrupted sweep resumes."
            ),
        )
    )
    return parser


def websocket_origins(
    port: int, extra: Sequence[str] = (), env_value: str | None = None
) -> list[str]:
    """Allowed websocket origins: localhost and 127.0.0.1 on ``port``, then ``extra`` and the
    comma-separated ``env_value``, in order, without duplicates or blanks."""
    from_env = (env_value or "").split(",")
    candidates = [f"localhost:{port}", f"127.0.0.1:{port}", *extra, *from_env]
    return list(dict.fromkeys(o.strip() for o in candidates if o.strip()))


def browse_url(address: str, port: int) -> str:
    """The URL a person on this machine opens for a server bound to ``address``."""
    host = "localhost" if address in _ALL_INTERFACES else address
    if ":" in host:  # bare IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def warm_kernels() -> float:
    """Warm every kernel with per-module timings printed; return the total seconds."""
    import kernels

    cache = os.environ.get("NUMBA_CACHE_DIR", "next to the kernel sources (__pycache__)")
    print(f"warming numba kernels (cache: {cache})", flush=True)
    total = sum(kernels.warm_all(verbose=True).values())
    print(f"kernels ready in {total:.2f} s", flush=True)
    return total


def warm_datasets(check_first: bool) -> None:
    """Store on disk the signature tab's real data sets that lack a copy (see
    :mod:`app.models.signature.data`), in a child process: sktime, pandas and scikit-learn are
    imported there, never in the server (and ``warm`` keeps off param). With ``check_first``
    (the server, which imports the data module anyway) the child runs only if one is missing."""
    if check_first:
        from app.models.signature import data

        if not data.missing_cached():
            return
    import subprocess

    code = (
        "from app.models.signature.data import cache_datasets\n"
        "stored = cache_datasets()\n"
        "if stored: print('data sets stored on disk: ' + ', '.join(stored), flush=True)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=False)


def _warm(args: argparse.Namespace) -> int:
    warm_kernels()
    warm_datasets(check_first=False)
    return 0


class ClosedSocketFilter(logging.Filter):
    """Drops Bokeh's "Failed sending message as connection was closed": a frame already on
    its way when a page closes is expected, and a class closing its laptops logged thousands."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "connection was closed" not in record.getMessage()


def _fork_server_processes(procs: int, address: str, port: int) -> None:
    """Fork ``procs`` serving processes after the warm-up and return in each of them; the
    parent stays in Tornado's ``fork_processes`` (restarting a child that crashes) until
    SIGINT or SIGTERM, and then stops them and exits.

    Unlike Bokeh's own ``num_procs`` (one socket bound before the fork, which the busiest
    process keeps accepting on: 18 of 20 sessions on one process in ``bench_load``), each child
    binds the port itself with ``SO_REUSEPORT``, so the kernel spreads connections evenly.
    """
    import socket

    from bokeh.server import server as bokeh_server
    from tornado import netutil, process

    if not port:
        raise OSError("--num-procs needs a fixed --port (each process binds it)")
    with socket.create_server((address, port)):  # taken: fail once, not in every child
        pass
    print(f"forking {procs} server processes", flush=True)

    def stop_parent(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop_parent)
    try:
        process.fork_processes(procs, max_restarts=3)
    except KeyboardInterrupt as stop:  # the parent, stopped: stop the children, then exit
        import psutil

        children = psutil.Process().children()
        for child in children:
            child.terminate()
        psutil.wait_procs(children, timeout=30)
        print(f"noisescope stopped ({stop.args[0] if stop.args else 'SIGINT'})", flush=True)
        raise SystemExit(0) from None
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a child: its own handlers come later
    _end_with_parent()

    def bind_reusing_port(address: str | None, port: int) -> tuple[list[socket.socket], int]:
        return netutil.bind_sockets(port, address=address, reuse_port=True), port

    bokeh_server.bind_sockets = bind_reusing_port  # type: ignore[assignment]


def _end_with_parent() -> None:
    """In a process forked by ``--num-procs``: receive SIGTERM (a clean stop) when the parent
    ends, which Ctrl-C or a SIGINT/SIGTERM sent to the parent alone does (Linux ``prctl``)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: Ctrl-C reaches the whole process group
        return
    if os.getppid() == 1:  # the parent ended before the call
        os.kill(os.getpid(), signal.SIGTERM)


def _serve(args: argparse.Namespace) -> int:
    logging.getLogger("bokeh.server.views.ws").addFilter(ClosedSocketFilter())
    origins = websocket_origins(args.port, args.allow_websocket_origin, os.environ.get(ORIGIN_ENV))
    url = browse_url(args.address, args.port)
    print(f"noisescope serve: binding {args.address}:{args.port}", flush=True)
    print(f"  websocket origins allowed: {', '.join(origins)}", flush=True)
    procs = args.num_procs if args.num_procs > 0 else os.cpu_count() or 1
    if procs > 1:
        # GNU OpenMP (numba's "omp" layer here) aborts a forked child that enters a parallel
        # region after the parent did; the workqueue layer is fork-safe (the signature
        # wrappers then run their serial cores: same numbers, one core per job)
        os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
    warm_kernels()

    start = time.perf_counter()
    import panel as pn

    from app import guard, memory, pacing, sessions
    from app.main import ASSETS_DIR, create_app, warm_views

    if args.num_threads is not None:
        pn.config.nthreads = args.num_threads
    sessions.take_turns()  # a burst of pages: one build at a time, the loop's work in between
    sessions.wait_for_websockets()  # and no document built twice
    sessions.skip_callback_checks()  # Panel's ~500 property links per page, inspected each
    sessions.answer_promptly()  # a click is handled 5 ms after it arrives, not 50
    from app.sweeps import cluster

    cluster.SHARED.scheduler = args.dask_scheduler or cluster.scheduler_from_env()
    cluster.SHARED.n_workers = args.dask_workers
    warm_datasets(check_first=True)
    print(f"every tab built once in {warm_views():.2f} s", flush=True)
    if procs > 1:
        from app.models.jobs import POOL

        # the start-up studies finish before the fork: the children inherit their results
        if not POOL.wait_idle(timeout=300.0):
            print("start-up studies still running: the processes compute their own", flush=True)
        memory.freeze_startup_objects()  # shared with the children, never scanned again
        try:
            _fork_server_processes(procs, args.address, args.port)
        except OSError as error:
            print(
                f"noisescope: cannot listen on {args.address}:{args.port}: {error}", file=sys.stderr
            )
            return 1
    print("building one throwaway session to warm imports and plots", flush=True)
    try:
        server: Any = pn.serve(
            {"/": create_app},
            port=args.port,
            address=args.address,
            websocket_origin=origins,
            show=args.show,
            start=False,
            verbose=False,
            title="noisescope",
            liveness=True,
            warm=True,
            static_dirs={"assets": str(ASSETS_DIR)},
            http_server_kwargs={"max_header_size": guard.MAX_HEADER_BYTES},
            # a closed page's session (its models, plots and jobs) is freed within seconds
            unused_session_lifetime_milliseconds=sessions.SESSION_LIFETIME_MS,
            check_unused_sessions_milliseconds=sessions.SESSION_LIFETIME_MS // 2,
        )
    except OSError as error:  # typically: the port is taken by another server
        print(f"noisescope: cannot listen on {args.address}:{args.port}: {error}", file=sys.stderr)
        return 1
    hosts = guard.allowed_hosts(args.address, [*origins, *args.allow_host])
    guard.install(server, hosts, args.frame_ancestors)
    print(f"  hosts answered: {', '.join(sorted(hosts))}", flush=True)
    loop = server.io_loop
    stopped_by: list[str] = []

    def request_stop(signum: int, _frame: object) -> None:
        stopped_by.append(signal.Signals(signum).name)
        loop.asyncio_loop.call_soon_threadsafe(loop.stop)

    # SIGTERM too: `docker stop` sends it, and PID 1 would otherwise ignore it.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, request_stop)

    def announce() -> None:
        elapsed = time.perf_counter() - start
        who = f"process {os.getpid()}: " if procs > 1 else ""
        print(f"{who}app ready in {elapsed:.1f} s; health check: {url}liveness", flush=True)
        print(f"noisescope is listening on {url}  (Ctrl-C to stop)", flush=True)

    from tornado.ioloop import PeriodicCallback

    release = PeriodicCallback(memory.tend, MEMORY_TEND_MS)
    memory.freeze_startup_objects()
    server.start()
    release.start()
    pacing.start(loop)  # frames give way to answers when the loop falls behind
    loop.add_callback(announce)
    try:
        loop.start()
    finally:
        server.stop()
        cluster.SHARED.close()  # the sweep cluster's worker processes, if a sweep started it
    print(f"noisescope stopped ({stopped_by[0] if stopped_by else 'loop ended'})", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``noisescope`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("\nnoisescope: interrupted", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
