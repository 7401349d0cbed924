"""Coverage diagnostics of the Curious Explorer (spec ``models/exploration.md`` §4.2, §4.4).

Plain numpy on the explorer's output: coverage, entropy and worst share of the mixtures on the
valid set, the optimal policy's mass on the poorly visited set, and the mismatch coefficient
‖d^{π*}_ρ / D̄‖_∞ that policy-gradient theory pays for [literature: Kakade & Langford 2002;
Agarwal et al. 2021].
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels.exploration.explorer import greedy_policy, optimal_q, visitation
from kernels.exploration.mdp import TabularMDP

__all__ = ["coverage_curves", "explorer_metrics", "optimal_visitation"]


def optimal_visitation(mdp: TabularMDP, gamma: float) -> np.ndarray:
    """d^{π*}_ρ of the greedy optimal policy (ties split) for the layout's rewards."""
    pi_star = greedy_policy(optimal_q(mdp, mdp.dense_R(), gamma))
    return visitation(mdp, pi_star, mdp.rho, gamma)


def coverage_curves(mdp: TabularMDP, explorer: dict[str, Any], gamma: float) -> dict[str, Any]:
    r"""Coverage diagnostics per explorer iteration k = 0..n (spec §4.2), on the valid set S_v.

    With D̄_k the mixture D_k restricted to S_v and renormalised, and d* = d^{π*}_ρ:

    .. math::

        \frac{|U_{k+1}|}{|S_v|},\qquad
        \frac{H(\bar D_k)}{\log|S_v|} = -\frac{\sum_s \bar D_k(s)\log\bar D_k(s)}{\log|S_v|},
        \qquad \min_s \bar D_k(s),\qquad d^*(U_{k+1}),\qquad
        \Big\|\frac{d^*}{\bar D_k}\Big\|_\infty

    Parameters
    ----------
    mdp : TabularMDP
        The explored layout (S states).
    explorer : dict
        The result of ``exploration.curious_explorer`` on ``mdp`` (n + 1 iterations).
    gamma : float
        The discount γ of the explorer run.

    Returns
    -------
    dict
        ``k`` (n+1,), ``frac_poorly``, ``entropy``, ``min_mass``, ``opt_mass_on_U`` and
        ``mismatch`` (n+1,) as above, and ``d_star`` (S,) d^{π*}_ρ.

    Notes
    -----
    The diagnostics [derived]; the mismatch coefficient is what policy-gradient bounds pay for
    [literature: Kakade & Langford 2002; Agarwal et al. 2021].
    """
    cand = explorer["candidates"]
    n_valid = int(cand.sum())
    d_star = optimal_visitation(mdp, gamma)
    mixtures = explorer["mixtures"][:, cand]
    Dbar = mixtures / mixtures.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(Dbar > 0, Dbar * np.log(Dbar), 0.0)
        ratio = np.where(d_star[cand] > 0, d_star[cand] / Dbar, 0.0)
    U = explorer["poorly_visited"]
    return {
        "k": np.arange(len(mixtures)),
        "frac_poorly": U.sum(axis=1) / n_valid,
        "entropy": -plogp.sum(axis=1) / np.log(max(n_valid, 2)),
        "min_mass": Dbar.min(axis=1),
        "opt_mass_on_U": (U * d_star).sum(axis=1),
        "mismatch": ratio.max(axis=1),
        "d_star": d_star,
    }


def explorer_metrics(mdp: TabularMDP, explorer: dict[str, Any], gamma: float) -> dict[str, float]:
    r"""Summary of the explorer's restart distribution μ (spec §4.4), on the valid set S_v.

    .. math::

        \frac{H(\mu)}{\log|S_v|},\qquad \min_{s\in S_v}\mu(s),\qquad
        D_n(\text{absorbing}),\qquad \Big\|\frac{d^{\pi^*}_\rho}{\mu}\Big\|_\infty,
        \qquad \frac{|U_{n+1}|}{|S_v|}

    Parameters
    ----------
    mdp : TabularMDP
        The explored layout (S states).
    explorer : dict
        The result of ``exploration.curious_explorer`` on ``mdp``.
    gamma : float
        The discount γ of the explorer run.

    Returns
    -------
    dict of float
        ``entropy_mu``, ``min_mu``, ``terminal_mass`` (the absorbing states' mass in the last
        mixture), ``mismatch`` and ``final_poorly_frac``.

    Notes
    -----
    [derived]; the mismatch coefficient [literature: Kakade & Langford 2002; Agarwal et al.
    2021].
    """
    cand = explorer["candidates"]
    mu = explorer["mu"][cand]
    d_star = optimal_visitation(mdp, gamma)[cand]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(d_star > 0, d_star / mu, 0.0)
    positive = mu[mu > 0]
    return {
        "entropy_mu": float(-(positive * np.log(positive)).sum() / np.log(max(cand.sum(), 2))),
        "min_mu": float(mu.min()),
        "terminal_mass": float(explorer["mixtures"][-1][mdp.absorbing].sum()),
        "mismatch": float(ratio.max()),
        "final_poorly_frac": float(explorer["poorly_visited"][-1].sum() / cand.sum()),
    }
