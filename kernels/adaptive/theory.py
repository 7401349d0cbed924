r"""Closed forms of the Adaptive SGD tab: moment recursions, clocks, scaling rules, stability.

Spec ``models/adaptive.md`` §2.3, §3 and §6. Pure numpy (no numba).

* :func:`sgd_moments`: exact mean/covariance recursion of SGD on a quadratic,
  :math:`\mu_{k+1}=(I-\eta A)\mu_k`, :math:`S_{k+1}=(I-\eta A)S_k(I-\eta A)^\top+\eta^2\Sigma`
  (§6.1) [derived];
* :func:`sgd_sde_moments`: the same for the SDE :math:`d\theta=-A_{\rm eff}\theta\,dt+
  \sqrt\tau\Sigma^{1/2}dW`, :math:`A_{\rm eff}=A` (SDE1) or :math:`A+\tfrac\tau2A^2` (SME2),
  solved exactly in the eigenbasis of A [literature: Li–Tai–E];
* :func:`adam_clock`, :func:`adam_discrete_factor`: :math:`\Gamma(t)=\sqrt{\gamma_2}/\gamma_1`
  vs :math:`\sqrt{1-\beta_2^{k+o_2}}/(1-\beta_1^{k+o_1})` (§6.5) [paper];
* :func:`batch_equivalent_u`: :math:`u(t)=\Sigma_d+(u_0-\Sigma_d)e^{-c_2t}` (§6.2);
* :func:`scaling_rule`: the square-root rule and its naive alternatives, with κ clamped where
  :math:`1-\beta` would exceed 1 (§2.3, §3) [derived; literature: Malladi et al.];
* :func:`stability_limit`: the largest stable learning rate on a quadratic [derived].
"""

from __future__ import annotations

import math

import numpy as np

from kernels.common.validation import choice, integer, real

SCALING_RULES = ("srsr", "no_beta_eps", "linear")


def _sym_matrix(name: str, a: object) -> np.ndarray:
    m = np.atleast_2d(np.asarray(a, dtype=np.float64))
    if m.ndim != 2 or m.shape[0] != m.shape[1] or not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be a finite square matrix")
    return m


def sgd_moments(
    A: object, Sigma: object, theta0: object, lr: float, n_steps: int
) -> dict[str, np.ndarray]:
    """Exact mean (n+1, d), covariance (n+1, d, d) and E f = ½E θᵀAθ of SGD on ½θᵀAθ.

    The gradient noise has covariance ``Sigma`` (constant, mean zero).
    """
    a = _sym_matrix("A", A)
    sig = _sym_matrix("Sigma", Sigma)
    lr = real("lr", lr, 0.0, None, lo_open=True)
    n_steps = integer("n_steps", n_steps, 0, 10**7)
    d = a.shape[0]
    mean = np.empty((n_steps + 1, d))
    cov = np.empty((n_steps + 1, d, d))
    mean[0] = np.asarray(theta0, dtype=np.float64).reshape(d)
    cov[0] = 0.0
    p = np.eye(d) - lr * a
    noise = lr * lr * sig
    for k in range(n_steps):
        mean[k + 1] = p @ mean[k]
        cov[k + 1] = p @ cov[k] @ p.T + noise
    return {"mean": mean, "cov": cov, "loss": _quadratic_loss(a, mean, cov)}


def sgd_sde_moments(
    A: object, Sigma: object, theta0: object, tau: float, t: object, order: str = "sde1"
) -> dict[str, np.ndarray]:
    """Exact mean, covariance and E f at times ``t`` of the SGD SDE1/SME2 on ½θᵀAθ.

    dθ = −A_eff θ dt + √τ Σ^{1/2} dW: in the eigenbasis of A (λ_i, A_eff commutes with A)
    S̃_ij(t) = τΣ̃_ij (1 − e^{−(μ_i+μ_j)t})/(μ_i+μ_j), μ = λ (SDE1) or λ + τλ²/2 (SME2).
    """
    a = _sym_matrix("A", A)
    sig = _sym_matrix("Sigma", Sigma)
    choice("order", order, ("ode", "sde1", "sme2"))
    tau = real("tau", tau, 0.0, None, lo_open=True)
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
    lam, q = np.linalg.eigh(a)
    mu = lam + (0.5 * tau * lam**2 if order == "sme2" else 0.0)
    x0 = q.T @ np.asarray(theta0, dtype=np.float64).reshape(-1)
    st = q.T @ sig @ q * (0.0 if order == "ode" else tau)
    rate = mu[:, None] + mu[None, :]
    mean = (np.exp(-np.outer(ts, mu)) * x0) @ q.T
    decay = -np.expm1(-ts[:, None, None] * rate)
    cov_e = st * decay / rate
    cov = np.einsum("ij,tjk,lk->til", q, cov_e, q)
    return {"t": ts, "mean": mean, "cov": cov, "loss": _quadratic_loss(a, mean, cov)}


def _quadratic_loss(a: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    return 0.5 * (np.einsum("ti,ij,tj->t", mean, a, mean) + np.einsum("ij,tji->t", a, cov))


def sgd_stationary_variance(a: float, s: float, tau: float) -> tuple[float, float]:
    """1-D stationary variances: chain τs²/(a(2−τa)) and SME τs²/(2a) (spec §6.1)."""
    return tau * s * s / (a * (2.0 - tau * a)), tau * s * s / (2.0 * a)


def batch_equivalent_u(t: object, sigma_d: float, u0: float, c2: float) -> np.ndarray:
    """u(t) = Σ_d + (u0 − Σ_d) e^{−c2 t}, the batch-equivalent RMSprop SDE1 (spec §6.2)."""
    return sigma_d + (u0 - sigma_d) * np.exp(-c2 * np.asarray(t, dtype=np.float64))


def adam_clock(t: object, c1: float, c2: float) -> np.ndarray:
    """Γ(t) = √γ2/γ1 with γ_i = 1 − e^{−c_i t} (spec §2.4) [paper]."""
    ts = np.asarray(t, dtype=np.float64)
    return np.sqrt(-np.expm1(-c2 * ts)) / -np.expm1(-c1 * ts)


def adam_discrete_factor(
    k: object, beta1: float, beta2: float, offsets: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    """√(1−β2^{k+o2})/(1−β1^{k+o1}): Adam's bias-correction factor at step k."""
    ks = np.asarray(k, dtype=np.float64)
    return np.sqrt(1.0 - beta2 ** (ks + offsets[1])) / (1.0 - beta1 ** (ks + offsets[0]))


def regime_hyperparameters(
    regime: str, tau: float, c1: float, c2: float, eps: float, sigma: float
) -> dict[str, float]:
    """Discrete η, β1, β2, ε, noise std of the chain whose continuous limit has these
    SDE parameters (spec §2.3 table); ``v_scale`` maps v to the SDE state (u = η²v)."""
    choice("regime", regime, ("ballistic", "batch_equivalent"))
    if regime == "ballistic":
        return {
            "lr": tau,
            "beta1": 1 - c1 * tau,
            "beta2": 1 - c2 * tau,
            "eps": eps,
            "noise_std": sigma,
            "v_scale": 1.0,
        }
    lr = math.sqrt(tau)
    return {
        "lr": lr,
        "beta1": 1 - c1 * tau,
        "beta2": 1 - c2 * tau,
        "eps": eps / lr,
        "noise_std": sigma / lr,
        "v_scale": tau,
    }


def scaling_rule(
    kappa: float,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    batch_size: float,
    rule: str = "srsr",
) -> dict[str, object]:
    r"""Hyperparameters for batch size κB (spec §2.3, §3).

    ``srsr`` (square-root rule): η→√κη, B→κB, 1−β_i→κ(1−β_i), ε→ε/√κ; it needs
    κ(1−β_i) ≤ 1, so κ is clamped to min_i 1/(1−β_i) and ``message`` says so.
    ``no_beta_eps``: η→√κη, B→κB, β and ε unchanged. ``linear``: η→κη, B→κB. The two naive
    rules do not clamp but warn when κ > 1/(1−β_i) [literature].

    Returns ``lr, beta1, beta2, eps, batch_size, kappa`` (used), ``kappa_requested``,
    ``clamped`` and ``message``.
    """
    rule = choice("rule", rule, SCALING_RULES)
    kappa_in = real("kappa", kappa, 0.0, 1e6, lo_open=True)
    lr = real("lr", lr, 0.0, None, lo_open=True)
    beta1 = real("beta1", beta1, 0.0, 1.0)
    beta2 = real("beta2", beta2, 0.0, 1.0)
    eps = real("eps", eps, 0.0)
    batch_size = real("batch_size", batch_size, 0.0, None, lo_open=True)
    gaps = [1.0 - beta1, 1.0 - beta2]
    kmax = min(1.0 / g if g > 0 else math.inf for g in gaps)
    kappa_used, clamped, message = kappa_in, False, ""
    if kappa_in > kmax:
        if rule == "srsr":
            kappa_used, clamped = kmax, True
            message = (
                f"κ = {kappa_in:g} would make 1−β exceed 1; clamped to κ = {kmax:.4g} = "
                f"1/max(1−β1, 1−β2)."
            )
        else:
            message = f"κ = {kappa_in:g} > 1/(1−β) = {kmax:.4g}: outside the rule's range."
    k = kappa_used
    if rule == "srsr":
        out = {
            "lr": math.sqrt(k) * lr,
            "beta1": 1 - k * gaps[0],
            "beta2": 1 - k * gaps[1],
            "eps": eps / math.sqrt(k),
        }
    elif rule == "no_beta_eps":
        out = {"lr": math.sqrt(k) * lr, "beta1": beta1, "beta2": beta2, "eps": eps}
    else:
        out = {"lr": k * lr, "beta1": beta1, "beta2": beta2, "eps": eps}
    out.update(
        batch_size=k * batch_size,
        kappa=k,
        kappa_requested=kappa_in,
        clamped=clamped,
        message=message,
        rule=rule,
    )
    return out


def scaled_sde_parameters(
    kappa: float, *, tau: float, c1: float, c2: float, eps: float, sigma: float, rule: str
) -> dict[str, float]:
    """The rules of :func:`scaling_rule` acting on the batch-equivalent (τ, c, ε0, σ0)
    (spec §3): srsr τ→κτ; no_beta_eps also c→c/κ, ε0→√κε0; linear τ→κ²τ, σ0→√κσ0,
    c→c/κ², ε0→κε0."""
    choice("rule", rule, SCALING_RULES)
    k = kappa
    if rule == "srsr":
        return {"tau": k * tau, "c1": c1, "c2": c2, "eps": eps, "sigma": sigma}
    if rule == "no_beta_eps":
        return {
            "tau": k * tau,
            "c1": c1 / k,
            "c2": c2 / k,
            "eps": math.sqrt(k) * eps,
            "sigma": sigma,
        }
    return {
        "tau": k * k * tau,
        "c1": c1 / k**2,
        "c2": c2 / k**2,
        "eps": k * eps,
        "sigma": math.sqrt(k) * sigma,
    }


def stability_limit(optimizer: str, lam_max: float, eps: float, v_typical: float) -> float:
    """Largest stable learning rate on a quadratic with top curvature ``lam_max`` [derived].

    SGD: η < 2/λ_max. RMSprop/Adam near the minimum, where v ≈ ``v_typical`` (≈ Σ_d):
    the preconditioned step η/(√v+ε) must stay below 2/λ_max, i.e. η < 2(√v+ε)/λ_max.
    """
    if optimizer == "sgd":
        return 2.0 / lam_max
    return 2.0 * (math.sqrt(max(v_typical, 0.0)) + eps) / lam_max
