r"""Batch Monte Carlo studies of the expected-signature model: E S(Brownian motion) by sampling.

Many Brownian paths are signed in chunks and their signatures added to running sums, never
stored all at once; compare with the closed form in :mod:`kernels.signature.theory`.
"""

from __future__ import annotations

import numpy as np

from kernels.common.validation import integer, real, resolve_rng
from kernels.signature.data import brownian_paths
from kernels.signature.driver import depth_arg, signature_batch, sums_to_mean_stderr
from kernels.signature.tensor import sig_length


def brownian_expected_signature(
    n_paths: int,
    n_steps: int,
    dim: int,
    horizon: float,
    depth: int,
    rng: object,
    *,
    chunk: int = 2000,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Monte Carlo estimate of the expected signature of Brownian motion.

    Parameters
    ----------
    n_paths : int
        Number of sampled paths M_B, ≥ 1.
    n_steps : int
        Steps n of each piecewise-linear path, ≥ 1.
    dim : int
        Dimension d of the Brownian motion, 1..8.
    horizon : float
        Horizon T > 0.
    depth : int
        Truncation depth N, 1..12.
    rng : numpy.random.Generator or int
        Source of the paths (a seed makes a new generator).
    chunk : int
        Paths signed per batch (memory bound; the result does not depend on it).

    Returns
    -------
    mean, stderr : numpy.ndarray
        Each of shape (Σ_{k=1}^N d^k,):

        .. math:: \hat E = \frac1{M_B}\sum_{j=1}^{M_B} S(B^{(j)})_{0,T}
                  \to \exp\Big(\tfrac T2\sum_i e_i\otimes e_i\Big),

        with the standard error of the mean (spec §6.9) [literature]; compare with
        :func:`kernels.signature.brownian_expected_signature_exact`.
    """
    n_paths = integer("n_paths", n_paths, 1, 10_000_000)
    n_steps = integer("n_steps", n_steps, 1, 100_000)
    dim = integer("dim", dim, 1, 8)
    horizon = real("horizon", horizon, 0.0, 1e3, lo_open=True)
    depth = depth_arg(depth)
    gen = resolve_rng(rng)
    n_sig = sig_length(dim, depth)
    sums, sumsq = np.zeros(n_sig), np.zeros(n_sig)
    for start in range(0, n_paths, chunk):
        k = min(chunk, n_paths - start)
        sigs = signature_batch(brownian_paths(k, n_steps, dim, horizon, gen), depth)
        sums += sigs.sum(axis=0)
        sumsq += (sigs * sigs).sum(axis=0)
    return sums_to_mean_stderr(sums, sumsq, n_paths)
