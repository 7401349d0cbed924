"""The kernel layer stays pure numerics: importing it never loads a UI package."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import kernels
from app.serve_process import REPO_ROOT

UI_PACKAGES = ("panel", "param", "holoviews", "bokeh", "playwright")
KERNEL_DIR = REPO_ROOT / "kernels"
ON_DISK = tuple(
    ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in sorted(KERNEL_DIR.rglob("*.py"))
)
MODULES = tuple(dict.fromkeys(("kernels", *kernels.warm_modules(), *ON_DISK)))

_PROBE = """
import importlib, json, sys
module = importlib.import_module(sys.argv[1])
print(json.dumps({
    "file": getattr(module, "__file__", None),
    "loaded": sorted({name.split(".")[0] for name in sys.modules}),
}))
"""


def probe(module: str) -> dict[str, object]:
    """Import ``module`` in a fresh interpreter; its file and the top-level packages loaded."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, module],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_module_on_disk_is_probed() -> None:
    assert "kernels.common.activations" in ON_DISK  # the glob sees the kernel folder
    assert set(kernels.warm_modules()) <= set(MODULES)


def test_probe_sees_a_ui_import() -> None:
    """Control: the probe does report a UI package when one is imported."""
    assert "param" in probe("param")["loaded"]


@pytest.mark.parametrize("module", MODULES)
def test_kernel_module_loads_no_ui_package(module: str) -> None:
    report = probe(module)
    assert str(report["file"]).startswith(str(KERNEL_DIR))
    leaked = sorted(set(UI_PACKAGES) & set(report["loaded"]))
    assert not leaked, f"importing {module} loaded UI packages: {leaked}"
