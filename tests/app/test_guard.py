"""The request guard and the security headers: unit rules, then a real server on loopback."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from app.guard import (
    MAX_URL_BYTES,
    allowed_hosts,
    clean_target,
    content_security_policy,
    host_name,
    refusal,
)
from app.serve_process import REPO_ROOT, ServeProcess

LOCAL = allowed_hosts("127.0.0.1")


def test_host_name_drops_port_brackets_and_case() -> None:
    assert host_name("LocalHost:5006") == "localhost"
    assert host_name("[::1]:5006") == "::1"
    assert host_name("::1") == "::1"
    assert host_name("lab.example.org") == "lab.example.org"


def test_allowed_hosts_are_this_machine_the_bind_address_and_the_named_ones() -> None:
    assert LOCAL == {"localhost", "127.0.0.1", "::1"}
    assert allowed_hosts("0.0.0.0", ["laptop.local:5006", " "]) == LOCAL | {"laptop.local"}
    assert "10.1.2.3" in allowed_hosts("10.1.2.3")


@pytest.mark.parametrize(
    ("method", "target", "host", "status"),
    [
        ("GET", "/", "localhost:5006", None),
        ("GET", "/?tab=tokens", "127.0.0.1:5006", None),
        ("GET", "/ws", "[::1]:5006", None),
        ("GET", "/", "evil.example:5006", 403),
        ("GET", "/ws", "evil.example", 403),
        ("GET", "/", "", 403),
        ("GET", "/components/..%2f..%2fetc/passwd", "localhost", 400),
        ("GET", "/assets/%2e%2e/README.md", "localhost", 400),
        ("GET", "/assets/..\\x", "localhost", 400),
        ("GET", "/?x=" + "a" * MAX_URL_BYTES, "localhost", 414),
    ],
)
def test_refusal(method: str, target: str, host: str, status: int | None) -> None:
    answer = refusal(method, target, host, LOCAL)
    assert (answer[0] if answer else None) == status


def test_clean_target_repairs_utf8_and_drops_an_unknown_theme() -> None:
    assert clean_target("/?tab=tokens") == "/?tab=tokens"
    assert clean_target("/") == "/"
    cleaned = dict(parse_qsl(clean_target("/?tab=tokens&theme=%ff&seed=%ff").split("?")[1]))
    assert cleaned == {"tab": "tokens", "seed": "\ufffd"}
    assert "theme" not in clean_target("/?theme=foo")
    assert dict(parse_qsl(clean_target("/?theme=dark&x=%C3%A9").split("?")[1])) == {
        "theme": "dark",
        "x": "é",
    }


def test_policy_allows_only_this_server() -> None:
    policy = content_security_policy("'self' https://course.example.org")
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "frame-ancestors 'self' https://course.example.org" in policy
    assert "http" not in policy.replace("https://course.example.org", "")


def _request(port: int, target: str, host: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.putrequest("GET", target, skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.mark.slow
def test_server_refuses_foreign_hosts_and_sends_the_headers(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with ServeProcess(
        log_path=log,
        extra_args=["--allow-host", "lab.example.org", "--frame-ancestors", "'none'"],
    ) as server:
        port = server.port
        local = f"localhost:{port}"
        status, headers, body = _request(port, "/?tab=tokens", local)
        assert status == 200 and b"<html" in body.lower()
        assert headers["Server"] == "noisescope"  # no Tornado version
        assert headers["X-Content-Type-Options"] == "nosniff"
        policy = headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert _request(port, "/", f"lab.example.org:{port}")[0] == 200
        # DNS rebinding: a page and a websocket under a foreign name
        for target in ("/", "/ws", "/liveness"):
            status, headers, _ = _request(port, target, f"evil.example:{port}")
            assert status == 403, target
            assert headers["X-Content-Type-Options"] == "nosniff"
        assert _request(port, "/components/..%2f..%2fsecret", local)[0] == 400
        assert _request(port, "/?tab=tokens&x=" + "a" * 100_000, local)[0] == 414
        for query in ("theme=%ff", "theme=foo", "theme=dark", "seed=%ff%fe"):
            status, _, body = _request(port, f"/?tab=tokens&{query}", local)
            assert status == 200, query
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]


def test_cli_help_documents_the_new_options() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert "--allow-host" in readme and "--frame-ancestors" in readme
