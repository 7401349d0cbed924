r"""NNGP kernel recursion of the wide-network tab, with the true first-layer law.

Spec ``models/widenet.md`` §2. Layers :math:`l \ge 1`:

.. math::
    K^{l+1} = C_W\,F_\sigma(K^l) + C_b\,1[l < L \text{ or readout bias}],\qquad
    F_\sigma(q)(x,x') = \mathbb E[\sigma(u)\sigma(v)],\ (u,v)\sim\mathcal N(0,q).

* ``gaussian_formula``: :math:`K^1 = C_W\langle x,x'\rangle/n_0 + C_b` (Neal 1996; Lee et al.
  arXiv:1711.00165; Matthews et al. arXiv:1804.11271) [literature].
* ``true_law``: :math:`z^1` is a sum of only :math:`n_0+1` non-Gaussian terms, so the layer-2
  kernel is :math:`C_W\mathbb E[\sigma(z^1(x))\sigma(z^1(x'))] + C_b` under the true law
  [derived]: exact enumeration for Rademacher (:math:`2^{n_0+1}` atoms), the Gaussian formula
  for Gaussian weights, otherwise a fixed-seed Monte Carlo of :data:`FIRST_LAYER_MC` samples with
  its standard error (spec §2 "Discretisation").

The dual maps (:mod:`kernels.widenet.dual_maps`) reuse :mod:`kernels.common.dual_kernel`
(closed forms for ReLU and erf [literature: Cho–Saul 2009, Williams 1997], Gauss–Hermite for
tanh and GELU).
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import product

import numpy as np
from numba import njit
from numpy.polynomial.hermite_e import hermegauss

from kernels.common.activations import activate, activation_id, apply_activation
from kernels.common.validation import choice, integer, real
from kernels.widenet.dual_maps import layer_map
from kernels.widenet.laws import check_law, check_t_dof, draw_weight, law_id, law_moments

#: Monte Carlo samples of the true first-layer law (fixed seed, cached).
FIRST_LAYER_MC = 10**7
#: Seed of that Monte Carlo (a fixed constant: the target must not change with the user's seed).
FIRST_LAYER_SEED = 20260502
#: Activations of the tab (spec §2); the dual-kernel module knows more.
WIDENET_ACTIVATIONS = ("relu", "tanh", "erf", "gelu", "linear")
FIRST_LAYER_MODES = ("gaussian_formula", "true_law")
MAX_HIDDEN = 6


def check_inputs(x: object) -> np.ndarray:
    """Inputs as a float64 array of shape (k, n0), finite, 1 <= k <= 16, 1 <= n0 <= 64."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or not 1 <= arr.shape[0] <= 16 or not 1 <= arr.shape[1] <= 64:
        raise ValueError(
            f"X must have shape (k, n0) with 1 <= k <= 16, 1 <= n0 <= 64; got {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError("X must be finite")
    return np.ascontiguousarray(arr)


def circle_inputs(n_inputs: int, angle_deg: float) -> np.ndarray:
    r"""The tab's inputs on the circle of radius √2.

    .. math:: x_r = \sqrt2(\cos\theta_r, \sin\theta_r),\quad \theta_r = (r-1)\Delta\theta,
        \qquad \langle x_r, x_s\rangle/n_0 = \cos(\theta_r - \theta_s)

    [derived].

    Parameters
    ----------
    n_inputs : int in [1, 16]
        k.
    angle_deg : float in [0, 360]
        Δθ in degrees.

    Returns
    -------
    ndarray (k, 2)
    """
    k = integer("n_inputs", n_inputs, 1, 16)
    d = math.radians(real("input_angle", angle_deg, 0.0, 360.0))
    th = d * np.arange(k)
    return math.sqrt(2.0) * np.column_stack([np.cos(th), np.sin(th)])


# ---------------------------------------------------------------------------------------------
# true first-layer law
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _first_layer_mc(
    rng: np.random.Generator,
    x: np.ndarray,
    lid: int,
    aid: int,
    c_w: float,
    c_b: float,
    t_dof: float,
    n: int,
    cross: np.ndarray,
    cross_sq: np.ndarray,
    pow34: np.ndarray,
) -> None:
    """Sums over n samples of σ_rσ_s, (σ_rσ_s)², σ_r³, σ_r⁴ with z_r = √(C_W/n0)⟨w,x_r⟩+√C_b b."""
    k, n0 = x.shape
    scale = math.sqrt(c_w / n0)
    sb = math.sqrt(c_b)
    w = np.empty(n0)
    s = np.empty(k)
    for _ in range(n):
        for p in range(n0):
            w[p] = draw_weight(rng, lid, t_dof)
        b = draw_weight(rng, lid, t_dof) if c_b > 0.0 else 0.0
        for r in range(k):
            acc = 0.0
            for p in range(n0):
                acc += w[p] * x[r, p]
            s[r] = activate(aid, scale * acc + sb * b)
        for r in range(k):
            s2 = s[r] * s[r]
            pow34[0, r] += s2 * s[r]
            pow34[1, r] += s2 * s2
            for q in range(k):
                v = s[r] * s[q]
                cross[r, q] += v
                cross_sq[r, q] += v * v


def _gaussian_moments(activation: str, q: float) -> tuple[float, float]:
    """(E σ(√q Z)³, E σ(√q Z)⁴): closed forms for relu and linear, else 200-node Hermite."""
    if activation == "relu":
        return q**1.5 * math.sqrt(2.0 / math.pi), 1.5 * q * q
    if activation == "linear":
        return 0.0, 3.0 * q * q
    z, w = hermegauss(200)
    s = apply_activation(activation, math.sqrt(q) * z)
    w = w / w.sum()
    return float(np.sum(w * s**3)), float(np.sum(w * s**4))


@lru_cache(maxsize=64)
def _first_layer_cached(
    x_bytes: bytes,
    shape: tuple[int, int],
    law: str,
    activation: str,
    c_w: float,
    c_b: float,
    t_dof: float,
    n_mc: int,
    gh_degree: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    x = np.frombuffer(x_bytes, dtype=np.float64).reshape(shape)
    k, n0 = shape
    if law == "gaussian":
        k1 = c_w * (x @ x.T) / n0 + c_b
        cross = layer_map(activation, k1, gh_degree)
        m34 = np.array([_gaussian_moments(activation, float(k1[r, r])) for r in range(k)]).T
        return cross, m34[0], m34[1], np.zeros((k, k)), True
    if law == "rademacher":
        n_atoms = n0 + (1 if c_b > 0.0 else 0)
        atoms = np.array(list(product((-1.0, 1.0), repeat=n_atoms)))
        z = math.sqrt(c_w / n0) * atoms[:, :n0] @ x.T
        if c_b > 0.0:
            z = z + math.sqrt(c_b) * atoms[:, n0:]
        s = apply_activation(activation, z)  # (atoms, k)
        cross = s.T @ s / len(atoms)
        return cross, np.mean(s**3, axis=0), np.mean(s**4, axis=0), np.zeros((k, k)), True
    cross = np.zeros((k, k))
    cross_sq = np.zeros((k, k))
    pow34 = np.zeros((2, k))
    rng = np.random.default_rng(FIRST_LAYER_SEED)
    _first_layer_mc(
        rng,
        x,
        law_id(law),
        activation_id(activation),
        c_w,
        c_b,
        t_dof,
        n_mc,
        cross,
        cross_sq,
        pow34,
    )
    mean = cross / n_mc
    se = np.sqrt(np.maximum(cross_sq / n_mc - mean**2, 0.0) / n_mc)
    return mean, pow34[0] / n_mc, pow34[1] / n_mc, se, False


def first_layer_expectations(
    x: np.ndarray,
    *,
    weight_law: str,
    activation: str,
    c_w: float = 1.0,
    c_b: float = 0.0,
    t_dof: float = 6.0,
    n_mc: int = FIRST_LAYER_MC,
    gh_degree: int | None = None,
) -> dict[str, np.ndarray | bool]:
    r"""Moments of the first-layer features under the true (non-Gaussian) weight law.

    .. math::
        z^1(x) = \sqrt{C_W}\,w\cdot x/\sqrt{n_0} + \sqrt{C_b}\,b,\qquad
        E_{rs} = \mathbb E[\sigma(z^1(x_r))\sigma(z^1(x_s))],

    with w, b i.i.d. from ``weight_law``: exact enumeration for Rademacher
    (:math:`2^{n_0+1}` atoms), closed forms for Gaussian weights, otherwise a fixed-seed Monte
    Carlo of ``n_mc`` samples (cached) [derived].

    Parameters
    ----------
    x : array (k, n0)
        Inputs.
    weight_law : {"gaussian", "rademacher", "uniform", "centred_exp", "student_t"}
    activation : {"relu", "tanh", "erf", "gelu", "linear"}
    c_w, c_b : float in [0, 100]
        Weight and bias variances.
    t_dof : float in [4.5, 30]
        Student-t degrees of freedom.
    n_mc : int
        Monte Carlo samples (non-exact laws).
    gh_degree : int, optional
        Gauss–Hermite nodes for the Gaussian case with tanh / GELU.

    Returns
    -------
    dict
        ``cross`` (k, k) :math:`E_{rs}`; ``m3``, ``m4`` (k,) :math:`\mathbb E\sigma^3`,
        :math:`\mathbb E\sigma^4` per input; ``se`` (k, k) standard error of ``cross`` (zeros
        when exact); ``exact`` (bool).
    """
    x = check_inputs(x)
    check_law(weight_law)
    choice("activation", activation, WIDENET_ACTIVATIONS)
    c_w = real("c_w", c_w, 0.0, 100.0)
    c_b = real("c_b", c_b, 0.0, 100.0)
    t_dof = check_t_dof(t_dof) if weight_law == "student_t" else 6.0
    n_mc = integer("n_mc", n_mc, 1000, 10**9)
    cross, m3, m4, se, exact = _first_layer_cached(
        x.tobytes(), x.shape, weight_law, activation, c_w, c_b, t_dof, n_mc, gh_degree
    )
    return {
        "cross": cross.copy(),
        "m3": m3.copy(),
        "m4": m4.copy(),
        "se": se.copy(),
        "exact": exact,
    }


# ---------------------------------------------------------------------------------------------
# the recursion
# ---------------------------------------------------------------------------------------------


def nngp_kernel(
    X: np.ndarray,
    *,
    activation: str,
    n_hidden: int,
    c_w: float = 1.0,
    c_b: float = 0.0,
    readout_bias: bool = False,
    first_layer: str = "gaussian_formula",
    weight_law: str = "gaussian",
    t_dof: float = 6.0,
    gh_degree: int | None = None,
) -> np.ndarray:
    r"""Covariance :math:`K^{L+1}[X]` of the infinite-width Gaussian limit of the output.

    .. math::
        K^{l+1} = C_W\,\mathbb E_{(u,v)\sim\mathcal N(0,K^l)}[\sigma(u)\sigma(v)]
        + C_b\,1[l < L \text{ or readout bias}],

    started from :math:`K^2 = C_W\,\mathbb E[\sigma(z^1(x))\sigma(z^1(x'))] + C_b` under the true
    first-layer law (``true_law`` [derived]) or from the Gaussian formula
    :math:`K^1 = C_W\langle x,x'\rangle/n_0 + C_b` (``gaussian_formula``; Neal 1996, Lee et al.
    2018, Matthews et al. 2018 [literature]).

    Parameters
    ----------
    X : array (k, n0)
        Inputs.
    activation : {"relu", "tanh", "erf", "gelu", "linear"}
    n_hidden : int in [1, 6]
        L, the number of hidden layers.
    c_w, c_b : float
        Weight and bias variances (C_b enters every hidden layer, the readout only with
        ``readout_bias``).
    readout_bias : bool
    first_layer : {"gaussian_formula", "true_law"}
        How :math:`K^2` is computed; ``weight_law`` and ``t_dof`` are the first-layer law used
        by ``true_law``.
    weight_law : str
    t_dof : float
    gh_degree : int, optional
        Gauss–Hermite nodes for tanh / GELU (default: :mod:`kernels.common.dual_kernel`'s rule).

    Returns
    -------
    ndarray (k, k)
        :math:`K^{L+1}[X]` (symmetric).
    """
    x = check_inputs(X)
    choice("activation", activation, WIDENET_ACTIVATIONS)
    n_hidden = integer("n_hidden", n_hidden, 1, MAX_HIDDEN)
    c_w = real("c_w", c_w, 0.0, 100.0)
    c_b = real("c_b", c_b, 0.0, 100.0)
    choice("first_layer", first_layer, FIRST_LAYER_MODES)
    if gh_degree is not None:
        gh_degree = integer("gh_degree", gh_degree, 2, 256)
    n0 = x.shape[1]

    def bias(layer: int) -> float:  # bias of pre-activation z^{layer+1}
        return c_b if (layer < n_hidden or readout_bias) else 0.0

    if first_layer == "true_law":
        e1 = first_layer_expectations(
            x,
            weight_law=weight_law,
            activation=activation,
            c_w=c_w,
            c_b=c_b,
            t_dof=t_dof,
            gh_degree=gh_degree,
        )["cross"]
        k_mat = c_w * e1 + bias(1)
    else:
        k_mat = c_w * (x @ x.T) / n0 + c_b
        k_mat = c_w * layer_map(activation, k_mat, gh_degree) + bias(1)
    for layer in range(2, n_hidden + 1):
        k_mat = c_w * layer_map(activation, k_mat, gh_degree) + bias(layer)
    return 0.5 * (k_mat + k_mat.T)


def shallow_cumulants_exact(
    *,
    activation: str,
    weight_law: str,
    readout_law: str | None = None,
    c_w: float = 1.0,
    c_b: float = 0.0,
    readout_bias: bool = False,
    t_dof: float = 6.0,
    x: np.ndarray | None = None,
) -> dict[str, float]:
    r"""Exact variance, √n·skewness and n·excess kurtosis of y(x) for one hidden layer (spec §6.4).

    With :math:`X = v\sigma(z^1)` and a Gaussian readout bias of variance :math:`C_b 1_{rb}`,

    .. math::
        K = C_W\mathbb E\sigma^2 + C_b 1_{rb},\quad
        \sqrt n\,\kappa_3 = \frac{C_W^{3/2}\mathbb E v^3\,\mathbb E\sigma^3}{K^{3/2}},\quad
        n\,\kappa_4 = \frac{C_W^2(\mathbb E v^4\,\mathbb E\sigma^4 - 3(\mathbb E\sigma^2)^2)}{K^2}

    [derived].

    Parameters
    ----------
    activation : {"relu", "tanh", "erf", "gelu", "linear"}
    weight_law : str
        Law of the first layer (and of the readout unless ``readout_law`` is given).
    readout_law : str, optional
        Law of v.
    c_w, c_b : float
    readout_bias : bool
    t_dof : float
    x : array (1, n0), optional
        The input (default: the tab's first input :math:`\sqrt2(1, 0)`).

    Returns
    -------
    dict of float
        ``variance`` (K), ``skew_sqrt_n``, ``kurt_n``.
    """
    readout_law = weight_law if readout_law is None else check_law(readout_law, "readout_law")
    xx = circle_inputs(1, 0.0) if x is None else check_inputs(x)[:1]
    e = first_layer_expectations(
        xx, weight_law=weight_law, activation=activation, c_w=c_w, c_b=c_b, t_dof=t_dof
    )
    es2 = float(e["cross"][0, 0])
    es3 = float(e["m3"][0])
    es4 = float(e["m4"][0])
    mv = law_moments(readout_law, t_dof)
    k_var = c_w * es2 + (c_b if readout_bias else 0.0)
    return {
        "variance": k_var,
        "skew_sqrt_n": c_w**1.5 * mv["m3"] * es3 / k_var**1.5,
        "kurt_n": c_w**2 * (mv["m4"] * es4 - 3.0 * es2 * es2) / k_var**2,
    }


def warmup() -> None:
    """Compile (or load from the numba cache) the first-layer Monte Carlo core."""
    x = circle_inputs(2, 60.0)
    cross = np.zeros((2, 2))
    _first_layer_mc(
        np.random.default_rng(0),
        x,
        3,
        1,
        1.0,
        0.1,
        6.0,
        4,
        cross,
        np.zeros((2, 2)),
        np.zeros((2, 2)),
    )
