"""A page's first plot first (issue 14, item 4): a tab's first panel is built with the page,
its other panels once the page has shown it, in a spare turn of the server
(:func:`app.sessions.after_first_paint`, :meth:`app.tabs.base.SimulationTab._build_rest`)."""

from __future__ import annotations

from pathlib import Path

from bokeh.models import ImportedStyleSheet, LayoutDOM, Tabs

from app.protocol_client import Client, pump, start_receivers, wait_for_panels
from app.serve_process import ServeProcess
from app.tabs.base import PANELS_READY
from app.tabs.tokens.tab import TokensTab


def test_outside_a_server_a_tab_is_built_whole() -> None:
    tab = TokensTab()
    assert tab.complete
    assert PANELS_READY in tab._panels.css_classes
    assert {"hero", "depth", "diameter", "ensemble", "kernel", "phase"} <= set(vars(tab))


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
