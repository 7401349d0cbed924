"""Rows of the Swarm escapes tab that wrap in a narrow window (issue 12: a 1024 px projector
with the sidebar open leaves about 600 px for the plots)."""

from __future__ import annotations

import panel as pn

#: Narrowest width (px) of a card in a row of two: below twice that, the second card wraps.
CARD_BASIS = 420
#: Narrowest width (px) of a plot with its legend beside it, in a row of two plots.
PLOT_BASIS = 380


def side_by_side(*items: pn.viewable.Viewable, basis: int = CARD_BASIS) -> pn.Row:
    """``items`` in one row, each at least ``basis`` px wide: side by side in a wide window, one
    under the other in a narrow one. The flex basis, not a min-width, sets the break: the app's
    rows wrap but ignore their children's min-widths (``app.main.OfflineFast``). It is set by
    the row's stylesheet on its children (they sit in its shadow root), not on the items: a
    card moved to the top of the tab (a preset's story) must not keep it in a column, where a
    basis is a height. The spacer left in its place takes no room."""
    css = (
        ":host { flex-wrap: wrap; } "
        f"div:not(.bk-Spacer) {{ flex: 1 1 {basis}px; }} "
        "div.bk-Spacer { flex: 0 0 0; }"
    )
    return pn.Row(*items, sizing_mode="stretch_width", stylesheets=[css])
