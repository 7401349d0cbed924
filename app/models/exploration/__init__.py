"""The Exploration maps model: params (``params.py``), behaviour (``model.py``), the explorer
cache (``cache.py``), the learning-curve study (``studies.py``) and what the maps show
(``maps.py``)."""

from app.models.exploration.model import ExplorationModel
from app.models.exploration.params import LAYOUT_NAMES, PRESETS, TEACHING_DEFAULT
from app.models.exploration.studies import RESTARTS

__all__ = ["LAYOUT_NAMES", "PRESETS", "RESTARTS", "TEACHING_DEFAULT", "ExplorationModel"]
