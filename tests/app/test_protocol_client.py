"""The load benchmark's protocol-level client (app/protocol_client.py) measures what it says:
frames while playing, the simulated time from the hero's chip, and a student's interaction
with a playing page (Pause, a slider move answered by the new seed's run, Play again)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.protocol_client import (
    DATA_EVENTS,
    PAUSE_SETTLE_S,
    POKE_AFTER_FRAMES,
    Client,
    pump,
    start_receivers,
    wait_for_panels,
)
from app.serve_process import ServeProcess


def _pump_until(client: Client, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        assert time.perf_counter() < deadline, "timed out"
        pump(0.05)
        client.keep_playing()


def _one_interaction(client: Client) -> int:
    """Play until a poke is allowed, then one full Pause → Seed → Play cycle; the seed the
    page showed before."""
    start_receivers([client])
    client.play()
    assert not client.poke()  # no frame yet: nothing to interrupt
    _pump_until(client, lambda: client.frames >= POKE_AFTER_FRAMES and client.sim_time())
    assert client.first_frame_at is not None and client.first_frame_at > client.play_at
    seed = int(client.seed.value)
    assert client.poke()
    assert not client.toggle.active  # paused
    assert not client.poke()  # one interaction at a time
    pump(PAUSE_SETTLE_S)
    _pump_until(client, lambda: bool(client.resumes))
    return seed


def test_a_playing_client_counts_frames_and_times_an_interaction(tmp_path: Path) -> None:
    with ServeProcess(log_path=tmp_path / "server.log") as server:
        client = Client(server.base_url, "tokens", apply_data=False)
        seed = _one_interaction(client)
        assert int(client.seed.value) == seed + 1
        assert client.toggle.active  # playing again
        assert len(client.answers) == 1 and 0.0 < client.answers[0] < 10.0
        assert 0.0 < client.resumes[0] < 10.0
        assert client.unanswered == 0
        frames = client.frames
        _pump_until(client, lambda: client.frames > frames + POKE_AFTER_FRAMES)
        client.close()
        # a student with seeds of their own (the load benchmark's default)
        own = Client(server.base_url, "tokens", apply_data=False, seeds=iter([4321]))
        _one_interaction(own)
        assert int(own.seed.value) == 4321 and len(own.answers) == 1
        own.close()
        pump(0.3)
        log = server.log_text()
    assert "Traceback" not in log, log[-3000:]


def test_a_page_that_shows_only_its_hero_gets_only_the_hero_s_data(tmp_path: Path) -> None:
    """While playing, the server redraws only the panels a page reports on screen
    (app/on_screen.py): after ``show("tokens-0")`` every plot-data change it sends is the
    hero's. Without the report the secondary panels' data follows a few times a second."""
    with ServeProcess(log_path=tmp_path / "server.log") as server:
        sources: dict[str, set[str]] = {}
        for report in (None, "tokens-0"):
            client = Client(server.base_url, "tokens")
            start_receivers([client])
            wait_for_panels([client])
            if report is not None:
                client.show(report)
            hero = next(
                model
                for model in client.session.document.models
                if "ns-key-tokens-0" in (getattr(model, "css_classes", None) or [])
            )
            inside = {model.id for model in hero.references()}
            seen: set[str] = set()
            handle = client.session._handle_patch

            def record(message: Any, seen: set[str] = seen, handle: Any = handle) -> None:
                for event in message.content["events"]:
                    if event.get("kind") in DATA_EVENTS:
                        seen.add(event["model"]["id"])
                handle(message)

            client.play()
            # from the fifth frame on: what arrived before Play (the page's first drawing, a
            # study finishing) is drawn everywhere
            _pump_until(client, lambda client=client: client.frames >= 5)
            client.session._handle_patch = record
            _pump_until(client, lambda client=client: client.frames >= 65)
            sources[str(report)] = {"hero" if s in inside else "other" for s in seen}
            client.close()
        pump(0.3)
    assert sources["None"] == {"hero", "other"}
    assert sources["tokens-0"] == {"hero"}


def test_a_tab_switch_is_answered_by_the_other_tab_s_hero_and_the_way_back(
    tmp_path: Path,
) -> None:
    """:meth:`Client.poke_tab`: the switch is answered once the other tab's hero plot is in the
    page (its first visit builds it), the way back once the playing tab's is, and the run
    plays on with the tab's new Play toggle."""
    from app.main import TABS

    swarm = 1 + [tab.slug for tab in TABS].index("swarm")
    with ServeProcess(log_path=tmp_path / "server.log") as server:
        client = Client(server.base_url, "tokens", apply_data=False)
        start_receivers([client])
        wait_for_panels([client])
        home = client.tabs().active
        assert client.shows_tab(home) and not client.shows_tab(swarm)
        client.play()
        _pump_until(client, lambda: client.frames >= POKE_AFTER_FRAMES)
        assert client.poke_tab(swarm)
        assert not client.poke_tab(swarm) and not client.poke()  # one interaction at a time
        _pump_until(client, lambda: bool(client.switches))
        _pump_until(client, lambda: bool(client.returns))
        assert 0.0 < client.switches[0] < 10.0 and 0.0 < client.returns[0] < 10.0
        assert client.shows_tab(home) and client.unanswered == 0
        # the toggle it holds is the page's current one (the tab shown again brought new
        # models for its controls), and still on
        assert client.session.document.get_model_by_id(client.toggle.id) is client.toggle
        assert client.toggle.active
        frames, t = client.frames, client.sim_time()
        _pump_until(client, lambda: client.frames > frames + 5 and client.sim_time() != t)
        client.close()
        pump(0.3)
        log = server.log_text()
    assert "Traceback" not in log, log[-3000:]
