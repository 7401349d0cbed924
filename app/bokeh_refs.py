"""References to models the browser already has, made when a message names them.

For every PATCH-DOC message (one per animation frame and session) Bokeh builds the set of every
model of the document already in the browser (``DocumentModelManager.synced_references``) and a
``{"id": ...}`` reference dict for each (``Serializer.__init__``), although a frame names a
handful of them. With about 900 models per page that was 27 % of the server's CPU while ten
sessions played the tokens tab (py-spy, issue 14), the largest single cost of a frame.

:func:`install` makes both lazy: the synced models become a view of the document's own tables
(a model is synced when the document holds it and it is not new) and the serializer makes a
model's reference when the message names it. The messages are the same, byte for byte
(``tests/app/test_bokeh_refs.py`` compares them with Bokeh's own encoder).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bokeh.core.serialization import Ref, Serializer
from bokeh.document.models import DocumentModelManager
from bokeh.model import Model

__all__ = ["SyncedModels", "install", "installed"]

_ORIGINAL = {
    "synced_references": DocumentModelManager.synced_references,
    "init": Serializer.__init__,
    "has_ref": Serializer.has_ref,
    "get_ref": Serializer.get_ref,
}


class SyncedModels:
    """The models of a document the browser already has, as a view (``in``, ``iter``, ``len``)
    of the document's own tables instead of a copied set."""

    __slots__ = ("_manager",)

    def __init__(self, manager: DocumentModelManager) -> None:
        self._manager = manager

    def __contains__(self, model: object) -> bool:
        manager = self._manager
        return (
            isinstance(model, Model)
            and manager._models.get(model.id) is model
            and model not in manager._new_models
        )

    def __iter__(self) -> Iterator[Model]:
        new = self._manager._new_models
        return (model for model in list(self._manager._models.values()) if model not in new)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _synced_references(self: DocumentModelManager) -> SyncedModels:
    return SyncedModels(self)


def _init(self: Serializer, *, references: Any = (), **options: Any) -> None:
    _ORIGINAL["init"](self, **options)
    # a view is looked up when a model is named; any other collection is taken as Bokeh does
    self._synced = references if isinstance(references, SyncedModels) else None
    if self._synced is None:
        self._references.update((id(obj), obj.ref) for obj in references)


def _has_ref(self: Serializer, obj: Any) -> bool:
    return id(obj) in self._references or (self._synced is not None and obj in self._synced)


def _get_ref(self: Serializer, obj: Any) -> Ref | None:
    ref = self._references.get(id(obj))
    if ref is None and self._synced is not None and isinstance(obj, Model) and obj in self._synced:
        ref = self._references[id(obj)] = obj.ref
    return ref


def install() -> None:
    """Make Bokeh's message references lazy (idempotent)."""
    DocumentModelManager.synced_references = property(_synced_references)  # type: ignore[assignment]
    Serializer.__init__ = _init  # type: ignore[method-assign]
    Serializer.has_ref = _has_ref  # type: ignore[method-assign]
    Serializer.get_ref = _get_ref  # type: ignore[method-assign]


def uninstall() -> None:
    """Bokeh's own behaviour back (tests compare the two)."""
    DocumentModelManager.synced_references = _ORIGINAL["synced_references"]  # type: ignore[assignment]
    Serializer.__init__ = _ORIGINAL["init"]  # type: ignore[method-assign]
    Serializer.has_ref = _ORIGINAL["has_ref"]  # type: ignore[method-assign]
    Serializer.get_ref = _ORIGINAL["get_ref"]  # type: ignore[method-assign]


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    return Serializer.get_ref is _get_ref
