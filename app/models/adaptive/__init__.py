"""The Adaptive SGD model: params (:mod:`.params`), behaviour (:mod:`.model`), background
studies (:mod:`.studies`) and the summaries its panels draw (:mod:`.summaries`)."""

from app.models.adaptive.model import AdaptiveModel
from app.models.adaptive.params import ORDERS, TEACHING_DEFAULT, AdaptiveParams

__all__ = ["ORDERS", "TEACHING_DEFAULT", "AdaptiveModel", "AdaptiveParams"]
