r"""Expected signature of GP-augmented time series: the public facade (spec ``signature.md``).

M. Romito, F. Triggiano, *Gaussian processes based data augmentation and expected signature for
time series classification*, arXiv:2310.10836. A series becomes a random path through its GP
posterior; the feature is the Monte Carlo expected truncated signature

.. math:: \hat\Phi(y) = \frac1M\sum_{j=1}^M S^{\le N}(X^{(j)}),\qquad X^{(j)} = m + Rz^{(j)}.

Binding API: :func:`signature` (iisignature's flat layout), :func:`signature_batch`,
:func:`expected_signature` → (mean, stderr). Around them: the GP posterior
(:func:`gp_posterior`), seeded sample keys (:func:`sample_normals`), augmentation
(:func:`augment`, :func:`augmented_signature_batch`), the fused MC accumulation
(:func:`gp_signature_sums`), tensor-algebra helpers (:func:`sig_levels`, :func:`sig_combine`,
:func:`linear_map_signature`), Brownian and OU data. Provenance tags in the docstrings.

Modules: ``core`` (jitted signature cores), ``features`` (jitted fused augmentation + MC
cores), ``driver`` (validated entry points), ``gp`` (the posterior), ``tensor`` (layout and
tensor algebra), ``theory`` (closed forms), ``studies`` (batch MC studies), ``data``
(synthetic data).
"""

from __future__ import annotations

import numpy as np

from kernels.signature.data import brownian_paths, synthetic_ou
from kernels.signature.driver import (
    Augmentation,
    augment,
    augmented_dim,
    augmented_signature_batch,
    expected_signature,
    gp_sample_paths,
    gp_signature_sums,
    signature,
    signature_batch,
    sums_to_mean_stderr,
)
from kernels.signature.driver import (
    threads_available as threads_available,
)
from kernels.signature.gp import (
    KERNELS,
    Posterior,
    gp_posterior,
    log_marginal_likelihood,
    sample_normals,
)
from kernels.signature.studies import brownian_expected_signature
from kernels.signature.tensor import (
    MAX_DEPTH,
    MAX_FEATURES,
    level_offsets,
    linear_map_signature,
    max_depth,
    sig_combine,
    sig_length,
    sig_levels,
)
from kernels.signature.theory import brownian_expected_signature_exact

__all__ = [
    "KERNELS",
    "MAX_DEPTH",
    "MAX_FEATURES",
    "Augmentation",
    "Posterior",
    "augment",
    "augmented_dim",
    "augmented_signature_batch",
    "brownian_expected_signature",
    "brownian_expected_signature_exact",
    "brownian_paths",
    "expected_signature",
    "gp_posterior",
    "gp_sample_paths",
    "gp_signature_sums",
    "level_offsets",
    "linear_map_signature",
    "log_marginal_likelihood",
    "max_depth",
    "sample_normals",
    "sig_combine",
    "sig_length",
    "sig_levels",
    "signature",
    "signature_batch",
    "sums_to_mean_stderr",
    "synthetic_ou",
    "warmup",
]


def warmup() -> None:
    """Run the public API end to end on tiny inputs (the cores are compiled by the
    submodules' own ``warmup()``, which :func:`kernels.warm_modules` runs first)."""
    path = np.linspace(0.0, 1.0, 6).reshape(3, 2)
    sig = signature(path, 3)
    sig_combine(sig, sig, 2, 3)
    linear_map_signature(sig, np.eye(2), 2, 3)
    sig_levels(sig, 2, 3)
    signature_batch(path[None], 3)
    signature_batch(path[None], 3, parallel=False)
    expected_signature(path[None], 2)
    augment(path, lead_lag=True)
    post = gp_posterior(3, noise_var=0.1)
    means = post.mean(path.T[None, :1])
    z = sample_normals(0, np.arange(1), 1, 1, post.grid.size)
    gp_sample_paths(post, means[0], z[0])
    for lead_lag in (False, True):
        augmented_signature_batch(path[None], 2, lead_lag=lead_lag)
        gp_signature_sums(means, post, z, 2, lead_lag=lead_lag)
    log_marginal_likelihood(path.T)
    brownian_expected_signature(2, 3, 2, 1.0, 2, 0)
    brownian_expected_signature_exact(2, 1.0, 2)
    synthetic_ou(0, n_per_class=1, length=3)
