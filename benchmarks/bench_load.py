"""Server capacity with protocol-level clients: K sessions play a tab, no browser renders.

Each client is a ``bokeh.client`` session (Bokeh's websocket protocol) that opens ``?tab=TAB``,
presses Play by setting the Play toggle in its document, and then only receives: every
PATCH-DOC message is one frame the server computed and sent. All clients share one event loop
in this process, so the browsers' own rendering cost (which on a 2-core machine swamps the
server's) is out of the measurement. Reported per K:

* frames per second per session (median, slowest, fastest) and the slowest / median ratio;
* simulated time per second per session, from the hero's ``t`` chip;
* Play-to-first-frame latency (median, max), every client pressing Play at the same moment;
* a student's interaction under load (:meth:`Client.poke`): every :data:`POKE_EVERY_S`
  seconds one client in turn presses Pause, moves its Seed slider and presses Play again while
  the others play: slider-to-frame latency (p50, p95: until the page shows the new seed's run),
  Play-to-frame (p95) and the count of interactions that got no answer. Each student moves
  to seeds of their own (no two ask for the same run); ``--shared-seeds`` moves them all to
  the same next seed, which the server can compute once for everyone;
* tab switches under load (:meth:`Client.poke_tab`): half-way between two slider
  interactions another client switches to another tab and, once its hero is in the page,
  back: switch-to-hero latency (p50, p95; mostly a tab's first visit, which builds it) and
  back-to-hero (p95), with ``--tab-switches``;
* each page reports its hero as the only panel on screen (what a browser at 1024 × 768 shows,
  :mod:`app.on_screen`), so the server redraws the others only when the run stops;
  ``--all-panels-shown`` sends no report (every panel redraws, as for a page that never says);
* the server's event-loop lag: ``GET /liveness`` every 100 ms from a process of its own
  (p50, p99);
* server CPU (% of one core) and resident memory.

Usage: ``python benchmarks/bench_load.py [--tab tokens] [--k 1,5,10,20,40] [--seconds 10]``
(``run_all.py`` calls :func:`main` with ``[]``: tokens, K = 1, 5, 10, 20, 40). With
``BENCH_RAW=1`` in the environment each K also prints every slider answer (ms, sorted): a p95
of a few dozen interactions is then told apart from one outlier.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.ioloop import IOLoop
from tornado.websocket import websocket_connect

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.protocol_client import Client, pump, start_receivers, wait_for_panels  # noqa: E402
from app.serve_process import ServeProcess  # noqa: E402
from app.tabs.base import PANELS_READY  # noqa: E402


def server_processes(pid: int) -> list[psutil.Process]:
    """The server and the processes it forked (``--num-procs``)."""
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the server's processes."""
    return sum(sum(p.cpu_times()[:2]) for p in server_processes(pid))


def rss_sum_mib(pid: int) -> float:
    """Resident memory of the server's processes, MiB (shared pages counted in each)."""
    return sum(p.memory_info().rss for p in server_processes(pid)) / 2**20


def rss_mib(pid: int) -> float:
    """Proportional set size of the server's processes, MiB: RSS with each page shared
    between processes (a forked child's copy-on-write pages) divided among them."""
    return sum(p.memory_full_info().pss for p in server_processes(pid)) / 2**20


#: The probe's own process: a thread of this one would wait for the clients' decoding (they
#: hold the GIL for up to 0.4 s per message), which is the benchmark's lag, not the server's.
PROBE_SCRIPT = """
import sys, time, urllib.request
url = sys.argv[1]
while True:
    start = time.perf_counter()
    try:
        urllib.request.urlopen(url, timeout=30).read()
        print(time.perf_counter() - start, flush=True)
    except OSError:
        print(30.0, flush=True)
    time.sleep(0.1)
"""


class LagProbe:
    """``GET /liveness`` every 100 ms from a process of its own; the answers' latencies in
    seconds (read once :meth:`join` has stopped it)."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url + "liveness"
        self.latencies: list[float] = []
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", PROBE_SCRIPT, self.url], stdout=subprocess.PIPE, text=True
        )

    def join(self) -> None:
        assert self._process is not None, "start the probe first"
        self._process.terminate()
        out, _ = self._process.communicate(timeout=30)
        self.latencies = [float(line) for line in out.split()]


#: Seconds between two interactions (:meth:`Client.poke`), each by the next client in turn:
#: at K = 20 every student pauses, moves a slider and plays again once every 20 s.
POKE_EVERY_S = 1.0
#: Seconds the client loop runs between two looks at the clients.
SLICE_S = 0.25


def keep_playing(
    clients: Sequence[Client],
    seconds: float,
    poke: bool = False,
    switch_to: Sequence[Sequence[int]] = (),
    switch_every_s: float = POKE_EVERY_S,
) -> None:
    """Pump the loop for ``seconds`` in slices of :data:`SLICE_S`, keeping every client
    playing; with ``poke``, one client in turn moves a slider every :data:`POKE_EVERY_S`
    (:meth:`Client.poke`) and, with ``switch_to`` (client i's tabs to visit, in turn),
    another switches to a tab and back every ``switch_every_s`` (:meth:`Client.poke_tab`),
    the first half-way between two slider moves."""
    start = time.perf_counter()
    end = start + seconds
    periods = {"slider": POKE_EVERY_S, **({"tab": switch_every_s} if switch_to else {})}
    due = {"slider": start + POKE_EVERY_S, "tab": start + POKE_EVERY_S / 2}
    turn = {kind: 0 for kind in periods}
    visits = [0] * len(clients)
    while (left := end - time.perf_counter()) > 0:
        pump(min(SLICE_S, left))
        for client in clients:
            client.keep_playing()
        if not (poke and clients):
            continue
        for kind, period in periods.items():
            if time.perf_counter() < due[kind]:
                continue
            for _ in range(len(clients)):  # the next client that can interact now
                turn[kind] += 1
                i = turn[kind] % len(clients)
                if kind == "tab":
                    poked = clients[i].poke_tab(switch_to[i][visits[i] % len(switch_to[i])])
                    visits[i] += poked
                else:
                    poked = clients[i].poke()
                if poked:
                    due[kind] = time.perf_counter() + period
                    break


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def maxima_query(slug: str) -> dict[str, str]:
    """Every numeric parameter of a tab at its upper bound (the heaviest link there is)."""
    import param

    from app.main import TABS

    model = next(tab for tab in TABS if tab.slug == slug).model_class
    query: dict[str, str] = {}
    for name in model.scientific_params():
        p = model.param[name]
        if isinstance(p, param.Number) and p.bounds and p.bounds[1] is not None:
            query[name] = repr(p.bounds[1])
    return query


def tabs_to_visit(slug: str, student: int) -> list[int]:
    """The tab indices (the About page is 0) student ``student`` switches to from ``slug``:
    every other tab, starting from a different one for each student (a class spreads out;
    at K = 20 most switches are a tab's first visit, which builds it)."""
    from app.main import TABS

    others = [1 + i for i, tab in enumerate(TABS) if tab.slug != slug]
    start = student % len(others)
    return others[start:] + others[:start]


#: Seeds of student i's interactions: SEED_BLOCK·(i + 1), then one more each time (disjoint
#: for fewer than SEED_BLOCK interactions per student), so no two students ask for one run.
SEED_BLOCK = 1000


def measure(
    server: ServeProcess,
    tab: str,
    k: int,
    seconds: float,
    hostile: bool = False,
    hostile_tabs: Sequence[str] = (),
    shared_seeds: bool = False,
    all_shown: bool = False,
    tab_switches: bool = False,
    switch_every_s: float = POKE_EVERY_S,
) -> dict[str, Any]:
    """One row: K sessions playing ``tab``; with ``hostile``, one more visitor meanwhile plays
    the all-maxima link of each tab in ``hostile_tabs`` (default: every tab). The sessions
    start at the same seed (a class at the teaching default); the seeds their interactions
    move to are each student's own (:data:`SEED_BLOCK`) unless ``shared_seeds``. Each page
    reports its hero as the panel on screen (:meth:`Client.show`), as a browser at 1024 × 768
    does, unless ``all_shown`` (no report: every panel redraws while playing). With
    ``tab_switches`` the students also switch to another tab and back, one of them every
    ``switch_every_s``, each through the other tabs in an order of their own
    (:func:`tabs_to_visit`)."""
    clients = [
        Client(
            server.base_url,
            tab,
            apply_data=False,
            seeds=None if shared_seeds else itertools.count(SEED_BLOCK * (i + 1)),
        )
        for i in range(k)
    ]
    if hostile:
        from app.main import TABS

        slugs = list(hostile_tabs) or [t.slug for t in TABS]
        heavy = [
            Client(server.base_url, slug, maxima_query(slug), apply_data=False) for slug in slugs
        ]
    else:
        heavy = []
    start_receivers([*clients, *heavy])
    wait_for_panels([*clients, *heavy])
    if not all_shown:
        for client in clients:
            client.show(f"{tab}-0")
    for client in heavy:
        client.play()
    pump(1.0)  # let every session settle (first ticks, stale studies)
    probe = LagProbe(server.base_url)
    probe.start()
    for client in clients:
        client.play()
    keep_playing(clients, 0.5)
    f0 = [c.frames for c in clients]
    s0 = [c.sim_total for c in clients]
    cpu0, wall0, own0 = cpu_seconds(server.pid), time.perf_counter(), time.process_time()
    switch_to = [tabs_to_visit(tab, i) for i in range(k)] if tab_switches else []
    keep_playing(clients, seconds, poke=True, switch_to=switch_to, switch_every_s=switch_every_s)
    wall = time.perf_counter() - wall0
    cpu = cpu_seconds(server.pid) - cpu0
    own = time.process_time() - own0
    fps = [(c.frames - f) / wall for c, f in zip(clients, f0, strict=True)]
    rates = [(c.sim_total - s) / wall for c, s in zip(clients, s0, strict=True)]
    first = [c.first_frame_at - c.play_at for c in clients if c.first_frame_at is not None]
    answers = [a for c in clients for a in c.answers]
    if os.environ.get("BENCH_RAW"):
        print("answers ms", sorted(round(1000 * a) for a in answers), flush=True)
    resumes = [a for c in clients for a in c.resumes]
    switches = [a for c in clients for a in c.switches]
    returns = [a for c in clients for a in c.returns]
    probe.join()
    rss = rss_mib(server.pid)
    for client in [*clients, *heavy]:
        client.close()
    pump(0.5)
    median = statistics.median(fps)
    return {
        "case": f"{tab}, K = {k}"
        + (f" + maxima links of {', '.join(hostile_tabs) or 'every tab'}" if hostile else "")
        + (", shared seeds" if shared_seeds else "")
        + (f", a tab switch every {switch_every_s:g} s" if tab_switches else ""),
        "fps median": round(median, 1),
        "fps slowest": round(min(fps), 1),
        "fps fastest": round(max(fps), 1),
        "slowest / median": round(min(fps) / median, 2) if median else 0.0,
        "sim time/s median": round(statistics.median(rates), 3) if rates else None,
        "play→frame median ms": round(1000 * statistics.median(first)) if first else None,
        "play→frame max ms": round(1000 * max(first)) if first else None,
        "slider→frame p50 ms": round(1000 * percentile(answers, 0.5)) if answers else None,
        "slider→frame p95 ms": round(1000 * percentile(answers, 0.95)) if answers else None,
        "replay→frame p95 ms": round(1000 * percentile(resumes, 0.95)) if resumes else None,
        "interactions": len(answers),
        "tab switch→hero p50 ms": round(1000 * percentile(switches, 0.5)) if switches else None,
        "tab switch→hero p95 ms": round(1000 * percentile(switches, 0.95)) if switches else None,
        "switch back→hero p95 ms": round(1000 * percentile(returns, 0.95)) if returns else None,
        "tab switches": len(switches),
        "unanswered": sum(c.unanswered for c in clients),
        "loop lag p50 ms": round(1000 * percentile(probe.latencies, 0.5)),
        "loop lag p99 ms": round(1000 * percentile(probe.latencies, 0.99)),
        "server CPU %": round(100 * cpu / wall),
        # the clients share the machine: near 100 % they, not the server, limit the frames
        "clients CPU %": round(100 * own / wall),
        "server PSS MiB": round(rss),
    }


#: What BokehJS sends once it has shown the document: the server then builds the tab's other
#: panels (app.sessions.after_first_paint). A PATCH-DOC message's three frames.
DOCUMENT_READY = (
    json.dumps({"msgid": "ready", "msgtype": "PATCH-DOC"}),
    "{}",
    json.dumps(
        {
            "events": [
                {
                    "kind": "MessageSent",
                    "msg_type": "bokeh_event",
                    "msg_data": {
                        "type": "event",
                        "name": "document_ready",
                        "values": {"type": "map"},
                    },
                }
            ]
        }
    ),
)


async def read_message(socket: Any) -> tuple[str, str]:
    """One server message, undecoded: its header's type and its content frame (binary
    buffers are read and dropped)."""
    header = await socket.read_message()
    if header is None:
        raise RuntimeError("the server closed the websocket")
    await socket.read_message()  # metadata
    content = await socket.read_message()
    for _ in range(2 * json.loads(header).get("num_buffers", 0)):
        await socket.read_message()
    return json.loads(header)["msgtype"], content


async def open_page(base_url: str, tab: str) -> tuple[float, float, float]:
    """What a browser does to show a page, without rendering: GET the page (the server builds
    the session's document with the tab's first panel), ask for that document over the
    websocket (PULL-DOC) and receive it whole, undecoded (decoding is the browser's work, and
    here it would load the machine the server runs on), report it shown (``DocumentReady``)
    and wait for the patch that brings the tab's other panels. Returns the seconds until the
    HTML, the document (the first plot) and the other panels."""
    start = time.perf_counter()
    answer = await AsyncHTTPClient().fetch(
        f"{base_url}?tab={tab}", connect_timeout=600, request_timeout=600
    )
    got_html = time.perf_counter() - start
    page = answer.body.decode()
    match = re.search(r'"token":\s*"([^"]+)"', page) or re.search(
        r"token.{0,8}?([\w-]+\.[\w-]+\.[\w-]*)", page
    )
    if match is None:
        raise RuntimeError("no session token in the page")
    socket = await websocket_connect(
        HTTPRequest(
            base_url.replace("http", "ws", 1) + "ws", connect_timeout=600, request_timeout=600
        ),
        subprotocols=["bokeh", match.group(1)],
        max_message_size=2**30,
    )
    try:
        await read_message(socket)  # the server's ACK comes first: BokehJS waits for it too
        header = json.dumps({"msgid": "pull", "msgtype": "PULL-DOC-REQ"})
        for part in (header, "{}", "{}"):
            await socket.write_message(part)
        while (await read_message(socket))[0] != "PULL-DOC-REPLY":
            pass
        got_document = time.perf_counter() - start
        for part in DOCUMENT_READY:
            await socket.write_message(part)
        while True:
            kind, content = await read_message(socket)
            if kind == "PATCH-DOC" and PANELS_READY in content:
                break
    finally:
        socket.close()
    return got_html, got_document, time.perf_counter() - start


def measure_burst(server: ServeProcess, tab: str, pages: int) -> dict[str, Any]:
    """``pages`` pages of ``tab`` opened at the same moment."""
    AsyncHTTPClient.configure(None, max_clients=pages)

    async def burst() -> list[tuple[float, float, float] | BaseException]:
        tasks = [open_page(server.base_url, tab) for _ in range(pages)]
        return await asyncio.gather(*tasks, return_exceptions=True)

    probe = LagProbe(server.base_url)
    probe.start()
    results = IOLoop.current().run_sync(burst, timeout=900)
    probe.join()
    times = [r for r in results if isinstance(r, tuple)]
    errors = [r for r in results if not isinstance(r, tuple)]

    def seconds(index: int, summary: Callable[[Sequence[float]], float]) -> float | None:
        return round(summary([t[index] for t in times]), 2) if times else None

    return {
        "case": f"{tab}: {pages} pages opened at once",
        "failed": len(errors),
        "errors": sorted({f"{type(e).__name__}: {str(e)[:80]}" for e in errors}),
        "page HTML median s": seconds(0, statistics.median),
        "first plot median s": seconds(1, statistics.median),
        "first plot max s": seconds(1, max),
        "all panels median s": seconds(2, statistics.median),
        "all panels max s": seconds(2, max),
        "loop lag p99 ms": round(1000 * percentile(probe.latencies, 0.99)),
        "server PSS MiB": round(rss_mib(server.pid)),
    }


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tab", action="append", help="tab slug (repeatable; default tokens)")
    parser.add_argument("--k", default="1,5,10,20,40", help="session counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement window per K")
    parser.add_argument("--serve-args", default="", help="extra `noisescope serve` arguments")
    parser.add_argument(
        "--hostile",
        action="store_true",
        help="also measure each K while one more visitor plays every tab's maxima link",
    )
    parser.add_argument(
        "--hostile-tab",
        action="append",
        default=[],
        help="with --hostile: only this tab's maxima link (repeatable; one user's bad input)",
    )
    parser.add_argument(
        "--shared-seeds",
        action="store_true",
        help="interactions move every student to the same next seed (default: their own)",
    )
    parser.add_argument(
        "--all-panels-shown",
        action="store_true",
        help="pages report no panel on screen: every panel redraws while playing "
        "(default: each reports its hero, as a browser at 1024 × 768 does)",
    )
    parser.add_argument(
        "--tab-switches",
        action="store_true",
        help="students also switch to another tab and back, half-way between two slider moves",
    )
    parser.add_argument(
        "--switch-every",
        type=float,
        default=POKE_EVERY_S,
        metavar="S",
        help="with --tab-switches: seconds between two switches in the class (default "
        f"{POKE_EVERY_S:g}: at K = 20, each student every 20 s)",
    )
    parser.add_argument(
        "--burst",
        type=int,
        default=0,
        metavar="N",
        help="instead of playing: open N pages of each tab at the same moment (GET + document)",
    )
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    log = ROOT / "benchmarks" / "results" / "load-server.log"
    with ServeProcess(log_path=log, extra_args=args.serve_args.split()) as server:
        idle_rss = rss_mib(server.pid)
        print(
            f"server idle after warm-up: RSS {rss_sum_mib(server.pid):.0f} MiB, "
            f"PSS {idle_rss:.0f} MiB",
            flush=True,
        )
        for tab in args.tab or ["tokens"]:
            if args.burst:
                rows.append(measure_burst(server, tab, args.burst))
                print(rows[-1], flush=True)
                continue
            for k in (int(v) for v in args.k.split(",")):
                for hostile in (False, True) if args.hostile else (False,):
                    row = measure(
                        server,
                        tab,
                        k,
                        args.seconds,
                        hostile,
                        args.hostile_tab,
                        args.shared_seeds,
                        args.all_panels_shown,
                        args.tab_switches,
                        args.switch_every,
                    )
                    print(row, flush=True)
                    rows.append(row)
        log_text = server.log_text()
    problems = sum(log_text.count(s) for s in ("Traceback", "never retrieved", "Failed sending"))
    print(f"server log: {problems} tracebacks or closed-socket warnings", flush=True)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
