r"""Synthetic data for the expected-signature tab: the OU "law, not shape" set and Brownian paths.

* ``synthetic_ou`` (spec §2.2, implemented choice [derived]): OU
  :math:`dX = -\theta X\,dt + \sigma dW`, :math:`\sigma^2 = 2\theta` (stationary variance 1),
  :math:`X_0` stationary, exact transition
  :math:`X_{k+1} = e^{-\theta\Delta}X_k + (1-e^{-2\theta\Delta})^{1/2}\xi_k`, L points on [0, 1],
  observation noise sd 0.1, one class per θ. The classes differ in law (roughness), not shape.
* Brownian increments for the teaching inset: :math:`E\,S(B)_{0,T} = \exp(\tfrac T2\sum_i
  e_i\otimes e_i)` (Fawcett 2003) [literature].
"""

from __future__ import annotations

import numpy as np
from numba import njit


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


def brownian_paths(
    n_paths: int, n_steps: int, dim: int, horizon: float, rng: np.random.Generator
) -> np.ndarray:
    """Piecewise-linear Brownian paths from 0: (n_paths, n_steps + 1, dim)."""
    paths = np.zeros((n_paths, n_steps + 1, dim))
    steps = rng.standard_normal((n_paths, n_steps, dim)) * np.sqrt(horizon / n_steps)
    np.cumsum(steps, axis=1, out=paths[:, 1:])
    return paths


def brownian_expected_signature_exact(dim: int, horizon: float, depth: int) -> np.ndarray:
    r"""Flat :math:`\exp(\tfrac T2\sum_i e_i\otimes e_i)` truncated at ``depth``: level 2m is
    :math:`(T/2)^m/m!\,(\sum_i e_i\otimes e_i)^{\otimes m}`, odd levels vanish."""
    v = (horizon / 2.0) * np.eye(dim).ravel()
    levels = []
    power = np.ones(1)
    factorial = 1.0
    for k in range(1, depth + 1):
        if k % 2:
            levels.append(np.zeros(dim**k))
        else:
            m = k // 2
            power = np.multiply.outer(power, v).ravel()
            factorial *= m
            levels.append(power / factorial)
    return np.concatenate(levels)
