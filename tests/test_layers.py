"""The layout's rules, each naming the offending file and line.

Three layers, one package per model in each (``kernels/<slug>``, ``app/models/<slug>``,
``app/tabs/<slug>``), imports flowing one way: kernels ← app/models ← app/tabs ← app/main.

* app/models import no panel, bokeh or holoviews (kernels: ``test_kernel_imports.py``);
* app/tabs import nothing from kernels: every number a view shows comes from its model;
* no model's package imports another model's package, in any layer, and the shared modules of
  a layer import no model's package;
* every registered tab has its three packages, and each kernel facade declares ``__all__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kernels
from app.main import TABS
from app.serve_process import REPO_ROOT

SLUGS = tuple(tab.slug for tab in TABS)
LAYERS = {"kernels": "kernels", "app/models": "app.models", "app/tabs": "app.tabs"}
UI_PACKAGES = ("panel", "bokeh", "holoviews")


def imports(source: str) -> list[tuple[int, str]]:
    """(line, dotted name) of every module a source imports; ``from a import b`` gives
    ``a.b`` (b may be a submodule) as well as ``a``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def owner(dotted: str) -> tuple[str, str] | None:
    """(layer, model) of a dotted module name inside a model package, else None."""
    for package in LAYERS.values():
        head = package + "."
        if dotted.startswith(head):
            model = dotted[len(head) :].split(".")[0]
            return (package, model) if model in SLUGS else None
    return None


def violations(path: Path, source: str | None = None) -> list[str]:
    """Every broken rule in one file, as ``path:line: message`` (one per rule and line)."""
    rel = path.relative_to(REPO_ROOT)
    source = path.read_text(encoding="utf-8") if source is None else source
    layer = next(
        (dotted for folder, dotted in LAYERS.items() if rel.as_posix().startswith(folder + "/")),
        None,
    )
    inside = owner(".".join(rel.with_suffix("").parts))
    found: dict[tuple[int, str], str] = {}
    for line, name in imports(source):
        rules: list[tuple[str, str]] = []
        if layer == "app.models" and name.split(".")[0] in UI_PACKAGES:
            rules.append(("ui", f"app/models imports {name} (models are Panel-free)"))
        if layer == "app.tabs" and name.split(".")[0] == "kernels":
            rules.append(("kernels", f"app/tabs imports {name} (a view asks its model)"))
        target = owner(name)
        if target is not None and layer is not None:
            if inside is None:
                rules.append(("shared", f"a shared module imports the model package {name}"))
            elif target[1] != inside[1]:
                rules.append(("cross", f"the {inside[1]} package imports {name}"))
        for rule, message in rules:
            found.setdefault((line, rule), f"{rel.as_posix()}:{line}: {message}")
    return sorted(found.values())


def layer_files() -> list[Path]:
    return sorted(p for folder in LAYERS for p in (REPO_ROOT / folder).rglob("*.py"))


def test_the_rules_catch_each_kind_of_violation() -> None:
    """Control: the checker reports each rule on a synthetic source (and nothing on a clean one)."""
    model_file = REPO_ROOT / "app" / "models" / "tokens" / "model.py"
    tab_file = REPO_ROOT / "app" / "tabs" / "swarm" / "tab.py"
    shared = REPO_ROOT / "app" / "models" / "base.py"
    assert violations(model_file, "import panel as pn\n") == [
        "app/models/tokens/model.py:1: app/models imports panel (models are Panel-free)"
    ]
    assert violations(tab_file, "\nfrom kernels import swarm\n")[0].startswith(
        "app/tabs/swarm/tab.py:2: app/tabs imports kernels"
    )
    assert violations(model_file, "from app.models.swarm import params\n") == [
        "app/models/tokens/model.py:1: the tokens package imports app.models.swarm"
    ]
    assert violations(tab_file, "import app.models.widenet.model\n") == [
        "app/tabs/swarm/tab.py:1: the swarm package imports app.models.widenet.model"
    ]
    assert violations(shared, "from kernels.tokens import core\n")[0].startswith(
        "app/models/base.py:1: a shared module imports the model package kernels.tokens"
    )
    assert violations(model_file, "from kernels.tokens import core\nimport numpy\n") == []


@pytest.mark.parametrize("path", layer_files(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_file_keeps_the_layer_rules(path: Path) -> None:
    problems = violations(path)
    assert not problems, "\n".join(problems)


def test_every_registered_tab_has_its_three_packages_and_a_facade() -> None:
    assert set(kernels.model_packages()) == set(SLUGS), "kernels/<model>/ and TABS disagree"
    for slug in SLUGS:
        for folder in LAYERS:
            init = REPO_ROOT / folder / slug / "__init__.py"
            assert init.is_file(), f"{folder}/{slug}/ is missing (tab {slug!r} is registered)"
        facade = __import__(f"kernels.{slug}", fromlist=["__all__"])
        public = getattr(facade, "__all__", None)
        assert public, f"kernels/{slug}/__init__.py declares no __all__"
        missing = [name for name in public if not hasattr(facade, name)]
        assert not missing, f"kernels.{slug}.__all__ names undefined {missing}"
