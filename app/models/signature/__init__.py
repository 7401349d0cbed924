"""The expected-signature model: GP augmentation, expected signatures, the classifier head.

``params`` (the params, their roles, display order and presets), ``model`` (behaviour),
``studies`` (the background job and its feature cache), and the concepts it uses: ``data``
(data sets and uploads), ``features`` (feature sets), ``summary`` (accuracies, embedding),
``head`` (the classifier), ``brownian`` (the teaching inset).
"""

from app.models.signature.model import SignatureModel
from app.models.signature.params import PRESETS, TEACHING_DEFAULT

__all__ = ["PRESETS", "TEACHING_DEFAULT", "SignatureModel"]
