"""Hostile requests to the routes that guard something: encoded traversal on the static
mount, open-redirect candidates, forged and stale JWTs, and cross-site or token-less
CSRF attempts. Each is refused (404/400/401/403 problem+json) while the well-formed
request next to it is served.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from hostile.kit import Target, assert_problem, exchange, request, settled, watched

pytestmark = [pytest.mark.e2e, pytest.mark.hostile]

# -- static files ------------------------------------------------------------------------

TRAVERSALS = [
    "/static/../hostile_app.py",
    "/static/%2e%2e/hostile_app.py",
    "/static/%2e%2e%2fhostile_app.py",
    "/static/..%2fhostile_app.py",
    "/static/..%5chostile_app.py",
    "/static/%252e%252e%252fhostile_app.py",
    "/static/%c0%ae%c0%ae/hostile_app.py",
    "/static/....//hostile_app.py",
    "/static/..;/hostile_app.py",
    "/static/hello.txt%00.py",
    "/static/%2fetc%2fpasswd",
    "/static//etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/hello.txt/..%2f..%2fhostile_app.py",
]


@settled
def test_encoded_traversal_on_static_files_is_404(target: Target) -> None:
    served = exchange(target.port, request("GET", "/static/hello.txt"))
    assert served.status == 200
    assert served.body == b"hello from the static mount\n"
    with watched(target, f"{len(TRAVERSALS)} encoded traversals on /static") as w:
        answers = [exchange(target.port, request("GET", path)) for path in TRAVERSALS]
        w.answer = ", ".join(sorted({a.summary() for a in answers}))
    for path, answer in zip(TRAVERSALS, answers, strict=True):
        assert b"QakeAPI" not in answer.body, path  # the app's source
        assert b"root:" not in answer.body, path  # /etc/passwd
        assert_problem(answer, 400, 404)


# -- redirects -----------------------------------------------------------------------------

OPEN_REDIRECTS = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example",
    "https:/\\evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.example",
    "\t//evil.example",
    "http://127.0.0.1@evil.example",
    "https://evil.example#@127.0.0.1",
]


@settled
def test_open_redirect_candidates_are_refused(target: Target) -> None:
    ok = httpx.get(target.base + "/redirect", params={"next": "/items/1"})
    assert ok.status_code == 303
    assert ok.headers["location"] == "/items/1"
    with watched(target, f"{len(OPEN_REDIRECTS)} open-redirect candidates") as w:
        answers = [
            httpx.get(target.base + "/redirect", params={"next": url}, timeout=10)
            for url in OPEN_REDIRECTS
        ]
        w.answer = ", ".join(sorted({str(a.status_code) for a in answers}))
    for url, answer in zip(OPEN_REDIRECTS, answers, strict=True):
        assert answer.status_code == 400, url
        assert "location" not in answer.headers, url
        assert answer.headers["content-type"] == "application/problem+json"


# -- JWT -------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


#: hostile_app.SECRET: the tests sign well-formed tokens that break one rule each.
SECRET = b"hostile-suite-hmac-secret-0123456789abcdef"


def _forge(
    header: dict[str, Any], claims: dict[str, Any], key: bytes | None, digest: str = "sha256"
) -> str:
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), digest).digest()
    return signing_input + "." + _b64(signature)


@pytest.fixture(scope="module")
def tokens(target: Target) -> dict[str, str]:
    return httpx.get(target.base + "/jwt/keys").json()  # type: ignore[no-any-return]


def _claims(token: str) -> dict[str, Any]:
    return json.loads(_unb64(token.split(".")[1]))  # type: ignore[no-any-return]


def _jwt_attacks(tokens: dict[str, str]) -> dict[str, tuple[str, str]]:
    """name -> (route, Authorization value)."""
    hs, rs = tokens["hs"], tokens["rs"]
    claims = _claims(hs)
    head, payload, signature = hs.split(".")
    admin = {**claims, "sub": "admin", "roles": ["admin"]}
    now = int(time.time())
    without_exp = {k: v for k, v in claims.items() if k != "exp"}
    return {
        "alg none": ("/jwt/hs", "Bearer " + _forge({"alg": "none", "typ": "JWT"}, claims, None)),
        "alg None, signature kept": (
            "/jwt/hs",
            "Bearer " + _b64(b'{"alg":"None"}') + "." + payload + "." + signature,
        ),
        "HS256 signed with the RS256 public key": (
            "/jwt/rs",
            "Bearer " + _forge({"alg": "HS256"}, claims, tokens["public_pem"].encode()),
        ),
        "expired": ("/jwt/hs", "Bearer " + tokens["hs_expired"]),
        "tampered claims": (
            "/jwt/hs",
            "Bearer " + head + "." + _b64(json.dumps(admin).encode()) + "." + signature,
        ),
        "tampered signature": ("/jwt/hs", "Bearer " + head + "." + payload + "." + signature[::-1]),
        "RS256 token on the HS256 route": ("/jwt/hs", "Bearer " + rs),
        "kid path traversal": (
            "/jwt/hs",
            "Bearer " + _forge({"alg": "HS256", "kid": "../../../../dev/null"}, claims, b""),
        ),
        "jku pointing elsewhere": (
            "/jwt/rs",
            "Bearer " + _forge({"alg": "RS256", "jku": "http://127.0.0.1:9/keys"}, claims, b"x"),
        ),
        "empty secret": ("/jwt/hs", "Bearer " + _forge({"alg": "HS256"}, admin, b"")),
        "not a JWT": ("/jwt/hs", "Bearer not.a.jwt"),
        "5,000 segments": ("/jwt/hs", "Bearer " + ".".join(["a"] * 5_000)),
        "15 KB of base64": ("/jwt/hs", "Bearer " + "A" * 15_000 + "." + payload + "." + signature),
        "header is a JSON list": ("/jwt/hs", "Bearer " + _b64(b"[1]") + "." + payload + ".x"),
        "a correct signature, crit header": (
            "/jwt/hs",
            "Bearer " + _forge({"alg": "HS256", "crit": ["exp"]}, claims, SECRET),
        ),
        "a correct signature, HS512": (
            "/jwt/hs",
            "Bearer " + _forge({"alg": "HS512"}, claims, SECRET, "sha512"),
        ),
        "a correct signature, not before in an hour": (
            "/jwt/hs",
            "Bearer " + _forge({"alg": "HS256"}, {**claims, "nbf": now + 3600}, SECRET),
        ),
        "a correct signature, issued in an hour": (
            "/jwt/hs",
            "Bearer " + _forge({"alg": "HS256"}, {**claims, "iat": now + 3600}, SECRET),
        ),
        "a correct signature, no exp": (
            "/jwt/hs",
            "Bearer " + _forge({"alg": "HS256"}, without_exp, SECRET),
        ),
        "a correct signature, exp beyond a float": (
            "/jwt/hs",
            "Bearer " + _forge({"alg": "HS256"}, {**claims, "exp": 10**400}, SECRET),
        ),
        "a correct signature, roles an object": (
            "/jwt/hs",
            "Bearer " + _forge({"alg": "HS256"}, {**claims, "roles": {"a": 1}}, SECRET),
        ),
        "Basic instead of Bearer": ("/jwt/hs", "Basic " + _b64(b"alice:secret")),
        "no token": ("/jwt/hs", ""),
    }


@settled
def test_jwt_attacks_are_401(target: Target, tokens: dict[str, str]) -> None:
    claims = _claims(tokens["hs"])
    own = _forge({"alg": "HS256", "typ": "JWT"}, claims, SECRET)  # the forger's own check
    assert httpx.get(target.base + "/jwt/hs", headers={"authorization": "Bearer " + own}).json()
    for route, token in (("/jwt/hs", tokens["hs"]), ("/jwt/rs", tokens["rs"])):
        ok = httpx.get(target.base + route, headers={"authorization": "Bearer " + token})
        assert ok.json() == {"user": "alice"}, ok.text
    attacks = _jwt_attacks(tokens)
    with watched(target, f"{len(attacks)} JWT attacks") as w:
        answers = {}
        attacks["non-ASCII bytes"] = ("/jwt/hs", "Bearer \xff\xfe\x80")
        for name, (route, value) in attacks.items():
            headers = (b"Authorization: " + value.encode("latin-1"),) if value else ()
            answers[name] = exchange(target.port, request("GET", route, *headers))
        w.answer = ", ".join(sorted({a.summary() for a in answers.values()}))
    for name, answer in answers.items():
        assert answer.status == 401, (name, answer.raw[:400])
        assert_problem(answer, 401)
        assert answer.headers["www-authenticate"].startswith("Bearer"), name
        assert b"alice" not in answer.body, name


# -- CSRF ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def csrf(target: Target) -> tuple[str, str]:
    """A token and its cookie, issued by a safe request."""
    issued = httpx.get(target.base + "/csrf/token")
    return issued.json()["token"], issued.cookies["csrf"]


def _transfer(target: Target, *headers: bytes) -> bytes:
    return request(
        "POST",
        "/csrf/transfer",
        b"Content-Type: application/x-www-form-urlencoded",
        *headers,
        body=b"amount=5",
    )


@settled
def test_csrf_attacks_are_403(target: Target, csrf: tuple[str, str]) -> None:
    token, cookie = csrf
    own = b"Origin: http://127.0.0.1"  # the request's own origin: its Host is 127.0.0.1
    with_cookie = b"Cookie: csrf=" + cookie.encode()
    with_token = b"X-CSRF-Token: " + token.encode()
    ok = exchange(target.port, _transfer(target, own, with_cookie, with_token))
    assert ok.status == 200, ok.raw[:400]
    assert ok.json() == {"moved": 5}
    other_token = httpx.get(target.base + "/csrf/token").json()["token"]
    attacks = {
        "no token, no cookie": (own,),
        "cookie only": (own, with_cookie),
        "token only": (own, with_token),
        "mismatched token": (own, with_cookie, b"X-CSRF-Token: " + other_token.encode()),
        "token forged from the cookie's nonce": (
            own,
            with_cookie,
            b"X-CSRF-Token: " + cookie.split(".")[0].encode() + b".AAAA",
        ),
        "cross-site Origin": (b"Origin: https://evil.example", with_cookie, with_token),
        "Origin null": (b"Origin: null", with_cookie, with_token),
        "cross-site Referer, no Origin": (
            b"Referer: https://evil.example/page",
            with_cookie,
            with_token,
        ),
        "Sec-Fetch-Site cross-site": (own, b"Sec-Fetch-Site: cross-site", with_cookie, with_token),
        "Origin on another port": (b"Origin: http://127.0.0.1:1", with_cookie, with_token),
    }
    with watched(target, f"{len(attacks)} CSRF attacks") as w:
        answers = {
            name: exchange(target.port, _transfer(target, *headers))
            for name, headers in attacks.items()
        }
        w.answer = ", ".join(sorted({a.summary() for a in answers.values()}))
    for name, answer in answers.items():
        assert answer.status == 403, (name, answer.raw[:400])
        assert_problem(answer, 403)
        assert b"moved" not in answer.body, name
