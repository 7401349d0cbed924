r"""The NNGP dual kernel of a pointwise activation, and its moments at the diagonal.

For a pre-activation pair :math:`(U, V)` that is centred Gaussian with variances
:math:`q_1, q_2` and covariance :math:`c`, the dual kernel is

.. math:: F_s(q_1, q_2, c) = \mathbb{E}[s(U)\,s(V)].

On the sphere, with hidden weights :math:`\sigma_w B` and bias :math:`\sigma_b b`, a token
pair with overlap :math:`\rho` gives :math:`q = \sigma_w^2 + \sigma_b^2` and
:math:`c = \sigma_w^2\rho+\sigma_b^2`. The token model of Agazzi, Bruno, Mosig García,
Saviozzi, Romito (arXiv:2604.26898) sees the kernel :math:`\kappa(\rho) = F_s(q, q, c)`, with
moments :math:`\kappa_1 = \kappa(1)` and :math:`\kappa_1' = \kappa'(1)` (spec
``models/tokens.md`` §2, §6.1). The wide-network tab iterates the same map :math:`F_s` layer by
layer (spec ``models/widenet.md``).

Closed forms [literature: Cho–Saul 2009, Williams 1997], with :math:`\rho_e = c/\sqrt{q_1q_2}`:

* linear: :math:`c`;
* ReLU: :math:`\frac{\sqrt{q_1q_2}}{2\pi}\big(\sqrt{1-\rho_e^2} + (\pi-\arccos\rho_e)\rho_e\big)`;
* leaky ReLU with slope :math:`a` [derived]: :math:`s = (1-a)\,\mathrm{relu} + a\,\mathrm{id}` and
  :math:`\mathbb{E}[\mathrm{relu}(U)V] = c/2` give :math:`(1-a)^2 F_{\rm relu} + a c`;
* erf: :math:`\frac{2}{\pi}\arcsin\frac{2c}{\sqrt{(1+2q_1)(1+2q_2)}}`;
* sin: :math:`e^{-(q_1+q_2)/2}\sinh c`.

Smooth activations without a closed form (tanh, gelu, silu, sigmoid, softplus) use probabilists'
Gauss–Hermite quadrature in the conditional decomposition
:math:`U = \sqrt{q_1} Z_1`, :math:`V = \sqrt{q_2}(\rho_e Z_1 + \sqrt{1-\rho_e^2} Z_2)`,
exact at :math:`\rho_e = \pm 1` (one-dimensional rule). The number of nodes grows with the variance
(:func:`gauss_hermite_order`); measured against adaptive quadrature, the absolute error is below
1e-10 for :math:`q \le 18` (the spec's parameter box :math:`\sigma_w, \sigma_b \le 3`) and below
1e-7 up to :data:`MAX_QUADRATURE_VARIANCE` (tanh, the worst case, at the node cap). For kinked
activations (ReLU) Gauss–Hermite only converges like 1/n (max error 2e-3 with 64 nodes, 5e-4 with
256), which is why closed forms are used there.

Provenance: closed forms [literature]; leaky-ReLU form, quadrature design and error budget
[derived].
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit
from numpy.polynomial.hermite_e import hermegauss

from kernels.common.activations import (
    ACTIVATIONS,
    LEAKY_SLOPE,
    activate,
    activate_prime,
    activation_id,
    check_activation,
)
from kernels.common.validation import choice, integer, real, real_array

#: Activations whose dual kernel and moments have closed forms (exact for any variance).
CLOSED_FORM_ACTIVATIONS: frozenset[str] = frozenset({"linear", "relu", "leaky_relu", "erf", "sin"})
#: Smooth activations evaluated by Gauss–Hermite quadrature.
QUADRATURE_ACTIVATIONS: frozenset[str] = frozenset(ACTIVATIONS) - CLOSED_FORM_ACTIVATIONS
#: Largest pre-activation variance accepted for quadrature activations (error ≲ 1e-7 at the cap).
MAX_QUADRATURE_VARIANCE = 32.0
#: Node-count bounds of the Gauss–Hermite rules (the spec asks for at least 60 nodes).
MIN_GH_NODES = 64
MAX_GH_NODES = 2304
#: Node cap for :func:`kappa_table` (4001 two-dimensional quadratures must stay ~1 s).
TABLE_MAX_GH_NODES = 256
#: Default size of the θ-uniform table used by :func:`kappa_table`.
DEFAULT_TABLE_POINTS = 4001
#: Gauss–Hermite weights below this are dropped: they multiply |s|² ≲ 1e3 at |z| ≈ 10, so the
#: dropped mass is < 1e-18 while the 2-D cost falls by up to 25x for large rules.
_WEIGHT_FLOOR = 1e-22
_METHODS = ("auto", "closed", "quadrature")


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------


def _check_scales(activation: object, sigma_w: object, sigma_b: object) -> tuple[float, float]:
    """Validated (sigma_w, sigma_b) of an activation: finite, >= 0, and for quadrature
    activations a pre-activation variance within the quadrature's accuracy range."""
    check_activation(activation)
    sw = real("sigma_w", sigma_w, 0.0)
    sb = real("sigma_b", sigma_b, 0.0)
    _check_variance_for(activation, sw * sw + sb * sb, "sigma_w**2 + sigma_b**2")
    return sw, sb


def _check_variance_for(activation: str, q: float, what: str) -> None:
    if activation in QUADRATURE_ACTIVATIONS and q > MAX_QUADRATURE_VARIANCE * (1.0 + 1e-12):
        raise ValueError(
            f"{what} must be <= {MAX_QUADRATURE_VARIANCE:g} for activation {activation!r} "
            f"(Gauss–Hermite accuracy); got {q!r}"
        )


def _check_method(method: str, activation: str) -> str:
    choice("method", method, _METHODS)
    if method == "closed" and activation not in CLOSED_FORM_ACTIVATIONS:
        raise ValueError(
            f"method='closed' needs an activation in "
            f"{', '.join(sorted(CLOSED_FORM_ACTIVATIONS))}; got {activation!r}"
        )
    return method


def _check_n_nodes(n_nodes: int | None) -> int | None:
    return None if n_nodes is None else integer("n_nodes", n_nodes, 2, MAX_GH_NODES)


def _check_rho(rho: object) -> np.ndarray:
    # 1e-12 of slack absorbs round-off in callers' Gram matrices; the value is then clipped.
    return np.clip(real_array("rho", rho, -1.0 - 1e-12, 1.0 + 1e-12), -1.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Gauss–Hermite rules
# ---------------------------------------------------------------------------------------------


def gauss_hermite_order(activation: str, variance: float) -> int:
    r"""Number of Gauss–Hermite nodes used for an activation at pre-activation variance ``q``.

    The rule is :math:`n = 32\lceil q_{\rm eff}\rceil` clipped to
    [:data:`MIN_GH_NODES`, :data:`MAX_GH_NODES`], with :math:`q_{\rm eff} = 4q` for tanh (its poles
    sit at :math:`\pm i\pi/2`, half the distance of the logistic family's) and for erf (entire,
    but :math:`\operatorname{erf}(x)^2` grows like :math:`e^{2y^2}` off the real axis, so it needs
    as many nodes; only used when erf's closed form is bypassed), and :math:`q` otherwise.
    Gauss–Hermite converges like :math:`\exp(-2\tau\sqrt{2n})` for an integrand analytic in the
    strip :math:`|\operatorname{Im} z| < \tau = \pi/(2\sqrt{q_{\rm eff}})`, so :math:`n \propto q`
    keeps the error fixed; the constant 32 was calibrated against adaptive quadrature
    (absolute error < 1e-10 for :math:`q \le 18`; tanh reaches the cap at :math:`q = 18` and
    errs by up to 6e-8 at :math:`q = 32`) [derived].

    Parameters
    ----------
    activation : str
        Activation name (:data:`kernels.common.activations.ACTIVATIONS`).
    variance : float
        Largest pre-activation variance :math:`q \ge 0` in the expectation.

    Returns
    -------
    int
        Node count (a multiple of 32, so that rules are shared through the cache).
    """
    check_activation(activation)
    q = real("variance", variance, 0.0)
    q_eff = 4.0 * q if activation in ("tanh", "erf") else q
    n = 32 * max(1, math.ceil(q_eff))
    return int(min(max(n, MIN_GH_NODES), MAX_GH_NODES))


@lru_cache(maxsize=32)
def _gauss_hermite_rule(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (summing to 1) of the n-point probabilists' Gauss–Hermite rule.

    n <= 256: numpy's Newton-polished ``hermegauss``. Larger n (where ``hermegauss`` overflows):
    nodes are the eigenvalues of the Jacobi matrix (off-diagonal sqrt(k); absolute error
    ~1e-13), weights the Christoffel numbers 1/sum_k p_k(x)^2 of the orthonormal polynomials
    p_k = He_k/sqrt(k!), evaluated by their (stable) three-term recurrence. Nodes with weight
    below :data:`_WEIGHT_FLOOR` are dropped (they lie beyond |z| ≈ 10); for large rules this is
    most of them, so the 2-D cost grows like n rather than n².
    """
    if n <= 256:
        z, w = hermegauss(n)
        w = w / w.sum()
    else:
        k = np.sqrt(np.arange(1.0, n))
        z = np.linalg.eigvalsh(np.diag(k, 1) + np.diag(k, -1))
        z = 0.5 * (z - z[::-1])  # exact symmetry
        z = z[np.abs(z) < 12.0]  # weights beyond are < 1e-31
        p_prev = np.zeros_like(z)
        p = np.ones_like(z)
        total = np.ones_like(z)
        for j in range(1, n):
            p_prev, p = p, (z * p - math.sqrt(j - 1.0) * p_prev) / math.sqrt(j)
            total += p * p
        w = 1.0 / total
    keep = w > _WEIGHT_FLOOR
    z = np.ascontiguousarray(z[keep])
    w = np.ascontiguousarray(w[keep])
    z.setflags(write=False)
    w.setflags(write=False)
    return z, w


# ---------------------------------------------------------------------------------------------
# jitted quadrature cores
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _moments_gh(aid: int, sq: float, nodes: np.ndarray, weights: np.ndarray) -> tuple:
    """(E s(sq Z)^2, E s'(sq Z)^2) by the 1-D rule; same summation order as ``_kappa_gh_one``."""
    m0 = 0.0
    m1 = 0.0
    for i in range(nodes.size):
        x = sq * nodes[i]
        s = activate(aid, x)
        sp = activate_prime(aid, x)
        m0 += weights[i] * s * s
        m1 += weights[i] * sp * sp
    return m0, m1


@njit(cache=True, nogil=True)
def _kappa_gh_one(
    aid: int, s1: float, s2: float, rho_e: float, nodes: np.ndarray, weights: np.ndarray
) -> float:
    """E[s(s1 Z1) s(s2 (rho_e Z1 + sqrt(1-rho_e^2) Z2))] by the tensor Gauss–Hermite rule."""
    n = nodes.size
    total = 0.0
    if rho_e == 1.0 or rho_e == -1.0:
        # degenerate pair: V = ±(s2/s1) U exactly; one-dimensional rule
        for i in range(n):
            x = s1 * nodes[i]
            total += weights[i] * activate(aid, x) * activate(aid, rho_e * s2 * nodes[i])
        return total
    par = s2 * rho_e
    perp = s2 * math.sqrt((1.0 - rho_e) * (1.0 + rho_e))
    for i in range(n):
        su = activate(aid, s1 * nodes[i])
        if su == 0.0:
            continue
        m = par * nodes[i]
        inner = 0.0
        for k in range(n):
            inner += weights[k] * activate(aid, m + perp * nodes[k])
        total += weights[i] * su * inner
    return total


@njit(cache=True, nogil=True)
def _kappa_gh(
    aid: int,
    s1: np.ndarray,
    s2: np.ndarray,
    rho_e: np.ndarray,
    nodes: np.ndarray,
    weights: np.ndarray,
    out: np.ndarray,
) -> None:
    for j in range(out.size):
        out[j] = _kappa_gh_one(aid, s1[j], s2[j], rho_e[j], nodes, weights)


# ---------------------------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------------------------


def _relu_closed(s1s2: np.ndarray, rho_e: np.ndarray) -> np.ndarray:
    return (
        s1s2
        / (2.0 * math.pi)
        * (np.sqrt((1.0 - rho_e) * (1.0 + rho_e)) + (math.pi - np.arccos(rho_e)) * rho_e)
    )


def _closed_form(
    activation: str, q1: np.ndarray, q2: np.ndarray, c: np.ndarray, rho_e: np.ndarray
) -> np.ndarray:
    if activation == "linear":
        return c.copy()
    if activation == "relu":
        return _relu_closed(np.sqrt(q1) * np.sqrt(q2), rho_e)
    if activation == "leaky_relu":
        a = LEAKY_SLOPE
        return (1.0 - a) ** 2 * _relu_closed(np.sqrt(q1) * np.sqrt(q2), rho_e) + a * c
    if activation == "erf":
        arg = 2.0 * c / np.sqrt((1.0 + 2.0 * q1) * (1.0 + 2.0 * q2))
        return (2.0 / math.pi) * np.arcsin(np.clip(arg, -1.0, 1.0))
    if activation == "sin":
        return np.exp(-0.5 * (q1 + q2)) * np.sinh(c)
    raise AssertionError(activation)  # pragma: no cover - guarded by callers


def _dual_kernel_unchecked(
    activation: str,
    q1: np.ndarray,
    q2: np.ndarray,
    c: np.ndarray,
    rho_e: np.ndarray,
    method: str = "auto",
    n_nodes: int | None = None,
) -> np.ndarray:
    """F_s on flat, validated float64 arrays of equal length."""
    if method != "quadrature" and activation in CLOSED_FORM_ACTIVATIONS:
        return _closed_form(activation, q1, q2, c, rho_e)
    if n_nodes is None:
        qmax = float(max(np.max(q1), np.max(q2))) if q1.size else 0.0
        n_nodes = gauss_hermite_order(activation, qmax)
    nodes, weights = _gauss_hermite_rule(n_nodes)
    out = np.empty(q1.size)
    _kappa_gh(
        activation_id(activation),
        np.sqrt(q1),
        np.sqrt(q2),
        np.ascontiguousarray(rho_e),
        nodes,
        weights,
        out,
    )
    return out


def _effective_correlation(q1: np.ndarray, q2: np.ndarray, c: np.ndarray) -> np.ndarray:
    denom = np.sqrt(q1 * q2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho_e = np.where(denom > 0.0, c / np.where(denom > 0.0, denom, 1.0), 0.0)
    return np.clip(rho_e, -1.0, 1.0)


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------


def dual_kernel(
    activation: str,
    rho: np.ndarray | float,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    *,
    method: str = "auto",
    n_nodes: int | None = None,
) -> np.ndarray:
    r"""NNGP dual kernel :math:`\kappa(\rho)` of a token pair with overlap :math:`\rho`.

    .. math::
        \kappa(\rho) = \mathbb{E}[s(U)s(V)],\quad (U, V) \sim \mathcal N\!\left(0,
        \begin{pmatrix} q & c\\ c & q\end{pmatrix}\right),\quad
        q = \sigma_w^2 + \sigma_b^2,\quad c = \sigma_w^2\rho + \sigma_b^2 .

    Provenance [literature: Cho–Saul 2009, Williams 1997] for the closed forms; quadrature
    [derived]. Spec ``models/tokens.md`` §2 and §6.1; Agazzi, Bruno, Mosig García, Saviozzi,
    Romito, arXiv:2604.26898.

    Parameters
    ----------
    activation : str
        One of :data:`kernels.common.activations.ACTIVATIONS`.
    rho : array_like, any shape
        Overlaps in [-1, 1] (1e-12 of slack is clipped).
    sigma_w, sigma_b : float
        Hidden weight and bias scales, finite and >= 0; for quadrature activations
        :math:`\sigma_w^2 + \sigma_b^2 \le` :data:`MAX_QUADRATURE_VARIANCE`.
    method : {"auto", "closed", "quadrature"}
        ``auto`` uses the closed form when one exists; ``quadrature`` forces the 2-D
        Gauss–Hermite rule (a cross-check, or the ``dual_gh`` map of the wide-network tab).
    n_nodes : int, optional
        Gauss–Hermite nodes per dimension; default :func:`gauss_hermite_order`.

    Returns
    -------
    ndarray, shape of ``rho``
        :math:`\kappa(\rho)`; :math:`\kappa(1)` equals :func:`activation_moments` ``[0]``.
    """
    sw, sb = _check_scales(activation, sigma_w, sigma_b)
    q = sw * sw + sb * sb
    _check_method(method, activation)
    n_nodes = _check_n_nodes(n_nodes)
    r = _check_rho(rho)
    flat = r.ravel()
    c = sw * sw * flat + sb * sb
    # c/q is exactly 1 at rho = 1, which routes the diagonal to the 1-D rule (κ(1) = κ₁ bit-exact)
    rho_e = np.clip(c / q, -1.0, 1.0) if q > 0.0 else np.zeros_like(flat)
    qa = np.full(flat.size, q)
    out = _dual_kernel_unchecked(activation, qa, qa, c, rho_e, method, n_nodes)
    return out.reshape(r.shape)


def dual_kernel_cov(
    activation: str,
    q1: np.ndarray | float,
    q2: np.ndarray | float,
    c: np.ndarray | float,
    *,
    method: str = "auto",
    n_nodes: int | None = None,
) -> np.ndarray:
    r"""Dual map :math:`F_s(q_1, q_2, c) = \mathbb{E}[s(U)s(V)]` for a general 2x2 covariance.

    .. math::
        (U, V) \sim \mathcal N\!\left(0, \begin{pmatrix} q_1 & c\\ c & q_2\end{pmatrix}\right).

    This is the layer map of the NNGP recursion :math:`K^{l+1} = C_W F_s(K^l) + C_b`
    (spec ``models/widenet.md``); the diagonal is :math:`F_s(q, q, q) = \mathbb{E}s(\sqrt q Z)^2`.
    Provenance as :func:`dual_kernel`.

    Parameters
    ----------
    activation : str
        One of :data:`kernels.common.activations.ACTIVATIONS`.
    q1, q2, c : array_like, broadcastable
        Variances (finite, >= 0; <= :data:`MAX_QUADRATURE_VARIANCE` for quadrature
        activations) and covariance with :math:`c^2 \le q_1 q_2` (relative slack 1e-12).
    method, n_nodes
        As in :func:`dual_kernel`.

    Returns
    -------
    ndarray, broadcast shape of ``(q1, q2, c)``
    """
    check_activation(activation)
    _check_method(method, activation)
    n_nodes = _check_n_nodes(n_nodes)
    a1, a2, ac = np.broadcast_arrays(
        np.asarray(q1, dtype=np.float64),
        np.asarray(q2, dtype=np.float64),
        np.asarray(c, dtype=np.float64),
    )
    shape = a1.shape
    a1, a2, ac = (np.ascontiguousarray(a).ravel() for a in (a1, a2, ac))
    for name, arr in (("q1", a1), ("q2", a2)):
        if arr.size and (not np.all(np.isfinite(arr)) or np.min(arr) < 0.0):
            raise ValueError(f"{name} must be finite and >= 0")
        if arr.size:
            _check_variance_for(activation, float(np.max(arr)), name)
    if ac.size and not np.all(np.isfinite(ac)):
        raise ValueError("c must be finite")
    if ac.size and np.any(ac * ac > a1 * a2 * (1.0 + 1e-12) + 1e-300):
        raise ValueError("c must satisfy c**2 <= q1*q2 (a valid covariance matrix)")
    rho_e = _effective_correlation(a1, a2, ac)
    out = _dual_kernel_unchecked(activation, a1, a2, ac, rho_e, method, n_nodes)
    return out.reshape(shape)


@lru_cache(maxsize=256)
def _activation_moments_cached(activation: str, sw: float, sb: float) -> tuple[float, float]:
    q = sw * sw + sb * sb
    w2 = sw * sw
    if activation in CLOSED_FORM_ACTIVATIONS:
        one = np.ones(1)
        qa = np.full(1, q)
        kappa1 = float(_closed_form(activation, qa, qa, qa, one)[0])  # identical to κ(1)
        if activation == "linear":
            es2p = 1.0
        elif activation == "relu":
            es2p = 0.5
        elif activation == "leaky_relu":
            es2p = 0.5 * (1.0 + LEAKY_SLOPE**2)
        elif activation == "erf":
            # E[(2/√π e^{-qZ²})²] = (4/π) / √(1+4q)
            es2p = (4.0 / math.pi) / math.sqrt(1.0 + 4.0 * q)
        else:  # sin: E cos²(√q Z) = (1 + e^{-2q})/2
            es2p = 0.5 * (1.0 + math.exp(-2.0 * q))
        return kappa1, w2 * es2p
    nodes, weights = _gauss_hermite_rule(gauss_hermite_order(activation, q))
    es2, es2p = _moments_gh(activation_id(activation), math.sqrt(q), nodes, weights)
    return float(es2), float(w2 * es2p)


def activation_moments(
    activation: str, sigma_w: float = 1.0, sigma_b: float = 0.0
) -> tuple[float, float]:
    r"""Diagonal moments :math:`(\kappa_1, \kappa_1')` of the dual kernel.

    .. math::
        \kappa_1 = \kappa(1) = \mathbb{E}\,s(\sqrt q Z)^2,\qquad
        \kappa_1' = \kappa'(1) = \sigma_w^2\,\mathbb{E}\,s'(\sqrt q Z)^2,\qquad
        q = \sigma_w^2 + \sigma_b^2,

    the second by Price's theorem :math:`\partial_c \mathbb{E}[s(U)s(V)] = \mathbb{E}[s'(U)s'(V)]`.
    Closed forms for linear, ReLU, leaky ReLU, erf and sin; otherwise 1-D Gauss–Hermite with
    :func:`gauss_hermite_order` nodes (>= 64). Results are cached by
    ``(activation, sigma_w, sigma_b)``.

    Provenance [derived] (spec ``models/tokens.md`` §2, §6.1, table of E s², E s'²); Agazzi,
    Bruno, Mosig García, Saviozzi, Romito, arXiv:2604.26898.

    Parameters
    ----------
    activation : str
        One of :data:`kernels.common.activations.ACTIVATIONS`.
    sigma_w, sigma_b : float
        Hidden weight and bias scales (finite, >= 0).

    Returns
    -------
    (float, float)
        :math:`(\kappa_1, \kappa_1')`.
    """
    sw, sb = _check_scales(activation, sigma_w, sigma_b)
    return _activation_moments_cached(activation, sw, sb)


# ---------------------------------------------------------------------------------------------
# tabulated kernel for jitted simulations
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _kappa_table_cached(
    activation: str, sw: float, sb: float, n_points: int
) -> tuple[np.ndarray, np.ndarray]:
    theta = np.linspace(0.0, math.pi, n_points)
    rho_nodes = np.cos(theta)
    half = n_points // 2
    # exact antisymmetry of the nodes (and ρ = ±1, 0 hit exactly), so odd s gives κ(-1) = -κ(1)
    rho_nodes[n_points - half :] = -rho_nodes[:half][::-1]
    rho_nodes[0] = 1.0
    rho_nodes[-1] = -1.0
    if n_points % 2 == 1:
        rho_nodes[half] = 0.0
    q = sw * sw + sb * sb
    n_nodes = min(gauss_hermite_order(activation, q), TABLE_MAX_GH_NODES)
    kappa_nodes = dual_kernel(activation, rho_nodes, sw, sb, n_nodes=n_nodes)
    rho_nodes.setflags(write=False)
    kappa_nodes.setflags(write=False)
    return rho_nodes, kappa_nodes


def kappa_table(
    activation: str,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    n_points: int = DEFAULT_TABLE_POINTS,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Tabulate :math:`\kappa` on a grid uniform in :math:`\theta = \arccos\rho`, for jitted code.

    Nodes :math:`\rho_j = \cos(j\pi/(n-1))`, :math:`j = 0..n-1` (from +1 down to -1), so cells
    shrink like :math:`h_\theta^2/2` near :math:`\rho = \pm 1`, where the two-point motion lives.
    Evaluate with :func:`interp_kappa` (linear in :math:`\rho` within a cell).

    Interpolation error [derived] with :math:`h_\theta = \pi/(n-1)` (n = 4001:
    :math:`h_\theta = 7.9\times10^{-4}`): a cell has width :math:`\le h_\theta\sin\theta`, so the
    absolute error is :math:`\le h_\theta^2 \sin^2\theta\,\max|\kappa''|/8`, i.e. < 8e-8
    :math:`\max|\kappa''|` for smooth s, and < :math:`q h_\theta^2/(16\pi)` ≈ 1.3e-8 q for ReLU
    (:math:`\kappa'' = q/(2\pi\sin\theta)`). Near :math:`\rho = 1` what matters is the
    relative error of :math:`\kappa_1 - \kappa(\rho) \approx \kappa_1'(1-\rho)`: for ReLU
    (:math:`\kappa = \kappa_1 - \kappa_1' r + C r^{3/2}`) it is below :math:`C\sqrt{h_\theta^2/2}/
    \kappa_1' \approx 2\cdot10^{-4}` in the first cell and smaller further in; for smooth s it is
    :math:`O(h_\theta^2)`.

    Quadrature activations use at most :data:`TABLE_MAX_GH_NODES` nodes here (4001 2-D rules must
    stay well under a second): the table then matches :func:`dual_kernel` to < 1e-10 while
    :func:`gauss_hermite_order` asks for <= 256 nodes (tanh :math:`q \le 2`, the others
    :math:`q \le 8`) and degrades to 7e-5 for tanh at :math:`q = 18` (gelu 6e-8, silu 5e-9).
    Node 0 is :math:`\kappa(1)` of the table's own rule (equal to :func:`activation_moments`
    whenever the rule is not capped), so two-point coefficients built from the table alone vanish
    exactly at :math:`\rho = 1`.

    Parameters
    ----------
    activation : str
        One of :data:`kernels.common.activations.ACTIVATIONS`.
    sigma_w, sigma_b : float
        As in :func:`dual_kernel`.
    n_points : int
        Number of nodes, 3 <= n_points <= 200001.

    Returns
    -------
    rho_nodes, kappa_nodes : ndarray, shape (n_points,)
        Read-only, cached by ``(activation, sigma_w, sigma_b, n_points)``.
    """
    sw, sb = _check_scales(activation, sigma_w, sigma_b)
    n_points = integer("n_points", n_points, 3, 200001)
    return _kappa_table_cached(activation, sw, sb, n_points)


@njit(cache=True, nogil=True)
def interp_kappa(rho: float, rho_nodes: np.ndarray, kappa_nodes: np.ndarray) -> float:
    """Piecewise-linear (in ρ) interpolation of a :func:`kappa_table`; ρ is clamped to [-1, 1]."""
    n = rho_nodes.size
    if rho >= 1.0:
        return kappa_nodes[0]
    if rho <= -1.0:
        return kappa_nodes[n - 1]
    j = int(math.acos(rho) * ((n - 1) / math.pi))
    if j > n - 2:
        j = n - 2
    # acos rounding can land one cell off: walk to rho_nodes[j+1] <= rho <= rho_nodes[j]
    while j > 0 and rho > rho_nodes[j]:
        j -= 1
    while j < n - 2 and rho < rho_nodes[j + 1]:
        j += 1
    lo = rho_nodes[j + 1]
    w = (rho - lo) / (rho_nodes[j] - lo)
    return kappa_nodes[j + 1] + w * (kappa_nodes[j] - kappa_nodes[j + 1])


@njit(cache=True, nogil=True)
def _interp_many(
    rho: np.ndarray, rho_nodes: np.ndarray, kappa_nodes: np.ndarray, out: np.ndarray
) -> None:
    for i in range(rho.size):
        out[i] = interp_kappa(rho[i], rho_nodes, kappa_nodes)


def interpolate_kappa_table(
    rho: np.ndarray | float, rho_nodes: np.ndarray, kappa_nodes: np.ndarray
) -> np.ndarray:
    """Array wrapper of :func:`interp_kappa` (for tests and numpy callers); shape of ``rho``."""
    r = _check_rho(rho)
    nodes = np.ascontiguousarray(rho_nodes, dtype=np.float64)
    vals = np.ascontiguousarray(kappa_nodes, dtype=np.float64)
    if nodes.ndim != 1 or nodes.shape != vals.shape or nodes.size < 3:
        raise ValueError("rho_nodes and kappa_nodes must be 1-D of equal length >= 3")
    flat = np.ascontiguousarray(r.ravel())
    out = np.empty(flat.size)
    _interp_many(flat, nodes, vals, out)
    return out.reshape(r.shape)


def warmup() -> None:
    """Compile (or load from the numba cache) every jitted core on tiny inputs."""
    for name in ACTIVATIONS:
        activation_moments(name)
        dual_kernel(name, np.array([-1.0, 0.3, 1.0]))
    dual_kernel("relu", np.array([0.2]), method="quadrature", n_nodes=8)
    nodes, vals = kappa_table("relu", n_points=17)
    interpolate_kappa_table(np.array([0.5, 1.0 - 1e-9]), nodes, vals)
