"""Defaults kept per class (:mod:`app.bokeh_defaults`) read and serialize as Bokeh's own."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from bokeh.core.has_props import HasProps
from bokeh.core.json_encoder import serialize_json
from bokeh.core.property.descriptors import UnsetValueError
from bokeh.document import Document
from bokeh.models import Div, Plot
from panel.io.state import set_curdoc

from app import bokeh_defaults
from app.main import create_app
from tests.app.patches import without


@pytest.fixture
def bokeh_own() -> Iterator[None]:
    """Bokeh's own defaults for the test's duration, the kept ones (fresh) back afterwards."""
    with without(bokeh_defaults):
        yield


def page_json() -> str:
    """The whole page's document (a tokens page), its model ids (a process-wide counter)
    replaced by their order of first appearance, the numbers in Panel's names by a mark."""
    document = Document()
    with set_curdoc(document):
        create_app().server_doc(document)
    text = serialize_json(document.to_json())
    ids: dict[str, str] = {}
    text = re.sub(r"\bp\d+\b", lambda m: ids.setdefault(m.group(0), f"id{len(ids)}"), text)
    text = re.sub(r"\d{9,}", "#", text)  # an object's id() in Panel's names and tags ...
    return re.sub(r"([A-Za-z])\d{5}\b", r"\1#####", text)  # ... or a count of objects


def test_a_page_serializes_as_with_bokeh_s_own_defaults(bokeh_own: None) -> None:
    own = page_json()
    bokeh_defaults.install()
    first, again = page_json(), page_json()  # the second page reads the kept defaults
    assert own == first == again
    assert len(bokeh_defaults._KEPT) > 100  # the page's defaults were kept


def test_kept_defaults_read_as_bokeh_computes_them(bokeh_own: None) -> None:
    bokeh_defaults.install()
    Plot(), Div()  # the first instances fill the kept defaults
    for model in (Plot(), Div()):
        for name in model.properties():
            descriptor = model.lookup(name)
            try:
                value = getattr(model, name)
            except UnsetValueError:  # a property the browser computes (inner_width)
                continue
            own = descriptor.instance_default(model)
            assert type(value) is type(own), name
            if not isinstance(own, HasProps):  # a model default is a new model each time
                assert value == own, name


def test_an_empty_container_default_is_the_instance_s_own(bokeh_own: None) -> None:
    bokeh_defaults.install()
    first, second = Div(), Div()
    first.css_classes
    a, b = Div(), Div()
    assert a.css_classes is a.css_classes  # kept on the instance, as Bokeh does
    assert a.css_classes is not b.css_classes
    a.css_classes.append("x")  # a change in place is the instance's and reaches its owner
    assert a.css_classes == ["x"] and b.css_classes == [] and Div().css_classes == []
    assert second.css_classes == []
