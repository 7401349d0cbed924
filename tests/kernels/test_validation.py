"""kernels.common.validation: the shared argument checks and their messages."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kernels.common.validation import choice, integer, real, real_array, resolve_rng


def test_choice():
    assert choice("kind", "b", ("a", "b")) == "b"
    for bad in ("c", None, 1):
        with pytest.raises(ValueError, match=r"^kind must be one of 'a', 'b'; got "):
            choice("kind", bad, ("a", "b"))


@pytest.mark.parametrize(
    ("args", "kwargs", "value", "message"),
    [
        ((0.0, 10.0), dict(lo_open=True), 0.0, "dt must be a finite number in (0, 10]; got 0.0"),
        ((0.0, 20.0), {}, 21, "dt must be a finite number in [0, 20]; got 21"),
        ((-0.5, 1.0), {}, "x", "dt must be a finite number in [-0.5, 1]; got 'x'"),
        ((0.0, math.inf), {}, math.nan, "dt must be a finite number in [0, inf]; got nan"),
        ((0.0,), {}, -1.0, "dt must be a finite number >= 0; got -1.0"),
        ((0.0,), dict(lo_open=True), 0.0, "dt must be a finite number > 0; got 0.0"),
        ((), {}, math.inf, "dt must be a finite number; got inf"),
        ((), {}, None, "dt must be a finite number; got None"),
    ],
)
def test_real_messages(args, kwargs, value, message):
    with pytest.raises(ValueError) as info:
        real("dt", value, *args, **kwargs)
    assert str(info.value) == message


def test_real_accepts_bounds_and_numpy_scalars():
    assert real("a", 10, 0.0, 10.0, lo_open=True) == 10.0
    assert real("a", np.float32(0.5), 0.0) == 0.5
    assert real("a", -1e300) == -1e300
    assert isinstance(real("a", np.int64(2), 0.0, 3.0), float)


def test_integer():
    assert integer("n", np.int64(3), 1) == 3 and type(integer("n", np.int64(3), 1)) is int
    with pytest.raises(ValueError, match=r"^n must be an integer >= 1; got 0$"):
        integer("n", 0, 1)
    with pytest.raises(ValueError, match=r"^n must be an integer in \[2, 5\]; got 6$"):
        integer("n", 6, 2, 5)
    for bad in (True, 2.0, "2", None):
        with pytest.raises(ValueError, match="n must be an integer in"):
            integer("n", bad, 2, 5)


def test_real_array():
    np.testing.assert_array_equal(real_array("t", [[0.0, 1.0]], 0.0, 1.0), [[0.0, 1.0]])
    assert real_array("t", [], 0.0, 1.0).shape == (0,)
    with pytest.raises(ValueError, match=r"^t must be finite and lie in \[0, inf\]$"):
        real_array("t", [1.0, np.nan], 0.0, math.inf)
    with pytest.raises(ValueError, match=r"^t must lie in \[0, 1\]; got values in \[-1.0, 2.0\]$"):
        real_array("t", [-1.0, 2.0], 0.0, 1.0)


def test_resolve_rng():
    gen = np.random.default_rng(1)
    assert resolve_rng(gen) is gen
    a = resolve_rng(5).random(3)
    np.testing.assert_array_equal(a, np.random.default_rng(5).random(3))
    np.testing.assert_array_equal(resolve_rng(np.int64(5)).random(3), a)
    seq = np.random.SeedSequence(5)
    np.testing.assert_array_equal(resolve_rng(seq).random(3), a)
    for bad in (-1, True, 1.5, None, np.random.RandomState(0)):
        with pytest.raises(
            ValueError, match=r"rng must be a numpy\.random\.Generator or a non-negative"
        ):
            resolve_rng(bad)
