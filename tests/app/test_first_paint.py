"""A page's first plot first (issue 14, item 4): a tab's first panel is built with the page,
its other panels once the page has shown it, in a spare turn of the server
(:func:`app.sessions.after_first_paint`, :meth:`app.tabs.base.SimulationTab._build_rest`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bokeh.models import ImportedStyleSheet, LayoutDOM, Tabs

from app import sessions
from app.protocol_client import Client, pump, start_receivers, wait_for_panels
from app.serve_process import ServeProcess
from app.tabs import base
from app.tabs.base import PANELS_READY
from app.tabs.tokens.tab import TokensTab


def test_outside_a_server_a_tab_is_built_whole() -> None:
    tab = TokensTab()
    assert tab.complete
    assert PANELS_READY in tab._panels.css_classes
    assert {"hero", "depth", "diameter", "ensemble", "kernel", "phase"} <= set(vars(tab))


def test_the_other_panels_come_a_few_rows_per_step_each_drawn_as_it_comes(monkeypatch) -> None:
    """In a server the other panels are built in steps (one per spare turn): each step adds
    rows to the tab's layout, above the note that more are coming, and draws the panels it
    built; the last step adds the sweep panel and removes the note. The rows are those of the
    whole build, in its order."""
    whole = TokensTab()
    builds: list[Any] = []
    monkeypatch.setattr(sessions, "after_first_paint", lambda document, build: builds.append(build))
    monkeypatch.setattr(base, "BUILD_STEP_S", 0.0)  # one row per step
    tab = TokensTab()
    (build,) = builds
    drawn: list[str] = []
    monkeypatch.setattr(
        base.SimulationTab, "_redraw", lambda self, ps: drawn.extend(p.key for p in ps)
    )
    steps = iter(build())
    rows = [tab._panels.objects[0]]  # the hero, built with the page
    while next(steps, "done") != "done":
        assert not tab.complete and tab._panels.objects[-1] is tab._pending
        # the panels built so far (the hero, drawn with the page, aside), each drawn once
        assert drawn == [p.key for p in tab.panels[1:]]
        rows = tab._panels.objects[:-1]
    assert len(rows) == len(whole._panels.objects) - 1  # one row per step: all but the sweep
    assert tab.complete and tab._pending not in tab._panels.objects
    assert PANELS_READY in tab._panels.css_classes
    assert [type(row).__name__ for row in tab._panels.objects] == [
        type(row).__name__ for row in whole._panels.objects
    ]
    assert [p.key for p in tab.panels] == [p.key for p in whole.panels]
    assert drawn == [p.key for p in tab.panels[1:]]


def test_a_page_gets_its_first_plot_then_its_other_panels(tmp_path: Path) -> None:
    with ServeProcess(log_path=tmp_path / "server.log") as server:
        client = Client(server.base_url, "tokens", apply_data=False)
        document = client.session.document
        first = len(document.models)
        texts = " ".join(str(getattr(m, "text", "")) for m in document.models)
        assert not client.complete()
        assert "Tokens on the sphere" in texts  # the hero's figure title
        assert "Loading the other panels" in texts
        # the client reported the page shown (DocumentReady): the other panels follow
        start_receivers([client])
        wait_for_panels([client], timeout=60)
        after = len(document.models)
        panels = [m for m in document.select({"type": LayoutDOM}) if PANELS_READY in m.css_classes]
        texts = " ".join(str(getattr(m, "text", "")) for m in document.models)
        client.close()
        log = server.log_text()
    assert len(panels) == 1
    assert "Loading the other panels" not in texts
    # the first document holds well under half the page (tokens: ~370 of ~910 models)
    assert first < 0.5 * after, (first, after)
    assert "Traceback" not in log, log[-3000:]


def test_panels_built_while_the_page_shows_another_tab_load_nothing_from_the_cdn(
    tmp_path: Path,
) -> None:
    with ServeProcess(log_path=tmp_path / "server.log") as server:
        client = Client(server.base_url, "tokens", apply_data=False)
        document = client.session.document
        tabs = next(iter(document.select({"type": Tabs})))
        tabs.active = 2  # the visitor moves on before the tokens tab's other panels come
        start_receivers([client])
        pump(3.0)
        tabs.active = 1  # and back: the panels built meanwhile are shown now
        wait_for_panels([client], timeout=60)
        sheets = [m for m in document.models if isinstance(m, ImportedStyleSheet)]
        urls = {str(sheet.url) for sheet in sheets}
        client.close()
    assert urls and not [url for url in urls if "cdn.holoviz" in url]
