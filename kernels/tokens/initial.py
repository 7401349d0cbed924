"""Initial token configurations on the sphere :math:`S^{d-1}` (spec ``models/tokens.md`` §4–§6).

:func:`initial_tokens` draws the starts of the token tab and of the spec's checks: uniform,
hemisphere (GLPR's collapsing start), a polar cap, a pair at a given overlap, and the
deterministic equiangular configuration of §6.7. :func:`unit_rows` projects vectors onto the
sphere. Pure numpy: no jitted code here.
"""

from __future__ import annotations

import math

import numpy as np

from kernels.common.validation import choice, integer, real, resolve_rng

__all__ = ["INITS", "initial_tokens", "unit_rows"]

#: Initial token configurations of :func:`initial_tokens`.
INITS: tuple[str, ...] = ("uniform", "hemisphere", "cap", "pair", "equiangular")


def unit_rows(v: np.ndarray) -> np.ndarray:
    """Each row (last axis) of ``v`` divided by its Euclidean norm."""
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

    Returns
    -------
    ndarray, shape (N, d)
        Unit rows.

    Notes
    -----
    Uniform draws are :math:`x_i = g_i/|g_i|` with :math:`g_i \sim N(0, I_d)`. Provenance:
    uniform and hemisphere [literature] (GLPR arXiv:2312.10794), pair, cap and equiangular
    [derived] (spec §4–§6.8); paper: arXiv:2604.26898.
    """
    kind = choice("init", init, INITS)
    n = integer("n_tokens", n_tokens, 1)
    d = integer("dim", dim, 2)
    rho = real("rho0", rho0, -1.0, 1.0)
    cap = real("cap_angle", cap_angle, 0.0, math.pi, lo_open=True)
    gen = resolve_rng(rng)
    if kind == "uniform":
        return unit_rows(gen.standard_normal((n, d)))
    if kind == "hemisphere":
        x = unit_rows(gen.standard_normal((n, d)))
        x[:, 0] = np.abs(x[:, 0])
        return x
    if kind == "cap":
        theta = _cap_angles(gen, n, d, cap)
        if d == 2:
            theta = theta * np.where(gen.random(n) < 0.5, -1.0, 1.0)
            return np.stack([np.cos(theta), np.sin(theta)], axis=1)
        v = unit_rows(gen.standard_normal((n, d - 1)))
        return np.concatenate([np.cos(theta)[:, None], np.sin(theta)[:, None] * v], axis=1)
    if kind == "pair":
        if n < 2:
            raise ValueError(f"init='pair' needs n_tokens >= 2; got {n}")
        x = unit_rows(gen.standard_normal((n, d)))
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
