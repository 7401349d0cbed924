"""The state machine every tab shares: seed, presets, play/step/reset, divergence, export.

A tab's model subclasses :class:`SimulationModel`, declares its scientific parameters as
bounded params, lists which of them need a restart (:attr:`restart_params`) and which apply at
the next step (:attr:`live_params`), and implements three hooks:

* ``_initialize(rng)``: build the initial state of a fresh run;
* ``_advance(n_steps, rng)``: advance the run by ``n_steps`` steps and return the new
  simulation time;
* ``_run_arrays()``: the arrays of the current run, for export and divergence checks.

The base class owns everything else, once: seeding, presets, playing, divergence detection
and export. It never imports Panel; views observe its params.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Hashable, Iterable
from typing import Any, ClassVar

import numpy as np
import param

from app.models.jobs import BackgroundJob
from app.models.rerun import RerunningStudy
from app.models.story import Story

#: The status of a fresh run, replaced once playing starts.
READY = "Ready: press play, or step through the run."
#: The status while playing, and once paused (a tab's own status message wins over both).
PLAYING = "Playing: Space or Pause stops."
PAUSED = "Paused: Space or Play goes on."
#: Name of the preset selector entry that means "the user moved something".
CUSTOM_PRESET = "Custom"


class SimulationModel(param.Parameterized):
    """Base class of every tab's simulation state (see module docstring)."""

    seed = param.Integer(
        default=1,
        bounds=(0, 2**31 - 1),
        doc="Random seed. The same seed and parameters give the same numbers, in any session.",
    )
    preset = param.Selector(
        default=CUSTOM_PRESET,
        objects=[CUSTOM_PRESET],
        doc="Load a curated parameter set; moving any parameter afterwards makes it Custom.",
    )
    playing = param.Boolean(default=False, doc="Advance the simulation on every animation tick.")
    speed = param.Integer(
        default=50,
        bounds=(1, 500),
        softbounds=(1, 200),
        doc="Simulation steps advanced per animation tick.",
    )
    t = param.Number(default=0.0, constant=True, doc="Simulation time of the current run.")
    n_steps_done = param.Integer(default=0, constant=True, doc="Steps taken in the current run.")
    status = param.String(default="", doc="One-line status for the user.")
    diverged = param.Boolean(default=False, constant=True, doc="True once a NaN/inf appeared.")
    divergence_message = param.String(default="", doc="What happened and what to change.")
    frame = param.Integer(default=0, constant=True, doc="Incremented whenever the state changes.")

    #: Scientific params whose change restarts the run.
    restart_params: ClassVar[tuple[str, ...]] = ()
    #: Scientific params applied at the next step without a restart.
    live_params: ClassVar[tuple[str, ...]] = ()
    #: Order of the controls (default: restart params, then live params).
    display_order: ClassVar[tuple[str, ...]] = ()
    #: Params hidden in lesson mode (``?lesson=1``).
    advanced_params: ClassVar[tuple[str, ...]] = ()
    #: name -> {param: value}; unspecified params take their defaults.
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    #: Preset loaded by a fresh model.
    default_preset: ClassVar[str | None] = None
    #: preset name -> its :class:`~app.models.story.Story` (caption, panel, pace indicator).
    stories: ClassVar[dict[str, Story]] = {}
    #: States with a magnitude above this count as diverged (their squares would overflow).
    blowup_threshold: ClassVar[float] = 1e150
    #: Hint shown in the divergence banner, e.g. "lower the noise strength or the step".
    divergence_hint: ClassVar[str] = "lower the step size or the noise strength, then reset"
    #: Fewest seconds between two animation steps (0: every tick). A pace for tabs whose
    #: frames are whole iterations the eye must follow one by one.
    frame_interval: ClassVar[float] = 0.0

    def __init__(self, **params: Any) -> None:
        preset = params.pop("preset", None)  # validated once the instance knows its presets
        super().__init__(**params)
        self.param.preset.objects = [CUSTOM_PRESET, *self.presets]
        self._applying_preset = False
        self._rng = np.random.default_rng(self.seed)
        self.param.watch(self._on_restart_param, [*self.restart_params, "seed"])
        self.param.watch(self._on_scientific_change, list(self.scientific_params()))
        self.param.watch(self._on_preset, ["preset"])
        self.param.watch(self._on_playing, ["playing"])
        chosen = preset if preset is not None else self.default_preset
        if chosen is not None and chosen != CUSTOM_PRESET:
            # the preset first, then explicit arguments on top (which makes it Custom)
            self.apply_preset(chosen)
            explicit = {k: v for k, v in params.items() if k in {*self.param_values(), "speed"}}
            if explicit:
                self.param.update(**explicit)
                self.reset()
        else:
            self.reset()

    # ------------------------------------------------------------------ hooks
    def _initialize(self, rng: np.random.Generator) -> None:
        raise NotImplementedError

    def _advance(self, n_steps: int, rng: np.random.Generator) -> float:
        raise NotImplementedError

    def _run_arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    # -------------------------------------------------------------- interface
    @classmethod
    def scientific_params(cls) -> tuple[str, ...]:
        """Params that define the numbers (synced with the URL, written into exports)."""
        return (*cls.restart_params, *cls.live_params)

    def reset(self) -> None:
        """Start a fresh run from the current parameters and seed."""
        self._rng = np.random.default_rng(self.seed)
        with param.edit_constant(self):
            self.t = 0.0
            self.n_steps_done = 0
            self.diverged = False
        self.divergence_message = ""
        self._initialize(self._rng)
        # a restart while playing (a preset, a restart parameter) goes on playing
        self.status = PLAYING if self.playing else READY
        self._bump_frame()

    def _on_playing(self, event: param.parameterized.Event) -> None:
        # the "press play" hint is out of date once playing starts (a tab's own status wins)
        if event.new and self.status == READY:
            self.status = PLAYING
        elif not event.new and self.status == PLAYING:
            self.status = PAUSED

    def rerun_when_idle(
        self,
        job: BackgroundJob,
        start: Callable[[], None],
        watch: Iterable[str],
        **options: Any,
    ) -> RerunningStudy:
        """A study kept in step with the params ``watch``: stale on their change, rerun once
        they rest (:class:`app.models.rerun.RerunningStudy`); :meth:`poll` is its clock."""
        study = RerunningStudy(job, start, **options)
        if not hasattr(self, "_reruns"):
            self._reruns: list[RerunningStudy] = []
        self._reruns.append(study)
        names = list(dict.fromkeys(watch))
        if names:
            self.param.watch(study.mark_stale, names)
        return study

    def set_job_owner(self, owner: Hashable) -> None:
        """Queue every background job of this model as ``owner``'s (a session key), so that
        the job pool shares its workers fairly between sessions
        (:class:`app.models.jobs.JobPool`).

        Parameters
        ----------
        owner : Hashable
            Key shared by all the models of one session.

        Notes
        -----
        Finds the jobs among the model's attributes, in lists and tuples of them too:
        :class:`BackgroundJob` instances and the jobs of :class:`RerunningStudy` instances.
        """
        for value in vars(self).values():
            for item in value if isinstance(value, (list, tuple)) else (value,):
                job = item.job if isinstance(item, RerunningStudy) else item
                if isinstance(job, BackgroundJob):
                    job.owner = owner

    def poll(self) -> None:
        """Start pending background work; the app calls this on every animation tick of a live
        session (so throwaway and notebook models never start a study by themselves)."""
        now = time.monotonic()
        for study in getattr(self, "_reruns", ()):
            study.poll(now)

    def new_seed(self) -> None:
        """Draw a fresh seed from OS entropy and restart (the seed shows in the URL)."""
        self.seed = int(np.random.SeedSequence().entropy % (2**31 - 1))

    def step(self, n_steps: int | None = None) -> bool:
        """Advance by ``n_steps`` (default :attr:`speed`); return False if nothing advanced."""
        if self.diverged:
            return False
        n = self.speed if n_steps is None else int(n_steps)
        remaining = self._steps_until_end()
        if remaining is not None:
            if remaining <= 0:
                self.playing = False
                self.status = "Reached the horizon: reset, or raise the horizon to continue."
                return False
            n = min(n, remaining)
        with np.errstate(all="ignore"):
            t_new = self._advance(n, self._rng)
        with param.edit_constant(self):
            self.t = float(t_new)
            self.n_steps_done = self.n_steps_done + n
        if not self._state_is_finite():
            self._mark_diverged()
        self._bump_frame()
        return True

    def _steps_until_end(self) -> int | None:
        """Steps left before the run's horizon; None if the run has no horizon."""
        return None

    def export_npz(self) -> bytes:
        """The current run as an ``.npz`` archive; ``metadata`` holds parameters as JSON."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            metadata=np.array(json.dumps(self.run_metadata(), sort_keys=True)),
            **self._run_arrays(),
        )
        return buffer.getvalue()

    def export_csv(self) -> str:
        """The run's 1-D time series as CSV, parameters in ``#`` header lines."""
        header = "".join(
            f"# {key} = {json.dumps(value)}\n" for key, value in self.run_metadata().items()
        )
        series = {k: v for k, v in self._run_arrays().items() if np.ndim(v) == 1}
        length = max(len(v) for v in series.values())
        # the time series of the run: 1-D arrays of the full record length
        names = [k for k, v in series.items() if len(v) == length]
        table = np.column_stack([np.asarray(series[k], dtype=float) for k in names])
        body = io.StringIO()
        np.savetxt(body, table, delimiter=",", header=",".join(names), comments="")
        return header + body.getvalue()

    def run_metadata(self) -> dict[str, Any]:
        """Parameters, seed and progress of the run: enough to reproduce it."""
        meta: dict[str, Any] = {"model": type(self).__name__, "seed": self.seed}
        meta.update({name: _jsonable(getattr(self, name)) for name in self.scientific_params()})
        meta.update({"t": self.t, "n_steps_done": self.n_steps_done, "preset": self.preset})
        return meta

    def param_values(self) -> dict[str, Any]:
        """Current values of the seed and scientific params."""
        return {"seed": self.seed, **{n: getattr(self, n) for n in self.scientific_params()}}

    # -------------------------------------------------------------- internals
    def _state_arrays(self) -> dict[str, np.ndarray]:
        """Arrays checked for divergence after every step (default: the whole run)."""
        return self._run_arrays()

    def _state_is_finite(self) -> bool:
        for value in self._state_arrays().values():
            a = np.asarray(value)
            if not np.issubdtype(a.dtype, np.floating) or a.size == 0:
                continue
            if not np.all(np.isfinite(a)) or np.max(np.abs(a)) > self.blowup_threshold:
                return False
        return True

    def _mark_diverged(self) -> None:
        self.playing = False
        with param.edit_constant(self):
            self.diverged = True
        self.divergence_message = (
            f"The simulation diverged (NaN, infinity or a blow-up beyond "
            f"{self.blowup_threshold:.0e}) at t = {self.t:.4g}. "
            f"The run is paused: {self.divergence_hint}."
        )
        self.status = "Diverged: paused."

    def _bump_frame(self) -> None:
        with param.edit_constant(self):
            self.frame = self.frame + 1

    def _on_restart_param(self, *events: param.parameterized.Event) -> None:
        if not self._applying_preset:
            self.reset()

    def _on_scientific_change(self, *events: param.parameterized.Event) -> None:
        if not self._applying_preset and self.preset != CUSTOM_PRESET:
            self._applying_preset = True  # do not re-apply a preset while renaming it
            try:
                self.preset = CUSTOM_PRESET
            finally:
                self._applying_preset = False
        live = any(e.name in self.live_params for e in events)
        # before the first step a change covers the whole run: the run is still "ready"
        if live and not self._applying_preset and self.n_steps_done > 0:
            self.status = "Updated: the change applies from the next step on."

    def _on_preset(self, event: param.parameterized.Event) -> None:
        if self._applying_preset or event.new == CUSTOM_PRESET:
            return
        self.apply_preset(event.new)

    def story(self) -> Story | None:
        """The current preset's story (None for Custom or a preset without one)."""
        return self.stories.get(self.preset)

    def apply_preset(self, name: str) -> None:
        """Set every scientific param to the preset's value (default if unspecified), restart."""
        if name not in self.presets:
            raise ValueError(f"preset must be one of {list(self.presets)}; got {name!r}")
        values = {n: self.param[n].default for n in self.scientific_params()}
        values["speed"] = self.param.speed.default  # a preset may set its own pace
        values.update(self.presets[name])
        self._applying_preset = True
        try:
            self.param.update(preset=name, **values)
        finally:
            self._applying_preset = False
        self.reset()


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return value
