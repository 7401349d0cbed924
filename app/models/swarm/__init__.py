"""The Swarm escapes model: params (:mod:`.params`), behaviour (:mod:`.model`), the background
studies' job functions (:mod:`.studies`), the landscape the hero draws (:mod:`.landscape`) and
what the studies show (:mod:`.outcomes`)."""

from app.models.swarm.model import GHOSTS, SwarmModel
from app.models.swarm.params import TEACHING_DEFAULT, SwarmControls

__all__ = ["GHOSTS", "TEACHING_DEFAULT", "SwarmControls", "SwarmModel"]
