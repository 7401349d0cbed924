"""The controls of the Wasserstein-convergence tab: every parameter, its bounds, doc and presets.

Spec ``models/widenet.md`` §2 (parameters) and §5 (presets). :class:`WidenetControls` declares
them; :class:`app.models.widenet.model.WidenetModel` adds the behaviour.
"""

from __future__ import annotations

from typing import Any, ClassVar

import param

from app.models.base import SimulationModel
from kernels.widenet import WEIGHT_LAWS

#: Hidden activations offered by the tab.
ACTIVATIONS = ("relu", "tanh", "erf", "linear")


class WidenetControls(SimulationModel):
    """Parameters (restart / live / advanced), their display order and the presets."""

    weight_law = param.Selector(
        default="centred_exp",
        objects=list(WEIGHT_LAWS),
        doc="Law of every weight (standardised: mean 0, variance 1). Skewed (centred_exp) or "
        "lattice (rademacher) laws converge like n^-1/2, smooth symmetric ones like n^-1.",
    )
    t_dof = param.Number(
        label="ν: Student-t degrees of freedom",
        default=6.0,
        bounds=(4.5, 30.0),
        step=0.5,
        doc="ν: degrees of freedom of the Student-t law (ν > 4 for a finite fourth moment).",
    )
    activation = param.Selector(
        default="relu",
        objects=list(ACTIVATIONS),
        doc="σ: the hidden activation. ReLU is the teaching case; tanh and erf are smooth.",
    )
    n_hidden = param.Integer(
        label="L: hidden layers", default=1, bounds=(1, 4), doc="L: number of hidden layers."
    )
    width = param.Integer(
        label="n: width shown",
        default=64,
        bounds=(2, 1024),
        doc="n: the width shown in the output-law and covariance panels (snaps to the nearest "
        "width of the sweep).",
    )
    width_min = param.Integer(
        label="Smallest width",
        default=2,
        bounds=(2, 1024),
        doc="Smallest width of the sweep (rounded to a power of two).",
    )
    width_max = param.Integer(
        label="Largest width",
        default=256,
        bounds=(2, 1024),
        doc="Largest width of the sweep (rounded to a power of two).",
    )
    c_w = param.Number(
        label="C_W: weight variance",
        default=1.0,
        bounds=(0.5, 3.0),
        step=0.05,
        doc="C_W: weight variance.",
    )
    c_b = param.Number(
        label="C_b: bias variance",
        default=0.1,
        bounds=(0.0, 1.0),
        step=0.01,
        doc="C_b: bias variance (0 = no biases).",
    )
    readout_bias = param.Boolean(default=False, doc="Add a Gaussian readout bias of variance C_b.")
    n_inputs = param.Integer(
        label="k: inputs", default=1, bounds=(1, 3), doc="k: number of inputs x_r on the circle."
    )
    input_angle = param.Number(
        label="Δθ: angle between inputs (°)",
        default=60.0,
        bounds=(1.0, 180.0),
        step=1.0,
        doc="Δθ: angle between consecutive inputs, in degrees.",
    )
    n_nets = param.Integer(
        label="M: networks per width",
        default=20_000,
        bounds=(1000, 100_000),
        doc="M: independent networks sampled per width and replicate.",
    )
    n_replicates = param.Integer(
        label="R: replicates", default=5, bounds=(3, 20), doc="R: replicates for the error bars."
    )
    first_layer_kernel = param.Selector(
        default="true_law",
        objects=["true_law", "gaussian_formula"],
        doc="Target of the first layer: its true (non-Gaussian) law, or the Gaussian formula "
        "C_W⟨x,x'⟩/n0 + C_b, which leaves a width-independent plateau for non-Gaussian weights.",
    )
    first_layer_law = param.Selector(
        default="as_chosen",
        objects=["as_chosen", "force_gaussian"],
        doc="Keep the chosen law in the first layer, or force it Gaussian.",
    )
    estimator = param.Selector(
        default="auto",
        objects=["auto", "quantile", "rao_blackwell", "two_sample"],
        doc="W2 estimator: sorted outputs against Gaussian quantiles, the Rao–Blackwell Gaussian "
        "mixture (Gaussian readout only), or against a Gaussian sample. auto: Rao–Blackwell when "
        "the readout is Gaussian, else quantile.",
    )
    floor_correction = param.Boolean(
        default=False, doc="Plot √max(Ŵ² − F_M², 0): subtract the noise floor."
    )
    hybrid_order = param.Selector(
        default="readout_first",
        objects=["readout_first", "input_first"],
        doc="Order in which the Lindeberg exchange makes layers Gaussian.",
    )
    show_gaussian_baseline = param.Boolean(
        default=True, doc="Show the all-Gaussian-weights network in grey."
    )
    gh_degree = param.Integer(
        label="Gauss–Hermite nodes (tanh)",
        default=40,
        bounds=(20, 100),
        doc="Gauss–Hermite nodes of the tanh dual kernel.",
    )

    restart_params = (
        "weight_law",
        "t_dof",
        "activation",
        "n_hidden",
        "width_min",
        "width_max",
        "c_w",
        "c_b",
        "readout_bias",
        "n_inputs",
        "input_angle",
        "n_nets",
        "n_replicates",
        "first_layer_law",
        "hybrid_order",
    )
    live_params = (
        "width",
        "first_layer_kernel",
        "estimator",
        "floor_correction",
        "show_gaussian_baseline",
        "gh_degree",
    )
    display_order = (
        "weight_law",
        "activation",
        "n_hidden",
        "width",
        "width_min",
        "width_max",
        "n_nets",
        "n_replicates",
        "estimator",
        "floor_correction",
        "first_layer_kernel",
        "show_gaussian_baseline",
        "c_w",
        "c_b",
        "readout_bias",
        "n_inputs",
        "input_angle",
        "t_dof",
        "first_layer_law",
        "hybrid_order",
        "gh_degree",
    )
    advanced_params = (
        "c_w",
        "c_b",
        "readout_bias",
        "n_inputs",
        "input_angle",
        "t_dof",
        "first_layer_law",
        "hybrid_order",
        "gh_degree",
    )
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "teaching_default": {"n_replicates": 3},
        "smooth_symmetric": {
            "weight_law": "uniform",
            "width_min": 4,
            "width_max": 64,
            "width": 16,
            "n_nets": 100_000,
            "n_replicates": 3,
        },
        "lattice": {
            "weight_law": "rademacher",
            "activation": "linear",
            "c_b": 0.0,
            "width_min": 4,
            "width_max": 1024,
            "n_replicates": 3,
        },
        "first_layer_trap": {
            "weight_law": "rademacher",
            "activation": "tanh",
            "first_layer_kernel": "gaussian_formula",
            "n_replicates": 3,
        },
        "bounds_sandwich": {
            "weight_law": "gaussian",
            "width_min": 16,
            "width_max": 1024,
            "width": 256,
            "n_replicates": 3,
            "estimator": "rao_blackwell",
        },
        "lindeberg_swap": {
            "n_hidden": 2,
            "width": 8,
            "width_min": 2,
            "width_max": 64,
            "n_nets": 100_000,
            "n_replicates": 3,
        },
    }
    default_preset = "teaching_default"
    divergence_hint = "lower C_W or the depth"
