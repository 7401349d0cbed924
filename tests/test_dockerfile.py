"""The Dockerfile's contract, checked without a Docker engine: its instructions are parsed, and
the container's command and health check are run here against a real server."""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.cli import ORIGIN_ENV
from app.serve_process import REPO_ROOT, ServeProcess, free_port, listening_addresses

DOCKERFILE = REPO_ROOT / "Dockerfile"
PORT = "5006"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions in order: comments dropped, ``\\`` continuation lines joined."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "dangling line continuation at the end of the Dockerfile"
    return instructions


INSTRUCTIONS = parse_dockerfile(DOCKERFILE.read_text())


def where(keyword: str) -> list[int]:
    return [i for i, ins in enumerate(INSTRUCTIONS) if ins.keyword == keyword]


def only(keyword: str) -> Instruction:
    found = where(keyword)
    assert len(found) == 1, f"expected exactly one {keyword}, found {len(found)}"
    return INSTRUCTIONS[found[0]]


def exec_form(args: str) -> list[str]:
    """A JSON-array (exec form) argument list; shell form fails: signals must reach noisescope."""
    assert args.startswith("["), f"use the exec form (JSON array), not {args!r}"
    return json.loads(args)


def env_vars() -> dict[str, tuple[int, str]]:
    """ENV name -> (instruction index, value), for ``ENV k=v k2=v2`` forms."""
    found: dict[str, tuple[int, str]] = {}
    for i in where("ENV"):
        for token in shlex.split(INSTRUCTIONS[i].args):
            name, sep, value = token.partition("=")
            assert sep, f"use ENV name=value, not {INSTRUCTIONS[i].args!r}"
            found[name] = (i, value)
    return found


def runs_matching(pattern: str) -> list[int]:
    return [i for i in where("RUN") if re.search(pattern, INSTRUCTIONS[i].args)]


def created_user() -> str:
    users = [
        m.group(1)
        for i in where("RUN")
        if (m := re.search(r"\buseradd\b.*?\s([a-z_][a-z0-9_-]*)(?:\s|$)", INSTRUCTIONS[i].args))
    ]
    assert len(users) == 1, "create exactly one user with useradd"
    return users[0]


def container_command() -> list[str]:
    return exec_form(only("ENTRYPOINT").args) + exec_form(only("CMD").args)


def makefile_rule(target: str) -> tuple[str, str]:
    """``(prerequisites, recipe)`` of a Makefile target; fails if the target is missing."""
    match = re.search(
        rf"^{re.escape(target)}:([^\n]*)\n((?:\t[^\n]*\n)*)",
        (REPO_ROOT / "Makefile").read_text(),
        flags=re.MULTILINE,
    )
    assert match, f"Makefile has no target {target!r}"
    return match.group(1).strip(), match.group(2)


def test_parser_joins_continuations_and_drops_comments() -> None:
    parsed = parse_dockerfile('# c\nFROM x\nRUN a \\\n  # inner\n  && b\n\nCMD ["y"]\n')
    assert parsed == [
        Instruction("FROM", "x"),
        Instruction("RUN", "a  && b"),
        Instruction("CMD", '["y"]'),
    ]


def test_single_stage_python_311_slim() -> None:
    assert INSTRUCTIONS[0].keyword == "FROM"
    assert only("FROM").args == "python:3.11-slim"


def test_runs_as_the_created_non_root_user() -> None:
    user = created_user()
    users = where("USER")
    assert users, "no USER instruction: the container would run as root"
    final_user = INSTRUCTIONS[users[-1]].args.split(":")[0]
    assert final_user == user
    assert final_user not in {"root", "0"}
    assert users[-1] < where("CMD")[0]
    copies = [INSTRUCTIONS[i].args for i in where("COPY")]
    assert any(f"--chown={user}" in args for args in copies), "sources must belong to the user"


def test_installs_like_the_readme_with_make() -> None:
    make_installed = runs_matching(r"apt-get install\b.*\bmake\b")
    installs = runs_matching(r"\bmake install\b")
    assert make_installed and len(installs) == 1
    assert make_installed[0] < installs[0]
    assert installs[0] > where("USER")[-1], "install as the user, so the venv is theirs"
    # `make serve` (the README's quick start) installs through the same rule.
    assert makefile_rule("install")[0] == "$(STAMP)"
    assert "$(STAMP)" in makefile_rule("serve")[0].split()
    assert re.search(r"pip install .*-e '\.", makefile_rule("$(STAMP)")[1])
    # serving installs the runtime only: the extras (torch and the reference libraries) come
    # with the test and bench targets
    assert "-e '.'" in makefile_rule("$(STAMP)")[1]
    assert "$(EXTRAS_STAMP)" not in makefile_rule("serve")[0].split()
    for target in ("test", "bench"):
        assert "$(EXTRAS_STAMP)" in makefile_rule(target)[0].split()
    assert "/app/.venv/bin" in env_vars()["PATH"][1]


def test_numba_cache_is_set_writable_and_warmed_at_build_time() -> None:
    index, cache_dir = env_vars()["NUMBA_CACHE_DIR"]
    assert cache_dir.startswith(f"/home/{created_user()}/"), "the serving user must own it"
    warms = runs_matching(r"\bmake warm\b|\bnoisescope warm\b")
    assert len(warms) == 1
    assert warms[0] > index and warms[0] > where("USER")[-1]
    assert warms[0] > runs_matching(r"\bmake install\b")[0]
    assert "noisescope warm" in makefile_rule("warm")[1]


def test_serves_on_all_interfaces_port_5006() -> None:
    command = container_command()
    assert command[:2] == ["noisescope", "serve"]
    assert command[command.index("--address") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == PORT
    assert PORT in only("EXPOSE").args.split()


def test_websocket_origin_comes_from_the_cli_env_var() -> None:
    assert env_vars()[ORIGIN_ENV][1] == f"localhost:{PORT}"
    assert "--allow-websocket-origin" not in container_command()


def healthcheck_command() -> list[str]:
    options, sep, command = only("HEALTHCHECK").args.partition("CMD ")
    assert sep, "HEALTHCHECK needs a CMD"
    assert "--start-period" in options  # the first start may compile kernels
    return exec_form(command)


def test_healthcheck_probes_liveness_with_python_only() -> None:
    command = healthcheck_command()
    assert command[0] == "python"
    assert f"http://127.0.0.1:{PORT}/liveness" in command[-1]
    assert "urllib" in command[-1]
    assert not {"curl", "wget"} & set(" ".join(command).split())


def test_dockerignore_keeps_host_state_out_of_the_image() -> None:
    ignored = set((REPO_ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "test-artifacts", "**/__pycache__", "**/*.nbi"} <= ignored
    for needed in ("README.md", "pyproject.toml", "Makefile", "app", "kernels", "assets"):
        assert needed not in ignored


def websocket_status(port: int, origin: str) -> int:
    """HTTP status of a websocket upgrade to the Bokeh server from ``origin``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    connection.request(
        "GET",
        "/ws",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": "13",
            "Origin": origin,
        },
    )
    status = connection.getresponse().status
    connection.close()
    return status


@pytest.mark.slow
def test_container_command_and_healthcheck_work(tmp_path: Path) -> None:
    """Run the image's command (port swapped for a free one) with the image's origin variable
    set to a foreign host, then the HEALTHCHECK probe against it."""
    port = free_port()
    args = [str(port) if arg == PORT else arg for arg in container_command()[2:]]
    server = ServeProcess(
        log_path=tmp_path / "container.log",
        port=port,
        extra_args=args,
        env={ORIGIN_ENV: "lab.example:8080"},
    ).start()
    probe = healthcheck_command()[-1].replace(f":{PORT}/", f":{port}/")
    try:
        server.wait_live(timeout=300)
        assert listening_addresses(port) == {"0.0.0.0"}
        assert websocket_status(port, "http://lab.example:8080") == 101
        assert websocket_status(port, f"http://localhost:{port}") == 101
        assert websocket_status(port, "http://elsewhere.example:8080") == 403
        healthy = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30)
        assert healthy.returncode == 0, healthy.stderr
    finally:
        assert server.stop() == 0, server.log_tail()
    down = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30)
    assert down.returncode != 0, "the health check must fail when the server is down"
