"""The sweep panel every tab shares (issue 15, item 2): choose one or two parameters, a range,
a resolution, replicates and an outcome; Run fills a heatmap (or a curve with a ±2 SE band)
cell by cell from the shared Dask cluster; the live point and the model's closed-form boundary
are drawn over it; clicking a cell loads that point into the live view.

The numbers come from :class:`app.sweeps.session.SweepSession`; this module only draws them.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import panel as pn
from bokeh.models import ColorBar, LinearColorMapper, TapTool
from bokeh.palettes import Viridis256

from app.sweeps.session import NO_AXIS, SweepSession
from app.tabs.panel import TabPanel
from app.tabs.plotting import (
    THEORY,
    caption,
    empty_source,
    labelled_figure,
    legend_outside,
    panel_card,
)

#: Colour of cells where a replicate diverged, and of cells not computed yet.
DIVERGED_COLOUR = "#e8443a"
PENDING_COLOUR = "#e6e6e6"
CELL_COLUMNS = ("x", "y", "x_lo", "x_hi", "y_lo", "y_hi", "mean", "stderr", "n", "cell")


class SweepPanel(TabPanel):
    """Heatmap or curve of a sweep over the tab's parameters (see module docstring)."""

    follows_run = False

    def __init__(self, model: Any, session: SweepSession, call_on_loop: Any) -> None:
        super().__init__(model)
        self.session = session
        self._call_on_loop = call_on_loop
        self._drawn_plan: object = None
        self._plot = pn.pane.Bokeh(self._figure(None), sizing_mode="stretch_width")
        run = pn.widgets.Button(label="Run sweep", color="primary", width=110)
        run.on_click(lambda _: self.start())
        cancel = pn.widgets.Button(label="Cancel", width=80, disabled=True)
        cancel.on_click(lambda _: session.cancel())
        bar = pn.indicators.Progress(value=0, max=100, width=160, height=20, margin=(14, 10))
        message = pn.pane.Str("", height=24, margin=(0, 10), sizing_mode="stretch_width")
        self.run_button, self.cancel_button, self.bar, self.message = run, cancel, bar, message

        def sync(*_: Any) -> None:
            bar.value = round(100 * session.progress)
            run.disabled = session.running
            cancel.disabled = not session.running
            message.object = session.error or session.message

        session.param.watch(
            lambda *_: call_on_loop(sync), ["progress", "running", "message", "error"]
        )
        session.param.watch(lambda *_: call_on_loop(self.update), ["generation"])
        controls = pn.Column(
            _axis_row(session, "x"),
            _axis_row(session, "y"),
            pn.Row(
                pn.widgets.Select.from_param(session.param.outcome, width=300),
                pn.widgets.IntInput.from_param(
                    session.param.replicates, start=1, end=64, width=110
                ),
            ),
        )
        stem = f"noisescope_{session.slug}_sweep"
        csv = pn.widgets.FileDownload(
            callback=self._csv, filename=f"{stem}.csv", label="Result (.csv)", width=110
        )
        netcdf = pn.widgets.FileDownload(
            callback=self._netcdf, filename=f"{stem}.nc", label="(.nc)", width=70
        )
        self._card = panel_card(
            "Sweep: how an outcome depends on one or two parameters",
            controls,
            pn.Row(run, cancel, bar, csv, netcdf),
            message,
            self._plot,
            caption(
                "Each cell runs the model to its horizon with its own seeds, "
                f"{session.replicates} times by default, on the sweep cluster (never in this "
                "page's server process). Colour: the mean outcome; hover a cell for its "
                "standard error. Red cells had a diverging run; grey cells are still "
                "computing. The star is the live view's point; click a cell to load it there."
            ),
            collapsed=True,
        )

    # ---------------------------------------------------------------- actions
    def live_values(self) -> dict[str, Any]:
        return {name: getattr(self.model, name) for name in self.model.scientific_params()}

    def start(self) -> None:
        self.session.start(self.live_values(), int(self.model.seed))

    def load_cell(self, cell: int) -> None:
        """Load the parameter point of ``cell`` into the live view (the link follows)."""
        point = self.session.cell_point(cell)
        if point:
            self.model.param.update(**point)
            shown = ", ".join(
                f"{self.model.param[name].label} = {value:g}" for name, value in point.items()
            )
            self.session.message = f"Loaded {shown} into the live view."

    def _csv(self) -> io.StringIO:
        from app.sweeps.results import to_csv

        dataset = self.session.dataset()
        return io.StringIO("" if dataset is None else to_csv(dataset))

    def _netcdf(self) -> io.BytesIO:
        from app.sweeps.results import to_netcdf

        dataset = self.session.dataset()
        return io.BytesIO(b"" if dataset is None else to_netcdf(dataset))

    # ---------------------------------------------------------------- drawing
    def _figure(self, plan: Any) -> Any:
        session, sweep = self.session, self.session.sweep
        if plan is None:
            x_name, y_name = session.x, session.y
            x_log, two_d = session.x_log, session.y != NO_AXIS
        else:
            x_name = plan.definition.x.name
            y_name = plan.definition.y.name if plan.definition.y is not None else NO_AXIS
            x_log, two_d = plan.definition.x.log, plan.definition.y is not None
        chosen = sweep.outcome(plan.definition.outcome if plan else session.outcome)
        unit = f" ({chosen.unit})" if chosen.unit else ""
        x_label = sweep.params_class.param[x_name].label or x_name
        y_label = (sweep.params_class.param[y_name].label or y_name) if two_d else chosen.label
        kwargs: dict[str, Any] = {"x_axis_type": "log" if x_log else "linear"}
        if two_d and plan is not None and plan.definition.y.log:
            kwargs["y_axis_type"] = "log"
        fig = labelled_figure(
            f"{chosen.label}{unit}" + (" (mean over replicates)" if two_d else " ± 2 SE"),
            x_label,
            y_label + ("" if two_d else unit),
            height=380,
            tooltips=[
                (x_label, "@x{0.[000]}"),
                *([(y_label, "@y{0.[000]}")] if two_d else []),
                (chosen.label, "@mean{0.[0000]}"),
                ("standard error", "@stderr{0.[0000]}"),
                ("finite runs", "@n"),
            ],
            **kwargs,
        )
        self._cells = empty_source(*CELL_COLUMNS)
        self._diverged = empty_source(*CELL_COLUMNS)
        self._pending = empty_source(*CELL_COLUMNS)
        self._band = empty_source("x", "lower", "upper")
        self._here = empty_source("x", "y")
        self._boundary = empty_source("x", "y")
        if two_d:
            self._mapper = LinearColorMapper(palette=Viridis256, nan_color=PENDING_COLOUR)
            quad = dict(left="x_lo", right="x_hi", bottom="y_lo", top="y_hi", line_color=None)
            cells = fig.quad(
                **quad, source=self._cells, fill_color={"field": "mean", "transform": self._mapper}
            )
            fig.quad(**quad, source=self._pending, fill_color=PENDING_COLOUR)
            fig.quad(
                **quad, source=self._diverged, fill_color=DIVERGED_COLOUR, legend_label="diverged"
            )
            fig.line(
                "x",
                "y",
                source=self._boundary,
                color="white",
                line_width=3,
                line_dash="dashed",
                legend_label=sweep.boundary_label or "boundary",
            )
            fig.add_layout(
                ColorBar(color_mapper=self._mapper, width=12, title=chosen.label), "right"
            )
        else:
            fig.varea("x", "lower", "upper", source=self._band, fill_alpha=0.25, color="#1f77b4")
            fig.line("x", "mean", source=self._cells, line_width=2)
            cells = fig.scatter("x", "mean", source=self._cells, size=8)
            fig.scatter(
                "x",
                "mean",
                source=self._diverged,
                marker="x",
                size=12,
                color=DIVERGED_COLOUR,
                legend_label="diverged",
            )
        fig.scatter(
            "x",
            "y",
            source=self._here,
            marker="star",
            size=18,
            color=THEORY,
            line_color="black",
            legend_label="live view",
        )
        legend_outside(fig)
        tap = TapTool(renderers=[cells])
        fig.add_tools(tap)
        self._cells.selected.on_change("indices", self._on_tap)
        self._two_d = two_d
        return fig

    def _on_tap(self, _attr: str, _old: Any, new: list[int]) -> None:
        if not new:
            return
        cell = int(self._cells.data["cell"][new[0]])
        self._cells.selected.indices = []
        self.load_cell(cell)

    def update(self) -> None:
        session = self.session
        plan = session.plan
        if plan is not self._drawn_plan:  # a new sweep: its axes may differ (log, 1-D/2-D)
            self._drawn_plan = plan
            figure = self._figure(plan)
            # fill the new figure before it is shown: a change to a source the browser has
            # not received yet fails there ("reference … isn't known")
            self._fill(plan)
            self._plot.object = figure
            return
        self._fill(plan)

    def _fill(self, plan: Any) -> None:
        session = self.session
        table = session.table()
        live = self.live_values()
        if table is None:
            return
        cell = np.arange(len(table["mean"]))
        frame = {key: table[key] for key in ("x", "x_lo", "x_hi", "mean", "stderr", "n")}
        frame["cell"] = cell
        for key in ("y", "y_lo", "y_hi"):
            frame[key] = table.get(key, np.zeros(len(cell)))
        diverged, pending = table["diverged"], table["pending"]
        shown = ~diverged & ~pending
        self._cells.data = {k: np.asarray(v)[shown] for k, v in frame.items()}
        self._diverged.data = {k: np.asarray(v)[diverged] for k, v in frame.items()}
        self._pending.data = {k: np.asarray(v)[pending & ~diverged] for k, v in frame.items()}
        x_name = plan.definition.x.name
        if self._two_d:
            finite = table["mean"][np.isfinite(table["mean"])]
            if finite.size:
                low, high = float(finite.min()), float(finite.max())
                self._mapper.update(low=low, high=high if high > low else low + 1e-9)
            y_name = plan.definition.y.name
            self._here.data = {"x": [live[x_name]], "y": [live[y_name]]}
            xs, ys = [], []
            for curve_x, curve_y in session.boundary(live):
                xs.extend([*np.asarray(curve_x, float), np.nan])
                ys.extend([*np.asarray(curve_y, float), np.nan])
            self._boundary.data = {"x": xs, "y": ys}
        else:
            ok = shown & np.isfinite(table["stderr"])
            mean, se = table["mean"][ok], table["stderr"][ok]
            self._band.data = {"x": table["x"][ok], "lower": mean - 2 * se, "upper": mean + 2 * se}
            finite = table["mean"][np.isfinite(table["mean"])]
            level = float(np.median(finite)) if finite.size else 0.0
            self._here.data = {"x": [live[x_name]], "y": [level]}

    def view(self) -> pn.viewable.Viewable:
        return self._card


def _axis_row(session: SweepSession, axis: str) -> pn.Row:
    """Parameter, from, to, points and log scale of one axis, on one row."""
    p = session.param
    return pn.Row(
        pn.widgets.Select.from_param(p[axis], width=220),
        pn.widgets.FloatInput.from_param(p[f"{axis}_lo"], width=100),
        pn.widgets.FloatInput.from_param(p[f"{axis}_hi"], width=100),
        pn.widgets.IntInput.from_param(p[f"{axis}_n"], start=1, end=32, width=80),
        pn.widgets.Checkbox.from_param(p[f"{axis}_log"], width=60, align="end"),
    )
