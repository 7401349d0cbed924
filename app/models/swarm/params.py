"""The controls of the Swarm escapes tab: every parameter, its bounds and doc, the presets.

Spec ``models/swarm.md`` §2 (parameter table) and §5 (presets). :class:`SwarmControls` declares
them; :class:`app.models.swarm.model.SwarmModel` adds the behaviour.
"""

from __future__ import annotations

import param

from app.models.base import SimulationModel
from app.models.story import Story

TEACHING_DEFAULT = "Escape race (teaching default)"

#: What the Landscape menu shows -> the objective's name in the kernels and in links
#: (:data:`kernels.swarm.objectives.OBJECTIVES`).
OBJECTIVE_LABELS = {
    "Tilted double well": "tilted_double_well",
    "Quadratic bowl": "quadratic",
    "Ackley": "ackley",
    "Rastrigin": "rastrigin",
    "Styblinski–Tang": "styblinski_tang",
    "Rosenbrock": "rosenbrock",
}


def objective_label(name: str) -> str:
    """The words the tab shows for an objective's name (the name itself if unknown)."""
    return next((label for label, value in OBJECTIVE_LABELS.items() if value == name), name)


class SwarmControls(SimulationModel):
    """Parameters (restart / live / advanced), their display order and the presets."""

    speed = param.Integer(
        default=15,  # the teaching default's escape takes ~20 s of play (issue 12 pace)
        bounds=(1, 5000),
        softbounds=(1, 500),
        doc="SDE steps advanced per animation frame (all methods advance together).",
    )
    objective = param.Selector(
        default="tilted_double_well",
        label="Landscape f",
        objects=OBJECTIVE_LABELS,
        doc="f: the landscape. The tilted double well has a shallow well (start) and a deep one.",
    )
    tilt = param.Number(
        0.1,
        label="a tilt",
        bounds=(-0.35, 0.35),
        step=0.01,
        doc="a: tilt a·x₁ of the double well; a > 0 makes the left well the deep one.",
    )
    dim = param.Selector(
        default=2,
        label="d dimension",
        objects=[1, 2],
        doc="d: dimension of the animated landscape (studies may use up to 50, see Advanced).",
    )
    n_particles = param.Integer(
        10,
        label="N particles",
        bounds=(1, 200),
        doc="N: particles in the swarm (and per ghost swarm).",
    )
    kappa_mode = param.Selector(
        default="N",
        label="κ drift scale",
        objects={"κ = N (swarm size)": "N", "κ = 1": "1"},
        doc="κ: drift scale. κ = N makes β = 0 exactly independent Langevin; κ = 1 is N× hotter.",
    )
    beta_schedule = param.Selector(
        default="constant",
        label="β schedule",
        objects={
            "Constant": "constant",
            "Linear": "linear",
            "Exponential": "exponential",
            "Logarithmic": "logarithmic",
        },
        doc=(
            "β(t): constant β₀, linear β₀ + rt, exponential β₀·exp(rt) or logarithmic "
            "β₀·log(e + rt), capped at β_max."
        ),
    )
    beta0 = param.Number(
        20.0,
        label="β₀ inverse temperature",
        bounds=(0.0, 1000.0),
        softbounds=(0.0, 200.0),
        step=0.5,
        doc="β₀: softmin inverse temperature at t = 0 (also CBO's α).",
    )
    beta_rate = param.Number(
        0.2,
        label="r β growth rate",
        bounds=(0.0, 5.0),
        step=0.05,
        doc="r: growth rate of the β schedule.",
    )
    beta_max = param.Number(
        1000.0,
        label="β_max cap",
        bounds=(1.0, 1e4),
        step=10.0,
        doc="β_max: cap of every β schedule.",
    )
    sigma_schedule = param.Selector(
        default="constant",
        label="σ schedule",
        objects={"Constant": "constant", "Log cooling (annealing)": "log_cooling"},
        doc="σ(t): constant, or log cooling σ₀√(log 2/log(2+t)) (the SA law).",
    )
    sigma0 = param.Number(
        0.25,
        label="σ₀ noise",
        bounds=(0.0, 3.0),
        step=0.01,
        doc="σ₀: Brownian noise strength (shared by the swarm and the Langevin ghosts).",
    )
    dt = param.Number(
        2e-3,
        label="h step",
        bounds=(1e-5, 1e-2),
        step=1e-4,
        doc="h: Euler–Maruyama step. The badge warns when hκL(1+(N−1)/e) ≥ 1.",
    )
    step_clip = param.Number(
        0.0,
        label="Step clip",
        bounds=(0.0, 1.0),
        step=0.005,
        doc="Largest drift displacement per step (0 = off); needed on Ackley's cusp.",
    )
    boundary = param.Selector(
        default="reflect",
        label="Walls",
        objects={"Reflecting": "reflect", "Periodic": "periodic", "None (open box)": "none"},
        doc="Box walls: reflecting, periodic, or none (explorers can then be lost).",
    )
    init = param.Selector(
        default="shallow_well",
        label="Initial cloud",
        objects={
            "Shallow well": "shallow_well",
            "Uniform on the box": "uniform",
            "Corner of the box": "corner",
        },
        doc="Start: a Gaussian cloud in the shallow well, uniform on the box, or a corner.",
    )
    init_spread = param.Number(
        0.05,
        label="s₀ initial spread",
        bounds=(0.0, 1.0),
        step=0.01,
        doc="s₀: standard deviation of the shallow-well start.",
    )
    t_max = param.Number(
        60.0,
        label="T horizon",
        bounds=(1.0, 500.0),
        step=1.0,
        doc="T: the run (and every study) stops at this time.",
    )
    energy_form = param.Selector(
        default="weighted_mean",
        label="Energy J",
        objects={"Weighted mean": "weighted_mean", "Log-sum-exp": "log_sum_exp"},
        doc=(
            "J: Boltzmann-weighted mean (explorers exist) or log-sum-exp (every particle descends)."
        ),
    )
    show_langevin = param.Boolean(
        True, label="Langevin ghosts", doc="Show the independent Langevin ghosts (same noise)."
    )
    show_cbo = param.Boolean(False, label="CBO ghosts", doc="Show the CBO ghosts (same noise).")
    show_pso = param.Boolean(False, label="PSO ghosts", doc="Show the gbest PSO ghosts.")
    cbo_lambda = param.Number(
        1.0, label="CBO λ", bounds=(0.0, 10.0), step=0.1, doc="λ: CBO drift towards the consensus."
    )
    cbo_sigma = param.Number(
        0.7,
        label="CBO σ_c",
        bounds=(0.0, 5.0),
        step=0.05,
        doc="σ_c: CBO noise scale (× |x − m_α|).",
    )
    pso_w = param.Number(0.9, label="PSO w", bounds=(0.0, 1.2), step=0.05, doc="w: PSO inertia.")
    pso_c1 = param.Number(
        0.5, label="PSO c₁", bounds=(0.0, 3.0), step=0.05, doc="c₁: PSO pull to the personal best."
    )
    pso_c2 = param.Number(
        0.3, label="PSO c₂", bounds=(0.0, 3.0), step=0.05, doc="c₂: PSO pull to the global best."
    )
    n_runs = param.Integer(
        200,
        label="M runs (studies)",
        bounds=(10, 2000),
        softbounds=(10, 500),
        doc="M: independent runs per method in the hitting-time studies.",
    )
    study_dim = param.Integer(
        2,
        label="d in studies",
        bounds=(1, 50),
        doc="Dimension used by the studies (the animation shows d ≤ 2).",
    )

    restart_params = ("objective", "dim", "n_particles", "init", "init_spread")
    live_params = (
        "tilt",
        "kappa_mode",
        "beta_schedule",
        "beta0",
        "beta_rate",
        "beta_max",
        "sigma_schedule",
        "sigma0",
        "dt",
        "step_clip",
        "boundary",
        "t_max",
        "energy_form",
        "show_langevin",
        "show_cbo",
        "show_pso",
        "cbo_lambda",
        "cbo_sigma",
        "pso_w",
        "pso_c1",
        "pso_c2",
        "n_runs",
        "study_dim",
    )
    display_order = (
        "beta0",
        "sigma0",
        "n_particles",
        "tilt",
        "objective",
        "show_langevin",
        "show_cbo",
        "show_pso",
        "kappa_mode",
        "beta_schedule",
        "beta_rate",
        "beta_max",
        "sigma_schedule",
        "energy_form",
        "dt",
        "step_clip",
        "boundary",
        "t_max",
        "init",
        "init_spread",
        "dim",
        "n_runs",
        "study_dim",
        "cbo_lambda",
        "cbo_sigma",
        "pso_w",
        "pso_c1",
        "pso_c2",
    )
    advanced_params = (
        "beta_rate",
        "beta_max",
        "sigma_schedule",
        "energy_form",
        "dt",
        "step_clip",
        "boundary",
        "init",
        "init_spread",
        "dim",
        "study_dim",
        "cbo_lambda",
        "cbo_sigma",
        "pso_w",
        "pso_c1",
        "pso_c2",
    )
    # "speed" (steps per frame) paces each preset so that its phenomenon unfolds over 10-60 s
    # of play at 30 frames/s (issue 12; measured in tests/app/test_stories.py).
    presets = {
        # escape at t ≈ 18 of 60: frame ~600 at 15 steps of h = 2e-3 per frame
        TEACHING_DEFAULT: {"seed": 0},
        # escape at t ≈ 27: frame ~740 at 18 steps per frame
        "Small-noise gap": {"seed": 0, "sigma0": 0.18, "beta0": 100.0, "speed": 18},
        "Weak coupling": {"seed": 0, "beta0": 0.5},
        "Leaders and explorers": {
            "seed": 0,
            "objective": "quadratic",
            "n_particles": 8,
            "beta0": 1.0,
            "sigma0": 0.0,
            # spec §5 P4 has h = 0.01; with σ = 0 the path is the same curve up to O(h), and
            # h = 0.005 at one step per frame lets the split take ~18 s instead of ~9 s
            "dt": 0.005,
            "init": "uniform",
            "speed": 1,
            "t_max": 100.0,
        },
        "Ackley, small noise": {
            # a seed whose swarm reaches the centre (at t ≈ 14; about half the seeds do by
            # t = 20, spec §5 P5): the lesson shows the hops and the arrival
            "seed": 2,
            "objective": "ackley",
            "n_particles": 20,
            "beta0": 50.0,
            "sigma0": 0.6,
            "dt": 5e-4,
            "step_clip": 0.05,
            "speed": 30,
            "t_max": 20.0,
            "init": "corner",
            "show_cbo": True,
        },
    }
    #: what each preset shows, where, and the model method telling that it has happened
    stories = {
        TEACHING_DEFAULT: Story(
            look_for=(
                "All ten particles start in the shallow right-hand well. Watch the hollow dots "
                "(explorers) climb towards the saddle near x₁ = 0.1: the first one to slip "
                "into the deep left well becomes the leader, the star jumps there and the "
                "swarm follows. The grey Langevin ghosts feel the same noise but stay trapped "
                "behind the full barrier."
            ),
            indicator="has_escaped",
            controls=("beta0", "sigma0"),
        ),
        "Small-noise gap": Story(
            look_for=(
                "Less noise (σ = 0.18) and a sharper softmin (β = 100): a lone particle now "
                "almost never crosses the barrier. Watch the swarm still send an explorer over "
                "the saddle into the deep left well, while the grey Langevin ghosts, with the "
                "same noise, stay in the shallow well for the whole run."
            ),
            indicator="escaped_ahead_of_langevin",
            controls=("sigma0", "beta0"),
        ),
        "Weak coupling": Story(
            look_for=(
                "At β = 0.5 the softmin hardly tells the particles apart: the bars above are "
                "flat, every weight and every coefficient cᵢ close to 1/N = 0.1, and none is "
                "negative (no red bars, no explorers). Below, the swarm behaves like the "
                "independent Langevin ghosts and stays in the shallow well; drag β₀ up and "
                "watch red bars and hollow explorers appear."
            ),
            panel="weights",
            # no indicator: the point is a state seen from the first frame (flat weights, no
            # explorers), not a moment of the run. A crossing is a Langevin-like event here:
            # a lone particle's Kramers time is ≈ 760, the first of ten crosses after ≈ 76 on
            # average, later than T = 60 (with seed 0 none does)
            indicator="",
            controls=("beta0", "n_particles"),
        ),
        "Leaders and explorers": Story(
            look_for=(
                "No noise, a simple bowl. Particles inside the dashed circle f = J + 1/β slide "
                "down to the minimum at the centre; those outside turn hollow, creep outward "
                "and stop against the walls. Meanwhile J only goes down."
            ),
            indicator="has_split",
            controls=("beta0", "n_particles"),
        ),
        "Ackley, small noise": Story(
            look_for=(
                "Twenty particles start in a corner of the bumpy Ackley landscape, whose best "
                "point is the centre. Watch the leader (the star) hop inward from ring to ring "
                "while hollow explorers probe the next ring, and the orange CBO ghosts stay "
                "near their start. This seed reaches the centre at about t = 14; about half of "
                "the seeds do by t = 20 (try New seed)."
            ),
            indicator="has_escaped",
            controls=("beta0", "sigma0"),
        ),
    }
    default_preset = TEACHING_DEFAULT
    divergence_hint = "lower the step h or β, switch on the step clip or the walls, then reset"
