"""Property-based tests of the other header parsers a client reaches.

- ``Authorization: Basic`` (RFC 7617): ``decode_basic`` takes any text and answers
  credentials or ``None``; ``basic_authorization`` then ``decode_basic`` round trips.
- Signed tokens (sessions, CSRF): ``Signer.unsign`` takes any text and answers the
  payload or ``None``; ``sign`` then ``unsign`` round trips; a token changed anywhere
  (or signed with another key) is ``None``.
- ``Forwarded`` / ``X-Forwarded-*`` from a trusted proxy: any header bytes leave a
  scheme among http/https (ws/wss) and a client taken from the chain; from an
  untrusted peer nothing changes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qake_core import ProxyHeadersMiddleware
from qake_security._http_auth import basic_authorization, decode_basic
from qake_security._signing import Signer


def examples(n: int) -> settings:
    """``n`` examples, the same ones on every run (no database, derandomized)."""
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


CONTROL = {*map(chr, range(0x20)), "\x7f"}
B64ISH = st.text(st.sampled_from("QWxhZGRpbjpvcGVuIHNlc2FtZQ+/=-_ :\t.é"), max_size=40)


@examples(300)
@given(token=st.one_of(st.text(max_size=40), B64ISH))
def test_decode_basic_answers_credentials_or_none(token: str) -> None:
    credentials = decode_basic(token)
    if credentials is not None:
        assert ":" not in credentials.username
        assert not CONTROL.intersection(credentials.username + credentials.password)


USER_TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.text(st.sampled_from(["a", ":", "\x00", "\x1f", "\x7f", "\x85", "\x9f", "\xa0", "é"])),
)
C0_C1 = {*CONTROL, *map(chr, range(0x80, 0xA0))}


@examples(200)
@given(username=USER_TEXT, password=USER_TEXT)
def test_basic_authorization_round_trips_or_refuses(username: str, password: str) -> None:
    try:
        value = basic_authorization(username, password)
    except ValueError:
        assert ":" in username or C0_C1.intersection(username + password)
        return
    scheme, _, token = value.partition(" ")
    assert scheme == "Basic"
    credentials = decode_basic(token)
    assert credentials is not None
    assert (credentials.username, credentials.password) == (username, password)


SIGNER = Signer("test", ["k" * 32, "old-" + "o" * 32], purpose="session")
OTHER = Signer("test", ["x" * 32], purpose="session")
OTHER_PURPOSE = Signer("test", ["k" * 32], purpose="csrf")


@examples(300)
@given(token=st.one_of(st.text(max_size=60), st.text("abcAB09-_.=é", max_size=60)))
def test_unsign_answers_a_payload_or_none(token: str) -> None:
    payload = SIGNER.unsign(token)
    assert payload is None or isinstance(payload, bytes)


@examples(200)
@given(payload=st.binary(max_size=40), data=st.data())
def test_sign_then_unsign_round_trips_and_tampering_fails(
    payload: bytes, data: st.DataObject
) -> None:
    token = SIGNER.sign(payload)
    assert SIGNER.unsign(token) == payload
    assert OTHER.unsign(token) is None
    assert OTHER_PURPOSE.unsign(token) is None
    at = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("A_-.x").filter(lambda c: c != token[at]))
    tampered = token[:at] + replacement + token[at + 1 :]
    got = SIGNER.unsign(tampered)
    # base64url's last character of a part may carry unused bits: the same bytes.
    assert got is None or got == payload


FORWARDED = st.one_of(
    st.binary(max_size=60),
    st.lists(
        st.sampled_from(
            [
                *(b"for=", b"proto=", b"https", b"http", b"ftp", b"1.2.3.4", b"[2001:db8::1]:80"),
                *(b'"', b";", b",", b" ", b":", b"10.0.0.1", b"by=", b"HTTPS", b"["),
            ]
        ),
        max_size=12,
    ).map(b"".join),
)


def run(app: Any, scope: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.update(scope)

    async def main() -> None:
        await ProxyHeadersMiddleware(inner, app)(scope, None, None)  # type: ignore[arg-type]

    asyncio.run(main())
    return seen


@examples(300)
@given(
    kind=st.sampled_from(["http", "websocket"]),
    forwarded=st.one_of(st.none(), FORWARDED),
    forwarded_for=st.one_of(st.none(), FORWARDED),
    forwarded_proto=st.one_of(st.none(), FORWARDED),
    peer=st.sampled_from(["127.0.0.1", "10.0.0.1", "192.0.2.7"]),
)
def test_proxy_headers_from_any_bytes(
    kind: str,
    forwarded: bytes | None,
    forwarded_for: bytes | None,
    forwarded_proto: bytes | None,
    peer: str,
) -> None:
    headers = [
        (name, value)
        for name, value in [
            (b"forwarded", forwarded),
            (b"x-forwarded-for", forwarded_for),
            (b"x-forwarded-proto", forwarded_proto),
        ]
        if value is not None
    ]
    scheme = "http" if kind == "http" else "ws"
    scope = {"type": kind, "scheme": scheme, "client": (peer, 5000), "headers": headers}
    seen = run(["127.0.0.1", "10.0.0.0/8"], dict(scope))
    if peer == "192.0.2.7":  # not a trusted proxy: nothing changes
        assert seen["client"] == (peer, 5000)
        assert seen["scheme"] == scheme
        return
    allowed = {"http", "https"} if kind == "http" else {"ws", "wss"}
    assert seen["scheme"] in allowed
    if seen["client"] != (peer, 5000):
        host, port = seen["client"]
        assert port == 0
        source = (forwarded if forwarded is not None else forwarded_for or b"").decode("latin-1")
        assert host
        assert host in source
