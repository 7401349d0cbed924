r"""Dual maps of the activations: :math:`F_\sigma(q) = \mathbb E[\sigma(u)\sigma(v)]`,
:math:`(u, v)\sim\mathcal N(0, q)`, one NNGP layer of the widenet tab.

Thin wrappers of :mod:`kernels.common.dual_kernel` (shared with the tokens tab): closed forms for
ReLU (Cho–Saul 2009) and erf (Williams 1997) [literature], Gauss–Hermite for tanh and GELU.
"""

from __future__ import annotations

import numpy as np

from kernels.common.dual_kernel import dual_kernel_cov


def layer_map(activation: str, k_mat: np.ndarray, gh_degree: int | None = None) -> np.ndarray:
    """:math:`F_\\sigma(K)` entrywise for a k×k covariance (closed forms or Gauss–Hermite)."""
    k = k_mat.shape[0]
    iu = np.triu_indices(k)
    q = np.diag(k_mat)
    vals = dual_kernel_cov(
        activation,
        q[iu[0]],
        q[iu[1]],
        k_mat[iu],
        method="quadrature" if gh_degree is not None and activation in ("tanh", "gelu") else "auto",
        n_nodes=gh_degree if activation in ("tanh", "gelu") else None,
    )
    out = np.empty((k, k))
    out[iu] = vals
    out[(iu[1], iu[0])] = vals
    return out


def dual_relu(q11: float, q22: float, q12: float) -> float:
    r"""Cho–Saul arc-cosine map for ReLU [literature].

    .. math:: \mathbb E[\mathrm{relu}(u)\mathrm{relu}(v)] = \frac{\sqrt{q_{11}q_{22}}}{2\pi}
        \big(\sin\theta + (\pi - \theta)\cos\theta\big),\quad
        \cos\theta = \frac{q_{12}}{\sqrt{q_{11}q_{22}}},\ (u, v)\sim\mathcal N(0, q)

    Parameters
    ----------
    q11, q22, q12 : float
        The entries of the 2×2 covariance q.

    Returns
    -------
    float
    """
    return float(dual_kernel_cov("relu", q11, q22, q12))


def dual_erf(q11: float, q22: float, q12: float) -> float:
    r"""Williams' map for erf [literature].

    .. math:: \mathbb E[\mathrm{erf}(u)\mathrm{erf}(v)] = \frac2\pi\arcsin
        \frac{2q_{12}}{\sqrt{(1+2q_{11})(1+2q_{22})}},\quad (u, v)\sim\mathcal N(0, q)

    Parameters
    ----------
    q11, q22, q12 : float
        The entries of the 2×2 covariance q.

    Returns
    -------
    float
    """
    return float(dual_kernel_cov("erf", q11, q22, q12))


def dual_gh(activation: str, q11: float, q22: float, q12: float, degree: int = 60) -> float:
    r""":math:`\mathbb E[\sigma(u)\sigma(v)]`, :math:`(u, v)\sim\mathcal N(0, q)`, by quadrature.

    .. math:: \mathbb E[\sigma(u)\sigma(v)] \approx \sum_{a,b} w_a w_b\,
        \sigma(L_{11}t_a)\,\sigma(L_{21}t_a + L_{22}t_b),\qquad q = LL^\top,

    the 2-D probabilists' Gauss–Hermite rule with ``degree`` nodes per axis [literature].

    Parameters
    ----------
    activation : {"relu", "tanh", "erf", "gelu", "linear"}
    q11, q22, q12 : float
        The entries of the 2×2 covariance q.
    degree : int
        Nodes per axis.

    Returns
    -------
    float
    """
    return float(dual_kernel_cov(activation, q11, q22, q12, method="quadrature", n_nodes=degree))
