"""Issue 12, items 2, 4 and 5, in process: a bad Host is refused and cannot move
``request.url``'s path; default header-size limits; the body-read deadline.

The same defects under a real uvicorn (h11 and httptools): tests/e2e/test_defects_server.py.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import anyio
import pytest
from core_asgi import PassThrough, http_scope
from pydantic import BaseModel

from qake_core import URL, App, CallNext, File, Form, Limits, Request, Response, UploadFile
from qake_testing import TestClient

Message = dict[str, Any]
#: The server address the URL falls back to when the Host cannot be used.
SERVER = ("10.0.0.1", 8000)


def run_app(
    app: Any, scope: Message, receive: Callable[[], Awaitable[Message]], backend: str = "asyncio"
) -> list[Message]:
    """Run ``app`` once (at most 5 s: a hang fails); return the messages it sent."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        with anyio.fail_after(5):
            await app(scope, receive, send)

    anyio.run(main, backend=backend)
    return sent


def response_of(sent: list[Message]) -> tuple[int, dict[bytes, bytes], bytes]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


# -- item 2: Host ----------------------------------------------------------------------

BAD_HOSTS = [
    "example.com/?",  # the three: each moved the URL's path to "/"
    "example.com/x?y=",
    "example.com#frag",
    "example.com/",
    "example.com?",
    "user@example.com",
    "example.com\\x",
    "exa mple.com",
    "example.com:80:80",
    "example.com:99999",
    "example.com:8o",
    "[::1",
    "[1:2]",  # brackets around something that is not an IPv6 address
    "[::1]x",
    "example.com%2",
]

GOOD_HOSTS = [
    "example.com",
    "EXAMPLE.com:8080",
    "127.0.0.1:8000",
    "[::1]",
    "[2001:db8::1]:443",
    "[v1.fe]",
    "xn--bcher-kva.example.",
    "ex%41mple.com",
    "example.com:",  # RFC 3986: the port may be empty
]


def guarded_app(edge: bool) -> App:
    """An app whose guard (a hook) keeps ``/admin`` paths to admins, by ``request.url``."""
    app = App()
    if edge:
        app.add_middleware(PassThrough)

    @app.middleware("http")
    async def admin_only(request: Request, call_next: CallNext) -> Response:
        if request.url.path.startswith("/admin") and request.headers.get("x-admin") != "yes":
            return Response(b"forbidden", status_code=403)
        return await call_next(request)

    @app.get("/admin/secret")
    async def secret() -> dict[str, str]:
        return {"secret": "s3cr3t"}

    @app.get("/whoami/{name}")
    async def whoami(request: Request, name: str) -> dict[str, Any]:
        url = request.url
        return {"path": url.path, "url": str(url), "netloc": url.netloc, "name": name}

    return app


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_a_host_that_is_not_an_authority_is_refused_before_any_guard(edge: bool, host: str) -> None:
    with TestClient(guarded_app(edge)) as c:
        r = c.get("/admin/secret", headers={"host": host})
        assert r.status_code == 400, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert "Host" in r.json()["detail"]
        # Refused every time (a bad value is never remembered as good).
        assert c.get("/whoami/x", headers={"host": host}).status_code == 400
        # The guard still holds with a good Host.
        assert c.get("/admin/secret").status_code == 403


@pytest.mark.parametrize("host", GOOD_HOSTS)
def test_valid_hosts_are_served_and_make_the_url(edge: bool, host: str) -> None:
    with TestClient(guarded_app(edge)) as c:
        r = c.get("/whoami/bob", headers={"host": host})
        assert r.status_code == 200, r.text
        assert r.json() == {
            "path": "/whoami/bob",
            "url": f"http://{host}/whoami/bob",
            "netloc": host,
            "name": "bob",
        }


def test_the_host_is_checked_wherever_it_is_among_the_headers(edge: bool) -> None:
    app = guarded_app(edge)
    last_bad = [(b"accept", b"*/*"), (b"host", b"example.com/?")]
    status, _, body = response_of(
        run_app(app, http_scope("GET", "/whoami/a", last_bad, SERVER), _no_body)
    )
    assert (status, b"Host" in body) == (400, True)
    last_good = [(b"accept", b"*/*"), (b"host", b"example.org")]
    status, _, body = response_of(
        run_app(app, http_scope("GET", "/whoami/a", last_good, SERVER), _no_body)
    )
    assert status == 200
    assert b'"url":"http://example.org/whoami/a"' in body
    # No Host at all (HTTP/1.0): the server's address makes the URL.
    status, _, body = response_of(
        run_app(app, http_scope("GET", "/whoami/a", [], SERVER, "1.0"), _no_body)
    )
    assert status == 200
    assert b'"url":"http://10.0.0.1:8000/whoami/a"' in body
    # HTTP/1.1 without a Host, or with two: 400 and the connection closed (RFC 9112).
    for headers in ([], [(b"host", b"example.org"), (b"host", b"evil.example")]):
        scope = http_scope("GET", "/whoami/a", headers, SERVER)
        status, sent, body = response_of(run_app(app, scope, _no_body))
        assert (status, b"Host" in body) == (400, True)
        assert sent[b"connection"] == b"close"


def test_many_distinct_hosts_are_all_checked(edge: bool) -> None:
    with TestClient(guarded_app(edge)) as c:
        for i in range(600):
            assert c.get("/whoami/a", headers={"host": f"h{i}.example.com"}).status_code == 200
        assert c.get("/whoami/a", headers={"host": "h1.example.com/?"}).status_code == 400


def test_the_url_path_is_the_routed_path_and_its_string_is_encoded() -> None:
    with TestClient(guarded_app(False)) as c:
        r = c.get("/whoami/a%3Fb%23c%20d")
        assert r.json()["name"] == "a?b#c d"
        assert r.json()["path"] == "/whoami/a?b#c d"
        assert r.json()["url"] == "http://testserver/whoami/a%3Fb%23c%20d"
        # The encoded form round-trips through the URL parser.
        assert URL(r.json()["url"]).path == "/whoami/a%3Fb%23c%20d"


def test_a_url_built_from_a_scope_with_a_bad_host_keeps_the_routed_path() -> None:
    """Outside the app's check (an outer middleware, a hand-made scope) the Host is
    not trusted either: the server's address stands in, the path is the scope's."""
    for host in (b"example.com/?", b"example.com#frag", b"example.com/x?y="):
        scope = http_scope("GET", "/admin/secret", [(b"host", host)], SERVER)
        scope["query_string"] = b"a=1"
        url = URL(scope=scope)
        assert url.path == "/admin/secret"
        assert url.query == "a=1"
        assert url.netloc == "10.0.0.1:8000"
        assert str(url) == "http://10.0.0.1:8000/admin/secret?a=1"
        assert url.replace(scheme="https").path == "/admin/secret"


def test_a_websocket_handshake_with_a_bad_host_is_refused() -> None:
    app = App()
    scope = http_scope("GET", "/ws", [(b"host", b"example.com/?")])
    scope["type"] = "websocket"

    async def connect() -> Message:
        return {"type": "websocket.connect"}

    sent = run_app(app, scope, connect)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]
    # With the denial extension: the 400 an HTTP request would get, as problem+json.
    scope["extensions"] = {"websocket.http.response": {}}
    start, body = run_app(app, scope, connect)
    assert (start["type"], start["status"]) == ("websocket.http.response.start", 400)
    assert b"Host header" in body["body"]


def test_a_websocket_handshake_no_route_matches_is_refused_with_404() -> None:
    app = App()
    scope = http_scope("GET", "/nowhere", [(b"host", b"example.com")])
    scope["type"] = "websocket"
    scope["extensions"] = {"websocket.http.response": {}}

    async def connect() -> Message:
        return {"type": "websocket.connect"}

    start, body = run_app(app, scope, connect)
    assert start["status"] == 404
    assert (b"content-type", b"application/problem+json") in start["headers"]
    assert body["type"] == "websocket.http.response.body"


# -- item 4: header sizes --------------------------------------------------------------


def small_app(edge: bool, **options: Any) -> App:
    app = App(**options)
    if edge:
        app.add_middleware(PassThrough)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    return app


def test_the_default_limits_bound_the_headers() -> None:
    limits = App().limits
    assert limits.max_header_size == 64 * 1024
    assert limits.max_header_line_size == 16 * 1024
    assert limits.max_header_count == 100
    assert limits.body_timeout == 30.0


@pytest.mark.parametrize("path", ["/ping", "/items/1"])
def test_oversized_headers_are_431_by_default(edge: bool, path: str) -> None:
    kib = 1024
    with TestClient(small_app(edge)) as c:
        refused = {
            "64 KiB cookie": {"cookie": "a=" + "b" * (64 * kib)},
            "20 KiB line": {"x-big": "v" * (20 * kib)},
            "just over a line": {"x-big": "v" * (16 * kib - len("x-big") + 1)},
            "75 KiB in 5 lines": {f"x-h{i}": "v" * (15 * kib) for i in range(5)},
            "20 KiB name": {"x" * (20 * kib): "v"},
        }
        for what, headers in refused.items():
            r = c.get(path, headers=headers)
            assert r.status_code == 431, what
            assert r.headers["content-type"] == "application/problem+json", what
            assert "bytes" in r.json()["detail"], what
        many = c.get(path, headers=[(f"x-h{i}", "v") for i in range(120)])
        assert many.status_code == 431
        # Within the limits: a full line, 60 KiB in 4 lines.
        assert c.get(path, headers={"x-big": "v" * (16 * kib - len("x-big"))}).status_code == 200
        four = {f"x-h{i}": "v" * (15 * kib) for i in range(4)}
        assert c.get(path, headers=four).status_code == 200
        assert c.get(path).status_code == 200


def test_the_header_limits_can_be_set(edge: bool) -> None:
    app = small_app(edge, limits=Limits(max_header_line_size=200, max_header_size=1000))
    with TestClient(app) as c:
        r = c.get("/ping", headers={"x-big": "v" * 300})
        assert r.status_code == 431
        assert "'x-big'" in r.json()["detail"]
        assert "200 bytes" in r.json()["detail"]
        total = c.get("/ping", headers={f"x-h{i}": "v" * 150 for i in range(7)})
        assert total.status_code == 431
        assert "1000 bytes of headers" in total.json()["detail"]
        assert c.get("/ping", headers={"x-big": "v" * 150}).status_code == 200


# -- item 5: the body-read deadline ----------------------------------------------------


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


class Item(BaseModel):
    name: str


def body_app(timeout: float) -> App:
    app = App(limits=Limits(body_timeout=timeout))

    @app.post("/typed")
    async def typed(item: Item) -> dict[str, str]:
        return {"name": item.name}

    @app.post("/body")
    async def body(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.post("/stream")
    async def stream(request: Request) -> dict[str, int]:
        return {"size": sum([len(chunk) async for chunk in request.stream()])}

    @app.post("/form")
    async def form(name: Annotated[str, Form()]) -> dict[str, str]:
        return {"name": name}

    @app.post("/upload")
    async def upload(file: Annotated[UploadFile, File()]) -> dict[str, int]:
        return {"size": len(await file.read())}

    @app.post("/patient", limits=Limits(body_timeout=5.0))
    async def patient(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    return app


MULTIPART = "multipart/form-data; boundary=xyz"
ROUTES = {
    "/typed": (b"application/json", b'{"name": "a'),
    "/body": (b"application/octet-stream", b"0123456789"),
    "/stream": (b"application/octet-stream", b"0123456789"),
    "/form": (b"application/x-www-form-urlencoded", b"name=ab"),
    "/upload": (
        MULTIPART.encode(),
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nab',
    ),
}


def stalling(first: bytes | None) -> Callable[[], Awaitable[Message]]:
    """A client that sends ``first`` (or nothing) of its body, then nothing more."""
    calls = 0

    async def receive() -> Message:
        nonlocal calls
        calls += 1
        if calls == 1 and first is not None:
            return {"type": "http.request", "body": first, "more_body": True}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("path", list(ROUTES))
@pytest.mark.parametrize("sent_first", [True, False], ids=["10 bytes then stall", "stall"])
def test_a_stalled_body_is_answered_408_and_closes(
    backend: str, path: str, sent_first: bool
) -> None:
    content_type, first = ROUTES[path]
    headers = [
        (b"host", b"testserver"),
        (b"content-type", content_type),
        (b"content-length", b"1000000"),
    ]
    started = time.monotonic()
    sent = run_app(
        body_app(0.2),
        http_scope("POST", path, headers),
        stalling(first if sent_first else None),
        backend,
    )
    elapsed = time.monotonic() - started
    status, response_headers, body = response_of(sent)
    assert status == 408, body
    assert response_headers[b"connection"] == b"close"
    assert response_headers[b"content-type"] == b"application/problem+json"
    assert b"0.2 seconds" in body
    assert 0.2 <= elapsed < 3


def test_a_route_may_wait_longer_for_its_body() -> None:
    """``/patient`` allows 5 s: a 0.5 s pause is no stall there (0.2 s elsewhere)."""
    chunks = [b"abc", b"def"]

    async def pausing() -> Message:
        await anyio.sleep(0.5 if len(chunks) == 1 else 0)
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

    headers = [(b"host", b"testserver")]
    sent = run_app(body_app(0.2), http_scope("POST", "/patient", headers), pausing)
    assert response_of(sent)[::2] == (200, b'{"size":6}')


def progressing(chunks: list[bytes], pause: float) -> Callable[[], Awaitable[Message]]:
    """A slow client: each chunk ``pause`` seconds after the previous one."""
    queue = list(chunks)

    async def receive() -> Message:
        await anyio.sleep(pause)
        chunk = queue.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(queue)}

    return receive


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("path", ["/body", "/stream", "/typed"])
def test_a_slow_but_progressing_body_is_not_cut_off(backend: str, path: str) -> None:
    """Eight chunks 0.1 s apart: 0.8 s in all, well past the 0.3 s deadline, which is
    per read (no progress for that long), not for the whole body."""
    body = b'{"name": "' + b"n" * 50 + b'"}'
    chunks = [body[i : i + 8] for i in range(0, len(body), 8)]
    assert len(chunks) >= 8
    headers = [(b"host", b"testserver"), (b"content-type", b"application/json")]
    started = time.monotonic()
    sent = run_app(
        body_app(0.3), http_scope("POST", path, headers), progressing(chunks, 0.1), backend
    )
    assert time.monotonic() - started >= 0.8
    status, _, answer = response_of(sent)
    assert status == 200, answer
    assert answer in (b'{"size":%d}' % len(body), b'{"name":"' + b"n" * 50 + b'"}')


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_deadline_leaves_a_receive_s_own_cancel_scopes_alone(backend: str) -> None:
    """A receive wrapper (an outer middleware's) may hold a cancel scope of its own
    while it waits: the body deadline still answers 408, and nothing breaks."""
    stalled = stalling(b"0123456789")

    async def with_own_deadline() -> Message:
        with anyio.fail_after(60):
            return await stalled()

    headers = [(b"host", b"testserver"), (b"content-length", b"1000000")]
    sent = run_app(body_app(0.2), http_scope("POST", "/body", headers), with_own_deadline, backend)
    assert response_of(sent)[0] == 408


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_message_taken_before_a_pause_is_not_lost(backend: str) -> None:
    """A receive that has its message before it yields (a checkpoint, a log write)
    returns that message: the deadline resumes the same receive, it never restarts it."""
    chunks = [b"abc", b"def", b"ghi"]

    async def checkpointing() -> Message:
        chunk = chunks.pop(0)
        await anyio.lowlevel.checkpoint()
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    for path in ("/body", "/stream"):
        chunks[:] = [b"abc", b"def", b"ghi"]
        headers = [(b"host", b"testserver")]
        sent = run_app(body_app(0.2), http_scope("POST", path, headers), checkpointing, backend)
        assert response_of(sent)[::2] == (200, b'{"size":9}')


def test_a_bad_host_is_refused_whatever_the_header_limits(edge: bool) -> None:
    huge = Limits(max_header_size=10**12, max_header_line_size=10**12, max_header_count=10**6)
    with TestClient(small_app(edge, limits=huge)) as c:
        assert c.get("/ping", headers={"host": "example.com/?"}).status_code == 400
        assert c.get("/ping", headers={"x-big": "v" * 100_000}).status_code == 200


@pytest.mark.parametrize("edge", [False, True], ids=["inline", "edge"])
def test_content_length_beside_transfer_encoding_is_refused_and_closed(edge: bool) -> None:
    """RFC 9112 §6.1: a smuggling attempt; h11 passes both headers on (httptools refuses
    them itself). Transfer-Encoding alone is the usual chunked body."""
    app = guarded_app(edge)
    both = [
        (b"host", b"example.org"),
        (b"content-length", b"4"),
        (b"transfer-encoding", b"chunked"),
    ]
    status, sent, body = response_of(run_app(app, http_scope("GET", "/whoami/a", both), _no_body))
    assert (status, sent[b"connection"]) == (400, b"close")
    assert b"Transfer-Encoding" in body
    chunked = [(b"host", b"example.org"), (b"transfer-encoding", b"chunked")]
    status, _, _ = response_of(run_app(app, http_scope("GET", "/whoami/a", chunked), _no_body))
    assert status == 200


@pytest.mark.parametrize("edge", [False, True], ids=["inline", "edge"])
def test_a_request_target_over_its_limit_is_414(edge: bool) -> None:
    app = guarded_app(edge)
    scope = http_scope("GET", "/whoami/a")
    scope["query_string"] = b"q=" + b"x" * (64 * 1024)
    status, sent, body = response_of(run_app(app, scope, _no_body))
    assert (status, sent[b"connection"]) == (414, b"close")
    assert b"request-target" in body
    scope["query_string"] = b"q=" + b"x" * (20 * 1024)  # past the fast path, within the limit
    status, _, _ = response_of(run_app(app, scope, _no_body))
    assert status == 200


@pytest.mark.parametrize("edge", [False, True], ids=["inline", "edge"])
def test_a_lower_target_limit_holds_on_the_fast_path_and_counts_raw_bytes(edge: bool) -> None:
    """``max_target_size`` below the header limits is still enforced when the head takes
    the fast path, and the target is measured as received (raw_path): 200 escaped bytes
    decode to 66 characters, and are still 200 bytes."""
    from qake_core import Limits

    app = small_app(edge, limits=Limits(max_target_size=128))
    for path, raw in [
        ("/items/1", b"/items/1?" + b"q" * 150),  # a long query
        ("/" + "\u00e9" * 33, b"/" + b"%C3%A9" * 33),  # a short decoded path, 199 raw bytes
    ]:
        scope = http_scope("GET", path)
        scope["raw_path"], _, scope["query_string"] = raw.partition(b"?")
        status, sent, body = response_of(run_app(app, scope, _no_body))
        assert (status, sent[b"connection"]) == (414, b"close"), raw
        assert b"longer than 128 bytes" in body
    fine = http_scope("GET", "/items/1")
    fine["query_string"] = b"q=" + b"x" * 100
    assert response_of(run_app(app, fine, _no_body))[0] == 200
