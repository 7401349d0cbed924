"""Parameters and presets of the Adaptive SGD tab (spec ``models/adaptive.md`` §2.7, §5).

Every scientific parameter is a bounded, documented param (its ``doc`` becomes the tooltip and
the glossary line); :class:`app.models.adaptive.model.AdaptiveModel` adds the simulation.
"""

from __future__ import annotations

import math
from typing import ClassVar

import param

from app.models.base import SimulationModel
from app.models.story import Story

ORDERS = ("ode", "sde1", "sme2")
#: What the user reads for each continuous order (the identifier stays in links and exports).
ORDER_LABELS = {"ode": "ODE", "sde1": "SDE1", "sme2": "SME2"}
TEACHING_DEFAULT = "Teaching default: RMSprop and its SDE"
AUTHORS_QUADRATIC = "Authors' quadratic (ballistic SME2)"
WEAK_ORDER = "Weak order, ballistic"
SQUARE_ROOT_RULE = "Square-root rule, Adam"
LINEAR_RULE = "Naive linear rule, Adam"
DOUBLE_WELL = "Double well (authors)"
SGD_SME = "SGD and its SME"
#: Play units of one run: each animation frame advances ``speed`` of them, so at speed s the
#: whole run plays in PLAY_UNITS / s frames (PLAY_UNITS / (30 s) seconds at 30 frames/s),
#: whatever its number of stored frames (17 for the weak-order run, about 200 for most).
PLAY_UNITS = 6000


#: Play speed of each preset (see PLAY_UNITS and the presets below).
SPEEDS = {
    TEACHING_DEFAULT: 5,
    AUTHORS_QUADRATIC: 8,
    WEAK_ORDER: 20,
    SQUARE_ROOT_RULE: 8,
    LINEAR_RULE: 8,
    DOUBLE_WELL: 5,
    SGD_SME: 6,
}


def _labelled(labels: dict[str, str]) -> dict[str, str]:
    """Selector objects ``{label: value}``: the widget shows the label, links keep the value."""
    return {label: value for value, label in labels.items()}


class AdaptiveParams(SimulationModel):
    """The parameters, their grouping and the presets of the Adaptive SGD tab (spec §2.7, §5)."""

    speed = param.Integer(
        default=10,
        bounds=(1, 120),
        doc=f"Play speed: at speed s the whole run plays in {PLAY_UNITS} / s animation frames "
        f"(speed 10: about {PLAY_UNITS // 10 // 30} s at 30 frames/s), however many steps it has.",
    )
    optimizer = param.Selector(
        default="rmsprop",
        objects=_labelled({"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam"}),
        label="Optimizer",
        doc="SGD, RMSprop or Adam (with bias correction).",
    )
    regime = param.Selector(
        default="batch_equivalent",
        objects=_labelled(
            {"ballistic": "ballistic (η = τ)", "batch_equivalent": "batch-equivalent (η = √τ)"}
        ),
        label="Regime",
        doc="Ballistic: η = τ, small noise, ODE to leading order. Batch-equivalent: η = √τ, "
        "noise σ0/η per step, an SDE with O(1) noise (Malladi et al.). SGD is ballistic only.",
    )
    landscape = param.Selector(
        default="quadratic",
        objects=_labelled(
            {
                "quadratic": "quadratic",
                "linreg": "linear regression",
                "double_well": "double well (1-D)",
            }
        ),
        label="Landscape",
        doc="Quadratic ½θᵀAθ with shifted-minimum noise; linear regression with minibatch "
        "noise; the authors' 1-D double well.",
    )
    log2_tau = param.Number(
        -6.0,
        bounds=(-10.0, -1.0),
        step=0.25,
        label="Step τ (log₂)",
        doc="τ: SDE time per step (t = kτ). η = τ (ballistic) or √τ.",
    )
    c1 = param.Number(
        1.0,
        bounds=(0.05, 10.0),
        step=0.05,
        label="Momentum rate c1 (1 − β1 = c1τ)",
        doc="c1: Adam's momentum rate, 1−β1 = c1τ.",
    )
    c2 = param.Number(
        1.0,
        bounds=(0.05, 10.0),
        step=0.05,
        label="Second-moment rate c2 (1 − β2 = c2τ)",
        doc="c2: second-moment rate, 1−β2 = c2τ.",
    )
    log10_eps = param.Number(
        -1.0,
        bounds=(-8.0, 0.0),
        step=0.25,
        label="Stabilizer ε (log₁₀)",
        doc="ε (ballistic) or ε0 = ηε (batch-equivalent).",
    )
    sigma = param.Number(
        0.5,
        bounds=(0.0, 3.0),
        step=0.05,
        label="Noise scale σ",
        doc="σ (ballistic, = 1/√B) or σ0 = √(τ/B) (batch-equivalent).",
    )
    t_final = param.Number(
        8.0, bounds=(0.5, 50.0), step=0.5, label="Horizon T", doc="T: horizon in SDE time."
    )
    theta0_x = param.Number(
        2.0,
        bounds=(-10.0, 10.0),
        step=0.1,
        label="Start θ0, first coordinate",
        doc="First coordinate of the start θ0 (the double well uses it).",
    )
    theta0_y = param.Number(
        1.0,
        bounds=(-10.0, 10.0),
        step=0.1,
        label="Start θ0, second coordinate",
        doc="Second coordinate of the start θ0 (2-D landscapes).",
    )
    v0 = param.Number(
        1.0,
        bounds=(1e-3, 10.0),
        step=0.01,
        label="Start second moment v0 (u0)",
        doc="Start of the second moment: v0 (ballistic) or u0 = η²v0.",
    )
    sde_order = param.Selector(
        default="sde1",
        objects=_labelled(
            {
                "ode": "ODE (no noise)",
                "sde1": "SDE, first order (SDE1)",
                "sme2": "SME, second order (SME2)",
            }
        ),
        label="Continuous equation",
        doc="Drawn next to the chain: ODE, first-order SDE, or the "
        "second-order SME (b0 + τb1, full noise).",
    )
    w2 = param.Boolean(
        True,
        label="Independent noise W2 in the v-equation",
        doc="The term c2·M½·dW2 of SME2: an independent Brownian motion W2 drives v.",
    )
    v_order = param.Selector(
        default="lagged",
        objects=_labelled({"lagged": "lagged (authors)", "pytorch": "PyTorch"}),
        label="Order of the v update",
        doc="Lagged (authors: θ uses vₖ) or PyTorch (θ uses vₖ₊₁).",
    )
    gradient_noise = param.Selector(
        default="shifted",
        objects=_labelled({"shifted": "shifted minimum", "isotropic": "isotropic"}),
        label="Gradient noise of the quadratic",
        doc="Shifted minimum (Σ = σ²AAᵀ) or isotropic (σ²I).",
    )
    a11 = param.Number(
        1.0,
        bounds=(0.1, 5.0),
        step=0.05,
        label="Curvature A₁₁",
        doc="Hessian entry A₁₁ of the quadratic.",
    )
    a12 = param.Number(
        0.5,
        bounds=(-4.0, 4.0),
        step=0.05,
        label="Curvature A₁₂",
        doc="Off-diagonal A₁₂ (clamped so A stays positive definite).",
    )
    a22 = param.Number(
        1.0,
        bounds=(0.1, 5.0),
        step=0.05,
        label="Curvature A₂₂",
        doc="Hessian entry A₂₂ of the quadratic.",
    )
    noise_level = param.Number(
        0.0,
        bounds=(0.0, 1.0),
        step=0.05,
        label="Double-well noise level α",
        doc="α: (f1, f2) → (f1 + α(f1−f2), f2 − α(f1−f2)).",
    )
    n_paths = param.Integer(
        128,
        bounds=(16, 4096),
        label="Paths per ensemble N",
        doc="Paths in each ensemble (chain and continuous).",
    )
    n_sub = param.Integer(
        4,
        bounds=(1, 64),
        label="SDE substeps per step",
        doc="Euler–Maruyama substeps h = τ/n_sub per optimizer step.",
    )
    v_floor_tau = param.Number(
        1.0,
        bounds=(0.01, 100.0),
        step=0.01,
        label="Floor on v (units of τ)",
        doc="Clamp on v, u inside D and D′ in the SDEs, in units of τ.",
    )
    d_prime = param.Selector(
        default="exact",
        objects=_labelled({"exact": "exact", "approx": "authors' −D³/2"}),
        label="Form of D′",
        doc="Exact D′ or the authors' −D³/2 (exact only at ε = 0).",
    )
    b1_coeffs = param.Selector(
        default="derived",
        objects=_labelled({"derived": "moment-matched", "authors": "authors'"}),
        label="Order-2 coefficients",
        doc="Batch-equivalent SME2: moment-matched or the authors'.",
    )
    scaling_rule = param.Selector(
        default="srsr",
        objects=_labelled(
            {
                "srsr": "square-root rule",
                "no_beta_eps": "square-root, β and ε kept",
                "linear": "linear rule",
            }
        ),
        label="Scaling rule",
        doc="Square-root rule: η→√κη, 1−β→κ(1−β), ε→ε/√κ; the second keeps β and ε; the "
        "linear rule: η→κη.",
    )
    kappa_max = param.Selector(
        default=8,
        objects=[2, 4, 8, 16, 32],
        label="Largest batch factor κ",
        doc="Batch-size factors κ = 1, 2, 4, … up to κ max.",
    )
    weak_paths = param.Integer(
        20000,
        bounds=(1000, 100000),
        label="Weak-error paths",
        doc="Coupled paths per τ in the weak-error study (spec: 10⁵).",
    )
    time_index = param.Integer(
        0, bounds=(0, None), label="Time frame", doc="Frame shown (the time scrubber)."
    )

    restart_params = ("optimizer", "regime", "landscape", "n_paths")
    live_params = (
        "log2_tau",
        "c1",
        "c2",
        "log10_eps",
        "sigma",
        "t_final",
        "theta0_x",
        "theta0_y",
        "v0",
        "sde_order",
        "w2",
        "v_order",
        "gradient_noise",
        "a11",
        "a12",
        "a22",
        "noise_level",
        "n_sub",
        "v_floor_tau",
        "d_prime",
        "b1_coeffs",
        "scaling_rule",
        "kappa_max",
        "weak_paths",
    )
    display_order = (
        "optimizer",
        "regime",
        "landscape",
        "log2_tau",
        "c2",
        "c1",
        "log10_eps",
        "sigma",
        "t_final",
        "sde_order",
        "w2",
        "v_order",
        "theta0_x",
        "theta0_y",
        "v0",
        "n_paths",
        "scaling_rule",
        "kappa_max",
        "gradient_noise",
        "a11",
        "a12",
        "a22",
        "noise_level",
        "n_sub",
        "v_floor_tau",
        "d_prime",
        "b1_coeffs",
        "weak_paths",
    )
    advanced_params = (
        "gradient_noise",
        "a11",
        "a12",
        "a22",
        "noise_level",
        "n_sub",
        "v_floor_tau",
        "d_prime",
        "b1_coeffs",
        "weak_paths",
    )
    # Each preset plays at its own speed (PLAY_UNITS / speed frames per run), chosen so that
    # its story's indicator turns True after 10–60 s of play at 30 frames/s (issue 12; the
    # frames are measured in tests/app/test_stories.py).
    presets = {
        TEACHING_DEFAULT: dict(speed=SPEEDS[TEACHING_DEFAULT]),
        AUTHORS_QUADRATIC: dict(
            regime="ballistic",
            sigma=0.25,
            theta0_x=10.0,
            theta0_y=5.0,
            c2=0.5,
            log10_eps=-6.0,
            t_final=10.0,
            log2_tau=-3.0,
            sde_order="sme2",
            speed=SPEEDS[AUTHORS_QUADRATIC],
        ),
        WEAK_ORDER: dict(
            regime="ballistic",
            a11=1.0,
            a12=0.0,
            a22=1.0,
            sigma=1.0,
            c2=1.0,
            theta0_x=1.0,
            theta0_y=1.0,
            t_final=1.0,
            log2_tau=-4.0,
            sde_order="sme2",
            n_paths=512,
            speed=SPEEDS[WEAK_ORDER],
        ),
        SQUARE_ROOT_RULE: dict(
            optimizer="adam",
            log2_tau=-8.0,
            c1=1.0,
            c2=0.5,
            t_final=8.0,
            n_paths=256,
            scaling_rule="srsr",
            speed=SPEEDS[SQUARE_ROOT_RULE],
        ),
        LINEAR_RULE: dict(
            optimizer="adam",
            log2_tau=-8.0,
            c1=1.0,
            c2=0.5,
            t_final=8.0,
            n_paths=256,
            scaling_rule="linear",
            speed=SPEEDS[LINEAR_RULE],
        ),
        # the authors' τ, B, ε and start −0.3, with their largest noise level α = 1: about a
        # third of the paths cross the barrier (at α = 0 from −0.15 none did); the split is
        # decided by t ≈ 1, so the horizon is 2.5 rather than their 4
        DOUBLE_WELL: dict(
            landscape="double_well",
            regime="ballistic",
            log2_tau=math.log2(0.02),
            sigma=0.35,
            log10_eps=-1.0,
            t_final=2.5,
            theta0_x=-0.3,
            noise_level=1.0,
            n_paths=1024,
            c1=1.0,
            c2=0.5,
            sde_order="sme2",
            speed=SPEEDS[DOUBLE_WELL],
        ),
        # the noise floor is reached by t ≈ 2: a horizon of 5 leaves it in view without
        # minutes of jitter
        SGD_SME: dict(
            optimizer="sgd",
            regime="ballistic",
            log2_tau=-3.0,
            sigma=1.0,
            t_final=5.0,
            sde_order="sme2",
            n_paths=512,
            speed=SPEEDS[SGD_SME],
        ),
    }
    #: What each preset is for (:class:`app.models.story.Story`): shown under the status line,
    #: its panel moved to the top, its indicator (a method of
    #: :class:`app.models.adaptive.model.AdaptiveModel`) timed by the stories test.
    stories: ClassVar[dict[str, Story]] = {
        TEACHING_DEFAULT: Story(
            "Blue is RMSprop itself, red its first-order SDE, both driven by the same noise. "
            "Watch the two shaded clouds slide down into the minimum together and stay there "
            "with the same spread: the noise, not the drift, now sets the loss. They settle for "
            "good around t ≈ 3, once RMSprop's running average of squared gradients has come "
            "down to the noise variance (lower plot of “Moments over time”).",
            indicator="has_settled",
            controls=("sigma", "log2_tau"),
        ),
        AUTHORS_QUADRATIC: Story(
            "Ballistic regime: the noise is weak, so each cloud is a small dot and what matters "
            "is its path. RMSprop divides each gradient coordinate by its running size, so the "
            "chain (blue), SME2 (red) and the noise-free ODE (green) cut across the contours "
            "rather than down the steepest slope, reach the valley floor around t ≈ 7 and turn "
            "towards the minimum. SME2 stays closer to the chain than the ODE does.",
            indicator="has_reached_valley",
            controls=("sde_order", "sigma", "log2_tau"),
        ),
        # the point is a comparison across five step sizes (the weak-error study, computed
        # when the server starts and shown when the preset is chosen), not a moment of one run:
        # no pace indicator
        WEAK_ORDER: Story(
            "The weak-error study at the top runs the chain and its continuous equations with "
            "the same noise for five step sizes τ and plots the error at T = 1 on log–log axes "
            "(computed when the server starts; if it is still running, the bar shows its "
            "progress). SME2 (purple) falls along the "
            "slope-2 guide, the ODE and SDE1 only along slope 1; switch φ to ‖v‖² and SME2 "
            "without the independent noise W2 (orange) drops back to slope 1.",
            panel="weak",
            controls=("w2", "sde_order"),
        ),
        SQUARE_ROOT_RULE: Story(
            "The scaling panel at the top runs Adam with batches κ = 1, 2, 4 and 8 times "
            "larger, scaled by the square-root rule: learning rate ×√κ, 1 − β ×κ, ε ÷√κ. Press "
            "Play: the four loss curves fall, overshoot together (Adam's momentum) and settle "
            "on the same noise floor, on top of the dashed SDE. On SDE time the batch size no "
            "longer matters.",
            panel="scaling",
            indicator="has_settled",
            controls=("scaling_rule", "kappa_max", "log2_tau"),
        ),
        LINEAR_RULE: Story(
            "The same four batch sizes, now scaled by the naive linear rule: learning rate ×κ, "
            "β and ε kept. Press Play: the curves fan out. The larger the batch, the later it "
            "comes down and the longer it rings, while κ = 1 stays on the dashed SDE.",
            panel="scaling",
            indicator="has_settled",
            controls=("scaling_rule", "kappa_max"),
        ),
        DOUBLE_WELL: Story(
            "Every path starts at θ = −0.3, just left of the barrier between two wells (dotted "
            "lines); the shading shows where the chain's paths are. The noise pushes about a "
            "third of them over the barrier into the right well by t ≈ 1, and then nobody "
            "crosses back. The readout compares the split: the chain and SME2 put the same "
            "share in each well.",
            indicator="has_split",
            controls=("noise_level", "theta0_x"),
        ),
        SGD_SME: Story(
            "Plain SGD next to its stochastic modified equation, in the loss panel at the top "
            "(log scale). The chain (blue) and the SDEs level off on a noise floor near 0.09, "
            "while the noise-free ODE (green) keeps falling far below it: the floor is made by "
            "the gradient noise alone. The dashed line is the chain's exact mean loss from its "
            "moment recursion.",
            panel="moments",
            indicator="has_settled",
            controls=("sigma", "log2_tau"),
        ),
    }
    #: Live params that feed only the studies: their change does not recompute the run.
    study_only_params: ClassVar[tuple[str, ...]] = ("scaling_rule", "kappa_max", "weak_paths")
    #: Params whose change makes the scaling study stale (it reruns once they rest).
    scaling_params: ClassVar[tuple[str, ...]] = (
        "optimizer",
        "regime",
        "landscape",
        "log2_tau",
        "c1",
        "c2",
        "log10_eps",
        "sigma",
        "t_final",
        "theta0_x",
        "theta0_y",
        "v0",
        "scaling_rule",
        "kappa_max",
        "a11",
        "a12",
        "a22",
        "gradient_noise",
        "seed",
    )
    default_preset = TEACHING_DEFAULT
    divergence_hint = "lower the step τ (the learning rate), then the run restarts"
