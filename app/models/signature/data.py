"""Data sets of the expected-signature tab: offline UCR/UEA sets, synthetic OU, CSV uploads.

The four real sets ship inside the sktime 1.2.0 wheel (no network) with their own train/test
splits; loads are cached per process and returned read-only, so sessions share them safely.
Each is also kept on disk as plain arrays (:func:`cached_path`, written by the first load, or by
:func:`cache_datasets`, which ``noisescope serve`` runs in a child process when one is missing):
a server then reads them without importing sktime, which brings pandas and scikit-learn, about
70 MB of the server's idle memory (issue 14).
An upload is parsed into a fresh :class:`Dataset` owned by the uploading session only.

CSV upload format (also shown in the tab):

* **Wide** (one series per row): a header row; a ``label`` column (or ``class``); an optional
  ``split`` column with ``train``/``test``; every other column is one time point, numeric.
* **Long** (one observation per row): a header with ``series`` (an id), ``label``, optional
  ``split``, optional ``time`` (used only for ordering) and one numeric column per channel.
  Every series needs the same number of rows.

Without a ``split`` column a stratified 70/30 train/test split is drawn with a fixed seed.
"""

from __future__ import annotations

import csv
import functools
import importlib.metadata
import io
import math
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.models.files import cache_folder, write_atomically
from kernels import signature as sig_kernels

DATASETS = ("italy_power_demand", "gunpoint", "arrow_head", "basic_motions", "synthetic_ou")
UPLOAD = "upload"
LABELS = {
    "italy_power_demand": "ItalyPowerDemand (UCR, 67/1029, length 24)",
    "gunpoint": "GunPoint (UCR, 50/150, length 150)",
    "arrow_head": "ArrowHead (UCR, 36/175, length 251, 3 classes)",
    "basic_motions": "BasicMotions (UEA, 40/40, 6 channels × 100)",
    "synthetic_ou": "Synthetic OU: θ = 2 vs θ = 20 (100/100 per class)",
    UPLOAD: "Your uploaded CSV",
}
#: Short names for readouts (an upload shows its file name).
SHORT_NAMES = {
    "italy_power_demand": "ItalyPowerDemand",
    "gunpoint": "GunPoint",
    "arrow_head": "ArrowHead",
    "basic_motions": "BasicMotions",
    "synthetic_ou": "Synthetic OU",
}
#: Upload limits: bytes, series, points per series, channels.
MAX_UPLOAD_BYTES = 2_000_000
MAX_SERIES = 3000
MAX_LENGTH = 500
MAX_CHANNELS = 8
MIN_LENGTH = 3
LABEL_COLUMNS = ("label", "class")
#: Largest magnitude accepted in an upload: signatures multiply increments up to the depth,
#: so values near the float limit overflow later (1e308 became "Input X contains infinity").
MAX_ABS_VALUE = 1e12
#: Characters of a user's text quoted in a message (a label, a cell, a column name).
QUOTE_CHARS = 24


def quote(text: str) -> str:
    """User text for a message: shortened, in quotes (shown escaped by the model)."""
    text = str(text)
    return repr(text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…")


TEST_FRACTION = 0.3

#: A small valid upload in the wide format (shown in the tab as the format example).
UPLOAD_EXAMPLE = (
    "label,t0,t1,t2,t3,t4,t5\n"
    "rise,0.0,0.2,0.5,0.9,1.4,2.0\n"
    "rise,0.1,0.2,0.6,1.0,1.5,1.9\n"
    "rise,0.0,0.3,0.5,0.8,1.3,2.1\n"
    "fall,2.0,1.5,0.9,0.5,0.2,0.0\n"
    "fall,1.9,1.4,1.0,0.6,0.3,0.1\n"
    "fall,2.1,1.6,0.8,0.4,0.2,0.0\n"
)


class UploadError(ValueError):
    """A malformed upload; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Dataset:
    """A labelled, equal-length multichannel data set with a train/test split."""

    name: str
    x_train: np.ndarray  # (n_train, channels, length)
    y_train: np.ndarray  # (n_train,) str labels
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.y_train.tolist()) | set(self.y_test.tolist()))

    @property
    def channels(self) -> int:
        return self.x_train.shape[1]

    @property
    def length(self) -> int:
        return self.x_train.shape[2]

    @property
    def n_series(self) -> int:
        return len(self.y_train) + len(self.y_test)

    def series(self, index: int) -> tuple[np.ndarray, str, str]:
        """(values (c, L), label, split) of series ``index`` counting train first, then test."""
        n_train = len(self.y_train)
        if index < n_train:
            return self.x_train[index], str(self.y_train[index]), "train"
        j = index - n_train
        return self.x_test[j], str(self.y_test[j]), "test"

    def all_series(self) -> np.ndarray:
        return np.concatenate([self.x_train, self.x_test])


def _frozen(name: str, xtr, ytr, xte, yte) -> Dataset:
    arrays = [
        np.ascontiguousarray(xtr, dtype=np.float64),
        np.asarray(ytr).astype(str),
        np.ascontiguousarray(xte, dtype=np.float64),
        np.asarray(yte).astype(str),
    ]
    for a in arrays:
        a.setflags(write=False)  # shared by every session of the process
    return Dataset(name, *arrays)


#: The sets read from sktime (the rest are generated).
REAL_DATASETS = tuple(n for n in DATASETS if n != "synthetic_ou")
#: Folder of the on-disk copies ($NOISESCOPE_DATA_CACHE, default ~/.cache/noisescope/datasets).
CACHE_ENV = "NOISESCOPE_DATA_CACHE"
_ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def cached_path(name: str) -> Path | None:
    """Where the on-disk copy of real set ``name`` lives, named for the sktime release it came
    from (a new release is read afresh); None without sktime installed."""
    try:
        version = importlib.metadata.version("sktime")
    except importlib.metadata.PackageNotFoundError:
        return None
    return cache_folder(CACHE_ENV, "datasets") / f"{name}-sktime-{version}.npz"


def _read_cached(path: Path | None) -> tuple[np.ndarray, ...] | None:
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return tuple(stored[key] for key in _ARRAYS)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # unreadable (a partial write, another format): read sktime again


def _write_cached(path: Path | None, arrays: tuple[np.ndarray, ...]) -> None:
    if path is not None:  # unwritable: every process reads sktime, as before
        write_atomically(path, lambda h: np.savez(h, **dict(zip(_ARRAYS, arrays, strict=True))))


def _from_sktime(name: str) -> tuple[np.ndarray, ...]:
    from sktime import datasets  # ≈ 1 s and 70 MB: only when no on-disk copy exists

    loader = getattr(datasets, f"load_{name}")
    kwargs = dict(return_X_y=True, return_type="numpy3D")
    xtr, ytr = loader(split="train", **kwargs)
    xte, yte = loader(split="test", **kwargs)
    return (
        np.ascontiguousarray(xtr, dtype=np.float64),
        np.asarray(ytr).astype(str),
        np.ascontiguousarray(xte, dtype=np.float64),
        np.asarray(yte).astype(str),
    )


@functools.lru_cache(maxsize=len(DATASETS))
def load_dataset(name: str) -> Dataset:
    """A built-in data set by name (cached per process, arrays read-only)."""
    if name == "synthetic_ou":
        return _frozen(name, *sig_kernels.synthetic_ou(np.random.default_rng(20231016)))
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}")
    path = cached_path(name)
    arrays = _read_cached(path)
    if arrays is None:
        arrays = _from_sktime(name)
        _write_cached(path, arrays)
    return _frozen(name, *arrays)


def missing_cached() -> list[str]:
    """The real sets without a readable on-disk copy."""
    return [name for name in REAL_DATASETS if _read_cached(cached_path(name)) is None]


def cache_datasets() -> list[str]:
    """Write the on-disk copy of every real set that lacks one; return their names."""
    missing = missing_cached()
    for name in missing:
        _write_cached(cached_path(name), _from_sktime(name))
    return missing


# ------------------------------------------------------------------------------- CSV upload
def parse_csv(data: bytes, name: str = "upload") -> Dataset:
    """Parse an uploaded CSV (wide or long format, see module docstring) into a Dataset.

    Raises :class:`UploadError` with a specific message for every malformed file.
    """
    if data is None or len(data) == 0:
        raise UploadError("The file is empty: upload a CSV with a header row and a label column.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(
            f"The file is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError("The file is not UTF-8 text: save it as a plain CSV file.") from None
    # CR-only and mixed line endings read as one line per row
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        reader = csv.reader(io.StringIO(text))
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:  # an unterminated quote, a field over the csv module's limit
        raise UploadError(f"The file is not valid CSV (line {reader.line_num}): {exc}.") from None
    if len(rows) < 2:
        raise UploadError("The file needs a header row and at least one data row.")
    header = [h.strip().lower() for h in rows[0]]
    if len(set(header)) != len(header):
        repeated = sorted(h for h, n in Counter(header).items() if n > 1)
        raise UploadError(
            f"Duplicate column names in the header: {', '.join(quote(h) for h in repeated[:4])}."
        )
    label_col = next((header.index(c) for c in LABEL_COLUMNS if c in header), None)
    if label_col is None:
        raise UploadError(
            "No label column: the header must contain 'label' (or 'class'); got "
            f"{', '.join(quote(h) for h in rows[0][:4])}."
        )
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise UploadError(
                f"Row {number} has {len(row)} fields but the header has {len(header)}: every "
                "row needs the same columns (for one series per row, series of different "
                "lengths are not supported)."
            )
    body = rows[1:]
    split_col = header.index("split") if "split" in header else None
    if "series" in header:
        x, labels, splits = _parse_long(header, body, label_col, split_col)
    else:
        x, labels, splits = _parse_wide(header, body, label_col, split_col)
    return _split(name, x, labels, splits)


def _number(cell: str, row: int, column: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise UploadError(
            f"Non-numeric value {quote(cell.strip())} in row {row}, column {quote(column)}."
        ) from None
    if not math.isfinite(value):
        raise UploadError(f"Missing or infinite value in row {row}, column {quote(column)}.")
    if abs(value) > MAX_ABS_VALUE:
        raise UploadError(
            f"Value {value:.3g} in row {row}, column {quote(column)} is beyond "
            f"±{MAX_ABS_VALUE:.0e}: rescale the data."
        )
    return value


def _split_value(cell: str, row: int) -> str:
    value = cell.strip().lower()
    if value not in ("train", "test"):
        raise UploadError(f"Row {row}: the split must be 'train' or 'test'; got {quote(cell)}.")
    return value


def _parse_wide(header, body, label_col, split_col):
    value_cols = [j for j in range(len(header)) if j not in (label_col, split_col)]
    if len(value_cols) < MIN_LENGTH:
        raise UploadError(
            f"One series per row needs at least {MIN_LENGTH} value columns; found "
            f"{len(value_cols)}. For one observation per row, add a 'series' column."
        )
    if len(value_cols) > MAX_LENGTH:
        raise UploadError(f"Series have {len(value_cols)} points; the limit is {MAX_LENGTH}.")
    if len(body) > MAX_SERIES:
        raise UploadError(f"The file has {len(body)} series; the limit is {MAX_SERIES}.")
    x = np.empty((len(body), 1, len(value_cols)))
    labels, splits = [], []
    for i, row in enumerate(body):
        for k, j in enumerate(value_cols):
            x[i, 0, k] = _number(row[j], i + 2, header[j])
        labels.append(_label(row[label_col], i + 2))
        splits.append(None if split_col is None else _split_value(row[split_col], i + 2))
    return x, labels, splits


def _label(cell: str, row: int) -> str:
    label = cell.strip()
    if not label:
        raise UploadError(f"Row {row} has an empty label.")
    return label


def _parse_long(header, body, label_col, split_col):
    series_col = header.index("series")
    time_col = header.index("time") if "time" in header else None
    value_cols = [
        j for j in range(len(header)) if j not in (label_col, split_col, series_col, time_col)
    ]
    if not value_cols:
        raise UploadError("Long format needs at least one value column besides series/label.")
    if len(value_cols) > MAX_CHANNELS:
        raise UploadError(f"{len(value_cols)} value columns; the limit is {MAX_CHANNELS} channels.")
    groups: dict[str, list[tuple[float, list[float], str, str | None]]] = {}
    for i, row in enumerate(body):
        number = i + 2
        key = row[series_col].strip()
        if not key:
            raise UploadError(f"Row {number} has an empty series id.")
        t = _number(row[time_col], number, "time") if time_col is not None else float(i)
        values = [_number(row[j], number, header[j]) for j in value_cols]
        split = None if split_col is None else _split_value(row[split_col], number)
        groups.setdefault(key, []).append((t, values, _label(row[label_col], number), split))
    if len(groups) > MAX_SERIES:
        raise UploadError(f"The file has {len(groups)} series; the limit is {MAX_SERIES}.")
    lengths = {key: len(rows) for key, rows in groups.items()}
    if len(set(lengths.values())) > 1:
        short = min(lengths, key=lengths.get)
        long = max(lengths, key=lengths.get)
        raise UploadError(
            f"Ragged lengths: series '{short}' has {lengths[short]} rows but '{long}' has "
            f"{lengths[long]}. All series need the same number of observations."
        )
    length = next(iter(lengths.values()))
    if length < MIN_LENGTH or length > MAX_LENGTH:
        raise UploadError(f"Series have {length} points; allowed {MIN_LENGTH}..{MAX_LENGTH}.")
    x = np.empty((len(groups), len(value_cols), length))
    labels, splits = [], []
    for i, (key, rows) in enumerate(groups.items()):
        rows = sorted(rows, key=lambda r: r[0])
        if len({r[2] for r in rows}) > 1:
            raise UploadError(f"Series '{key}' has more than one label.")
        if len({r[3] for r in rows}) > 1:
            raise UploadError(f"Series '{key}' is in both the train and the test split.")
        x[i] = np.array([r[1] for r in rows]).T
        labels.append(rows[0][2])
        splits.append(rows[0][3])
    return x, labels, splits


def _split(name, x, labels, splits) -> Dataset:
    labels = np.asarray(labels)
    classes = sorted(set(labels.tolist()))
    if len(classes) < 2:
        raise UploadError(
            f"Only one class ({quote(classes[0])}) in the label column: classification needs "
            "two or more classes."
        )
    if splits[0] is None:
        train = np.zeros(len(labels), dtype=bool)
        rng = np.random.default_rng(0)  # fixed: the same file always gives the same split
        for c in classes:
            idx = np.flatnonzero(labels == c)
            idx = idx[rng.permutation(len(idx))]
            n_train = max(1, round((1 - TEST_FRACTION) * len(idx)))
            train[idx[:n_train]] = True
        if train.all():
            raise UploadError("Too few series to split off a test set: give each class ≥ 2.")
    else:
        train = np.array([s == "train" for s in splits])
        if not train.any() or train.all():
            raise UploadError("The split column needs both 'train' and 'test' rows.")
    if len(set(labels[train].tolist())) < 2:
        raise UploadError("The training split holds only one class: put every class in train.")
    return _frozen(name, x[train], labels[train], x[~train], labels[~train])
