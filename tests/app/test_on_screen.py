"""While a run plays, a tab redraws only the panels the page reports on screen; the others are
marked stale and redrawn when they come on screen or the run stops (app/on_screen.py)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from app.main import TABS
from app.on_screen import (
    KEY_PREFIX,
    NONE_SHOWN,
    SCAN_INTERVAL_MS,
    SCRIPT,
    SINK_CLASS,
    WATCH_CLASS,
    report_input,
    shown_keys,
)

TOKENS = next(tab for tab in TABS if tab.slug == "tokens")


def _built_view() -> Any:
    """A tokens view with every panel built, each panel's redraws counted by key."""
    view = TOKENS(model=TOKENS.model_class(), lesson=False)
    for _ in view._build_rest():  # a page builds them after its first paint, a row a turn
        pass
    view.redraws = Counter()
    for panel in view.panels:
        update = panel.update

        def counted(panel: Any = panel, update: Any = update) -> None:
            view.redraws[panel.key] += 1
            update()

        panel.update = counted
    return view


def _frame(view: Any) -> None:
    """One frame with the secondary panels due (a frame redraws at once without a document)."""
    view._secondary_at = 0.0
    view.model.step()


def test_every_panel_has_a_key_its_layout_carries() -> None:
    view = _built_view()
    try:
        keys = [panel.key for panel in view.panels]
        assert keys == [f"tokens-{i}" for i in range(len(view.panels))]
        for panel in view.panels:
            assert {WATCH_CLASS, KEY_PREFIX + panel.key} <= set(panel.view().css_classes)
    finally:
        view.close()


def test_a_playing_run_redraws_only_the_panels_on_screen() -> None:
    view = _built_view()
    try:
        hero, *others = view.panels
        followers = [p for p in others if p.follows_run]
        assert hero.every_frame and len(followers) >= 3
        shown, hidden = followers[0], followers[1:]
        view.model.playing = True
        view.show_on_screen(shown_keys(f"{hero.key} {shown.key}"))
        view.redraws.clear()
        _frame(view)
        assert view.redraws[hero.key] == 1 and view.redraws[shown.key] == 1
        assert all(view.redraws[p.key] == 0 and p.stale for p in hidden)

        # scrolled to: the stale panel is redrawn at once, the others stay as they were
        view.show_on_screen(shown_keys(f"{hero.key} {hidden[0].key}"))
        assert view.redraws[hidden[0].key] == 1 and not hidden[0].stale
        assert all(view.redraws[p.key] == 0 for p in hidden[1:])

        # the run stops: every stale panel shows the final state
        view.model.playing = False
        assert all(view.redraws[p.key] == 1 and not p.stale for p in hidden[1:])
    finally:
        view.close()


def test_a_restart_while_playing_redraws_the_panels_off_screen_later() -> None:
    view = _built_view()
    try:
        hero = view.panels[0]
        view.model.playing = True
        view.show_on_screen(shown_keys(hero.key))
        view.redraws.clear()
        view.model.reset()  # step 0 redraws every panel: here, every panel on screen
        assert view.redraws[hero.key] >= 1
        later = [p for p in view.panels[1:] if view.redraws[p.key] == 0]
        assert later and all(p.stale for p in later)
        view.model.playing = False
        assert all(view.redraws[p.key] >= 1 for p in later)
    finally:
        view.close()


def test_without_a_report_every_panel_counts_as_shown() -> None:
    # a notebook, or a client without a browser, never reports
    view = _built_view()
    try:
        view.model.playing = True
        view.redraws.clear()
        _frame(view)
        followers = [p for p in view.panels if p.follows_run]
        assert all(view.redraws[p.key] == 1 for p in followers)
    finally:
        view.close()


def test_a_report_names_its_keys_and_no_report_is_none() -> None:
    assert shown_keys("") is None  # the page has not reported
    assert shown_keys(NONE_SHOWN) == frozenset()
    assert shown_keys("swarm-3 swarm-0") == {"swarm-0", "swarm-3"}


def test_the_page_script_uses_the_names_the_server_uses() -> None:
    script = (Path(__file__).parents[2] / SCRIPT).read_text()
    constants = dict(re.findall(r"const ([A-Z_]+) = \"?([^\";]+)\"?;", script))
    assert constants["WATCH_CLASS"] == WATCH_CLASS
    assert constants["KEY_PREFIX"] == KEY_PREFIX
    assert constants["SINK_CLASS"] == SINK_CLASS
    assert int(constants["SCAN_INTERVAL_MS"]) == SCAN_INTERVAL_MS
    assert f'"{NONE_SHOWN}"' in script
    assert SINK_CLASS in report_input().css_classes
