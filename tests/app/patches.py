"""The library's own behaviour for a test: one of the app's patches of Bokeh or Panel
(``app.bokeh_refs``, ``app.bokeh_writes``, ``app.bokeh_defaults``) taken out, then put back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType


@contextmanager
def without(patch: ModuleType) -> Iterator[None]:
    """``patch`` (a module with ``install``, ``uninstall`` and ``installed``) uninstalled for
    the block, installed again afterwards if it was."""
    was = patch.installed()
    patch.uninstall()
    try:
        yield
    finally:
        if was:
            patch.install()
