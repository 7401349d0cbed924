"""Run ``noisescope serve`` in a subprocess: shared by the CLI test, the browser tests and the
app benchmark. Standard library only (no Panel import), so it is cheap to import anywhere."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

REPO_ROOT = Path(__file__).resolve().parent.parent


class ServeError(RuntimeError):
    """The server did not come up (or died); the message ends with the tail of its log."""


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def noisescope_executable() -> Path:
    """The ``noisescope`` console script of the running interpreter's environment."""
    candidate = Path(sys.executable).parent / "noisescope"
    if candidate.exists():
        return candidate
    found = shutil.which("noisescope")
    if found is None:
        raise ServeError("the 'noisescope' console script is not installed (run: make install)")
    return Path(found)


def http_get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """``(status, body)`` of a GET request; HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def process_memory_kib(pid: int) -> dict[str, int]:
    """Resident memory of a Linux process from ``/proc/<pid>/status``: ``VmRSS`` (now) and
    ``VmHWM`` (peak since start), in KiB."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port`` (Linux ``/proc/net/tcp*``):
    dotted IPv4, or ``"::"`` for any IPv6 socket."""
    found: set[str] = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] != "0A" or int(port_hex, 16) != port:  # 0A = LISTEN
                continue
            if table == "tcp6":
                found.add("::")
            else:  # little-endian hex, e.g. 0100007F = 127.0.0.1
                found.add(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


class ServeProcess:
    """``noisescope serve --port PORT [extra args]`` as a child process, output to ``log_path``.

    Use as a context manager: ``with ServeProcess(log_path=...) as server: server.base_url``.
    Entering starts the process and waits for ``/liveness``; leaving stops it with SIGINT.
    """

    def __init__(
        self,
        log_path: Path,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        live_timeout: float = 180.0,
    ) -> None:
        self.port = port if port is not None else free_port()
        self.log_path = Path(log_path)
        self.command = [
            str(noisescope_executable()),
            "serve",
            "--port",
            str(self.port),
            *extra_args,
        ]
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.live_timeout = live_timeout
        self.base_url = f"http://localhost:{self.port}/"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def pid(self) -> int:
        """Process id of the server (the console script execs Python directly)."""
        if self.process is None:
            raise ServeError("server not started")
        return self.process.pid

    def start(self) -> ServeProcess:
        """Launch the process (does not wait); ``started_at`` is its ``perf_counter`` time."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.started_at = time.perf_counter()
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return self

    def wait_live(self, timeout: float | None = None) -> float:
        """Block until ``GET /liveness`` answers 200; return seconds since :meth:`start`."""
        deadline = time.perf_counter() + (timeout or self.live_timeout)
        url = self.base_url + "liveness"
        while time.perf_counter() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise ServeError(f"noisescope serve exited with {code}\n{self.log_tail()}")
            try:
                if http_get(url, timeout=1.0)[0] == 200:
                    return time.perf_counter() - self.started_at
            except OSError:
                pass  # not listening yet
            time.sleep(0.05)
        raise ServeError(
            f"{url} not live after {timeout or self.live_timeout:.0f} s\n{self.log_tail()}"
        )

    def memory_kib(self) -> dict[str, int]:
        """``VmRSS`` and ``VmHWM`` of the server process, in KiB."""
        return process_memory_kib(self.pid)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        """Send ``sig`` (Ctrl-C by default), wait, kill if it hangs; return the exit code."""
        if self.process is None:
            raise ServeError("server not started")
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log_text(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log, for error messages."""
        tail = self.log_text().splitlines()[-lines:]
        return f"--- last lines of {self.log_path} ---\n" + "\n".join(tail)

    def __enter__(self) -> ServeProcess:
        self.start()
        try:
            self.wait_live()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
