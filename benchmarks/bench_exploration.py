"""Benchmark of kernels/exploration.py: explorer, exact PG, REINFORCE vs a numpy/scipy reference.

Run ``python benchmarks/bench_exploration.py`` (about a minute). ``main(argv)`` returns the rows
for ``benchmarks/run_all.py``: ``model``, ``case``, ``unit``, ``numba``, ``numpy``, ``ratio``
(numpy / numba), ``target`` (the issue's target, where it sets one) and ``check`` (the largest
deviation between the two implementations on the same case).

The reference is :mod:`tests.oracles.exploration_reference` (dense ``numpy.linalg.solve`` and
vectorised value iteration) plus a plain numpy REINFORCE written here. Everything runs
serially on one core, as in the server (BLAS pinned to one thread).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from timing import best_time, fresh_process_start  # noqa: E402

from kernels import exploration as ex  # noqa: E402
from tests.oracles import exploration_reference as ref  # noqa: E402


def row(case: str, unit: str, numba: float, numpy: float | None = None, **extra) -> dict:
    ratio = None if numpy is None else numpy / numba
    if unit.endswith("/s") and numpy is not None:
        ratio = numba / numpy  # throughput: higher is better
    return dict(
        model="exploration", case=case, unit=unit, numba=numba, numpy=numpy, ratio=ratio, **extra
    )


def explorer_case(label: str, mdp, gamma: float, c: float, K: int, target: str | None) -> dict:
    def ours():
        return ex.curious_explorer(mdp, gamma=gamma, coverage_c=c, n_explore=K, explore_eps=0.1)

    P, valid = mdp.dense_P(), mdp.valid_states()

    def theirs():
        return ref.explorer(P, mdp.rho, valid, gamma, c, K, 0.1)

    dev = float(np.abs(ours()["mu"] - theirs()["mu"]).max())
    t_ours = best_time(ours)
    t_ref = best_time(theirs, repeats=1)
    return row(label, "ms", t_ours * 1e3, t_ref * 1e3, target=target, check=f"{dev:.1e}")


def numpy_reinforce(mdp, nu, gamma, lr, n_updates, B, H, rng) -> int:
    """Plain numpy REINFORCE (per-step Python loop); returns the environment steps taken."""
    P = mdp.dense_P()
    R = mdp.dense_R()
    S, A = R.shape
    theta = np.zeros((S, A))
    steps = 0
    for _ in range(n_updates):
        z = np.exp(theta - theta.max(axis=1, keepdims=True))
        pi = z / z.sum(axis=1, keepdims=True)
        ref.policy_values(P, R, pi, gamma)  # the exact V(ρ) recorded each update, as ours
        grad = np.zeros((S, A))
        for _ in range(B):
            s = rng.choice(S, p=nu)
            traj = []
            for _ in range(H):
                if mdp.absorbing[s]:
                    break
                a = rng.choice(A, p=pi[s])
                t = rng.choice(S, p=P[s, a])
                traj.append((s, a, R[s, a]))
                s = t
            steps += len(traj)
            G = 0.0
            for t in range(len(traj) - 1, -1, -1):
                s_t, a_t, r_t = traj[t]
                G = r_t + gamma * G
                g = -pi[s_t] * gamma**t * G
                g[a_t] += gamma**t * G
                grad[s_t] += g
        theta += lr * grad / B
    return steps


def reinforce_case(label: str, mdp, nu, gamma, lr, B, H, n_ours, n_ref) -> dict:
    out = {}

    def ours():
        out["r"] = ex.policy_gradient(
            mdp,
            restart=nu,
            gamma=gamma,
            lr=lr,
            n_iters=n_ours,
            target_frac=0.99,
            method="sampled",
            rng=0,
            batch=B,
            horizon=H,
        )

    t_ours = best_time(ours, repeats=2)
    episodes_ours = n_ours * B / t_ours
    start = time.perf_counter()
    numpy_reinforce(mdp, nu, gamma, lr, n_ref, B, H, np.random.default_rng(0))
    episodes_ref = n_ref * B / (time.perf_counter() - start)
    return row(label, "episodes/s", episodes_ours, episodes_ref)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-compile", action="store_true", help="skip the subprocess timings")
    parser.add_argument("--json", action="store_true", help="print rows as JSON")
    args = parser.parse_args(argv)
    rows: list[dict] = []
    if not args.no_compile:
        with tempfile.TemporaryDirectory() as cache:
            rows.append(
                row(
                    "JIT compile, empty cache (warmup())",
                    "s",
                    sum(fresh_process_start("kernels.exploration", cache)),
                )
            )
            rows.append(
                row(
                    "cached start (warmup())",
                    "s",
                    sum(fresh_process_start("kernels.exploration", cache)),
                )
            )
    ex.warmup()

    rooms = ex.make_mdp("four_rooms")
    rows.append(explorer_case("explorer, four rooms, K=10", rooms, 0.95, 0.1, 10, "≤ 50 ms"))
    sea = ex.make_mdp("deep_sea", size=30)
    rows.append(
        explorer_case("explorer, DeepSea N=30 (466 states), K=20", sea, 0.99, 0.1, 20, None)
    )
    lake = ex.make_mdp("frozen_lake_8x8")
    rows.append(explorer_case("explorer, FrozenLake 8×8, K=20", lake, 0.99, 0.1, 20, None))

    # 2000 exact PG iterations on four rooms, from μ
    mu = ex.curious_explorer(rooms, gamma=0.95, coverage_c=0.1, n_explore=10, explore_eps=0.1)["mu"]
    v_star = ex.optimal_policy(rooms, 0.95)["v_rho"]
    got = {}

    def pg_rooms():
        got["v"] = ex.policy_gradient(
            rooms, restart=mu, gamma=0.95, lr=5.0, n_iters=2000, target_frac=0.9, v_star=v_star
        )["values"]

    t_ours = best_time(pg_rooms)
    P, R = rooms.dense_P(), rooms.dense_R()
    start = time.perf_counter()
    ref_values = ref.exact_pg(P, R, mu, rooms.rho, 0.95, 5.0, 2000)
    t_ref = time.perf_counter() - start
    dev = float(np.abs(ref_values - got["v"]).max())
    rows.append(
        row(
            "2000 exact PG iterations, four rooms",
            "s",
            t_ours,
            t_ref,
            target="≤ 0.5 s",
            check=f"{dev:.1e}",
        )
    )

    # lock N = 20: explorer + exact PG from μ until 0.5 V*
    lock = ex.make_mdp("lock", size=20)
    state = {}

    def lock_to_target():
        res = ex.curious_explorer(lock, gamma=0.99, coverage_c=1.0, n_explore=20, explore_eps=0.1)
        state["out"] = ex.policy_gradient(
            lock,
            restart=res["mu"],
            gamma=0.99,
            lr=1.0,
            n_iters=30000,
            target_frac=0.5,
            stop_at_target=True,
        )
        state["mu"] = res["mu"]

    t_ours = best_time(lock_to_target)
    n_lock = state["out"]["iters_to_target"]
    start = time.perf_counter()
    ref_mu = ref.explorer(lock.dense_P(), lock.rho, lock.valid_states(), 0.99, 1.0, 20, 0.1)["mu"]
    ref_lock = ref.exact_pg(lock.dense_P(), lock.dense_R(), ref_mu, lock.rho, 0.99, 1.0, n_lock)
    t_ref = time.perf_counter() - start
    dev = float(np.abs(ref_lock - state["out"]["values"]).max())
    rows.append(
        row(
            f"lock N=20: explorer + exact PG from μ to 0.5 V* ({n_lock} iterations)",
            "s",
            t_ours,
            t_ref,
            target="≤ 1 s",
            check=f"{dev:.1e}",
        )
    )

    # exact PG on the largest layout (acyclic sweep, no LU)
    def pg_sea():
        ex.policy_gradient(sea, restart=sea.rho, gamma=0.99, lr=1.0, n_iters=200, target_frac=0.9)

    t_sea = best_time(pg_sea, repeats=1)
    start = time.perf_counter()
    ref.exact_pg(sea.dense_P(), sea.dense_R(), sea.rho, sea.rho, 0.99, 1.0, 20)
    t_sea_ref = (time.perf_counter() - start) * 10
    rows.append(
        row("exact PG iterations, DeepSea N=30", "iterations/s", 200 / t_sea, 200 / t_sea_ref)
    )

    small_lock = ex.make_mdp("lock", size=10)
    rows.append(
        reinforce_case(
            "REINFORCE, lock N=10, B=8, H=30",
            small_lock,
            small_lock.rho,
            0.99,
            0.5,
            8,
            30,
            2000,
            40,
        )
    )
    rows.append(
        reinforce_case(
            "REINFORCE, four rooms from μ, B=8, H=100", rooms, mu, 0.95, 0.5, 8, 100, 500, 10
        )
    )
    if args.json:
        print(json.dumps(rows, indent=1, default=str))
    else:
        for r in rows:
            print(r)
    return rows


if __name__ == "__main__":
    main()
