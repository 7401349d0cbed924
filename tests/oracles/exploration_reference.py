r"""Plain numpy/scipy reference of the Exploration maps kernels (test oracle and benchmark).

Written independently of the Numba cores, straight from the equations of spec
``models/exploration.md`` §2: dense P (S, A, S), ``numpy.linalg.solve`` for visitation and
values, vectorised value iteration, the explorer loop and exact softmax PG.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "exact_pg",
    "explorer",
    "pg_gradient",
    "policy_values",
    "q_values",
    "value_iteration",
    "visitation",
]


def _p_pi(P: np.ndarray, pi: np.ndarray) -> np.ndarray:
    return np.einsum("sa,sat->st", pi, P)


def visitation(P: np.ndarray, pi: np.ndarray, nu: np.ndarray, gamma: float) -> np.ndarray:
    """d^π_ν = (1−γ)(I − γP_π^T)^{-1} ν."""
    S = P.shape[0]
    return (1 - gamma) * np.linalg.solve(np.eye(S) - gamma * _p_pi(P, pi).T, nu)


def policy_values(P: np.ndarray, R: np.ndarray, pi: np.ndarray, gamma: float) -> np.ndarray:
    """V^π = (I − γP_π)^{-1} r_π."""
    S = P.shape[0]
    return np.linalg.solve(np.eye(S) - gamma * _p_pi(P, pi), np.sum(pi * R, axis=1))


def q_values(P: np.ndarray, R: np.ndarray, V: np.ndarray, gamma: float) -> np.ndarray:
    """Q(s,a) = R(s,a) + γ Σ_{s'} P(s'|s,a) V(s')."""
    return R + gamma * P @ V


def value_iteration(
    P: np.ndarray, R: np.ndarray, gamma: float, tol: float = 1e-10, max_iter: int = 200_000
) -> np.ndarray:
    """Optimal Q by vectorised Jacobi sweeps until the sup-norm change is below ``tol``."""
    Q = np.zeros_like(R)
    for _ in range(max_iter):
        Q_new = R + gamma * P @ Q.max(axis=1)
        change = np.max(np.abs(Q_new - Q))
        Q = Q_new
        if change < tol:
            break
    return Q


def _eps_greedy(Q: np.ndarray, eps: float, tie: float = 1e-12) -> np.ndarray:
    top = Q >= Q.max(axis=1, keepdims=True) - tie
    return (1 - eps) * top / top.sum(axis=1, keepdims=True) + eps / Q.shape[1]


def explorer(
    P: np.ndarray,
    rho: np.ndarray,
    valid: np.ndarray,
    gamma: float,
    c: float,
    K: int,
    eps: float,
) -> dict[str, object]:
    """The explorer loop (renormalised threshold, indicator reward, π_0 included)."""
    S, A, _ = P.shape
    delta = c / valid.sum()
    pi = np.full((S, A), 1.0 / A)
    ds = [visitation(P, pi, rho, gamma)]
    sizes = []
    for _ in range(K + 1):
        D = np.mean(ds, axis=0)
        Dbar = np.where(valid, D, 0) / D[valid].sum()
        U = valid & (Dbar < delta)
        sizes.append(int(U.sum()))
        if not U.any() or len(ds) == K + 1:
            break
        Q = value_iteration(P, np.repeat(U[:, None].astype(float), A, axis=1), gamma)
        ds.append(visitation(P, _eps_greedy(Q, eps), rho, gamma))
    D = np.mean(ds, axis=0)
    return {"mu": np.where(valid, D, 0) / D[valid].sum(), "sizes": sizes, "mixture": D}


def pg_gradient(
    P: np.ndarray, R: np.ndarray, theta: np.ndarray, nu: np.ndarray, gamma: float
) -> np.ndarray:
    """Exact ∇_θ V^{π_θ}(ν) = d_ν(s) π(a|s) A(s,a)/(1−γ) for the tabular softmax."""
    z = np.exp(theta - theta.max(axis=1, keepdims=True))
    pi = z / z.sum(axis=1, keepdims=True)
    V = policy_values(P, R, pi, gamma)
    adv = q_values(P, R, V, gamma) - V[:, None]
    return visitation(P, pi, nu, gamma)[:, None] * pi * adv / (1 - gamma)


def exact_pg(
    P: np.ndarray,
    R: np.ndarray,
    nu: np.ndarray,
    rho: np.ndarray,
    gamma: float,
    lr: float,
    n_iters: int,
) -> np.ndarray:
    """V^{π_t}(ρ) for t = 0..T of exact softmax PG from θ = 0 on V(ν)."""
    theta = np.zeros(R.shape)
    values = np.empty(n_iters + 1)
    for t in range(n_iters + 1):
        z = np.exp(theta - theta.max(axis=1, keepdims=True))
        pi = z / z.sum(axis=1, keepdims=True)
        values[t] = rho @ policy_values(P, R, pi, gamma)
        if t < n_iters:
            theta = theta + lr * pg_gradient(P, R, theta, nu, gamma)
    return values
