"""What a preset is for: its caption, the panel that shows its effect, its pace and its key
controls (issue 12).

A tab's presets are its lessons. Each one names a phenomenon; its :class:`Story` says in plain
words what to look for, which panel shows it (placed at the top of the tab while the preset is
on), how to tell from the model that it has happened, so a test can check the pace (at the
preset's own speed the phenomenon unfolds over :data:`PACE_SECONDS` of play, narratable in
front of a class, not in one second and not in minutes), and which two or three controls a
lecturer drags during it (presenter mode shows only those).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NOMINAL_FPS", "PACE_SECONDS", "Story", "pace_frames"]

#: Frames per second a tab animates at (the app's target; the clock ticks every 25 ms).
NOMINAL_FPS = 30.0
#: Seconds of play over which a preset's phenomenon should unfold.
PACE_SECONDS = (10.0, 60.0)


@dataclass(frozen=True)
class Story:
    """One preset's story.

    Attributes
    ----------
    look_for : str
        What to watch, in plain Unicode words (no TeX), two or three sentences: shown under
        the tab's status line while the preset is on.
    panel : str
        Attribute name on the tab of the panel that shows the effect (``"ensemble"``), moved to
        the top of the tab while the preset is on; ``""`` when the hero shows it.
    indicator : str
        Name of a model method ``() -> bool`` that turns True once the phenomenon has happened
        in the current run (``"has_synchronized"``); ``""`` for a preset whose point is not a
        moment in the run (its test then checks nothing about pace).
    controls : tuple of str
        Names of the model's params (two or three, live or restart ones) that a lecturer
        drags during the preset, in the order shown: presenter mode (``?lesson=1``) shows
        only these, beside Play and the preset buttons, while the sidebar is hidden.
    """

    look_for: str
    panel: str = ""
    indicator: str = ""
    controls: tuple[str, ...] = ()


def pace_frames(frame_interval: float = 0.0) -> tuple[int, int]:
    """The window of animation frames in which a preset's indicator must turn True: the
    :data:`PACE_SECONDS` at :data:`NOMINAL_FPS`, or at one frame per ``frame_interval`` for
    a tab that paces its frames (exploration shows one iteration at a time)."""
    fps = NOMINAL_FPS if frame_interval <= 0 else min(NOMINAL_FPS, 1.0 / frame_interval)
    low, high = PACE_SECONDS
    return round(low * fps), round(high * fps)
