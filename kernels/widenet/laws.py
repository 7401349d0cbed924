r"""Standardised weight laws of the wide-network tab (mean 0, variance 1) and their moments.

Spec ``models/widenet.md`` §2 ("Weight laws"). Inside numba a law is an integer id (the index in
:data:`WEIGHT_LAWS`); :func:`draw_weight` draws one variate from a ``numpy.random.Generator``
passed into the jitted code (no hidden global RNG).

=================  ==============================  ========  ==========================
law                code                            E w³      E w⁴
=================  ==============================  ========  ==========================
Gaussian           ``gaussian``                    0         3
Rademacher         ``rademacher``                  0         1
uniform            ``uniform`` on [−√3, √3]        0         1.8
Exp(1) − 1         ``centred_exp``                 2         9
Student t          ``student_t``: t(ν)√((ν−2)/ν)   0         3(ν−2)/(ν−4)
=================  ==============================  ========  ==========================

Provenance: the laws are the app's choice of examples [derived]; the moments are standard.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.common.validation import choice, real

__all__ = [
    "GAUSSIAN",
    "MAX_T_DOF",
    "MIN_T_DOF",
    "WEIGHT_LAWS",
    "check_law",
    "check_t_dof",
    "draw_weight",
    "law_id",
    "law_moments",
    "warmup",
]

#: Law names in id order; the id is the index in this tuple.
WEIGHT_LAWS: tuple[str, ...] = ("gaussian", "rademacher", "uniform", "centred_exp", "student_t")
#: Id of the Gaussian law (layers with this law may use the Gaussian-layer shortcut).
GAUSSIAN = 0
#: Student-t degrees of freedom: ν > 4 keeps E w⁴ finite (spec range [4.5, 30]).
MIN_T_DOF = 4.5
MAX_T_DOF = 30.0
_SQRT3 = math.sqrt(3.0)


def check_law(name: object, what: str = "weight_law") -> str:
    """``name`` if it is a weight law, else ``ValueError`` listing the laws."""
    return choice(what, name, WEIGHT_LAWS)


def law_id(name: str) -> int:
    """Integer id of a weight law."""
    return WEIGHT_LAWS.index(check_law(name))


def check_t_dof(t_dof: object) -> float:
    """Student-t degrees of freedom in [4.5, 30]; below 4 the fourth moment is infinite."""
    try:
        v = float(t_dof)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = math.nan
    if math.isfinite(v) and v <= 4.0:
        raise ValueError(
            f"t_dof must be > 4 so that the Student-t weights have a finite fourth moment "
            f"(needed for the kurtosis and the n^-1 rate); allowed range [{MIN_T_DOF:g}, "
            f"{MAX_T_DOF:g}]; got {t_dof!r}"
        )
    return real("t_dof", t_dof, MIN_T_DOF, MAX_T_DOF)


def law_moments(name: str, t_dof: float = 6.0) -> dict[str, float]:
    r"""Exact moments of a standardised weight law (spec §2 table).

    .. math:: \mathbb E w = 0,\quad \mathbb E w^2 = 1,\quad
        \mathbb E w^3 = 2\ (\text{centred exp}),\ 0\ \text{else},\quad
        \mathbb E w^4 = 3,\ 1,\ 1.8,\ 9,\ \tfrac{3(\nu-2)}{\nu-4}

    for Gaussian, Rademacher, uniform, centred exponential, Student t [derived: the choice of
    laws; the moments are standard].

    Parameters
    ----------
    name : {"gaussian", "rademacher", "uniform", "centred_exp", "student_t"}
    t_dof : float in [4.5, 30]
        ν, Student-t degrees of freedom (ignored by the other laws).

    Returns
    -------
    dict of float
        ``m1``, ``m2``, ``m3``, ``m4``.
    """
    check_law(name)
    m3 = 2.0 if name == "centred_exp" else 0.0
    if name == "student_t":
        nu = check_t_dof(t_dof)
        m4 = 3.0 * (nu - 2.0) / (nu - 4.0)
    else:
        m4 = {"gaussian": 3.0, "rademacher": 1.0, "uniform": 1.8, "centred_exp": 9.0}[name]
    return {"m1": 0.0, "m2": 1.0, "m3": m3, "m4": m4}


@njit(cache=True, nogil=True)
def draw_weight(rng: np.random.Generator, lid: int, t_dof: float) -> float:
    """One standardised variate of law ``lid`` (mean 0, variance 1)."""
    if lid == 0:
        return rng.standard_normal()
    if lid == 1:
        return 1.0 if rng.random() < 0.5 else -1.0
    if lid == 2:
        return _SQRT3 * (2.0 * rng.random() - 1.0)
    if lid == 3:
        return rng.standard_exponential() - 1.0
    # Student t(ν) = Z / sqrt(χ²_ν / ν), χ²_ν = 2 Γ(ν/2); times sqrt((ν-2)/ν) for variance 1
    z = rng.standard_normal()
    chi2 = 2.0 * rng.standard_gamma(0.5 * t_dof)
    return z * math.sqrt((t_dof - 2.0) / chi2)


@njit(cache=True, nogil=True)
def fill_weights(rng: np.random.Generator, lid: int, t_dof: float, out: np.ndarray) -> None:
    """Fill ``out`` (1-D) with i.i.d. standardised variates of law ``lid``."""
    for i in range(out.size):
        out[i] = draw_weight(rng, lid, t_dof)


def warmup() -> None:
    """Compile (or load from the numba cache) the jitted draws."""
    buf = np.empty(4)
    rng = np.random.default_rng(0)
    for lid in range(len(WEIGHT_LAWS)):
        fill_weights(rng, lid, 6.0, buf)
