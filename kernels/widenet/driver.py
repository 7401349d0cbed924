r"""Driver of the network sampler: validation, thread-independent chunking, chunked runs.

:func:`sample_outputs` validates its arguments, resolves the RNG and hands a
:class:`NetworkSpec` (the arguments every chunk of a call shares) to :func:`run_networks`, which
splits the networks into fixed chunks of :data:`CHUNK_NETS` and runs
:func:`kernels.widenet.core.networks_chunk` on each in a thread pool. Chunk ``c`` owns child
``c`` of the call's ``SeedSequence`` (for Student-t's χ² draws) and network g draws its weights
from ``network_key(root, g)``: the output does not depend on the number of threads. The width
sweep (:mod:`kernels.widenet.studies`) reuses :func:`run_networks` per width.

Provenance: network and bias convention [paper]/[derived] (spec §2); algorithms [derived].
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numba
import numpy as np

from kernels.common.activations import activation_id
from kernels.common.progress import Cancelled, ProgressFn, throttled_progress
from kernels.common.validation import choice, integer, real, resolve_rng
from kernels.widenet.core import networks_chunk
from kernels.widenet.laws import check_law, check_t_dof, law_id
from kernels.widenet.theory import WIDENET_ACTIVATIONS, check_inputs

#: Networks per seeded chunk: fixed, so results do not depend on the thread count.
CHUNK_NETS = 512
#: Largest width of one hidden layer.
MAX_WIDTH = 4096
#: Largest number of networks per call.
MAX_NETS = 10**6
#: Memory cap of the outputs (y and Σ̂ together), bytes.
MAX_OUTPUT_BYTES = 2**30
#: Work cap: weights drawn per call (≈ 15 ns each: about a minute on one core).
MAX_WEIGHTS = 4 * 10**9


class NetworkSpec(NamedTuple):
    """What every chunk of one call of :func:`kernels.widenet.core.networks_chunk` shares.

    ``x`` (k, n0) inputs; ``lids`` (L + 1,) law ids, input first, readout last; ``aid`` the
    activation id; the rest as in :func:`sample_outputs`."""

    x: np.ndarray
    lids: np.ndarray
    width: int
    aid: int
    c_w: float
    c_b: float
    readout_bias: bool
    t_dof: float
    shortcut: bool


def chunk_bounds(n_nets: int) -> list[tuple[int, int]]:
    """Fixed [start, stop) ranges of :data:`CHUNK_NETS` networks."""
    return [(s, min(s + CHUNK_NETS, n_nets)) for s in range(0, n_nets, CHUNK_NETS)]


def root_key(seed_seq: np.random.SeedSequence) -> np.uint64:
    """The 64-bit root of the network streams of a call (network g uses network_key(root, g))."""
    return np.uint64(seed_seq.generate_state(1, np.uint64)[0])


def chunk_generators(seed_seq: np.random.SeedSequence, n_chunks: int) -> list[np.random.Generator]:
    """One independent Generator per chunk: children of ``seed_seq`` (thread-count free)."""
    return [np.random.default_rng(child) for child in seed_seq.spawn(n_chunks)]


def run_tasks(
    tasks: list[Callable[[], None]],
    progress: ProgressFn | None = None,
    *,
    n_threads: int | None = None,
    done_before: int = 0,
    total: int | None = None,
) -> None:
    """Run independent tasks (each writes its own output slice) on ``n_threads`` threads.

    ``n_threads`` defaults to ``numba.get_num_threads()``. ``progress(fraction)`` is reported
    after each task with fraction ``(done_before + done) / total``; returning False cancels
    (raises :class:`Cancelled` once the running tasks finish).
    """
    report = throttled_progress(progress)
    total = len(tasks) + done_before if total is None else total
    threads = max(1, int(n_threads or numba.get_num_threads()))
    stop = [False]

    def wrapped(task: Callable[[], None]) -> None:
        if not stop[0]:
            task()

    done = 0
    if threads == 1:
        for task in tasks:
            task()
            done += 1
            if not report((done_before + done) / max(total, 1)):
                raise Cancelled("cancelled")
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(wrapped, task) for task in tasks]
        for fut in futures:
            fut.result()
            done += 1
            if not stop[0] and not report((done_before + done) / max(total, 1)):
                stop[0] = True
    if stop[0]:
        raise Cancelled("cancelled")


def run_networks(
    spec: NetworkSpec,
    seed_seq: np.random.SeedSequence,
    out: np.ndarray,
    cond_cov: np.ndarray,
    progress: ProgressFn | Callable[[float], bool] | None = None,
    n_threads: int | None = None,
) -> None:
    """Outputs ``out`` (M, k) and Σ̂ ``cond_cov`` (M, k, k) of M networks, written in place in
    fixed chunks seeded from ``seed_seq`` (module docstring)."""
    bounds = chunk_bounds(out.shape[0])
    gens = chunk_generators(seed_seq, len(bounds))
    root = root_key(seed_seq)

    def task(c: int) -> Callable[[], None]:
        s, e = bounds[c]
        return lambda: networks_chunk(
            gens[c],
            root,
            s,
            spec.x,
            spec.lids,
            spec.width,
            spec.aid,
            spec.c_w,
            spec.c_b,
            spec.readout_bias,
            spec.t_dof,
            spec.shortcut,
            out[s:e],
            cond_cov[s:e],
        )

    run_tasks([task(c) for c in range(len(bounds))], progress, n_threads=n_threads)


def resolve_layer_laws(weight_law: str, n_hidden: int, layer_laws: object = None) -> np.ndarray:
    """Law ids of the L + 1 weight layers (input first, readout last)."""
    if layer_laws is None:
        return np.full(n_hidden + 1, law_id(check_law(weight_law)), dtype=np.int64)
    laws = list(layer_laws)  # type: ignore[call-overload]
    if len(laws) != n_hidden + 1:
        raise ValueError(
            f"layer_laws must list n_hidden + 1 = {n_hidden + 1} laws (input first, readout "
            f"last); got {len(laws)}"
        )
    return np.array([law_id(check_law(name, "layer_laws")) for name in laws], dtype=np.int64)


def _check_sampling(x, width, n_hidden, activation, n_nets, c_w, c_b, t_dof):
    x = check_inputs(x)
    width = integer("width", width, 1, MAX_WIDTH)
    n_hidden = integer("n_hidden", n_hidden, 1, 6)
    choice("activation", activation, WIDENET_ACTIVATIONS)
    n_nets = integer("n_nets", n_nets, 1, MAX_NETS)
    c_w = real("c_w", c_w, 0.0, 100.0)
    c_b = real("c_b", c_b, 0.0, 100.0)
    k = x.shape[0]
    if n_nets * (k + k * k) * 8 > MAX_OUTPUT_BYTES:
        raise ValueError(
            f"n_nets = {n_nets} with k = {k} inputs needs more than "
            f"{MAX_OUTPUT_BYTES // 2**20} MiB of outputs; lower n_nets or the number of inputs"
        )
    if n_nets * width * (width * (n_hidden - 1) + x.shape[1] + 2) > MAX_WEIGHTS:
        raise ValueError(
            f"n_nets·width²·(n_hidden − 1) = {n_nets}·{width}²·{n_hidden - 1} weights is too much "
            f"work (cap {MAX_WEIGHTS:.0e}); lower the width, the depth or n_nets"
        )
    return x, width, n_hidden, n_nets, c_w, c_b


def sample_outputs(
    X: np.ndarray,
    *,
    width: int,
    n_hidden: int,
    activation: str,
    weight_law: str,
    n_nets: int,
    rng: np.random.Generator | int,
    c_w: float = 1.0,
    c_b: float = 0.0,
    readout_bias: bool = False,
    layer_laws: list[str] | None = None,
    t_dof: float = 6.0,
    shortcut: bool = True,
    n_threads: int | None = None,
    progress: ProgressFn | None = None,
    return_cond_cov: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Outputs of ``n_nets`` independent random networks at the inputs ``X``.

    .. math::
        z^1 = \sqrt{C_W}W^1x/\sqrt{n_0} + \sqrt{C_b}b^1,\quad
        z^{l+1} = \sqrt{C_W}W^{l+1}\sigma(z^l)/\sqrt n + \sqrt{C_b}b^{l+1},\quad y = z^{L+1}.

    Spec ``models/widenet.md`` §2: the architecture [paper], the bias convention (b¹ follows the
    layer-1 law, deeper biases are Gaussian) and the sampling algorithms [derived].

    Parameters
    ----------
    X : array (k, n0)
        Inputs.
    width : int in [1, 4096]
        n, the width of every hidden layer.
    n_hidden : int in [1, 6]
        L, the number of hidden layers.
    activation : {"relu", "tanh", "erf", "gelu", "linear"}
    weight_law : {"gaussian", "rademacher", "uniform", "centred_exp", "student_t"}
        Standardised law of every weight layer (``layer_laws`` overrides it per layer, input
        first, readout last).
    n_nets : int
        M, the number of networks.
    rng : numpy.random.Generator or int
        Randomness: one draw from it seeds the per-chunk generators.
    c_w, c_b : float
        Weight and bias variances; ``c_b = 0`` means no biases at all.
    readout_bias : bool
        Add a Gaussian readout bias of variance ``c_b``.
    t_dof : float in [4.5, 30]
        Student-t degrees of freedom.
    shortcut : bool
        Draw Gaussian layers through their conditional law (exact, O(nk²) per layer).
    n_threads : int, optional
        Threads (default ``numba.get_num_threads()``); the result does not depend on it.
    progress : callable, optional
        ``progress(fraction) -> bool``; False cancels (raises ``Cancelled``).
    return_cond_cov : bool
        Also return Σ̂ (n_nets, k, k), the conditional covariance for a Gaussian readout.

    Returns
    -------
    ndarray (n_nets, k), or (outputs (n_nets, k), cond_cov (n_nets, k, k))
        y(X) of each network; Σ̂ with ``return_cond_cov``.
    """
    x, width, n_hidden, n_nets, c_w, c_b = _check_sampling(
        X, width, n_hidden, activation, n_nets, c_w, c_b, t_dof
    )
    lids = resolve_layer_laws(weight_law, n_hidden, layer_laws)
    t_dof = check_t_dof(t_dof) if (lids == law_id("student_t")).any() else 6.0
    gen = resolve_rng(rng)
    seed_seq = np.random.SeedSequence(gen.integers(0, 2**63 - 1, size=2))
    k = x.shape[0]
    out = np.empty((n_nets, k))
    cov = np.empty((n_nets, k, k))
    spec = NetworkSpec(
        x,
        lids,
        width,
        activation_id(activation),
        c_w,
        c_b,
        bool(readout_bias),
        t_dof,
        bool(shortcut),
    )
    run_networks(spec, seed_seq, out, cov, progress, n_threads)
    return (out, cov) if return_cond_cov else out


def sample_cond_cov(X: np.ndarray, **kwargs) -> np.ndarray:
    r"""Conditional covariance of each network's output given its last hidden layer, for a Gaussian
    readout:

    .. math:: \hat\Sigma = C_W\,\sigma(z^L)^\top\sigma(z^L)/n + C_b 1_{rb}

    (the Rao–Blackwell statistic, spec §3e) [derived].

    Parameters
    ----------
    X : array (k, n0)
        Inputs.
    **kwargs
        As :func:`sample_outputs` (``return_cond_cov`` is set here).

    Returns
    -------
    ndarray (n_nets, k, k)
    """
    kwargs["return_cond_cov"] = True
    return sample_outputs(X, **kwargs)[1]
