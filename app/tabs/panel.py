"""The interface every panel of every tab implements.

A panel is built once from its model (Bokeh figures, sources, panes), returns its layout from
:meth:`TabPanel.view` and redraws in place in :meth:`TabPanel.update`, reading only what its
model computes. The tab (:class:`app.tabs.base.SimulationTab`) owns the schedule: a panel with
``every_frame = True`` (the hero) redraws on every frame, the others that follow the run at most
every :data:`app.tabs.base.SECONDARY_PERIOD_S` while playing (only those the page shows: the
others wait, marked :attr:`TabPanel.stale`, see :mod:`app.on_screen`), and all of them on every
change while paused.
"""

from __future__ import annotations

import functools
import math
import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import panel as pn

#: Fewest seconds between two refreshes of a hero's readout chips while playing. Text changes
#: cost the browser a relayout (refreshed every frame they cut the swarm animation from ~25 to
#: ~10 painted frames per second) and the server a pane update (19 % of its CPU with ten
#: sessions playing the tokens tab, py-spy); paused, they follow every change.
READOUT_INTERVAL_S = 0.5


class TabPanel(ABC):
    """One panel of a tab; ``model`` is the tab's model (see module docstring)."""

    #: Redraw on every animation frame (the hero) rather than on the secondary schedule.
    every_frame: ClassVar[bool] = False
    #: Whether the panel changes as the run advances. One that does not (a study drawn when
    #: its job delivers, a plot of the restart configuration) is left alone while playing and
    #: redrawn by its own triggers (``update_on``, ``update_on_params``) and when paused.
    follows_run: ClassVar[bool] = True

    #: The panel's key in its tab (``<slug>-<index>``, set by ``SimulationTab.add_panel``): the
    #: page reports the panels it shows by key (:mod:`app.on_screen`).
    key: str = ""
    #: Whether a redraw was skipped because the panel was off the screen while the run played.
    stale: bool = False

    def __init__(self, model: Any) -> None:
        self.model = model

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every subclass's :meth:`view` builds its layout once and returns that same object
        afterwards (the tab moves a preset's panel to the top by identity)."""
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("view")
        if build is None or getattr(build, "_builds_once", False):
            return

        @functools.wraps(build)
        def view(self: TabPanel) -> pn.viewable.Viewable:
            built = self.__dict__.get("_built_view")
            if built is None:
                built = self.__dict__["_built_view"] = build(self)
            return built

        view._builds_once = True  # type: ignore[attr-defined]
        cls.view = view  # type: ignore[method-assign]

    @abstractmethod
    def view(self) -> pn.viewable.Viewable:
        """The panel's layout (built once; :meth:`update` changes it in place)."""

    @abstractmethod
    def update(self) -> None:
        """Redraw from the model's current state (called on the session's event loop)."""

    def due(self, part: str, interval: float | None = None) -> bool:
        """Whether ``part`` of the panel (its readouts, a slowly moving overlay) should be
        redrawn now: always while the model is paused, at most every ``interval`` seconds
        while it plays (default :data:`READOUT_INTERVAL_S`). A True answer starts the next
        interval."""
        interval = READOUT_INTERVAL_S if interval is None else interval
        now = time.monotonic()
        drawn = self.__dict__.setdefault("_drawn_at", {})
        if getattr(self.model, "playing", False) and now - drawn.get(part, -math.inf) < interval:
            return False
        drawn[part] = now
        return True

    def redraw_on(self, watched: Any, names: str | list[str] = "value") -> None:
        """Redraw (inside :func:`held`) when ``names`` of the parameterized ``watched`` (a
        widget of this panel, a view setting) change."""
        watched.param.watch(lambda *_: held(self.update), names)


def held(fn: Any, document: Any = None) -> None:
    """Run ``fn``, which edits Bokeh models directly, with ``document``'s events held (the
    current document by default).

    Panel runs a widget's callbacks without the server's document lock when a click arrives
    while a slider change is still in its debounce window (``Syncable._event_coroutine``
    processes the pending change unlocked); a Bokeh property set there raises Bokeh's
    ``_pending_writes should be non-None`` error. Inside Panel's ``hold`` the events are
    collected and Panel dispatches them itself, locked or not.
    """
    with pn.io.hold(document):
        fn()
