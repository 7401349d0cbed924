"""The README's promises match the repository: its two quick-start commands are Makefile
targets, CI runs the same test command, that command selects every test, and the pasted
``noisescope serve --help`` is the real one."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from app.cli import ORIGIN_ENV
from app.serve_process import REPO_ROOT, noisescope_executable

README = (REPO_ROOT / "README.md").read_text()
MAKEFILE = (REPO_ROOT / "Makefile").read_text()


def section(title: str) -> str:
    """Text of the ``## title`` section, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S)


def quick_start_commands() -> list[str]:
    block = code_blocks(section("Quick start"))[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w.-]*):", MAKEFILE, re.M))


def test_quick_start_is_exactly_make_serve_and_make_test() -> None:
    assert quick_start_commands() == ["make serve", "make test"]
    assert len(code_blocks(section("Quick start"))) == 1


def test_quick_start_commands_are_makefile_targets() -> None:
    phony = set(re.search(r"^\.PHONY:(.*)$", MAKEFILE, re.M).group(1).split())
    for command in [*quick_start_commands(), "make bench"]:
        target = command.removeprefix("make ")
        assert target in makefile_targets(), command
        assert target in phony, f"{target} must be .PHONY (it is not a file)"
    assert "make bench" in README


def test_ci_runs_the_readme_test_command() -> None:
    ci_lines = [
        line.strip()
        for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert quick_start_commands()[1] in ci_lines


def pytest_command_of_make_test() -> list[str]:
    result = subprocess.run(
        ["make", "-n", "test"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "ruff check" in result.stdout, "make test must lint"
    lines = [line for line in result.stdout.splitlines() if re.search(r"\bpytest\b", line)]
    assert len(lines) == 1, result.stdout
    return shlex.split(lines[0])


def test_make_test_selects_every_marker(tmp_path: Path) -> None:
    """Evaluate make test's ``-m`` expression with pytest itself on slow/ui/plain tests."""
    words = pytest_command_of_make_test()
    after_pytest = words[words.index("pytest") + 1 :]
    assert "tests" in after_pytest
    expression = after_pytest[after_pytest.index("-m") + 1] if "-m" in after_pytest else ""
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: s\n    ui: u\n")
    (tmp_path / "test_selection.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.slow\ndef test_slow(): pass\n\n"
        "@pytest.mark.ui\ndef test_ui(): pass\n\n"
        "@pytest.mark.slow\n@pytest.mark.ui\ndef test_slow_ui(): pass\n\n"
        "def test_plain(): pass\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        + (["-m", expression] if expression else [])
        + ["test_selection.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    collected = {line.split("::")[1] for line in result.stdout.splitlines() if "::" in line}
    assert collected == {"test_slow", "test_ui", "test_slow_ui", "test_plain"}, result.stdout


def test_serve_help_in_readme_is_the_real_output() -> None:
    result = subprocess.run(
        [str(noisescope_executable()), "serve", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in code_blocks(section("Serving options"))[0]


def test_docker_commands_match_the_image() -> None:
    blocks = code_blocks(section("Docker"))
    assert "docker build -t noisescope ." in blocks[0]
    run = next(line for line in blocks[0].splitlines() if line.startswith("docker run"))
    assert "-p 5006:5006" in run and f"-e {ORIGIN_ENV}=localhost:5006" in run


def test_jupyter_snippet_uses_the_app_factory() -> None:
    snippet = code_blocks(section("Jupyter"))[0]
    assert "from app.main import create_app" in snippet
    assert "pn.extension(" in snippet


def test_local_images_and_links_exist() -> None:
    targets = re.findall(r"\]\(((?!https?://|#)[^)\s]+)\)", README)
    assert "assets/screenshot.png" in targets
    missing = [target for target in targets if not (REPO_ROOT / target).exists()]
    assert not missing, f"README points at missing files: {missing}"


def test_tabs_table_lists_every_registered_tab() -> None:
    from app.main import TABS

    table = section("Tabs")
    for tab in TABS:
        assert f"| {tab.title} | `?tab={tab.slug}` |" in table, tab.slug


def test_the_seventh_tab_recipe_names_files_every_tab_has() -> None:
    """Each file the recipe names in a model's three packages exists for every registered tab
    (issue 11 item 7), and so does its model card."""
    from app.main import TABS

    recipe = section("Layout").split("### A seventh tab", 1)[1]
    items = re.split(r"^\d\. ", recipe, flags=re.M)[1:4]  # kernels, app/models, app/tabs
    folders = ("kernels/{}", "app/models/{}", "app/tabs/{}")
    named = [set(re.findall(r"`(\w+\.py)`", item)) for item in items]
    assert all(named), named
    for tab in TABS:
        for folder, files in zip(folders, named, strict=True):
            for name in files:
                path = REPO_ROOT / folder.format(tab.slug) / name
                assert path.exists(), f"README recipe names {name}; missing: {path}"
        assert (REPO_ROOT / "assets" / "cards" / f"{tab.slug}.md").exists()
