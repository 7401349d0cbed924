"""The lazy message references of :mod:`app.bokeh_refs` send the same bytes as Bokeh's own."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import panel as pn
import pytest
from bokeh.document import Document
from bokeh.models import ColumnDataSource, Div
from bokeh.protocol import Protocol
from panel.io.state import set_curdoc

from app import bokeh_refs
from app.main import TABS
from tests.app.patches import without


@pytest.fixture
def bokeh_own() -> Iterator[None]:
    """Bokeh's own encoder for the test's duration, the lazy one back afterwards."""
    with without(bokeh_refs):
        yield


def message_bytes(document: Document, events: list) -> list[bytes | str]:
    """The message's content and buffers; the buffers' ids (a process-wide counter) become
    their index, so two encodings of the same events compare equal."""
    message = Protocol().create("PATCH-DOC", events)
    content = message.content_json
    for index, buffer in enumerate(message._buffers):
        content = content.replace(f'"{buffer.id}"', f'"buffer {index}"')
    return [content, *(buffer.to_bytes() for buffer in message._buffers)]


def both_encodings(document: Document, events: list) -> tuple[list, list]:
    """The message from Bokeh's encoder and from the lazy one, from the same document state
    (creating a message marks new models as synced: the state is restored in between)."""
    new = set(document.models._new_models)
    bokeh_refs.uninstall()
    own = message_bytes(document, events)
    document.models._new_models = set(new)
    bokeh_refs.install()
    lazy = message_bytes(document, events)
    return own, lazy


def tab_document(slug: str) -> tuple[Document, object]:
    document = Document()
    tab_class = next(t for t in TABS if t.slug == slug)
    with set_curdoc(document):
        view = tab_class(model=tab_class.model_class(), lesson=False)
        view.content.server_doc(document)
    return document, view


@pytest.mark.parametrize("slug", ["tokens", "swarm"])
def test_a_frame_is_encoded_byte_for_byte_as_bokeh_does(slug: str, bokeh_own: None) -> None:
    document, view = tab_document(slug)
    document.models.flush_synced()  # the browser has the page
    view.model.playing = True
    view.model.step()
    document.hold("combine")
    view._update_plots()
    events = list(document.callbacks._held_events)
    assert events, "a frame changes the plots"
    own, lazy = both_encodings(document, events)
    assert lazy == own


def test_new_models_are_sent_whole_and_known_ones_by_reference(bokeh_own: None) -> None:
    """A patch that adds a model holding a reference to a synced one: the new model is encoded
    in full, the synced one as ``{"id": ...}``, exactly as Bokeh does."""
    document = Document()
    shared = ColumnDataSource(data={"x": np.arange(3.0)})
    holder = pn.Column(pn.pane.Bokeh(Div(text="first")))
    with set_curdoc(document):
        holder.server_doc(document)
        document.add_root(Div(text="keeps the source", tags=[shared]))
    document.models.flush_synced()
    document.hold("combine")
    with set_curdoc(document):
        holder.objects = [pn.pane.Bokeh(Div(text="second", tags=[shared]))]
    events = list(document.callbacks._held_events)
    assert document.models._new_models, "the patch brings new models"
    own, lazy = both_encodings(document, events)
    assert lazy == own
    assert f'"id":"{shared.id}"' in lazy[0]


def test_the_server_runs_with_the_lazy_references() -> None:
    import app.main  # noqa: F401  (installs them)

    assert bokeh_refs.installed()
    document = Document()
    document.add_root(Div(text="x"))
    document.models.flush_synced()
    synced = document.models.synced_references
    assert isinstance(synced, bokeh_refs.SyncedModels)
    assert set(synced) == set(document.models) and len(synced) == 1
