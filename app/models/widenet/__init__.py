"""The widenet model: :class:`WidenetModel` (behaviour in :mod:`.model`, parameters and presets
in :mod:`.params`, the background job functions in :mod:`.studies`, the plotted numbers in
:mod:`.curves`, the work budget's cost estimates in :mod:`.costs`)."""

from app.models.widenet.model import (
    AUTO_LINDEBERG_WEIGHTS,
    CACHE_SIZE,
    WidenetModel,
)
from app.models.widenet.params import ACTIVATIONS, WidenetControls

__all__ = [
    "ACTIVATIONS",
    "AUTO_LINDEBERG_WEIGHTS",
    "CACHE_SIZE",
    "WidenetControls",
    "WidenetModel",
]
