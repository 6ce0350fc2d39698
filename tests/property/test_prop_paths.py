"""Property-based tests of path matching on any request target.

tests/routing/test_properties.py covers url_for/match round trips and registration
order; these cover what a client can send:

- ``Router.match`` on any raw path (bytes read as Latin-1, as ASGI's ``raw_path``)
  returns a match or raises ``NotFound``/``MethodNotAllowed``, nothing else;
- the three spellings of one path (percent-encoded, raw UTF-8 bytes, already decoded)
  match the same route with the same parameters;
- through an ``App``, any raw path answers 200, 404 or 405 (problem+json), never 5xx,
  and a 200's parameters are the router's.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qake_core import App
from qake_routing import MethodNotAllowed, NotFound, Router


def examples(n: int) -> settings:
    """``n`` examples, the same ones on every run (no database, derandomized)."""
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


TEMPLATES = {
    "root": "/",
    "static": "/a/b",
    "int": "/i/{n:int}",
    "float": "/f/{x:float}",
    "uuid": "/u/{u:uuid}",
    "str": "/s/{name}",
    "two": "/s/{name}/{n:int}",
    "path": "/p/{rest:path}",
    "tail": "/t/{a}/x/{rest:path}",
}
ROUTER = Router()
for name, template in TEMPLATES.items():
    ROUTER.add(template, name, methods=["GET"], name=name)

SEGMENT_BYTES = st.one_of(
    st.sampled_from([b"a", b"b", b"i", b"f", b"u", b"s", b"p", b"t", b"x", b"", b"1", b"-2"]),
    st.sampled_from([b"1.5", b"1e3", b"nan", b"inf", b"%2F", b"%25", b"%zz", b"%", b"%C3%A9"]),
    st.sampled_from([b"12345678-1234-5678-1234-567812345678", b"\xc3\xa9", b"\xff", b".."]),
    st.binary(max_size=6),
)
RAW_PATH = st.lists(SEGMENT_BYTES, max_size=5).map(lambda s: b"/" + b"/".join(s))


@examples(360)
@given(raw=st.one_of(RAW_PATH, st.binary(max_size=30)), method=st.sampled_from(["GET", "POST"]))
def test_match_returns_or_raises_not_found_or_method_not_allowed(raw: bytes, method: str) -> None:
    path = raw.decode("latin-1")
    try:
        match = ROUTER.match(method, path)
    except (NotFound, MethodNotAllowed):
        return
    assert method == "GET"
    assert match.handler in TEMPLATES


# Decoded segments: any text but "/" (a decoded "/" would split the path differently).
SEGMENT = st.one_of(
    st.sampled_from(["a", "b", "i", "s", "p", "t", "x", "1", "-2", "1.5", "é", "%", "%2F", " "]),
    st.text(st.characters(codec="utf-8", exclude_characters="/"), max_size=6),
)


@examples(300)
@given(segments=st.lists(SEGMENT, min_size=1, max_size=5))
def test_three_spellings_of_a_path_match_alike(segments: list[str]) -> None:
    encoded = "/" + "/".join(quote(s, safe="") for s in segments)
    decoded = "/" + "/".join(segments)
    spellings = [(encoded, False), (decoded, True)]
    if not any("%" in s for s in segments):
        # Raw UTF-8 bytes as a server passes them (raw_path read as Latin-1).
        spellings.append((decoded.encode("utf-8").decode("latin-1"), False))
    answers = []
    for path, is_decoded in spellings:
        try:
            match = ROUTER.match("GET", path, decoded=is_decoded)
            answers.append((match.handler, match.params))
        except NotFound:
            answers.append(None)
    assert all(a == answers[0] for a in answers), (segments, answers)


app = App()


@app.get("/i/{n:int}")
async def by_int(n: int) -> dict[str, Any]:
    return {"route": "int", "params": {"n": str(n)}}


@app.get("/f/{x:float}")
async def by_float(x: float) -> dict[str, Any]:
    return {"route": "float", "params": {"x": str(x)}}


@app.get("/s/{name}")
async def by_str(name: str) -> dict[str, Any]:
    return {"route": "str", "params": {"name": name}}


@app.get("/p/{rest:path}")
async def by_path(rest: str) -> dict[str, Any]:
    return {"route": "path", "params": {"rest": rest}}


def call(raw: bytes, method: str) -> tuple[int, dict[bytes, bytes], bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw.decode("latin-1"),
        "raw_path": raw,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"example.com")],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


APP_ROUTER = Router()
for name, template in [("int", "/i/{n:int}"), ("float", "/f/{x:float}")]:
    APP_ROUTER.add(template, name, methods=["GET"])
APP_ROUTER.add("/s/{name}", "str", methods=["GET"])
APP_ROUTER.add("/p/{rest:path}", "path", methods=["GET"])


@examples(180)
@given(raw=st.one_of(RAW_PATH, st.binary(max_size=30)), method=st.sampled_from(["GET", "PUT"]))
def test_any_path_through_the_app_answers_200_404_or_405(raw: bytes, method: str) -> None:
    status, headers, body = call(raw, method)
    try:
        match = APP_ROUTER.match(method, raw.decode("latin-1"))
    except NotFound:
        assert status == 404, (raw, status, body)
    except MethodNotAllowed:
        assert status == 405, (raw, status, body)
    else:
        assert status == 200, (raw, status, body)
        got = orjson.loads(body)
        assert got["route"] == match.handler
        assert got["params"] == {k: str(v) for k, v in match.params.items()}
        return
    assert headers[b"content-type"] == b"application/problem+json"
    assert b"Traceback" not in body
