r"""Plain vectorized numpy re-implementation of the Adaptive SGD kernels (oracle and baseline).

An independent transcription of spec §2.2 and §2.4 for the quadratic landscape with constant
noise covariance (Σ = L Lᵀ, M = 2Σ∘Σ): the discrete SGD/RMSprop/Adam chain and the
Euler–Maruyama schemes of the ballistic RMSprop ODE/SDE1/SME2 and of the batch-equivalent
RMSprop SDE1, vectorized over paths. It takes the same standard normals ζ (n_steps, n_sub,
n_paths, d) and W2 normals as the jitted cores, so tests compare path by path, and the
benchmark times it against them. Not used by the app.
"""

from __future__ import annotations

import math

import numpy as np


def chain(
    optimizer: str,
    A: np.ndarray,
    L: np.ndarray,
    theta0: np.ndarray,
    zeta: np.ndarray,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    v0: float,
    v_order: str = "lagged",
) -> np.ndarray:
    """Final θ (n_paths, d) of the chain g = Aθ + L ξ_k, ξ_k = Σ_j ζ[k, j]/√n_sub."""
    n_steps, n_sub = zeta.shape[:2]
    th = np.array(theta0, dtype=np.float64)
    m = np.zeros_like(th)
    v = np.full_like(th, v0)
    for k in range(n_steps):
        xi = zeta[k].sum(axis=0) / math.sqrt(n_sub)
        g = th @ A.T + xi @ L.T
        if optimizer == "sgd":
            th = th - lr * g
        elif optimizer == "rmsprop":
            vn = beta2 * v + (1 - beta2) * g * g
            th = th - lr * g / (np.sqrt(vn if v_order == "pytorch" else v) + eps)
            v = vn
        else:
            m = beta1 * m + (1 - beta1) * g
            if v_order == "pytorch":
                v = beta2 * v + (1 - beta2) * g * g
                bc1, bc2 = 1 - beta1 ** (k + 1), 1 - beta2 ** (k + 1)
                th = th - lr / bc1 * m / (np.sqrt(v) / math.sqrt(bc2) + eps)
            else:
                bc1, bc2 = 1 - beta1 ** (k + 2), 1 - beta2 ** (k + 1)
                th = th - lr * math.sqrt(bc2) / bc1 * m / (np.sqrt(v) + eps * math.sqrt(bc2))
                v = beta2 * v + (1 - beta2) * g * g
    return th


def rmsprop_sde(
    regime: str,
    order: str,
    A: np.ndarray,
    L: np.ndarray,
    theta0: np.ndarray,
    v0: float,
    zeta1: np.ndarray,
    zeta2: np.ndarray | None,
    *,
    tau: float,
    c2: float,
    eps: float,
    v_floor: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Final (θ, v) of RMSprop's continuous equation by Euler–Maruyama, h = τ/n_sub.

    The θ-noise is −DL dW1 and the v-noise 2c2∇f∘(L dW1) + c2 M^{1/2} dW2 (the coupled sign
    convention of :mod:`kernels.adaptive.sde`).
    """
    n_steps, n_sub = zeta1.shape[:2]
    h = tau / n_sub
    sh, sq = math.sqrt(h), math.sqrt(tau)
    sig = L @ L.T
    sigd = np.diag(sig)
    mc = np.linalg.cholesky(2 * sig * sig) if zeta2 is not None else None
    th = np.array(theta0, dtype=np.float64)
    v = np.full_like(th, v0)
    ball = regime == "ballistic"
    for k in range(n_steps):
        for j in range(n_sub):
            g = th @ A.T
            vv = np.maximum(v, v_floor)
            rv = np.sqrt(vv)
            d = 1 / (rv + eps)
            dp = np.where(v < v_floor, 0.0, -0.5 / (rv * (rv + eps) ** 2))
            r = (g * g if ball else 0.0) + sigd - v
            bt = -d * g
            bv = c2 * r
            dw1 = sh * zeta1[k, j] @ L.T
            nt = -(sq if ball else 1.0) * d * dw1 if order != "ode" else 0.0
            nv = 0.0
            if order == "sme2":
                hy = (d * g) @ A.T
                bt = bt + tau * (-0.5 * (d * hy - c2 * dp * g * r))
                bv = bv + tau * (c2 * g * hy + 0.5 * c2 * c2 * r)
                nv = sq * 2 * c2 * g * dw1
                if zeta2 is not None:
                    nv = nv + sq * c2 * (sh * zeta2[k, j]) @ mc.T
            th = th + bt * h + nt
            v = v + bv * h + nv
    return th, v
