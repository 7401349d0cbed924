r"""Numerical studies of the token model: Benettin exponent, strong error, spread of a statistic.

Each study runs many realizations of the discrete transformer of :mod:`kernels.tokens` and
reduces them to the numbers the spec ``models/tokens.md`` compares with theory (Agazzi, Bruno,
Mosig García, Saviozzi, Romito, arXiv:2604.26898):

* :func:`benettin_lyapunov` (§6.2): the two-token Lyapunov exponent, against
  :func:`kernels.tokens.theory.lyapunov_exponent`;
* :func:`strong_error_study` (§6.9): strong convergence order 1/2 of the scheme, coarse steps
  driven by sums of the fine Brownian increments;
* :func:`statistic_variance_study` (§4 panel 7b): a token statistic spreads like
  :math:`N^{-1/2}` over token samples but O(1) over the noise (the limit is a random measure).

All take ``rng`` (a Generator or a seed) and an optional ``progress`` callback
(:mod:`kernels.common.progress`); a cancelled study raises
:class:`kernels.common.progress.Cancelled` with ``partial=None``. No jitted code of its own:
the studies drive :func:`kernels.tokens.core.advance_core` through :mod:`kernels.tokens.driver`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from kernels.common.normals import standard_normals
from kernels.common.progress import Cancelled, ProgressFn, throttled_progress
from kernels.common.validation import choice, integer, real, resolve_rng
from kernels.tokens.driver import advance_with_noise, fixed_arrays, run
from kernels.tokens.initial import unit_rows
from kernels.tokens.params import block_size, layer_params

__all__ = [
    "STATISTICS",
    "BenettinResult",
    "StrongErrorStudy",
    "VarianceStudy",
    "benettin_lyapunov",
    "statistic_variance_study",
    "strong_error_study",
]

#: Statistics of :func:`statistic_variance_study`: mean first coordinate, squared mean norm.
STATISTICS: tuple[str, ...] = ("mean_first_coordinate", "mean_norm_sq")


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

    [derived] (:func:`kernels.tokens.theory.lyapunov_exponent`). Paper: arXiv:2604.26898.

    Parameters
    ----------
    activation : str
        One of :data:`kernels.common.activations.ACTIVATIONS`.
    dim : int
        :math:`d \ge 2`.
    sigma_noise, sigma_w, sigma_b : float
        :math:`\sigma_n, \sigma_w, \sigma_b \ge 0`.
    width : int
        MLP width :math:`m \ge 1`.
    t_max, dt : float
        Horizon :math:`T` and layer step :math:`h` (``round(T/h)`` layers).
    n_runs : int
        Independent runs (>= 1; the stderr needs 2).
    rng : numpy.random.Generator or int
        The only source of randomness.
    attn_kind, attn_strength, beta
        As in :func:`kernels.tokens.simulate`.
    separation : float
        Distance the pair is reset to after each layer, in (0, 1e-2].
    progress : callable, optional
        ``progress(fraction) -> bool``; False cancels (:class:`Cancelled`).

    Returns
    -------
    BenettinResult
        ``(mean, stderr)`` over the ``n_runs`` runs.
    """
    p = layer_params(
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
    d = integer("dim", dim, 2)
    runs = integer("n_runs", n_runs, 1)
    horizon = real("t_max", t_max, 0.0, 1e6, lo_open=True)
    sep = real("separation", separation, 0.0, 1e-2, lo_open=True)
    n_steps = max(1, round(horizon / p.h))
    gen = resolve_rng(rng)
    report = throttled_progress(progress)
    x = unit_rows(gen.standard_normal((runs, d)))
    v = gen.standard_normal((runs, d))
    v -= np.sum(v * x, axis=1, keepdims=True) * x
    v = unit_rows(v)
    y = unit_rows(x + sep * v)
    xs = np.stack([x, y], axis=2).copy()  # (R, d, 2)
    logsum = np.zeros(runs)
    frames = np.empty((1, runs, 2, d))  # never written: stride > n_steps
    run(
        xs,
        p,
        n_steps,
        gen,
        frames,
        report,
        stride=n_steps + 1,
        row_blocks=False,
        separation=sep,
        logsum=logsum,
        keep_partial=False,
    )
    lam = logsum / (n_steps * p.h)
    stderr = float(lam.std(ddof=1) / math.sqrt(runs)) if runs > 1 else math.nan
    return BenettinResult(float(lam.mean()), stderr)


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

    .. math:: \varepsilon(h) = \mathbb{E}\max_i|X^h_i(T) - X^{\rm ref}_i(T)| \sim C h^{1/2}

    Parameters
    ----------
    rng : numpy.random.Generator or int
        The only source of randomness.
    activation, dim, width, sigma_noise, sigma_w, sigma_b, attn_kind, attn_strength, beta
        The model, as in :func:`kernels.tokens.simulate` (``sigma_noise > 0``).
    n_tokens : int
        :math:`N \ge 1` tokens per path.
    t_max : float
        Horizon :math:`T > 0`.
    levels : sequence of int
        Coarse levels :math:`\ell` (steps :math:`T2^{-\ell}`), all below ``ref_level``.
    ref_level : int
        Level of the reference, in [1, 24].
    n_paths : int
        Paths averaged over (>= 2).
    progress : callable, optional
        ``progress(fraction) -> bool``; False cancels (:class:`Cancelled`).

    Returns
    -------
    StrongErrorStudy
        ``h`` (n_levels,), ``error``, ``stderr``, fitted ``slope``, ``h_ref``.
    """
    lev = sorted(integer("levels", int(v), 0, 30) for v in levels)
    ref = integer("ref_level", ref_level, 1, 24)
    if not lev or lev[-1] >= ref:
        raise ValueError(f"levels must be non-empty and below ref_level={ref}; got {lev}")
    horizon = real("t_max", t_max, 0.0, 1e6, lo_open=True)
    h_ref = horizon / 2**ref
    p = layer_params(
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
    d = integer("dim", dim, 2)
    n = integer("n_tokens", n_tokens, 1)
    paths = integer("n_paths", n_paths, 2)
    gen = resolve_rng(rng)
    report = throttled_progress(progress)
    q = block_size(p, n, d)
    chunk = 2 ** (ref - lev[0])  # fine steps per coarsest step
    n_chunks = 2 ** lev[0]
    group = max(1, min(paths, (1 << 21) // (chunk * q)))
    errors = np.empty((len(lev), paths))
    for g0 in range(0, paths, group):
        g1 = min(paths, g0 + group)
        r = g1 - g0
        x0 = unit_rows(gen.standard_normal((r, n, d)))
        fixed = fixed_arrays(p, None, r, n, d, gen)
        states = [np.swapaxes(x0, 1, 2).copy() for _ in range(len(lev) + 1)]
        frames = np.empty((2, r, n, d))
        fine = np.empty(chunk * r * q)
        for c in range(n_chunks):
            noise = standard_normals(gen, fine).reshape(chunk, r, q)
            advance_with_noise(states[-1], noise, p, fixed, frames)
            for li, level in enumerate(lev):
                k = 2 ** (ref - level)
                coarse = noise.reshape(chunk // k, k, r, q).sum(axis=1) / math.sqrt(k)
                advance_with_noise(states[li], coarse, p._replace(h=h_ref * k), fixed, frames)
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

    .. math::
        \operatorname{sd}_{\rm tokens} = \Big(\mathbb{E}_W\operatorname{Var}[f\mid W]\Big)^{1/2}
        \sim N^{-1/2},\qquad
        \operatorname{sd}_{\rm noise} = \operatorname{sd}_W\,\mathbb{E}[f\mid W] = O(1)

    Parameters
    ----------
    rng : numpy.random.Generator or int
        The only source of randomness.
    n_tokens_list : sequence of int
        The token counts N (each >= 1).
    n_noise, n_samples : int
        Noise realizations W and token samples per W (each >= 2).
    t_max, dt : float
        Horizon and layer step (``round(T/h)`` layers).
    activation, dim, sigma_noise, width, sigma_w, sigma_b, attn_kind, attn_strength, beta
        The model, as in :func:`kernels.tokens.simulate`.
    statistic : {"mean_first_coordinate", "mean_norm_sq"}
        :math:`f = \langle\bar x, e_0\rangle` or :math:`|\bar x|^2`.
    progress : callable, optional
        ``progress(fraction) -> bool``; False cancels (:class:`Cancelled`).

    Returns
    -------
    VarianceStudy
        ``n_tokens``; ``sd_over_tokens`` = root mean over W of the within-W variance;
        ``sd_over_noise`` = standard deviation over W of the within-W mean; log-log slopes
        against N (≈ −1/2 and ≈ 0).
    """
    stat = choice("statistic", statistic, STATISTICS)
    ns = [integer("n_tokens_list", int(v), 1) for v in n_tokens_list]
    if not ns:
        raise ValueError("n_tokens_list must not be empty")
    nw = integer("n_noise", n_noise, 2)
    nsamp = integer("n_samples", n_samples, 2)
    p = layer_params(
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
    d = integer("dim", dim, 2)
    horizon = real("t_max", t_max, 0.0, 1e6, lo_open=True)
    n_steps = max(1, round(horizon / p.h))
    gen = resolve_rng(rng)
    report = throttled_progress(progress)
    total = sum(ns)
    done = 0
    sd_tok = np.empty(len(ns))
    sd_w = np.empty(len(ns))
    src = np.repeat(np.arange(nw, dtype=np.int64), nsamp)
    for idx, n in enumerate(ns):
        r = nw * nsamp
        x0 = unit_rows(gen.standard_normal((r, n, d)))
        xs = np.swapaxes(x0, 1, 2).copy()
        frames = np.empty((2, r, n, d))
        base = done

        def sub(fraction: float, force: bool = False, base: int = base, n: int = n) -> bool:
            return report((base + fraction * n) / total, force) if fraction < 1.0 else True

        run(
            xs, p, n_steps, gen, frames, sub, stride=n_steps, src=src, n_rows=nw, keep_partial=False
        )
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
