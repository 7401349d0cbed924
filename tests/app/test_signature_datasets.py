"""The signature tab's real data sets are read from their on-disk copies without sktime (issue
14: sktime brings pandas and scikit-learn, about 70 MB of the server's idle memory), equal what
sktime gives, and an unreadable copy is read afresh."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.models.signature import data


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path))
    data.load_dataset.cache_clear()
    yield tmp_path
    data.load_dataset.cache_clear()


def test_the_copies_equal_sktime_and_are_read_without_it(cache: Path) -> None:
    assert data.missing_cached() == list(data.REAL_DATASETS)
    assert data.cache_datasets() == list(data.REAL_DATASETS)
    assert data.missing_cached() == []
    for name in data.REAL_DATASETS:
        stored = data.load_dataset(name)
        for mine, theirs in zip(
            (stored.x_train, stored.y_train, stored.x_test, stored.y_test),
            data._from_sktime(name),
            strict=True,
        ):
            np.testing.assert_array_equal(mine, theirs)  # the same numbers, bit for bit
            assert not mine.flags.writeable
    # a fresh process reads every set and never imports sktime, pandas or scikit-learn
    code = (
        "import sys\n"
        "from app.models.signature.data import REAL_DATASETS, load_dataset\n"
        "for name in REAL_DATASETS: load_dataset(name)\n"
        "print(sorted(m for m in ('sktime', 'pandas', 'sklearn') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, data.CACHE_ENV: str(cache)},
    )
    assert out.stdout.strip() == "[]", out.stderr


def test_an_unreadable_copy_is_read_again_from_sktime(cache: Path) -> None:
    path = data.cached_path("italy_power_demand")
    assert path is not None and path.parent == cache
    path.write_bytes(b"PK\x03\x04 not a whole archive")
    assert data.missing_cached()[0] == "italy_power_demand"
    loaded = data.load_dataset("italy_power_demand")
    assert loaded.x_train.shape == (67, 1, 24)  # ItalyPowerDemand: 67 training series of 24
    assert data._read_cached(path) is not None  # and the copy is whole again


def test_an_unwritable_cache_folder_still_loads(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = cache / "a-file"
    blocker.write_text("")  # the folder cannot be made under a file, even by root
    monkeypatch.setenv(data.CACHE_ENV, str(blocker / "datasets"))
    loaded = data.load_dataset("arrow_head")
    assert loaded.classes == ["0", "1", "2"]
    assert data.missing_cached() == list(data.REAL_DATASETS)  # nothing was written
