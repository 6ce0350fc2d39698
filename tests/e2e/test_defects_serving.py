"""``qake run`` under a real uvicorn: one log record per error, and the HTTP parser.

Issue 12, items 7 (an unhandled error was logged twice: by ``qake.error`` and by
uvicorn's "Exception in ASGI application") and 8 (``qake run`` served with h11 without
saying so; h11 lets request smuggling and obs-folded headers through).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from qake_server import Server, qake_run

pytestmark = pytest.mark.e2e

APP = "tests.e2e.errors_app:app"


def _serve(tmp: Path, args: list[str], prelude: str = "") -> Iterator[Server]:
    with qake_run(APP, *args, log=tmp / "server.log", ready="/ok", prelude=prelude) as server:
        yield server


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("serve"), ["--http", request.param])


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("serve"), [])


def _raw(port: int, data: bytes, wait: float = 2.0) -> bytes:
    """Send ``data`` on one connection and read until the server closes it or goes quiet."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(wait)
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except TimeoutError:
            pass
    return out


# -- item 7: one error, one log record -------------------------------------------------


def test_an_error_before_the_response_is_logged_once_with_its_request_id(server: Server) -> None:
    before = server.output()
    r = httpx.get(server.base + "/boom", headers={"X-Request-ID": "rid-before-1"})
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "boom" not in r.text  # no detail leaked
    logged = server.output()[len(before) :]
    assert logged.count("Traceback") == 1, logged
    assert logged.count("RuntimeError: boom before the response") == 1, logged
    assert "QAKE-ERROR rid=rid-before-1 unhandled error in GET /boom" in logged
    assert "Exception in ASGI application" not in logged


def test_an_error_after_the_response_started_closes_the_connection_and_is_logged_once(
    server: Server,
) -> None:
    before = server.output()
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(server.base + "/stream-boom", headers={"X-Request-ID": "rid-after-2"})
    logged = server.output()[len(before) :]
    assert logged.count("Traceback") == 1, logged
    assert logged.count("RuntimeError: boom in the middle of the body") == 1, logged
    assert "QAKE-ERROR rid=rid-after-2 error while sending the response to GET" in logged
    assert "Exception in ASGI application" not in logged
    # The server is still fine afterwards.
    assert httpx.get(server.base + "/ok").json() == {"ok": True}


# -- item 8: the HTTP parser -------------------------------------------------------------


def test_qake_run_says_it_serves_with_httptools(default_server: Server) -> None:
    out = default_server.output()
    assert "serving HTTP/1.1 with uvicorn's httptools parser" in out
    assert "warning" not in out


SMUGGLE = (
    b"POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\nGET /boom HTTP/1.1\r\nHost: a\r\n\r\n"
)


def test_content_length_with_transfer_encoding_is_refused_not_split(
    default_server: Server,
) -> None:
    answer = _raw(default_server.port, SMUGGLE)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert answer.count(b"HTTP/1.1 ") == 1  # no second, smuggled request was served


def test_obs_folded_header_lines_are_refused(default_server: Server) -> None:
    answer = _raw(default_server.port, b"GET /ok HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]


def test_a_70_kb_request_target_is_refused(default_server: Server) -> None:
    target = b"/ok?" + b"a" * 70_000
    answer = _raw(default_server.port, b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")
    assert answer.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 414 ", b"HTTP/1.1 431 ")), answer[:200]


def test_qake_run_warns_when_it_falls_back_to_h11(tmp_path: Path) -> None:
    # httptools cannot be imported in this server process.
    prelude = "import sys\nsys.modules['httptools'] = None"
    for server in _serve(tmp_path, [], prelude=prelude):
        assert httpx.get(server.base + "/ok").json() == {"ok": True}
        out = server.output()
        assert "qake: warning: httptools is not installed" in out
        assert "Transfer-Encoding" in out
        assert "serving HTTP/1.1 with uvicorn's h11 parser" in out


def test_the_meta_package_installs_uvicorn_with_httptools() -> None:
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    uvicorn = [r for r in map(Requirement, requires("qakeapi") or []) if r.name == "uvicorn"]
    assert any("standard" in r.extras and r.marker is None for r in uvicorn), uvicorn
