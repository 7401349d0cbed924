"""Cheaper page builds (issue 14, item 4): a page's document is attached with one pass over
its model graph instead of one per template root, and holds the same models with the same
theme and stylesheets as Panel's own template builds."""

from __future__ import annotations

from collections import Counter

import panel as pn
import pytest
from bokeh.document import Document
from bokeh.models import ImportedStyleSheet
from panel.io.state import set_curdoc
from panel.links import Callback
from panel.models.layout import Card as BkCard
from panel.util import edit_readonly

from app import main


def _page(monkeypatch: pytest.MonkeyPatch, query: dict[str, str]) -> tuple[Document, int]:
    """A session's document for the link ``query``, built as the server builds it, and the
    number of passes Bokeh made over its model graph."""
    monkeypatch.setattr(main, "_session_query", lambda: dict(query))
    doc = Document()
    passes = _passes(doc)
    with set_curdoc(doc):
        main.create_app().server_doc(doc)
    return doc, len(passes)


def _passes(doc: Document) -> list[int]:
    """A list that grows by one with each pass Bokeh makes over ``doc``'s model graph."""
    passes: list[int] = []
    recompute = doc.models.recompute

    def counted() -> None:
        passes.append(1)
        recompute()

    doc.models.recompute = counted  # type: ignore[method-assign]
    return passes


def _graph(doc: Document) -> Counter[tuple[str, str, str]]:
    """Every model of ``doc`` by class, the theme values applied to it and the address of a
    stylesheet it links (ids differ between two builds; these must not)."""
    return Counter(
        (
            type(model).__name__,
            repr(sorted((model.themed_values() or {}).items())),
            str(getattr(model, "url", "")) if isinstance(model, ImportedStyleSheet) else "",
        )
        for model in doc.models
    )


def test_a_page_is_attached_in_one_pass_and_equals_the_unfrozen_build(monkeypatch) -> None:
    query = {"tab": "tokens", "theme": "dark"}
    doc, passes = _page(monkeypatch, query)
    assert passes == 1  # Panel's template adds ~12 roots: 12 passes without the freeze
    reachable = set().union(*(root.references() for root in doc.roots))
    assert reachable == set(doc.models)
    assert all(model.document is doc for model in reachable)

    # the same link through Panel's own template: the same models with the same theme values
    monkeypatch.setattr(main, "SessionTemplate", pn.template.FastListTemplate)
    plain, plain_passes = _page(monkeypatch, query)
    assert plain_passes > 1
    assert _graph(doc) == _graph(plain)


def test_a_page_changes_nothing_on_another_page_while_it_is_busy(monkeypatch) -> None:
    """Panel's busy flag is one for the whole server, set while any session's callback runs,
    and a template's busy indicator follows it: every open page would get a message (a
    spinning header) for each callback of any other page. The pages show no such indicator."""
    first, _ = _page(monkeypatch, {"tab": "tokens"})
    second, _ = _page(monkeypatch, {"tab": "swarm"})
    changes: list[object] = []
    second.on_change(changes.append)
    with set_curdoc(first), edit_readonly(pn.state):
        pn.state.busy = True
        pn.state.busy = False
    assert changes == []


def _about_cards(doc: Document) -> int:
    return sum("ns-tab-card" in model.css_classes for model in doc.select({"type": BkCard}))


def test_the_about_page_is_built_when_it_is_first_shown(monkeypatch) -> None:
    """A link to a tab does not pay for the About page's cards (thumbnails read and encoded):
    they are built when the About tab opens; a link to the About page has them at once."""
    monkeypatch.setattr(main, "_session_query", lambda: {"tab": "tokens"})
    doc = Document()
    with set_curdoc(doc):
        template = main.create_app()
        template.server_doc(doc)
        assert _about_cards(doc) == 0
        tabs = next(obj for obj in template.main[0] if isinstance(obj, pn.Tabs))
        tabs.active = 0
        assert _about_cards(doc) == len(main.TABS)
    landing, _ = _page(monkeypatch, {})
    assert _about_cards(landing) == len(main.TABS)


def test_a_tab_shown_again_is_neither_built_nor_sent_again(monkeypatch) -> None:
    """Once built, a tab stays in the page while another is open (issue 14: tab switches at
    K = 20). Its first visit builds it and attaches its models in one pass over the document
    (each pass costs about 30 µs per model of the page); showing it again adds or removes no
    model and makes no pass. The sidebar shows the open tab's controls and keeps the others
    hidden."""
    monkeypatch.setattr(main, "_session_query", lambda: {"tab": "tokens"})
    slugs = [tab.slug for tab in main.TABS]
    doc = Document()
    with set_curdoc(doc):
        template = main.create_app()
        template.server_doc(doc)
        passes = _passes(doc)
        tabs = next(obj for obj in template.main[0] if isinstance(obj, pn.Tabs))
        sidebar = template.sidebar[0]
        tokens = set(doc.models)
        tabs.active = 1 + slugs.index("swarm")  # first visit
        assert len(passes) == 1
        both = set(doc.models)
        assert tokens < both
        for slug in ("tokens", "swarm", "tokens"):
            tabs.active = 1 + slugs.index(slug)
            assert set(doc.models) == both and len(passes) == 1
            assert [item.visible for item in sidebar.objects] == [slug == "tokens", slug == "swarm"]


def test_a_page_makes_no_panel_javascript_link(monkeypatch) -> None:
    """Panel's first ``jslink`` or ``jscallback`` in a process adds a hook that, at every
    layout change of every page, walks the whole page looking for links (13 % of a tab's
    first visit, profiled): the page's title follows the open tab through a Bokeh
    ``CustomJS`` instead. Every tab opened, every card opened: no object holds a link."""
    monkeypatch.setattr(main, "_session_query", lambda: {"tab": "tokens"})
    doc = Document()
    with set_curdoc(doc):
        template = main.create_app()
        template.server_doc(doc)
        tabs = next(obj for obj in template.main[0] if isinstance(obj, pn.Tabs))
        titles = []
        order = (*range(2, len(main.TABS) + 1), 1, 0)  # the page opens on tab 1
        for index in order:
            tabs.active = index
            titles.extend(m.text for m in doc.models if getattr(m, "name", "") == "page title")
        layouts = [template.main[0], template.sidebar[0]]
        for card in (card for layout in layouts for card in layout.select(pn.Card)):
            card.collapsed = False
        linked = [obj for layout in layouts for obj in layout.select() if obj in Callback.registry]
        linked += [model for model in doc.models if model in Callback.registry]
    assert not linked
    names = ["About", *(tab.title for tab in main.TABS)]
    assert titles == [f"{names[index]} — noisescope" for index in order]
