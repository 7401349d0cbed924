"""Benchmark of the Adaptive SGD kernels: path-steps per second, default ensemble, weak error.

Run ``python benchmarks/bench_adaptive.py`` (a few minutes: the weak-error study runs at the
spec's sizes). ``main(argv)`` returns rows for ``benchmarks/run_all.py`` with keys ``model``,
``case``, ``unit``, ``numba``, ``numpy`` (or a peer) and ``ratio`` (reference time / numba time).

* Path-steps per second at 1000 paths, d = 2 (quadratic, constant Σ): the vectorized numba
  cores against the plain numpy transcription of :mod:`tests.oracles.adaptive_reference`, on
  the same pre-drawn normals (checked equal before timing); discrete Adam also against
  ``torch.optim``.
* The default ensemble: chain + SDE on one Brownian path, 1000 paths, T = 10, τ = 2⁻⁶, 4 EM
  substeps, normals included (target ≤ 200 ms).
* The weak-error study at the spec's sizes: 10⁵ paths, τ = 2⁻²…2⁻⁶, h = 2⁻¹¹, ODE, SDE1, SME2
  with and without W2 (target ≤ 15 s).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from timing import best_time  # noqa: E402

from kernels import adaptive as ad  # noqa: E402
from kernels.adaptive import core as core  # noqa: E402
from kernels.adaptive import landscapes as lands  # noqa: E402
from kernels.adaptive import sde as sde  # noqa: E402
from kernels.adaptive import studies as studies  # noqa: E402
from tests.oracles import adaptive_reference as ref  # noqa: E402

P, D, TAU = 1000, 2, 2**-6
A = np.array([[1.0, 0.5], [0.5, 1.0]])


def row(
    case: str, unit: str, numba: float, other: float | None, ref_name: str = "numpy", note: str = ""
) -> dict[str, Any]:
    return {
        "model": "adaptive",
        "case": case,
        "unit": unit,
        "numba": numba,
        ref_name: other,
        "ratio": (numba / other) if other else None,
        "note": note,
    }


def discrete_rows(steps: int = 400) -> list[dict[str, Any]]:
    code, lmat, lvec, _ = lands.build_landscape("quadratic", 2, noise_std=0.5, A=A)
    zeta = np.random.default_rng(0).standard_normal((steps, 1, P, D))
    z_soa = np.ascontiguousarray(zeta.transpose(0, 1, 3, 2))
    rows = []
    for name, opt in (("adam", 2), ("rmsprop", 1)):
        hyper = dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-8)

        def run_numba(opt=opt, hyper=hyper):
            th = np.tile([[2.0], [1.0]], (1, P))
            m, v = np.zeros((D, P)), np.ones((D, P))
            wv, wm = core.make_soa_work(D, P)
            rec = np.zeros((2, D, P))
            core.chain_chunk(
                code,
                opt,
                0,
                lmat,
                lvec,
                hyper["lr"],
                hyper["beta1"],
                hyper["beta2"],
                hyper["eps"],
                z_soa,
                steps,
                0,
                th,
                m,
                v,
                10**9,
                rec,
                rec,
                rec,
                wv,
                wm,
            )
            return th.T

        def run_numpy(name=name, hyper=hyper):
            return ref.chain(name, A, lmat[1], np.tile([2.0, 1.0], (P, 1)), zeta, v0=1.0, **hyper)

        np.testing.assert_allclose(run_numba(), run_numpy(), rtol=1e-10, atol=1e-12)
        t_nb, t_np = best_time(run_numba), best_time(run_numpy)
        rows.append(
            row(
                f"discrete {name}, {P} paths, d=2",
                "path-steps/s",
                P * steps / t_nb,
                P * steps / t_np,
            )
        )
    rows.append(_torch_adam_row(steps, rows[0]["numba"]))
    return rows


def _torch_adam_row(steps: int, numba_rate: float) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    xi = torch.tensor(np.random.default_rng(0).standard_normal((steps, P, D)))
    a = torch.tensor(A)

    def run():
        p = torch.tensor(np.tile([2.0, 1.0], (P, 1)), requires_grad=True)
        opt = torch.optim.Adam([p], lr=0.01, betas=(0.9, 0.99), eps=1e-8)
        for k in range(steps):
            p.grad = p.detach() @ a.T + 0.5 * xi[k]
            opt.step()

    rate = P * steps / best_time(run)
    return {
        "model": "adaptive",
        "case": f"discrete adam vs torch.optim.Adam, {P} paths",
        "unit": "path-steps/s",
        "numba": numba_rate,
        "torch": rate,
        "ratio": numba_rate / rate,
        "note": "torch: one (P, 2) float64 tensor",
    }


def sde_rows(steps: int = 64, n_sub: int = 4) -> list[dict[str, Any]]:
    code, lmat, lvec, _ = lands.build_landscape("quadratic", 2, noise_std=0.5, A=A)
    rng = np.random.default_rng(1)
    z1 = rng.standard_normal((steps, n_sub, P, D))
    z2 = rng.standard_normal((steps, n_sub, P, D))
    s1 = np.ascontiguousarray(z1.transpose(0, 1, 3, 2))
    s2 = np.ascontiguousarray(z2.transpose(0, 1, 3, 2))
    rows = []
    for regime, order in (
        ("ballistic", "ode"),
        ("ballistic", "sde1"),
        ("ballistic", "sme2"),
        ("batch_equivalent", "sde1"),
    ):
        par = np.array([TAU, 1.0, 0.7, 0.1, TAU, 2.0, 1.0])
        flags = np.array([1, 0, 0, 0], dtype=np.int64)

        def run_numba(regime=regime, order=order, par=par, flags=flags):
            x = np.concatenate([np.tile([[2.0], [1.0]], (1, P)), np.full((D, P), 0.8)])
            wv, wm = core.make_soa_work(D, P)
            core.euler_chunk(
                code,
                1,
                sde.REGIMES[regime],
                sde.ORDERS[order],
                flags,
                par,
                lmat,
                lvec,
                x,
                s1,
                s2,
                0,
                steps,
                0,
                10**9,
                np.zeros((1, 4, P)),
                wv,
                wm,
            )
            return x

        def run_numpy(regime=regime, order=order):
            return ref.rmsprop_sde(
                regime,
                order,
                A,
                lmat[1],
                np.tile([2.0, 1.0], (P, 1)),
                0.8,
                z1,
                z2 if order == "sme2" else None,
                tau=TAU,
                c2=0.7,
                eps=0.1,
                v_floor=TAU,
            )

        th, _ = run_numpy()
        np.testing.assert_allclose(run_numba()[:2].T, th, rtol=1e-10, atol=1e-12)
        work = P * steps * n_sub
        rows.append(
            row(
                f"RMSprop {order} ({regime}), {P} paths, d=2",
                "path-substeps/s",
                work / best_time(run_numba),
                work / best_time(run_numpy),
            )
        )
    return rows


def ensemble_rows() -> list[dict[str, Any]]:
    rows = []
    for orders in (("sde1",), ("ode", "sde1", "sme2")):

        def run(orders=orders):
            ad.simulate_coupled(
                "rmsprop",
                regime="batch_equivalent",
                orders=orders,
                landscape="quadratic",
                theta0=[2.0, 1.0],
                tau=TAU,
                n_sub=4,
                t_max=10.0,
                n_paths=P,
                rng=0,
                c2=1.0,
                noise_std=0.5,
                record_every=4,
            )

        rows.append(
            {
                "model": "adaptive",
                "case": f"default ensemble: chain + {'/'.join(orders)}, {P} paths, T=10",
                "unit": "ms",
                "numba": 1e3 * best_time(run),
                "target": "≤ 200 ms",
            }
        )
    return rows


def weak_error_row(n_paths: int) -> dict[str, Any]:
    start = time.perf_counter()
    res = studies.weak_error_study(
        "rmsprop", n_paths=n_paths, A=np.eye(2), noise_std=1.0, c2=1.0, eps=0.1, v0=1.0
    )
    elapsed = time.perf_counter() - start
    slopes = ", ".join(f"{o} {res['slope'][i, 0]:.2f}" for i, o in enumerate(res["orders"]))
    return {
        "model": "adaptive",
        "case": f"weak-error study, {n_paths} paths × 5 τ, h=2^-11",
        "unit": "s",
        "numba": elapsed,
        "target": "≤ 15 s",
        "note": f"‖θ‖² slopes: {slopes}",
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weak-paths", type=int, default=10**5)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    ad.warmup()
    rows = [
        {
            "model": "adaptive",
            "case": "warmup (numba cache load)",
            "unit": "s",
            "numba": time.perf_counter() - start,
        }
    ]
    rows += discrete_rows()
    rows += sde_rows()
    rows += ensemble_rows()
    rows.append(weak_error_row(args.weak_paths))
    return rows


if __name__ == "__main__":
    for r in main(sys.argv[1:]):
        print(r)
