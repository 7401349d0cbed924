"""CSV upload parsing of the expected-signature tab, without a browser (issue 6, "Bad input")."""

from __future__ import annotations

import numpy as np
import pytest

from app.models.signature.data import (
    MAX_UPLOAD_BYTES,
    UploadError,
    parse_csv,
)


def wide(rows: list[list[object]], header: list[str] | None = None) -> bytes:
    n_values = len(rows[0]) - 1
    header = header or ["label", *(f"t{k}" for k in range(n_values))]
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def good_wide(n_per_class: int = 5, length: int = 6) -> bytes:
    rng = np.random.default_rng(0)
    rows = []
    for label in ("a", "b"):
        for _ in range(n_per_class):
            rows.append([label, *np.round(rng.standard_normal(length), 3)])
    return wide(rows)


def test_wide_format_with_automatic_stratified_split() -> None:
    data = parse_csv(good_wide(), "mine.csv")
    assert data.x_train.shape == (8, 1, 6) and data.x_test.shape == (2, 1, 6)
    assert sorted(set(data.y_train)) == ["a", "b"] and sorted(set(data.y_test)) == ["a", "b"]
    assert parse_csv(good_wide()).y_test.tolist() == data.y_test.tolist()  # fixed split
    assert not data.x_train.flags.writeable  # read-only like the built-in sets


def test_wide_format_with_split_column_and_values_preserved() -> None:
    text = "label,split,a,b,c\nx,train,1,2,3\ny,train,4,5,6\nx,test,7,8,9\n"
    data = parse_csv(text.encode())
    assert data.x_train[:, 0].tolist() == [[1, 2, 3], [4, 5, 6]]
    assert data.x_test[0, 0].tolist() == [7, 8, 9] and data.y_test.tolist() == ["x"]


def test_long_format_multichannel_sorted_by_time() -> None:
    lines = ["series,time,label,split,u,v"]
    for s, label, split in (("s1", "up", "train"), ("s2", "down", "train"), ("s3", "up", "test")):
        for t in (2, 0, 1):  # out of order on purpose
            lines.append(f"{s},{t},{label},{split},{t},{-t}")
    data = parse_csv("\n".join(lines).encode())
    assert data.x_train.shape == (2, 2, 3)
    assert data.x_train[0].tolist() == [[0, 1, 2], [0, -1, -2]]
    assert data.y_train.tolist() == ["up", "down"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"label,a,b,c\n", "at least one data row"),
        (b"a,b,c,d\n1,2,3,4\n5,6,7,8\n", "No label column"),
        (b"label,a,b,c\nx,1,2,3\ny,1,oops,3\n", "Non-numeric value 'oops' in row 3"),
        (b"label,a,b,c\nx,1,2,3\ny,1,,3\n", "Non-numeric value '' in row 3"),
        (b"label,a,b,c\nx,1,2,3\ny,1,2\n", "Row 3 has 3 fields"),
        (b"label,a,b,c\nx,1,2,3\nx,4,5,6\n", "Only one class"),
        (b"label,a\nx,1\ny,2\n", "at least 3 value columns"),
        (b"label,a,a,b\nx,1,2,3\ny,1,2,3\n", "Duplicate column"),
        (b"label,split,a,b,c\nx,train,1,2,3\ny,later,1,2,3\n", "split must be 'train' or 'test'"),
        (b"label,split,a,b,c\nx,train,1,2,3\ny,train,1,2,3\n", "both 'train' and 'test'"),
        (b"label,split,a,b,c\nx,train,1,2,3\ny,test,1,2,3\n", "training split holds only one"),
        (b"label,a,b,c\nx,1,2,inf\ny,1,2,3\n", "infinite"),
        (
            b"series,label,v\ns1,a,1\ns1,a,2\ns1,a,3\ns2,b,1\ns2,b,2\n",
            "Ragged lengths: series 's2' has 2 rows but 's1' has 3",
        ),
        (b"series,label,v\ns1,a,1\ns1,b,2\ns1,a,3\ns2,b,1\ns2,b,2\ns2,b,3\n", "more than one"),
        (b"series,label\ns1,a\ns2,b\n", "at least one value column"),
    ],
)
def test_every_malformed_file_gets_a_clear_message(content: bytes, message: str) -> None:
    with pytest.raises(UploadError, match=message.replace("(", r"\(")):
        parse_csv(content)


def test_size_limit() -> None:
    big = b"label," + b"x" * (MAX_UPLOAD_BYTES + 1)
    with pytest.raises(UploadError, match="limit is 2 MB"):
        parse_csv(big)


def test_upload_error_is_a_value_error() -> None:
    assert issubclass(UploadError, ValueError)
