"""The ``noisescope`` command: help texts, defaults, and a real server on a free port."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import kernels
from app.cli import browse_url, build_parser, websocket_origins
from app.serve_process import (
    REPO_ROOT,
    ServeProcess,
    free_port,
    http_get,
    listening_addresses,
    noisescope_executable,
)

SERVE_OPTIONS = (
    "--port",
    "--address",
    "--allow-websocket-origin",
    "--show",
    "--num-threads",
    "--num-procs",
)
UI_PACKAGES = {"panel", "param", "holoviews", "bokeh", "playwright"}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed console script and capture its output."""
    return subprocess.run(
        [str(noisescope_executable()), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )


def test_help_lists_both_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout and "warm" in result.stdout
    assert "stochastic dynamics of learning" in " ".join(result.stdout.split())


def test_serve_help_lists_every_option() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0, result.stderr
    for option in SERVE_OPTIONS:
        assert option in result.stdout, option
    assert "NOISESCOPE_ALLOW_WEBSOCKET_ORIGIN" in result.stdout
    assert "/liveness" in result.stdout


def test_missing_command_is_a_usage_error() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "usage: noisescope" in result.stderr


def test_serve_defaults_bind_localhost_on_5006() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.port, args.address) == (5006, "127.0.0.1")
    assert args.allow_websocket_origin == []
    assert args.show is False
    assert args.num_threads is None


def test_serve_options_parse() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--port=8000",
            "--address=0.0.0.0",
            "--allow-websocket-origin=a.example:80",
            "--allow-websocket-origin=b.example",
            "--show",
            "--num-threads",
        ]
    )
    assert (args.port, args.address, args.show) == (8000, "0.0.0.0", True)
    assert args.allow_websocket_origin == ["a.example:80", "b.example"]
    assert args.num_threads == 0  # bare flag: Python's default pool size
    assert build_parser().parse_args(["serve", "--num-threads", "4"]).num_threads == 4


def test_websocket_origins_merge_defaults_flags_and_env() -> None:
    origins = websocket_origins(
        7000, ["lab.example:443", "localhost:7000"], " a.example:80, ,lab.example:443"
    )
    assert origins == ["localhost:7000", "127.0.0.1:7000", "lab.example:443", "a.example:80"]
    assert websocket_origins(5006) == ["localhost:5006", "127.0.0.1:5006"]


def test_browse_url_points_wildcard_binds_at_localhost() -> None:
    assert browse_url("0.0.0.0", 5006) == "http://localhost:5006/"
    assert browse_url("127.0.0.1", 81) == "http://127.0.0.1:81/"
    assert browse_url("::1", 81) == "http://[::1]:81/"


def test_warm_prints_every_kernel_module_and_loads_no_ui_package() -> None:
    """``noisescope warm`` needs numpy + numba only: it must not drag in the UI stack."""
    code = (
        "import json, sys\n"
        "from app.cli import main\n"
        "status = main(['warm'])\n"
        "print(json.dumps([status, sorted({m.split('.')[0] for m in sys.modules})]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr
    status, loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 0
    for module in kernels.warm_modules():
        assert f"warmed {module} in" in result.stdout
    assert "kernels ready in" in result.stdout
    assert not UI_PACKAGES & set(loaded)


@pytest.mark.slow
def test_serve_warms_then_listens_on_localhost_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    server = ServeProcess(log_path=tmp_path / "serve.log", port=free_port()).start()
    try:
        server.wait_live(timeout=300)
        status, body = http_get(server.base_url + "liveness")
        assert status == 200 and json.loads(body) == {"/liveness": True}
        # Builds a real document with create_app(): the app itself works, not only the server.
        status, body = http_get(server.base_url + "liveness?endpoint=/", timeout=60)
        assert status == 200, body
        status, body = http_get(server.base_url, timeout=60)
        assert status == 200
        assert b"bokeh" in body.lower()
        assert listening_addresses(server.port) == {"127.0.0.1"}
    finally:
        code = server.stop(signal.SIGINT)
    log = server.log_text()
    assert code == 0, server.log_tail()
    # Kernels are warmed before the server announces it listens.
    assert log.index("kernels ready in") < log.index("noisescope is listening on")
    assert f"http://127.0.0.1:{server.port}/" in log
    assert "noisescope stopped (SIGINT)" in log


@pytest.mark.slow
def test_serve_exits_cleanly_on_sigterm_and_serves_assets(tmp_path: Path) -> None:
    """``docker stop`` sends SIGTERM; static files of assets/ are served under /assets/."""
    from app.main import ASSETS_DIR

    asset = min(path for path in ASSETS_DIR.rglob("*") if path.is_file())
    server = ServeProcess(log_path=tmp_path / "serve.log").start()
    try:
        server.wait_live(timeout=300)
        url = server.base_url + "assets/" + asset.relative_to(ASSETS_DIR).as_posix()
        status, body = http_get(url)
        assert status == 200
        assert body == asset.read_bytes()
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0, server.log_tail()
    assert "noisescope stopped (SIGTERM)" in server.log_text()


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_num_procs_serves_from_forked_processes_and_stops_them_all(
    tmp_path: Path, stop: signal.Signals
) -> None:
    import psutil

    server = ServeProcess(log_path=tmp_path / "serve.log", extra_args=["--num-procs", "2"])
    server.start()
    try:
        server.wait_live(timeout=300)
        children = psutil.Process(server.pid).children()
        assert len(children) == 2
        for _ in range(4):  # documents are built wherever the kernel sends the connection
            status, body = http_get(server.base_url + "liveness?endpoint=/", timeout=60)
            assert status == 200, body
    finally:
        code = server.stop(stop)
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, "a forked server process outlived its parent"
    log = server.log_text()
    assert code == 0, server.log_tail()
    assert log.count("app ready in") == 2 and "Traceback" not in log, log
    assert f"noisescope stopped ({stop.name})" in log


@pytest.mark.slow
def test_serve_on_a_taken_port_fails_with_a_clear_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_closed_socket_warnings_are_dropped_and_others_kept() -> None:
    import logging

    from app.cli import ClosedSocketFilter

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("bokeh.server.views.ws", logging.WARNING, "", 0, message, (), None)

    keep = ClosedSocketFilter().filter
    assert not keep(record("Failed sending message as connection was closed"))
    assert keep(record("Refusing websocket connection from Origin 'http://evil'"))
