"""Property-based tests of JWT header handling (qake-security's ``JWTAuth``).

- ``verify`` takes any text and returns a verified token or raises its own
  ``InvalidToken``; so does a token whose JOSE header is any JSON (any ``alg``,
  ``kid``, ``crit``, ``b64``, ``typ`` of any type) correctly signed with the key its
  ``kid`` names: only ``HS256``, a known ``kid`` and no ``crit`` pass.
- ``authenticate`` over any ``Authorization``/``Cookie`` bytes answers ``None``, a
  token or ``InvalidToken``; the dependency answers a user or a 401.
- ``create_token`` then ``verify`` round trips the subject, roles, scopes and claims.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qake_core import HTTPConnection, HTTPException, SecurityScopes
from qake_security import JWTAuth
from qake_security._jwt import InvalidToken


def examples(n: int) -> settings:
    """``n`` examples, the same ones on every run (no database, derandomized)."""
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


SECRETS = {"k1": b"a" * 32 + b"-first-secret", "k2": b"b" * 32 + b"-second-secret"}
BY_KID = JWTAuth(keys=SECRETS, algorithms=["HS256"], cache_size=0)
SINGLE = JWTAuth(key=SECRETS["k1"], algorithms=["HS256"], cookie="token", cache_size=8)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
KNOWN_KID = st.sampled_from(["k1", "k2"])
HS256 = st.just("HS256")
# Biased towards headers that pass the first checks, so the later ones are reached.
JOSE = st.fixed_dictionaries(
    {
        "alg": st.one_of(HS256, HS256, st.sampled_from(["none", "RS256", "hs256", ""]), JSON),
        "kid": st.one_of(KNOWN_KID, KNOWN_KID, st.sampled_from(["k3", ""]), JSON),
    },
    optional={
        "typ": st.one_of(st.just("JWT"), JSON),
        "crit": st.one_of(st.lists(st.sampled_from(["exp", "b64", "x"]), max_size=2), JSON),
        "b64": st.one_of(st.booleans(), JSON),
        "cty": JSON,
    },
)
HEADER = st.one_of(JOSE, JOSE, JOSE, JSON)
PAYLOAD = st.one_of(
    st.fixed_dictionaries(
        {
            "sub": st.one_of(st.sampled_from(["alice", ""]), JSON),
            "exp": st.one_of(st.just(4_000_000_000), st.integers(-(2**70), 2**70), JSON),
            "iat": st.one_of(st.just(1_700_000_000), JSON),
        },
        optional={
            "nbf": st.one_of(st.integers(0, 2**34), JSON),
            "scope": st.one_of(st.text(max_size=10), JSON),
            "roles": st.one_of(st.lists(st.text(max_size=4), max_size=2), JSON),
            "aud": JSON,
        },
    ),
    JSON,
)


@st.composite
def tokens(draw: st.DrawFn) -> str:
    header_value = draw(HEADER)
    header = json.dumps(header_value).encode()
    payload = json.dumps(draw(PAYLOAD)).encode()
    signing_input = f"{b64(header)}.{b64(payload)}"
    how = draw(st.sampled_from(["kid", "kid", "kid", "k1", "other", "random", "empty"]))
    if how == "kid":  # the key the header's kid names (k1 when it names none)
        kid = header_value.get("kid") if isinstance(header_value, dict) else None
        how = kid if isinstance(kid, str) and kid in SECRETS else "k1"
    if how in SECRETS:
        mac = hmac.new(SECRETS[how], signing_input.encode(), hashlib.sha256).digest()
    elif how == "other":
        mac = hmac.new(b"x" * 40, signing_input.encode(), hashlib.sha256).digest()
    elif how == "random":
        mac = draw(st.binary(max_size=40))
    else:
        mac = b""
    return f"{signing_input}.{b64(mac)}"


def header_of(token: str) -> Any:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@examples(180)
@given(token=tokens())
def test_a_token_of_any_header_verifies_or_is_invalid(token: str) -> None:
    try:
        verified = BY_KID.verify(token)
    except InvalidToken:
        return
    header = header_of(token)
    assert header["alg"] == "HS256"
    assert header["kid"] in SECRETS
    assert "crit" not in header
    assert isinstance(verified.user.identity, str)
    assert verified.user.identity


@examples(150)
@given(
    text=st.one_of(
        st.text(max_size=80),
        st.text(st.sampled_from("eyJ0.-_=AZaz19+/ "), max_size=120),
        tokens().map(lambda t: t[: len(t) // 2]),
    )
)
def test_any_text_verifies_or_is_invalid(text: str) -> None:
    for auth in (BY_KID, SINGLE):
        try:
            auth.verify(text)
        except InvalidToken:
            pass


def scope_with(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/", "headers": headers, "query_string": b""}


AUTHORIZATION = st.one_of(
    st.binary(max_size=60),
    st.tuples(
        st.sampled_from([b"Bearer ", b"bearer ", b"BEARER  ", b"Basic ", b"Bearer"]),
        st.one_of(tokens().map(str.encode), st.binary(max_size=40)),
    ).map(b"".join),
)


@examples(120)
@given(
    authorization=st.one_of(st.none(), AUTHORIZATION),
    cookie=st.one_of(
        st.none(), st.binary(max_size=40), tokens().map(lambda t: b"token=" + t.encode())
    ),
)
def test_authenticate_and_the_dependency_answer_a_user_none_or_401(
    authorization: bytes | None, cookie: bytes | None
) -> None:
    headers = []
    if authorization is not None:
        headers.append((b"authorization", authorization))
    if cookie is not None:
        headers.append((b"cookie", cookie))
    for auth in (BY_KID, SINGLE):
        try:
            auth.authenticate(scope_with(headers))
        except InvalidToken:
            pass

        async def depend(a: JWTAuth = auth) -> Any:
            return await a(HTTPConnection(scope_with(headers)), SecurityScopes())

        try:
            asyncio.run(depend())
        except HTTPException as exc:
            status = exc.status_code
            assert status == 401


CLAIM_NAME = st.text(st.characters(codec="utf-8"), min_size=1, max_size=6).filter(
    lambda n: n not in {"sub", "iat", "exp", "nbf", "iss", "aud", "jti", "roles", "scope", "scp"}
)


@examples(60)
@given(
    subject=st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
    roles=st.lists(st.text(st.characters(codec="utf-8"), max_size=6), max_size=3),
    scopes=st.lists(st.text("abcxyz:._", min_size=1, max_size=6), max_size=3),
    claims=st.dictionaries(CLAIM_NAME, JSON.filter(lambda v: not isinstance(v, float)), max_size=3),
)
def test_create_token_then_verify_round_trips(
    subject: str, roles: list[str], scopes: list[str], claims: dict[str, Any]
) -> None:
    auth = JWTAuth(keys=SECRETS, algorithms=["HS256"], issuer="qake", audience="api")
    token = auth.create_token(subject, {**claims, "roles": roles, "scope": " ".join(scopes)})
    verified = auth.verify(token)
    assert verified.user.identity == subject
    assert verified.credentials.scopes == frozenset(scopes)
    assert set(verified.user.roles) == set(roles)
    for name, value in claims.items():
        assert verified.claims[name] == value
    # Any single character changed in the token makes it invalid (or leaves it equal
    # in meaning: base64url's last character may carry unused bits).
    for i in range(0, len(token), max(1, len(token) // 12)):
        swapped = "A" if token[i] != "A" else "B"
        tampered = token[:i] + swapped + token[i + 1 :]
        try:
            again = auth.verify(tampered)
        except InvalidToken:
            continue
        assert again.claims == verified.claims


def test_a_token_signed_like_the_strategy_does_verifies() -> None:
    """The strategy's signing is right: such a token with good claims verifies."""
    header = b64(json.dumps({"alg": "HS256", "kid": "k2"}).encode())
    payload = b64(json.dumps({"sub": "a", "exp": 4_000_000_000, "iat": 1_700_000_000}).encode())
    mac = hmac.new(SECRETS["k2"], f"{header}.{payload}".encode(), hashlib.sha256).digest()
    token = f"{header}.{payload}.{b64(mac)}"
    assert BY_KID.verify(token).user.identity == "a"
    with pytest.raises(InvalidToken):
        BY_KID.verify(token[:-2])
