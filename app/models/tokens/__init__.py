"""The Token synchronization model: params (:mod:`.params`), behaviour (:mod:`.model`) and the
background studies (:mod:`.studies`)."""

from app.models.tokens.model import (
    ENERGY_KINDS,
    INITS,
    SIMILARITY_BINS,
    TEACHING_DEFAULT,
    TokensModel,
)

__all__ = ["ENERGY_KINDS", "INITS", "SIMILARITY_BINS", "TEACHING_DEFAULT", "TokensModel"]
