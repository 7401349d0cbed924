"""Waiting for a live Adaptive SGD view's run, which its model computes off the event loop."""

from __future__ import annotations

from typing import Any


def settled(view: Any, timeout: float = 60.0) -> Any:
    """``view`` (an :class:`app.tabs.adaptive.tab.AdaptiveTab`) once the run of its current
    params is shown. Without a Bokeh document the view applies the run on the job's thread
    before the job reports done, so waiting for the job is enough."""
    assert view.model.run_job.wait(timeout), f"the run was not computed within {timeout} s"
    assert not view.model.computing, view.model.status
    return view
