"""Argument checks shared by the public kernel wrappers.

Every public entry point validates its plain-Python arguments before any jitted core runs, and
fails with a ``ValueError`` that names the parameter, states the allowed values or range and
echoes what it got (DESIGN.md, "Kernels"). These helpers write those messages in one format:

* ``choice``: ``"attn_kind must be one of 'sa', 'usa', 'off'; got 'softmax'"``;
* ``real``: ``"dt must be a finite number in (0, 10]; got 0.0"`` (``">= 0"`` without an upper
  bound);
* ``integer``: ``"width must be an integer in [1, 65536]; got 0"``;
* ``real_array``: ``"t must lie in [0, inf]; got values in [-1.0, 2.0]"``;
* ``resolve_rng``: a ``numpy.random.Generator`` or a non-negative integer seed.

Pure Python + numpy: no numba here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["choice", "integer", "real", "real_array", "resolve_rng"]


def choice(name: str, value: object, allowed: Sequence[str]) -> str:
    """``value`` if it is one of the strings ``allowed``, else ``ValueError`` listing them."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def real(
    name: str,
    value: object,
    lo: float = -math.inf,
    hi: float | None = None,
    *,
    lo_open: bool = False,
) -> float:
    """A finite float in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``), else ``ValueError``.

    ``hi=None`` means no upper bound; the message then reads ``">= lo"`` (``"> lo"``).
    Bounds are printed with ``:g`` (``[0, 20]``, ``(0, 1]``).
    """
    if hi is not None:
        allowed = f" in {'(' if lo_open else '['}{lo:g}, {hi:g}]"
    elif lo > -math.inf:
        allowed = f" {'>' if lo_open else '>='} {lo:g}"
    else:
        allowed = ""
    message = f"{name} must be a finite number{allowed}; got {value!r}"
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(message) from None
    top = math.inf if hi is None else hi
    if not math.isfinite(v) or v > top or (v <= lo if lo_open else v < lo):
        raise ValueError(message)
    return v


def integer(name: str, value: object, lo: int, hi: int | None = None) -> int:
    """An ``int`` (not ``bool``) in ``[lo, hi]`` (``>= lo`` if ``hi`` is None), else ValueError."""
    allowed = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer {allowed}; got {value!r}")
    v = int(value)
    if v < lo or (hi is not None and v > hi):
        raise ValueError(f"{name} must be an integer {allowed}; got {value!r}")
    return v


def real_array(name: str, value: object, lo: float, hi: float) -> np.ndarray:
    """``value`` as a float64 array (any shape) whose entries are finite and in ``[lo, hi]``."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.size and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite and lie in [{lo:g}, {hi:g}]")
    if arr.size and (np.min(arr) < lo or np.max(arr) > hi):
        raise ValueError(
            f"{name} must lie in [{lo:g}, {hi:g}]; "
            f"got values in [{float(np.min(arr))!r}, {float(np.max(arr))!r}]"
        )
    return arr


def resolve_rng(rng: object) -> np.random.Generator:
    """A ``Generator`` as is; a non-negative int or a ``SeedSequence`` seeds a new one."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool) and int(rng) >= 0:
        return np.random.default_rng(int(rng))
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    raise ValueError(
        f"rng must be a numpy.random.Generator or a non-negative integer seed; got {rng!r}"
    )
