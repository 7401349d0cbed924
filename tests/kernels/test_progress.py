"""kernels.common.progress: the Cancelled exception and the throttled progress wrapper."""

from __future__ import annotations

import pytest

import kernels.tokens as T
from kernels.common.progress import PROGRESS_INTERVAL, Cancelled, throttled_progress


def test_cancelled_carries_partial_result_and_steps():
    exc = Cancelled("stopped", partial=[1, 2], steps_done=7)
    assert isinstance(exc, Exception) and str(exc) == "stopped"
    assert exc.partial == [1, 2] and exc.steps_done == 7
    with pytest.raises(Cancelled) as info:
        raise Cancelled  # the app raises the bare class
    assert str(info.value) == "cancelled"
    assert info.value.partial is None and info.value.steps_done == 0
    assert T.Cancelled is Cancelled  # one class, re-exported by the token API


def test_none_never_cancels_and_bad_callback_is_rejected():
    report = throttled_progress(None)
    assert report(0.5) and report(1.0, True)
    with pytest.raises(
        ValueError, match=r"progress must be a callable\(fraction\) -> bool or None"
    ):
        throttled_progress(3)


def test_throttling_clamping_and_cancel_answer():
    seen = []
    report = throttled_progress(lambda f: seen.append(f), interval=3600.0)
    assert report(-0.5)  # first call always goes through; None answers "continue"
    assert report(0.3)  # within the interval: dropped, answered True
    assert report(1.7, True)  # forced: goes through
    assert seen == [0.0, 1.0]  # clamped to [0, 1]
    every = []
    report = throttled_progress(lambda f: every.append(f) or True, interval=0.0)
    for f in (0.1, 0.2, 0.3):
        assert report(f)
    assert every == [0.1, 0.2, 0.3]
    stop = throttled_progress(lambda f: False)
    assert stop(0.1) is False
    assert stop(0.2) is True  # throttled: the callback is not asked again within the interval
    assert stop(0.3, True) is False
    assert 0.0 < PROGRESS_INTERVAL <= 0.1  # a UI sees at least ten updates a second
