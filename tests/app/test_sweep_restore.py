"""Back and Forward restore the sweep panel's settings in an open tab (issue 12, item 9), in
process: the link's ``sweep_*`` keys set the panel, a link without them resets it to a fresh
session's settings, and nothing starts running."""

from __future__ import annotations

from typing import Any

import pytest

from app.main import SWEEP_URL_PARAMS, TABS, restore_link
from app.sweeps import registry
from app.sweeps.cache import ReplicateCache
from app.sweeps.session import NO_AXIS, SweepSession


def _session(slug: str) -> SweepSession:
    return SweepSession(slug, cache=ReplicateCache("/nonexistent"))


def _settings(session: SweepSession) -> dict[str, Any]:
    return {name: getattr(session, name) for name in SWEEP_URL_PARAMS}


def _move_everything(session: SweepSession) -> None:
    """Change every setting of the panel away from a fresh session's, as a user would."""
    other = session.sweep.headline[1]
    session.y = NO_AXIS
    session.x = other  # the headline pair's other parameter, on its own default range
    session.param.update(x_n=3, x_hi=session.x_lo + 0.75 * (session.x_hi - session.x_lo))
    session.param.update(replicates=session.replicates + 5, x_log=False, y_n=5)
    session.outcome = list(session.param.outcome.objects.values())[-1]
    session.in_url = True


@pytest.mark.parametrize("slug", registry.SWEEP_SLUGS)
def test_a_link_without_sweep_keys_resets_the_panel_to_a_fresh_sessions(slug: str) -> None:
    fresh = _settings(_session(slug))
    session = _session(slug)
    _move_everything(session)
    assert _settings(session) != fresh  # the check below can fail
    assert session.restore_query({"tab": slug, "seed": "4"}) == []
    assert _settings(session) == fresh
    assert session.to_query() == {}
    assert not session.running and session.plan is None  # nothing started


@pytest.mark.parametrize("slug", registry.SWEEP_SLUGS)
def test_a_link_with_sweep_keys_shows_exactly_its_sweep(slug: str) -> None:
    earlier = _session(slug)
    _move_everything(earlier)
    link = {"tab": slug, "seed": "2", **earlier.to_query()}
    assert link["sweep_y"] == NO_AXIS  # a one-parameter sweep, the y settings at their defaults
    session = _session(slug)  # a later link's sweep: two parameters, other ranges, 9 replicates
    session.param.update(x_n=2, y_n=6, replicates=9, in_url=True)
    session.y_hi = session.y_lo + 0.5 * (session.y_hi - session.y_lo)
    assert session.restore_query(link) == []
    assert session.to_query() == earlier.to_query()
    assert _settings(session) == {**_settings(earlier), "y_n": _session(slug).y_n}
    assert not session.running and session.plan is None


def test_restore_link_sets_the_model_and_the_sweep_of_the_link() -> None:
    swarm = next(tab for tab in TABS if tab.slug == "swarm")
    model = swarm.model_class()
    session = _session("swarm")
    # the later state: a moved parameter and a sweep of 12 replicates over sigma0
    model.sigma0 = 0.4
    session.param.update(x="sigma0", x_lo=0.1, x_hi=0.9, replicates=12, in_url=True)
    # Back to a link that named beta0 and a sweep over beta0 with 3 replicates ...
    link = {
        "tab": "swarm",
        "seed": "1",
        "beta0": "40",
        "sweep_x": "beta0=10:90:5",
        "sweep_y": "none",
        "sweep_outcome": session.sweep.outcomes[0].name,
        "sweep_reps": "3",
    }
    assert restore_link(model, link, session) == []
    assert (model.beta0, model.sigma0) == (40.0, model.param.sigma0.default)
    assert (session.x, session.x_lo, session.x_hi, session.x_n) == ("beta0", 10, 90, 5)
    assert (session.y, session.replicates) == (NO_AXIS, 3)
    # ... then Forward to one without a sweep: the panel's settings are a fresh session's
    assert restore_link(model, {"tab": "swarm", "seed": "1"}, session) == []
    assert _settings(session) == _settings(_session("swarm"))
    assert model.beta0 == model.param.beta0.default
    # a link's clamping notices come back from the sweep keys too
    notices = restore_link(model, {"tab": "swarm", "seed": "1", "sweep_reps": "500"}, session)
    assert len(notices) == 1 and "sweep_reps" in notices[0] and session.replicates == 64
