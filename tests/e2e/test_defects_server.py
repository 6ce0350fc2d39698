"""Issue 12, items 2, 4 and 5 under a real uvicorn, with both of its HTTP parsers.

2: a Host such as ``example.com/?`` moved ``request.url.path`` to ``/`` while the
   request was routed to ``/admin/secret``: a guard reading the URL let it through.
4: headers of any size reached the app (httptools takes a 1 MB Cookie).
5: a client sending ``Content-Length: 1000000``, 10 bytes, then nothing held the
   request forever.

The app (tests/e2e/edge_limits_app.py) runs under ``qake run --http h11|httptools``
with a 0.5 s body deadline; the requests are written on raw sockets.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from qake_server import qake_run

pytestmark = pytest.mark.e2e

APP = "tests.e2e.edge_limits_app:app"
KIB = 1024


@pytest.fixture(scope="module", params=["httptools", "h11"])
def port(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``qake run`` serving the app with the parser of the parameter; its port."""
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with qake_run(APP, "--http", request.param, log=log, ready="/ok") as server:
        yield server.port


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool  # the server closed the connection after the answer
    seconds: float  # from the first byte sent to the end of the answer
    raw: bytes = field(repr=False)

    def json(self) -> object:
        return json.loads(self.body)


def _head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v.strip() for k, _, v in fields}


def exchange(port: int, *pieces: bytes, pause: float = 0.0, wait: float = 5.0) -> Answer:
    """Send ``pieces`` on one connection (``pause`` seconds apart), read one answer.

    The connection is kept open after the last piece: whether the server closes it is
    part of the answer.
    """
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(wait)
        for i, piece in enumerate(pieces):
            if i and pause:
                time.sleep(pause)
            s.sendall(piece)
        raw = b""
        closed = False
        while True:
            head, sep, rest = raw.partition(b"\r\n\r\n")
            if sep and len(rest) >= int(_head(head)[1].get("content-length", "0")):
                break
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                pytest.fail(f"no complete answer in {wait} s: {raw[:300]!r}")
            if not chunk:
                closed = True
                break
            raw += chunk
        seconds = time.monotonic() - started
        if not closed:
            s.settimeout(1.0)
            try:
                closed = s.recv(1) == b""
            except (TimeoutError, ConnectionResetError):
                closed = False
    head, _, body = raw.partition(b"\r\n\r\n")
    status, headers = _head(head)
    return Answer(status, headers, body, closed, seconds, raw)


def get(path: str, *headers: bytes) -> bytes:
    lines = b"".join(h + b"\r\n" for h in headers)
    return b"GET " + path.encode() + b" HTTP/1.1\r\n" + lines + b"Connection: close\r\n\r\n"


# -- item 2: Host --------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", [b"example.com/?", b"example.com/x?y=", b"example.com#frag", b"a@example.com"]
)
def test_a_bad_host_is_400_and_never_reaches_the_guard(port: int, host: bytes) -> None:
    answer = exchange(port, get("/admin/secret", b"Host: " + host))
    assert answer.status == 400, answer.raw
    assert answer.headers["content-type"] == "application/problem+json"
    assert b"s3cr3t" not in answer.body
    # With a good Host the guard, reading request.url.path, holds.
    assert exchange(port, get("/admin/secret", b"Host: example.com")).status == 403
    allowed = exchange(port, get("/admin/secret", b"Host: example.com", b"X-Admin: yes"))
    assert allowed.json() == {"secret": "s3cr3t"}


def test_the_url_is_built_from_the_routed_path(port: int) -> None:
    answer = exchange(port, get("/whoami?x=1", b"Host: example.com:8080"))
    assert answer.json() == {"path": "/whoami", "url": "http://example.com:8080/whoami?x=1"}


# -- item 4: header sizes -------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([b"Cookie: a=" + b"b" * (64 * KIB)], id="64 KiB cookie"),
        pytest.param([b"X-Big: " + b"v" * (20 * KIB)], id="20 KiB line"),
        pytest.param([b"X-H%d: v" % i for i in range(150)], id="150 headers"),
        pytest.param([b"X-H%d: " % i + b"v" * (15 * KIB) for i in range(5)], id="75 KiB in 5"),
    ],
)
def test_oversized_headers_are_431_problems(port: int, headers: list[bytes]) -> None:
    answer = exchange(port, get("/ok", b"Host: example.com", *headers))
    assert answer.status == 431, answer.raw[:300]
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 431  # type: ignore[index]


def test_a_large_head_sent_in_pieces_is_431_too(port: int) -> None:
    """h11 refuses (400, not ours) a head it has to wait for beyond its buffer; qake run
    sizes that buffer above the app's header limit, so the app's 431 answers."""
    request = get("/ok", b"Host: example.com", b"Cookie: a=" + b"b" * (70 * KIB))
    answer = exchange(port, request[: 40 * KIB], request[40 * KIB :], pause=0.3)
    assert answer.status == 431, answer.raw[:300]
    assert answer.headers["content-type"] == "application/problem+json"


def test_headers_within_the_limits_are_served(port: int) -> None:
    lines = [b"X-H%d: " % i + b"v" * (15 * KIB) for i in range(4)]  # 60 KiB
    assert exchange(port, get("/ok", b"Host: example.com", *lines)).json() == {"ok": True}
    line = b"X-Big: " + b"v" * (16 * KIB - len("x-big"))  # a full line
    assert exchange(port, get("/ok", b"Host: example.com", line)).json() == {"ok": True}


# -- item 5: the body deadline --------------------------------------------------------

UPLOAD_HEAD = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
BODY_ROUTES = {
    "/echo": (b"application/octet-stream", b"0123456789"),
    "/typed": (b"application/json", b'{"name": "'),
    "/upload": (b"multipart/form-data; boundary=xyz", UPLOAD_HEAD),
}


def post_head(path: str, content_type: bytes, length: int) -> bytes:
    return (
        b"POST " + path.encode() + b" HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Type: " + content_type + b"\r\nContent-Length: %d\r\n\r\n" % length
    )


@pytest.mark.parametrize("path", list(BODY_ROUTES))
@pytest.mark.parametrize("first", [True, False], ids=["some bytes then stall", "stall"])
def test_a_stalled_body_is_408_and_the_connection_closed(port: int, path: str, first: bool) -> None:
    content_type, start = BODY_ROUTES[path]
    request = post_head(path, content_type, 1_000_000) + (start if first else b"")
    answer = exchange(port, request)
    assert answer.status == 408, answer.raw[:300]
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["connection"] == "close"
    assert answer.closed
    assert 0.5 <= answer.seconds < 4


@pytest.mark.parametrize("path", ["/echo", "/upload"])
def test_a_slow_but_progressing_upload_is_not_cut_off(port: int, path: str) -> None:
    """Twelve pieces 0.2 s apart: 2.4 s in all, five times the 0.5 s deadline, which is
    for each wait (no progress for that long), not for the whole body."""
    content_type, _ = BODY_ROUTES[path]
    data = b"x" * 1200
    body = UPLOAD_HEAD + data + b"\r\n--xyz--\r\n" if path == "/upload" else data
    pieces = [body[i : i + 100] for i in range(0, len(body), 100)]
    assert len(pieces) >= 12
    answer = exchange(port, post_head(path, content_type, len(body)), *pieces, pause=0.2)
    assert answer.seconds >= 2.4
    assert answer.status == 200, answer.raw[:300]
    assert answer.json() == {"size": 1200}
