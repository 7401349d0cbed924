r"""Loss landscapes of the Adaptive SGD tab and their gradient-noise covariances (spec §2.6).

Every landscape is packed into three plain arrays that the jitted cores read:

* ``code`` (int): :data:`QUADRATIC`, :data:`LINREG`, :data:`DOUBLE_WELL` or :data:`QUARTIC`;
* ``lmat`` (4, d, d): constant matrices (Hessian ``A`` or covariate covariance ``C``; and, for a
  constant noise covariance, its lower Cholesky factor :math:`L=\Sigma^{1/2}`, the factor of
  :math:`M=\mathrm{Cov}(z\circ z)` and :math:`L^{-T}`);
* ``lvec``: scalars (noise scale :math:`\sigma^2`, linreg teacher ``w`` and :math:`s_n^2`,
  double-well constants).

Landscapes [paper unless tagged]:

* ``quadratic``: :math:`f=\tfrac12\theta^\top A\theta` (any positive-definite ``A``). Gradient
  noise ``"shifted"``: the per-sample minimum is shifted by :math:`\gamma\sim N(0,I)`, so
  :math:`z=\sigma A\gamma`, :math:`\Sigma=\sigma^2AA^\top`; ``"isotropic"``:
  :math:`\Sigma=\sigma^2 I`. :math:`M=2\Sigma\circ\Sigma` (Gaussian).
* ``linreg`` [derived]: :math:`f=\tfrac12 r^\top Cr`, :math:`r=\theta-w`,
  :math:`\Sigma=\sigma^2(Crr^\top C+(r^\top Cr+s_n^2)C)`, :math:`M\approx2\Sigma\circ\Sigma`.
* ``double_well`` (1-D): :math:`f=\tfrac12(f_1+f_2)`, per-sample gradients :math:`f_1'` or
  :math:`f_2'` (after the noise-level mix α), :math:`\Sigma=\sigma^2\delta^2`,
  :math:`\delta=\tfrac12|f_1'-f_2'|`.
* ``quartic`` [derived, for the frozen-u test of spec §6.7]: :math:`f=\sum_i\theta_i^4/4+
  \theta_i^2/2`, isotropic constant noise.

All third derivatives are diagonal (``third[i]`` = :math:`\partial_{iii}f`), which is what the
batch-equivalent order-2 drift needs.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from kernels.common.validation import choice, real

QUADRATIC, LINREG, DOUBLE_WELL, QUARTIC = 0, 1, 2, 3
#: Rows of the scratch arrays ``wv`` (N_VEC, d) and ``wm`` (N_MAT, d, d) shared with the cores
#: (plain indexing: views or tuples of arrays would cost reference counting in the hot loop).
GRAD, THIRD, SIGD, DD, DP, RV, YV, HY, B0T = range(9)
HESS, SIG, CHOL, MCH, DSIG, AMAT, JA, A1 = range(8)
N_VEC, N_MAT = 9, 8
LANDSCAPES = {
    "quadratic": QUADRATIC,
    "linreg": LINREG,
    "double_well": DOUBLE_WELL,
    "quartic": QUARTIC,
}
GRADIENT_NOISES = ("shifted", "isotropic")
#: Default teacher of ``linreg`` (spec §2.6).
LINREG_C = np.array([[1.0, 0.3], [0.3, 0.5]])
LINREG_W = np.array([1.0, -1.0])
LINREG_SN = 0.4
#: Default double well: x1, x2, c_w, d_w (spec §2.6).
DOUBLE_WELL_DEFAULTS = (-1.0, 2.0, 0.1, 1.0)
#: Default Hessian of ``quadratic`` (spec §2.6).
DEFAULT_A = np.array([[1.0, 0.5], [0.5, 1.0]])


def safe_cholesky(m: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a symmetric PSD matrix (zero pivots allowed)."""
    return _chol(np.ascontiguousarray(m, dtype=np.float64))


@njit(cache=True, nogil=True)
def _chol(m: np.ndarray) -> np.ndarray:
    out = np.zeros_like(m)
    chol_into(m, out)
    return out


@njit(cache=True, nogil=True, inline="always")
def chol_into(m: np.ndarray, out: np.ndarray) -> None:
    """Lower Cholesky of a PSD ``m`` into ``out``; a non-positive pivot gives a zero column."""
    d = m.shape[0]
    for j in range(d):
        s = m[j, j]
        for k in range(j):
            s -= out[j, k] * out[j, k]
        piv = math.sqrt(s) if s > 1e-300 else 0.0
        out[j, j] = piv
        for i in range(j + 1, d):
            s2 = m[i, j]
            for k in range(j):
                s2 -= out[i, k] * out[j, k]
            out[i, j] = s2 / piv if piv > 0.0 else 0.0
        for i in range(j):
            out[i, j] = 0.0


class Landscape(NamedTuple):
    """A landscape packed for the jitted cores (see the module docstring)."""

    code: int
    lmat: np.ndarray
    lvec: np.ndarray
    d: int


def build_landscape(
    landscape: str,
    dim: int | None,
    *,
    noise_std: float,
    A: object = None,
    gradient_noise: str = "shifted",
    noise_level: float = 0.0,
    batch_size: int | None = None,
) -> Landscape:
    """Validate a landscape's arguments and pack ``(code, lmat, lvec, dim)`` for the cores.

    ``batch_size`` (double well only) switches ``M`` from the Gaussian ``2Σ²`` to the exact
    two-point value ``2δ⁴(B−1)/B³`` with ``σ² = 1/B`` (spec §2.6, §6.9).
    """
    code = LANDSCAPES[choice("landscape", landscape, tuple(LANDSCAPES))]
    sigma = real("noise_std", noise_std, 0.0, 1e6)
    choice("gradient_noise", gradient_noise, GRADIENT_NOISES)
    lvec = np.zeros(8)
    lvec[0] = sigma * sigma
    if code == QUADRATIC:
        a = DEFAULT_A if A is None else np.atleast_2d(np.asarray(A, dtype=np.float64))
        if a.ndim != 2 or a.shape[0] != a.shape[1] or not np.all(np.isfinite(a)):
            raise ValueError(f"A must be a finite square matrix; got shape {a.shape}")
        if not np.allclose(a, a.T, rtol=0, atol=1e-12 * max(1.0, np.abs(a).max())):
            raise ValueError("A must be symmetric")
        if np.linalg.eigvalsh(a).min() <= 0.0:
            raise ValueError("A must be positive definite (all eigenvalues > 0)")
        d = a.shape[0]
        sig = sigma**2 * (a @ a.T if gradient_noise == "shifted" else np.eye(d))
        lmat = _constant_noise(np.stack([a, a, a, a]), sig)
    elif code == QUARTIC:
        d = 1 if dim is None else dim
        lmat = _constant_noise(np.zeros((4, d, d)), sigma**2 * np.eye(d))
    elif code == LINREG:
        d = 2
        lmat = np.zeros((4, d, d))
        lmat[0] = LINREG_C
        lvec[1:3] = LINREG_W
        lvec[3] = LINREG_SN**2
    else:
        d = 1
        lmat = np.zeros((4, 1, 1))
        x1, x2, cw, dw = DOUBLE_WELL_DEFAULTS
        lvec[1:6] = (x1, x2, cw, dw, real("noise_level", noise_level, 0.0, 10.0))
        if batch_size is not None:
            lvec[0] = 1.0 / batch_size
            lvec[6] = (batch_size - 1.0) / batch_size  # M = 2Σ²(B−1)/B, exact two-point
        else:
            lvec[6] = 1.0
    if dim is not None and dim != d:
        raise ValueError(f"theta0 has dimension {dim} but landscape {landscape!r} has {d}")
    return Landscape(code, np.ascontiguousarray(lmat), lvec, d)


def _constant_noise(lmat: np.ndarray, sig: np.ndarray) -> np.ndarray:
    lmat = lmat.copy()
    lmat[1] = safe_cholesky(sig)
    lmat[2] = safe_cholesky(2.0 * sig * sig)
    if np.all(np.diag(lmat[1]) > 0):
        lmat[3] = np.linalg.inv(lmat[1]).T
    else:
        lmat[3] = 0.0  # no noise: the order-2 noise correction vanishes with A = DΣD
    return lmat


def constant_sigma(code: int) -> bool:
    """True where Σ does not depend on θ (then ``lmat[1:4]`` hold its factors)."""
    return code in (QUADRATIC, QUARTIC)


@njit(cache=True, nogil=True, inline="always")
def _dw_parts(x: float, lvec: np.ndarray) -> tuple:
    """Double well: f1', f1'', f1''', f2', f2'' after the α mix (f2''' = 0)."""
    x1, x2, cw, dw, al = lvec[1], lvec[2], lvec[3], lvec[4], lvec[5]
    a = x - x1 + 0.1
    b = x - x2 + 0.1
    # f1 = 2 c a^2 b^4
    p1 = 2.0 * cw * (2.0 * a * b**4 + 4.0 * a * a * b**3)
    p2 = 2.0 * cw * (2.0 * b**4 + 16.0 * a * b**3 + 12.0 * a * a * b * b)
    p3 = 2.0 * cw * (24.0 * b**3 + 72.0 * a * b * b + 24.0 * a * a * b)
    q1 = 4.0 * dw * (x - 0.1)
    q2 = 4.0 * dw
    g1 = p1 + al * (p1 - q1)
    g2 = q1 - al * (p1 - q1)
    h1 = p2 + al * (p2 - q2)
    h2 = q2 - al * (p2 - q2)
    t1 = p3 * (1.0 + al)
    t2 = -al * p3
    return g1, h1, t1, g2, h2, t2


@njit(cache=True, nogil=True)
def loss(code: int, theta: np.ndarray, lmat: np.ndarray, lvec: np.ndarray) -> float:
    """Mean loss f(θ) (quadratic: ½θᵀAθ; linreg: ½rᵀCr, without the constant s_n²/2)."""
    d = theta.shape[0]
    if code == QUADRATIC or code == LINREG:
        s = 0.0
        for i in range(d):
            ri = theta[i] - (lvec[1 + i] if code == LINREG else 0.0)
            for j in range(d):
                rj = theta[j] - (lvec[1 + j] if code == LINREG else 0.0)
                s += 0.5 * ri * lmat[0, i, j] * rj
        return s
    if code == QUARTIC:
        s = 0.0
        for i in range(d):
            s += 0.25 * theta[i] ** 4 + 0.5 * theta[i] ** 2
        return s
    x = theta[0]
    x1, x2, cw, dw = lvec[1], lvec[2], lvec[3], lvec[4]
    f1 = 2.0 * cw * (x - x1 + 0.1) ** 2 * (x - x2 + 0.1) ** 4
    f2 = 2.0 * dw * (x - 0.1) ** 2
    return 0.5 * (f1 + f2)


@njit(cache=True, nogil=True, inline="always")
def eval_linreg(
    theta: np.ndarray,
    d: int,
    lmat: np.ndarray,
    lvec: np.ndarray,
    wv: np.ndarray,
    wm: np.ndarray,
    need_m: bool,
) -> None:
    """Linear regression: ∇f = Cr, H = C, Σ(θ) and its factors (spec §2.6)."""
    s2 = lvec[0]
    cr = wv[GRAD]  # ∇f = Cr
    rcr = 0.0
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += lmat[0, i, j] * (theta[j] - lvec[1 + j])
            wm[HESS, i, j] = lmat[0, i, j]
        wv[GRAD, i] = acc
        wv[THIRD, i] = 0.0
    for i in range(d):
        rcr += (theta[i] - lvec[1 + i]) * cr[i]
    sn2 = lvec[3]
    for i in range(d):
        for j in range(d):
            wm[SIG, i, j] = s2 * (cr[i] * cr[j] + (rcr + sn2) * lmat[0, i, j])
        wv[SIGD, i] = wm[SIG, i, i]
        for j in range(d):
            # ∂_j Σ_ii = σ²(2 (Cr)_i C_ij + 2 (Cr)_j C_ii)
            wm[DSIG, i, j] = s2 * (2.0 * cr[i] * lmat[0, i, j] + 2.0 * cr[j] * lmat[0, i, i])
    chol_into(wm[SIG], wm[CHOL])
    if need_m:
        mm = wm[AMAT]  # scratch: AMAT is only used with a constant Σ
        for i in range(d):
            for j in range(d):
                mm[i, j] = 2.0 * wm[SIG, i, j] * wm[SIG, i, j]
        chol_into(mm, wm[MCH])


@njit(cache=True, nogil=True, inline="always")
def eval_double_well(
    theta: np.ndarray,
    d: int,
    lmat: np.ndarray,
    lvec: np.ndarray,
    wv: np.ndarray,
    wm: np.ndarray,
    need_m: bool,
) -> None:
    """Double well (1-D): two-point per-sample gradients (spec §2.6)."""
    s2 = lvec[0]
    g1, h1, t1, g2, h2, t2 = _dw_parts(theta[0], lvec)
    wv[GRAD, 0] = 0.5 * (g1 + g2)
    wm[HESS, 0, 0] = 0.5 * (h1 + h2)
    wv[THIRD, 0] = 0.5 * (t1 + t2)
    delta = 0.5 * abs(g1 - g2)
    sgn = 1.0 if g1 >= g2 else -1.0
    wm[SIG, 0, 0] = s2 * delta * delta
    wv[SIGD, 0] = wm[SIG, 0, 0]
    wm[CHOL, 0, 0] = math.sqrt(s2) * delta
    wm[DSIG, 0, 0] = s2 * 2.0 * delta * 0.5 * sgn * (h1 - h2)
    # M = 2Σ² (Gaussian) or 2Σ²(B−1)/B (exact two-point minibatch, spec §6.9)
    wm[MCH, 0, 0] = math.sqrt(2.0 * lvec[6]) * wm[SIG, 0, 0]


@njit(cache=True, nogil=True, inline="always")
def eval_quadratic(
    theta: np.ndarray,
    d: int,
    lmat: np.ndarray,
    lvec: np.ndarray,
    wv: np.ndarray,
    wm: np.ndarray,
    need_m: bool,
) -> None:
    """Quadratic ½θᵀAθ with constant Σ: ∇f = Aθ, H = A, ∂³f = 0; factors from ``lmat``."""
    for i in range(d):
        acc = 0.0
        for j in range(d):
            acc += lmat[0, i, j] * theta[j]
            wm[HESS, i, j] = lmat[0, i, j]
        wv[GRAD, i] = acc
        wv[THIRD, i] = 0.0
    _constant_sigma(lmat, d, wv, wm)


@njit(cache=True, nogil=True, inline="always")
def eval_quartic(
    theta: np.ndarray,
    d: int,
    lmat: np.ndarray,
    lvec: np.ndarray,
    wv: np.ndarray,
    wm: np.ndarray,
    need_m: bool,
) -> None:
    """Separable quartic Σθ⁴/4 + θ²/2 with constant Σ (spec §6.7 test landscape)."""
    for i in range(d):
        th = theta[i]
        wv[GRAD, i] = th**3 + th
        for j in range(d):
            wm[HESS, i, j] = 0.0
        wm[HESS, i, i] = 3.0 * th * th + 1.0
        wv[THIRD, i] = 6.0 * th
    _constant_sigma(lmat, d, wv, wm)


@njit(cache=True, nogil=True, inline="always")
def _constant_sigma(lmat: np.ndarray, d: int, wv: np.ndarray, wm: np.ndarray) -> None:
    for i in range(d):
        for j in range(d):
            wm[CHOL, i, j] = lmat[1, i, j]
            wm[MCH, i, j] = lmat[2, i, j]
            wm[DSIG, i, j] = 0.0
            acc = 0.0
            for k in range(d):
                acc += lmat[1, i, k] * lmat[1, j, k]
            wm[SIG, i, j] = acc
        wv[SIGD, i] = wm[SIG, i, i]


@njit(cache=True, nogil=True, inline="always")
def evaluate(
    code: int,
    theta: np.ndarray,
    d: int,
    lmat: np.ndarray,
    lvec: np.ndarray,
    wv: np.ndarray,
    wm: np.ndarray,
    need_m: bool,
) -> None:
    """Fill ∇f, H, diag ∂³f, Σ, Σ^{1/2}, M^{1/2} (if ``need_m``), Σ_d and ∇Σ_d at θ = theta[:d]
    into the rows GRAD, HESS, … of ``wv``/``wm``."""
    if code == QUADRATIC:
        eval_quadratic(theta, d, lmat, lvec, wv, wm, need_m)
    elif code == LINREG:
        eval_linreg(theta, d, lmat, lvec, wv, wm, need_m)
    elif code == DOUBLE_WELL:
        eval_double_well(theta, d, lmat, lvec, wv, wm, need_m)
    else:
        eval_quartic(theta, d, lmat, lvec, wv, wm, need_m)


def loss_values(landscape: str, theta: np.ndarray, A: object = None, **kw: Any) -> np.ndarray:
    r"""The loss :math:`f(\theta)` of a landscape at an array of states.

    Parameters
    ----------
    landscape : {"quadratic", "linreg", "double_well", "quartic"}
        Quadratic :math:`f=\tfrac12\theta^\top A\theta`; linear regression
        :math:`f=\tfrac12 r^\top Cr`, :math:`r=\theta-w`; the double well
        :math:`f=\tfrac12(f_1+f_2)`; the quartic :math:`\sum_i\theta_i^4/4+\theta_i^2/2`
        (module docstring).
    theta : (..., d) array
        States; ``d`` must be the landscape's dimension (2 for linreg, 1 for the double well).
    A : (d, d) array, optional
        Hessian of the quadratic (symmetric positive definite; default [[1, .5], [.5, 1]]).
    **kw
        Further arguments of :func:`build_landscape` (``noise_level``, ``gradient_noise``).

    Returns
    -------
    (...) array
        :math:`f` at every state of ``theta``.

    Notes
    -----
    [paper] quadratic and double well (spec §2.6); [derived] linreg and quartic.
    """
    th = np.asarray(theta, dtype=np.float64)
    code, lmat, lvec, _ = build_landscape(landscape, th.shape[-1], noise_std=0.0, A=A, **kw)
    flat = np.ascontiguousarray(th.reshape(-1, th.shape[-1]))
    return loss_many(code, flat, lmat, lvec).reshape(th.shape[:-1])


@njit(cache=True, nogil=True)
def loss_many(code: int, flat: np.ndarray, lmat: np.ndarray, lvec: np.ndarray) -> np.ndarray:
    """f at every row of ``flat`` (n, d)."""
    out = np.empty(flat.shape[0])
    for i in range(flat.shape[0]):
        out[i] = loss(code, flat[i], lmat, lvec)
    return out


def warmup() -> None:
    """Compile the landscape evaluations on tiny inputs."""
    for name in LANDSCAPES:
        code, lmat, lvec, d = build_landscape(name, None, noise_std=0.5)
        th = np.full(d, 0.3)
        evaluate(code, th, d, lmat, lvec, np.zeros((N_VEC, d)), np.zeros((N_MAT, d, d)), True)
        loss(code, th, lmat, lvec)
        loss_many(code, th[None], lmat, lvec)
    safe_cholesky(np.eye(2))
