"""Every model package's facade (``kernels/<model>/__init__.py``, issue 11 items 1 and 6): an
``__all__`` whose every name exists, and numpydoc on every public function: Parameters,
Returns, the equation and a provenance tag. ``warmup`` is infrastructure (it compiles the
cores; no equation, nothing to cite) and is only checked to exist and to run nothing but the
public API."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from kernels import model_packages

#: The provenance tags of the specs: from the paper, from the literature, derived for the app.
TAG = re.compile(r"\[(paper|literature|derived)\b")


def _public_functions() -> list[tuple[str, str]]:
    pairs = []
    for package in model_packages():
        facade = importlib.import_module(f"kernels.{package}")
        pairs += [
            (package, name)
            for name in facade.__all__
            if inspect.isfunction(getattr(facade, name)) and name != "warmup"
        ]
    return pairs


@pytest.mark.parametrize("package", model_packages())
def test_facade_exports_exist_and_include_warmup(package: str) -> None:
    facade = importlib.import_module(f"kernels.{package}")
    missing = [name for name in facade.__all__ if not hasattr(facade, name)]
    assert not missing, missing
    assert callable(facade.warmup)
    source = inspect.getsource(facade.warmup)
    assert ".warmup()" not in source  # the submodules warm themselves (kernels.warm_modules)


@pytest.mark.parametrize(("package", "name"), _public_functions())
def test_public_function_has_numpydoc_equation_and_provenance(package: str, name: str) -> None:
    doc = inspect.getdoc(getattr(importlib.import_module(f"kernels.{package}"), name)) or ""
    assert "Parameters\n----------" in doc, f"{package}.{name}: no Parameters section"
    assert "Returns\n-------" in doc, f"{package}.{name}: no Returns section"
    assert ".. math::" in doc or ":math:`" in doc, f"{package}.{name}: no equation"
    assert TAG.search(doc), f"{package}.{name}: no provenance tag"
