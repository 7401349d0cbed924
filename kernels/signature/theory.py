r"""Closed forms of the expected-signature model: the expected signature of Brownian motion.

:math:`E\,S(B)_{0,T} = \exp(\tfrac T2\sum_i e_i\otimes e_i)` (Fawcett 2003; spec §6.9)
[literature]: the reference the teaching inset's Monte Carlo estimate converges to.
"""

from __future__ import annotations

import numpy as np

from kernels.common.validation import integer, real


def brownian_expected_signature_exact(dim: int, horizon: float, depth: int) -> np.ndarray:
    r"""Expected signature of d-dimensional Brownian motion on [0, T], truncated.

    Parameters
    ----------
    dim : int
        Dimension d of the Brownian motion, ≥ 1.
    horizon : float
        Horizon T > 0.
    depth : int
        Truncation depth N, ≥ 1.

    Returns
    -------
    numpy.ndarray
        Flat signature of shape (Σ_{k=1}^N d^k,):

        .. math:: E\,S(B)_{0,T} = \exp\Big(\tfrac T2\sum_i e_i\otimes e_i\Big),

        level 2m is :math:`(T/2)^m/m!\,(\sum_i e_i\otimes e_i)^{\otimes m}`, odd levels
        vanish (Fawcett 2003) [literature].
    """
    dim = integer("dim", dim, 1)
    horizon = real("horizon", horizon, 0.0, 1e6, lo_open=True)
    depth = integer("depth", depth, 1)
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
