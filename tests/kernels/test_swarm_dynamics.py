"""The swarm SDE and its baselines: determinism, common random numbers, a numpy oracle for the
steps, the Lyapunov property and the convex endpoint (spec §2, §6.9–6.10), studies."""

from __future__ import annotations

import numpy as np
import pytest

from kernels import swarm
from kernels.common.progress import Cancelled
from kernels.swarm import studies as swarm_batch
from kernels.swarm.theory import double_well_points

P1 = dict(dt=2e-3, beta0=20.0, sigma0=0.25)


def p1_start(n: int = 10, seed: int = 0) -> np.ndarray:
    return swarm.initial_cloud("shallow_well", n, 2, "tilted_double_well", seed)


def numpy_step(
    method: str,
    x: np.ndarray,
    xi: np.ndarray,
    *,
    h: float,
    beta: float,
    sigma: float,
    kappa: float,
    lo: float,
    hi: float,
    tilt: float = 0.1,
    lam: float = 1.0,
    sig_c: float = 0.7,
) -> np.ndarray:
    """Plain-numpy oracle of one step on the tilted double well with reflecting walls."""
    f = swarm.objective_value("tilted_double_well", x, tilt)
    g = swarm.objective_grad("tilted_double_well", x, tilt)
    w = np.exp(-beta * (f - f.min()))
    w /= w.sum()
    if method == "cbo":
        m = w @ x
        dist = np.linalg.norm(x - m, axis=1, keepdims=True)
        y = x - lam * h * (x - m) + sig_c * np.sqrt(h) * dist * xi
    else:
        j = w @ f
        coef = kappa * w * (1 - beta * (f - j)) if method == "softmin" else np.ones(len(x))
        y = x - h * coef[:, None] * g + sigma * np.sqrt(h) * xi
    y = np.where(y < lo, 2 * lo - y, y)
    return np.where(y > hi, 2 * hi - y, y)


@pytest.mark.parametrize("method", ["softmin", "langevin", "cbo"])
def test_steps_match_a_numpy_oracle(method: str) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(-1.9, 1.9, size=(9, 2))
    params = swarm.make_params("tilted_double_well", 2, 9, dt=0.01, beta0=3.0, sigma0=0.5)
    state = swarm.SwarmState(x)
    noise = swarm.draw_noise(rng, method, 5, 9, 2)
    swarm.advance(state, params, method, noise)
    expected = x
    for k in range(5):
        expected = numpy_step(
            method, expected, noise[k], h=0.01, beta=3.0, sigma=0.5, kappa=9.0, lo=-2.0, hi=2.0
        )
    # same arithmetic in a different order: a few ulp per step (spec §6.6: 1e-12)
    np.testing.assert_allclose(state.x, expected, rtol=0, atol=1e-12)


def test_same_seed_same_output_and_chunking_does_not_matter() -> None:
    x0 = p1_start()
    a = swarm.simulate("tilted_double_well", x0, method="softmin", n_steps=1500, rng=5, **P1)
    b = swarm.simulate("tilted_double_well", x0, method="softmin", n_steps=1500, rng=5, **P1)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.best, b.best)
    # two advances of 600 + 900 pre-drawn steps read the same stream as one of 1500
    params = swarm.make_params("tilted_double_well", 2, 10, **P1)
    one, two = swarm.SwarmState(x0), swarm.SwarmState(x0)
    swarm.advance(
        one, params, "softmin", swarm.draw_noise(np.random.default_rng(5), "softmin", 1500, 10, 2)
    )
    gen = np.random.default_rng(5)
    for steps in (600, 900):
        swarm.advance(two, params, "softmin", swarm.draw_noise(gen, "softmin", steps, 10, 2))
    assert np.array_equal(one.x, two.x)
    assert np.array_equal(one.x, a.x[-1])  # simulate draws the same stream in chunks


def test_common_random_numbers_softmin_at_beta_zero_is_langevin() -> None:
    x0 = p1_start()
    kw = dict(n_steps=800, dt=2e-3, sigma0=0.25, rng=11, stride=100)
    soft = swarm.simulate("tilted_double_well", x0, method="softmin", beta0=0.0, **kw)
    lang = swarm.simulate("tilted_double_well", x0, method="langevin", **kw)
    # β = 0: κc_i = N·(1/N) = 1 up to rounding, and both read the same ξ (spec §2)
    np.testing.assert_allclose(soft.x, lang.x, rtol=0, atol=1e-10)
    other = swarm.simulate("tilted_double_well", x0, method="langevin", **{**kw, "rng": 12})
    assert np.max(np.abs(other.x[-1] - lang.x[-1])) > 1e-3  # a different stream differs


def test_record_shapes_counters_and_best_is_monotone() -> None:
    x0 = p1_start(6)
    run = swarm.simulate(
        "tilted_double_well",
        x0,
        method="softmin",
        n_steps=1000,
        rng=0,
        stride=300,
        **{k: v for k, v in P1.items()},
    )
    assert run.x.shape == (1000 // 300 + 1, 6, 2)
    assert np.array_equal(run.x[0], x0)
    assert run.best.shape == (1001,)
    assert np.all(np.diff(run.best) <= 0)
    assert run.n_grad_evals == 6 * 1000 and run.n_f_evals == 6 * 1001
    f_best = swarm.objective_value("tilted_double_well", run.best_x[None])[0]
    assert f_best == pytest.approx(run.best[-1], abs=1e-12)
    cbo = swarm.simulate("tilted_double_well", x0, method="cbo", n_steps=50, rng=0, **P1)
    assert cbo.n_grad_evals == 0  # the baselines are gradient-free


def test_lyapunov_energy_never_rises_without_noise() -> None:
    # §6.9: σ = 0, β(t) = 0.5 e^{0.5 t} non-decreasing, tilted well, N = 8, κ = 8, h = 1e-3
    x0 = np.random.default_rng(3).uniform(-1.5, 1.5, size=(8, 2))
    run = swarm.simulate(
        "tilted_double_well",
        x0,
        method="softmin",
        n_steps=20_000,
        dt=1e-3,
        rng=0,
        sigma0=0.0,
        beta_schedule="exponential",
        beta0=0.5,
        beta_rate=0.5,
        beta_max=1e4,
        boundary="none",
    )
    t = np.arange(20_001) * 1e-3
    beta = np.minimum(0.5 * np.exp(0.5 * t), 1e4)
    f = np.array([swarm.objective_value("tilted_double_well", x) for x in run.x])
    j = np.array([swarm.softmin_energy(fk, bk) for fk, bk in zip(f, beta, strict=True)])
    assert np.max(np.diff(j)) < 1e-12  # the largest one-step rise seen was 4e-17


def test_convex_endpoint_leaders_and_explorers() -> None:
    # §6.10: quadratic, N = 6, β = 1, κ = 6, h = 0.01, σ = 0, uniform start on [-2, 2]²
    x0 = np.random.default_rng(0).uniform(-2, 2, size=(6, 2))
    run = swarm.simulate(
        "quadratic",
        x0,
        method="softmin",
        n_steps=1000,
        dt=0.01,
        rng=0,
        beta0=1.0,
        sigma0=0.0,
        boundary="none",
    )
    f = swarm.objective_value("quadratic", run.x[-1])
    j = swarm.softmin_energy(f, 1.0)
    leaders = f < 1e-8
    assert leaders.any()
    assert np.all(f[~leaders] > j + 1.0)  # the rest sit in the maximizing regime
    assert np.all(swarm.softmin_coefficients(f, 1.0)[~leaders] < 0)


def test_step_clip_bounds_the_drift_and_counts() -> None:
    x0 = np.full((4, 2), 4.5)  # steep Rastrigin slopes near the corner
    run = swarm.simulate(
        "rastrigin", x0, method="langevin", n_steps=10, dt=0.01, rng=0, sigma0=0.0, step_clip=0.01
    )
    assert run.n_clipped > 0
    steps = np.linalg.norm(np.diff(run.x, axis=0), axis=2)
    assert np.max(steps) <= 0.01 + 1e-12


def test_walls_keep_particles_in_the_box() -> None:
    x0 = np.zeros((5, 2))
    for boundary in ("reflect", "periodic"):
        run = swarm.simulate(
            "quadratic",
            x0,
            method="langevin",
            n_steps=400,
            dt=0.01,
            rng=1,
            sigma0=3.0,
            boundary=boundary,
            box=(-0.5, 0.5),
            stride=1,
        )
        assert run.x.min() >= -0.5 and run.x.max() <= 0.5
    free = swarm.simulate(
        "quadratic",
        x0,
        method="langevin",
        n_steps=400,
        dt=0.01,
        rng=1,
        sigma0=3.0,
        boundary="none",
        box=(-0.5, 0.5),
    )
    assert np.abs(free.x).max() > 0.5


def test_pso_converges_on_a_quadratic() -> None:
    x0 = np.random.default_rng(2).uniform(-3, 3, size=(20, 2))
    run = swarm.simulate("quadratic", x0, method="pso", n_steps=300, dt=0.01, rng=2)
    assert run.best[-1] < 1e-6


def test_hitting_time_study_softmin_beats_langevin_at_small_noise() -> None:
    # P2 (σ = 0.18, β = 100), t ≤ 60: the ghosts essentially never cross (1-D Kramers time
    # 4.9·e^{2·0.158/0.0324}/N ≈ 8·10^3 ≫ 60); the swarm usually does (spec §5 P2; 0.86 over
    # 100 runs here, so ≥ 0.5 over 24 fails with probability < 1e-4)
    res = swarm_batch.hitting_time_study(
        "tilted_double_well",
        methods=("softmin", "langevin"),
        n_runs=24,
        t_max=60.0,
        n_particles=10,
        dim=2,
        seed=0,
        dt=2e-3,
        beta0=100.0,
        sigma0=0.18,
    )
    assert res["langevin"].success_rate <= 0.1
    assert res["softmin"].success_rate >= 0.5
    hit = np.isfinite(res["softmin"].hit_time)
    assert np.all(res["softmin"].hit_time[hit] <= 60.0)
    assert np.all(
        res["softmin"].grad_evals[hit] == 10 * np.round(res["softmin"].hit_time[hit] / 2e-3) + 10
    )


def test_study_is_deterministic_and_cancellable() -> None:
    kw = dict(
        methods=("softmin", "cbo", "pso"),
        n_runs=3,
        t_max=1.0,
        n_particles=5,
        dim=2,
        seed=4,
        dt=2e-3,
    )
    a = swarm_batch.hitting_time_study("tilted_double_well", **kw)
    b = swarm_batch.hitting_time_study("tilted_double_well", **kw)
    for m in a:
        np.testing.assert_array_equal(a[m].best, b[m].best)
    with pytest.raises(Cancelled):
        swarm_batch.hitting_time_study("tilted_double_well", progress=lambda f: False, **kw)


def test_hit_target_is_the_deep_well() -> None:
    target, radius = swarm.default_target("tilted_double_well", 2, 0.1)
    assert target[0] == pytest.approx(double_well_points(0.1).deep)
    assert radius < abs(target[0] - double_well_points(0.1).saddle)


def test_bad_simulation_input_is_named() -> None:
    x0 = np.zeros((3, 2))
    with pytest.raises(ValueError, match="method must be one of"):
        swarm.simulate("quadratic", x0, method="adam", n_steps=1, dt=0.1, rng=0)
    with pytest.raises(ValueError, match="dt must be"):
        swarm.simulate("quadratic", x0, method="softmin", n_steps=1, dt=0.0, rng=0)
    with pytest.raises(ValueError, match="beta_schedule"):
        swarm.simulate(
            "quadratic", x0, method="softmin", n_steps=1, dt=0.1, rng=0, beta_schedule="cosine"
        )
    with pytest.raises(ValueError, match="tilt"):
        swarm.simulate("quadratic", x0, method="softmin", n_steps=1, dt=0.1, rng=0, tilt=0.5)
    with pytest.raises(ValueError, match="x must"):
        swarm.simulate(
            "quadratic", np.full((3, 2), np.nan), method="softmin", n_steps=1, dt=0.1, rng=0
        )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "sigma", "kappa_mode", "beta", "low", "high"),
    [
        # spec §5 P5 table (success by t = 20, best point within sup-norm 0.25 of 0, s.e. ≤ 0.08);
        # bands are the table's value ± ~4 binomial standard errors at M = 40
        ("langevin", 0.8, "N", 0.0, 0.85, 1.0),  # table: 1.00 (100 runs)
        ("softmin", 0.6, "N", 5.0, 0.0, 0.1),  # table: 0.00 (40): β = 5 is a trap
        ("softmin", 0.6, "1", 5.0, 0.55, 1.0),  # table: 0.85 (40): κ = 1 is N× hotter
    ],
)
def test_ackley_success_rates_of_the_spec_table(
    method: str, sigma: float, kappa_mode: str, beta: float, low: float, high: float
) -> None:
    res = swarm_batch.hitting_time_study(
        "ackley",
        methods=(method,),
        n_runs=40,
        t_max=20.0,
        n_particles=20,
        dim=2,
        seed=1,
        dt=5e-4,
        beta0=beta,
        sigma0=sigma,
        kappa_mode=kappa_mode,
        step_clip=0.05,
        init="corner",
    )
    assert low <= res[method].success_rate <= high
