r"""Token synchronization: the parameters of the tab, their order and the presets.

The params are declared here, once; :mod:`app.models.tokens.model` adds the behaviour
(:class:`~app.models.tokens.model.TokensModel` subclasses :class:`TokensParams`). Spec
``models/tokens.md`` §3–§5; Agazzi, Bruno, Mosig García, Saviozzi, Romito, arXiv:2604.26898.
"""

from __future__ import annotations

from typing import ClassVar

import param

from app.models.base import SimulationModel
from app.models.story import Story
from kernels.common.activations import ACTIVATIONS

ENERGY_KINDS = ("glpr", "mean_norm", "distance")
INITS = ("uniform", "hemisphere", "cap", "pair", "equiangular")
#: Every activation of the kernels, in their order (the rows of the activation × dimension map).
ACTIVATION_NAMES: tuple[str, ...] = tuple(ACTIVATIONS)
#: What the user reads for each activation (the identifier stays in links and exports).
ACTIVATION_LABELS: dict[str, str] = {
    "linear": "linear",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "tanh": "tanh",
    "erf": "erf",
    "gelu": "GELU",
    "silu": "SiLU",
    "sigmoid": "sigmoid",
    "softplus": "softplus",
    "sin": "sine",
}


def _labelled(labels: dict[str, str]) -> dict[str, str]:
    """Selector objects ``{label: value}``: the widget shows the label, links keep the value."""
    return {label: value for value, label in labels.items()}


TEACHING_DEFAULT = "Teaching default: noise alone synchronizes"
MEAN_VS_MEDIAN = "Mean vs median"


class TokensParams(SimulationModel):
    """The parameters of the token tab (spec §2–§4): bounds, docs, order, presets."""

    # one layer per frame: the teaching default then synchronizes in about 20 s of play
    # (630 layers), a pace a lecturer can narrate; every preset sets its own speed
    speed = param.Integer(default=1, doc="Layers advanced per animation frame.")
    n_tokens = param.Integer(32, label="N tokens", bounds=(2, 256), doc="N: number of tokens.")
    dim = param.Selector(
        default=3,
        label="d dimension",
        objects=[2, 3, 4, 8, 16, 32, 64],
        doc="d: tokens live on the unit sphere of dimension d − 1 in d-space.",
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
        objects=_labelled({name: ACTIVATION_LABELS[name] for name in ACTIVATIONS}),
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
        objects=_labelled({"sa": "softmax (SA)", "usa": "unnormalized (USA)"}),
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
        doc="ρ₀: initial overlap ⟨xᵢ, xⱼ⟩ for the pair and equiangular starts.",
    )
    init = param.Selector(
        label="Initial tokens",
        default="uniform",
        objects=_labelled(
            {
                "uniform": "uniform on the sphere",
                "hemisphere": "one hemisphere",
                "cap": "small cap",
                "pair": "close pair",
                "equiangular": "equiangular",
            }
        ),
        doc="Initial token cloud.",
    )
    energy_kind = param.Selector(
        default="glpr",
        label="Energy",
        objects=_labelled(
            {
                "glpr": "(a) attention energy gap",
                "mean_norm": "(b) 1 − |x̄|²",
                "distance": "(c) mean distance to the power q",
            }
        ),
        doc="Interaction energy: (a) the attention-energy gap of Geshkovski et al., "
        "(b) 1 − |x̄|², (c) the mean of |xᵢ − xⱼ| to the power q.",
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
        objects=_labelled({"common": "common (shared)", "independent": "independent"}),
        doc="Common: one random MLP per layer for all tokens. Independent: one per token.",
    )
    hidden_weights = param.Selector(
        default="fresh",
        label="Hidden weights",
        objects=_labelled({"fresh": "fresh every layer", "fixed": "fixed per run"}),
        doc="Fresh: all MLP weights redrawn each layer. Fixed: B, b drawn once per run.",
    )
    splitting = param.Selector(
        default="lie_trotter",
        label="Splitting",
        objects=_labelled({"lie_trotter": "Lie–Trotter", "strang": "Strang (Macaron)"}),
        doc="Lie–Trotter (attention then MLP) or Strang/Macaron (MLP/2, attention, MLP/2).",
    )
    manifold = param.Selector(
        default="sphere",
        label="Manifold",
        objects=_labelled({"sphere": "sphere", "euclidean": "euclidean"}),
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
    # Each preset's "speed" (layers per frame) and, where one layer per frame is still too
    # fast, its layer step h set the pace: the phenomenon unfolds over 10–60 s of play (at 30
    # frames per second; frames measured in tests/app/test_stories.py). Every preset
    # runs seed 1, so the pace and the picture a lecturer rehearsed are the ones shown.
    presets = {
        TEACHING_DEFAULT: {"speed": 1, "seed": 1},
        "Independent noise": {"noise_sharing": "independent", "speed": 1, "seed": 1},
        "Odd activation: two antipodal clusters": {"activation": "tanh", "speed": 1, "seed": 1},
        "Odd activation plus bias: one cluster": {
            "activation": "tanh",
            "sigma_w": 0.8,
            "sigma_b": 1.0,
            "sigma_noise": 1.5,
            "speed": 1,
            "seed": 1,
        },
        # sigmoid collapses by t ≈ 1 at h = 5e-3 (200 layers: 7 s at one layer per frame);
        # h = 2e-3 spreads the same depth over 500 layers, T = 4 keeps the run 2000 layers
        "Dimension decides: tanh never collapses": {
            "dim": 32,
            "n_tokens": 16,
            "sigma_noise": 1.0,
            "activation": "tanh",
            "dt": 2e-3,
            "t_max": 4.0,
            "speed": 1,
            "seed": 1,
        },
        "Dimension decides: sigmoid collapses": {
            "dim": 32,
            "n_tokens": 16,
            "sigma_noise": 1.0,
            "activation": "sigmoid",
            "dt": 2e-3,
            "t_max": 4.0,
            "speed": 1,
            "seed": 1,
        },
        "Repulsive attention beats weak noise": {
            "n_tokens": 16,
            "attn_strength": -0.5,
            "t_max": 20.0,
            "sigma_noise": 0.7,
            "speed": 2,
            "seed": 1,
        },
        "Strong noise beats repulsive attention": {
            "n_tokens": 16,
            "attn_strength": -0.5,
            "t_max": 20.0,
            "sigma_noise": 2.0,
            "speed": 2,
            "seed": 1,
        },
        # h = 2e-3: the mean and the median part by a factor e each near t ≈ 1, which is
        # 500 layers (17 s at one layer per frame) instead of 200
        MEAN_VS_MEDIAN: {
            "n_tokens": 2,
            "init": "pair",
            "rho0": 0.9999,
            "sigma_noise": 1.0,
            "n_real": 1024,
            "width": 8,
            "t_max": 2.0,
            "dt": 2e-3,
            "speed": 1,
            "seed": 1,
        },
    }
    #: What each preset shows (spec §5): the caption under the status line, the panel moved to
    #: the top while it is on ("": the hero shows it) and the model method that tells when it
    #: has happened in the current run.
    stories: ClassVar[dict[str, Story]] = {
        TEACHING_DEFAULT: Story(
            look_for="Every layer sends all 32 tokens through the same random MLP, so tokens "
            "that are close get almost the same push and drift together. With no attraction at "
            "all (α = 0) the cloud on the sphere shrinks to a single dot around depth t ≈ 3, "
            "when the chip “pairs ⟨xᵢ, xⱼ⟩ > 0.999” reaches 100 %.",
            indicator="has_synchronized",
            controls=("sigma_noise", "attn_strength"),
        ),
        "Independent noise": Story(
            look_for="The same network, except that every token now gets its own random MLP. "
            "Without a shared push nothing pulls the tokens together: at half the depth "
            "(t = 5) they still cover the whole sphere, and |x̄| stays near 1/√32 ≈ 0.18.",
            indicator="has_stayed_spread",
            controls=("noise_sharing", "sigma_noise"),
        ),
        "Odd activation: two antipodal clusters": Story(
            look_for="The activation tanh is odd, s(−x) = −s(x): a token and its mirror image "
            "−x always get opposite pushes, so the noise cannot bring them together. Watch the "
            "tokens gather into two clusters on opposite sides of the sphere (the far one is "
            "drawn faded), complete around t ≈ 3.",
            indicator="has_antipodal_clusters",
            controls=("activation", "sigma_noise"),
        ),
        "Odd activation plus bias: one cluster": Story(
            look_for="A bias σ_b = 1 inside the MLP breaks the mirror symmetry of tanh, so "
            "antipodal tokens are no longer protected. Compare with the preset without bias: "
            "now all tokens end in a single cluster, more slowly than with ReLU (around "
            "t ≈ 5).",
            indicator="has_synchronized",
            controls=("sigma_b", "activation"),
        ),
        "Dimension decides: tanh never collapses": Story(
            look_for="In d = 32 the hero shows a fixed random 2-D projection of the tokens and "
            "their overlaps ⟨xᵢ, xⱼ⟩ as a Gram matrix (right; dark blue = 1, dark red = −1). "
            "For tanh in high dimension the noise spreads pairs faster than it joins them "
            "(λ_dist = +0.62 > 0): pairs meet and part again, and at t = 2, when sigmoid has "
            "long collapsed, the matrix is still a patchwork of red and blue.",
            indicator="has_stayed_spread",
            controls=("activation", "dim"),
        ),
        "Dimension decides: sigmoid collapses": Story(
            look_for="Same dimension d = 32, now with sigmoid, whose kernel gives "
            "λ_dist = −3.9: strongly synchronizing. The Gram matrix on the right turns dark "
            "blue within seconds, then the projected dots merge and the chip “pairs ⟨xᵢ, xⱼ⟩ > "
            "0.999” reaches 100 % around t ≈ 1; tanh in the same dimension never collapses.",
            indicator="has_synchronized",
            controls=("activation", "dim"),
        ),
        "Repulsive attention beats weak noise": Story(
            look_for="Attention now pushes tokens apart (α = −0.5) and the common noise is weak: "
            "σ_n = 0.7 is below the threshold σ_n = 1 of this setting, so λ_dist = +0.26. The "
            "tokens keep spreading over the sphere and at half the depth (t = 10) the cloud is "
            "still wide, where the strong-noise preset has already collapsed.",
            indicator="has_stayed_spread",
            controls=("sigma_noise", "attn_strength"),
        ),
        "Strong noise beats repulsive attention": Story(
            look_for="The same repulsive attention (α = −0.5), but common noise σ_n = 2, above "
            "the threshold σ_n = 1: λ_dist = −1.5. The shared random push beats the repulsion "
            "and all 16 tokens merge into one cluster around t ≈ 6.",
            indicator="has_synchronized",
            controls=("sigma_noise", "attn_strength"),
        ),
        MEAN_VS_MEDIAN: Story(
            look_for="Two tokens start almost together; the ensemble panel, moved to the top, "
            "follows 1024 draws of the noise. The mean energy (orange) rises while the median "
            "(blue) falls: a few pairs that fly apart dominate the mean, yet almost every pair "
            "gets closer. Press Play: the grey line follows the depth of the run, and past "
            "t ≈ 1 mean and median have each moved by a factor e, in opposite directions.",
            panel="ensemble",
            indicator="has_mean_median_split",
            controls=("sigma_noise", "width"),
        ),
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
