"""App benchmark: cold and warm start, slider release → updated plot, animation frames per
second, and server memory, measured on ``noisescope serve`` driven by headless Chromium.

- cold start: empty ``NUMBA_CACHE_DIR``; seconds from launching the server to ``/liveness``
  and to the first rendered plot in the browser (page load included; browser already running).
- warm start: the same, launched again on the cache the cold start filled.
- slider latency: a JS hook (:func:`app.browser.install_update_hook`) timestamps the pointer
  release and the first server-made change to plotted data after it, and the animation frame
  that painted it.
- frames per second: animation frames that painted new data per second while playing at the
  tab's default settings.
- tabs: every measurement except memory at launch runs per tab of ``--tab`` (repeatable; default
  tokens and swarm), with the tab's hooks from :data:`TABS`; the cold start runs once, on the
  first tab.
- memory: VmRSS of the server process after start (no session) and with one session open,
  VmHWM (peak) at the end, from ``/proc/<pid>/status``.

Run: ``python benchmarks/bench_app.py [--tab swarm]`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench_load import cpu_seconds
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from app.browser import (
    VISIBLE_PLOT,
    drag_slider,
    hook_state,
    install_update_hook,
    launch_chromium,
    wait_for_bokeh,
)
from app.serve_process import REPO_ROOT, ServeProcess

#: Tab-specific hooks per tab slug (Playwright selectors pierce Panel's shadow roots); a tab is
#: measured by ``--tab <slug>``. Keys: ``query`` (link opened), ``tab_title`` (tab header clicked
#: after load, "" = none), ``plot`` (element that means "rendered"), ``slider`` (handle dragged
#: for the latency, first match), ``slider_dx`` (pixels per drag, alternating right/left),
#: ``play`` / ``pause`` (buttons), ``data_model`` (BokehJS model types whose server updates mean
#: "plot changed"), ``ready`` (shown once the tab's background work after loading is done, "" =
#: nothing to wait for).
TABS: dict[str, dict[str, Any]] = {
    "tokens": {
        # the teaching default with a T = 40 horizon (8000 layers), so that the timed play does
        # not reach the horizon and stop; per-frame work is that of the default (100 layers/tick)
        "query": "?tab=tokens&t_max=40",
        "tab_title": "Token synchronization",
        "plot": VISIBLE_PLOT,
        # a throttled (restart) slider: its value reaches the server on release, which restarts
        # the run and redraws the tokens. Live sliders (σ_n) update the theory panels while
        # dragging, so "after release" would time later work.
        "slider": ".bk-input-group:has(.bk-slider-title:has-text('N tokens')) .noUi-handle",
        "slider_dx": 60,
        "play": "button:has-text('Play') >> visible=true",
        "pause": "button:has-text('Pause') >> visible=true",
        "data_model": "DataSource$",
        "ready": ".ns-chip-label:text-is('R')",
    },
    "swarm": {
        # the teaching default (P1: 250 SDE steps per frame) with a T = 500 horizon, so that
        # the timed play does not reach the horizon (60 at the default is 120 frames)
        "query": "?tab=swarm&t_max=500",
        "tab_title": "Swarm escapes",
        "plot": VISIBLE_PLOT,
        # a restart slider (throttled): release → new cloud → hero redrawn
        "slider": ".bk-input-group:has(.bk-slider-title:has-text('N particles')) .noUi-handle",
        "slider_dx": 40,
        "play": "button:has-text('Play') >> visible=true",
        "pause": "button:has-text('Pause') >> visible=true",
        "data_model": "DataSource$",
        "ready": "",
    },
}
#: Tabs measured when ``--tab`` is not given.
DEFAULT_TABS = ("tokens", "swarm")
LOG_DIR = REPO_ROOT / "benchmarks" / "results" / "logs"
_KERNELS_READY = re.compile(r"kernels ready in ([0-9.]+) s")


def _row(
    measure: str, value: float | None, unit: str, note: str = "", tab: str = ""
) -> dict[str, Any]:
    return {
        "benchmark": "app",
        "tab": tab,
        "measure": measure,
        "value": value,
        "unit": unit,
        "note": note,
    }


def open_tab(page: Page, url: str, tab: dict[str, Any]) -> None:
    """Load the app, open the benchmarked tab, wait until its plot is rendered."""
    page.goto(url + tab["query"])
    wait_for_bokeh(page, plot=None)
    if tab["tab_title"]:
        page.locator(".bk-tab", has_text=tab["tab_title"]).first.click()
    wait_for_bokeh(page, plot=tab["plot"])


def measure_start(browser: Browser, label: str, cache_dir: Path, slug: str) -> list[dict[str, Any]]:
    """Launch → /liveness → first plot of tab ``slug`` in a fresh page, with ``cache_dir`` as
    numba cache."""
    server = ServeProcess(
        log_path=LOG_DIR / f"serve-{label}-{slug}.log", env={"NUMBA_CACHE_DIR": str(cache_dir)}
    ).start()
    try:
        live = server.wait_live()
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        open_tab(context.new_page(), server.base_url, TABS[slug])
        plot = time.perf_counter() - server.started_at
        context.close()
    finally:
        server.stop()
    compiled = _KERNELS_READY.search(server.log_text())
    return [
        _row(f"{label} start: launch → /liveness", live, "s", tab=slug),
        _row(f"{label} start: launch → first plot", plot, "s", "browser already running", slug),
        _row(
            f"{label} start: kernel warm-up",
            float(compiled.group(1)) if compiled else None,
            "s",
            "empty NUMBA_CACHE_DIR" if label == "cold" else "cache from the cold start",
            slug,
        ),
    ]


_PAINTED_AFTER_RELEASE_JS = """() => {
  const h = window.__nsHook, release = h.releases.at(-1);
  const update = h.updates.find((t) => t > release);
  return update !== undefined && h.frames.some((t) => t > update);
}"""


def _release_latency(page: Page, timeout_ms: float) -> tuple[float, float] | None:
    """(release → first data update, release → the frame that painted it), in ms."""
    try:
        page.wait_for_function(_PAINTED_AFTER_RELEASE_JS, timeout=timeout_ms)
    except PlaywrightTimeout:  # no plot update after this release
        return None
    state = hook_state(page)
    release = state["releases"][-1]
    update = min(t for t in state["updates"] if t > release)
    return update - release, min(t for t in state["frames"] if t > update) - release


def measure_slider(page: Page, drags: int, slug: str) -> list[dict[str, Any]]:
    """Median time from slider release to the server's data update and to its painted frame."""
    tab = TABS[slug]
    state = hook_state(page)
    page.wait_for_timeout(1000)
    idle_updates = len(hook_state(page)["updates"]) - len(state["updates"])
    to_update: list[float] = []
    to_paint: list[float] = []
    for i in range(drags):
        direction = 1 if i % 2 == 0 else -1
        # Holding still before the release lets updates from the drag itself arrive first.
        drag_slider(page, tab["slider"], tab["slider_dx"] * direction, hold_ms=300)
        latency = _release_latency(page, 10_000)
        if latency is not None:
            to_update.append(latency[0])
            to_paint.append(latency[1])
        page.wait_for_timeout(300)
    note = f"median of {len(to_paint)}/{drags} drags"
    if idle_updates:
        note += f"; plot was already updating ({idle_updates}/s) before the drags"
    if not to_paint:
        note = (
            f"no plot update after {drags} drags: check TABS[{slug!r}]['slider'] and ['data_model']"
        )
    return [
        _row("slider release → data update", _median(to_update), "ms", note, slug),
        _row("slider release → plot painted", _median(to_paint), "ms", note, slug),
    ]


def measure_fps(page: Page, seconds: float, slug: str, server_pid: int) -> list[dict[str, Any]]:
    """Painted frames with new data per second while playing (after a 0.5 s ramp-up), and the
    server's CPU meanwhile (the browser shares its two cores)."""
    tab = TABS[slug]
    page.locator(tab["play"]).first.click()
    page.wait_for_timeout(500)
    start = hook_state(page)
    cpu = cpu_seconds(server_pid)
    page.wait_for_timeout(seconds * 1000)
    end = hook_state(page)
    cpu = cpu_seconds(server_pid) - cpu
    pause = page.locator(tab["pause"]).first
    still_playing = pause.is_visible()
    if still_playing:
        pause.click()
    span = (end["now"] - start["now"]) / 1000
    frames = sum(start["now"] < t <= end["now"] for t in end["frames"])
    updates = sum(start["now"] < t <= end["now"] for t in end["updates"])
    note = f"{seconds:g} s of play at {tab['query']}"
    if not still_playing:
        note += "; the animation had stopped by itself (see the server log)"
    return [
        _row("animation: painted frames per second", frames / span, "1/s", note, slug),
        _row("animation: data-source changes per second", updates / span, "1/s", note, slug),
        _row("animation: server CPU", 100 * cpu / span, "%", note, slug),
    ]


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _mib(kib: int) -> float:
    return kib / 1024


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Run every app measurement; return one row per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drags", type=int, default=5, help="slider drags (default: 5)")
    parser.add_argument(
        # 0.5 + 1.5 s at up to 40 ticks/s stay below the 80 ticks of the T = 40 horizon
        "--play-seconds",
        type=float,
        default=1.5,
        help="seconds of animation (default: 1.5)",
    )
    parser.add_argument(
        "--tab",
        action="append",
        choices=sorted(TABS),
        help=f"tab to measure (repeatable; default: {', '.join(DEFAULT_TABS)})",
    )
    parser.add_argument(
        "--no-start", action="store_true", help="skip the cold/warm server start measurements"
    )
    args = parser.parse_args(argv)
    slugs = list(dict.fromkeys(args.tab or DEFAULT_TABS))

    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="noisescope-numba-") as cache,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        if not args.no_start:
            # cold start once (the first tab; it compiles every kernel), warm start per tab
            rows += measure_start(browser, "cold", Path(cache), slugs[0])
            for slug in slugs:
                rows += measure_start(browser, "warm", Path(cache), slug)

        with ServeProcess(
            log_path=LOG_DIR / "serve-session.log", env={"NUMBA_CACHE_DIR": cache}
        ) as server:
            idle = server.memory_kib()
            sessions: dict[str, float] = {}
            for slug in slugs:
                tab = TABS[slug]
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                # first a page at the tab's defaults playing alone on the server (its
                # background work finished): the slider drags below restart runs whose studies
                # would still be computing, in a session that outlives its page by a few seconds
                open_tab(page, server.base_url, tab)
                sessions[slug] = server.memory_kib()["VmRSS"]
                if tab["ready"]:
                    page.locator(tab["ready"]).first.wait_for(timeout=60_000)
                install_update_hook(page, tab["data_model"])
                rows += measure_fps(page, args.play_seconds, slug, server.pid)
                open_tab(page, server.base_url, tab)
                install_update_hook(page, tab["data_model"])
                rows += measure_slider(page, args.drags, slug)
                page.context.close()
            peak = server.memory_kib()
        browser.close()
    rows.append(_row("server RSS, no session", _mib(idle["VmRSS"]), "MiB", "after /liveness"))
    for slug, rss in sessions.items():
        rows.append(_row("server RSS, one session", _mib(rss), "MiB", "plot rendered", slug))
    rows.append(_row("server peak RSS (VmHWM)", _mib(peak["VmHWM"]), "MiB", "after slider + play"))
    return rows


if __name__ == "__main__":
    from run_all import markdown_table

    print(markdown_table(main()))
