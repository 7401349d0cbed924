r"""Monte Carlo of random fully connected networks: the jitted cores (one chunk of networks each).

Network (spec ``models/widenet.md`` §2), inputs :math:`X \in \mathbb R^{k\times n_0}`:

.. math::
    z^1 = \sqrt{C_W}\,W^1x/\sqrt{n_0} + \sqrt{C_b}\,b^1,\qquad
    z^{l+1} = \sqrt{C_W}\,W^{l+1}\sigma(z^l)/\sqrt n + \sqrt{C_b}\,b^{l+1},\qquad
    y = z^{L+1},

weights i.i.d. from a standardised law chosen per layer; :math:`b^1` follows the layer-1 law,
deeper biases are Gaussian, the readout has a bias only if ``readout_bias`` (and no bias at all
when :math:`C_b = 0`).

* **Gaussian-layer shortcut** (exact in law, spec §8): given the previous activations
  :math:`A`, the rows of a Gaussian layer are i.i.d. :math:`\mathcal N(0, C_W A^\top A/n + C_b)`,
  so the layer costs :math:`O(nk^2)` normals instead of :math:`O(n^2)`.
* **Shallow prefix sweep** (exact in law for each width, spec §8): for one hidden layer the
  output at width n is the normalised sum of the first n of ``n_max`` i.i.d. units, so one pass
  over ``n_max`` units gives every width of a sweep with common random numbers.
* **Randomness and threads** (spec §8): network g draws its weights from the counter-based stream
  ``network_key(root, g)`` (:mod:`kernels.widenet.rng`), so a network's weights do not depend on
  which chunk or thread computes it. :mod:`kernels.widenet.driver` splits the networks into
  fixed chunks of ``CHUNK_NETS`` run in a thread pool on these ``nogil`` cores; chunk ``c``
  also owns a ``Generator`` (child ``c`` of a ``SeedSequence``) for Student-t's χ² draws. The
  output does not depend on the number of threads.

Each core also returns :math:`\hat\Sigma = C_W\,\sigma(z^L)^\top\sigma(z^L)/n + C_b 1_{rb}`, the
conditional covariance of the output given the last hidden layer if the readout were Gaussian
(the Rao–Blackwell statistic, spec §3e).

Provenance: network and bias convention [paper]/[derived] (spec §2); algorithms [derived].
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.common.activations import activate
from kernels.widenet.laws import GAUSSIAN
from kernels.widenet.rng import fill_law, n_words, network_key

#: Weights filled per call of the law transform (an L1-cache-sized buffer).
FILL_BLOCK = 1024


@njit(cache=True, nogil=True)
def _cholesky_psd(g: np.ndarray, out: np.ndarray) -> None:
    """Lower Cholesky factor of a PSD k×k matrix; non-positive pivots (singular K) give 0."""
    k = g.shape[0]
    for i in range(k):
        for j in range(k):
            out[i, j] = 0.0
    for j in range(k):
        d = g[j, j]
        for p in range(j):
            d -= out[j, p] * out[j, p]
        if d <= 1e-300:
            continue
        ljj = math.sqrt(d)
        out[j, j] = ljj
        for i in range(j + 1, k):
            s = g[i, j]
            for p in range(j):
                s -= out[i, p] * out[j, p]
            out[i, j] = s / ljj


@njit(cache=True, nogil=True)
def _gram(a: np.ndarray, fan_in: int, c_w: float, c_b: float, out: np.ndarray) -> None:
    """out = c_w a aᵀ / fan_in + c_b for activations ``a`` of shape (k, fan_in)."""
    k = a.shape[0]
    for r in range(k):
        for s in range(r, k):
            v = c_w * _dot(a[r], a[s], fan_in) / fan_in + c_b
            out[r, s] = v
            out[s, r] = v


@njit(cache=True, nogil=True, inline="always")
def _dot(w: np.ndarray, a: np.ndarray, n: int, off: int = 0) -> float:
    """Σ_j w[off + j] a[j] with four interleaved partial sums (a fixed, deterministic order)."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    j = 0
    while j + 4 <= n:
        s0 += w[off + j] * a[j]
        s1 += w[off + j + 1] * a[j + 1]
        s2 += w[off + j + 2] * a[j + 2]
        s3 += w[off + j + 3] * a[j + 3]
        j += 4
    while j < n:
        s0 += w[off + j] * a[j]
        j += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, nogil=True)
def _activate_layer(aid: int, z: np.ndarray, a: np.ndarray, width: int) -> None:
    """a = σ(z) over (k, width); ReLU and linear loops vectorize (no per-element dispatch)."""
    k = z.shape[0]
    for r in range(k):
        if aid == 1:
            for i in range(width):
                a[r, i] = max(z[r, i], 0.0)
        elif aid == 0:
            for i in range(width):
                a[r, i] = z[r, i]
        else:
            for i in range(width):
                a[r, i] = activate(aid, z[r, i])


@njit(cache=True, nogil=True)
def _gaussian_layer(
    key: np.uint64,
    c0: np.uint64,
    chol: np.ndarray,
    n_out: int,
    gbuf: np.ndarray,
    out: np.ndarray,
    rng: np.random.Generator,
) -> np.uint64:
    """out[:, i] = chol @ g_i, g_i standard normal (the shortcut's rows); returns the counter."""
    k = chol.shape[0]
    g = gbuf[: n_out * k]
    fill_law(0, key, c0, g, 6.0, rng)
    for i in range(n_out):
        for r in range(k):
            acc = 0.0
            for s in range(r + 1):
                acc += chol[r, s] * g[i * k + s]
            out[r, i] = acc
    return c0 + n_words(0, n_out * k)


@njit(cache=True, nogil=True)
def _dense_layer(
    key: np.uint64,
    c0: np.uint64,
    a: np.ndarray,
    fan_in: int,
    n_out: int,
    lid: int,
    bias_lid: int,
    t_dof: float,
    c_w: float,
    c_b: float,
    wbuf: np.ndarray,
    bbuf: np.ndarray,
    out: np.ndarray,
    rng: np.random.Generator,
) -> np.uint64:
    """out[:, i] = √C_W Σ_j W_ij a[:, j] / √fan_in + √C_b b_i: the weights row by row (row i at
    words c0 + i·w), then the n_out biases if C_b > 0; returns the next free word.

    ``wbuf`` holds at least ``fan_in`` values; ``bbuf`` at least ``n_out``."""
    k = a.shape[0]
    scale = math.sqrt(c_w / fan_in)
    row_words = n_words(lid, fan_in)
    # rows are filled in blocks of ~FILL_BLOCK weights (a block is the same stretch of the
    # stream as its rows one by one): narrow layers then cost one fill call, not one per row
    rows = max(1, min(n_out, wbuf.size // fan_in))
    for i0 in range(0, n_out, rows):
        nb = min(rows, n_out - i0)
        w = wbuf[: nb * fan_in]
        fill_law(lid, key, c0 + np.uint64(i0) * row_words, w, t_dof, rng)
        for r in range(k):
            ar = a[r]
            for ii in range(nb):
                out[r, i0 + ii] = scale * _dot(w, ar, fan_in, ii * fan_in)
    c = c0 + np.uint64(n_out) * row_words
    if c_b > 0.0:
        b = bbuf[:n_out]
        fill_law(bias_lid, key, c, b, t_dof, rng)
        sb = math.sqrt(c_b)
        for i in range(n_out):
            for r in range(k):
                out[r, i] += sb * b[i]
        c += n_words(bias_lid, n_out)
    return c


@njit(cache=True, nogil=True)
def networks_chunk(
    rng: np.random.Generator,
    root: np.uint64,
    first_index: int,
    x: np.ndarray,
    lids: np.ndarray,
    width: int,
    aid: int,
    c_w: float,
    c_b: float,
    readout_bias: bool,
    t_dof: float,
    shortcut: bool,
    out: np.ndarray,
    cond_cov: np.ndarray,
) -> None:
    """Outputs (m, k) and Σ̂ (m, k, k) of networks first_index … first_index + m − 1.

    ``lids`` holds the law id of each weight layer, input first, readout last (length L + 1).
    Network g draws from the stream ``network_key(root, g)``: layer by layer, weights (row by
    row) then biases, or the shortcut's normals; ``rng`` only serves Student-t's χ² draws.
    """
    m, k = out.shape
    n0 = x.shape[1]
    n_layers = lids.size
    big = max(width, n0, FILL_BLOCK)
    z = np.empty((k, width))
    a = np.empty((k, width))
    y = np.empty((k, 1))
    wbuf = np.empty(big)
    bbuf = np.empty(big)
    gbuf = np.empty(width * k)
    gram = np.empty((k, k))
    chol = np.empty((k, k))
    rb = c_b if readout_bias else 0.0
    for net in range(m):
        key = network_key(root, first_index + net)
        c = np.uint64(0)
        # layer 1: the bias follows the layer-1 law
        if shortcut and lids[0] == GAUSSIAN:
            _gram(x, n0, c_w, c_b, gram)
            _cholesky_psd(gram, chol)
            c = _gaussian_layer(key, c, chol, width, gbuf, z, rng)
        else:
            c = _dense_layer(
                key, c, x, n0, width, lids[0], lids[0], t_dof, c_w, c_b, wbuf, bbuf, z, rng
            )
        _activate_layer(aid, z, a, width)
        # hidden layers 2..L: Gaussian biases
        for layer in range(1, n_layers - 1):
            if shortcut and lids[layer] == GAUSSIAN:
                _gram(a, width, c_w, c_b, gram)
                _cholesky_psd(gram, chol)
                c = _gaussian_layer(key, c, chol, width, gbuf, z, rng)
            else:
                c = _dense_layer(
                    key,
                    c,
                    a,
                    width,
                    width,
                    lids[layer],
                    GAUSSIAN,
                    t_dof,
                    c_w,
                    c_b,
                    wbuf,
                    bbuf,
                    z,
                    rng,
                )
            _activate_layer(aid, z, a, width)
        # readout
        _gram(a, width, c_w, rb, gram)
        for r in range(k):
            for s in range(k):
                cond_cov[net, r, s] = gram[r, s]
        if shortcut and lids[n_layers - 1] == GAUSSIAN:
            _cholesky_psd(gram, chol)
            _gaussian_layer(key, c, chol, 1, gbuf, y, rng)
        else:
            _dense_layer(
                key,
                c,
                a,
                width,
                1,
                lids[n_layers - 1],
                GAUSSIAN,
                t_dof,
                c_w,
                rb,
                wbuf,
                bbuf,
                y,
                rng,
            )
        for r in range(k):
            out[net, r] = y[r, 0]


#: Hidden units drawn per block by the shallow prefix sweep.
PREFIX_BLOCK = 256


@njit(cache=True, nogil=True)
def shallow_prefix_chunk(
    rng: np.random.Generator,
    root: np.uint64,
    first_index: int,
    x: np.ndarray,
    lid_in: int,
    lid_out: int,
    widths: np.ndarray,
    aid: int,
    c_w: float,
    c_b: float,
    readout_bias: bool,
    t_dof: float,
    out: np.ndarray,
    cond_cov: np.ndarray,
) -> None:
    """One hidden layer, every width of ``widths`` (increasing) from one pass over the units.

    out: (n_widths, m, k); cond_cov: (n_widths, m, k, k). Network g's stream holds the
    n_max·n0 first-layer weights (unit by unit), the n_max first-layer biases (if C_b > 0),
    the n_max readout weights and the Gaussian readout bias, in that order.
    """
    n_w, m, k = out.shape
    n0 = x.shape[1]
    n_max = widths[n_w - 1]
    sw = math.sqrt(c_w)
    sb = math.sqrt(c_b)
    scale_in = math.sqrt(c_w / n0)
    rb = c_b if readout_bias else 0.0
    has_bias = c_b > 0.0
    wpe_in = n_words(lid_in, 1)
    wpe_out = n_words(lid_out, 1)
    bias_start = np.uint64(n_max * n0) * wpe_in
    v_start = bias_start + (np.uint64(n_max) * wpe_in if has_bias else np.uint64(0))
    rb_start = v_start + np.uint64(n_max) * wpe_out
    win = np.empty(PREFIX_BLOCK * n0)
    bin_ = np.zeros(PREFIX_BLOCK)
    vout = np.empty(PREFIX_BLOCK)
    rbuf = np.empty(1)
    sig = np.empty(k)
    acc = np.empty(k)
    acc2 = np.empty((k, k))
    for net in range(m):
        key = network_key(root, first_index + net)
        bias_out = 0.0
        if readout_bias and has_bias:
            fill_law(0, key, rb_start, rbuf, t_dof, rng)
            bias_out = sb * rbuf[0]
        for r in range(k):
            acc[r] = 0.0
            for s in range(k):
                acc2[r, s] = 0.0
        w_idx = 0
        for j0 in range(0, n_max, PREFIX_BLOCK):
            nb = min(PREFIX_BLOCK, n_max - j0)
            fill_law(lid_in, key, np.uint64(j0 * n0) * wpe_in, win[: nb * n0], t_dof, rng)
            if has_bias:
                fill_law(lid_in, key, bias_start + np.uint64(j0) * wpe_in, bin_[:nb], t_dof, rng)
            fill_law(lid_out, key, v_start + np.uint64(j0) * wpe_out, vout[:nb], t_dof, rng)
            for jj in range(nb):
                for r in range(k):
                    pre = 0.0
                    for p in range(n0):
                        pre += win[jj * n0 + p] * x[r, p]
                    sig[r] = activate(aid, scale_in * pre + sb * bin_[jj])
                v = vout[jj]
                for r in range(k):
                    acc[r] += v * sig[r]
                    for s in range(k):
                        acc2[r, s] += sig[r] * sig[s]
                j = j0 + jj
                if j + 1 == widths[w_idx]:
                    n = j + 1
                    for r in range(k):
                        out[w_idx, net, r] = sw * acc[r] / math.sqrt(n) + bias_out
                        for s in range(k):
                            cond_cov[w_idx, net, r, s] = c_w * acc2[r, s] / n + rb
                    w_idx += 1


def warmup() -> None:
    """Compile (or load from the numba cache) the sampling cores on tiny inputs."""
    rng = np.random.default_rng(0)
    x = np.array([[1.4142135623730951, 0.0], [0.0, 1.4142135623730951]])
    out = np.empty((2, 2))
    cov = np.empty((2, 2, 2))
    for lids in (np.array([3, 3, 3]), np.array([0, 0, 0])):
        for shortcut in (True, False):
            networks_chunk(
                rng, np.uint64(1), 0, x, lids, 3, 1, 1.0, 0.1, True, 6.0, shortcut, out, cov
            )
    widths = np.array([1, 2])
    out2 = np.empty((2, 2, 2))
    cov2 = np.empty((2, 2, 2, 2))
    shallow_prefix_chunk(rng, np.uint64(1), 0, x, 3, 3, widths, 1, 1.0, 0.1, True, 6.0, out2, cov2)
