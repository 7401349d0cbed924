r"""Scaling rules of the Adaptive SGD tab: hyperparameters at batch size κB (spec §2.3, §3).

* :func:`scaling_rule`: the square-root rule and its naive alternatives on the discrete
  hyperparameters (η, β, ε, B), with κ clamped where :math:`1-\beta` would exceed 1
  [derived; literature: Malladi et al.];
* :func:`scaled_sde_parameters`: the same rules on the batch-equivalent SDE parameters
  (τ, c, ε0, σ0) [derived].

Pure numpy (no numba).
"""

from __future__ import annotations

import math

from kernels.common.validation import choice, real

SCALING_RULES = ("srsr", "no_beta_eps", "linear")


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
    r"""Hyperparameters for batch size κB under a scaling rule (spec §2.3, §3).

    .. math::

        \text{srsr: }\eta\to\sqrt\kappa\,\eta,\ 1-\beta_i\to\kappa(1-\beta_i),\
        \epsilon\to\epsilon/\sqrt\kappa;\quad
        \text{no\_beta\_eps: }\eta\to\sqrt\kappa\,\eta;\quad
        \text{linear: }\eta\to\kappa\eta;\qquad B\to\kappa B

    ``srsr`` needs :math:`\kappa(1-\beta_i)\le1`, so κ is clamped to
    :math:`\min_i 1/(1-\beta_i)` and ``message`` says so; the two naive rules do not clamp but
    warn when :math:`\kappa>1/(1-\beta_i)`.

    Parameters
    ----------
    kappa : float
        Batch-size factor κ > 0.
    lr, beta1, beta2, eps : float
        Base η, β1, β2, ε.
    batch_size : float
        Base B.
    rule : {"srsr", "no_beta_eps", "linear"}

    Returns
    -------
    dict
        ``lr``, ``beta1``, ``beta2``, ``eps``, ``batch_size``, ``kappa`` (used),
        ``kappa_requested``, ``clamped``, ``message``, ``rule``.

    Notes
    -----
    [derived] (the square-root rule fixes τ/B); [literature] Malladi et al. for the rule and
    the warning.
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
    r"""The scaling rules of :func:`scaling_rule` acting on the batch-equivalent SDE parameters
    (τ, c, ε0, σ0) (spec §3).

    .. math::

        \text{srsr: }\tau\to\kappa\tau;\quad
        \text{no\_beta\_eps: }\tau\to\kappa\tau,\ c\to c/\kappa,\ \epsilon_0\to\sqrt\kappa
        \,\epsilon_0;\quad
        \text{linear: }\tau\to\kappa^2\tau,\ \sigma_0\to\sqrt\kappa\,\sigma_0,\
        c\to c/\kappa^2,\ \epsilon_0\to\kappa\epsilon_0

    Parameters
    ----------
    kappa : float
        Batch-size factor κ.
    tau, c1, c2, eps, sigma : float
        Base τ, c1, c2, ε0, σ0.
    rule : {"srsr", "no_beta_eps", "linear"}

    Returns
    -------
    dict of float
        ``tau``, ``c1``, ``c2``, ``eps``, ``sigma`` at batch size κB.

    Notes
    -----
    [derived]
    """
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
