"""Shared look of every plot and panel: labelled Bokeh figures, captions, panel cards.

Animated plots are plain Bokeh figures whose ``ColumnDataSource.data`` is replaced in place each
frame (one small websocket message, no re-render of the figure); this keeps the animation above
30 frames per second where a HoloViews ``DynamicMap`` re-plot costs tens of milliseconds.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import panel as pn
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure

#: Colour of measured curves, theory overlays and reference lines across tabs.
MEASURED = "#1f77b4"
THEORY = "#d62728"
REFERENCE = "#7f7f7f"
BAND = "#9ecae1"
#: Height (px) of a row of readout chips.
READOUT_HEIGHT = 62

#: Stylesheet for readouts and captions; Panel renders panes in shadow DOM, so page-level CSS
#: does not reach them and each pane gets the sheet through ``stylesheets``.
STYLESHEET = (Path(__file__).resolve().parents[2] / "assets" / "noisescope.css").read_text()

#: A readout's width comes from its layout, never from its chips (``contain: inline-size``).
#: Without it, new numbers (twice a second while playing) made the browser measure the widths of
#: everything in the tab's columns again before the next frame: 20-50 ms of layout on the swarm
#: tab, about 1 ms with it (Chromium trace, 5 s of play).
READOUT_HOST = ":host { contain: inline-size; }"


def labelled_figure(
    title: str,
    x_label: str,
    y_label: str,
    *,
    height: int = 300,
    tooltips: list[tuple[str, str]] | None = None,
    **kwargs: Any,
) -> figure:
    """A responsive Bokeh figure with a title, both axis labels and a quiet toolbar."""
    fig = figure(
        title=title,
        x_axis_label=x_label,
        y_axis_label=y_label,
        height=height,
        sizing_mode="stretch_width",
        tools="pan,wheel_zoom,box_zoom,reset,save",
        toolbar_location="above",
        **kwargs,
    )
    fig.toolbar.logo = None
    fig.title.text_font_size = "13px"
    if tooltips:
        fig.add_tools(HoverTool(tooltips=tooltips))
    return fig


def legend_outside(fig: figure) -> None:
    """Move the figure's legend to the right of the frame, where it hides no data."""
    legend = fig.legend[0]
    fig.center.remove(legend)
    legend.location = "top_left"
    legend.label_text_font_size = "11px"
    legend.click_policy = "hide"
    fig.add_layout(legend, "right")


def empty_source(*columns: str) -> ColumnDataSource:
    """A data source with the given empty columns."""
    return ColumnDataSource({name: [] for name in columns})


def caption(text: str) -> pn.pane.Markdown:
    """A "what to look for" caption under or beside a plot."""
    return pn.pane.Markdown(
        text, css_classes=["ns-caption"], stylesheets=[STYLESHEET], sizing_mode="stretch_width"
    )


def readout_pane(width: int | None = None, **kwargs: Any) -> pn.pane.HTML:
    """An HTML pane styled for :func:`readout` content, stretching unless ``width`` is given
    (a fixed width spares the browser a relayout when chips change their text)."""
    # a minimum height: new numbers every frame relayout nothing while the chips fit one line;
    # in a narrow window they wrap onto a second line instead of running off the right edge
    kwargs.setdefault("min_height", READOUT_HEIGHT)
    size: dict[str, Any] = {"width": width} if width else {"sizing_mode": "stretch_width"}
    return pn.pane.HTML("", stylesheets=[STYLESHEET, READOUT_HOST], **size, **kwargs)


#: CSS class of a panel's extras (study controls, tables) that presenter mode hides while the
#: panel is on the stage, so its plot gets the screen (app.tabs.base._fill_stage).
OFF_STAGE = "ns-off-stage"


def panel_card(
    title: str,
    *objects: Any,
    collapsed: bool = False,
    min_width: int = 420,
) -> pn.Card:
    """A titled card holding one panel's plot(s), readouts and caption."""
    return pn.Card(
        *objects,
        title=title,
        collapsed=collapsed,
        sizing_mode="stretch_width",
        min_width=min_width,
        margin=(6, 6),
        css_classes=["ns-panel"],
    )


def readout(items: dict[str, str]) -> str:
    """HTML for a row of labelled numbers (``label -> formatted value``), shown as text: a
    label or value may come from a user (an uploaded class name) and is escaped."""
    chips = "".join(
        f'<span class="ns-chip"><span class="ns-chip-label">{html.escape(str(label))}</span>'
        f'<span class="ns-chip-value">{html.escape(str(value))}</span></span>'
        for label, value in items.items()
    )
    return f'<div class="ns-readout">{chips}</div>'
