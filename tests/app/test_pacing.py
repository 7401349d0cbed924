"""Frames give way to answers (app/pacing.py): the shortest interval between frames follows the
loop's lag, and a playing tab waits at least that long between two frames."""

from __future__ import annotations

import asyncio
import time

import pytest
from tornado.ioloop import IOLoop

from app import pacing
from app.main import TABS
from app.pacing import FIRST_S, LAG_HIGH_S, LAG_LOW_S, LONGEST_S, STRETCH, FramePacer

SWARM = next(tab for tab in TABS if tab.slug == "swarm")


def test_a_lagging_loop_lengthens_the_interval_up_to_its_cap() -> None:
    pacer = FramePacer()
    assert pacer.min_interval() == 0.0
    pacer.decide(2 * LAG_HIGH_S)
    assert pacer.min_interval() == FIRST_S
    pacer.decide(2 * LAG_HIGH_S)
    assert pacer.min_interval() == pytest.approx(FIRST_S * STRETCH)
    for _ in range(100):
        pacer.decide(2 * LAG_HIGH_S)
    assert pacer.min_interval() == LONGEST_S


def test_a_loop_with_room_shortens_it_back_to_none() -> None:
    pacer = FramePacer()
    for _ in range(100):
        pacer.decide(2 * LAG_HIGH_S)
    pacer.decide((LAG_LOW_S + LAG_HIGH_S) / 2)  # in between: unchanged
    assert pacer.min_interval() == LONGEST_S
    pacer.decide(LAG_LOW_S / 2)
    assert pacer.min_interval() == pytest.approx(LONGEST_S / STRETCH)
    for _ in range(100):
        pacer.decide(0.0)
    assert pacer.min_interval() == 0.0


def test_it_decides_on_the_mean_of_a_window_of_probes() -> None:
    pacer = FramePacer()
    window = round(pacing.WINDOW_S / pacing.PROBE_S)
    for _ in range(window - 1):
        pacer.observe(10 * LAG_HIGH_S)
    assert pacer.min_interval() == 0.0  # not a full window yet
    pacer.observe(0.0)
    assert pacer.min_interval() == FIRST_S  # mean (window - 1) * 10 / window > 1


def test_the_probe_measures_a_blocked_loop() -> None:
    loop = IOLoop(make_current=False)
    pacer = FramePacer()
    try:
        pacer.start(loop)

        async def busy() -> None:
            # blocks of three probe periods: each probe runs after one, late by up to 150 ms
            # (mean about 75 ms, five times LAG_HIGH_S); two windows of probes at least
            for _ in range(3 * round(pacing.WINDOW_S / pacing.PROBE_S)):
                time.sleep(3 * pacing.PROBE_S)
                await asyncio.sleep(0)

        loop.run_sync(busy, timeout=30)
        assert pacer.min_interval() >= FIRST_S
    finally:
        pacer.stop()
        loop.close()
    assert pacer.min_interval() == 0.0


def test_a_playing_tab_waits_the_pacer_s_interval_between_frames(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = SWARM(model=SWARM.model_class(), lesson=False)
    try:
        view.model.playing = True
        steps = view.model.n_steps_done
        monkeypatch.setattr(pacing.PACER, "_interval", 3600.0)
        view._stepped_at = time.monotonic()
        for _ in range(5):
            view.tick()
        assert view.model.n_steps_done == steps  # an hour has not passed
        monkeypatch.setattr(pacing.PACER, "_interval", 0.0)
        view.tick()
        assert view.model.n_steps_done > steps
    finally:
        view.close()
