"""Finished replicates on disk, so an interrupted sweep resumes and a repeated one is instant.

One small JSON file per replicate, keyed by a hash of the tab, the full parameter point, the
replicate's seed and a digest of the code that computes it (the package version plus the
model's kernel and model sources: an edited kernel never serves stale numbers). Files are
written to a temporary name and renamed, so concurrent sweeps and killed processes never
leave a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["CACHE_ENV", "ReplicateCache", "code_digest", "default_cache_dir"]

#: Environment variable naming the cache directory.
CACHE_ENV = "NOISESCOPE_SWEEP_CACHE"
_REPO = Path(__file__).resolve().parent.parent.parent


def default_cache_dir() -> Path:
    """``$NOISESCOPE_SWEEP_CACHE``, else ``$XDG_CACHE_HOME/noisescope/sweeps`` (``~/.cache``)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "noisescope" / "sweeps"


@cache
def code_digest(slug: str) -> str:
    """Hash of the package version and every source file a replicate of ``slug`` runs."""
    try:
        version = metadata.version("noisescope")
    except metadata.PackageNotFoundError:
        version = "unknown"
    digest = hashlib.sha256(version.encode())
    roots = [
        _REPO / "kernels" / slug,
        _REPO / "kernels" / "common",
        _REPO / "app" / "models" / slug,
    ]
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(_REPO).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


class ReplicateCache:
    """Outcomes of finished replicates under ``root`` (``None``: :func:`default_cache_dir`)."""

    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    def key(self, slug: str, values: Mapping[str, Any], seed: int) -> str:
        """The entry name of one replicate."""
        record = {
            "slug": slug,
            "values": {name: _plain(values[name]) for name in sorted(values)},
            "seed": int(seed),
            "code": code_digest(slug),
        }
        text = json.dumps(record, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry, or None (a missing or unreadable entry is a miss)."""
        try:
            return json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        """Store ``entry`` (JSON-able; NaN and inf allowed); a full disk only loses the cache."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=path.parent, suffix=".tmp", delete=False
            ) as handle:
                json.dump(dict(entry), handle)
            os.replace(handle.name, path)
        except OSError:
            return
