"""Agreement with reference libraries: torch.optim (RMSprop, Adam), torchsde and sdeint.

The discrete optimizers are fed the same float64 gradients as ``torch.optim`` (gradient =
Aθ + σξ_k with the same ξ), and the Euler–Maruyama core gets the same Brownian increments as
torchsde's and sdeint's Euler schemes, whose drift and diffusion come from the pointwise
transcription :func:`kernels.adaptive.sde.coefficients`.
"""

from __future__ import annotations

import numpy as np
import pytest
import sdeint
import torch
import torchsde

from kernels import adaptive as ad
from kernels.adaptive import core as core
from kernels.adaptive import landscapes as lands
from kernels.adaptive.discrete import OPTIMIZERS
from kernels.adaptive.sde import BALLISTIC, ORDERS, REGIMES, state_size
from tests.kernels.adaptive_helpers import pointwise

A2 = np.array([[1.0, 0.5], [0.5, 1.0]])
N_STEPS = 1000


def _torch_run(optimizer, xi, lr, beta1, beta2, eps, sigma):
    n_steps, n_paths, _ = xi.shape
    p = torch.tensor(np.tile([2.0, 1.0], (n_paths, 1)), dtype=torch.float64, requires_grad=True)
    a = torch.tensor(A2, dtype=torch.float64)
    if optimizer == "rmsprop":
        opt = torch.optim.RMSprop([p], lr=lr, alpha=beta2, eps=eps)
    else:
        opt = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    out = []
    for k in range(n_steps):
        opt.zero_grad()
        with torch.no_grad():
            p.grad = p.detach() @ a.T + sigma * torch.tensor(xi[k], dtype=torch.float64)
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_pytorch_ordering_matches_torch_optim(optimizer):
    rng = np.random.default_rng(0)
    xi = rng.standard_normal((N_STEPS, 8, 2))
    hyper = dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-6)
    theirs = _torch_run(optimizer, xi, sigma=0.5, **hyper)
    ours = ad.simulate_optimizer(
        optimizer,
        landscape="quadratic",
        A=A2,
        theta0=[2.0, 1.0],
        n_steps=N_STEPS,
        n_paths=8,
        rng=0,
        noise=xi,
        noise_std=0.5,
        gradient_noise="isotropic",
        v_order="pytorch",
        v0=0.0,
        m0=0.0,
        **hyper,
    )
    # spec §7: relative agreement <= 1e-10 over 1e3 float64 steps (operation order differs
    # only in rounding, e.g. torch's lerp for m)
    np.testing.assert_allclose(ours["theta"][1:], theirs, rtol=1e-10, atol=1e-12)


def _our_euler(opt, regime, order, x0, dw1, dw2, tau, n_sub, **kw):
    """Run the SIMD core on given increments ΔW (n_steps·n_sub, m) for one path."""
    code, lmat, lvec, d = lands.build_landscape("quadratic", 2, noise_std=kw["noise_std"], A=A2)
    h = tau / n_sub
    n_steps = dw1.shape[0] // n_sub
    z1 = (dw1 / np.sqrt(h)).reshape(n_steps, n_sub, d, 1)
    z2 = (dw2 / np.sqrt(h)).reshape(n_steps, n_sub, d, 1)
    x = np.asarray(x0, dtype=np.float64).reshape(-1, 1).copy()
    par = np.array([tau, kw["c1"], kw["c2"], kw["eps"], kw["v_floor"], 2.0, 1.0])
    flags = np.array([1, 0, 0, 0], dtype=np.int64)
    wv, wm = core.make_soa_work(d, 1)
    s_first = 2 if opt == OPTIMIZERS["adam"] else 0
    core.euler_chunk(
        code,
        opt,
        regime,
        order,
        flags,
        par,
        lmat,
        lvec,
        x,
        z1,
        z2,
        s_first,
        n_steps,
        0,
        10**6,
        np.zeros((1, *x.shape)),
        wv,
        wm,
    )
    return x[:, 0]


CASES = [
    ("sgd", "ballistic", "sme2"),
    ("rmsprop", "ballistic", "sme2"),
    ("rmsprop", "batch_equivalent", "sme2"),
    ("adam", "ballistic", "sme2"),
    ("adam", "batch_equivalent", "sde1"),
]
KW = dict(c1=1.0, c2=0.7, eps=0.1, v_floor=0.05, noise_std=0.5)


@pytest.mark.parametrize(("optimizer", "regime", "order"), CASES)
def test_euler_matches_sdeint_given_the_same_increments(optimizer, regime, order):
    opt, reg, od = OPTIMIZERS[optimizer], REGIMES[regime], ORDERS[order]
    tau, n_sub, n_steps = 2**-4, 4, 24
    h = tau / n_sub
    drift, diff = pointwise(opt, reg, od, tau=tau, A=A2, **KW)
    ns = state_size(opt, 2)
    x0 = {2: [2.0, 1.0], 4: [2.0, 1.0, 0.8, 0.9], 6: [2.0, 1.0, 0.3, -0.2, 0.8, 0.9]}[ns]
    x0 = np.array(x0)
    t0 = 2 * tau if optimizer == "adam" else 0.0
    n_sub_total = n_steps * n_sub
    dw = np.random.default_rng(3).standard_normal((n_sub_total, 4)) * np.sqrt(h)
    first = 2 * n_sub if optimizer == "adam" else 0
    tspan = t0 + h * np.arange(n_sub_total - first + 1)
    theirs = sdeint.itoEuler(
        lambda y, t: drift(t, y), lambda y, t: diff(t, y), x0, tspan, dW=dw[first:]
    )[-1]
    # ours: the same increments, laid out per coordinate (W1 then W2)
    ours = _our_euler(
        opt,
        reg,
        od,
        x0,
        dw[:, :2].reshape(n_sub_total, 2, 1),
        dw[:, 2:].reshape(n_sub_total, 2, 1),
        tau,
        n_sub,
        **KW,
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)  # round-off only


class _TorchSDE(torch.nn.Module):
    noise_type = "general"
    sde_type = "ito"

    def __init__(self, drift, diff):
        super().__init__()
        self._drift, self._diff = drift, diff

    def f(self, t, y):
        return torch.tensor(np.array([self._drift(float(t), r) for r in y.numpy()]))

    def g(self, t, y):
        return torch.tensor(np.array([self._diff(float(t), r) for r in y.numpy()]))


def test_euler_matches_torchsde_given_the_same_brownian_interval():
    opt, reg, od = OPTIMIZERS["rmsprop"], BALLISTIC, ORDERS["sme2"]
    tau, n_sub, n_steps, batch = 2**-4, 2, 16, 3
    h = tau / n_sub
    drift, diff = pointwise(opt, reg, od, tau=tau, A=A2, **KW)
    y0 = torch.tensor(np.tile([2.0, 1.0, 0.8, 0.9], (batch, 1)), dtype=torch.float64)
    t1 = n_steps * tau
    bm = torchsde.BrownianInterval(t0=0.0, t1=t1, size=(batch, 4), dtype=torch.float64, entropy=11)
    ys = torchsde.sdeint(
        _TorchSDE(drift, diff), y0, torch.tensor([0.0, t1]), bm=bm, method="euler", dt=h
    )
    grid = h * np.arange(n_steps * n_sub + 1)
    dws = np.array([bm(grid[i], grid[i + 1]).numpy() for i in range(len(grid) - 1)])
    for b in range(batch):
        ours = _our_euler(
            opt,
            reg,
            od,
            y0[b].numpy(),
            dws[:, b, :2].reshape(-1, 2, 1),
            dws[:, b, 2:].reshape(-1, 2, 1),
            tau,
            n_sub,
            **KW,
        )
        # torchsde's Euler with the same increments: round-off
        np.testing.assert_allclose(ours, ys[-1, b].numpy(), rtol=1e-10, atol=1e-12)
