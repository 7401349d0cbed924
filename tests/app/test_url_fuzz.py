"""Hostile links (issue 13): 1000 generated query strings go through the app's own link
handling (``apply_query`` on every tab's model) without an exception, and all 1000 go to real
loopback servers, where each is answered (the page, or a clear 4xx for a request over the size
limit), the logs hold no traceback, and each server's memory stays flat under the churn.

Memory is read three times, each once the sessions of the links before it are freed
(:func:`_settled_rss`): after a warm-up of :data:`N_WARM` other generated links ("before"),
after the first half of the fuzz ("middle") and after the second ("after"). The server keeps
bounded per-process caches (data sets, start-up studies, kernel tables keyed by parameters,
scikit-learn once a head is fitted) that the fuzz's new parameter values legitimately fill, up
to their bounds, mostly in the first half: the second half may add at most
:data:`RSS_TOLERANCE` (the issue's bound), the first :data:`FILL_TOLERANCE`. A leak per link
shows in both halves.

Each GET builds a whole document (about 1.4 s of CPU on the 2-core machine, the cost issue 14
is about), so the 1000 links are split between :data:`N_SERVERS` server processes, one per
core, fed in parallel: about 12 minutes instead of 24 for one server."""

from __future__ import annotations

import http.client
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import param
import pytest

from app.main import TABS
from app.serve_process import ServeProcess

N_REQUESTS = 1000
#: Server processes the links are split between (one per core of the 2-core machine).
N_SERVERS = 2
#: Links of another seed each server is sent before its memory is measured (see the docstring).
N_WARM = 150
#: Sessions of closed pages are freed after SESSION_LIFETIME_MS (5 s), checked every 2.5 s;
#: the memory release pass runs every 5 s, or later after a costly one (memory.RELEASE_DUTY).
SETTLE_S = 20.0
#: Seconds of RSS samples (one a second) after SETTLE_S; the lowest is the settled memory: a
#: release pass waits in proportion to the cost of the last one (memory.RELEASE_DUTY), so one
#: sample may come before it.
SAMPLE_S = 10
#: RSS after the fuzz's second half may exceed RSS after its first by this fraction (the
#: issue's bound: session churn stays flat).
RSS_TOLERANCE = 0.10
#: RSS after the fuzz's first half may exceed RSS before it by this fraction: the bounded caches
#: filling (over the whole fuzz, before this split, one sample 20 s after the last link: -14 %
#: to +13 % in four server runs; the leak of a gc.freeze attempt, 0.83 -> 1.98 GB, fails both).
FILL_TOLERANCE = 0.25

HOSTILE = (
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e309",
    "-1e309",
    "9" * 400,
    "-" + "9" * 400,
    "",
    " ",
    "0x10",
    "1_000",
    "<script>alert(1)</script>",
    "%ff%fe",
    "%00",
    "'; DROP TABLE x; --",
    "[1,2]",
    "{}",
    "true",
    "Custom",
    "a" * 2000,
)


def _numeric_params(tab: type) -> list[tuple[str, param.Parameter]]:
    model = tab.model_class
    return [(n, model.param[n]) for n in model.scientific_params()]


def _edge_values(p: param.Parameter, rng: np.random.Generator) -> list[str]:
    """Values at and beyond a param's bounds, and in between."""
    if isinstance(p, param.Selector):
        objects = [str(o) for o in p.objects] or ["x"]
        return [*objects, "not-an-option", objects[0].upper()]
    if isinstance(p, param.Boolean):
        return ["1", "0", "yes", "2"]
    lo, hi = p.bounds if p.bounds is not None else (-1e6, 1e6)
    lo = -1e6 if lo is None else lo
    hi = 1e6 if hi is None else hi
    inside = lo + (hi - lo) * rng.random()
    return [repr(lo), repr(hi), repr(hi + 1), repr(lo - 1), repr(hi * 10 + 7), repr(inside)]


def fuzz_queries(n: int, seed: int = 13) -> list[str]:
    """``n`` query strings (without ``?``): each known key at and beyond its bounds, all
    maxima together, unknown and repeated keys, invalid UTF-8, markup, NaN/inf, huge numbers,
    values over the server's URL limit."""
    rng = np.random.default_rng(seed)
    slugs = [tab.slug for tab in TABS]
    queries: list[str] = []
    for tab in TABS:  # every tab with all of its params at their maxima together
        maxima = []
        for name, p in _numeric_params(tab):
            if isinstance(p, param.Number) and p.bounds and p.bounds[1] is not None:
                maxima.append(f"{name}={p.bounds[1]!r}")
            elif isinstance(p, param.Selector) and p.objects:
                maxima.append(f"{name}={quote(str(list(p.objects)[-1]))}")
        queries.append(f"tab={tab.slug}&" + "&".join(maxima))
    while len(queries) < n:
        tab = TABS[int(rng.integers(len(TABS)))]
        params = _numeric_params(tab)
        parts = [f"tab={tab.slug}"]
        kind = int(rng.integers(8))
        for _ in range(int(rng.integers(1, 6))):
            name, p = params[int(rng.integers(len(params)))]
            if kind == 0:  # hostile text
                value = HOSTILE[int(rng.integers(len(HOSTILE)))]
            else:
                values = _edge_values(p, rng)
                value = values[int(rng.integers(len(values)))]
            parts.append(f"{name}={quote(value, safe='%')}")
        if kind == 1:
            parts.append(f"unknown_{int(rng.integers(100))}=1")
        if kind == 2:
            parts.append(parts[-1])  # a repeated key
            parts.append(f"tab={slugs[int(rng.integers(len(slugs)))]}")
        if kind == 3:
            parts.append("theme=" + ["dark", "default", "%ff", "foo", ""][int(rng.integers(5))])
        if kind == 4:
            parts.append("seed=" + ["-1", "2147483648", "1e3", "%ff", "0"][int(rng.integers(5))])
        if kind == 5 and rng.random() < 0.2:
            parts.append("x=" + "a" * 100_000)  # over the URL limit: 414
        if kind == 6:
            parts.append("lesson=" + ["1", "yes", "%00"][int(rng.integers(3))])
        if kind == 7:
            parts.append("preset=" + quote(HOSTILE[int(rng.integers(len(HOSTILE)))], safe="%"))
        queries.append("&".join(parts))
    return queries[:n]


def _get(port: int, target: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.putrequest("GET", target, skip_host=True)
        conn.putheader("Host", f"localhost:{port}")
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        if response.status == 200:
            assert b"<html" in body.lower(), target[:200]
        return response.status
    finally:
        conn.close()


def test_generator_covers_the_kinds_of_hostile_input() -> None:
    queries = fuzz_queries(N_REQUESTS)
    assert len(queries) == N_REQUESTS
    text = "\n".join(queries)
    for marker in ("%ff", "nan", "inf", "unknown_", "theme=", "<script>", "9" * 400):
        assert marker in text or quote(marker, safe="%") in text, marker
    assert any(len(q) > 100_000 for q in queries)  # over the URL limit
    assert all(any(q.startswith(f"tab={tab.slug}&") for q in queries) for tab in TABS)


@pytest.mark.slow
def test_every_generated_link_is_applied_without_exception() -> None:
    from urllib.parse import parse_qsl

    from app.url_state import apply_query

    models = {tab.slug: tab.model_class() for tab in TABS}
    for query in fuzz_queries(N_REQUESTS):
        pairs = parse_qsl(query, keep_blank_values=True, errors="replace")
        args = dict(pairs)  # the last value wins, as in create_app
        model = models.get(args.get("tab", ""), models[TABS[0].slug])
        notices = apply_query(model, args)
        assert all(isinstance(n, str) for n in notices)


def _warm_links() -> list[str]:
    """Each tab's default link once, then again: what a first visitor loads (lazy imports,
    data sets, the per-process caches of the default settings) is in the memory measured
    before the fuzz."""
    return ["/?tab=about"] + [f"/?tab={tab.slug}" for tab in TABS] * 2


def _fuzz_one_server(server: ServeProcess, queries: list[str]) -> dict[str, Any]:
    for target in _warm_links():
        assert _get(server.port, target) == 200, target
    for query in fuzz_queries(N_WARM, seed=31):
        _get(server.port, "/?" + query)
    rss = [_settled_rss(server)]
    statuses: Counter[int] = Counter()
    half = len(queries) // 2
    for part in (queries[:half], queries[half:]):
        for query in part:
            statuses[_get(server.port, "/?" + query)] += 1
        rss.append(_settled_rss(server))
    return {"statuses": statuses, "rss": rss}


def _settled_rss(server: ServeProcess) -> int:
    """The server's RSS (KiB) once the sessions of the links so far are closed and freed."""
    time.sleep(SETTLE_S)
    samples = []
    for _ in range(SAMPLE_S):
        samples.append(server.memory_kib()["VmRSS"])
        time.sleep(1.0)
    return min(samples)


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_every_hostile_link_is_answered_without_traceback_or_leak(tmp_path: Path) -> None:
    queries = fuzz_queries(N_REQUESTS)
    # every tab's all-maxima link goes to each server; the rest are dealt out in turn
    shares = [queries[: len(TABS)] + queries[len(TABS) + i :: N_SERVERS] for i in range(N_SERVERS)]
    assert sum(len(share) for share in shares) >= N_REQUESTS
    with ExitStack() as stack:
        servers = [
            stack.enter_context(ServeProcess(log_path=tmp_path / f"serve-{i}.log"))
            for i in range(N_SERVERS)
        ]
        with ThreadPoolExecutor(N_SERVERS) as pool:
            results = list(pool.map(_fuzz_one_server, servers, shares))
    for i, result in enumerate(results):
        statuses = result["statuses"]
        assert sum(statuses.values()) == len(shares[i])  # every request answered
        assert set(statuses) <= {200, 414}, statuses
        assert statuses[200] > 0.9 * len(shares[i]), statuses
        text = (tmp_path / f"serve-{i}.log").read_text()
        assert "Traceback" not in text, text[text.index("Traceback") - 500 :][:3000]
        before, middle, after = result["rss"]
        mib = " -> ".join(f"{kib / 1024:.0f}" for kib in result["rss"])
        print(f"server {i}: {dict(statuses)}; RSS {mib} MiB")
        assert middle <= before * (1 + FILL_TOLERANCE), mib
        assert after <= middle * (1 + RSS_TOLERANCE), mib
