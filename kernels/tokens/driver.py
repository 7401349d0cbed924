"""Drive the jitted token layer over chunks of normals drawn from a Generator.

The public entry points of :mod:`kernels.tokens` and :mod:`kernels.tokens.studies` validate their
model parameters into one :class:`kernels.tokens.params.LayerParams` bundle, then call
:func:`simulate_frames` / :func:`run` (fresh normals drawn here) or :func:`advance_normals` /
:func:`advance_with_noise` (pre-drawn normals), which hand blocks of layers and realizations to
:func:`kernels.tokens.core.advance_core`.

* Normals are drawn with :func:`kernels.common.normals.standard_normals` layer-major, then
  realization ("row"), in chunks of at most :data:`CHUNK_NORMALS` normals; each (layer, row)
  block has a fixed layout and an even length, so the stream, and hence the output, does not
  depend on the chunking (``simulate`` 4×25 steps equals 100 steps).
* A chunk holds about :data:`CHUNK_WORK` work units: enough to amortize the call overhead,
  small enough that progress callbacks and cancellation stay responsive (a few ms).
* After every chunk :func:`run` reports progress; a False answer raises
  :class:`kernels.common.progress.Cancelled` carrying the frames recorded so far.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from kernels.common.normals import standard_normals
from kernels.common.progress import Cancelled, ProgressFn, Reporter, throttled_progress
from kernels.common.validation import choice, integer, resolve_rng
from kernels.tokens.core import advance_core
from kernels.tokens.params import NOISE_SHARINGS, LayerParams, block_size, layer_params

__all__ = [
    "CHUNK_NORMALS",
    "CHUNK_WORK",
    "UNIT_TOL",
    "FixedArrays",
    "FixedWeights",
    "advance_normals",
    "advance_with_noise",
    "check_tokens",
    "draw_fixed_weights",
    "fixed_arrays",
    "noise_chunks",
    "run",
    "simulate_frames",
    "work_per_layer",
]

#: Normals per chunk buffer (256 KiB of float64: stays in L2 between drawing and use).
CHUNK_NORMALS = 1 << 15
#: Rough work units (≈ flops) per core call: amortizes the Python/dispatch overhead (a few µs)
#: while keeping progress callbacks and cancellation responsive (a few ms of work per call).
CHUNK_WORK = 1 << 22
#: Tolerance on |x_i| = 1 for sphere inputs.
UNIT_TOL = 1e-6

#: Fixed hidden weights as the cores read them: B (Rf, S, m*d), b (Rf, S, m) and the
#: realization -> row map (R,).
FixedArrays = tuple[np.ndarray, np.ndarray, np.ndarray]

_NO_FIXED = (np.zeros((1, 1, 1)), np.zeros((1, 1, 1)))
_NO_LOGSUM = np.zeros(1)


class FixedWeights(NamedTuple):
    """Hidden weights drawn once per run (``hidden_weights="fixed"``, spec §3).

    ``B``: shape ``(S, m, d)``; ``b``: shape ``(S, m)``; ``S = 1`` for common noise, ``S = N``
    (one set per token) for independent noise. For :func:`simulate_ensemble` a leading
    realization axis ``(R, S, m, d)``, ``(R, S, m)`` gives each realization its own weights.
    """

    B: np.ndarray
    b: np.ndarray


def draw_fixed_weights(
    n_tokens: int,
    dim: int,
    width: int,
    rng: np.random.Generator | int,
    noise_sharing: str = "common",
) -> FixedWeights:
    """Draw the hidden weights of ``hidden_weights="fixed"`` once (spec §3).

    Parameters
    ----------
    n_tokens, dim, width : int
        :math:`N`, :math:`d`, :math:`m`.
    rng : numpy.random.Generator or int
        Source of randomness (B is drawn first, then b, with ``rng.standard_normal``).
    noise_sharing : {"common", "independent"}
        One set shared by all tokens (``S = 1``) or one per token (``S = N``).

    Returns
    -------
    FixedWeights
        ``B`` of shape ``(S, m, d)`` and ``b`` of shape ``(S, m)``, i.i.d. N(0, 1).

    Notes
    -----
    With B, b fixed and A fresh the noise field is :math:`W = M_t s(\\sigma_w Bx+\\sigma_b b)/
    \\sqrt m` with :math:`M` a :math:`d\\times m` Brownian matrix [derived].
    """
    n = integer("n_tokens", n_tokens, 1)
    d = integer("dim", dim, 1)
    m = integer("width", width, 1, 1 << 16)
    s = n if choice("noise_sharing", noise_sharing, NOISE_SHARINGS) == "independent" else 1
    gen = resolve_rng(rng)
    return FixedWeights(B=gen.standard_normal((s, m, d)), b=gen.standard_normal((s, m)))


def work_per_layer(p: LayerParams, n: int, d: int, q: int) -> int:
    """Rough cost (≈ flops) of one layer of one realization with N tokens and Q normals."""
    attn = 0 if (p.attn == 0 or p.alpha == 0.0) else (n * (d + 1) if p.beta == 0.0 else n * n)
    attn_work = attn * (2 * d + 20)
    mlp_work = 0 if p.sn == 0.0 else n * p.m * (2 * d + 2) * (2 if p.strang else 1)
    return attn_work + mlp_work + 4 * q + n * d + 1


def noise_chunks(
    rng: np.random.Generator,
    n_steps: int,
    n_rows: int,
    q: int,
    work_per_row_layer: int,
    allow_row_blocks: bool = True,
) -> Iterator[tuple[int, int, int, int, np.ndarray]]:
    """Yield ``(layer0, n_layers, row0, row1, noise)`` with noise (n_layers, row1-row0, q).

    Normals are drawn layer-major, then row, so the stream does not depend on the chunking.
    Rows are split into blocks (one layer at a time) only when one layer of all rows exceeds
    :data:`CHUNK_NORMALS` and ``allow_row_blocks``. The buffer is reused: consume each chunk
    before asking for the next.
    """
    work_layer = max(1, work_per_row_layer * n_rows)
    if q == 0:
        per = max(1, CHUNK_WORK // work_layer)
        empty = np.empty((per, n_rows, 0))
        for layer0 in range(0, n_steps, per):
            n_l = min(per, n_steps - layer0)
            yield layer0, n_l, 0, n_rows, empty[:n_l]
        return
    rows_q = n_rows * q
    if rows_q <= CHUNK_NORMALS or not allow_row_blocks:
        per = max(1, min(CHUNK_NORMALS // rows_q, CHUNK_WORK // work_layer))
        per = min(per, max(n_steps, 1))
        buf = np.empty(per * rows_q)
        for layer0 in range(0, n_steps, per):
            n_l = min(per, n_steps - layer0)
            view = buf[: n_l * rows_q]
            standard_normals(rng, view)
            yield layer0, n_l, 0, n_rows, view.reshape(n_l, n_rows, q)
        return
    rb = max(1, CHUNK_NORMALS // q)
    buf = np.empty(min(rb, n_rows) * q)
    for layer in range(n_steps):
        for row0 in range(0, n_rows, rb):
            row1 = min(n_rows, row0 + rb)
            view = buf[: (row1 - row0) * q]
            standard_normals(rng, view)
            yield layer, 1, row0, row1, view.reshape(1, row1 - row0, q)


def check_tokens(name: str, x: object, ndim: int, sphere: bool) -> np.ndarray:
    """``x`` as a finite float64 array of shape (N, d) (``ndim=2``) or (R, N, d) (``ndim=3``),
    with unit rows when ``sphere``."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != ndim:
        shape = "(N, d)" if ndim == 2 else "(R, N, d)"
        raise ValueError(f"{name} must have shape {shape}; got shape {arr.shape}")
    if arr.shape[-2] < 1 or arr.shape[-1] < 1 or (ndim == 3 and arr.shape[0] < 1):
        raise ValueError(f"{name} must have at least one realization, token and dimension")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    if sphere:
        dev = float(np.max(np.abs(np.linalg.norm(arr, axis=-1) - 1.0)))
        if dev > UNIT_TOL:
            raise ValueError(
                f"{name} rows must be unit vectors for manifold='sphere' "
                f"(max ||x_i| - 1| = {dev:.3g} > {UNIT_TOL}); normalize them or use "
                "manifold='euclidean'"
            )
    return arr


def fixed_arrays(
    p: LayerParams,
    fixed_weights: object,
    r: int,
    n: int,
    d: int,
    rng: np.random.Generator | None = None,
) -> FixedArrays:
    """Validate (or draw) the fixed hidden weights of R realizations of N tokens in dimension d.

    ``fixed_weights``: ``(B, b)`` with B (S, m, d) shared by all realizations or (R, S, m, d),
    b likewise (S = 1 for common noise, N for independent); None draws B then b from ``rng``
    (one set per realization). For ``hidden_weights="fresh"`` it must be None and the result
    is a placeholder the cores never read.
    """
    if not p.fixed:
        if fixed_weights is not None:
            raise ValueError("fixed_weights is only used with hidden_weights='fixed'")
        return (*_NO_FIXED, np.zeros(r, dtype=np.int64))
    s = n if p.independent else 1
    m = p.m
    if fixed_weights is None:
        if rng is None:
            raise ValueError("hidden_weights='fixed' needs fixed_weights (no rng here)")
        big_b = rng.standard_normal((r, s, m, d))
        small_b = rng.standard_normal((r, s, m))
    else:
        if not isinstance(fixed_weights, tuple) or len(fixed_weights) != 2:
            raise ValueError("fixed_weights must be a FixedWeights(B, b) or None")
        big_b = np.asarray(fixed_weights[0], dtype=np.float64)
        small_b = np.asarray(fixed_weights[1], dtype=np.float64)
        if big_b.ndim == 3:
            big_b = big_b[None]
            small_b = small_b[None] if small_b.ndim == 2 else small_b
        ok = (
            big_b.ndim == 4
            and big_b.shape[0] in (1, r)
            and big_b.shape[1:] == (s, m, d)
            and small_b.shape == (big_b.shape[0], s, m)
        )
        if not ok:
            raise ValueError(
                f"fixed_weights must have B of shape ({s}, {m}, {d}) or ({r}, {s}, {m}, {d}) and "
                f"b of shape ({s}, {m}) or ({r}, {s}, {m}) (S = 1 for common noise, N for "
                f"independent); got B {np.shape(fixed_weights[0])}, b {np.shape(fixed_weights[1])}"
            )
        if not (np.all(np.isfinite(big_b)) and np.all(np.isfinite(small_b))):
            raise ValueError("fixed_weights must be finite")
    rf = big_b.shape[0]
    fsrc = np.arange(r, dtype=np.int64) if rf == r else np.zeros(r, dtype=np.int64)
    return (
        np.ascontiguousarray(big_b.reshape(rf, s, m * d)),
        np.ascontiguousarray(small_b),
        fsrc,
    )


def run(
    xs: np.ndarray,
    p: LayerParams,
    n_steps: int,
    rng: np.random.Generator,
    frames: np.ndarray,
    report: Reporter,
    *,
    stride: int = 1,
    fixed: FixedArrays | None = None,
    src: np.ndarray | None = None,
    n_rows: int | None = None,
    row_blocks: bool = True,
    separation: float = 0.0,
    logsum: np.ndarray = _NO_LOGSUM,
    keep_partial: bool = True,
) -> None:
    """Advance xs (R, d, N) in place through ``n_steps`` layers of normals drawn from ``rng``.

    Every ``stride``-th state goes to ``frames`` (see :func:`kernels.tokens.core.advance_core`).
    ``fixed``: from :func:`fixed_arrays` (None: fresh weights). ``src`` (R,) with ``n_rows``:
    realizations share ``n_rows`` noise rows, realization r reading row ``src[r]``; otherwise
    each realization has its own row and, with ``row_blocks``, one layer of many realizations
    may be split into blocks. ``separation``/``logsum``: Benettin mode. ``report(fraction,
    force)`` is called after every chunk and once with 1.0 at the end; when it returns False,
    :class:`Cancelled` is raised with the frames so far as ``partial`` (None unless
    ``keep_partial``) and the completed layers as ``steps_done``.
    """
    r, d, n = xs.shape
    q = block_size(p, n, d)
    if fixed is None:
        fixed = (*_NO_FIXED, np.zeros(r, dtype=np.int64))
    shared = src is not None
    rows = n_rows if shared else r
    work = work_per_layer(p, n, d, q) * (r // rows if shared else 1)
    ident = np.arange(r, dtype=np.int64)
    for layer0, n_l, row0, row1, noise in noise_chunks(
        rng, n_steps, rows, q, work, allow_row_blocks=row_blocks and not shared
    ):
        rr0, rr1, src_rows = (0, r, src) if shared else (row0, row1, ident)
        advance_core(
            xs,
            rr0,
            rr1,
            noise,
            src_rows,
            *fixed,
            n_l,
            layer0,
            p,
            frames,
            stride,
            separation,
            logsum,
        )
        done = (layer0 + n_l * row1 / rows) / max(n_steps, 1)
        if not report(done, False):
            steps_done = layer0 + n_l if row1 == rows else layer0
            raise Cancelled(
                f"cancelled after {steps_done} of {n_steps} layers",
                partial=frames[: steps_done // stride + 1].copy() if keep_partial else None,
                steps_done=steps_done,
            )
    report(1.0, True)


def advance_with_noise(
    xs: np.ndarray, noise: np.ndarray, p: LayerParams, fixed: FixedArrays, frames: np.ndarray
) -> None:
    """Advance xs (R, d, N) in place through pre-drawn normals (L, R, Q); ``frames`` (2, R, N, d)
    receives the final state in its last frame."""
    n_l, r, _ = noise.shape
    ident = np.arange(r, dtype=np.int64)
    advance_core(xs, 0, r, noise, ident, *fixed, n_l, 0, p, frames, max(n_l, 1), 0.0, _NO_LOGSUM)


def simulate_frames(
    x0s: object,
    p: LayerParams,
    n_steps: object,
    rng: np.random.Generator | int,
    *,
    stride: object = 1,
    fixed_weights: object = None,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """Frames (n_steps // stride + 1, R, N, d) of R realizations from x0s (R, N, d) under the
    layer ``p``, normals drawn from ``rng`` (the body of :func:`kernels.tokens.simulate_ensemble`,
    whose docstring describes the arguments)."""
    x = check_tokens("x0s", x0s, 3, p.sphere)
    steps = integer("n_steps", n_steps, 0)
    stride_ = integer("stride", stride, 1)
    gen = resolve_rng(rng)
    report = throttled_progress(progress)
    r, n, d = x.shape
    fixed = fixed_arrays(p, fixed_weights, r, n, d, gen)
    frames = np.empty((steps // stride_ + 1, r, n, d))
    frames[0] = x
    xs = np.swapaxes(x, 1, 2).copy()  # a copy: the caller's array is never modified
    run(xs, p, steps, gen, frames, report, stride=stride_, fixed=fixed)
    return frames


def advance_normals(
    x0s: object, normals: object, p: LayerParams, fixed_weights: object = None
) -> np.ndarray:
    """The state (R, N, d) of x0s (R, N, d) after the layers of pre-drawn ``normals`` (L, R, Q)
    under ``p`` (the body of :func:`kernels.tokens.advance_with_normals`)."""
    x = check_tokens("x0s", x0s, 3, p.sphere)
    r, n, d = x.shape
    q = block_size(p, n, d)
    nz = np.asarray(normals, dtype=np.float64)
    if nz.ndim != 3 or nz.shape[1:] != (r, q):
        raise ValueError(
            f"normals must have shape (L, {r}, {q}) = (layers, realizations, noise_block_size); "
            f"got {nz.shape}"
        )
    fixed = fixed_arrays(p, fixed_weights, r, n, d)  # no rng: fixed weights must be given
    xs = np.swapaxes(x, 1, 2).copy()  # a copy: the caller's array is never modified
    frames = np.empty((2, r, n, d))
    frames[-1] = x
    if nz.shape[0] > 0:
        advance_with_noise(xs, np.ascontiguousarray(nz), p, fixed, frames)
    return frames[-1]


def simulate_ensemble(
    x0s: np.ndarray,
    *,
    n_steps: int,
    dt: float,
    sigma_noise: float,
    activation: str,
    width: int,
    attn_kind: str,
    attn_strength: float,
    beta: float,
    rng: np.random.Generator | int,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    noise_sharing: str = "common",
    hidden_weights: str = "fresh",
    stride: int = 1,
    splitting: str = "lie_trotter",
    manifold: str = "sphere",
    fixed_weights: FixedWeights | None = None,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    r"""Run R independent realizations of the discrete transformer (spec §2–§3).

    Each realization has its own noise (its own MLP weights every layer); all share the jitted
    core of :func:`simulate`, which is this function with ``R = 1``.

    .. math::

        y_i = x_i + h\alpha\sum_j w_{ij}x_j,\quad
        z_i = y_i + \sigma_n\sqrt{h/m}\,A_k s(\sigma_w B_k y_i + \sigma_b b_k),\quad
        x_i^{k+1} = z_i/|z_i|

    Parameters
    ----------
    x0s : ndarray, shape (R, N, d)
        Initial tokens (unit vectors for ``manifold="sphere"``).
    n_steps : int
        Number of layers :math:`L`; the horizon is ``n_steps * dt``.
    dt : float
        Layer step :math:`h > 0`.
    sigma_noise, sigma_w, sigma_b : float
        :math:`\sigma_n \ge 0` (0 skips the MLP and draws nothing), :math:`\sigma_w, \sigma_b
        \ge 0`.
    activation : str
        One of :data:`kernels.common.activations.ACTIVATIONS`.
    width : int
        MLP width :math:`m \ge 1`.
    attn_kind : {"sa", "usa", "off"}
        Softmax or unnormalized self-attention, or none.
    attn_strength : float
        :math:`\alpha` (negative: repulsive).
    beta : float
        Inverse temperature :math:`\beta \ge 0`.
    rng : numpy.random.Generator or int
        The only source of randomness.
    noise_sharing : {"common", "independent"}
        Weights shared by all tokens (default) or drawn per token.
    hidden_weights : {"fresh", "fixed"}
        Fresh B, b every layer, or fixed per realization (A stays fresh).
    stride : int
        Record every ``stride``-th layer.
    splitting : {"lie_trotter", "strang"}
        Attention then MLP then Norm, or MLP(h/2)·Norm, attention(h)·Norm, MLP(h/2)·Norm.
    manifold : {"sphere", "euclidean"}
        With or without the Norm step (euclidean: exploratory, spec §3).
    fixed_weights : FixedWeights, optional
        For ``hidden_weights="fixed"``: B (S, m, d) shared by all realizations or (R, S, m, d),
        b likewise. None draws them from ``rng`` (B then b, before any layer).
    progress : callable, optional
        ``progress(done_fraction) -> bool``, called at most every 50 ms and once at the end
        with 1.0. Returning False cancels: the run stops at the next chunk boundary and
        :class:`Cancelled` is raised, carrying the frames recorded so far in ``partial``.

    Returns
    -------
    ndarray, shape (n_steps // stride + 1, R, N, d)
        Frame 0 is ``x0s``; frame f is the state after layer ``f * stride``.

    Notes
    -----
    Provenance: discrete model [literature] (spec §2), common-noise limit SDE [derived].
    Paper: arXiv:2604.26898. Bit-identical for the same seed; chunked calls continuing from the
    last frame with the same Generator (and, for fixed weights, the same ``fixed_weights``)
    reproduce one long call exactly.
    """
    p = layer_params(
        dt=dt,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
        noise_sharing=noise_sharing,
        hidden_weights=hidden_weights,
        splitting=splitting,
        manifold=manifold,
    )
    return simulate_frames(
        x0s, p, n_steps, rng, stride=stride, fixed_weights=fixed_weights, progress=progress
    )


def simulate(
    x0: np.ndarray,
    *,
    n_steps: int,
    dt: float,
    sigma_noise: float,
    activation: str,
    width: int,
    attn_kind: str,
    attn_strength: float,
    beta: float,
    rng: np.random.Generator | int,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    noise_sharing: str = "common",
    hidden_weights: str = "fresh",
    stride: int = 1,
    splitting: str = "lie_trotter",
    manifold: str = "sphere",
    fixed_weights: FixedWeights | None = None,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    r"""Token trajectory of one realization of the discrete transformer (spec §2).

    :func:`simulate_ensemble` with ``R = 1``:

    .. math::

        x_i^{k+1} = \frac{z_i}{|z_i|},\quad
        z_i = y_i + \sigma_n\sqrt{h/m}\,A_k s(\sigma_w B_k y_i + \sigma_b b_k),\quad
        y_i = x_i + h\alpha\sum_j w_{ij}x_j

    Parameters
    ----------
    x0 : ndarray, shape (N, d)
        Initial tokens (unit vectors for ``manifold="sphere"``).
    n_steps, dt, sigma_noise, activation, width, attn_kind, attn_strength, beta, rng
        As in :func:`simulate_ensemble`.
    sigma_w, sigma_b, noise_sharing, hidden_weights, stride, splitting, manifold, progress
        As in :func:`simulate_ensemble`.
    fixed_weights : FixedWeights, optional
        From :func:`draw_fixed_weights`: B (S, m, d), b (S, m).

    Returns
    -------
    ndarray, shape (n_steps // stride + 1, N, d)
        Frame 0 is ``x0``; the last frame is the final state when ``stride`` divides
        ``n_steps``. Calling again from the last frame with the same Generator continues the
        same run bit for bit (pass the same ``fixed_weights`` for fixed hidden weights).

    Notes
    -----
    [literature] model, [derived] limit; arXiv:2604.26898.
    """
    x = np.asarray(x0, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x0 must have shape (N, d); got shape {x.shape}")
    if fixed_weights is not None and np.ndim(fixed_weights[0]) != 3:
        raise ValueError(
            "fixed_weights.B must have shape (S, m, d) for simulate; "
            f"got {np.shape(fixed_weights[0])}"
        )
    p = layer_params(
        dt=dt,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
        noise_sharing=noise_sharing,
        hidden_weights=hidden_weights,
        splitting=splitting,
        manifold=manifold,
    )
    frames = simulate_frames(
        x[None], p, n_steps, rng, stride=stride, fixed_weights=fixed_weights, progress=progress
    )
    return frames[:, 0]


def advance_with_normals(
    x0s: np.ndarray,
    normals: np.ndarray,
    *,
    dt: float,
    sigma_noise: float,
    activation: str,
    width: int,
    attn_kind: str,
    attn_strength: float,
    beta: float,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    noise_sharing: str = "common",
    hidden_weights: str = "fresh",
    splitting: str = "lie_trotter",
    manifold: str = "sphere",
    fixed_weights: FixedWeights | None = None,
) -> np.ndarray:
    r"""Advance R realizations through pre-drawn normals; the core behind every simulation.

    Layer k applies the map of :func:`simulate_ensemble` with the weights read from
    ``normals[k, r]``:

    .. math::
        x_i^{k+1} = \frac{z_i}{|z_i|},\quad
        z_i = y_i + \sigma_n\sqrt{h/m}\,A_k s(\sigma_w B_k y_i + \sigma_b b_k)

    Parameters
    ----------
    x0s : ndarray, shape (R, N, d)
    normals : ndarray, shape (L, R, Q)
        Layer ``k`` of realization ``r`` uses ``normals[k, r]``, laid out as described in
        :mod:`kernels.tokens.core`; ``Q = noise_block_size(N, d, width, ...)``.
        :func:`simulate_ensemble` draws exactly these blocks from its Generator
        (:func:`standard_normals`, layer-major).
    fixed_weights : FixedWeights
        Required for ``hidden_weights="fixed"``: B (S, m, d) or (R, S, m, d), b likewise.
    Other parameters as in :func:`simulate_ensemble`.

    Returns
    -------
    ndarray, shape (R, N, d)
        The state after the L layers.

    Notes
    -----
    Used for strong convergence (coarse increments summed from fine ones, spec §6.9), for
    oracles and for symmetry tests. [literature] model; arXiv:2604.26898.
    """
    p = layer_params(
        dt=dt,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
        noise_sharing=noise_sharing,
        hidden_weights=hidden_weights,
        splitting=splitting,
        manifold=manifold,
    )
    return advance_normals(x0s, normals, p, fixed_weights)
