"""The widenet kernel package's layout: the driver's parameter bundle, the facade's docs and
its end-to-end warm-up."""

from __future__ import annotations

import numpy as np

from kernels import widenet as W
from kernels.common.activations import activation_id
from kernels.widenet.driver import NetworkSpec, run_networks
from kernels.widenet.laws import law_id


def test_run_networks_is_what_sample_outputs_runs():
    x = W.circle_inputs(2, 45.0)
    kwargs = dict(width=5, n_hidden=2, activation="tanh", weight_law="uniform", c_b=0.2)
    y, cov = W.sample_outputs(x, n_nets=700, rng=11, return_cond_cov=True, **kwargs)
    gen = np.random.default_rng(11)
    seed_seq = np.random.SeedSequence(gen.integers(0, 2**63 - 1, size=2))
    lids = np.full(3, law_id("uniform"), dtype=np.int64)
    spec = NetworkSpec(x, lids, 5, activation_id("tanh"), 1.0, 0.2, False, 6.0, True)
    out, cond = np.empty((700, 2)), np.empty((700, 2, 2))
    run_networks(spec, seed_seq, out, cond, n_threads=2)  # two chunks, any thread count
    np.testing.assert_array_equal(out, y)
    np.testing.assert_array_equal(cond, cov)


def test_facade_warmup_runs_end_to_end():
    W.warmup()
