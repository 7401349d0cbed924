"""The server's front door: which requests reach the app, and the headers every answer carries.

Bokeh checks a websocket's ``Origin`` against its ``Host``, but never checks ``Host`` itself: a
page served under another name (DNS rebinding: ``evil.example`` resolving to 127.0.0.1) passes
that check and gets a live session. :class:`RequestGuard` wraps the Tornado application inside
the HTTP server and looks at every request, page and websocket alike, before any handler runs:

* ``Host`` must name this machine (``localhost``, ``127.0.0.1``, ``[::1]``), the bind address or
  a host allowed on the command line: otherwise **403**;
* a request line over :data:`MAX_URL_BYTES` answers **414** (Tornado would drop the connection
  without a word once the headers pass its own limit, raised here to :data:`MAX_HEADER_BYTES`);
* a path that climbs out of its folder (``..`` after percent-decoding) answers **400**;
* a query string is made valid UTF-8 (undecodable bytes become U+FFFD, so Panel's own
  ``theme`` lookup cannot raise), and a ``theme`` other than ``default`` or ``dark`` is dropped
  (the app reports what it ignored).

:class:`SecurityHeaders` adds to every answer a content security policy that allows only what
the server itself serves, ``X-Content-Type-Options: nosniff``, a ``frame-ancestors`` policy
(``'self'`` unless configured) and a ``Server`` header without a version.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes, urlencode

from tornado import httputil
from tornado.web import OutputTransform

#: Longest request line (method, path and query) answered normally; longer ones get 414.
MAX_URL_BYTES = 16 * 1024
#: Tornado's header limit, raised so that a long URL is answered (414) rather than dropped.
MAX_HEADER_BYTES = 1024 * 1024
#: Names that always mean this machine.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
#: ``theme`` values Panel's templates know.
THEMES = frozenset({"default", "dark"})


def host_name(host: str) -> str:
    """The name part of a ``Host`` header or a ``host[:port]`` option, lower case, without the
    port or IPv6 brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def allowed_hosts(address: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The host names a request may carry: this machine, the bind address (unless it is a
    wildcard) and the ``extra`` host[:port] entries."""
    names = set(LOCAL_HOSTS) | {host_name(entry) for entry in extra if entry.strip()}
    if address not in ("", "0.0.0.0", "::"):
        names.add(host_name(address))
    return frozenset(names)


def content_security_policy(frame_ancestors: str = "'self'") -> str:
    """The page's policy: scripts, styles, fonts, images and connections from this server only
    (BokehJS needs inline scripts and styles, ``eval`` for its compiled callbacks and blob:
    scripts for the modules Panel loads)."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


def refusal(method: str, target: str, host: str, hosts: frozenset[str]) -> tuple[int, str] | None:
    """``(status, reason)`` if the request must not reach the app, else None."""
    if len(method) + len(target) > MAX_URL_BYTES:
        return 414, f"URI Too Long: at most {MAX_URL_BYTES} bytes"
    if host_name(host) not in hosts:
        return 403, "Forbidden: unknown Host (start noisescope with --allow-host NAME)"
    path = target.split("?", 1)[0]
    segments = unquote_to_bytes(path).replace(b"\\", b"/").split(b"/")
    if b".." in segments or b"\x00" in path.encode("utf-8", "replace"):
        return 400, "Bad Request: malformed path"
    return None


def clean_target(target: str) -> str:
    """The request target with a valid-UTF-8 query and no unknown ``theme``."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    pairs = parse_qsl(query, keep_blank_values=True, errors="replace")
    kept = [(k, v) for k, v in pairs if k != "theme" or v in THEMES]
    if len(kept) == len(pairs) and query.isascii() and "%" not in query:
        return target
    return f"{path}?{urlencode(kept)}"


class RequestGuard(httputil.HTTPServerConnectionDelegate):
    """Wraps the Tornado application inside the HTTP server (module docstring)."""

    def __init__(self, application: httputil.HTTPServerConnectionDelegate, hosts: frozenset[str]):
        self.application = application
        self.hosts = hosts

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        inner = self.application.start_request(server_conn, request_conn)
        return _GuardedMessage(inner, request_conn, self.hosts)

    def on_close(self, server_conn: object) -> None:
        self.application.on_close(server_conn)


class _GuardedMessage(httputil.HTTPMessageDelegate):
    """One request: refused with a short plain-text answer, or passed on (cleaned)."""

    def __init__(
        self,
        inner: httputil.HTTPMessageDelegate,
        connection: httputil.HTTPConnection,
        hosts: frozenset[str],
    ) -> None:
        self.inner = inner
        self.connection = connection
        self.hosts = hosts
        self.refused: tuple[int, str] | None = None

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> Any:
        assert isinstance(start_line, httputil.RequestStartLine)
        self.refused = refusal(
            start_line.method, start_line.path, headers.get("Host", ""), self.hosts
        )
        if self.refused is not None:
            return None
        start_line = start_line._replace(path=clean_target(start_line.path))
        return self.inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        if self.refused is None:
            return self.inner.data_received(chunk)
        return None

    def finish(self) -> None:
        if self.refused is None:
            self.inner.finish()
            return
        status, reason = self.refused
        body = f"{status} {reason}\n".encode()
        headers = httputil.HTTPHeaders(
            {
                "Content-Type": "text/plain; charset=utf-8",
                "Content-Length": str(len(body)),
                "X-Content-Type-Options": "nosniff",
                "Server": "noisescope",
                "Connection": "close",
            }
        )
        self.connection.write_headers(
            httputil.ResponseStartLine("HTTP/1.1", status, reason.split(":")[0]), headers, body
        )
        self.connection.finish()

    def on_connection_close(self) -> None:
        if self.refused is None:
            self.inner.on_connection_close()


def security_headers(frame_ancestors: str = "'self'") -> type[OutputTransform]:
    """An output transform class adding the security headers to every answer."""
    policy = content_security_policy(frame_ancestors)

    class SecurityHeaders(OutputTransform):
        def transform_first_chunk(
            self, status_code: int, headers: httputil.HTTPHeaders, chunk: bytes, finishing: bool
        ) -> tuple[int, httputil.HTTPHeaders, bytes]:
            headers["Server"] = "noisescope"
            headers["X-Content-Type-Options"] = "nosniff"
            headers["Content-Security-Policy"] = policy
            headers["Referrer-Policy"] = "same-origin"
            return status_code, headers, chunk

    return SecurityHeaders


def install(server: Any, hosts: frozenset[str], frame_ancestors: str = "'self'") -> None:
    """Put the guard and the headers on a Bokeh ``Server`` built with ``start=False``."""
    http = server._http  # the tornado HTTPServer Bokeh created for the application
    http.request_callback = RequestGuard(http.request_callback, hosts)
    server._tornado.transforms.append(security_headers(frame_ancestors))
