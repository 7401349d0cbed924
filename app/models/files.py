"""Files the app keeps in the user's cache folder: where they live and how they are written.

Shared by the disk caches of start-up results (:mod:`app.models.warm`) and of the signature
tab's data sets (:mod:`app.models.signature.data`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["cache_folder", "write_atomically"]


def cache_folder(env: str, name: str) -> Path:
    """``$<env>`` if set, else ``$XDG_CACHE_HOME/noisescope/<name>`` (``~/.cache``)."""
    if os.environ.get(env):
        return Path(os.environ[env])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "noisescope" / name


def write_atomically(path: Path, dump: Callable[[IO[bytes]], None]) -> bool:
    """Write ``path`` with ``dump(handle)`` through a temporary file renamed into place, so a
    reader sees the whole file or none; False (nothing written) where the folder cannot be
    made or written (a read-only home: the caller computes again next time)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        with partial.open("wb") as handle:
            dump(handle)
        os.replace(partial, path)
    except OSError:
        return False
    return True
