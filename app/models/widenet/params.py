"""The controls of the Wasserstein-convergence tab: every parameter, its bounds, doc and presets.

Spec ``models/widenet.md`` §2 (parameters) and §5 (presets). :class:`WidenetControls` declares
them; :class:`app.models.widenet.model.WidenetModel` adds the behaviour.
"""

from __future__ import annotations

from typing import Any, ClassVar

import param

from app.models.base import SimulationModel
from app.models.story import Story

#: Hidden activations offered by the tab.
ACTIVATIONS = ("relu", "tanh", "erf", "linear")

# What the user reads for each option (label -> value): the value stays the identifier the
# code, the URL and the exports use.
#: Weight laws by their label.
WEIGHT_LAW_LABELS = {
    "Gaussian": "gaussian",
    "Rademacher (±1)": "rademacher",
    "Uniform": "uniform",
    "Centred exponential (skewed)": "centred_exp",
    "Student-t (heavy tails)": "student_t",
}
#: Activations by their label.
ACTIVATION_LABELS = {"ReLU": "relu", "tanh": "tanh", "erf": "erf", "Linear (identity)": "linear"}

#: The preset a fresh model loads (preset names are what the Preset menu shows).
TEACHING_DEFAULT = "Skewed weights (teaching default)"
SMOOTH_SYMMETRIC = "Uniform weights: fast 1/n"
LATTICE = "Rademacher lattice: symmetric yet slow"
FIRST_LAYER_TRAP = "First-layer trap: a plateau"
BOUNDS_SANDWICH = "Gaussian weights between two bounds"
LINDEBERG_SWAP = "Lindeberg exchange, layer by layer"


class WidenetControls(SimulationModel):
    """Parameters (restart / live / advanced), their display order and the presets."""

    weight_law = param.Selector(
        label="Weight law",
        default="centred_exp",
        objects=WEIGHT_LAW_LABELS,
        doc="Law of every weight (standardised: mean 0, variance 1). Skewed (centred "
        "exponential) or lattice (Rademacher ±1) laws converge like 1/√n, smooth symmetric "
        "ones like 1/n.",
    )
    t_dof = param.Number(
        label="ν: Student-t degrees of freedom",
        default=6.0,
        bounds=(4.5, 30.0),
        step=0.5,
        doc="ν: degrees of freedom of the Student-t law (ν > 4 for a finite fourth moment).",
    )
    activation = param.Selector(
        label="σ: activation",
        default="relu",
        objects=ACTIVATION_LABELS,
        doc="σ: the hidden activation. ReLU is the teaching case; tanh and erf are smooth.",
    )
    n_hidden = param.Integer(
        label="L: hidden layers", default=1, bounds=(1, 4), doc="L: number of hidden layers."
    )
    width = param.Integer(
        label="n: width shown",
        default=64,
        bounds=(2, 1024),
        doc="n: the width shown (ringed on the W₂ plot, drawn in the output-law and covariance "
        "panels; snaps to the nearest width of the sweep). Play doubles it every few seconds.",
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
    readout_bias = param.Boolean(
        label="Readout bias", default=False, doc="Add a Gaussian readout bias of variance C_b."
    )
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
        label="First-layer target",
        default="true_law",
        objects={"True first-layer law": "true_law", "Gaussian formula": "gaussian_formula"},
        doc="Target of the first layer: its true (non-Gaussian) law, or the Gaussian formula "
        "C_W⟨x, x'⟩/n₀ + C_b, which leaves a width-independent plateau for non-Gaussian "
        "weights.",
    )
    first_layer_law = param.Selector(
        label="First-layer weights",
        default="as_chosen",
        objects={"As the weight law": "as_chosen", "Gaussian": "force_gaussian"},
        doc="Keep the chosen law in the first layer, or force it Gaussian.",
    )
    estimator = param.Selector(
        label="W₂ estimator",
        default="auto",
        objects={
            "Automatic": "auto",
            "Quantile (sorted outputs)": "quantile",
            "Rao–Blackwell mixture": "rao_blackwell",
            "Two-sample": "two_sample",
        },
        doc="W₂ estimator: sorted outputs against Gaussian quantiles, the Rao–Blackwell Gaussian "
        "mixture (Gaussian readout only), or against a Gaussian sample. auto: Rao–Blackwell when "
        "the readout is Gaussian, else quantile.",
    )
    floor_correction = param.Boolean(
        label="Subtract the noise floor",
        default=False,
        doc="Plot √max(Ŵ² − F², 0), F the noise floor of the estimator: what is left of the "
        "distance once its own sampling noise is taken out.",
    )
    hybrid_order = param.Selector(
        label="Lindeberg swap order",
        default="readout_first",
        objects={"Readout first": "readout_first", "Input first": "input_first"},
        doc="Order in which the Lindeberg exchange makes layers Gaussian.",
    )
    show_gaussian_baseline = param.Boolean(
        label="Gaussian-weights baseline",
        default=True,
        doc="Show the all-Gaussian-weights network in grey.",
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
    # Each preset starts at its sweep's smallest width (the Lindeberg one at the width of its
    # exchange): Play then doubles the width shown every frame_interval seconds
    # (app/models/widenet/model.py), and the preset's story unfolds as it walks up.
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        TEACHING_DEFAULT: {"n_replicates": 3, "width": 2},
        SMOOTH_SYMMETRIC: {
            "weight_law": "uniform",
            "width_min": 4,
            "width_max": 64,
            "width": 4,
            "n_nets": 100_000,
            "n_replicates": 3,
        },
        LATTICE: {
            "weight_law": "rademacher",
            "activation": "linear",
            "c_b": 0.0,
            "width_min": 4,
            "width_max": 1024,
            "width": 4,
            "n_replicates": 3,
        },
        FIRST_LAYER_TRAP: {
            "weight_law": "rademacher",
            "activation": "tanh",
            "first_layer_kernel": "gaussian_formula",
            "width": 2,
            "n_replicates": 3,
        },
        BOUNDS_SANDWICH: {
            "weight_law": "gaussian",
            "width_min": 16,
            "width_max": 1024,
            "width": 16,
            "n_replicates": 3,
            "estimator": "rao_blackwell",
        },
        LINDEBERG_SWAP: {
            "n_hidden": 2,
            "width": 8,
            "width_min": 2,
            "width_max": 64,
            "n_nets": 100_000,
            "n_replicates": 3,
        },
    }
    default_preset = TEACHING_DEFAULT
    divergence_hint = "lower C_W or the depth"

    #: What each preset shows, where, and the model method that says it has happened
    #: (:class:`app.models.story.Story`; the indicators are in app/models/widenet/model.py).
    #: Play doubles the width shown once per frame (3 s); the W₂ plot (panel B, the hero) rings
    #: it, the output law (panel A) draws it.
    stories: ClassVar[dict[str, Story]] = {
        TEACHING_DEFAULT: Story(
            look_for="Play doubles the width n every 3 s: the orange ring walks down the blue "
            "W₂ curve. Skewed weights halve the distance to the Gaussian limit only when n "
            "grows fourfold (slope ≈ −1/2), Gaussian weights (grey) at every doubling (slope "
            "−1): by n = 128 they are ten times apart.",
            indicator="gap_to_baseline_opened",
            controls=("weight_law", "width"),
        ),
        SMOOTH_SYMMETRIC: Story(
            look_for="Uniform weights are symmetric and light-tailed: W₂ halves at every "
            "doubling of n (slope −1), faster even than Gaussian weights (grey). By n = 64 the "
            "orange ring sinks into the grey noise floor: 100,000 networks can no longer tell "
            "the output from its Gaussian limit.",
            indicator="reached_floor",
            controls=("weight_law", "n_nets"),
        ),
        LATTICE: Story(
            look_for="±1 weights and linear units: the output takes only n + 1 values (a comb "
            "in the histogram below). Symmetric, every moment finite, yet W₂ falls only like "
            "1/√n along the red exact curve: by n = 128 it is ten times the grey "
            "Gaussian-weights curve.",
            indicator="gap_to_baseline_opened",
            controls=("weight_law", "activation", "width"),
        ),
        FIRST_LAYER_TRAP: Story(
            look_for="The target uses the Gaussian formula for a first layer that is not "
            "Gaussian (±1 weights, two inputs). Watch W₂ stop falling: from n = 16 on the "
            "orange ring stays on a plateau near 0.10. Set 'First-layer target' to the true "
            "law and the decay comes back.",
            indicator="plateau_held",
            controls=("first_layer_kernel", "width"),
        ),
        BOUNDS_SANDWICH: Story(
            look_for="Gaussian weights: the output is a Gaussian mixture, so W₂ (blue) is "
            "computed almost without noise and falls like 1/n. It stays between the Gelbrich "
            "lower bound (green, near 0) and the coupling upper bound (purple, 1/√n): by "
            "n = 256 that bound is ten times too high.",
            indicator="bounds_gap_opened",
            controls=("estimator", "width"),
        ),
        # the exchange is one study at the width n = 8 (run once the sweep is in), not a moment
        # of Play's walk through the widths: nothing to pace
        LINDEBERG_SWAP: Story(
            look_for="Panel C makes the weight layers Gaussian one at a time, from the readout "
            "in (width 8, two hidden layers): each swap lowers the distance to the Gaussian "
            "limit, but the red single-swap increments add up to more than the drop. To repeat "
            "it at another width, set n and press 'Run exchange at width shown'.",
            panel="lindeberg",
            controls=("width", "n_hidden"),
        ),
    }
