r"""Synthetic data for the expected-signature tab: the OU "law, not shape" set and Brownian paths.

* ``synthetic_ou`` (spec §2.2, implemented choice [derived]): OU
  :math:`dX = -\theta X\,dt + \sigma dW`, :math:`\sigma^2 = 2\theta` (stationary variance 1),
  :math:`X_0` stationary, exact transition
  :math:`X_{k+1} = e^{-\theta\Delta}X_k + (1-e^{-2\theta\Delta})^{1/2}\xi_k`, L points on [0, 1],
  observation noise sd 0.1, one class per θ. The classes differ in law (roughness), not shape.
* Piecewise-linear Brownian paths for the teaching inset, whose expected signature has the
  closed form in :mod:`kernels.signature.theory` [literature].
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.common.validation import integer, real, resolve_rng


@njit(cache=True, nogil=True)
def _ou_core(
    thetas: np.ndarray,
    dt: float,
    obs_sd: float,
    xi: np.ndarray,
    eta: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[n, 0, :]``: OU path of rate ``thetas[n]`` from normals xi (n, L), plus obs noise."""
    n, length = xi.shape
    for s in range(n):
        decay = np.exp(-thetas[s] * dt)
        kick = np.sqrt(1.0 - decay * decay)
        x = xi[s, 0]  # stationary start, variance 1
        out[s, 0, 0] = x + obs_sd * eta[s, 0]
        for k in range(1, length):
            x = decay * x + kick * xi[s, k]
            out[s, 0, k] = x + obs_sd * eta[s, k]


def ou_series(
    thetas: np.ndarray, length: int, obs_sd: float, rng: np.random.Generator
) -> np.ndarray:
    """Noisy stationary OU series, one per entry of ``thetas``: (n, 1, length) on [0, 1]."""
    thetas = np.ascontiguousarray(thetas, dtype=np.float64)
    xi = rng.standard_normal((len(thetas), length))
    eta = rng.standard_normal((len(thetas), length))
    out = np.empty((len(thetas), 1, length))
    _ou_core(thetas, 1.0 / (length - 1), float(obs_sd), xi, eta, out)
    return out


def brownian_paths(n_paths: int, n_steps: int, dim: int, horizon: float, rng: object) -> np.ndarray:
    r"""Piecewise-linear Brownian paths from the origin.

    Parameters
    ----------
    n_paths : int
        Number of paths, ≥ 1.
    n_steps : int
        Steps per path, ≥ 1.
    dim : int
        Dimension of the Brownian motion, 1..8.
    horizon : float
        Horizon T > 0.
    rng : numpy.random.Generator or int
        Source of the increments (a seed makes a new generator).

    Returns
    -------
    numpy.ndarray
        Shape (n_paths, n_steps + 1, dim): :math:`B_{t_k} = \sum_{i<k}\sqrt{T/n}\,\xi_i`,
        :math:`\xi_i \sim N(0, I_d)`, :math:`B_0 = 0` [literature].
    """
    n_paths = integer("n_paths", n_paths, 1, 10_000_000)
    n_steps = integer("n_steps", n_steps, 1, 100_000)
    dim = integer("dim", dim, 1, 8)
    horizon = real("horizon", horizon, 0.0, 1e3, lo_open=True)
    gen = resolve_rng(rng)
    paths = np.zeros((n_paths, n_steps + 1, dim))
    steps = gen.standard_normal((n_paths, n_steps, dim)) * np.sqrt(horizon / n_steps)
    np.cumsum(steps, axis=1, out=paths[:, 1:])
    return paths


def synthetic_ou(
    rng: object,
    *,
    n_per_class: int = 100,
    length: int = 100,
    thetas: tuple = (2.0, 20.0),
    obs_sd: float = 0.1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""The ``synthetic_ou`` data set: two classes that differ in law, not in shape.

    Parameters
    ----------
    rng : numpy.random.Generator or int
        Source of the series (a seed makes a new generator).
    n_per_class : int
        Series per class in each split, ≥ 1.
    length : int
        Points per series on [0, 1], ≥ 2.
    thetas : tuple of float
        OU rate θ of each class.
    obs_sd : float
        Standard deviation of the observation noise.

    Returns
    -------
    tuple of numpy.ndarray
        ``(X_train, y_train, X_test, y_test)``; X of shape (n, 1, length), y of shape (n,)
        (class labels as strings), n = n_per_class · len(thetas). Class k is a stationary OU
        path :math:`dX = -\theta_k X\,dt + \sqrt{2\theta_k}\,dW` sampled exactly,
        :math:`X_{j+1} = e^{-\theta\Delta}X_j + (1-e^{-2\theta\Delta})^{1/2}\xi_j`, plus
        observation noise (spec §2.2) [derived].
    """
    gen = resolve_rng(rng)
    n_per_class = integer("n_per_class", n_per_class, 1, 100_000)
    length = integer("length", length, 2, 100_000)
    out = []
    for _split in range(2):
        labels = np.repeat(np.arange(len(thetas)), n_per_class)
        rates = np.asarray(thetas, dtype=np.float64)[labels]
        out += [ou_series(rates, length, obs_sd, gen), labels.astype(str)]
    return out[0], out[1], out[2], out[3]


def warmup() -> None:
    """Compile the OU core on a tiny set."""
    ou_series(np.array([1.0]), 3, 0.1, np.random.default_rng(0))
