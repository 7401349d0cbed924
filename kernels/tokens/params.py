r"""The parameters of one token layer and the layout of its noise (spec ``models/tokens.md`` §3).

:class:`LayerParams` is the bundle of validated scalars that every entry point of
:mod:`kernels.tokens` builds once (:func:`layer_params`, a ``ValueError`` naming the parameter and
its range otherwise) and hands, as one argument, to the drivers and the jitted cores
(:mod:`kernels.tokens.core`). :func:`noise_block_size` gives the number of normals one layer of
one realization reads; the layout of that block is described in :mod:`kernels.tokens.core`.
Agazzi, Bruno, Mosig García, Saviozzi, Romito, arXiv:2604.26898.
"""

from __future__ import annotations

from typing import NamedTuple

from numba import njit

from kernels.common.activations import activation_id
from kernels.common.validation import choice, integer, real

__all__ = [
    "ATTN_CODE",
    "ATTN_KINDS",
    "HIDDEN_WEIGHTS",
    "MANIFOLDS",
    "NOISE_SHARINGS",
    "SPLITTINGS",
    "LayerParams",
    "block_size",
    "layer_params",
    "noise_block_size",
    "source_block_size",
]

#: Attention kinds: self-attention, unnormalized self-attention, none.
ATTN_KINDS: tuple[str, ...] = ("sa", "usa", "off")
#: Integer code of each attention kind inside the jitted cores.
ATTN_CODE = {"off": 0, "sa": 1, "usa": 2}
#: MLP weights shared by all tokens (common noise) or drawn per token (independent noise).
NOISE_SHARINGS: tuple[str, ...] = ("common", "independent")
#: Hidden weights B, b drawn fresh every layer, or fixed per run (A stays fresh).
HIDDEN_WEIGHTS: tuple[str, ...] = ("fresh", "fixed")
#: Attention then MLP then Norm, or MLP(h/2)·Norm, attention(h)·Norm, MLP(h/2)·Norm.
SPLITTINGS: tuple[str, ...] = ("lie_trotter", "strang")
#: With or without the Norm step.
MANIFOLDS: tuple[str, ...] = ("sphere", "euclidean")


class LayerParams(NamedTuple):
    """Validated scalars of one layer, passed as one argument to the jitted cores.

    ``aid``: activation id; ``h``: step; ``sn``, ``sw``, ``sb``: :math:`\\sigma_n, \\sigma_w,
    \\sigma_b`; ``attn``: :data:`ATTN_CODE`; ``alpha``, ``beta``: attention strength and inverse
    temperature; ``independent``, ``fixed``, ``strang``, ``sphere``: the switches; ``m``: width.
    """

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


def layer_params(
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
) -> LayerParams:
    """Validate the model parameters of :func:`kernels.tokens.simulate` (``ValueError`` naming the
    parameter and its allowed range) and pack them for the cores."""
    return LayerParams(
        aid=activation_id(activation),
        h=real("dt", dt, 0.0, 10.0, lo_open=True),
        sn=real("sigma_noise", sigma_noise, 0.0, 1e3),
        sw=real("sigma_w", sigma_w, 0.0, 1e3),
        sb=real("sigma_b", sigma_b, 0.0, 1e3),
        attn=ATTN_CODE[choice("attn_kind", attn_kind, ATTN_KINDS)],
        alpha=real("attn_strength", attn_strength, -1e3, 1e3),
        beta=real("beta", beta, 0.0, 100.0),
        independent=choice("noise_sharing", noise_sharing, NOISE_SHARINGS) == "independent",
        fixed=choice("hidden_weights", hidden_weights, HIDDEN_WEIGHTS) == "fixed",
        strang=choice("splitting", splitting, SPLITTINGS) == "strang",
        sphere=choice("manifold", manifold, MANIFOLDS) == "sphere",
        m=integer("width", width, 1, 1 << 16),
    )


# ---------------------------------------------------------------------------------------------
# Noise layout
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def source_block_size(d: int, m: int, fixed: bool) -> int:
    """Normals of one noise source and MLP sub-step: B, b, A (``m(2d+1)``) or A only (``md``)."""
    return m * d if fixed else m * (2 * d + 1)


def _padded_block_size(
    n: int, d: int, m: int, independent: bool, fixed: bool, strang: bool, noisy: bool
) -> int:
    if not noisy:
        return 0
    q = (2 if strang else 1) * (n if independent else 1) * source_block_size(d, m, fixed)
    return q + (q & 1)


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
    r"""Normals drawn per layer and realization (the last axis of
    :func:`kernels.tokens.advance_with_normals`' ``normals``).

    .. math:: Q = 2\big\lceil \tfrac12\,\text{halves}\cdot S\cdot P \big\rceil,\qquad
              P = m(2d+1)\ \text{(fresh)}\ \text{or}\ md\ \text{(fixed)}

    with :math:`S = 1` (common) or :math:`N` (independent) and halves = 2 for Strang; 0 when
    ``sigma_noise == 0``. Provenance [derived] (the layout of the discrete model of spec §2–§3);
    paper: arXiv:2604.26898.

    Parameters
    ----------
    n_tokens, dim, width : int
        :math:`N`, :math:`d`, :math:`m`.
    noise_sharing : {"common", "independent"}
    hidden_weights : {"fresh", "fixed"}
    splitting : {"lie_trotter", "strang"}
    sigma_noise : float
        Only whether it is 0 matters.

    Returns
    -------
    int
        :math:`Q`, even.
    """
    independent = choice("noise_sharing", noise_sharing, NOISE_SHARINGS) == "independent"
    fixed = choice("hidden_weights", hidden_weights, HIDDEN_WEIGHTS) == "fixed"
    strang = choice("splitting", splitting, SPLITTINGS) == "strang"
    return _padded_block_size(n_tokens, dim, width, independent, fixed, strang, sigma_noise != 0.0)


def block_size(p: LayerParams, n: int, d: int) -> int:
    """:func:`noise_block_size` of validated parameters for N tokens in dimension d."""
    return _padded_block_size(n, d, p.m, p.independent, p.fixed, p.strang, p.sn != 0.0)
