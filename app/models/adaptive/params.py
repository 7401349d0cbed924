"""Parameters and presets of the Adaptive SGD tab (spec ``models/adaptive.md`` §2.7, §5).

Every scientific parameter is a bounded, documented param (its ``doc`` becomes the tooltip and
the glossary line); :class:`app.models.adaptive.model.AdaptiveModel` adds the simulation.
"""

from __future__ import annotations

import math
from typing import ClassVar

import param

from app.models.base import SimulationModel

ORDERS = ("ode", "sde1", "sme2")
TEACHING_DEFAULT = "Teaching default: RMSprop and its SDE"


class AdaptiveParams(SimulationModel):
    """The parameters, their grouping and the presets of the Adaptive SGD tab (spec §2.7, §5)."""

    speed = param.Integer(default=2, bounds=(1, 50), doc="Stored frames advanced per tick.")
    optimizer = param.Selector(
        default="rmsprop",
        objects=["sgd", "rmsprop", "adam"],
        label="Optimizer",
        doc="SGD, RMSprop or Adam (with bias correction).",
    )
    regime = param.Selector(
        default="batch_equivalent",
        objects=["ballistic", "batch_equivalent"],
        label="Regime",
        doc="Ballistic: η = τ, small noise, ODE to leading order. Batch-equivalent: η = √τ, "
        "noise σ0/η per step, an SDE with O(1) noise (Malladi et al.). SGD is ballistic only.",
    )
    landscape = param.Selector(
        default="quadratic",
        objects=["quadratic", "linreg", "double_well"],
        label="Landscape",
        doc="Quadratic ½θᵀAθ with shifted-minimum noise; linear regression with minibatch "
        "noise; the authors' 1-D double well.",
    )
    log2_tau = param.Number(
        -6.0,
        bounds=(-10.0, -1.0),
        step=0.25,
        label="log₂ τ step",
        doc="τ: SDE time per step (t = kτ). η = τ (ballistic) or √τ.",
    )
    c1 = param.Number(
        1.0,
        bounds=(0.05, 10.0),
        step=0.05,
        label="c1 (1−β1 = c1τ)",
        doc="c1: Adam's momentum rate, 1−β1 = c1τ.",
    )
    c2 = param.Number(
        1.0,
        bounds=(0.05, 10.0),
        step=0.05,
        label="c2 (1−β2 = c2τ)",
        doc="c2: second-moment rate, 1−β2 = c2τ.",
    )
    log10_eps = param.Number(
        -1.0,
        bounds=(-8.0, 0.0),
        step=0.25,
        label="log₁₀ ε",
        doc="ε (ballistic) or ε0 = ηε (batch-equivalent).",
    )
    sigma = param.Number(
        0.5,
        bounds=(0.0, 3.0),
        step=0.05,
        label="σ noise scale",
        doc="σ (ballistic, = 1/√B) or σ0 = √(τ/B) (batch-equivalent).",
    )
    t_final = param.Number(
        8.0, bounds=(0.5, 50.0), step=0.5, label="T horizon", doc="T: horizon in SDE time."
    )
    theta0_x = param.Number(
        2.0,
        bounds=(-10.0, 10.0),
        step=0.1,
        label="θ0 first coordinate",
        doc="First coordinate of the start θ0 (the double well uses it).",
    )
    theta0_y = param.Number(
        1.0,
        bounds=(-10.0, 10.0),
        step=0.1,
        label="θ0 second coordinate",
        doc="Second coordinate of the start θ0 (2-D landscapes).",
    )
    v0 = param.Number(
        1.0,
        bounds=(1e-3, 10.0),
        step=0.01,
        label="v0 / u0 start moment",
        doc="Start of the second moment: v0 (ballistic) or u0 = η²v0.",
    )
    sde_order = param.Selector(
        default="sde1",
        objects=list(ORDERS),
        label="Continuous order",
        doc="Drawn next to the chain: ODE, first-order SDE, or the "
        "second-order SME (b0 + τb1, full noise).",
    )
    w2 = param.Boolean(
        True,
        label="W2 term (c2M^½dW2)",
        doc="The independent Brownian motion of the v-equation in SME2.",
    )
    v_order = param.Selector(
        default="lagged",
        objects=["lagged", "pytorch"],
        label="v ordering",
        doc="Lagged (authors: θ uses v_k) or PyTorch (θ uses v_(k+1)).",
    )
    gradient_noise = param.Selector(
        default="shifted",
        objects=["shifted", "isotropic"],
        label="Quadratic noise",
        doc="Shifted minimum (Σ = σ²AAᵀ) or isotropic (σ²I).",
    )
    a11 = param.Number(
        1.0, bounds=(0.1, 5.0), step=0.05, label="A11", doc="Hessian entry A11 of the quadratic."
    )
    a12 = param.Number(
        0.5,
        bounds=(-4.0, 4.0),
        step=0.05,
        label="A12",
        doc="Off-diagonal A12 (clamped so A stays positive definite).",
    )
    a22 = param.Number(
        1.0, bounds=(0.1, 5.0), step=0.05, label="A22", doc="Hessian entry A22 of the quadratic."
    )
    noise_level = param.Number(
        0.0,
        bounds=(0.0, 1.0),
        step=0.05,
        label="α double-well noise",
        doc="α: (f1, f2) → (f1 + α(f1−f2), f2 − α(f1−f2)).",
    )
    n_paths = param.Integer(
        128,
        bounds=(16, 4096),
        label="N paths",
        doc="Paths in each ensemble (chain and continuous).",
    )
    n_sub = param.Integer(
        4,
        bounds=(1, 64),
        label="EM substeps per step",
        doc="Euler–Maruyama substeps h = τ/n_sub per optimizer step.",
    )
    v_floor_tau = param.Number(
        1.0,
        bounds=(0.01, 100.0),
        step=0.01,
        label="v floor / τ",
        doc="Clamp on v, u inside D and D′ in the SDEs, in units of τ.",
    )
    d_prime = param.Selector(
        default="exact",
        objects=["exact", "approx"],
        label="D′ form",
        doc="Exact D′ or the authors' −D³/2 (exact only at ε = 0).",
    )
    b1_coeffs = param.Selector(
        default="derived",
        objects=["derived", "authors"],
        label="Order-2 coefficients",
        doc="Batch-equivalent SME2: moment-matched or the authors'.",
    )
    scaling_rule = param.Selector(
        default="srsr",
        objects=["srsr", "no_beta_eps", "linear"],
        label="Scaling rule",
        doc="srsr: η→√κη, 1−β→κ(1−β), ε→ε/√κ; no_beta_eps keeps β, ε; linear: η→κη.",
    )
    kappa_max = param.Selector(
        default=8,
        objects=[2, 4, 8, 16, 32],
        label="κ max",
        doc="Batch-size factors κ = 1, 2, 4, … up to κ max.",
    )
    weak_paths = param.Integer(
        20000,
        bounds=(1000, 100000),
        label="Weak-error paths",
        doc="Coupled paths per τ in the weak-error study (spec: 10⁵).",
    )
    time_index = param.Integer(
        0, bounds=(0, None), label="Time", doc="Frame shown (the time scrubber)."
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
    presets = {
        TEACHING_DEFAULT: {},
        "Authors' quadratic (ballistic SME2)": dict(
            regime="ballistic",
            sigma=0.25,
            theta0_x=10.0,
            theta0_y=5.0,
            c2=0.5,
            log10_eps=-6.0,
            t_final=10.0,
            log2_tau=-3.0,
            sde_order="sme2",
        ),
        "Weak order, ballistic": dict(
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
        ),
        "Square-root rule, Adam": dict(
            optimizer="adam",
            log2_tau=-8.0,
            c1=1.0,
            c2=0.5,
            t_final=8.0,
            n_paths=256,
            scaling_rule="srsr",
        ),
        "Naive linear rule, Adam": dict(
            optimizer="adam",
            log2_tau=-8.0,
            c1=1.0,
            c2=0.5,
            t_final=8.0,
            n_paths=256,
            scaling_rule="linear",
        ),
        "Double well (authors)": dict(
            landscape="double_well",
            regime="ballistic",
            log2_tau=math.log2(0.02),
            sigma=0.35,
            log10_eps=-1.0,
            t_final=4.0,
            theta0_x=-0.15,
            n_paths=1024,
            c1=1.0,
            c2=0.5,
            sde_order="sme2",
        ),
        "SGD and its SME": dict(
            optimizer="sgd",
            regime="ballistic",
            log2_tau=-3.0,
            sigma=1.0,
            t_final=10.0,
            sde_order="sme2",
            n_paths=512,
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
