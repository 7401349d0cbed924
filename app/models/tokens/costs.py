"""What each piece of the token tab's work costs, estimated before anything is allocated.

Every estimate is a :class:`app.models.budget.Cost` built from the array shapes the code
allocates and from operation counts times per-operation constants measured on the 2-core
reference machine (issue 13, "Bounded work"). The pieces:

* the animated run: its recorded history (≤ :data:`MAX_RECORDS` + 1 snapshots), the fixed
  hidden weights, the noise buffer of one layer; and the seconds of one animation tick;
* the ensemble (panel 4): R runs to the horizon, its frames (F, R, N, d), the starts, the
  noise buffer, fixed weights, and the energy the ensemble panel then evaluates on every frame;
* the strong-error study and the variance study (advanced panels).

Measured constants (``/tmp`` timing script, 2026-12, the 2-core machine shared with other jobs;
:func:`kernels.tokens.simulate_ensemble` after a warm-up call, wall time over many layers):

* N = 2, d = 64, m = 512, σ_n > 0, no attention: 921 µs per layer for Q = 66 048 normals
  → 14 ns per normal (drawing dominates);
* N = 256, d = 64, m = 512: 5.1 ms per layer, 17.0 M work units once the normals are removed
  → 0.25 ns per work unit; softmax attention alone (N = 256, d = 64): 9.7 M units in
  3.0 ms → 0.31 ns per unit (work units as :func:`kernels.tokens.driver.work_per_layer`);
* N = 32, d = 3, m = 64, R = 64: 12.3 µs per layer and realization, predicted 11 µs.
* Pair statistics (:func:`kernels.tokens.energy`, glpr, 50 frames of N = 256, d = 64):
  0.19 s → 119 ns per pair, i.e. 1.7 ns per pair × (d + 8);
* a snapshot's diagnostics (diameter, |x̄|, clusters, similarities) at N = 256, d = 64:
  14.7 ms → about four pair passes;
* strong-error study (N = 4, m = 16, fixed weights, 8 paths, 2^14 fine steps): 10.0 µs per
  path and fine step at d = 3 (Q = 48), 46.4 µs at d = 64 (Q = 1024) → 8.2 µs + 37 ns × Q
  (the fine steps, the summed coarse increments of six levels and the coarse steps).

Every constant below is the measured one rounded up, and :data:`MARGIN` (×2) multiplies every
time estimate, for a busy machine and the model's error.
"""

from __future__ import annotations

import math
from typing import Any

from app.models.budget import Cost
from kernels.tokens import noise_block_size
from kernels.tokens.driver import CHUNK_NORMALS

#: Safety factor on every time estimate.
MARGIN = 2.0
#: Seconds to draw one standard normal (measured 14 ns).
SECONDS_PER_NORMAL = 15e-9
#: Seconds per work unit of the layer core (measured 0.25–0.31 ns).
SECONDS_PER_WORK = 0.35e-9
#: Seconds per pair of tokens and (d + 8) of a pair statistic (measured 1.7 ns).
SECONDS_PER_PAIR_DIM = 2e-9
#: Pair passes of one snapshot's diagnostics (diameter, clusters, similarities, …).
RECORD_PASSES = 4
#: Strong-error study, per path and fine step: a fixed part and a part per normal (measured).
STRONG_SECONDS_PER_STEP = 8.2e-6
STRONG_SECONDS_PER_NORMAL = 37e-9
#: Seconds one animation tick may take (estimate; the view redraws between ticks).
TICK_SECONDS = 0.2
#: Bytes of a float64.
F8 = 8

# The studies' fixed sizes (the kernel defaults, passed explicitly; tests check they agree).
STRONG_N_TOKENS = 4
STRONG_WIDTH = 16
STRONG_T_MAX = 1.0
STRONG_LEVELS = (4, 5, 6, 7, 8, 9)
STRONG_REF_LEVEL = 14
STRONG_PATHS = 64
VARIANCE_N_TOKENS = (8, 16, 32, 64, 128)
VARIANCE_NOISE = 32
VARIANCE_SAMPLES = 32
VARIANCE_T_MAX = 1.0
VARIANCE_DT = 1e-2
VARIANCE_WIDTH = 16


def block_size(kw: dict[str, Any], n: int, d: int, width: int | None = None) -> int:
    """Normals Q drawn per layer and realization (:func:`kernels.tokens.noise_block_size`)."""
    return int(
        noise_block_size(
            n,
            d,
            kw["width"] if width is None else width,
            noise_sharing=kw.get("noise_sharing", "common"),
            hidden_weights=kw.get("hidden_weights", "fresh"),
            splitting=kw.get("splitting", "lie_trotter"),
            sigma_noise=kw["sigma_noise"],
        )
    )


def work_per_layer(kw: dict[str, Any], n: int, d: int, width: int | None = None) -> int:
    """Work units of one layer of one realization, as the driver counts them
    (:func:`kernels.tokens.driver.work_per_layer`)."""
    m = kw["width"] if width is None else width
    attn_on = kw.get("attn_kind", "sa") != "off" and kw.get("attn_strength", 0.0) != 0.0
    attn = 0 if not attn_on else (n * (d + 1) if kw.get("beta", 1.0) == 0.0 else n * n)
    strang = kw.get("splitting", "lie_trotter") == "strang"
    mlp = 0 if kw["sigma_noise"] == 0.0 else n * m * (2 * d + 2) * (2 if strang else 1)
    return attn * (2 * d + 20) + mlp + 4 * block_size(kw, n, d, m) + n * d + 1


def layer_seconds(kw: dict[str, Any], n: int, d: int, width: int | None = None) -> float:
    """Estimated seconds (margin included) of one layer of one realization."""
    q = block_size(kw, n, d, width)
    work = work_per_layer(kw, n, d, width)
    return MARGIN * (SECONDS_PER_NORMAL * q + SECONDS_PER_WORK * work)


def pair_seconds(frames: int, n: int, d: int) -> float:
    """Estimated seconds of one pair statistic (an energy, a diameter) on ``frames`` sets."""
    return MARGIN * SECONDS_PER_PAIR_DIM * frames * (n * (n - 1) / 2) * (d + 8)


def noise_buffer_bytes(rows: int, q: int, row_blocks: bool = True) -> int:
    """Bytes of the driver's noise buffer (:func:`kernels.tokens.driver.noise_chunks`)."""
    if q == 0:
        return 0
    if rows * q <= CHUNK_NORMALS or not row_blocks:
        return F8 * max(CHUNK_NORMALS, rows * q)
    return F8 * max(CHUNK_NORMALS, q)


def fixed_bytes(kw: dict[str, Any], r: int, n: int, d: int, width: int | None = None) -> int:
    """Bytes of fixed hidden weights B (R, S, m, d) and b (R, S, m) (none when fresh)."""
    if kw.get("hidden_weights", "fresh") != "fixed":
        return 0
    m = kw["width"] if width is None else width
    s = n if kw.get("noise_sharing", "common") == "independent" else 1
    return F8 * r * s * m * (d + 1)


# ------------------------------------------------------------------ animated run
def history_bytes(records: int, n: int, d: int, bins: int) -> int:
    """Bytes of a run's recorded history: per snapshot the tokens (N, d), the similarity
    histogram and five scalars; plus the same again when exported as arrays."""
    return 2 * F8 * records * (n * d + bins + 5)


def run_cost(kw: dict[str, Any], n: int, d: int, records: int, bins: int) -> Cost:
    """Memory the animated run keeps: its history, fixed hidden weights, the state."""
    nbytes = history_bytes(records, n, d, bins) + fixed_bytes(kw, 1, n, d) + 4 * F8 * n * d
    return Cost(nbytes, 0.0, f"animated run's history of {records} snapshots")


def tick_seconds(kw: dict[str, Any], n: int, d: int, steps: int, stride: int) -> float:
    """Estimated seconds of one animation tick of ``steps`` layers, snapshots every
    ``stride`` layers included."""
    records = math.ceil(steps / max(stride, 1))
    return steps * layer_seconds(kw, n, d) + records * RECORD_PASSES * pair_seconds(1, n, d)


def tick_cost(kw: dict[str, Any], n: int, d: int, steps: int, stride: int) -> Cost:
    """One animation tick: the noise buffer of a layer (the history is :func:`run_cost`)."""
    nbytes = noise_buffer_bytes(1, block_size(kw, n, d))
    seconds = tick_seconds(kw, n, d, steps, stride)
    return Cost(nbytes, seconds, f"animation step of {steps} layers")


# ---------------------------------------------------------------------- ensemble
def ensemble_frames(n_steps: int, frames_max: int) -> int:
    """Frames the ensemble keeps (stride = n_steps // frames_max, at least 1)."""
    stride = max(1, n_steps // frames_max)
    return n_steps // stride + 1


def ensemble_cost(
    kw: dict[str, Any], n_real: int, n: int, d: int, n_steps: int, frames_max: int
) -> Cost:
    """R runs of N tokens in dimension d through ``n_steps`` layers: the frames (F, R, N, d),
    the starts (a list and its stack), the kernel's transposed copy, fixed weights and the
    noise buffer; the layers, then the energy the ensemble panel computes on every frame."""
    f = ensemble_frames(n_steps, frames_max)
    state = F8 * n_real * n * d
    q = block_size(kw, n, d)
    nbytes = (
        F8 * f * n_real * n * d
        + 3 * state
        + fixed_bytes(kw, n_real, n, d)
        + noise_buffer_bytes(n_real, q)
    )
    seconds = n_steps * n_real * layer_seconds(kw, n, d) + pair_seconds(f * n_real, n, d)
    return Cost(nbytes, seconds, f"ensemble of {n_real} realizations")


# ------------------------------------------------------------------------ studies
def strong_error_cost(kw: dict[str, Any], d: int, n_paths: int) -> Cost:
    """The strong-error study (N = 4, m = 16, fixed weights, 2^14 fine steps per path)."""
    fixed_kw = {**kw, "width": STRONG_WIDTH, "hidden_weights": "fixed", "noise_sharing": "common"}
    n = STRONG_N_TOKENS
    q = block_size(fixed_kw, n, d)
    fine_steps = 2**STRONG_REF_LEVEL
    chunk = 2 ** (STRONG_REF_LEVEL - STRONG_LEVELS[0])
    group = max(1, min(n_paths, (1 << 21) // (chunk * max(q, 1))))
    fine = F8 * chunk * group * q  # the fine normals of one chunk; each level's sum ≤ half
    nbytes = (
        2 * fine
        + (len(STRONG_LEVELS) + 3) * F8 * group * n * d
        + fixed_bytes(fixed_kw, group, n, d)
        + F8 * len(STRONG_LEVELS) * n_paths
    )
    per_step = STRONG_SECONDS_PER_STEP + STRONG_SECONDS_PER_NORMAL * q
    seconds = MARGIN * n_paths * fine_steps * per_step
    return Cost(nbytes, seconds, f"strong-error study of {n_paths} paths")


def variance_cost(kw: dict[str, Any], d: int, n_tokens: tuple[int, ...]) -> Cost:
    """The variance study: for each N, R = 32 × 32 runs (32 noise rows shared by 32 samples)
    of N tokens through 100 layers; the starts, their copy and two frames for the largest N."""
    kw = {**kw, "width": VARIANCE_WIDTH, "hidden_weights": "fresh", "noise_sharing": "common"}
    r = VARIANCE_NOISE * VARIANCE_SAMPLES
    steps = max(1, round(VARIANCE_T_MAX / VARIANCE_DT))
    n_max = max(n_tokens)
    q = block_size(kw, n_max, d)
    nbytes = 5 * F8 * r * n_max * d + noise_buffer_bytes(VARIANCE_NOISE, q, row_blocks=False)
    seconds = 0.0
    for n in n_tokens:
        q = block_size(kw, n, d)
        work = work_per_layer(kw, n, d) - 4 * q  # the rows' normals are drawn once per row
        seconds += (
            MARGIN
            * steps
            * (
                r * SECONDS_PER_WORK * work
                + VARIANCE_NOISE * q * (SECONDS_PER_NORMAL + 4 * SECONDS_PER_WORK)
            )
        )
    return Cost(nbytes, seconds, f"variance study up to N = {n_max}")
