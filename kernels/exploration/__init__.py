r"""Public API of the Exploration maps tab: MDP layouts, exact visitation, Curious Explorer, PG.

After Miani, Parton, Romito, *Curious Explorer: a provable exploration strategy in Policy
Learning*, arXiv:2106.15503 (IEEE TPAMI 46(12), 2024), illustrative re-implementation: the
paper's abstract gives the idea (intrinsic rewards on poorly visited states, a sequence of
increasingly exploratory policies, a restart distribution μ from their visitations); the loop,
threshold and layouts here are this app's reconstruction [derived] (spec
``models/exploration.md`` §2).

* :func:`make_mdp` builds a layout (:class:`~kernels.exploration.mdp.TabularMDP`).
* :func:`state_visitation` is d^π_ν = (1−γ)(I − γP_π^T)^{-1} ν.
* :func:`curious_explorer` runs the explorer loop and returns μ and the mixtures D_k.
* :func:`policy_gradient` runs exact softmax PG or sampled REINFORCE from a restart ν and
  records V^{π_t}(ρ).
* :func:`coverage_curves` and :func:`explorer_metrics` summarise how well the explorer covers.

Submodules: ``mdp`` (layouts), ``solvers`` (jitted linear solves and value iteration),
``core`` (jitted PG cores), ``driver`` (validation, the chunked PG run), ``theory`` (exact
visitation, values and the optimal policy), ``explorer`` (the explorer loop), ``diagnostics``
(coverage).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels.common.progress import ProgressFn, throttled_progress
from kernels.common.validation import choice, integer, real, resolve_rng
from kernels.exploration import mdp as _mdp
from kernels.exploration.diagnostics import coverage_curves, explorer_metrics
from kernels.exploration.driver import (
    PGSettings,
    check_distribution,
    check_gamma,
    run_policy_gradient,
)
from kernels.exploration.explorer import (
    INNER_SOLVERS,
    INTRINSIC_REWARDS,
    POORLY_SETS,
    THRESHOLD_RULES,
    ExplorerParams,
    run_explorer,
)
from kernels.exploration.mdp import LAYOUTS, SIZE_LIMITS, TabularMDP, build_layout
from kernels.exploration.theory import optimal_policy, policy_values, state_visitation

__all__ = [
    "INNER_SOLVERS",
    "INTRINSIC_REWARDS",
    "LAYOUTS",
    "POORLY_SETS",
    "SIZE_LIMITS",
    "THRESHOLD_RULES",
    "TabularMDP",
    "blend_restart",
    "coverage_curves",
    "curious_explorer",
    "deep_sea_mapping",
    "explorer_metrics",
    "make_mdp",
    "optimal_policy",
    "policy_gradient",
    "policy_values",
    "state_visitation",
    "uniform_restart",
    "warmup",
]


def make_mdp(layout: str, **params: Any) -> TabularMDP:
    r"""Build an MDP layout (spec §2).

    Every layout is a finite MDP with padded sparse transitions; absorbing states self-loop
    under every action, and extrinsic rewards are paid on entry into them:

    .. math::

        R(s,a) = \sum_{s'} P(s'|s,a)\,r(s,a,s'),\qquad \sum_{s'} P(s'|s,a) = 1

    Parameters
    ----------
    layout : str
        One of ``four_rooms``, ``distractor_rooms``, ``corridor``, ``lock``, ``deep_sea``,
        ``frozen_lake_8x8``.
    **params
        ``slip`` in [0, 0.5] (grids, corridor, lock: probability that the move or action is
        replaced by a uniformly random other one), ``size`` (lock N in [4, 30], DeepSea N in
        [3, 30], corridor L in [5, 60]), ``n_actions`` (lock, 2–4), ``distractor_reward``
        (distractor rooms, [0, 1]), ``mapping_seed`` and ``deterministic`` (DeepSea),
        ``success_rate`` (FrozenLake, default 1/3).

    Returns
    -------
    TabularMDP
        With ``n_states`` S, ``n_actions`` A, ``nxt``/``prob``/``rew`` (S, A, M), ``rho``
        (S,), ``absorbing`` (S,), ``coords`` (S, 2) and ``dense_P()`` (S, A, S).

    Notes
    -----
    Layouts and their constants [derived] (spec §2); DeepSea after bsuite and FrozenLake 8×8
    after gymnasium [literature].
    """
    unknown = set(params) - {
        "slip",
        "size",
        "n_actions",
        "distractor_reward",
        "mapping_seed",
        "deterministic",
        "success_rate",
    }
    if unknown:
        raise ValueError(f"make_mdp got unknown parameters {sorted(unknown)}")
    return build_layout(layout, **params)


def deep_sea_mapping(size: int, mapping_seed: int) -> np.ndarray:
    r"""DeepSea's random action mapping: in cell (r, c) action ``mapping[r, c]`` moves right.

    .. math::

        m_{rc} \sim \mathrm{Bernoulli}(1/2)\ \text{i.i.d.},\qquad
        a = m_{rc} \Rightarrow \text{right},\quad a \ne m_{rc} \Rightarrow \text{left}

    Parameters
    ----------
    size : int in [3, 30]
        N, the side of the DeepSea grid.
    mapping_seed : int in [0, 2³¹ − 1]
        Seed of the mapping (``numpy.random.RandomState``, as bsuite draws it).

    Returns
    -------
    ndarray, shape (N, N), int
        The action (0 or 1) that moves right in each cell.

    Notes
    -----
    [literature: google-deepmind/bsuite, ``deep_sea.py``].
    """
    lo, hi = SIZE_LIMITS["deep_sea"]
    N = integer("size", size, lo, hi)
    seed = integer("mapping_seed", mapping_seed, 0, 2**31 - 1)
    return _mdp.deep_sea_mapping(N, seed)


def curious_explorer(
    mdp: TabularMDP,
    *,
    gamma: float,
    coverage_c: float,
    n_explore: int,
    explore_eps: float,
    exclude_terminal: bool = True,
    threshold_rule: str = "renormalised",
    intrinsic_reward: str = "indicator",
    include_pi0: bool = True,
    poorly_set: str = "states",
    inner_solver: str = "vi",
    temperature: float = 0.05,
    inner_steps: int = 50,
    inner_lr: float = 5.0,
    rng: object = None,
) -> dict[str, Any]:
    r"""Run the Curious Explorer (spec §2) and return the restart distribution μ.

    π_0 is uniform and D_0 = d^{π_0}_ρ; for k = 1..K the poorly visited set U_k gets the
    intrinsic reward, π_k is ε-greedy on its optimal Q, and the mixture averages the
    visitations:

    .. math::

        U_k = \{s\in S_v : \bar D_{k-1}(s) < \delta\},\quad \delta = \frac{c}{|S_v|},\qquad
        D_k = \frac{1}{k+1}\sum_{j=0}^{k} d^{\pi_j}_\rho,\qquad
        \mu = D_K|_{S_v}\big/D_K(S_v)

    Curiosity identity: V^π_{1_U}(ρ) = d^π_ρ(U)/(1−γ), so π_k maximises its mass on U_k.

    Parameters
    ----------
    mdp : TabularMDP
        S states, A actions.
    gamma : float in (0, 0.9999]
        Discount γ.
    coverage_c : float in (0, 100]
        c of the threshold δ = c/|S_v|.
    n_explore : int in [0, 100]
        K, the maximum number of curious policies.
    explore_eps : float in [0, 1]
        ε-mixing of each curious policy with the uniform policy.
    exclude_terminal : bool
        Drop absorbing states from U and μ (default).
    threshold_rule : {"renormalised", "raw"}
        D over S_v with δ = c/|S_v|, or D over all states with δ = c/|S|.
    intrinsic_reward : {"indicator", "bonus", "maxent"}
        1_U, min(1, √(δ/D̄)) or −log(D̄ + 10⁻⁴) shifted to ≥ 0 [literature: Hazan et al. 2019].
    include_pi0 : bool
        Keep the uniform π_0 in the mixture.
    poorly_set : {"states", "state_actions"}
        U ⊂ S_v, or U over pairs (s, a) with δ = c/(|S_v||A|), PC-PG-like [literature:
        Agarwal, Henaff, Kakade, Sun 2020].
    inner_solver : {"vi", "soft_vi", "pg"}
        Value iteration, ε-greedy (default); softmax of the soft-optimal Q at ``temperature``
        τ in (0, 10]; or ``inner_steps`` of exact softmax PG from ρ with step ``inner_lr``.
        Each is then ε-mixed.
    temperature, inner_steps, inner_lr : float, int, float
        τ of ``soft_vi``; steps and step size of ``pg``.
    rng : ignored
        The exact explorer draws nothing; accepted for a uniform signature.

    Returns
    -------
    dict
        ``mu`` (S,), ``mixtures`` (n+1, S) D_0..D_n, ``visitations`` (n+1, S) d^{π_k}_ρ,
        ``policies`` (n+1, S, A), ``poorly_visited`` (n+1, S) (row k: U_{k+1}, computed from
        D_k), ``poorly_visited_pairs`` and ``intrinsic_rewards`` (n+1, S, A), ``n_iters`` n,
        ``k_stop`` (the k with U_k = ∅, 0 if U never emptied), ``delta``, ``candidates`` (the
        valid set S_v, bool (S,)), ``reachable`` (S,).

    Notes
    -----
    The idea (intrinsic rewards on poorly visited states, increasingly exploratory policies,
    μ from their visitations) is the paper's [paper]; the loop, threshold and mixture are this
    app's reconstruction [derived].
    """
    gamma = check_gamma(gamma)
    c = real("coverage_c", coverage_c, 0.0, 100.0, lo_open=True)
    K = integer("n_explore", n_explore, 0, 100)
    eps = real("explore_eps", explore_eps, 0.0, 1.0)
    rule = choice("threshold_rule", threshold_rule, THRESHOLD_RULES)
    kind = choice("intrinsic_reward", intrinsic_reward, INTRINSIC_REWARDS)
    if rng is not None:
        resolve_rng(rng)
    pset = choice("poorly_set", poorly_set, POORLY_SETS)
    solver = choice("inner_solver", inner_solver, INNER_SOLVERS)
    tau = real("temperature", temperature, 0.0, 10.0, lo_open=True)
    steps = integer("inner_steps", inner_steps, 1, 100_000)
    inner_lr = real("inner_lr", inner_lr, 0.0, 1000.0, lo_open=True)
    settings = ExplorerParams(
        gamma=gamma,
        coverage_c=c,
        n_explore=K,
        explore_eps=eps,
        exclude_terminal=bool(exclude_terminal),
        threshold_rule=rule,
        intrinsic_reward=kind,
        include_pi0=bool(include_pi0),
        poorly_set=pset,
        inner_solver=solver,
        temperature=tau,
        inner_steps=steps,
        inner_lr=inner_lr,
    )
    result = run_explorer(mdp, settings)
    if not result["candidates"].any():
        raise ValueError("the layout has no valid (reachable, non-absorbing) state")
    return result


def blend_restart(rho: np.ndarray, mu: np.ndarray, beta: float) -> np.ndarray:
    r"""The blended restart distribution ν_β.

    .. math::

        \nu_\beta = \beta\rho + (1-\beta)\mu

    Parameters
    ----------
    rho, mu : ndarray, shape (S,)
        The start distribution ρ and the explorer's μ.
    beta : float in [0, 1]
        β, the weight of ρ.

    Returns
    -------
    ndarray, shape (S,)
        ν_β.

    Notes
    -----
    [derived] (spec §2).
    """
    beta = real("restart_beta", beta, 0.0, 1.0)
    return beta * np.asarray(rho, dtype=float) + (1.0 - beta) * np.asarray(mu, dtype=float)


def uniform_restart(mdp: TabularMDP) -> np.ndarray:
    r"""Uniform over the valid set S_v (the "oracle wide coverage" reference).

    .. math::

        \nu(s) = \frac{\mathbb 1\{s \in S_v\}}{|S_v|}

    Parameters
    ----------
    mdp : TabularMDP
        S states; S_v = reachable from supp ρ, minus absorbing states.

    Returns
    -------
    ndarray, shape (S,)
        The uniform restart.

    Notes
    -----
    [derived] (spec §4.3).
    """
    valid = mdp.valid_states()
    return valid / valid.sum()


def policy_gradient(
    mdp: TabularMDP,
    *,
    restart: np.ndarray,
    gamma: float,
    lr: float,
    n_iters: int,
    target_frac: float,
    method: str = "exact",
    rng: object = None,
    batch: int = 8,
    horizon: int = 100,
    stop_at_target: bool = False,
    v_star: float | None = None,
    progress: ProgressFn | None = None,
) -> dict[str, Any]:
    r"""Softmax policy gradient from θ_0 = 0 ascending V(ν) for the restart ν (spec §2).

    Exact PG steps θ ← θ + η∇_θV^{π_θ}(ν); REINFORCE replaces the gradient by its estimate
    from B episodes truncated at H:

    .. math::

        \frac{\partial V^{\pi_\theta}(\nu)}{\partial\theta_{s,a}} =
        \frac{d^{\pi_\theta}_\nu(s)\,\pi_\theta(a|s)\,A^{\pi_\theta}(s,a)}{1-\gamma},\qquad
        \hat g = \frac1B\sum_{\rm episodes}\sum_t \gamma^t G_t\,
        \nabla_\theta\log\pi_\theta(a_t|s_t)

    Parameters
    ----------
    mdp : TabularMDP
        S states, A actions.
    restart : ndarray, shape (S,)
        ν, a probability vector (ρ, μ, ν_β or uniform).
    gamma : float in (0, 0.9999]
        Discount γ.
    lr : float in (0, 1000]
        η.
    n_iters : int in [1, 10⁶]
        T, the update cap.
    target_frac : float in (0, 1]
        x; success is V^{π_t}(ρ) ≥ x·V*(ρ).
    method : {"exact", "sampled"}
        Exact gradient, or REINFORCE with ``batch`` B in [1, 1024] episodes truncated at
        ``horizon`` H in [1, 10⁵] (needs ``rng``).
    rng : numpy.random.Generator or int, optional
        Source of REINFORCE's randomness (unused by exact PG).
    batch, horizon : int
        B and H.
    stop_at_target : bool
        Stop at the first t reaching the target.
    v_star : float, optional
        V*(ρ) if already known (saves a value iteration).
    progress : callable, optional
        ``progress(fraction) -> bool``; False cancels (raises :class:`Cancelled`, ``partial``
        holds the values so far).

    Returns
    -------
    dict
        ``values`` (t+1,) V^{π_t}(ρ) for t = 0..T (updates applied), ``iters_to_target`` (first
        t with values[t] ≥ x·V*(ρ), None if never), ``v_star``, ``target``, ``theta`` (S, A),
        ``policy`` (S, A); sampled also ``env_steps`` (T,) steps sampled per update and
        ``first_goal_episode`` (1-based, None if no episode reached the goal).

    Notes
    -----
    Exact softmax PG [literature: Agarwal, Kakade, Lee, Mahajan, JMLR 22(98) 2021];
    REINFORCE [literature: Williams 1992]; the gradient scale shared by both [derived].
    """
    gamma = check_gamma(gamma)
    nu = check_distribution("restart", restart, mdp.n_states)
    lr = real("lr", lr, 0.0, 1000.0, lo_open=True)
    T = integer("n_iters", n_iters, 1, 1_000_000)
    x = real("target_frac", target_frac, 0.0, 1.0, lo_open=True)
    method = choice("method", method, ("exact", "sampled"))
    B = integer("batch", batch, 1, 1024)
    H = integer("horizon", horizon, 1, 100_000)
    report = throttled_progress(progress)
    if v_star is None:
        v_star = optimal_policy(mdp, gamma)["v_rho"]
    settings = PGSettings(
        nu=nu,
        gamma=gamma,
        lr=lr,
        T=T,
        target=x * v_star,
        v_star=v_star,
        method=method,
        B=B,
        H=H,
        stop_at_target=bool(stop_at_target),
    )
    generator = resolve_rng(rng) if method == "sampled" else None
    return run_policy_gradient(mdp, settings, generator, report)


def warmup() -> None:
    """Run the public API end to end on a tiny lock (the jitted cores warm in their modules).

    Parameters
    ----------
    None

    Returns
    -------
    None

    Notes
    -----
    Builds ``make_mdp("lock", size=4)``, runs :func:`curious_explorer` (K = 2) and two updates
    of :func:`policy_gradient` with each method from μ. No equation: it only exercises the
    code paths above [derived].
    """
    mdp = make_mdp("lock", size=4)
    res = curious_explorer(mdp, gamma=0.9, coverage_c=1.0, n_explore=2, explore_eps=0.1)
    for method in ("exact", "sampled"):
        policy_gradient(
            mdp,
            restart=res["mu"],
            gamma=0.9,
            lr=1.0,
            n_iters=2,
            target_frac=0.5,
            method=method,
            rng=0,
            batch=1,
            horizon=4,
        )
