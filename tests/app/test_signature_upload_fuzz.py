"""Hostile uploads (issue 13): every malformed or malicious file gets the app's own short
message, shown as text, and nothing raises out of the session."""

from __future__ import annotations

import numpy as np
import pytest

from app.models.signature import SignatureModel
from app.text import MAX_MESSAGE_CHARS

PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<i>ab</i><b",
    "[link](javascript:alert(1))",
    "**bold** _it_ `code`",
    "$$\\frac{1}{0}$$",
    "\u202etxt.exe",
    "a" * 5000,
)


def hostile_files(n: int, seed: int = 0) -> list[tuple[str, bytes]]:
    """``n`` generated files: broken CSV syntax, encodings, line endings, absurd values,
    duplicate and huge headers, markup in labels, names and cells (seeded, reproducible)."""
    rng = np.random.default_rng(seed)
    makers = [
        lambda: rng.bytes(int(rng.integers(1, 4000))),
        lambda: b'label,t0,t1\n"a,1,2\nb,3,4\n',  # unterminated quote
        lambda: b"label,t0\r" + b"a,1\rb,2\ra,3\rb,4\r",  # CR-only line endings
        lambda: b"label,t0\r\na,1\nb,2\ra,3\r\nb,4\n",  # mixed line endings
        lambda: b"label,t0\na," + b"9" * 200_000 + b"\nb,1\n",  # a field over csv's limit
        lambda: ("label," * 40_000 + "\n").encode() * 2,  # duplicate headers, long message
        lambda: "label,t0\na,1\nb,2\n".encode("utf-16"),
        lambda: b"\xef\xbb\xbflabel,t0,t1\na,1,2\nb,nan,1\na,1,2\nb,1,2\n",
        lambda: b"label,t0,t1,t2\na,1e308,1,0\nb,2,1,0\na,1,2,0\nb,1,2,0\n",
        lambda: b"label,t0,t1\na,inf,1\nb,-inf,1\n",
        lambda: b"label,t0,t1\na,1,2\nb,3\n",  # ragged
        lambda: b"label,split,t0\na,validation,1\nb,train,2\n",
        lambda: b"series,label,t\n1,a,0\n",
        lambda: b"t0,t1\n1,2\n3,4\n",  # no label column
        lambda: b"label\n\n\n",
        lambda: b"\x00" * 100,
        lambda: b"",
    ]
    files: list[tuple[str, bytes]] = []
    for i in range(n):
        payload = PAYLOADS[i % len(PAYLOADS)]
        if i % 8 == 0:  # markup as labels, in a file that is otherwise valid
            rows = [f"{payload if k % 2 else 'b' + payload},{k},{k + 1},{k * 2}" for k in range(8)]
            content = ("label,t0,t1,t2\n" + "\n".join(rows) + "\n").encode()
        elif i % 8 == 1:  # markup as a cell or a column name
            content = f"label,{payload},t1,t2\na,{payload},1,2\nb,1,2,3\n".encode()
        else:
            content = makers[i % len(makers)]()
        files.append((f"{payload[:60]}.csv", content))
    return files


@pytest.fixture(scope="module")
def model() -> SignatureModel:
    return SignatureModel()


@pytest.mark.slow
def test_hostile_files_get_short_escaped_messages(model: SignatureModel) -> None:
    files = hostile_files(240)
    loaded = 0
    for name, content in files:
        message = model.upload_csv(content, name)  # raises nothing
        assert message == model.upload_message
        assert len(message) <= MAX_MESSAGE_CHARS, message[:80]
        assert message.startswith(("Upload rejected: ", "Loaded ")), message[:80]
        assert "<" not in message and ">" not in message, message  # markup never raw
        loaded += message.startswith("Loaded ")
    # control: the markup-label files are valid and do load (their labels are data)
    assert loaded >= len(files) // 8


def test_each_new_message_replaces_the_previous_one(model: SignatureModel) -> None:
    good = b"label,t0,t1,t2\na,1,2,0\nb,3,4,0\na,1,3,0\nb,2,4,0\na,1,1,0\nb,2,2,0\n"
    assert model.upload_csv(good, "ok.csv").startswith("Loaded ok.csv")
    bad = model.upload_csv(b'label,t0\n"a,1\n', "bad.csv")
    assert bad.startswith("Upload rejected") and model.upload_message == bad


def test_absurd_values_are_rejected_when_parsed() -> None:
    message = SignatureModel().upload_csv(
        b"label,t0,t1,t2\na,1e308,1,0\nb,2,1,0\na,1,2,0\nb,1,2,0\n", "big.csv"
    )
    assert "beyond" in message and "rescale" in message
