r"""Wide random networks against their Gaussian-process limit: public API of the widenet tab.

Giovagnini, Kotitsas, Romito, *Universality in deep neural networks: an approach via the
Lindeberg exchange principle*, arXiv:2605.02771. Spec ``models/widenet.md``.

* :func:`nngp_kernel`: the limit covariance :math:`K^{L+1}[X]` (closed forms for ReLU/erf,
  Gauss–Hermite for tanh/GELU; true first-layer law or the Gaussian formula).
* :func:`sample_outputs` / :func:`sample_cond_cov`: exact Monte Carlo of ``n_nets`` independent
  networks (any weight law per layer, Gaussian-layer shortcut), thread-count independent.
* :func:`w2_quantile` and the other estimators of :mod:`kernels.widenet.estimators`.
* :func:`width_sweep` / :func:`lindeberg_study` (:mod:`kernels.widenet.studies`): the tab's studies.
"""

from __future__ import annotations

import numpy as np

from kernels.common.activations import activation_id
from kernels.common.progress import ProgressFn
from kernels.common.validation import choice, integer, real, resolve_rng
from kernels.widenet.estimators import (
    bin_variances,
    cornish_fisher_w2,
    coupling_upper,
    fit_slope,
    floor_band,
    floor_corrected,
    gelbrich_lower,
    lattice_w2_exact,
    norm_ppf,
    quantile_moments,
    sample_cumulants,
    w2_exact_cells,
    w2_from_moments,
    w2_mixture,
    w2_quantile,
    w2_rao_blackwell,
    w2_two_sample,
)
from kernels.widenet.laws import WEIGHT_LAWS, check_law, check_t_dof, law_id, law_moments
from kernels.widenet.sampling import (
    chunk_bounds,
    chunk_generators,
    networks_chunk,
    root_key,
    run_tasks,
)
from kernels.widenet.theory import (
    WIDENET_ACTIVATIONS,
    check_inputs,
    circle_inputs,
    dual_erf,
    dual_gh,
    dual_relu,
    first_layer_expectations,
    nngp_kernel,
    shallow_cumulants_exact,
)

__all__ = [
    "WEIGHT_LAWS",
    "WIDENET_ACTIVATIONS",
    "bin_variances",
    "circle_inputs",
    "cornish_fisher_w2",
    "coupling_upper",
    "dual_erf",
    "dual_gh",
    "dual_relu",
    "first_layer_expectations",
    "fit_slope",
    "floor_band",
    "floor_corrected",
    "gelbrich_lower",
    "lattice_w2_exact",
    "law_moments",
    "nngp_kernel",
    "norm_ppf",
    "quantile_moments",
    "sample_cond_cov",
    "sample_cumulants",
    "sample_outputs",
    "shallow_cumulants_exact",
    "w2_exact_cells",
    "w2_from_moments",
    "w2_mixture",
    "w2_quantile",
    "w2_rao_blackwell",
    "w2_two_sample",
    "warmup",
]

#: Largest width of one hidden layer.
MAX_WIDTH = 4096
#: Largest number of networks per call.
MAX_NETS = 10**6
#: Memory cap of the outputs (y and Σ̂ together), bytes.
MAX_OUTPUT_BYTES = 2**30
#: Work cap: weights drawn per call (≈ 15 ns each: about a minute on one core).
MAX_WEIGHTS = 4 * 10**9


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

    Spec ``models/widenet.md`` §2 [paper: architecture; derived: bias convention].

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
    ndarray (n_nets, k), or (outputs, cond_cov).
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
    bounds = chunk_bounds(n_nets)
    gens = chunk_generators(seed_seq, len(bounds))
    root = root_key(seed_seq)
    aid = activation_id(activation)
    rb = bool(readout_bias)

    def task(c: int):
        s, e = bounds[c]
        return lambda: networks_chunk(
            gens[c],
            root,
            s,
            x,
            lids,
            width,
            aid,
            c_w,
            c_b,
            rb,
            t_dof,
            bool(shortcut),
            out[s:e],
            cov[s:e],
        )

    run_tasks([task(c) for c in range(len(bounds))], progress, n_threads=n_threads)
    return (out, cov) if return_cond_cov else out


def sample_cond_cov(X: np.ndarray, **kwargs) -> np.ndarray:
    r"""Σ̂ = C_W σ(z^L)ᵀσ(z^L)/n + C_b 1_{rb} of each network: the covariance of the output given
    the last hidden layer when the readout is Gaussian. Arguments as :func:`sample_outputs`."""
    kwargs["return_cond_cov"] = True
    return sample_outputs(X, **kwargs)[1]


def warmup() -> None:
    """Compile (or load from the numba cache) every widenet core on tiny inputs."""
    from kernels.widenet import estimators as widenet_estimators
    from kernels.widenet import laws as widenet_laws
    from kernels.widenet import rng as widenet_rng
    from kernels.widenet import sampling as widenet_sampling
    from kernels.widenet import theory as widenet_nngp

    for module in (widenet_laws, widenet_rng, widenet_sampling, widenet_nngp, widenet_estimators):
        module.warmup()
