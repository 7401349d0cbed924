"""Bokeh computes a property's default again at every read: kept once per class instead.

A Bokeh model stores only the properties set on it. Reading any other one (Panel reads many to
build a model, Bokeh reads every one to find a model's references and to serialize it) runs
``PropertyDescriptor._get_default``: it walks the class's MRO for overridden defaults, copies
the default, validates it and asks whether it is stable, every time. That was a third of the
server's CPU while a class opened 40 pages at once (py-spy, ``bench_load.py --burst 40``).

:func:`install` keeps, per model class and property, a default that is the same for every
instance: a stable default (not computed per instance, see Bokeh's ``has_unstable_default``)
whose value is immutable (None, Undefined, a bool, a number, a string, or a tuple of those),
or an empty list, dict or set, which is made afresh and kept on the instance as Bokeh does; on
an instance with no theme value for it. Everything else (filled containers, instances, themed
values) still goes through Bokeh's own path. [derived for this app]
"""

from __future__ import annotations

from typing import Any

from bokeh.core.property.descriptors import PropertyDescriptor
from bokeh.core.property.singletons import Undefined
from bokeh.core.property.wrappers import (
    PropertyValueDict,
    PropertyValueList,
    PropertyValueSet,
)

__all__ = ["install", "installed", "uninstall"]

_ORIGINAL = PropertyDescriptor._get_default
_MISSING = object()
#: (model class, property name) → the default every instance of the class reads.
_KEPT: dict[tuple[type, str], Any] = {}
#: (model class, property name) whose default cannot be kept.
_NOT_KEPT: set[tuple[type, str]] = set()
_IMMUTABLE = (type(None), bool, int, float, str, type(Undefined))
#: Containers whose empty default is made afresh for each read (as Bokeh does: a read default is
#: never shared between instances), without Bokeh's copy and validation.
_EMPTY = (PropertyValueList, PropertyValueDict, PropertyValueSet)


class _Empty:
    """A kept default that is an empty container: each read gets a new one."""

    __slots__ = ("make",)

    def __init__(self, make: type) -> None:
        self.make = make


def _keepable(value: Any, per_instance: bool) -> Any:
    """What to keep for the default ``value``, or :data:`_MISSING`. Bokeh keeps a container
    default per instance (``per_instance``, it is mutable): an empty one is kept as its type;
    a scalar default is shared."""
    if per_instance:
        return _Empty(type(value)) if type(value) in _EMPTY and not value else _MISSING
    if isinstance(value, tuple):
        return value if all(_keepable(item, False) is item for item in value) else _MISSING
    return value if type(value) in _IMMUTABLE else _MISSING


def _get_default(self: PropertyDescriptor[Any], obj: Any) -> Any:
    name = self.name
    # HasProps.themed_values() reads the attribute through __getattr__: slow when absent
    themed = obj.__dict__.get("__themed_values__")
    if (themed is not None and name in themed) or name in obj._property_values:
        return _ORIGINAL(self, obj)  # Bokeh's own path (and its error for a set value)
    per_instance = obj._unstable_default_values
    if name in per_instance:
        return per_instance[name]
    key = (obj.__class__, name)
    kept = _KEPT.get(key, _MISSING)
    if kept is not _MISSING:
        if type(kept) is not _Empty:
            return kept
        value = kept.make()  # what Bokeh's own path does for an empty container default
        value._register_owner(obj, self)
        per_instance[name] = value
        return value
    value = _ORIGINAL(self, obj)
    if key not in _NOT_KEPT:
        kept = _keepable(value, self.has_unstable_default(obj))
        if kept is _MISSING:
            _NOT_KEPT.add(key)
        else:
            _KEPT[key] = kept
    return value


def install() -> None:
    """Keep the defaults that are the same for every instance (idempotent)."""
    PropertyDescriptor._get_default = _get_default  # type: ignore[method-assign]


def uninstall() -> None:
    """Bokeh's own path again (the tests compare both)."""
    PropertyDescriptor._get_default = _ORIGINAL  # type: ignore[method-assign]
    _KEPT.clear()
    _NOT_KEPT.clear()


def installed() -> bool:
    return PropertyDescriptor._get_default is _get_default
