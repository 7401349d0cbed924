"""Bokeh's walk over a model graph without an import per value it visits.

Bokeh finds a document's models by walking the graph from its roots
(``DocumentModelManager.recompute``, after each change of a property that holds models; also
``Model.references`` and Panel's layout updates). The walk calls
``bokeh.model.util.visit_value_and_its_immediate_references`` for every property value of
every model, and that function starts with ``from .model import Model``: a relative import
per call, resolved through the import machinery every time (about 29 000 calls for a page that
has shown three tabs, a fifth of the walk's time). Its breadth-first queue is a list popped
from the front, which moves the whole list at each step.

:func:`install` puts in the same functions with ``Model`` imported once and a deque for the
queue. They visit the same values in the same order and collect the same models in the same
order (``tests/app/test_bokeh_walk.py`` compares them on whole pages). [derived for this app]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from bokeh.core.has_props import HasProps
from bokeh.model import Model, util
from bokeh.model import model as model_module
from bokeh.util.dataclasses import entries, is_dataclass

__all__ = ["install", "installed", "uninstall"]

_ORIGINAL = {
    "visit": util.visit_value_and_its_immediate_references,
    "collect": util.collect_filtered_models,
}
#: Types that hold no model: returned from at once (Bokeh's own short cut is int, float, str;
#: None and bool hold none either and otherwise go through four failed type tests).
_SCALARS = frozenset({int, float, str, bool, type(None)})


def _visit(obj: Any, visitor: Callable[[Model], None]) -> None:
    """``visit_value_and_its_immediate_references``: visit the models in ``obj`` (a model,
    a container of values, a plain HasProps or a dataclass), not recursing into a model."""
    typ = type(obj)
    if typ in _SCALARS:
        return
    if typ is list or issubclass(typ, (list, tuple)):
        for item in obj:
            _visit(item, visitor)
    elif issubclass(typ, dict):
        for key, value in obj.items():
            _visit(key, visitor)
            _visit(value, visitor)
    elif issubclass(typ, HasProps):
        if issubclass(typ, Model):
            visitor(obj)
        else:
            util.visit_immediate_value_references(obj, visitor)
    elif is_dataclass(obj):
        for _, value in entries(obj):
            _visit(value, visitor)


def _collect(discard: Callable[[Model], bool] | None, *input_values: Any) -> list[Model]:
    """``collect_filtered_models``: every model reachable from ``input_values`` once, in
    breadth-first order, leaving out (and not exploring) those ``discard`` rejects."""
    ids: set[Any] = set()
    collected: list[Model] = []
    queued: deque[Model] = deque()

    def queue_one(obj: Model) -> None:
        if obj.id not in ids and not (callable(discard) and discard(obj)):
            queued.append(obj)

    for value in input_values:
        _visit(value, queue_one)
    while queued:
        obj = queued.popleft()
        if obj.id not in ids:
            ids.add(obj.id)
            collected.append(obj)
            util.visit_immediate_value_references(obj, queue_one)
    return collected


def install() -> None:
    """Use the import-free walk (idempotent). ``visit_immediate_value_references`` and
    ``collect_models`` find these through their module's globals at each call;
    ``Model.trigger`` (which checks whether a changed property brought or dropped models)
    through ``bokeh.model.model``'s."""
    util.visit_value_and_its_immediate_references = _visit
    model_module.visit_value_and_its_immediate_references = _visit
    util.collect_filtered_models = _collect


def uninstall() -> None:
    """Bokeh's own walk back (tests compare the two)."""
    util.visit_value_and_its_immediate_references = _ORIGINAL["visit"]
    model_module.visit_value_and_its_immediate_references = _ORIGINAL["visit"]
    util.collect_filtered_models = _ORIGINAL["collect"]


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    return util.visit_value_and_its_immediate_references is _visit
