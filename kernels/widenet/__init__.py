r"""Wide random networks against their Gaussian-process limit: public API of the widenet tab.

Giovagnini, Kotitsas, Romito, *Universality in deep neural networks: an approach via the
Lindeberg exchange principle*, arXiv:2605.02771. Spec ``models/widenet.md``.

* :func:`nngp_kernel`: the limit covariance :math:`K^{L+1}[X]` (closed forms for ReLU/erf,
  Gauss–Hermite for tanh/GELU; true first-layer law or the Gaussian formula)
  (:mod:`kernels.widenet.theory`).
* :func:`sample_outputs` / :func:`sample_cond_cov`: exact Monte Carlo of ``n_nets`` independent
  networks (any weight law per layer, Gaussian-layer shortcut), thread-count independent
  (:mod:`kernels.widenet.driver` over the jitted cores of :mod:`kernels.widenet.core`, weights
  from the counter-based streams of :mod:`kernels.widenet.rng`, laws in
  :mod:`kernels.widenet.laws`).
* :func:`w2_quantile` and the other estimators (:mod:`kernels.widenet.estimators`; for a
  Gaussian readout :mod:`kernels.widenet.rao_blackwell`), their noise floors, cumulants, proxies
  and fitted rates (:mod:`kernels.widenet.diagnostics`); the activations' dual maps
  (:mod:`kernels.widenet.dual_maps`).
* ``width_sweep`` / ``lindeberg_study`` (:mod:`kernels.widenet.studies`): the tab's studies.
"""

from __future__ import annotations

import numpy as np

from kernels.widenet.diagnostics import (
    cornish_fisher_w2,
    fit_slope,
    floor_band,
    floor_corrected,
    sample_cumulants,
)
from kernels.widenet.driver import sample_cond_cov, sample_outputs
from kernels.widenet.dual_maps import dual_erf, dual_gh, dual_relu
from kernels.widenet.estimators import (
    lattice_w2_exact,
    norm_ppf,
    quantile_moments,
    w2_exact_cells,
    w2_from_moments,
    w2_quantile,
    w2_two_sample,
)
from kernels.widenet.laws import WEIGHT_LAWS, law_moments
from kernels.widenet.rao_blackwell import (
    bin_variances,
    coupling_upper,
    gelbrich_lower,
    w2_mixture,
    w2_rao_blackwell,
)
from kernels.widenet.theory import (
    WIDENET_ACTIVATIONS,
    circle_inputs,
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


def warmup() -> None:
    r"""Run the public API end to end on tiny inputs.

    The submodules' own ``warmup()`` compile their cores first (:func:`kernels.warm_modules`);
    this call then exercises :func:`sample_outputs` (both the dense path and the Gaussian-layer
    shortcut), :func:`nngp_kernel` (:math:`K^{L+1}[X]` for L = 1) and the estimators on the
    result, e.g. :math:`\hat W` of :func:`w2_quantile`. Provenance: [derived] (app plumbing).

    Parameters
    ----------
    None

    Returns
    -------
    None
    """
    x = circle_inputs(2, 60.0)
    for law in ("gaussian", "centred_exp"):
        y, cov = sample_outputs(
            x,
            width=3,
            n_hidden=2,
            activation="relu",
            weight_law=law,
            n_nets=8,
            rng=0,
            c_b=0.1,
            n_threads=1,
            return_cond_cov=True,
        )
    k = nngp_kernel(x, activation="relu", n_hidden=1, c_b=0.1)
    w2_quantile(y[:, 0], float(k[0, 0]))
    w2_rao_blackwell(cov[:, 0, 0], float(k[0, 0]))
    gelbrich_lower(np.cov(y.T), k)
    norm_ppf(np.array([0.25, 0.75]))
