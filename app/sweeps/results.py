"""A sweep's numbers as a labelled xarray Dataset, and its CSV and NetCDF downloads.

Dimensions are the swept parameters' own names (``ds.sel(sigma_n=0.5)`` in a notebook) plus
``replicate``; every outcome keeps its raw replicates, and the chosen outcome gets its
``mean``, ``stderr`` (standard error over the finite replicates) and ``n``.
"""

from __future__ import annotations

import io
import json
import math
from typing import TYPE_CHECKING

import numpy as np

from app.sweeps.engine import FAILED, PENDING, diverged
from app.sweeps.grid import integer_param

if TYPE_CHECKING:
    import xarray as xr

    from app.sweeps.engine import Plan

__all__ = ["cell_summary", "to_csv", "to_dataset", "to_netcdf"]


def cell_summary(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean, stderr, n)`` per cell of ``values`` (cells × replicates) over finite entries.

    The standard error is the sample standard deviation (``ddof = 1``) over √n; NaN when
    fewer than two replicates are finite.
    """
    finite = np.isfinite(values)
    n = finite.sum(axis=1)
    safe = np.where(finite, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, safe.sum(axis=1) / np.maximum(n, 1), np.nan)
        dev = np.where(finite, values - mean[:, None], 0.0)
        var = (dev**2).sum(axis=1) / np.maximum(n - 1, 1)
        stderr = np.where(n > 1, np.sqrt(var / np.maximum(n, 1)), np.nan)
    return mean, stderr, n


def to_dataset(plan: Plan) -> xr.Dataset:
    """The plan's results (finished or not) as an :class:`xarray.Dataset`."""
    import xarray as xr

    definition, sweep = plan.definition, plan.sweep
    dims = tuple(axis.name for axis in reversed(definition.axes))  # (y, x) or (x,)
    shape = definition.shape
    coords = {
        axis.name: (
            axis.name,
            axis.values(integer_param(sweep, axis.name)),
            _axis_attrs(plan, axis.name),
        )
        for axis in definition.axes
    }
    coords["replicate"] = np.arange(definition.replicates)
    reps = definition.replicates
    data = {}
    for outcome in sweep.outcomes:
        raw = plan.values[outcome.name].reshape(*shape, reps)
        data[outcome.name] = (
            (*dims, "replicate"),
            raw,
            {"long_name": outcome.label, "units": outcome.unit, "better": outcome.better},
        )
    mean, stderr, n = cell_summary(plan.values[definition.outcome])
    chosen = sweep.outcome(definition.outcome)
    label = {"long_name": chosen.label, "units": chosen.unit}
    data["mean"] = (dims, mean.reshape(shape), {**label, "description": "mean over replicates"})
    data["stderr"] = (dims, stderr.reshape(shape), {**label, "description": "standard error"})
    data["n"] = (dims, n.reshape(shape).astype(np.int32), {"description": "finite replicates"})
    status = plan.status
    counts = {
        "diverged": diverged(plan.values[definition.outcome], status),
        "failed": status == FAILED,
        "pending": status == PENDING,
    }
    for name, flags in counts.items():
        count = flags.sum(axis=1).reshape(shape).astype(np.int32)
        data[name] = (dims, count, {"description": f"replicates {name}"})
    attrs = {
        "tab": definition.slug,
        "outcome": definition.outcome,
        "replicates": reps,
        "seed": definition.seed,
        "axes": " ".join(axis.text() for axis in definition.axes),
        "fixed": json.dumps({k: _jsonable(v) for k, v in definition.fixed.items()}),
        "values": json.dumps({k: _jsonable(v) for k, v in plan.cells[0].items() if k not in dims}),
        "notices": " | ".join(plan.notices),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _axis_attrs(plan: Plan, name: str) -> dict[str, str]:
    p = plan.sweep.params_class.param[name]
    return {"long_name": p.label or name}


def _jsonable(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value.item() if hasattr(value, "item") else value


def to_csv(dataset: xr.Dataset) -> str:
    """One row per cell: the swept parameters, then ``mean``, ``stderr``, ``n``."""
    dims = [d for d in dataset["mean"].dims]
    frame = dataset[["mean", "stderr", "n"]].to_dataframe().reset_index()
    columns = [*reversed(dims), "mean", "stderr", "n"]  # x first, then y
    buffer = io.StringIO()
    frame[columns].to_csv(buffer, index=False, float_format="%.10g")
    return buffer.getvalue()


def to_netcdf(dataset: xr.Dataset) -> bytes:
    """NetCDF (version 3, written by scipy: no extra dependency) of the whole dataset."""
    return bytes(dataset.to_netcdf(engine="scipy"))
