r"""Closed forms of the Adaptive SGD tab: moment recursions, clocks, regimes, stability.

Spec ``models/adaptive.md`` §2.3 and §6. Pure numpy (no numba). The scaling rules are in
:mod:`kernels.adaptive.scaling`.

* :func:`sgd_moments`: exact mean/covariance recursion of SGD on a quadratic,
  :math:`\mu_{k+1}=(I-\eta A)\mu_k`, :math:`S_{k+1}=(I-\eta A)S_k(I-\eta A)^\top+\eta^2\Sigma`
  (§6.1) [derived];
* :func:`sgd_sde_moments`: the same for the SDE :math:`d\theta=-A_{\rm eff}\theta\,dt+
  \sqrt\tau\Sigma^{1/2}dW`, :math:`A_{\rm eff}=A` (SDE1) or :math:`A+\tfrac\tau2A^2` (SME2),
  solved exactly in the eigenbasis of A [literature: Li–Tai–E];
* :func:`adam_clock`, :func:`adam_discrete_factor`: :math:`\Gamma(t)=\sqrt{\gamma_2}/\gamma_1`
  vs :math:`\sqrt{1-\beta_2^{k+o_2}}/(1-\beta_1^{k+o_1})` (§6.5) [paper];
* :func:`batch_equivalent_u`: :math:`u(t)=\Sigma_d+(u_0-\Sigma_d)e^{-c_2t}` (§6.2);
* :func:`regime_hyperparameters`: the chain's η, β, ε, σ of a regime (§2.3 table) [paper];
* :func:`stability_limit`: the largest stable learning rate on a quadratic [derived].
"""

from __future__ import annotations

import math

import numpy as np

from kernels.common.validation import choice, integer, real


def _sym_matrix(name: str, a: object) -> np.ndarray:
    m = np.atleast_2d(np.asarray(a, dtype=np.float64))
    if m.ndim != 2 or m.shape[0] != m.shape[1] or not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be a finite square matrix")
    return m


def sgd_moments(
    A: object, Sigma: object, theta0: object, lr: float, n_steps: int
) -> dict[str, np.ndarray]:
    r"""Exact mean, covariance and mean loss of SGD on the quadratic :math:`\tfrac12\theta^\top
    A\theta` with constant gradient-noise covariance ``Sigma`` (spec §6.1).

    .. math::

        \mu_{k+1}=(I-\eta A)\mu_k,\qquad
        S_{k+1}=(I-\eta A)S_k(I-\eta A)^\top+\eta^2\Sigma,\qquad
        E f_k=\tfrac12\left(\mu_k^\top A\mu_k+\mathrm{tr}(AS_k)\right)

    Parameters
    ----------
    A : (d, d) array
        Hessian of the quadratic (symmetric).
    Sigma : (d, d) array
        Covariance of the gradient noise (mean zero).
    theta0 : (d,) array
        Deterministic start :math:`\mu_0`; :math:`S_0 = 0`.
    lr : float
        Learning rate :math:`\eta > 0`.
    n_steps : int
        Number of steps.

    Returns
    -------
    dict
        ``mean`` (n_steps + 1, d), ``cov`` (n_steps + 1, d, d), ``loss`` (n_steps + 1,).

    Notes
    -----
    [derived]
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
    r"""Exact mean, covariance and mean loss at times ``t`` of the SGD ODE/SDE1/SME2 on
    :math:`\tfrac12\theta^\top A\theta` (spec §6.1).

    .. math::

        d\theta=-A_{\rm eff}\theta\,dt+\sqrt\tau\,\Sigma^{1/2}dW,\qquad
        \tilde S_{ij}(t)=\tau\tilde\Sigma_{ij}\frac{1-e^{-(\mu_i+\mu_j)t}}{\mu_i+\mu_j}

    in the eigenbasis of A (eigenvalues :math:`\lambda_i`), with :math:`\mu=\lambda` (SDE1) or
    :math:`\lambda+\tau\lambda^2/2` (SME2, :math:`A_{\rm eff}=A+\tfrac\tau2A^2`); the ODE has
    no noise.

    Parameters
    ----------
    A : (d, d) array
        Hessian of the quadratic (symmetric).
    Sigma : (d, d) array
        Covariance of the gradient noise.
    theta0 : (d,) array
        Deterministic start.
    tau : float
        The step τ the equation approximates (η = τ).
    t : float or (n_t,) array
        Times.
    order : {"ode", "sde1", "sme2"}
        The continuous order.

    Returns
    -------
    dict
        ``t`` (n_t,), ``mean`` (n_t, d), ``cov`` (n_t, d, d), ``loss`` (n_t,).

    Notes
    -----
    [literature] Li–Tai–E, the SGD SME.
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
    r"""1-D stationary variances of SGD on :math:`\tfrac12a\theta^2` with noise N(0, s²)
    (spec §6.1).

    .. math::

        \mathrm{Var}_{\rm chain}=\frac{\tau s^2}{a(2-\tau a)},\qquad
        \mathrm{Var}_{\rm SME}=\frac{\tau s^2}{2a}

    Parameters
    ----------
    a : float
        Curvature.
    s : float
        Noise standard deviation.
    tau : float
        Step η = τ (stable for τa < 2).

    Returns
    -------
    tuple of float
        (chain variance, SME variance).

    Notes
    -----
    [derived]
    """
    return tau * s * s / (a * (2.0 - tau * a)), tau * s * s / (2.0 * a)


def batch_equivalent_u(t: object, sigma_d: float, u0: float, c2: float) -> np.ndarray:
    r"""Second moment u(t) of the batch-equivalent RMSprop SDE1 (spec §2.4, §6.2).

    .. math::

        u(t)=\Sigma_d+(u_0-\Sigma_d)\,e^{-c_2t}

    Parameters
    ----------
    t : float or array
        Times (broadcast against ``sigma_d``).
    sigma_d : float or array
        Diagonal of the noise covariance :math:`\Sigma_d` (e.g. shape (1, d) against t of
        shape (n_t, 1)).
    u0 : float
        Start :math:`u_0 = \eta^2 v_0`.
    c2 : float
        Rate, :math:`1-\beta_2=c_2\tau`.

    Returns
    -------
    array
        u at ``t``, of the broadcast shape of ``t`` and ``sigma_d``.

    Notes
    -----
    [paper][literature] Malladi et al.'s SDE1; the closed form is [derived].
    """
    return sigma_d + (u0 - sigma_d) * np.exp(-c2 * np.asarray(t, dtype=np.float64))


def adam_clock(t: object, c1: float, c2: float) -> np.ndarray:
    r"""Adam's continuous bias-correction clock (spec §2.4, §6.5).

    .. math::

        \Gamma(t)=\frac{\sqrt{\gamma_2(t)}}{\gamma_1(t)},\qquad \gamma_i(t)=1-e^{-c_it}

    Parameters
    ----------
    t : float or array
        SDE times, t > 0 (Γ is singular at t = 0).
    c1, c2 : float
        Rates, :math:`1-\beta_i=c_i\tau`.

    Returns
    -------
    array
        Γ at ``t`` (same shape).

    Notes
    -----
    [paper]
    """
    ts = np.asarray(t, dtype=np.float64)
    return np.sqrt(-np.expm1(-c2 * ts)) / -np.expm1(-c1 * ts)


def adam_discrete_factor(
    k: object, beta1: float, beta2: float, offsets: tuple[float, float] = (0.0, 0.0)
) -> np.ndarray:
    r"""Adam's discrete bias-correction factor at step k (spec §2.2, §6.5).

    .. math::

        \frac{\sqrt{1-\beta_2^{k+o_2}}}{1-\beta_1^{k+o_1}}

    Parameters
    ----------
    k : int or array
        Step indices.
    beta1, beta2 : float
        Moment decay rates.
    offsets : (float, float)
        :math:`(o_1, o_2)`: (2, 1) for the authors' lagged ordering, (1, 1) for PyTorch.

    Returns
    -------
    array
        The factor at ``k`` (same shape); it tends to :math:`\Gamma(k\tau)` as τ → 0.

    Notes
    -----
    [paper]
    """
    ks = np.asarray(k, dtype=np.float64)
    return np.sqrt(1.0 - beta2 ** (ks + offsets[1])) / (1.0 - beta1 ** (ks + offsets[0]))


def regime_hyperparameters(
    regime: str, tau: float, c1: float, c2: float, eps: float, sigma: float
) -> dict[str, float]:
    r"""Discrete hyperparameters of the chain whose continuous limit has the SDE parameters
    (τ, c1, c2, ε, σ) in ``regime`` (spec §2.3 table).

    .. math::

        \text{ballistic: }\eta=\tau,\ \epsilon,\ \sigma;\qquad
        \text{batch-equivalent: }\eta=\sqrt\tau,\ \epsilon/\eta,\ \sigma/\eta,\ u=\eta^2v;
        \qquad 1-\beta_i=c_i\tau

    Parameters
    ----------
    regime : {"ballistic", "batch_equivalent"}
    tau : float
        SDE time per step.
    c1, c2 : float
        Rates, :math:`1-\beta_i=c_i\tau`.
    eps : float
        ε (ballistic) or :math:`\epsilon_0=\eta\epsilon` (batch-equivalent).
    sigma : float
        σ (ballistic) or :math:`\sigma_0=\sqrt{\tau/B}` (batch-equivalent).

    Returns
    -------
    dict of float
        ``lr``, ``beta1``, ``beta2``, ``eps``, ``noise_std`` of the chain and ``v_scale`` (1, or
        τ = η²: u = v_scale · v).

    Notes
    -----
    [paper]
    """
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


def stability_limit(optimizer: str, lam_max: float, eps: float, v_typical: float) -> float:
    r"""Largest stable learning rate on a quadratic with top curvature ``lam_max``.

    .. math::

        \text{SGD: }\eta<\frac2{\lambda_{\max}};\qquad
        \text{RMSprop, Adam: }\eta<\frac{2(\sqrt{v^*}+\epsilon)}{\lambda_{\max}}

    near the minimum, where the second moment :math:`v\approx v^*` (≈ Σ_d) and the
    preconditioned step :math:`\eta/(\sqrt v+\epsilon)` must stay below :math:`2/\lambda_{\max}`.

    Parameters
    ----------
    optimizer : {"sgd", "rmsprop", "adam"}
    lam_max : float
        Largest eigenvalue of the Hessian.
    eps : float
        ε of the chain.
    v_typical : float
        Typical second moment :math:`v^*` at the minimum.

    Returns
    -------
    float
        The limit on η.

    Notes
    -----
    [derived]
    """
    if optimizer == "sgd":
        return 2.0 / lam_max
    return 2.0 * (math.sqrt(max(v_typical, 0.0)) + eps) / lam_max
