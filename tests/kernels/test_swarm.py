"""Analytic facts of the softmin energy, the objectives and the closed forms (spec §6)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kernels import swarm
from kernels.swarm.theory import (
    barrier_constant,
    double_well_points,
    effective_potential,
    g_n,
    stability_number,
)


def numpy_stats(f: np.ndarray, beta: float) -> tuple[np.ndarray, float, np.ndarray]:
    """Plain-numpy oracle of w, J, c (spec §2, weighted mean)."""
    w = np.exp(-beta * (f - f.min()))
    w /= w.sum()
    j = float(w @ f)
    return w, j, w * (1 - beta * (f - j))


def random_draws(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(2, 61))
        beta = float(10 ** rng.uniform(-6, 4))
        yield rng.normal(0, rng.uniform(0.01, 10), n), beta


def test_weights_and_coefficients_sum_to_one() -> None:
    for f, beta in random_draws(500):
        w = swarm.softmin_weights(f, beta)
        c = swarm.softmin_coefficients(f, beta)
        # §6.1: exact identities, seen ~1e-15; 1e-12 leaves room for N = 60 summations
        assert abs(w.sum() - 1) < 1e-12
        assert abs(c.sum() - 1) < 1e-12


def test_energy_lies_between_min_and_mean_within_the_bound() -> None:
    worst = 0.0
    for f, beta in random_draws(2000, seed=1):
        j = swarm.softmin_energy(f, beta)
        n = len(f)
        scale = 1e-12 * max(1.0, np.abs(f).max())  # round-off of the weighted sum
        assert f.min() - scale <= j <= f.mean() + scale
        bound = (n - 1) / (math.e * beta)
        assert j - f.min() <= bound + scale
        worst = max(worst, (j - f.min()) / bound)
    assert worst < 1.0  # §6.2: 0.75 of the bound was the largest seen


def test_two_particle_sharp_maximum() -> None:
    beta = 3.0
    gaps = np.linspace(0, 5, 200_001)
    j = np.array([swarm.softmin_energy(np.array([0.0, u]), beta) for u in gaps[::50]])
    # §6.2: sup over the gap of J - min f is 0.278465/β; the grid step 2.5e-3 resolves the
    # flat maximum to ~1e-6 relative
    assert j.max() * beta == pytest.approx(0.278465, abs=2e-6)
    assert barrier_constant(2) - 1 == pytest.approx(0.278465, abs=1e-6)


def test_small_beta_expansion() -> None:
    rng = np.random.default_rng(2)
    f = rng.normal(size=9)
    beta = 1e-3
    j = swarm.softmin_energy(f, beta)
    # §6.3: J = mean f - β Var f + O(β²); seen 5e-8 at this size, the β² term is β²·O(skew)
    assert abs(j - (f.mean() - beta * f.var())) < 1e-6
    c = swarm.softmin_coefficients(f, beta)
    assert np.max(np.abs(c - 1 / 9)) < 10 * beta  # c_i → 1/N with an O(β) error


def test_large_beta_limit() -> None:
    f = np.array([0.0, 1.0, 2.0, 5.0])
    c = swarm.softmin_coefficients(f, 50.0)
    assert abs(c[0] - 1) < 1e-15  # §6.3: the leader takes all the weight
    assert np.all(np.abs(c[1:]) < 1e-19)
    assert swarm.softmin_energy(f, 50.0) < 1e-20


def test_beta_derivative_is_minus_weighted_variance() -> None:
    rng = np.random.default_rng(3)
    f = rng.normal(size=12)
    beta, step = 1.7, 1e-6
    derivative = (swarm.softmin_energy(f, beta + step) - swarm.softmin_energy(f, beta - step)) / (
        2 * step
    )
    w = swarm.softmin_weights(f, beta)
    var_w = w @ (f - w @ f) ** 2
    assert abs(derivative + var_w) < 1e-8  # §6.4: central difference, seen 7e-10


def test_shift_and_permutation_invariance() -> None:
    rng = np.random.default_rng(4)
    f = rng.normal(size=10)
    beta = 2.5
    j, c = swarm.softmin_energy(f, beta), swarm.softmin_coefficients(f, beta)
    assert swarm.softmin_energy(f + 3.0, beta) == pytest.approx(j + 3.0, abs=1e-12)
    np.testing.assert_allclose(swarm.softmin_coefficients(f + 3.0, beta), c, atol=1e-12)
    perm = rng.permutation(10)
    assert swarm.softmin_energy(f[perm], beta) == pytest.approx(j, abs=1e-12)
    np.testing.assert_allclose(swarm.softmin_coefficients(f[perm], beta), c[perm], atol=1e-12)


def test_kernel_matches_numpy_oracle_and_coefficient_bound() -> None:
    worst = 0.0
    for f, beta in random_draws(500, seed=5):
        w, _, c = numpy_stats(f, beta)
        np.testing.assert_allclose(swarm.softmin_weights(f, beta), w, rtol=0, atol=1e-12)
        np.testing.assert_allclose(swarm.softmin_coefficients(f, beta), c, rtol=0, atol=1e-12)
        bound = 1 + (len(f) - 1) / math.e
        assert c.max() <= bound
        worst = max(worst, c.max() / bound)
    assert worst < 1.0  # §6.7: random draws reached 0.81 of the bound


def test_log_sum_exp_form() -> None:
    f = np.array([0.3, 1.0, 2.0])
    beta = 2.0
    j = swarm.softmin_energy(f, beta, energy_form="log_sum_exp")
    assert j == pytest.approx(-np.log(np.exp(-beta * f).sum()) / beta, abs=1e-14)
    c = swarm.softmin_coefficients(f, beta, energy_form="log_sum_exp")
    np.testing.assert_allclose(c, swarm.softmin_weights(f, beta), atol=0)
    assert np.all(c > 0)  # no explorers without the weighted mean (spec §3)


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(6)
    x = rng.uniform(-2, 2, size=(7, 2))
    beta, name = 0.8, "rastrigin"

    def energy(points: np.ndarray) -> float:
        return swarm.softmin_energy(swarm.objective_value(name, points), beta)

    f = swarm.objective_value(name, x)
    analytic = swarm.softmin_coefficients(f, beta)[:, None] * swarm.objective_grad(name, x)
    numeric = np.zeros_like(x)
    eps = 1e-6
    for i in range(7):
        for k in range(2):
            xp, xm = x.copy(), x.copy()
            xp[i, k] += eps
            xm[i, k] -= eps
            numeric[i, k] = (energy(xp) - energy(xm)) / (2 * eps)
    # §6.6: relative error below 1e-7 (seen 3e-11); central differences are O(eps²)
    assert np.max(np.abs(numeric - analytic)) < 1e-7 * np.max(np.abs(analytic))


@pytest.mark.parametrize("name", list(swarm.OBJECTIVES))
@pytest.mark.parametrize("dim", [1, 2, 5])
def test_objective_gradients_by_finite_differences(name: str, dim: int) -> None:
    rng = np.random.default_rng(7)
    lo, hi = swarm.OBJECTIVES[name][1:3]
    x = rng.uniform(0.8 * lo, 0.8 * hi, size=(6, dim))
    g = swarm.objective_grad(name, x)
    eps = 1e-6
    for k in range(dim):
        e = np.zeros(dim)
        e[k] = eps
        fd = (swarm.objective_value(name, x + e) - swarm.objective_value(name, x - e)) / (2 * eps)
        # central differences: error ~ eps² f''' + round-off f/eps·1e-16 (Rosenbrock f ~ 1e3)
        np.testing.assert_allclose(g[:, k], fd, rtol=1e-6, atol=1e-5)


def test_benchmark_minima() -> None:
    value = swarm.objective_value
    # §6.11, tolerance 1e-6 (the spec's digits)
    assert value("ackley", np.zeros((1, 2)))[0] == pytest.approx(0, abs=1e-12)
    assert value("ackley", [[0.952167, 0.0]])[0] == pytest.approx(2.579928, abs=1e-6)
    assert value("ackley", [[0.968478, 0.968478]])[0] == pytest.approx(3.574452, abs=1e-6)
    assert value("rastrigin", np.zeros((1, 3)))[0] == 0
    st = value("styblinski_tang", np.full((1, 3), -2.903534))[0]
    assert st == pytest.approx(-39.166166 * 3, abs=3e-6)
    assert value("styblinski_tang", [[2.746803]])[0] == pytest.approx(-25.029447, abs=1e-6)
    assert np.max(np.abs(swarm.objective_grad("styblinski_tang", [[-2.903534]]))) < 1e-4
    assert value("rosenbrock", np.ones((1, 4)))[0] == 0
    local = np.array([[-0.775659, 0.613093, 0.382063, 0.145972]])
    assert value("rosenbrock", local)[0] == pytest.approx(3.701429, abs=1e-6)
    assert np.max(np.abs(swarm.objective_grad("rosenbrock", local))) < 1e-3  # a stationary point
    # the ring minimum of Ackley is stationary along x₁
    assert abs(swarm.objective_grad("ackley", [[0.952167, 0.0]])[0, 0]) < 1e-4
    # the cusp: the gradient is finite (zero) at the origin
    assert np.all(swarm.objective_grad("ackley", np.zeros((1, 2))) == 0)


def test_double_well_points() -> None:
    dw = double_well_points(0.1)
    # §6.12, tolerance 1e-6 (the spec's digits)
    assert dw.deep == pytest.approx(-1.046681, abs=1e-6)
    assert dw.shallow == pytest.approx(0.945649, abs=1e-6)
    assert dw.saddle == pytest.approx(0.101031, abs=1e-6)
    assert dw.v_deep == pytest.approx(-0.102386, abs=1e-6)
    assert dw.v_shallow == pytest.approx(0.097361, abs=1e-6)
    assert dw.barrier_shallow == pytest.approx(0.157665, abs=1e-6)
    assert dw.barrier_deep == pytest.approx(0.357412, abs=1e-6)
    untilted = double_well_points(0.0)
    assert untilted.barrier_shallow == pytest.approx(0.25, abs=1e-12)
    x = np.array([[dw.deep, 0.0], [dw.saddle, 0.0]])
    assert np.all(np.abs(swarm.objective_grad("tilted_double_well", x)) < 1e-9)


def test_barrier_constant_table_and_brute_force() -> None:
    table = {2: 0.278465, 3: 0.157185, 5: 0.084516, 10: 0.039300, 20: 0.018998, 50: 0.007452}
    for n, expected in table.items():
        assert barrier_constant(n) - 1 == pytest.approx(expected, abs=1e-6)  # §6.8 digits
    assert barrier_constant(100) - 1 == pytest.approx(0.003702, abs=1e-6)
    beta = 2.0
    for n in (2, 10, 50):
        u = np.linspace(1e-6, 5, 400_001)
        g = g_n(u, n, beta)
        # §6.8: max g_N = (s_N - 1)/β at u = s_N/β, brute force to 5 digits
        assert g.max() == pytest.approx((barrier_constant(n) - 1) / beta, rel=1e-5)
        assert u[np.argmax(g)] == pytest.approx(barrier_constant(n) / beta, rel=1e-4)
    u = np.array([-1.0, -0.5])
    assert np.all(np.abs(g_n(u, 10, 40.0) - u) < 1e-15 + 10 * np.exp(-20))  # g ≈ u below 0
    assert effective_potential(np.array([0.5]), 0.2, 10, 40.0, 10.0)[0] < 0.5


def test_stability_number_of_the_teaching_default() -> None:
    # §5 P1: h κ L (1 + 9/e) with h = 2e-3, κ = N = 10, L = 11 is ≈ 0.95
    assert stability_number(2e-3, 10, 11.0, 10) == pytest.approx(0.95, abs=0.01)


def test_bad_input_names_the_parameter() -> None:
    with pytest.raises(ValueError, match="beta"):
        swarm.softmin_weights(np.zeros(3), -1.0)
    with pytest.raises(ValueError, match="f_values"):
        swarm.softmin_energy(np.array([0.0, np.nan]), 1.0)
    with pytest.raises(ValueError, match="objective must be one of"):
        swarm.objective_value("banana", np.zeros((1, 2)))
    with pytest.raises(ValueError, match="x must have shape"):
        swarm.objective_grad("ackley", np.zeros(3))
    with pytest.raises(ValueError, match="energy_form"):
        swarm.softmin_energy(np.zeros(2), 1.0, energy_form="max")


def test_schedules_match_the_jitted_ones_and_their_laws() -> None:
    from kernels.swarm.core import beta_at, sigma_at
    from kernels.swarm.theory import schedule_curves

    t = np.linspace(0, 50, 101)
    for kind, name in enumerate(swarm.BETA_SCHEDULES):
        beta, sigma = schedule_curves(t, name, 2.0, 0.3, 40.0, "log_cooling", 0.5)
        jitted = [beta_at(kind, float(tk), 2.0, 0.3, 40.0) for tk in t]
        np.testing.assert_allclose(beta, jitted, rtol=1e-14)
        assert beta.max() <= 40.0 and beta[0] == pytest.approx(
            2.0 * (np.log(np.e) if name == "logarithmic" else 1.0)
        )
        np.testing.assert_allclose(sigma, [sigma_at(1, float(tk), 0.5) for tk in t], rtol=1e-14)
    # log cooling is the SA law σ² = 2T with T = C/log(2 + t): σ² log(2 + t) is constant
    _, sigma = schedule_curves(t, "constant", 1.0, 0.0, 1.0, "log_cooling", 0.5)
    np.testing.assert_allclose(sigma**2 * np.log(2 + t), 0.25 * np.log(2), rtol=1e-12)


# ------------------------------------------------------------------ the facade (issue 11)


def test_facade_warmup_runs_only_the_public_api() -> None:
    import inspect

    source = inspect.getsource(swarm.warmup)
    assert "core" not in source and ".warmup()" not in source  # submodules warm themselves
    swarm.warmup()


def test_run_chunks_with_the_bundle_is_simulate() -> None:
    from kernels.swarm.driver import run_chunks

    x0 = swarm.initial_cloud("shallow_well", 5, 2, "tilted_double_well", 3)
    run = swarm.simulate(
        "tilted_double_well", x0, method="softmin", n_steps=700, dt=2e-3, rng=4, stride=7
    )
    params = swarm.make_params("tilted_double_well", 2, 5, dt=2e-3)
    again = run_chunks(swarm.SwarmState(x0), params, "softmin", np.random.default_rng(4), 700, 7)
    np.testing.assert_array_equal(run.x, again.x)
    np.testing.assert_array_equal(run.best, again.best)
    assert (run.hit_step, run.n_f_evals, run.t) == (again.hit_step, again.n_f_evals, again.t)
