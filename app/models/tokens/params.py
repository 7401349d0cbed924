r"""Token synchronization: the parameters of the tab, their order and the presets.

The params are declared here, once; :mod:`app.models.tokens.model` adds the behaviour
(:class:`~app.models.tokens.model.TokensModel` subclasses :class:`TokensParams`). Spec
``models/tokens.md`` §3–§5; Agazzi, Bruno, Mosig García, Saviozzi, Romito, arXiv:2604.26898.
"""

from __future__ import annotations

from typing import ClassVar

import param

from app.models.base import SimulationModel
from kernels.common.activations import ACTIVATIONS

ENERGY_KINDS = ("glpr", "mean_norm", "distance")
INITS = ("uniform", "hemisphere", "cap", "pair", "equiangular")
#: Every activation of the kernels, in their order (the rows of the activation × dimension map).
ACTIVATION_NAMES: tuple[str, ...] = tuple(ACTIVATIONS)

TEACHING_DEFAULT = "Teaching default: noise alone synchronizes"


class TokensParams(SimulationModel):
    """The parameters of the token tab (spec §2–§4): bounds, docs, order, presets."""

    speed = param.Integer(default=100, doc="Layers advanced per animation tick.")
    n_tokens = param.Integer(32, label="N tokens", bounds=(2, 256), doc="N: number of tokens.")
    dim = param.Selector(
        default=3,
        label="d dimension",
        objects=[2, 3, 4, 8, 16, 32, 64],
        doc="d: tokens live on the sphere S^(d-1).",
    )
    width = param.Integer(
        64,
        label="m MLP width",
        bounds=(1, 512),
        doc="m: MLP width. With fresh hidden weights the limit does not depend on m.",
    )
    sigma_noise = param.Number(
        2.0,
        label="σ_n noise strength",
        bounds=(0.0, 4.0),
        step=0.05,
        doc="σ_n: strength of the common noise (random MLPs).",
    )
    activation = param.Selector(
        default="relu",
        label="s activation",
        objects=list(ACTIVATIONS),
        doc="s: the MLP activation.",
    )
    sigma_w = param.Number(
        1.0, label="σ_w weight scale", bounds=(0.1, 3.0), step=0.05, doc="σ_w: hidden weight scale."
    )
    sigma_b = param.Number(
        0.0,
        label="σ_b bias scale",
        bounds=(0.0, 3.0),
        step=0.05,
        doc="σ_b: hidden bias scale (breaks odd symmetry).",
    )
    attn_kind = param.Selector(
        default="sa",
        label="Attention kind",
        objects=["sa", "usa"],
        doc="Attention: softmax (SA) or unnormalized (USA) self-attention, Q=K=V=I.",
    )
    attn_strength = param.Number(
        0.0,
        label="α attention strength",
        bounds=(-2.0, 2.0),
        step=0.05,
        doc="α: attention strength; α>0 attracts, α<0 repels, 0 switches attention off.",
    )
    beta = param.Number(
        1.0,
        label="β inverse temperature",
        bounds=(0.0, 10.0),
        step=0.1,
        doc="β: attention inverse temperature.",
    )
    dt = param.Number(
        5e-3,
        label="h layer step",
        bounds=(1e-3, 2e-2),
        step=1e-3,
        doc="h: layer step (depth L = T/h layers).",
    )
    t_max = param.Number(
        10.0,
        label="T horizon (depth)",
        bounds=(1.0, 40.0),
        step=0.5,
        doc="T: horizon (network depth).",
    )
    n_real = param.Integer(
        64,
        label="R realizations",
        bounds=(1, 1024),
        doc="R: realizations of the noise for the ensemble panel.",
    )
    rho0 = param.Number(
        0.9999,
        label="ρ₀ initial overlap",
        bounds=(-1.0, 1.0),
        step=1e-4,
        doc="ρ₀: initial overlap ⟨x_i,x_j⟩ for the pair and equiangular starts.",
    )
    init = param.Selector(
        label="Initial tokens", default="uniform", objects=list(INITS), doc="Initial token cloud."
    )
    energy_kind = param.Selector(
        default="glpr",
        label="Energy",
        objects=list(ENERGY_KINDS),
        doc="Interaction energy: (a) GLPR gap, (b) 1−|x̄|², (c) mean |x_i−x_j|^q.",
    )
    energy_q = param.Number(
        0.5,
        label="q energy exponent",
        bounds=(0.1, 2.0),
        step=0.05,
        doc="q: exponent of energy (c).",
    )
    noise_sharing = param.Selector(
        default="common",
        label="Noise sharing",
        objects=["common", "independent"],
        doc="Common: one random MLP per layer for all tokens. Independent: one per token.",
    )
    hidden_weights = param.Selector(
        default="fresh",
        label="Hidden weights",
        objects=["fresh", "fixed"],
        doc="Fresh: all MLP weights redrawn each layer. Fixed: B, b drawn once per run.",
    )
    splitting = param.Selector(
        default="lie_trotter",
        label="Splitting",
        objects=["lie_trotter", "strang"],
        doc="Lie–Trotter (attention then MLP) or Strang/Macaron (MLP/2, attention, MLP/2).",
    )
    manifold = param.Selector(
        default="sphere",
        label="Manifold",
        objects=["sphere", "euclidean"],
        doc="Sphere: normalize after each layer. Euclidean: no normalization (exploratory).",
    )

    restart_params = ("n_tokens", "dim", "init", "rho0", "hidden_weights", "manifold", "n_real")
    live_params = (
        "width",
        "sigma_noise",
        "activation",
        "sigma_w",
        "sigma_b",
        "attn_kind",
        "attn_strength",
        "beta",
        "dt",
        "t_max",
        "energy_kind",
        "energy_q",
        "noise_sharing",
        "splitting",
    )
    display_order = (
        "sigma_noise",
        "activation",
        "attn_strength",
        "attn_kind",
        "beta",
        "dim",
        "n_tokens",
        "width",
        "init",
        "dt",
        "t_max",
        "energy_kind",
        "sigma_w",
        "sigma_b",
        "noise_sharing",
        "hidden_weights",
        "splitting",
        "manifold",
        "n_real",
        "rho0",
        "energy_q",
    )
    advanced_params = (
        "sigma_w",
        "sigma_b",
        "n_real",
        "rho0",
        "energy_q",
        "noise_sharing",
        "hidden_weights",
        "splitting",
        "manifold",
    )
    presets = {
        TEACHING_DEFAULT: {"seed": 1},
        "Independent noise": {"noise_sharing": "independent"},
        "Odd activation: two antipodal clusters": {"activation": "tanh"},
        "Odd activation plus bias: one cluster": {
            "activation": "tanh",
            "sigma_w": 0.8,
            "sigma_b": 1.0,
            "sigma_noise": 1.5,
        },
        "Dimension decides: tanh never collapses": {
            "dim": 32,
            "n_tokens": 16,
            "sigma_noise": 1.0,
            "activation": "tanh",
        },
        "Dimension decides: sigmoid collapses": {
            "dim": 32,
            "n_tokens": 16,
            "sigma_noise": 1.0,
            "activation": "sigmoid",
        },
        "Repulsive attention beats weak noise": {
            "n_tokens": 16,
            "attn_strength": -0.5,
            "t_max": 20.0,
            "sigma_noise": 0.7,
        },
        "Strong noise beats repulsive attention": {
            "n_tokens": 16,
            "attn_strength": -0.5,
            "t_max": 20.0,
            "sigma_noise": 2.0,
        },
        "Mean vs median": {
            "n_tokens": 2,
            "init": "pair",
            "rho0": 0.9999,
            "sigma_noise": 1.0,
            "n_real": 1024,
            "width": 8,
            "t_max": 2.0,
        },
    }
    default_preset = TEACHING_DEFAULT
    divergence_hint = (
        "lower the noise strength σ_n or the layer step h (or switch back to the sphere), "
        "then reset"
    )
    #: Params the analytic predictions (kernel curves, phase diagrams, rates) depend on.
    theory_params: ClassVar[tuple[str, ...]] = (
        "activation",
        "sigma_w",
        "sigma_b",
        "sigma_noise",
        "dim",
        "attn_kind",
        "attn_strength",
        "beta",
    )
    #: Params that only change how the recorded positions are read (energies are recomputed
    #: from the positions), so a change keeps the ensemble's result valid.
    display_params: ClassVar[tuple[str, ...]] = ("energy_kind", "energy_q")
