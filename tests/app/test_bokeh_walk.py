"""The import-free walk of :mod:`app.bokeh_walk` finds the same models in the same order as
Bokeh's own, on whole pages and on every kind of value a property can hold."""

from __future__ import annotations

from dataclasses import dataclass

import panel as pn
from bokeh.core.has_props import HasProps
from bokeh.core.properties import Instance, List
from bokeh.document import Document
from bokeh.model import util
from bokeh.models import ColumnDataSource, Div, Range1d
from panel.io.state import set_curdoc

from app import bokeh_walk, main
from tests.app.patches import without


def _page(monkeypatch, slugs: tuple[str, ...]) -> Document:
    """A session's document for a link to ``slugs[0]`` that has then shown the others."""
    monkeypatch.setattr(main, "_session_query", lambda: {"tab": slugs[0]})
    document = Document()
    with set_curdoc(document):
        template = main.create_app()
        template.server_doc(document)
        tabs = next(obj for obj in template.main[0] if isinstance(obj, pn.Tabs))
        for slug in slugs[1:]:
            tabs.active = 1 + [tab.slug for tab in main.TABS].index(slug)
    return document


def test_a_page_s_models_are_collected_as_bokeh_collects_them(monkeypatch) -> None:
    document = _page(monkeypatch, ("tokens", "swarm", "exploration"))
    assert bokeh_walk.installed()
    ours = [[m.id for m in util.collect_models(root)] for root in document.roots]
    with without(bokeh_walk):
        theirs = [[m.id for m in util.collect_models(root)] for root in document.roots]
        before = {m.id for m in document.models}
        document.models.recompute()
        assert {m.id for m in document.models} == before
    assert ours == theirs  # the same models in the same (breadth-first) order
    assert sum(map(len, ours)) > 2000  # three tabs' figures, widgets and layouts
    document.models.recompute()
    assert {m.id for m in document.models} == before


class _Holder(HasProps):
    """A plain HasProps (not a Model) holding models: walked into, not visited."""

    inner = Instance(Div)
    more = List(Instance(Div))


@dataclass
class _Pair:
    first: object
    second: object


def test_every_kind_of_value_is_visited_as_bokeh_visits_it() -> None:
    div, source, extent = Div(), ColumnDataSource(), Range1d()
    holder = _Holder(inner=div, more=[Div(), div])
    values = [
        None,
        True,
        3,
        2.5,
        "text",
        div,
        [source, (extent, div), []],
        {"key": source, extent: [div]},
        holder,
        _Pair(first=div, second={"x": extent}),
        (1, "two", None),
    ]

    def visits(value: object) -> list[str]:
        seen: list[str] = []
        util.visit_value_and_its_immediate_references(value, lambda m: seen.append(m.id))
        return seen

    for value in values:
        ours = visits(value)
        with without(bokeh_walk):
            assert ours == visits(value), value


def test_a_property_that_brings_models_still_attaches_them() -> None:
    """``Model.trigger`` finds the models a changed property brings (through the module's
    visit) and the document attaches them."""
    document = Document()
    column = pn.Column(pn.pane.HTML("a")).get_root(document)
    document.add_root(column)
    new = Div(text="b")
    column.children = [*column.children, new]
    assert new.document is document and new in set(document.models)
