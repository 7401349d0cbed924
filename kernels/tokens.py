r"""Token synchronization: the discrete noisy transformer of spec ``models/tokens.md`` §2–§3.

Agazzi, Bruno, Mosig García, Saviozzi, Romito, *Stochastic scaling limits and synchronization by
noise in deep transformer models*, arXiv:2604.26898 [paper]. Only the abstract and introduction
of the paper were available; the discrete model follows the framing of the related literature
listed in the spec [literature], and the choices made here are tagged [derived].

One layer (step :math:`k`, :math:`h = T/L`) acts on :math:`N` tokens :math:`x_i\in S^{d-1}`:

.. math::

    y_i &= x_i + h\alpha \sum_j w_{ij} x_j, \qquad
        w_{ij} = \mathrm{softmax}_j(\beta\langle x_i,x_j\rangle)\ (\mathrm{SA}),\quad
        w_{ij} = e^{\beta\langle x_i,x_j\rangle}/N\ (\mathrm{USA}) \\
    z_i &= y_i + \sigma_n\sqrt{h/m}\, A_k\, s(\sigma_w B_k y_i + \sigma_b b_k) \\
    x_i^{k+1} &= z_i/|z_i|

with :math:`A_k\in\mathbb R^{d\times m}`, :math:`B_k\in\mathbb R^{m\times d}`,
:math:`b_k\in\mathbb R^m` i.i.d. :math:`N(0,1)`, drawn fresh each layer and shared by all tokens
(common noise) [literature; Shalova arXiv:2608.16664, GLPR arXiv:2312.10794]. Its limit is the
Stratonovich SDE :math:`dX_i = \alpha P_{X_i}\mathrm{Attn}\,dt + \sigma_n P_{X_i}\circ dW(t,X_i)`
[derived].

Conventions of this module
--------------------------
* Public wrappers validate, resolve the RNG and allocate; private ``@njit(cache=True,
  nogil=True)`` cores see only arrays and scalars. Inside the cores the state of one realization
  is stored as ``(d, N)`` (dimension-major) so that loops over tokens vectorize.
* Randomness comes only from the ``np.random.Generator`` passed in. The normals of the MLP
  weights are made from ``rng.random`` uniforms by a vectorized Box–Muller transform
  (:func:`standard_normals`), in chunks that fit in L2; the same seed gives bit-identical output,
  and because every (layer, realization) block has a fixed layout and an even length, the output
  does not depend on how a run is chunked (``simulate`` 4×25 steps equals 100 steps).
* Noise layout of one layer and one realization (``noise_block_size`` normals, padded to an even
  count): for each MLP sub-step (one for Lie–Trotter, two for Strang) and each noise source (one
  for common noise, one per token for independent noise) the block
  ``[B (m×d, row-major), b (m), A (d×m, row-major)]`` (fresh weights) or ``[A (d×m)]`` (fixed
  hidden weights, where B and b come from :class:`FixedWeights`).
* With ``sigma_noise == 0`` the MLP is skipped and no random numbers are drawn.
* ``splitting="strang"`` (Macaron) is MLP(h/2)·Norm, attention(h)·Norm, MLP(h/2)·Norm with two
  independent weight draws, so every sub-step maps the sphere to itself [derived choice].
* Softmax weights use a branch-free exp accurate to ~1 ulp (:func:`_fast_exp`), shifted by the
  row maximum (|x_j|^2 on the sphere), so no weight overflows for any beta.
* Long computations take ``progress(fraction) -> bool``; returning False raises
  :class:`Cancelled` at the next chunk boundary (a few ms), carrying the partial result.

Typical use (the convention the tests use for presets: one Generator per run, initial tokens
first, then the layers)::

    rng = np.random.default_rng(seed)
    x = initial_tokens("uniform", 32, 3, rng)
    traj = simulate(x, n_steps=100, dt=5e-3, sigma_noise=2.0, activation="relu", width=64,
                    attn_kind="sa", attn_strength=0.0, beta=1.0, rng=rng)
    traj2 = simulate(traj[-1], n_steps=100, ..., rng=rng)  # continues the same run exactly
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from kernels.activations import ACTIVATIONS, LEAKY_SLOPE, activate, activation_id
from kernels.dual_kernel import activation_moments
from kernels.token_theory import lyapunov_exponent

__all__ = [
    "ACTIVATIONS",
    "ATTN_KINDS",
    "ENERGY_KINDS",
    "INITS",
    "PAPER",
    "BenettinResult",
    "Cancelled",
    "FixedWeights",
    "SlopeFit",
    "StrongErrorStudy",
    "VarianceStudy",
    "activation_moments",
    "advance_with_normals",
    "benettin_lyapunov",
    "cluster_count",
    "diameter",
    "draw_fixed_weights",
    "energy",
    "fit_log_slope",
    "gram",
    "initial_tokens",
    "lyapunov_exponent",
    "mean_vector_norm",
    "noise_block_size",
    "similarity_histogram",
    "simulate",
    "simulate_ensemble",
    "standard_normals",
    "statistic_variance_study",
    "strong_error_study",
    "synchronized_pair_fraction",
    "warmup",
]

#: The paper this module implements.
PAPER = (
    "Agazzi, Bruno, Mosig García, Saviozzi, Romito, Stochastic scaling limits and "
    "synchronization by noise in deep transformer models, arXiv:2604.26898"
)
#: Attention kinds: self-attention, unnormalized self-attention, none.
ATTN_KINDS: tuple[str, ...] = ("sa", "usa", "off")
#: Initial token configurations of :func:`initial_tokens`.
INITS: tuple[str, ...] = ("uniform", "hemisphere", "cap", "pair", "equiangular")
#: Interaction energies of :func:`energy` (spec §3 (a), (b), (c)).
ENERGY_KINDS: tuple[str, ...] = ("glpr", "mean_norm", "distance")
_NOISE_SHARINGS = ("common", "independent")
_HIDDEN_WEIGHTS = ("fresh", "fixed")
_SPLITTINGS = ("lie_trotter", "strang")
_MANIFOLDS = ("sphere", "euclidean")
_ATTN_CODE = {"off": 0, "sa": 1, "usa": 2}

#: Normals per chunk buffer (256 KiB of float64: stays in L2 between drawing and use).
_CHUNK_NORMALS = 1 << 15
#: Rough work units (≈ flops) per core call: amortizes the Python/dispatch overhead (a few µs)
#: while keeping progress callbacks and cancellation responsive (a few ms of work per call).
_CHUNK_WORK = 1 << 22
#: Minimum seconds between two progress callbacks.
_PROGRESS_INTERVAL = 0.05
#: Tolerance on |x_i| = 1 for sphere inputs.
_UNIT_TOL = 1e-6

# Constants of the vectorized exp / log / sincos below (frozen into the jitted code).
_SHIFTER = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer
_SHIFTER_BITS = 4843621399236968448  # bit pattern of _SHIFTER
_INV_LN2 = 1.4426950408889634
_LN2 = 0.6931471805599453
_LN2_HI = 6.93147180369123816490e-01  # Cody–Waite split of ln 2 (fdlibm)
_LN2_LO = 1.90821492927058770002e-10
_SQRT2 = 1.4142135623730951
_HALF_PI = 1.5707963267948966
_MANTISSA_MASK = (1 << 52) - 1
_EXP_BIAS_BITS = 1023 << 52

# FMA contraction only: no reassociation, so the exact-rounding tricks below stay exact and
# results are deterministic; it lets LLVM fuse the polynomial evaluations.
_FM = {"contract"}


class Cancelled(Exception):
    """Raised when a ``progress`` callback returned False.

    ``partial`` holds what was computed before the cancellation (for :func:`simulate_ensemble`
    the recorded frames so far, shape ``(n_frames_done, R, N, d)``; ``None`` for studies) and
    ``steps_done`` the number of layers completed.
    """

    def __init__(self, message: str = "cancelled", partial: Any = None, steps_done: int = 0):
        super().__init__(message)
        self.partial = partial
        self.steps_done = steps_done


class FixedWeights(NamedTuple):
    """Hidden weights drawn once per run (``hidden_weights="fixed"``, spec §3).

    ``B``: shape ``(S, m, d)``; ``b``: shape ``(S, m)``; ``S = 1`` for common noise, ``S = N``
    (one set per token) for independent noise. For :func:`simulate_ensemble` a leading
    realization axis ``(R, S, m, d)``, ``(R, S, m)`` gives each realization its own weights.
    """

    B: np.ndarray
    b: np.ndarray


class SlopeFit(NamedTuple):
    """Least-squares fit :math:`\\log y \\approx \\text{intercept} + \\text{slope}\\, t`."""

    slope: float
    intercept: float
    t_start: float
    t_stop: float
    n_points: int


class BenettinResult(NamedTuple):
    """Mean and standard error of the two-token Lyapunov exponent over runs."""

    mean: float
    stderr: float


class StrongErrorStudy(NamedTuple):
    """Strong error :math:`E\\max_i|X^h_i(T)-X^{\\rm ref}_i(T)|` against step size."""

    h: np.ndarray
    error: np.ndarray
    stderr: np.ndarray
    slope: float
    h_ref: float


class VarianceStudy(NamedTuple):
    """Spread of a token statistic over token samples (fixed noise) and over the noise."""

    n_tokens: np.ndarray
    sd_over_tokens: np.ndarray
    sd_over_noise: np.ndarray
    slope_tokens: float
    slope_noise: float
    statistic: str


ProgressFn = Callable[[float], bool]


# ---------------------------------------------------------------------------------------------
# Vectorizable elementary functions (branch-free, so LLVM turns the loops into SIMD code)
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _fast_exp(y: float) -> float:
    """exp(y) to ~1 ulp for y in [-708, 709] (clamped outside); branch-free so loops vectorize."""
    y = min(max(y, -708.0), 709.0)
    t = y * _INV_LN2 + _SHIFTER
    kf = t - _SHIFTER
    r = (y - kf * _LN2_HI) - kf * _LN2_LO  # |r| <= ln2/2
    # degree-11 interpolant of exp at Chebyshev nodes of [-ln2/2, ln2/2] (near-minimax, computed
    # in 60-digit decimal arithmetic): relative error 1.6e-16 including the Horner round-off
    p = 2.5110037605963777e-08
    p = p * r + 2.763263963904103e-07
    p = p * r + 2.755724091857897e-06
    p = p * r + 2.4801485482328494e-05
    p = p * r + 0.00019841269890047113
    p = p * r + 0.0013888888952314775
    p = p * r + 0.008333333333319601
    p = p * r + 0.0416666666664881
    p = p * r + 0.1666666666666668
    p = p * r + 0.5000000000000019
    p = p * r + 1.0
    p = p * r + 1.0
    k = np.float64(t).view(np.int64) - _SHIFTER_BITS
    return p * np.int64((k + 1023) << 52).view(np.float64)


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _box_muller_inplace(buf: np.ndarray) -> None:
    """Turn pairs of uniforms in [0, 1) into pairs of independent N(0, 1) (in place).

    :math:`z_1 = \\sqrt{-2\\log u_1}\\cos 2\\pi u_2`,
    :math:`z_2 = \\sqrt{-2\\log u_1}\\sin 2\\pi u_2` with :math:`u_1 = 1 - U_1 \\in (0, 1]`.
    log, sin and cos are branch-free polynomial versions
    (accurate to a few ulp) so the loop vectorizes; ``buf.size`` must be even.
    """
    for i in range(buf.size // 2):
        u1 = 1.0 - buf[2 * i]
        u2 = buf[2 * i + 1]
        # log(u1): u1 = mt * 2^e with mt in [sqrt(1/2), sqrt(2))
        bits = np.float64(u1).view(np.int64)
        e = ((bits >> 52) & 0x7FF) - 1023
        mt = np.int64((bits & _MANTISSA_MASK) | _EXP_BIAS_BITS).view(np.float64)
        big = mt > _SQRT2
        mt = 0.5 * mt if big else mt
        ef = float(e + 1) if big else float(e)
        f = mt - 1.0
        s = f / (2.0 + f)
        z = s * s
        p = 1.0 / 19.0
        p = p * z + 1.0 / 17.0
        p = p * z + 1.0 / 15.0
        p = p * z + 1.0 / 13.0
        p = p * z + 1.0 / 11.0
        p = p * z + 1.0 / 9.0
        p = p * z + 1.0 / 7.0
        p = p * z + 1.0 / 5.0
        p = p * z + 1.0 / 3.0
        p = p * z + 1.0
        log_u1 = ef * _LN2 + 2.0 * s * p
        rad = math.sqrt(-2.0 * log_u1)
        # sin/cos(2 pi u2): quadrant q = round(4 u2), remainder r in [-pi/4, pi/4]
        v = 4.0 * u2
        tq = v + _SHIFTER
        qf = tq - _SHIFTER
        q = np.float64(tq).view(np.int64) - _SHIFTER_BITS
        r = (v - qf) * _HALF_PI
        r2 = r * r
        sp = -1.0 / 355687428096000.0
        sp = sp * r2 + 1.0 / 1307674368000.0
        sp = sp * r2 - 1.0 / 6227020800.0
        sp = sp * r2 + 1.0 / 39916800.0
        sp = sp * r2 - 1.0 / 362880.0
        sp = sp * r2 + 1.0 / 5040.0
        sp = sp * r2 - 1.0 / 120.0
        sp = sp * r2 + 1.0 / 6.0
        sin_r = r - r * r2 * sp
        cp = 1.0 / 6402373705728000.0
        cp = cp * r2 - 1.0 / 20922789888000.0
        cp = cp * r2 + 1.0 / 87178291200.0
        cp = cp * r2 - 1.0 / 479001600.0
        cp = cp * r2 + 1.0 / 3628800.0
        cp = cp * r2 - 1.0 / 40320.0
        cp = cp * r2 + 1.0 / 720.0
        cp = cp * r2 - 1.0 / 24.0
        cp = cp * r2 + 0.5
        cos_r = 1.0 - r2 * cp
        swap = (q & 1) != 0
        s_val = cos_r if swap else sin_r
        c_val = sin_r if swap else cos_r
        s_val = -s_val if (q & 2) != 0 else s_val
        c_val = -c_val if ((q + 1) & 2) != 0 else c_val
        buf[2 * i] = rad * c_val
        buf[2 * i + 1] = rad * s_val


def standard_normals(rng: np.random.Generator, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` (1-D, even length, float64, contiguous) with N(0,1) draws from ``rng``.

    Uniforms from ``rng.random`` go through a vectorized Box–Muller transform
    (about 4x faster than ``rng.standard_normal`` on the reference machine). Drawing ``2n``
    normals in one call or in several calls of even length gives the same numbers.
    """
    if (
        not isinstance(out, np.ndarray)
        or out.ndim != 1
        or out.dtype != np.float64
        or not out.flags.c_contiguous
        or out.size % 2
    ):
        raise ValueError("out must be a contiguous 1-D float64 array of even length")
    rng.random(out=out)
    _box_muller_inplace(out)
    return out


# ---------------------------------------------------------------------------------------------
# One layer: attention, MLP, normalization (state of one realization stored as (d, N))
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _attention(x, y, ha, beta, attn, sphere, g, e, zs, num, shift):
    """y = x + h α Σ_j w_ij x_j for every token (x, y: (d, N)); scratch g, e, zs, shift: (N,)."""
    d, n = x.shape
    if beta == 0.0:
        # every weight is 1/N for SA and USA alike: the mean-field shortcut, O(N d)
        for k in range(d):
            xk = x[k]
            acc = 0.0
            for j in range(n):
                acc += xk[j]
            acc *= ha / n
            yk = y[k]
            for j in range(n):
                yk[j] = xk[j] + acc
        return
    # Softmax shift: row j of the Gram matrix has max G_jj = |x_j|^2 on the sphere, so
    # exp(β(G_ij - |x_j|^2)) <= 1 (exact weights, no overflow). Off the sphere use the row max.
    for j in range(n):
        shift[j] = 0.0
    if attn == 1:
        if sphere:
            for k in range(d):
                xk = x[k]
                for j in range(n):
                    shift[j] += xk[j] * xk[j]
            for j in range(n):
                shift[j] *= beta
        else:
            for j in range(n):
                shift[j] = -np.inf
            for i in range(n):
                x0i = x[0, i]
                x0 = x[0]
                for j in range(n):
                    g[j] = x0i * x0[j]
                for k in range(1, d):
                    xki = x[k, i]
                    xk = x[k]
                    for j in range(n):
                        g[j] += xki * xk[j]
                for j in range(n):
                    shift[j] = max(shift[j], beta * g[j])
    for j in range(n):
        zs[j] = 0.0
    for k in range(d):
        numk = num[k]
        for j in range(n):
            numk[j] = 0.0
    # Column form: for each source token i, add w_ji x_i to every target j. The weights are
    # symmetric before normalization, so this vectorizes over j without reductions.
    if d == 3:
        x0 = x[0]
        x1 = x[1]
        x2 = x[2]
        n0 = num[0]
        n1 = num[1]
        n2 = num[2]
        for i in range(n):
            a0 = x0[i]
            a1 = x1[i]
            a2 = x2[i]
            for j in range(n):
                ej = _fast_exp(beta * (a0 * x0[j] + a1 * x1[j] + a2 * x2[j]) - shift[j])
                zs[j] += ej
                n0[j] += ej * a0
                n1[j] += ej * a1
                n2[j] += ej * a2
    elif d == 2:
        x0 = x[0]
        x1 = x[1]
        n0 = num[0]
        n1 = num[1]
        for i in range(n):
            a0 = x0[i]
            a1 = x1[i]
            for j in range(n):
                ej = _fast_exp(beta * (a0 * x0[j] + a1 * x1[j]) - shift[j])
                zs[j] += ej
                n0[j] += ej * a0
                n1[j] += ej * a1
    # generic d: passes over the tokens, four coordinates per pass
    k4 = d - d % 4
    for i in range(0 if (d == 2 or d == 3) else n):
        for j in range(n):
            g[j] = 0.0
        for k in range(0, k4, 4):
            a0 = x[k, i]
            a1 = x[k + 1, i]
            a2 = x[k + 2, i]
            a3 = x[k + 3, i]
            x0 = x[k]
            x1 = x[k + 1]
            x2 = x[k + 2]
            x3 = x[k + 3]
            for j in range(n):
                g[j] += a0 * x0[j] + a1 * x1[j] + a2 * x2[j] + a3 * x3[j]
        for k in range(k4, d):
            xki = x[k, i]
            xk = x[k]
            for j in range(n):
                g[j] += xki * xk[j]
        for j in range(n):
            ej = _fast_exp(beta * g[j] - shift[j])
            e[j] = ej
            zs[j] += ej
        for k in range(d):
            xki = x[k, i]
            numk = num[k]
            for j in range(n):
                numk[j] += e[j] * xki
    if attn == 1:
        for j in range(n):
            zs[j] = ha / zs[j]
    else:
        for j in range(n):
            zs[j] = ha / n
    for k in range(d):
        xk = x[k]
        yk = y[k]
        numk = num[k]
        for j in range(n):
            yk[j] = xk[j] + zs[j] * numk[j]


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _activate_inplace(aid, u, n):
    """u[:n] = s(u[:n]); the cheap kinked activations are inlined so the loop vectorizes."""
    if aid == 0:
        return
    if aid == 1:
        for j in range(n):
            v = u[j]
            u[j] = v if v > 0.0 else 0.0
    elif aid == 2:
        for j in range(n):
            v = u[j]
            u[j] = v if v > 0.0 else LEAKY_SLOPE * v
    else:
        for j in range(n):
            u[j] = activate(aid, u[j])


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _mlp_shared_pwl(y, z, bmat, bvec, amat, c, sw, sb, aid):
    """Fused z += c A s(σ_w B y + σ_b b) for d in {2, 3} and piecewise-linear s (linear, relu,
    leaky ReLU): s(v) = max(v, 0) + lo min(v, 0) reproduces ``activate`` exactly."""
    d, n = y.shape
    m = bvec.size
    lo = 1.0 if aid == 0 else (LEAKY_SLOPE if aid == 2 else 0.0)
    y0 = y[0]
    y1 = y[1]
    z0 = z[0]
    z1 = z[1]
    if d == 3:
        y2 = y[2]
        z2 = z[2]
        for l in range(m):
            bl = sb * bvec[l]
            b0 = sw * bmat[3 * l]
            b1 = sw * bmat[3 * l + 1]
            b2 = sw * bmat[3 * l + 2]
            a0 = c * amat[l]
            a1 = c * amat[m + l]
            a2 = c * amat[2 * m + l]
            for j in range(n):
                v = bl + b0 * y0[j] + b1 * y1[j] + b2 * y2[j]
                s = max(v, 0.0) + lo * min(v, 0.0)
                z0[j] += a0 * s
                z1[j] += a1 * s
                z2[j] += a2 * s
    else:
        for l in range(m):
            bl = sb * bvec[l]
            b0 = sw * bmat[2 * l]
            b1 = sw * bmat[2 * l + 1]
            a0 = c * amat[l]
            a1 = c * amat[m + l]
            for j in range(n):
                v = bl + b0 * y0[j] + b1 * y1[j]
                s = max(v, 0.0) + lo * min(v, 0.0)
                z0[j] += a0 * s
                z1[j] += a1 * s


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _mlp_shared(y, z, bmat, bvec, amat, c, sw, sb, aid, ubuf):
    """z = y + c A s(σ_w B y + σ_b b) for all tokens sharing (A, B, b); y, z: (d, N).

    ``bmat``: B flat (m*d, row-major (l, k)); ``bvec``: (m,); ``amat``: A flat (d*m, row-major
    (k, l)); ``ubuf``: flat scratch of size m*T for a tile of T = ubuf.size // m tokens.
    """
    d, n = y.shape
    m = bvec.size
    tile = ubuf.size // m
    for k in range(d):
        yk = y[k]
        zk = z[k]
        for j in range(n):
            zk[j] = yk[j]
    if aid <= 2 and (d == 2 or d == 3):
        _mlp_shared_pwl(y, z, bmat, bvec, amat, c, sw, sb, aid)
        return
    for j0 in range(0, n, tile):
        j1 = min(n, j0 + tile)
        nt = j1 - j0
        # pre-activations of the tile, row l = hidden unit l (slices keep the indices provably
        # in range so the token loops vectorize); then one activation pass over the tile
        for l in range(m):
            ul = ubuf[l * nt : (l + 1) * nt]
            bl = sb * bvec[l]
            if d == 3:
                b0 = sw * bmat[3 * l]
                b1 = sw * bmat[3 * l + 1]
                b2 = sw * bmat[3 * l + 2]
                y0 = y[0, j0:j1]
                y1 = y[1, j0:j1]
                y2 = y[2, j0:j1]
                for j in range(nt):
                    ul[j] = bl + b0 * y0[j] + b1 * y1[j] + b2 * y2[j]
            elif d == 2:
                b0 = sw * bmat[2 * l]
                b1 = sw * bmat[2 * l + 1]
                y0 = y[0, j0:j1]
                y1 = y[1, j0:j1]
                for j in range(nt):
                    ul[j] = bl + b0 * y0[j] + b1 * y1[j]
            else:
                for j in range(nt):
                    ul[j] = bl
                # four coordinates per pass: one load/store of u per four FMAs
                k4 = d - d % 4
                for k in range(0, k4, 4):
                    b0 = sw * bmat[l * d + k]
                    b1 = sw * bmat[l * d + k + 1]
                    b2 = sw * bmat[l * d + k + 2]
                    b3 = sw * bmat[l * d + k + 3]
                    y0 = y[k, j0:j1]
                    y1 = y[k + 1, j0:j1]
                    y2 = y[k + 2, j0:j1]
                    y3 = y[k + 3, j0:j1]
                    for j in range(nt):
                        ul[j] += b0 * y0[j] + b1 * y1[j] + b2 * y2[j] + b3 * y3[j]
                for k in range(k4, d):
                    bk = sw * bmat[l * d + k]
                    yk = y[k, j0:j1]
                    for j in range(nt):
                        ul[j] += bk * yk[j]
        _activate_inplace(aid, ubuf, m * nt)
        # accumulate A s into z
        if d == 3:
            z0 = z[0, j0:j1]
            z1 = z[1, j0:j1]
            z2 = z[2, j0:j1]
            for l in range(m):
                ul = ubuf[l * nt : (l + 1) * nt]
                a0 = c * amat[l]
                a1 = c * amat[m + l]
                a2 = c * amat[2 * m + l]
                for j in range(nt):
                    s = ul[j]
                    z0[j] += a0 * s
                    z1[j] += a1 * s
                    z2[j] += a2 * s
        elif d == 2:
            z0 = z[0, j0:j1]
            z1 = z[1, j0:j1]
            for l in range(m):
                ul = ubuf[l * nt : (l + 1) * nt]
                a0 = c * amat[l]
                a1 = c * amat[m + l]
                for j in range(nt):
                    s = ul[j]
                    z0[j] += a0 * s
                    z1[j] += a1 * s
        else:
            # four hidden units per pass: one load/store of z per four FMAs
            m4 = m - m % 4
            for k in range(d):
                zk = z[k, j0:j1]
                for l in range(0, m4, 4):
                    a0 = c * amat[k * m + l]
                    a1 = c * amat[k * m + l + 1]
                    a2 = c * amat[k * m + l + 2]
                    a3 = c * amat[k * m + l + 3]
                    u0 = ubuf[l * nt : (l + 1) * nt]
                    u1 = ubuf[(l + 1) * nt : (l + 2) * nt]
                    u2 = ubuf[(l + 2) * nt : (l + 3) * nt]
                    u3 = ubuf[(l + 3) * nt : (l + 4) * nt]
                    for j in range(nt):
                        zk[j] += a0 * u0[j] + a1 * u1[j] + a2 * u2[j] + a3 * u3[j]
                for l in range(m4, m):
                    ak = c * amat[k * m + l]
                    ul = ubuf[l * nt : (l + 1) * nt]
                    for j in range(nt):
                        zk[j] += ak * ul[j]


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _mlp_one_token(y, z, j, bmat, bvec, amat, c, sw, sb, aid, u):
    """Token j only, with its own weights (independent noise); u: scratch (m,)."""
    d = y.shape[0]
    m = bvec.size
    for l in range(m):
        acc = sb * bvec[l]
        for k in range(d):
            acc += sw * bmat[l * d + k] * y[k, j]
        u[l] = acc
    _activate_inplace(aid, u, m)
    for k in range(d):
        acc = 0.0
        for l in range(m):
            acc += amat[k * m + l] * u[l]
        z[k, j] = y[k, j] + c * acc


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _mlp(y, z, w, off, bfix, bvfix, hsub, sn, sw, sb, aid, independent, fixed, m, ubuf):
    """One MLP sub-step of size ``hsub`` reading normals w[off:], y -> z."""
    d, n = y.shape
    md = m * d
    c = sn * math.sqrt(hsub / m)
    p1 = md if fixed else md + m + md
    if not independent:
        if fixed:
            _mlp_shared(y, z, bfix[0], bvfix[0], w[off : off + md], c, sw, sb, aid, ubuf)
        else:
            _mlp_shared(
                y,
                z,
                w[off : off + md],
                w[off + md : off + md + m],
                w[off + md + m : off + p1],
                c,
                sw,
                sb,
                aid,
                ubuf,
            )
        return
    u = ubuf[:m]
    for j in range(n):
        base = off + j * p1
        if fixed:
            _mlp_one_token(y, z, j, bfix[j], bvfix[j], w[base : base + md], c, sw, sb, aid, u)
        else:
            _mlp_one_token(
                y,
                z,
                j,
                w[base : base + md],
                w[base + md : base + md + m],
                w[base + md + m : base + p1],
                c,
                sw,
                sb,
                aid,
                u,
            )


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _normalize(x, nrm):
    """x[:, j] /= |x[:, j]| for every token; nrm: scratch (N,)."""
    d, n = x.shape
    for j in range(n):
        nrm[j] = 0.0
    for k in range(d):
        xk = x[k]
        for j in range(n):
            nrm[j] += xk[j] * xk[j]
    for j in range(n):
        nrm[j] = 1.0 / math.sqrt(nrm[j])
    for k in range(d):
        xk = x[k]
        for j in range(n):
            xk[j] *= nrm[j]


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _copy(src, dst):
    d, n = src.shape
    for k in range(d):
        for j in range(n):
            dst[k, j] = src[k, j]


@njit(cache=True, nogil=True, fastmath=_FM, error_model="numpy")
def _layer(
    x,
    w,
    bfix,
    bvfix,
    aid,
    h,
    sn,
    sw,
    sb,
    attn,
    alpha,
    beta,
    independent,
    fixed,
    strang,
    sphere,
    m,
    buf,
    ubuf,
    g,
    e,
    zs,
    num,
    shift,
):
    """Advance one realization (x: (d, N), in place) by one layer; w: its normals block."""
    d, n = x.shape
    use_attn = attn != 0 and alpha != 0.0
    use_mlp = sn != 0.0
    ha = h * alpha
    if not strang:
        if use_attn:
            _attention(x, buf, ha, beta, attn, sphere, g, e, zs, num, shift)
        else:
            _copy(x, buf)
        if use_mlp:
            _mlp(buf, x, w, 0, bfix, bvfix, h, sn, sw, sb, aid, independent, fixed, m, ubuf)
        else:
            _copy(buf, x)
        if sphere:
            _normalize(x, g)
        return
    # Strang / Macaron: MLP(h/2) -> attention(h) -> MLP(h/2), each sub-block followed by Norm
    # (on the sphere) so that every sub-step maps S^{d-1} to itself.
    half = 0.5 * h
    p_half = (m * d if fixed else m * (2 * d + 1)) * (n if independent else 1)
    if use_mlp:
        _mlp(x, buf, w, 0, bfix, bvfix, half, sn, sw, sb, aid, independent, fixed, m, ubuf)
        if sphere:
            _normalize(buf, g)
    else:
        _copy(x, buf)
    if use_attn:
        _attention(buf, x, ha, beta, attn, sphere, g, e, zs, num, shift)
        if sphere:
            _normalize(x, g)
    else:
        _copy(buf, x)
    if use_mlp:
        _mlp(x, buf, w, p_half, bfix, bvfix, half, sn, sw, sb, aid, independent, fixed, m, ubuf)
        if sphere:
            _normalize(buf, g)
        _copy(buf, x)


_MLP_TILE = 64


@njit(cache=True, nogil=True, error_model="numpy")
def _advance_core(
    xs,
    r0,
    r1,
    noise,
    src,
    bfix,
    bvfix,
    fsrc,
    n_layers,
    step0,
    aid,
    h,
    sn,
    sw,
    sb,
    attn,
    alpha,
    beta,
    independent,
    fixed,
    strang,
    sphere,
    m,
    frames,
    stride,
    separation,
    logsum,
):
    """Advance realizations r0..r1-1 of ``xs`` (R, d, N) by ``n_layers`` layers.

    ``noise``: (n_layers, rows, Q) normals, realization r uses row ``src[r - r0]``;
    ``bfix``/``bvfix``: (Rf, S, m*d)/(Rf, S, m) fixed hidden weights, row ``fsrc[r]``.
    After global step ``step0 + k + 1`` divisible by ``stride`` the state is written to
    ``frames[(step0 + k + 1) // stride, r]`` as (N, d).

    Benettin mode (``separation > 0``, N = 2): after each layer ``logsum[r]`` gains
    log(new/old distance of the two tokens) and token 1 is put back at distance
    ``separation`` from token 0 along their difference (then normalized). One core for both
    uses keeps the JIT compile time down.
    """
    _, d, n = xs.shape
    buf = np.empty((d, n))
    ubuf = np.empty(m * min(n, _MLP_TILE))
    g = np.empty(n)
    e = np.empty(n)
    zs = np.empty(n)
    num = np.empty((d, n))
    shift = np.empty(n)
    for r in range(r0, r1):
        x = xs[r]
        row = src[r - r0]
        bf = bfix[fsrc[r]]
        bvf = bvfix[fsrc[r]]
        for k in range(n_layers):
            if separation > 0.0:
                logsum[r] -= 0.5 * math.log(_pair_distance_sq(x))
            _layer(
                x,
                noise[k, row],
                bf,
                bvf,
                aid,
                h,
                sn,
                sw,
                sb,
                attn,
                alpha,
                beta,
                independent,
                fixed,
                strang,
                sphere,
                m,
                buf,
                ubuf,
                g,
                e,
                zs,
                num,
                shift,
            )
            if separation > 0.0:
                _renormalize_pair(x, separation, logsum, r)
            step = step0 + k + 1
            if step % stride == 0:
                fr = frames[step // stride, r]
                for j in range(n):
                    for kk in range(d):
                        fr[j, kk] = x[kk, j]


@njit(cache=True, nogil=True, error_model="numpy")
def _pair_distance_sq(x):
    """|x_1 - x_0|^2 for a (d, 2) state."""
    acc = 0.0
    for kk in range(x.shape[0]):
        acc += (x[kk, 1] - x[kk, 0]) ** 2
    return acc


@njit(cache=True, nogil=True, error_model="numpy")
def _renormalize_pair(x, separation, logsum, r):
    """Benettin step on a (d, 2) state: log growth, then y <- normalize(x + sep (y-x)/|y-x|)."""
    d = x.shape[0]
    new = math.sqrt(_pair_distance_sq(x))
    logsum[r] += math.log(new)
    scale = separation / new
    nrm = 0.0
    for kk in range(d):
        v = x[kk, 0] + scale * (x[kk, 1] - x[kk, 0])
        x[kk, 1] = v
        nrm += v * v
    nrm = 1.0 / math.sqrt(nrm)
    for kk in range(d):
        x[kk, 1] *= nrm


# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------


def _choice(name: str, value: object, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def _real(
    name: str, value: object, lo: float = -math.inf, hi: float = math.inf, lo_open: bool = False
) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number; got {value!r}") from None
    bad = not math.isfinite(v) or v > hi or (v <= lo if lo_open else v < lo)
    if bad:
        left = "(" if lo_open else "["
        raise ValueError(f"{name} must be finite and in {left}{lo}, {hi}]; got {value!r}")
    return v


def _integer(name: str, value: object, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    v = int(value)
    if v < lo or (hi is not None and v > hi):
        rng_txt = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ValueError(f"{name} must be {rng_txt}; got {v}")
    return v


def _resolve_rng(rng: object) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool) and int(rng) >= 0:
        return np.random.default_rng(int(rng))
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    raise ValueError(
        f"rng must be a numpy.random.Generator or a non-negative integer seed; got {rng!r}"
    )


def _progress_fn(progress: ProgressFn | None) -> Callable[[float, bool], bool]:
    """Wrap a user progress callback: throttled, returns False to cancel."""
    if progress is None:
        return lambda fraction, force=False: True
    if not callable(progress):
        raise ValueError(f"progress must be a callable(fraction) -> bool or None; got {progress!r}")
    last = [-math.inf]

    def report(fraction: float, force: bool = False) -> bool:
        now = time.perf_counter()
        if not force and now - last[0] < _PROGRESS_INTERVAL:
            return True
        last[0] = now
        return progress(min(max(float(fraction), 0.0), 1.0)) is not False

    return report


class _Params(NamedTuple):
    aid: int
    h: float
    sn: float
    sw: float
    sb: float
    attn: int
    alpha: float
    beta: float
    independent: bool
    fixed: bool
    strang: bool
    sphere: bool
    m: int


def _model_params(
    *,
    dt: object,
    sigma_noise: object,
    activation: object,
    width: object,
    attn_kind: object,
    attn_strength: object,
    beta: object,
    sigma_w: object,
    sigma_b: object,
    noise_sharing: object = "common",
    hidden_weights: object = "fresh",
    splitting: object = "lie_trotter",
    manifold: object = "sphere",
) -> _Params:
    if not isinstance(activation, str):
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    return _Params(
        aid=activation_id(activation),
        h=_real("dt", dt, 0.0, 10.0, lo_open=True),
        sn=_real("sigma_noise", sigma_noise, 0.0, 1e3),
        sw=_real("sigma_w", sigma_w, 0.0, 1e3),
        sb=_real("sigma_b", sigma_b, 0.0, 1e3),
        attn=_ATTN_CODE[_choice("attn_kind", attn_kind, ATTN_KINDS)],
        alpha=_real("attn_strength", attn_strength, -1e3, 1e3),
        beta=_real("beta", beta, 0.0, 100.0),
        independent=_choice("noise_sharing", noise_sharing, _NOISE_SHARINGS) == "independent",
        fixed=_choice("hidden_weights", hidden_weights, _HIDDEN_WEIGHTS) == "fixed",
        strang=_choice("splitting", splitting, _SPLITTINGS) == "strang",
        sphere=_choice("manifold", manifold, _MANIFOLDS) == "sphere",
        m=_integer("width", width, 1, 1 << 16),
    )


def noise_block_size(
    n_tokens: int,
    dim: int,
    width: int,
    *,
    noise_sharing: str = "common",
    hidden_weights: str = "fresh",
    splitting: str = "lie_trotter",
    sigma_noise: float = 1.0,
) -> int:
    """Normals drawn per layer and realization: ``halves * S * P``, rounded up to even.

    ``P = m(2d+1)`` (fresh) or ``m d`` (fixed), ``S = 1`` (common) or ``N`` (independent),
    ``halves = 2`` for Strang; 0 when ``sigma_noise == 0``.
    """
    _choice("noise_sharing", noise_sharing, _NOISE_SHARINGS)
    _choice("hidden_weights", hidden_weights, _HIDDEN_WEIGHTS)
    _choice("splitting", splitting, _SPLITTINGS)
    if sigma_noise == 0.0:
        return 0
    p1 = width * dim if hidden_weights == "fixed" else width * (2 * dim + 1)
    s = n_tokens if noise_sharing == "independent" else 1
    halves = 2 if splitting == "strang" else 1
    q = halves * s * p1
    return q + (q & 1)


def _block_size(p: _Params, n: int, d: int) -> int:
    return noise_block_size(
        n,
        d,
        p.m,
        noise_sharing="independent" if p.independent else "common",
        hidden_weights="fixed" if p.fixed else "fresh",
        splitting="strang" if p.strang else "lie_trotter",
        sigma_noise=p.sn,
    )


def _work_per_layer(p: _Params, n: int, d: int, q: int) -> int:
    attn = 0 if (p.attn == 0 or p.alpha == 0.0) else (n * (d + 1) if p.beta == 0.0 else n * n)
    attn_work = attn * (2 * d + 20)
    mlp_work = 0 if p.sn == 0.0 else n * p.m * (2 * d + 2) * (2 if p.strang else 1)
    return attn_work + mlp_work + 4 * q + n * d + 1


def _noise_chunks(
    rng: np.random.Generator,
    n_steps: int,
    n_rows: int,
    q: int,
    work_per_row_layer: int,
    allow_row_blocks: bool = True,
):
    """Yield ``(layer0, n_layers, row0, row1, noise)`` with noise (n_layers, row1-row0, q).

    Normals are drawn layer-major, then row, so the stream does not depend on the chunking.
    """
    work_layer = max(1, work_per_row_layer * n_rows)
    if q == 0:
        per = max(1, _CHUNK_WORK // work_layer)
        empty = np.empty((per, n_rows, 0))
        for layer0 in range(0, n_steps, per):
            n_l = min(per, n_steps - layer0)
            yield layer0, n_l, 0, n_rows, empty[:n_l]
        return
    rows_q = n_rows * q
    if rows_q <= _CHUNK_NORMALS or not allow_row_blocks:
        per = max(1, min(_CHUNK_NORMALS // rows_q, _CHUNK_WORK // work_layer))
        per = min(per, max(n_steps, 1))
        buf = np.empty(per * rows_q)
        for layer0 in range(0, n_steps, per):
            n_l = min(per, n_steps - layer0)
            view = buf[: n_l * rows_q]
            standard_normals(rng, view)
            yield layer0, n_l, 0, n_rows, view.reshape(n_l, n_rows, q)
        return
    rb = max(1, _CHUNK_NORMALS // q)
    buf = np.empty(min(rb, n_rows) * q)
    for layer in range(n_steps):
        for row0 in range(0, n_rows, rb):
            row1 = min(n_rows, row0 + rb)
            view = buf[: (row1 - row0) * q]
            standard_normals(rng, view)
            yield layer, 1, row0, row1, view.reshape(1, row1 - row0, q)


def _check_tokens(name: str, x: object, ndim: int, sphere: bool) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != ndim:
        shape = "(N, d)" if ndim == 2 else "(R, N, d)"
        raise ValueError(f"{name} must have shape {shape}; got shape {arr.shape}")
    if arr.shape[-2] < 1 or arr.shape[-1] < 1 or (ndim == 3 and arr.shape[0] < 1):
        raise ValueError(f"{name} must have at least one realization, token and dimension")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    if sphere:
        dev = float(np.max(np.abs(np.linalg.norm(arr, axis=-1) - 1.0)))
        if dev > _UNIT_TOL:
            raise ValueError(
                f"{name} rows must be unit vectors for manifold='sphere' "
                f"(max ||x_i| - 1| = {dev:.3g} > {_UNIT_TOL}); normalize them or use "
                "manifold='euclidean'"
            )
    return arr


def _fixed_arrays(
    fixed_weights: object, r: int, s: int, m: int, d: int, rng: np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed weights as (Rf, S, m*d), (Rf, S, m) and the realization -> row map (R,)."""
    if fixed_weights is None:
        assert rng is not None
        big_b = rng.standard_normal((r, s, m, d))
        small_b = rng.standard_normal((r, s, m))
    else:
        if not isinstance(fixed_weights, tuple) or len(fixed_weights) != 2:
            raise ValueError("fixed_weights must be a FixedWeights(B, b) or None")
        big_b = np.asarray(fixed_weights[0], dtype=np.float64)
        small_b = np.asarray(fixed_weights[1], dtype=np.float64)
        if big_b.ndim == 3:
            big_b = big_b[None]
            small_b = small_b[None] if small_b.ndim == 2 else small_b
        ok = (
            big_b.ndim == 4
            and big_b.shape[0] in (1, r)
            and big_b.shape[1:] == (s, m, d)
            and small_b.shape == (big_b.shape[0], s, m)
        )
        if not ok:
            raise ValueError(
                f"fixed_weights must have B of shape ({s}, {m}, {d}) or ({r}, {s}, {m}, {d}) and "
                f"b of shape ({s}, {m}) or ({r}, {s}, {m}) (S = 1 for common noise, N for "
                f"independent); got B {np.shape(fixed_weights[0])}, b {np.shape(fixed_weights[1])}"
            )
        if not (np.all(np.isfinite(big_b)) and np.all(np.isfinite(small_b))):
            raise ValueError("fixed_weights must be finite")
    rf = big_b.shape[0]
    fsrc = np.arange(r, dtype=np.int64) if rf == r else np.zeros(r, dtype=np.int64)
    return (
        np.ascontiguousarray(big_b.reshape(rf, s, m * d)),
        np.ascontiguousarray(small_b),
        fsrc,
    )


_NO_FIXED = (np.zeros((1, 1, 1)), np.zeros((1, 1, 1)))
_NO_LOGSUM = np.zeros(1)


def _run(
    xs: np.ndarray,
    p: _Params,
    n_steps: int,
    stride: int,
    rng: np.random.Generator,
    frames: np.ndarray,
    fixed: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    report: Callable[[float, bool], bool],
    n_rows: int | None = None,
    src: np.ndarray | None = None,
) -> None:
    """Drive ``_advance_core`` over noise chunks; xs (R, d, N) is advanced in place."""
    r, d, n = xs.shape
    q = _block_size(p, n, d)
    if fixed is None:
        bfix, bvfix = _NO_FIXED
        fsrc = np.zeros(r, dtype=np.int64)
    else:
        bfix, bvfix, fsrc = fixed
    shared = src is not None
    rows = n_rows if shared else r
    work = _work_per_layer(p, n, d, q) * (r // rows if shared else 1)
    ident = np.arange(r, dtype=np.int64)
    for layer0, n_l, row0, row1, noise in _noise_chunks(
        rng, n_steps, rows, q, work, allow_row_blocks=not shared
    ):
        if shared:
            rr0, rr1, src_rows = 0, r, src
        else:
            rr0, rr1, src_rows = row0, row1, ident
        _advance_core(
            xs,
            rr0,
            rr1,
            noise,
            src_rows,
            bfix,
            bvfix,
            fsrc,
            n_l,
            layer0,
            p.aid,
            p.h,
            p.sn,
            p.sw,
            p.sb,
            p.attn,
            p.alpha,
            p.beta,
            p.independent,
            p.fixed,
            p.strang,
            p.sphere,
            p.m,
            frames,
            stride,
            0.0,
            _NO_LOGSUM,
        )
        done = (layer0 + n_l * row1 / rows) / max(n_steps, 1)
        if not report(done, False):
            steps_done = layer0 + n_l if row1 == rows else layer0
            raise Cancelled(
                f"cancelled after {steps_done} of {n_steps} layers",
                partial=frames[: steps_done // stride + 1].copy(),
                steps_done=steps_done,
            )
    report(1.0, True)


# ---------------------------------------------------------------------------------------------
# Public simulation entry points
# ---------------------------------------------------------------------------------------------


def draw_fixed_weights(
    n_tokens: int,
    dim: int,
    width: int,
    rng: np.random.Generator | int,
    noise_sharing: str = "common",
) -> FixedWeights:
    """Draw the hidden weights of ``hidden_weights="fixed"`` once (spec §3).

    Parameters
    ----------
    n_tokens, dim, width : int
        :math:`N`, :math:`d`, :math:`m`.
    rng : numpy.random.Generator or int
        Source of randomness (B is drawn first, then b, with ``rng.standard_normal``).
    noise_sharing : {"common", "independent"}
        One set shared by all tokens (``S = 1``) or one per token (``S = N``).

    Returns
    -------
    FixedWeights
        ``B`` of shape ``(S, m, d)`` and ``b`` of shape ``(S, m)``, i.i.d. N(0, 1).

    Notes
    -----
    With B, b fixed and A fresh the noise field is :math:`W = M_t s(\\sigma_w Bx+\\sigma_b b)/
    \\sqrt m` with :math:`M` a :math:`d\\times m` Brownian matrix [derived].
    """
    n = _integer("n_tokens", n_tokens, 1)
    d = _integer("dim", dim, 1)
    m = _integer("width", width, 1, 1 << 16)
    s = n if _choice("noise_sharing", noise_sharing, _NOISE_SHARINGS) == "independent" else 1
    gen = _resolve_rng(rng)
    return FixedWeights(B=gen.standard_normal((s, m, d)), b=gen.standard_normal((s, m)))


def simulate_ensemble(
    x0s: np.ndarray,
    *,
    n_steps: int,
    dt: float,
    sigma_noise: float,
    activation: str,
    width: int,
    attn_kind: str,
    attn_strength: float,
    beta: float,
    rng: np.random.Generator | int,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    noise_sharing: str = "common",
    hidden_weights: str = "fresh",
    stride: int = 1,
    splitting: str = "lie_trotter",
    manifold: str = "sphere",
    fixed_weights: FixedWeights | None = None,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    r"""Run R independent realizations of the discrete transformer (spec §2–§3).

    Each realization has its own noise (its own MLP weights every layer); all share the jitted
    core of :func:`simulate`, which is this function with ``R = 1``.

    .. math::

        y_i = x_i + h\alpha\sum_j w_{ij}x_j,\quad
        z_i = y_i + \sigma_n\sqrt{h/m}\,A_k s(\sigma_w B_k y_i + \sigma_b b_k),\quad
        x_i^{k+1} = z_i/|z_i|

    Parameters
    ----------
    x0s : ndarray, shape (R, N, d)
        Initial tokens (unit vectors for ``manifold="sphere"``).
    n_steps : int
        Number of layers :math:`L`; the horizon is ``n_steps * dt``.
    dt : float
        Layer step :math:`h > 0`.
    sigma_noise, sigma_w, sigma_b : float
        :math:`\sigma_n \ge 0` (0 skips the MLP and draws nothing), :math:`\sigma_w, \sigma_b
        \ge 0`.
    activation : str
        One of :data:`kernels.activations.ACTIVATIONS`.
    width : int
        MLP width :math:`m \ge 1`.
    attn_kind : {"sa", "usa", "off"}
        Softmax or unnormalized self-attention, or none.
    attn_strength : float
        :math:`\alpha` (negative: repulsive).
    beta : float
        Inverse temperature :math:`\beta \ge 0`.
    rng : numpy.random.Generator or int
        The only source of randomness.
    noise_sharing : {"common", "independent"}
        Weights shared by all tokens (default) or drawn per token.
    hidden_weights : {"fresh", "fixed"}
        Fresh B, b every layer, or fixed per realization (A stays fresh).
    stride : int
        Record every ``stride``-th layer.
    splitting : {"lie_trotter", "strang"}
        Attention then MLP then Norm, or MLP(h/2)·Norm, attention(h)·Norm, MLP(h/2)·Norm.
    manifold : {"sphere", "euclidean"}
        With or without the Norm step (euclidean: exploratory, spec §3).
    fixed_weights : FixedWeights, optional
        For ``hidden_weights="fixed"``: B (S, m, d) shared by all realizations or (R, S, m, d),
        b likewise. None draws them from ``rng`` (B then b, before any layer).
    progress : callable, optional
        ``progress(done_fraction) -> bool``, called at most every 50 ms and once at the end
        with 1.0. Returning False cancels: the run stops at the next chunk boundary and
        :class:`Cancelled` is raised, carrying the frames recorded so far in ``partial``.

    Returns
    -------
    ndarray, shape (n_steps // stride + 1, R, N, d)
        Frame 0 is ``x0s``; frame f is the state after layer ``f * stride``.

    Notes
    -----
    Provenance: discrete model [literature] (spec §2), common-noise limit SDE [derived].
    Paper: arXiv:2604.26898. Bit-identical for the same seed; chunked calls continuing from the
    last frame with the same Generator (and, for fixed weights, the same ``fixed_weights``)
    reproduce one long call exactly.
    """
    p = _model_params(
        dt=dt,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
        noise_sharing=noise_sharing,
        hidden_weights=hidden_weights,
        splitting=splitting,
        manifold=manifold,
    )
    x = _check_tokens("x0s", x0s, 3, p.sphere)
    steps = _integer("n_steps", n_steps, 0)
    stride_ = _integer("stride", stride, 1)
    gen = _resolve_rng(rng)
    report = _progress_fn(progress)
    r, n, d = x.shape
    if fixed_weights is not None and not p.fixed:
        raise ValueError("fixed_weights is only used with hidden_weights='fixed'")
    fixed = None
    if p.fixed:
        fixed = _fixed_arrays(fixed_weights, r, n if p.independent else 1, p.m, d, gen)
    frames = np.empty((steps // stride_ + 1, r, n, d))
    frames[0] = x
    xs = np.swapaxes(x, 1, 2).copy()  # a copy: the caller's array is never modified
    _run(xs, p, steps, stride_, gen, frames, fixed, report)
    return frames


def simulate(
    x0: np.ndarray,
    *,
    n_steps: int,
    dt: float,
    sigma_noise: float,
    activation: str,
    width: int,
    attn_kind: str,
    attn_strength: float,
    beta: float,
    rng: np.random.Generator | int,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    noise_sharing: str = "common",
    hidden_weights: str = "fresh",
    stride: int = 1,
    splitting: str = "lie_trotter",
    manifold: str = "sphere",
    fixed_weights: FixedWeights | None = None,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    r"""Token trajectory of one realization of the discrete transformer (spec §2).

    Parameters are those of :func:`simulate_ensemble`, with ``x0`` of shape ``(N, d)`` and
    ``fixed_weights`` from :func:`draw_fixed_weights` (B (S, m, d), b (S, m)).

    .. math::

        x_i^{k+1} = \frac{z_i}{|z_i|},\quad
        z_i = y_i + \sigma_n\sqrt{h/m}\,A_k s(\sigma_w B_k y_i + \sigma_b b_k),\quad
        y_i = x_i + h\alpha\sum_j w_{ij}x_j

    Returns
    -------
    ndarray, shape (n_steps // stride + 1, N, d)
        Frame 0 is ``x0``; the last frame is the final state when ``stride`` divides
        ``n_steps``. Calling again from the last frame with the same Generator continues the
        same run bit for bit (pass the same ``fixed_weights`` for fixed hidden weights).

    Notes
    -----
    [literature] model, [derived] limit; arXiv:2604.26898.
    """
    x = np.asarray(x0, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x0 must have shape (N, d); got shape {x.shape}")
    if fixed_weights is not None and np.ndim(fixed_weights[0]) != 3:
        raise ValueError(
            "fixed_weights.B must have shape (S, m, d) for simulate; "
            f"got {np.shape(fixed_weights[0])}"
        )
    out = simulate_ensemble(
        x[None],
        n_steps=n_steps,
        dt=dt,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        rng=rng,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
        noise_sharing=noise_sharing,
        hidden_weights=hidden_weights,
        stride=stride,
        splitting=splitting,
        manifold=manifold,
        fixed_weights=fixed_weights,
        progress=progress,
    )
    return out[:, 0]


def advance_with_normals(
    x0s: np.ndarray,
    normals: np.ndarray,
    *,
    dt: float,
    sigma_noise: float,
    activation: str,
    width: int,
    attn_kind: str,
    attn_strength: float,
    beta: float,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    noise_sharing: str = "common",
    hidden_weights: str = "fresh",
    splitting: str = "lie_trotter",
    manifold: str = "sphere",
    fixed_weights: FixedWeights | None = None,
) -> np.ndarray:
    r"""Advance R realizations through pre-drawn normals; the core behind every simulation.

    Parameters
    ----------
    x0s : ndarray, shape (R, N, d)
    normals : ndarray, shape (L, R, Q)
        Layer ``k`` of realization ``r`` uses ``normals[k, r]``, laid out as in the module
        docstring; ``Q = noise_block_size(N, d, width, ...)``. :func:`simulate_ensemble` draws
        exactly these blocks from its Generator (:func:`standard_normals`, layer-major).
    fixed_weights : FixedWeights
        Required for ``hidden_weights="fixed"``: B (S, m, d) or (R, S, m, d), b likewise.
    Other parameters as in :func:`simulate_ensemble`.

    Returns
    -------
    ndarray, shape (R, N, d)
        The state after the L layers.

    Notes
    -----
    Used for strong convergence (coarse increments summed from fine ones, spec §6.9), for
    oracles and for symmetry tests. [literature] model; arXiv:2604.26898.
    """
    p = _model_params(
        dt=dt,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
        noise_sharing=noise_sharing,
        hidden_weights=hidden_weights,
        splitting=splitting,
        manifold=manifold,
    )
    x = _check_tokens("x0s", x0s, 3, p.sphere)
    r, n, d = x.shape
    q = _block_size(p, n, d)
    nz = np.asarray(normals, dtype=np.float64)
    if nz.ndim != 3 or nz.shape[1:] != (r, q):
        raise ValueError(
            f"normals must have shape (L, {r}, {q}) = (layers, realizations, noise_block_size); "
            f"got {nz.shape}"
        )
    if p.fixed:
        if fixed_weights is None:
            raise ValueError("hidden_weights='fixed' needs fixed_weights (no rng here)")
        fixed = _fixed_arrays(fixed_weights, r, n if p.independent else 1, p.m, d, None)
    else:
        if fixed_weights is not None:
            raise ValueError("fixed_weights is only used with hidden_weights='fixed'")
        fixed = (*_NO_FIXED, np.zeros(r, dtype=np.int64))
    xs = np.swapaxes(x, 1, 2).copy()  # a copy: the caller's array is never modified
    frames = np.empty((2, r, n, d))
    frames[-1] = x
    if nz.shape[0] > 0:
        _advance_with_noise(xs, np.ascontiguousarray(nz), p, fixed, frames)
    return frames[-1]


# ---------------------------------------------------------------------------------------------
# Initial conditions
# ---------------------------------------------------------------------------------------------


def _unit_rows(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _cap_angles(gen: np.random.Generator, n: int, d: int, cap: float) -> np.ndarray:
    """Polar angles θ in [0, cap] with density ∝ sin^{d-2} θ (uniform on the cap)."""
    out = np.empty(n)
    filled = 0
    s_max = math.sin(min(cap, math.pi / 2))
    while filled < n:
        k = max(16, 2 * (n - filled))
        theta = gen.uniform(0.0, cap, k)
        ok = gen.random(k) * s_max ** (d - 2) <= np.sin(theta) ** (d - 2)
        take = theta[ok][: n - filled]
        out[filled : filled + take.size] = take
        filled += take.size
    return out


def initial_tokens(
    init: str,
    n_tokens: int,
    dim: int,
    rng: np.random.Generator | int,
    rho0: float = 0.9999,
    cap_angle: float = 0.3,
) -> np.ndarray:
    r"""Initial tokens on :math:`S^{d-1}`, shape ``(N, d)``.

    Parameters
    ----------
    init : {"uniform", "hemisphere", "cap", "pair", "equiangular"}
        * uniform: i.i.d. uniform on the sphere;
        * hemisphere: uniform on :math:`\{x_0 \ge 0\}` (GLPR's collapsing start);
        * cap: uniform on :math:`\{\angle(x, e_0) \le \text{cap\_angle}\}` (for d = 2 the
          angles are uniform in ±cap_angle, spec §6.8);
        * pair: tokens 0 and 1 with :math:`\langle x_0,x_1\rangle=\rho_0`, randomly oriented;
          the others (N > 2) uniform;
        * equiangular: :math:`x_i = \sqrt{\rho_0}e_0+\sqrt{1-\rho_0}e_{i+1}` (spec §6.7), needs
          :math:`d \ge N+1` and :math:`0 \le \rho_0 \le 1`; deterministic.
    n_tokens, dim : int
        :math:`N \ge 1` (``pair`` needs 2), :math:`d \ge 2`.
    rng : numpy.random.Generator or int
    rho0 : float
        Initial overlap in [-1, 1] (pair, equiangular).
    cap_angle : float
        Cap half-angle in (0, π].
    """
    kind = _choice("init", init, INITS)
    n = _integer("n_tokens", n_tokens, 1)
    d = _integer("dim", dim, 2)
    rho = _real("rho0", rho0, -1.0, 1.0)
    cap = _real("cap_angle", cap_angle, 0.0, math.pi, lo_open=True)
    gen = _resolve_rng(rng)
    if kind == "uniform":
        return _unit_rows(gen.standard_normal((n, d)))
    if kind == "hemisphere":
        x = _unit_rows(gen.standard_normal((n, d)))
        x[:, 0] = np.abs(x[:, 0])
        return x
    if kind == "cap":
        theta = _cap_angles(gen, n, d, cap)
        if d == 2:
            theta = theta * np.where(gen.random(n) < 0.5, -1.0, 1.0)
            return np.stack([np.cos(theta), np.sin(theta)], axis=1)
        v = _unit_rows(gen.standard_normal((n, d - 1)))
        return np.concatenate([np.cos(theta)[:, None], np.sin(theta)[:, None] * v], axis=1)
    if kind == "pair":
        if n < 2:
            raise ValueError(f"init='pair' needs n_tokens >= 2; got {n}")
        x = _unit_rows(gen.standard_normal((n, d)))
        v = gen.standard_normal(d)
        v -= (v @ x[0]) * x[0]
        v /= np.linalg.norm(v)
        x[1] = rho * x[0] + math.sqrt(max(0.0, 1.0 - rho * rho)) * v
        x[1] /= np.linalg.norm(x[1])
        return x
    # equiangular
    if d < n + 1:
        raise ValueError(
            f"init='equiangular' needs dim >= n_tokens + 1 (x_i = sqrt(rho0) e_0 + "
            f"sqrt(1 - rho0) e_i); got dim={d}, n_tokens={n}"
        )
    if rho < 0.0:
        raise ValueError(f"init='equiangular' needs rho0 in [0, 1]; got {rho}")
    x = np.zeros((n, d))
    x[:, 0] = math.sqrt(rho)
    x[np.arange(n), np.arange(1, n + 1)] = math.sqrt(1.0 - rho)
    return x


# ---------------------------------------------------------------------------------------------
# Diagnostics (vectorized over leading axes)
# ---------------------------------------------------------------------------------------------


def _frames_view(x: object, name: str = "x") -> tuple[np.ndarray, tuple[int, ...]]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim < 2:
        raise ValueError(f"{name} must have shape (..., N, d); got shape {arr.shape}")
    lead = arr.shape[:-2]
    return np.ascontiguousarray(arr.reshape((-1, *arr.shape[-2:]))), lead


@njit(cache=True, nogil=True, error_model="numpy")
def _pair_stats_core(x, kind, beta, q, out):
    """Per frame: 0 diameter, 1 glpr energy, 2 mean-norm energy, 3 distance energy.

    Uses D_ij = |x_i - x_j|^2 and G_ij - 1 = ((|x_i|^2-1) + (|x_j|^2-1) - D_ij)/2, which are
    exact to round-off even when tokens nearly coincide (unlike 1 - <x_i, x_j>).
    """
    nf, n, d = x.shape
    nm = np.empty(n)
    for f in range(nf):
        xf = x[f]
        for i in range(n):
            acc = 0.0
            for k in range(d):
                acc += xf[i, k] * xf[i, k]
            nm[i] = acc - 1.0
        best = 0.0
        total = 0.0
        for i in range(n):
            for j in range(i + 1, n):
                dd = 0.0
                for k in range(d):
                    t = xf[i, k] - xf[j, k]
                    dd += t * t
                if kind == 0:
                    best = max(best, dd)
                elif kind == 1:
                    gm1 = 0.5 * (nm[i] + nm[j] - dd)
                    if beta == 0.0:
                        total += -0.5 * gm1
                    else:
                        total += -math.expm1(beta * gm1) * math.exp(beta) / (2.0 * beta)
                elif kind == 2:
                    total += -0.5 * (nm[i] + nm[j] - dd)
                else:
                    total += dd ** (0.5 * q)
        if kind == 0:
            out[f] = math.sqrt(best)
        else:
            # off-diagonal pairs counted twice; diagonal terms (|x_i|^2 - 1 ~ 0) added for (a), (b)
            total *= 2.0
            for i in range(n):
                if kind == 1:
                    if beta == 0.0:
                        total += -0.5 * nm[i]
                    else:
                        total += -math.expm1(beta * nm[i]) * math.exp(beta) / (2.0 * beta)
                elif kind == 2:
                    total += -nm[i]
            out[f] = total / (n * n)


def diameter(x: np.ndarray) -> np.ndarray:
    """Largest pairwise distance :math:`\\max_{i<j}|x_i-x_j|`; x (..., N, d) -> (...)."""
    xf, lead = _frames_view(x)
    out = np.empty(xf.shape[0])
    _pair_stats_core(xf, 0, 0.0, 0.0, out)
    return out.reshape(lead) if lead else out[0]


def mean_vector_norm(x: np.ndarray) -> np.ndarray:
    """:math:`|\\bar x| = |N^{-1}\\sum_i x_i|`; x (..., N, d) -> (...)."""
    arr = np.asarray(x, dtype=np.float64)
    return np.linalg.norm(arr.mean(axis=-2), axis=-1)


def gram(x: np.ndarray) -> np.ndarray:
    """Gram matrix :math:`\\langle x_i,x_j\\rangle`; x (..., N, d) -> (..., N, N)."""
    arr = np.asarray(x, dtype=np.float64)
    return arr @ np.swapaxes(arr, -1, -2)


@njit(cache=True, nogil=True, error_model="numpy")
def _cluster_core(x, threshold, out_clusters, out_frac):
    nf, n, d = x.shape
    parent = np.empty(n, dtype=np.int64)
    for f in range(nf):
        xf = x[f]
        for i in range(n):
            parent[i] = i
        close = 0
        for i in range(n):
            for j in range(i + 1, n):
                gij = 0.0
                for k in range(d):
                    gij += xf[i, k] * xf[j, k]
                if gij > threshold[1]:
                    close += 1
                if gij > threshold[0]:
                    a = i
                    while parent[a] != a:
                        parent[a] = parent[parent[a]]
                        a = parent[a]
                    b = j
                    while parent[b] != b:
                        parent[b] = parent[parent[b]]
                        b = parent[b]
                    if a != b:
                        parent[max(a, b)] = min(a, b)
        roots = 0
        for i in range(n):
            if parent[i] == i:
                roots += 1
        out_clusters[f] = roots
        out_frac[f] = close / (n * (n - 1) / 2) if n > 1 else 1.0


def cluster_count(x: np.ndarray, threshold: float = 0.9999) -> np.ndarray:
    """Number of connected groups of the graph :math:`\\langle x_i,x_j\\rangle > `threshold.

    x (..., N, d) -> int (...). Antipodal clusters count separately.
    """
    thr = _real("threshold", threshold, -1.0, 1.0)
    xf, lead = _frames_view(x)
    nc = np.empty(xf.shape[0], dtype=np.int64)
    fr = np.empty(xf.shape[0])
    _cluster_core(xf, np.array([thr, 2.0]), nc, fr)
    return nc.reshape(lead) if lead else nc[0]


def synchronized_pair_fraction(x: np.ndarray, threshold: float = 0.999) -> np.ndarray:
    """Fraction of pairs i<j with :math:`\\langle x_i,x_j\\rangle >` threshold (GLPR statistic).

    x (..., N, d) -> (...); 1.0 when N = 1.
    """
    thr = _real("threshold", threshold, -1.0, 1.0)
    xf, lead = _frames_view(x)
    nc = np.empty(xf.shape[0], dtype=np.int64)
    fr = np.empty(xf.shape[0])
    _cluster_core(xf, np.array([2.0, thr]), nc, fr)
    return fr.reshape(lead) if lead else fr[0]


@njit(cache=True, nogil=True, error_model="numpy")
def _hist_core(x, bins, absolute, out):
    nf, n, d = x.shape
    lo = 0.0 if absolute else -1.0
    scale = bins / (1.0 - lo)
    npairs = n * (n - 1) // 2
    for f in range(nf):
        xf = x[f]
        for b in range(bins):
            out[f, b] = 0.0
        for i in range(n):
            for j in range(i + 1, n):
                gij = 0.0
                for k in range(d):
                    gij += xf[i, k] * xf[j, k]
                if absolute:
                    gij = abs(gij)
                b = int((gij - lo) * scale)
                b = min(max(b, 0), bins - 1)
                out[f, b] += 1.0
        if npairs > 0:
            for b in range(bins):
                out[f, b] /= npairs


def similarity_histogram(traj: np.ndarray, bins: int = 40, absolute: bool = False) -> np.ndarray:
    r"""Histogram of the off-diagonal similarities :math:`\langle x_i,x_j\rangle` per frame.

    Parameters
    ----------
    traj : ndarray, shape (n_frames, N, d) or (N, d)
    bins : int
        Equal bins on [-1, 1] (or [0, 1] for ``absolute``); values outside are clipped to the
        end bins. Edges: ``np.linspace(-1 or 0, 1, bins + 1)``.
    absolute : bool
        Histogram :math:`|\langle x_i,x_j\rangle|` (odd activations pile up at ±1).

    Returns
    -------
    ndarray, shape (n_frames, bins)
        Fraction of the :math:`N(N-1)/2` pairs in each bin (rows sum to 1; zeros if N = 1).
    """
    nb = _integer("bins", bins, 1)
    arr = np.asarray(traj, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"traj must have shape (n_frames, N, d); got shape {arr.shape}")
    out = np.zeros((arr.shape[0], nb))
    _hist_core(np.ascontiguousarray(arr), nb, bool(absolute), out)
    return out


def energy(x: np.ndarray, kind: str, beta: float = 1.0, q: float = 0.5) -> np.ndarray:
    r"""Interaction energies of spec §3, over leading axes: x (..., N, d) -> (...).

    * ``"glpr"`` (a) [literature, GLPR]:
      :math:`\frac{1}{2\beta}\bigl(e^\beta - N^{-2}\sum_{ij}e^{\beta\langle x_i,x_j\rangle}\bigr)`
      (:math:`\beta\to0`: :math:`\tfrac12(1-|\bar x|^2)`);
    * ``"mean_norm"`` (b): :math:`1-|\bar x|^2`;
    * ``"distance"`` (c): :math:`N^{-2}\sum_{ij}|x_i-x_j|^q`.

    All three vanish exactly at synchronization; they are evaluated from pairwise differences
    so that values down to ~1e-30 are meaningful (tokens assumed on the sphere for (a), (b)).
    """
    k = {"glpr": 1, "mean_norm": 2, "distance": 3}[_choice("kind", kind, ENERGY_KINDS)]
    b = _real("beta", beta, 0.0, 700.0)
    qq = _real("q", q, 0.0, 100.0, lo_open=True)
    xf, lead = _frames_view(x)
    out = np.empty(xf.shape[0])
    _pair_stats_core(xf, k, b, qq, out)
    return out.reshape(lead) if lead else out[0]


def fit_log_slope(
    t: np.ndarray,
    y: np.ndarray,
    *,
    floor: float = 1e-6,
    t_min: float | None = None,
    t_max: float | None = None,
    full: bool = False,
) -> float | SlopeFit:
    r"""Least-squares slope of :math:`\log y` against :math:`t` (the measured rate).

    Default window (the "late part above round-off"): the run is cut at the first point where
    ``y`` is not finite or drops below ``floor`` (1e-6, where a diameter stops being a clean
    exponential in double precision), and the fit uses the later half (in time) of what is
    left, where the linearization near synchronization holds. ``t_min``/``t_max`` override the
    window ends. Compare the slope of ``diameter`` with :math:`\lambda_{\rm dist}` and of a
    squared distance or energy with :math:`\lambda_r = 2\lambda_{\rm dist}` (spec §6.2).

    Returns
    -------
    float or SlopeFit
        The slope (nan if fewer than 3 points qualify); ``full=True`` returns
        :class:`SlopeFit` with the intercept and window for drawing the fitted line.
    """
    tt = np.asarray(t, dtype=np.float64).ravel()
    yy = np.asarray(y, dtype=np.float64).ravel()
    if tt.shape != yy.shape:
        raise ValueError(f"t and y must have the same length; got {tt.shape} and {yy.shape}")
    fl = _real("floor", floor, 0.0, math.inf)
    ok = np.isfinite(yy) & (yy > fl) & np.isfinite(tt)
    bad = np.flatnonzero(~ok)
    stop = int(bad[0]) if bad.size else tt.size
    lo_t = tt[0] if tt.size else 0.0
    hi_t = tt[stop - 1] if stop > 0 else lo_t
    start_t = lo_t + 0.5 * (hi_t - lo_t) if t_min is None else float(t_min)
    stop_t = hi_t if t_max is None else float(t_max)
    sel = np.zeros(tt.size, dtype=bool)
    sel[:stop] = True
    if t_min is not None or t_max is not None:
        sel = ok.copy()
    sel &= (tt >= start_t) & (tt <= stop_t)
    npts = int(sel.sum())
    if npts < 3:
        fit = SlopeFit(math.nan, math.nan, start_t, stop_t, npts)
    else:
        slope, intercept = np.polyfit(tt[sel], np.log(yy[sel]), 1)
        fit = SlopeFit(float(slope), float(intercept), start_t, stop_t, npts)
    return fit if full else fit.slope


# ---------------------------------------------------------------------------------------------
# Studies: Benettin exponent, strong error, variance of a statistic
# ---------------------------------------------------------------------------------------------


def benettin_lyapunov(
    *,
    activation: str,
    dim: int,
    sigma_noise: float,
    width: int,
    t_max: float,
    dt: float,
    n_runs: int,
    rng: np.random.Generator | int,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    attn_kind: str = "sa",
    attn_strength: float = 0.0,
    beta: float = 1.0,
    separation: float = 1e-7,
    progress: ProgressFn | None = None,
) -> BenettinResult:
    r"""Two-token Lyapunov exponent by Benettin's method (spec §6.2).

    Two tokens at distance ``separation`` (uniform random start) go through the same layers
    (common fresh noise, N = 2 attention between them); after each layer the growth
    :math:`\log(|y'-x'|/|y-x|)` is accumulated and y is put back at distance ``separation``
    from x along y'−x'. Per run :math:`\lambda = T^{-1}\sum\log(\cdot)`; the prediction is

    .. math:: \lambda_{\rm dist} = -\alpha_{\rm eff}
              + \tfrac{\sigma_n^2}{2}\bigl[-(d-1)\kappa_1 + (d-3)\kappa_1'\bigr]

    [derived] (:func:`kernels.token_theory.lyapunov_exponent`). Paper: arXiv:2604.26898.

    Returns
    -------
    BenettinResult
        ``(mean, stderr)`` over the ``n_runs`` runs.
    """
    p = _model_params(
        dt=dt,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
    )
    d = _integer("dim", dim, 2)
    runs = _integer("n_runs", n_runs, 1)
    horizon = _real("t_max", t_max, 0.0, 1e6, lo_open=True)
    sep = _real("separation", separation, 0.0, 1e-2, lo_open=True)
    n_steps = max(1, round(horizon / p.h))
    gen = _resolve_rng(rng)
    report = _progress_fn(progress)
    x = _unit_rows(gen.standard_normal((runs, d)))
    v = gen.standard_normal((runs, d))
    v -= np.sum(v * x, axis=1, keepdims=True) * x
    v = _unit_rows(v)
    y = _unit_rows(x + sep * v)
    xs = np.stack([x, y], axis=2).copy()  # (R, d, 2)
    logsum = np.zeros(runs)
    bfix, bvfix = _NO_FIXED
    fsrc = np.zeros(runs, dtype=np.int64)
    ident = np.arange(runs, dtype=np.int64)
    frames = np.empty((1, runs, 2, d))  # never written: stride > n_steps
    q = _block_size(p, 2, d)
    work = _work_per_layer(p, 2, d, q)
    for layer0, n_l, row0, row1, noise in _noise_chunks(
        gen, n_steps, runs, q, work, allow_row_blocks=False
    ):
        del row0, row1
        _advance_core(
            xs,
            0,
            runs,
            noise,
            ident,
            bfix,
            bvfix,
            fsrc,
            n_l,
            layer0,
            p.aid,
            p.h,
            p.sn,
            p.sw,
            p.sb,
            p.attn,
            p.alpha,
            p.beta,
            False,
            False,
            False,
            True,
            p.m,
            frames,
            n_steps + 1,
            sep,
            logsum,
        )
        if not report((layer0 + n_l) / n_steps, False):
            raise Cancelled(
                f"cancelled after {layer0 + n_l} of {n_steps} layers", None, layer0 + n_l
            )
    report(1.0, True)
    lam = logsum / (n_steps * p.h)
    stderr = float(lam.std(ddof=1) / math.sqrt(runs)) if runs > 1 else math.nan
    return BenettinResult(float(lam.mean()), stderr)


def _advance_with_noise(
    xs: np.ndarray,
    noise: np.ndarray,
    p: _Params,
    fixed: tuple[np.ndarray, np.ndarray, np.ndarray],
    frames: np.ndarray,
) -> None:
    """Advance xs (R, d, N) through pre-drawn normals (L, R, Q), recording only the end."""
    n_l, r, _ = noise.shape
    _advance_core(
        xs,
        0,
        r,
        noise,
        np.arange(r, dtype=np.int64),
        fixed[0],
        fixed[1],
        fixed[2],
        n_l,
        0,
        p.aid,
        p.h,
        p.sn,
        p.sw,
        p.sb,
        p.attn,
        p.alpha,
        p.beta,
        p.independent,
        p.fixed,
        p.strang,
        p.sphere,
        p.m,
        frames,
        max(n_l, 1),
        0.0,
        _NO_LOGSUM,
    )


def strong_error_study(
    *,
    rng: np.random.Generator | int,
    activation: str = "relu",
    dim: int = 3,
    n_tokens: int = 4,
    width: int = 16,
    sigma_noise: float = 1.0,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    attn_kind: str = "off",
    attn_strength: float = 0.0,
    beta: float = 1.0,
    t_max: float = 1.0,
    levels: Sequence[int] = (4, 5, 6, 7, 8, 9),
    ref_level: int = 14,
    n_paths: int = 64,
    progress: ProgressFn | None = None,
) -> StrongErrorStudy:
    r"""Strong error of the scheme against step size, with fixed hidden weights (spec §6.9).

    Per path: uniform tokens, fixed B, b; the fine reference uses
    :math:`h_{\rm ref} = T 2^{-\text{ref\_level}}`. Each coarse step :math:`h = T 2^{-\ell}` uses
    the Brownian increment of the fine steps it covers,
    :math:`A^{(h)} = \sum A^{(h_{\rm ref})}/\sqrt{h/h_{\rm ref}}`, so all levels see the same
    noise path :math:`M_t`. The error is :math:`E\max_i|X^h_i(T)-X^{\rm ref}_i(T)|` over
    ``n_paths`` paths; the expected slope in log-log is 1/2 [derived] (Euler–Maruyama-type,
    non-commutative noise). Paper: arXiv:2604.26898.

    Returns
    -------
    StrongErrorStudy
        ``h`` (n_levels,), ``error``, ``stderr``, fitted ``slope``, ``h_ref``.
    """
    lev = sorted(_integer("levels", int(v), 0, 30) for v in levels)
    ref = _integer("ref_level", ref_level, 1, 24)
    if not lev or lev[-1] >= ref:
        raise ValueError(f"levels must be non-empty and below ref_level={ref}; got {lev}")
    horizon = _real("t_max", t_max, 0.0, 1e6, lo_open=True)
    h_ref = horizon / 2**ref
    p = _model_params(
        dt=h_ref,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
        hidden_weights="fixed",
    )
    if p.sn == 0.0:
        raise ValueError("sigma_noise must be > 0 for a strong error study")
    d = _integer("dim", dim, 2)
    n = _integer("n_tokens", n_tokens, 1)
    paths = _integer("n_paths", n_paths, 2)
    gen = _resolve_rng(rng)
    report = _progress_fn(progress)
    q = _block_size(p, n, d)
    chunk = 2 ** (ref - lev[0])  # fine steps per coarsest step
    n_chunks = 2 ** lev[0]
    group = max(1, min(paths, (1 << 21) // (chunk * q)))
    errors = np.empty((len(lev), paths))
    for g0 in range(0, paths, group):
        g1 = min(paths, g0 + group)
        r = g1 - g0
        x0 = _unit_rows(gen.standard_normal((r, n, d)))
        fixed = _fixed_arrays(None, r, 1, p.m, d, gen)
        states = [np.swapaxes(x0, 1, 2).copy() for _ in range(len(lev) + 1)]
        frames = np.empty((2, r, n, d))
        fine = np.empty(chunk * r * q)
        for c in range(n_chunks):
            noise = standard_normals(gen, fine).reshape(chunk, r, q)
            _advance_with_noise(states[-1], noise, p, fixed, frames)
            for li, level in enumerate(lev):
                k = 2 ** (ref - level)
                coarse = noise.reshape(chunk // k, k, r, q).sum(axis=1) / math.sqrt(k)
                _advance_with_noise(states[li], coarse, p._replace(h=h_ref * k), fixed, frames)
            if not report((g0 + r * (c + 1) / n_chunks) / paths, False):
                raise Cancelled("strong error study cancelled", None, 0)
        for li in range(len(lev)):
            diff = np.linalg.norm(states[li] - states[-1], axis=1)  # (r, N)
            errors[li, g0:g1] = diff.max(axis=1)
    report(1.0, True)
    hs = horizon / 2.0 ** np.asarray(lev, dtype=np.float64)
    err = errors.mean(axis=1)
    se = errors.std(axis=1, ddof=1) / math.sqrt(paths)
    slope = float(np.polyfit(np.log(hs), np.log(err), 1)[0]) if len(lev) > 1 else math.nan
    return StrongErrorStudy(h=hs, error=err, stderr=se, slope=slope, h_ref=h_ref)


_STATISTICS = ("mean_first_coordinate", "mean_norm_sq")


def statistic_variance_study(
    *,
    rng: np.random.Generator | int,
    n_tokens_list: Sequence[int] = (8, 16, 32, 64, 128),
    n_noise: int = 32,
    n_samples: int = 32,
    t_max: float = 1.0,
    dt: float = 1e-2,
    activation: str = "relu",
    dim: int = 3,
    sigma_noise: float = 2.0,
    width: int = 16,
    sigma_w: float = 1.0,
    sigma_b: float = 0.0,
    attn_kind: str = "sa",
    attn_strength: float = 0.0,
    beta: float = 1.0,
    statistic: str = "mean_first_coordinate",
    progress: ProgressFn | None = None,
) -> VarianceStudy:
    r"""Spread of a token statistic over token samples vs over the noise (spec §4 panel 7b).

    For each N: ``n_noise`` noise realizations W; for each, ``n_samples`` independent uniform
    token samples run through the *same* layers (same W). The statistic
    :math:`f(\mu^N_T)` (default :math:`\langle\bar x,e_0\rangle`; or :math:`|\bar x|^2`)
    then spreads over token samples like :math:`N^{-1/2}` (propagation of chaos conditional
    on W), but over W by O(1): the limit :math:`\mu_t` is a random measure [literature, Koubbi
    et al.; derived]. Paper: arXiv:2604.26898.

    Returns
    -------
    VarianceStudy
        ``n_tokens``; ``sd_over_tokens`` = root mean over W of the within-W variance;
        ``sd_over_noise`` = standard deviation over W of the within-W mean; log-log slopes
        against N (≈ −1/2 and ≈ 0).
    """
    stat = _choice("statistic", statistic, _STATISTICS)
    ns = [_integer("n_tokens_list", int(v), 1) for v in n_tokens_list]
    if not ns:
        raise ValueError("n_tokens_list must not be empty")
    nw = _integer("n_noise", n_noise, 2)
    nsamp = _integer("n_samples", n_samples, 2)
    p = _model_params(
        dt=dt,
        sigma_noise=sigma_noise,
        activation=activation,
        width=width,
        attn_kind=attn_kind,
        attn_strength=attn_strength,
        beta=beta,
        sigma_w=sigma_w,
        sigma_b=sigma_b,
    )
    d = _integer("dim", dim, 2)
    horizon = _real("t_max", t_max, 0.0, 1e6, lo_open=True)
    n_steps = max(1, round(horizon / p.h))
    gen = _resolve_rng(rng)
    report = _progress_fn(progress)
    total = sum(ns)
    done = 0
    sd_tok = np.empty(len(ns))
    sd_w = np.empty(len(ns))
    src = np.repeat(np.arange(nw, dtype=np.int64), nsamp)
    for idx, n in enumerate(ns):
        r = nw * nsamp
        x0 = _unit_rows(gen.standard_normal((r, n, d)))
        xs = np.swapaxes(x0, 1, 2).copy()
        frames = np.empty((2, r, n, d))
        base = done

        def sub(fraction: float, force: bool = False, base: int = base, n: int = n) -> bool:
            return report((base + fraction * n) / total, force) if fraction < 1.0 else True

        _run(xs, p, n_steps, n_steps, gen, frames, None, sub, n_rows=nw, src=src)
        xbar = frames[-1].mean(axis=1)  # (r, d)
        f = xbar[:, 0] if stat == "mean_first_coordinate" else np.sum(xbar * xbar, axis=1)
        f = f.reshape(nw, nsamp)
        sd_tok[idx] = math.sqrt(float(f.var(axis=1, ddof=1).mean()))
        sd_w[idx] = float(f.mean(axis=1).std(ddof=1))
        done += n
    report(1.0, True)
    logn = np.log(np.asarray(ns, dtype=np.float64))
    if len(ns) > 1:
        s_tok = float(np.polyfit(logn, np.log(sd_tok), 1)[0])
        s_w = float(np.polyfit(logn, np.log(sd_w), 1)[0])
    else:
        s_tok = s_w = math.nan
    return VarianceStudy(np.asarray(ns), sd_tok, sd_w, s_tok, s_w, stat)


# ---------------------------------------------------------------------------------------------
# Warm-up
# ---------------------------------------------------------------------------------------------


def warmup() -> None:
    """Compile (or load from the numba cache) every jitted core on tiny inputs."""
    gen = np.random.default_rng(0)
    x0 = initial_tokens("uniform", 3, 3, gen)
    common: dict[str, Any] = dict(
        n_steps=2, dt=0.01, sigma_noise=1.0, activation="relu", width=4, rng=gen
    )
    simulate(x0, attn_kind="sa", attn_strength=1.0, beta=1.0, **common)
    simulate(
        x0,
        attn_kind="usa",
        attn_strength=1.0,
        beta=0.0,
        noise_sharing="independent",
        hidden_weights="fixed",
        splitting="strang",
        manifold="euclidean",
        **common,
    )
    traj = simulate_ensemble(
        x0[None], attn_kind="off", attn_strength=0.0, beta=1.0, stride=2, **common
    )
    diameter(traj)
    energy(traj, "glpr")
    cluster_count(traj)
    synchronized_pair_fraction(traj)
    similarity_histogram(traj[:, 0], bins=4)
    benettin_lyapunov(
        activation="relu", dim=3, sigma_noise=1.0, width=4, t_max=0.02, dt=0.01, n_runs=2, rng=gen
    )
    strong_error_study(rng=gen, levels=(1,), ref_level=2, n_paths=2, width=2, n_tokens=2)
    statistic_variance_study(
        rng=gen, n_tokens_list=(2,), n_noise=2, n_samples=2, t_max=0.02, width=2
    )
