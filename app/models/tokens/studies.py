"""The token tab's background studies: the functions that run in a job's worker thread.

Each takes plain values (copied from the params when the job starts, so a slider moved while it
runs cannot change a study half-way) and ``progress``; a cancel raises
:class:`kernels.common.progress.Cancelled`, which the :class:`app.models.jobs.BackgroundJob`
reports. Every study draws from its own stream, ``default_rng([seed, k])``, distinct from the
animated run's: the ensemble k = 1, the strong error k = 2, the variance study k = 3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.models.jobs import ProgressFn
from app.models.tokens import costs
from app.models.warm import SharedResults
from kernels import tokens

#: Stream index of each study under the run's seed.
ENSEMBLE_STREAM, STRONG_ERROR_STREAM, VARIANCE_STREAM = 1, 2, 3
#: The ensemble keeps at most this many frames (the stride grows with the depth).
ENSEMBLE_FRAMES = 200
#: Ensembles kept for every session of the process, and the largest kept (the teaching
#: default's is 10 MB): at most 4 × 16 MB beyond what open pages show anyway.
ENSEMBLE_CACHE_SIZE = 4
ENSEMBLE_KEEP_BYTES = 16 * 2**20
#: Ensembles by their arguments, shared by every session: the same seed and parameters give
#: the same numbers in any session, and a class clicking the same preset asks for the same one
#: within seconds (3.6 s of the 2-core machine each at the teaching default). Read-only.
ENSEMBLES = SharedResults("token ensemble", max_size=ENSEMBLE_CACHE_SIZE)


def start_tokens(
    init: str, n_tokens: int, dim: int, rng: np.random.Generator, rho0: float
) -> tuple[np.ndarray, str]:
    """Initial tokens and a notice; a start that does not fit (e.g. equiangular with d ≤ N)
    falls back to a uniform cloud (the kernel validates before drawing, so the stream is
    the same either way). Shared by the animated run and the ensemble."""
    try:
        return tokens.initial_tokens(init, n_tokens, dim, rng, rho0=rho0), ""
    except ValueError as exc:
        return tokens.initial_tokens("uniform", n_tokens, dim, rng), (
            f"{exc} Started from a uniform cloud instead."
        )


def ensemble(
    *,
    progress: ProgressFn,
    init: str,
    n_tokens: int,
    dim: int,
    rho0: float,
    n_real: int,
    n_steps: int,
    seed: int,
    kwargs: dict[str, Any],
) -> dict[str, np.ndarray]:
    """R independent runs from independent starts; positions every ``stride`` layers.

    Returns ``{"t": (frames,), "x": (frames, R, N, d)}``.
    """
    rng = np.random.default_rng([seed, ENSEMBLE_STREAM])
    x0s = np.stack([start_tokens(init, n_tokens, dim, rng, rho0)[0] for _ in range(n_real)])
    stride = max(1, n_steps // ENSEMBLE_FRAMES)
    path = tokens.simulate_ensemble(
        x0s, n_steps=n_steps, stride=stride, rng=rng, progress=progress, **kwargs
    )
    t = np.arange(path.shape[0]) * stride * kwargs["dt"]
    return {"t": t, "x": path}


def shared_ensemble(progress: ProgressFn, n_real: int, **args: Any) -> dict[str, np.ndarray]:
    """:func:`ensemble`, computed once per process for every session asking for the same
    arguments (:data:`ENSEMBLES`); kept if at most :data:`ENSEMBLE_KEEP_BYTES`."""
    kwargs = args["kwargs"]
    key = (
        n_real,
        *sorted((k, v) for k, v in args.items() if k != "kwargs"),
        *sorted(kwargs.items()),
    )

    def compute(report: ProgressFn) -> dict[str, np.ndarray]:
        result = ensemble(progress=report, n_real=n_real, **args)
        for array in result.values():
            array.setflags(write=False)  # shared by sessions: a write would show in all
        return result

    return ENSEMBLES.once(
        key,
        compute,
        progress,
        keep=lambda result: result["x"].nbytes <= ENSEMBLE_KEEP_BYTES,
    )


def strong_error(
    *,
    progress: ProgressFn,
    seed: int,
    kwargs: dict[str, Any],
    n_paths: int = costs.STRONG_PATHS,
) -> tokens.StrongErrorStudy:
    """Strong error of the scheme against the layer step, fixed hidden weights (spec §6.9);
    the sizes of :mod:`app.models.tokens.costs` (``n_paths`` fewer when over budget)."""
    return tokens.strong_error_study(
        rng=np.random.default_rng([seed, STRONG_ERROR_STREAM]),
        progress=progress,
        **{
            "n_tokens": costs.STRONG_N_TOKENS,
            "width": costs.STRONG_WIDTH,
            "t_max": costs.STRONG_T_MAX,
            "levels": costs.STRONG_LEVELS,
            "ref_level": costs.STRONG_REF_LEVEL,
            "n_paths": n_paths,
            **kwargs,  # the model's params (and a test's smaller sizes)
        },
    )


def variance(
    *,
    progress: ProgressFn,
    seed: int,
    kwargs: dict[str, Any],
    n_tokens_list: tuple[int, ...] = costs.VARIANCE_N_TOKENS,
) -> tokens.VarianceStudy:
    """Spread of the token mean over token samples and over the noise (spec §4 panel 7);
    the sizes of :mod:`app.models.tokens.costs` (fewer token counts when over budget)."""
    return tokens.statistic_variance_study(
        rng=np.random.default_rng([seed, VARIANCE_STREAM]),
        progress=progress,
        **{
            "n_tokens_list": n_tokens_list,
            "n_noise": costs.VARIANCE_NOISE,
            "n_samples": costs.VARIANCE_SAMPLES,
            "t_max": costs.VARIANCE_T_MAX,
            "dt": costs.VARIANCE_DT,
            "width": costs.VARIANCE_WIDTH,
            **kwargs,  # the model's params (and a test's smaller sizes)
        },
    )
