"""Property-based tests of Host/authority handling (RFC 9112 §3.2, RFC 3986 §3.2.2-3.2.3).

- ``valid_host`` takes any bytes and answers a bool: every ``host[:port]`` made from the
  grammar (registered names with percent-escapes, IPv4, IPv6 and IPvFuture literals,
  ports up to 65535) is valid; inserting any character that ends an authority, or a
  port past 65535, makes it invalid.
- ``head_problem`` answers ``None``, 431 or 400 exactly as its limits and the Host say.
- ``URL(scope=...)``: no Host value moves the request's path or query.
- ``TrustedHostMiddleware.is_allowed`` takes any text and follows its patterns.
- Through an ``App``: any Host answers 200 or 400 (problem+json), never another status.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any
from urllib.parse import quote, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qake_core import URL, App, TrustedHostMiddleware
from qake_core._request_head import head_problem, valid_host


def examples(n: int) -> settings:
    """``n`` examples, the same ones on every run (no database, derandomized)."""
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


NAME_CHARS = "ABCXYZabcxyz0189-._~!$&'()*+,;="
HEX = "0123456789abcdefABCDEF"
PCT = st.tuples(st.sampled_from(HEX), st.sampled_from(HEX)).map(lambda t: "%" + "".join(t))
REG_NAME = st.lists(st.one_of(st.sampled_from(NAME_CHARS), PCT), max_size=20).map("".join)
IPV4 = st.ip_addresses(v=4).map(str)
IPV6 = st.ip_addresses(v=6).flatmap(
    lambda a: st.sampled_from([f"[{a.compressed}]", f"[{a.exploded}]", f"[{str(a).upper()}]"])
)
IPVFUTURE = st.tuples(
    st.text(st.sampled_from(HEX), min_size=1, max_size=3),
    st.text(st.sampled_from(NAME_CHARS + ":"), min_size=1, max_size=10),
).map(lambda t: f"[v{t[0]}.{t[1]}]")
HOST = st.one_of(REG_NAME, IPV4, IPV6, IPVFUTURE)
PORT = st.one_of(
    st.just(""),
    st.integers(0, 65535).map(lambda p: f":{p}"),
    st.integers(0, 65535).map(lambda p: f":{p:05d}"),  # leading zeros: still 5 digits
    st.just(":"),  # an empty port is allowed (RFC 3986)
)
AUTHORITY = st.tuples(HOST, PORT).map("".join)
# Characters that end an authority, or may never be in one.
BREAKERS = [*'/?#@\\ \t\r\n[]"<>^`{|}', "\x00", "\x7f", "é", "%", "%g0", "%0"]


@examples(300)
@given(value=st.one_of(st.binary(max_size=60), st.text(NAME_CHARS + ":[]%v./?@", max_size=40)))
def test_valid_host_answers_a_bool_for_any_bytes(value: bytes | str) -> None:
    raw = value.encode("latin-1") if isinstance(value, str) else value
    answer = valid_host(raw)
    assert isinstance(answer, bool)
    if answer:
        text = raw.decode("latin-1")
        assert not set(text) & set('/?#@\\ \t\r\n"<>^`{|}')
        assert text.isascii()
        assert text.isprintable()


@examples(180)
@given(authority=AUTHORITY)
def test_every_authority_of_the_grammar_is_valid(authority: str) -> None:
    assert valid_host(authority.encode("ascii")), authority


@examples(180)
@given(authority=AUTHORITY, breaker=st.sampled_from(BREAKERS), data=st.data())
def test_an_authority_with_a_breaking_character_is_invalid(
    authority: str, breaker: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(0, len(authority)))
    if breaker.startswith("%"):
        # Not followed by two hex digits (the authority's own characters could be).
        at = len(authority)
    broken = authority[:at] + breaker + authority[at:]
    assert not valid_host(broken.encode("utf-8")), broken


@examples(180)
@given(name=REG_NAME, pair=st.text(st.sampled_from("0aFgG:%"), min_size=2, max_size=2))
def test_a_percent_escape_is_valid_exactly_with_two_hex_digits(name: str, pair: str) -> None:
    expected = all(c in HEX for c in pair)
    assert valid_host(f"{name}%{pair}".encode()) == expected


@examples(180)
@given(host=HOST, port=st.integers(65536, 99999))
def test_a_port_past_65535_is_invalid(host: str, port: int) -> None:
    assert not valid_host(f"{host}:{port}".encode())
    assert not valid_host(f"{host}:{port}0".encode())  # six digits


@examples(120)
@given(text=st.text(st.sampled_from("0123456789abcdefABCDEF:."), min_size=1, max_size=45))
def test_an_ipv6_literal_is_valid_exactly_when_ipaddress_reads_it(text: str) -> None:
    try:
        ipaddress.IPv6Address(text)
        expected = True
    except ValueError:
        expected = False
    assert valid_host(f"[{text}]".encode()) == expected


HEADER = st.tuples(
    st.sampled_from(
        [b"host", b"accept", b"x-a", b"cookie", b"content-length", b"transfer-encoding"]
    ),
    st.one_of(st.binary(max_size=40), AUTHORITY.map(str.encode)),
)


@examples(150)
@given(
    headers=st.lists(HEADER, max_size=8),
    max_count=st.integers(0, 10),
    max_total=st.integers(0, 300),
    max_line=st.integers(0, 60),
    version=st.sampled_from(["1.0", "1.1", "2"]),
)
def test_head_problem_follows_its_limits_and_the_host_and_framing_rules(
    headers: list[tuple[bytes, bytes]], max_count: int, max_total: int, max_line: int, version: str
) -> None:
    """431 over a limit; else 400 for several Hosts, none on HTTP/1.1, an invalid one,
    or Content-Length beside Transfer-Encoding (RFC 9112 §3.2, §6.1); else nothing."""
    answer = head_problem(headers, max_count, max_total, max_line, version)
    sizes = [len(n) + len(v) for n, v in headers]
    names = [n for n, _ in headers]
    hosts = [v for n, v in headers if n == b"host"]
    framing = b"content-length" in names and b"transfer-encoding" in names
    if len(headers) > max_count or any(s > max_line for s in sizes) or sum(sizes) > max_total:
        assert answer is not None
        assert answer[0] == 431
    elif (
        len(hosts) > 1
        or (not hosts and version == "1.1")
        or (hosts and not valid_host(hosts[0]))
        or framing
    ):
        assert answer is not None
        assert answer[0] == 400
    else:
        assert answer is None


PATH = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20).map(
    lambda p: "/" + p
)


@examples(180)
@given(host=st.one_of(st.binary(max_size=30), AUTHORITY.map(str.encode)), path=PATH, data=st.data())
def test_no_host_moves_the_urls_path_or_query(host: bytes, path: str, data: st.DataObject) -> None:
    query = data.draw(st.sampled_from([b"", b"a=1", b"x=%2F&y", b"q=#frag"]))
    scope = {
        "type": "http",
        "scheme": "http",
        "path": path,
        "query_string": query,
        "headers": [(b"host", host)],
        "server": ("10.0.0.1", 8000),
    }
    url = URL(scope=scope)
    assert url.path == path
    parts = urlsplit(str(url))
    assert parts.path == quote(path, safe="/!$&'()*+,;=:@-._~")
    assert parts.query == query.decode().replace("#", "%23")
    assert parts.fragment == ""
    expected = host.decode("latin-1") if valid_host(host) else "10.0.0.1:8000"
    assert parts.netloc == url.netloc == expected


TRUSTED = TrustedHostMiddleware(lambda *a: None, ["example.com", "*.example.org", "[::1]"])


def allowed_model(host: str) -> bool:
    if host.startswith("["):
        name = host[: host.find("]") + 1]
    else:
        name = host.rpartition(":")[0] if ":" in host else host
    name = name.lower().rstrip(".")
    return name in ("example.com", "[::1]") or name.endswith(".example.org")


@examples(180)
@given(
    host=st.one_of(
        st.text(max_size=30),
        st.tuples(
            st.sampled_from(["example.com", "EXAMPLE.com.", "a.example.org", "example.org"]),
            st.sampled_from(["", ":80", ":", "x", ".evil", "/", "@evil"]),
        ).map("".join),
        st.tuples(IPV6, PORT).map("".join),
    )
)
def test_trusted_host_patterns(host: str) -> None:
    assert TRUSTED.is_allowed(host) == allowed_model(host)


# -- through an App ------------------------------------------------------------------

app = App()


@app.get("/")
async def index() -> dict[str, str]:
    return {"ok": "yes"}


def call(scope: dict[str, Any]) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(app(scope, receive, send), 10))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


@examples(120)
@given(
    host=st.one_of(st.binary(max_size=40), AUTHORITY.map(str.encode)),
    before=st.booleans(),
)
def test_any_host_answers_200_or_a_400_problem(host: bytes, before: bool) -> None:
    headers = [(b"host", host), (b"accept", b"*/*")]
    if not before:
        headers.reverse()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 8000),
    }
    status, response_headers, body = call(scope)
    if valid_host(host):
        assert status == 200
        assert body == b'{"ok":"yes"}'
    else:
        assert status == 400
        assert response_headers[b"content-type"] == b"application/problem+json"
        assert b"Traceback" not in body
