r"""GP posterior on a refined grid: kernels, jittered Cholesky, the linear smoother, sample keys.

For series observed at times :math:`t_1..t_L` rescaled to [0, 1], zero prior mean, kernel
:math:`k_\theta`, noise :math:`\sigma_n^2`, on the grid :math:`\tau` of :math:`G = r(L-1)+1`
points (spec §2, step 1):

.. math:: m = K_{\tau t}(K_{tt}+\sigma_n^2 I)^{-1} y = W y,\qquad
          C = K_{\tau\tau} - K_{\tau t}(K_{tt}+\sigma_n^2 I)^{-1}K_{t\tau}.

With shared hyperparameters on a shared grid, W and C do not depend on y: one factorisation per
slider change serves the whole data set (spec §8) [derived]. Samples are
:math:`X^{(j)} = m + R z^{(j)}`, :math:`RR^\top = C`, with :math:`z^{(j)}` keyed by
``(seed, series)`` and drawn sample-major, so raising M appends samples and a hyperparameter
change reuses the same z (paths deform smoothly) [derived]. numpy only (LAPACK via numpy).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.common.validation import choice, integer, real

KERNELS = ("rbf", "matern32", "matern52")
_KERNEL_CODE = {name: code for code, name in enumerate(KERNELS)}
#: Relative jitter of the first Cholesky attempt (ε = 1e-10·σ_f², ×10 until it succeeds).
JITTER0 = 1e-10
MAX_JITTER_TRIES = 11


@njit(cache=True, nogil=True)
def _kernel_matrix_core(
    s: np.ndarray,
    t: np.ndarray,
    code: int,
    length_scale: float,
    signal_var: float,
    out: np.ndarray,
) -> None:
    sqrt3 = np.sqrt(3.0)
    sqrt5 = np.sqrt(5.0)
    for a in range(s.shape[0]):
        for b in range(t.shape[0]):
            r = abs(s[a] - t[b]) / length_scale
            if code == 0:
                v = np.exp(-0.5 * r * r)
            elif code == 1:
                v = (1.0 + sqrt3 * r) * np.exp(-sqrt3 * r)
            else:
                v = (1.0 + sqrt5 * r + 5.0 * r * r / 3.0) * np.exp(-sqrt5 * r)
            out[a, b] = signal_var * v


def kernel_matrix(
    s: np.ndarray, t: np.ndarray, kernel: str, length_scale: float, signal_var: float
) -> np.ndarray:
    r"""Covariance matrix :math:`k(s_a, t_b)` (``len(s)`` × ``len(t)``).

    RBF :math:`\sigma_f^2 e^{-r^2/2}`, Matérn-3/2 :math:`\sigma_f^2(1+\sqrt3 r)e^{-\sqrt3 r}`,
    Matérn-5/2 :math:`\sigma_f^2(1+\sqrt5 r+5r^2/3)e^{-\sqrt5 r}`, :math:`r = |s-t|/\ell`.
    """
    s = np.ascontiguousarray(s, dtype=np.float64)
    t = np.ascontiguousarray(t, dtype=np.float64)
    out = np.empty((s.shape[0], t.shape[0]))
    _kernel_matrix_core(s, t, _KERNEL_CODE[kernel], float(length_scale), float(signal_var), out)
    return out


def jittered_cholesky(
    c: np.ndarray, scale: float, plain_first: bool = False
) -> tuple[np.ndarray, float, str]:
    """Lower-triangular R with R Rᵀ ≈ C: Cholesky of C + εI, ε = 1e-10·scale, ×10 until it
    works; after :data:`MAX_JITTER_TRIES` failures a symmetric eigendecomposition with negative
    eigenvalues clipped (then R is a full square root). Returns (R, jitter used, method).
    ``plain_first`` tries C itself before adding any jitter (for K + σ_n² I)."""
    c = 0.5 * (c + c.T)
    eye = np.eye(c.shape[0])
    if plain_first:
        try:
            return np.linalg.cholesky(c), 0.0, "cholesky"
        except np.linalg.LinAlgError:
            pass
    jitter = JITTER0 * scale
    for _ in range(MAX_JITTER_TRIES):
        try:
            return np.linalg.cholesky(c + jitter * eye), jitter, "cholesky"
        except np.linalg.LinAlgError:
            jitter *= 10.0
    values, vectors = np.linalg.eigh(c)
    return vectors * np.sqrt(np.clip(values, 0.0, None)), 0.0, "eigh"


def unit_grid(length: int, refine: int = 1) -> np.ndarray:
    """The refined grid τ: G = refine·(length−1)+1 equispaced points on [0, 1]."""
    return np.linspace(0.0, 1.0, refine * (length - 1) + 1)


class Posterior:
    """The data-independent part of the GP posterior on grid τ.

    Attributes: ``t`` (L,), ``grid`` (G,), ``smoother`` W (G, L), ``cov`` C (G, G),
    ``root`` R (G, G) with R Rᵀ = C (+ jitter), ``variance`` diag(C), ``jitter``, ``method``.
    """

    def __init__(
        self,
        t: np.ndarray,
        grid: np.ndarray,
        kernel: str,
        length_scale: float,
        signal_var: float,
        noise_var: float,
    ) -> None:
        self.t = t
        self.grid = grid
        k_tt = kernel_matrix(t, t, kernel, length_scale, signal_var)
        k_gt = kernel_matrix(grid, t, kernel, length_scale, signal_var)
        k_gg = kernel_matrix(grid, grid, kernel, length_scale, signal_var)
        a = k_tt + noise_var * np.eye(len(t))
        chol_a, _, method_a = jittered_cholesky(a, signal_var, plain_first=True)
        if method_a == "cholesky":
            v = np.linalg.solve(chol_a, k_gt.T)  # L_A⁻¹ K_tτ   (L, G)
            self.smoother = np.linalg.solve(chol_a.T, v).T  # K_τt A⁻¹  (G, L)
        else:  # A = R Rᵀ with R a full root: use the pseudo-inverse through R
            pinv = np.linalg.pinv(chol_a)
            v = pinv @ k_gt.T
            self.smoother = (pinv.T @ v).T
        self.cov = k_gg - v.T @ v
        self.cov = 0.5 * (self.cov + self.cov.T)
        self.root, self.jitter, self.method = jittered_cholesky(self.cov, signal_var)
        self.variance = np.clip(np.diag(self.cov), 0.0, None)

    def mean(self, y: np.ndarray) -> np.ndarray:
        """Posterior means m = W y for series ``y`` (..., L) → (..., G)."""
        return y @ self.smoother.T


def sample_normals(
    seed: int, series: np.ndarray, n_samples: int, channels: int, grid_size: int
) -> np.ndarray:
    r"""The standard normal keys :math:`z^{(j)}` of the posterior samples of some series.

    Parameters
    ----------
    seed : int
        The session's seed.
    series : numpy.ndarray
        Indices of the series in their data set, shape (S,).
    n_samples : int
        Samples M per series.
    channels : int
        Channels c.
    grid_size : int
        Points G of the posterior grid.

    Returns
    -------
    numpy.ndarray
        Shape (S, M, c, G), :math:`z \sim N(0, I)`; series i uses the stream
        ``default_rng([seed, i])`` drawn sample-major, so the first M samples are the same
        whatever larger M is asked for (raising M appends samples) and a hyperparameter change
        reuses the same z (paths deform smoothly) [derived].
    """
    out = np.empty((len(series), n_samples, channels, grid_size))
    for row, index in enumerate(series):
        rng = np.random.default_rng([int(seed), int(index)])
        out[row] = rng.standard_normal((n_samples, channels, grid_size))
    return out


def summed_log_likelihood(
    t: np.ndarray,
    y: np.ndarray,
    kernel: str,
    length_scale: float,
    signal_var: float,
    noise_var: float,
) -> float:
    """Summed log marginal likelihood of the rows of ``y`` (n, L) at times ``t`` (L,); see
    :func:`log_marginal_likelihood`. −inf when K + σ_n² I is not numerically positive."""
    a = kernel_matrix(t, t, kernel, length_scale, signal_var) + noise_var * np.eye(len(t))
    try:
        chol = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return -np.inf
    alpha = np.linalg.solve(chol, y.T)  # (L, n)
    n, length = y.shape
    logdet = 2.0 * np.sum(np.log(np.diag(chol)))
    return float(-0.5 * np.sum(alpha**2) - 0.5 * n * logdet - 0.5 * n * length * np.log(2 * np.pi))


def gp_posterior(
    length: int,
    *,
    refine: int = 1,
    kernel: str = "rbf",
    length_scale: float = 0.1,
    signal_var: float = 1.0,
    noise_var: float = 0.1,
) -> Posterior:
    r"""The data-independent GP posterior of series observed at L equispaced times on [0, 1].

    Parameters
    ----------
    length : int
        Points L of each series, 2..100000.
    refine : int
        Grid refinement r, 1..64: the posterior grid τ has G = r(L − 1) + 1 points.
    kernel : {"rbf", "matern32", "matern52"}
        Covariance function k.
    length_scale : float
        ℓ > 0 (time rescaled to [0, 1]).
    signal_var : float
        Prior variance σ_f² > 0.
    noise_var : float
        Observation-noise variance σ_n² > 0.

    Returns
    -------
    Posterior
        Smoother W (G, L), covariance C (G, G) and its jittered root R (G, G):

        .. math:: m = K_{\tau t}(K_{tt}+\sigma_n^2 I)^{-1}y = Wy,\qquad
                  C = K_{\tau\tau} - K_{\tau t}(K_{tt}+\sigma_n^2 I)^{-1}K_{t\tau},

        the GP regression posterior [literature] (Rasmussen–Williams 2006); W and C do not
        depend on y, so one factorisation serves a whole data set (spec §2.1, §8) [derived].
    """
    length = integer("length", length, 2, 100_000)
    refine = integer("refine", refine, 1, 64)
    kernel = choice("kernel", kernel, KERNELS)
    length_scale = real("length_scale", length_scale, 0.0, 100.0, lo_open=True)
    signal_var = real("signal_var", signal_var, 0.0, 1e6, lo_open=True)
    noise_var = real("noise_var", noise_var, 0.0, 1e6, lo_open=True)
    t = np.linspace(0.0, 1.0, length)
    return Posterior(t, unit_grid(length, refine), kernel, length_scale, signal_var, noise_var)


def log_marginal_likelihood(
    y: np.ndarray,
    *,
    kernel: str = "rbf",
    length_scale: float = 0.1,
    signal_var: float = 1.0,
    noise_var: float = 0.1,
) -> float:
    r"""Summed GP log marginal likelihood of a set of series.

    Parameters
    ----------
    y : numpy.ndarray
        Series of shape (n, L), observed at t = linspace(0, 1, L).
    kernel, length_scale, signal_var, noise_var
        The GP hyperparameters, as in :func:`gp_posterior`.

    Returns
    -------
    float
        .. math:: \sum_{s=1}^n -\tfrac12 y_s^\top A^{-1}y_s - \tfrac12\log|A|
                  - \tfrac L2\log 2\pi,\qquad A = K_{tt}+\sigma_n^2 I,

        or −inf if A is not numerically positive definite [literature].
    """
    y = np.asarray(y, dtype=np.float64)
    t = np.linspace(0.0, 1.0, y.shape[1])
    return summed_log_likelihood(t, y, kernel, length_scale, signal_var, noise_var)


def warmup() -> None:
    """Compile the kernel-matrix core on a tiny grid."""
    for name in KERNELS:
        kernel_matrix(np.linspace(0, 1, 3), np.linspace(0, 1, 2), name, 0.1, 1.0)
