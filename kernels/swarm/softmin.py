r"""The softmin energy of the Swarm escapes tab and its derivatives (spec ``models/swarm.md`` §2).

:math:`J_\beta=\sum_i w_i f(x_i)` with Boltzmann weights :math:`w_i\propto e^{-\beta f(x_i)}`
(or the log-sum-exp form), and the coefficients :math:`c_i=\partial J/\partial f_i` through
which the swarm descends. Validating wrappers around :func:`kernels.swarm.core.softmin_stats`;
re-exported by :mod:`kernels.swarm`.
"""

from __future__ import annotations

import numpy as np

from kernels.common.validation import choice, real
from kernels.swarm.core import softmin_stats

__all__ = ["ENERGY_FORMS", "softmin_coefficients", "softmin_energy", "softmin_weights"]

ENERGY_FORMS = ("weighted_mean", "log_sum_exp")


def _f_array(f_values: object) -> np.ndarray:
    f = np.asarray(f_values, dtype=np.float64)
    if f.ndim != 1 or f.size < 1:
        raise ValueError(f"f_values must be a non-empty 1-D array; got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("f_values must be finite")
    return np.ascontiguousarray(f)


def _stats(f_values: object, beta: float, energy_form: str) -> tuple[np.ndarray, np.ndarray, float]:
    f = _f_array(f_values)
    b = real("beta", beta, 0.0, 1e12)
    lse = choice("energy_form", energy_form, ENERGY_FORMS) == "log_sum_exp"
    w = np.empty_like(f)
    c = np.empty_like(f)
    j = softmin_stats(f, b, lse, w, c)
    return w, c, j


def softmin_weights(f_values: np.ndarray, beta: float) -> np.ndarray:
    r"""Boltzmann weights of the swarm's values (spec §2).

    .. math::

        w_i = \frac{e^{-\beta f_i}}{\sum_j e^{-\beta f_j}}
            = \frac{e^{-\beta(f_i-\min f)}}{\sum_j e^{-\beta(f_j-\min f)}},

    computed in the second form, so no overflow for any β ≥ 0. Provenance: [paper] (the
    soft-min coupling through relative values); the explicit form is [derived].

    Parameters
    ----------
    f_values : ndarray, shape (N,)
        Finite values f(x_i).
    beta : float
        Inverse temperature β ≥ 0 (β = 0: uniform weights 1/N).

    Returns
    -------
    ndarray, shape (N,)
        The weights, summing to 1.
    """
    return _stats(f_values, beta, "weighted_mean")[0]


def softmin_energy(f_values: np.ndarray, beta: float, energy_form: str = "weighted_mean") -> float:
    r"""The softmin energy of the swarm's values (spec §2–§3).

    .. math::

        J_\beta = \sum_i w_i f_i \quad\text{(weighted mean)},\qquad
        J_\beta = -\beta^{-1}\log\sum_i e^{-\beta f_i} \quad\text{(log-sum-exp)}.

    At β = 0 the log-sum-exp form is −∞; the mean is returned for display. Provenance:
    [derived] (the paper's exact J is not available; the weighted mean is the form that has
    explorers).

    Parameters
    ----------
    f_values : ndarray, shape (N,)
        Finite values f(x_i).
    beta : float
        Inverse temperature β ≥ 0.
    energy_form : {"weighted_mean", "log_sum_exp"}
        The form of J.

    Returns
    -------
    float
        J_β.
    """
    return float(_stats(f_values, beta, energy_form)[2])


def softmin_coefficients(
    f_values: np.ndarray, beta: float, energy_form: str = "weighted_mean"
) -> np.ndarray:
    r"""The coefficients :math:`c_i=\partial J/\partial f_i`, so that
    :math:`\nabla_{x_i}J = c_i\nabla f(x_i)` (spec §2).

    .. math::

        c_i = w_i\bigl(1-\beta(f_i-J_\beta)\bigr) \quad\text{(weighted mean)},\qquad
        c_i = w_i \quad\text{(log-sum-exp)}.

    A particle with :math:`f_i > J + 1/\beta` has :math:`c_i < 0`: it climbs (an explorer).
    Provenance: [derived].

    Parameters
    ----------
    f_values : ndarray, shape (N,)
        Finite values f(x_i).
    beta : float
        Inverse temperature β ≥ 0.
    energy_form : {"weighted_mean", "log_sum_exp"}
        The form of J.

    Returns
    -------
    ndarray, shape (N,)
        c_i.
    """
    return _stats(f_values, beta, energy_form)[1]
