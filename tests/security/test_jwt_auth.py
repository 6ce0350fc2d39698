"""JWTAuth: the attacks on JWT verification (RFC 8725) refused, RFC 6750 answers, and
the dependency, Security-scopes, middleware, cookie and login_as paths."""

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Annotated, Any

import anyio
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from qake_core import App, Depends, Request, Security
from qake_core.types import Message, Receive, Scope, Send
from qake_security import (
    ANONYMOUS,
    InvalidToken,
    JWKSKeys,
    JWTAuth,
    JWTAuthMiddleware,
    SimpleUser,
)
from qake_testing import TestClient

SECRET = secrets.token_bytes(32)
ISSUER = "https://issuer.example.com"
INVALID = 'Bearer error="invalid_token"'


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(
    header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]
) -> str:
    """A JWT built by hand, the way an attacker builds one."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def hs256(secret: bytes) -> Callable[[bytes], bytes]:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "alice", "iat": now, "exp": now + 300, **extra}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def make_app(auth: JWTAuth, middleware: bool = False, **options: Any) -> App:
    app = App()
    if middleware:
        app.add_middleware(JWTAuthMiddleware, auth=auth, **options)

    @app.get("/me")
    async def me(request: Request, user: Annotated[SimpleUser, Depends(auth)]) -> dict[str, Any]:
        return {
            "sub": user.identity,
            "roles": sorted(user.roles),
            "scopes": sorted(request.auth.scopes),
            "scheme": request.auth.scheme,
            "same_user": request.user is user,
        }

    @app.get("/write")
    async def write(user: Annotated[SimpleUser, Security(auth, scopes=["items:write"])]) -> str:
        return user.identity

    @app.get("/who")
    async def who(request: Request) -> dict[str, Any]:
        return {"sub": request.user.identity, "auth": request.auth is not None}

    app.login_provider = auth  # type: ignore[attr-defined]
    return app


def get(app: App, token: str | None = None, path: str = "/me", **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    with TestClient(app) as client:
        return client.get(path, headers=headers, **kwargs)


def assert_invalid(response: Any) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == INVALID
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "Could not validate credentials"


@pytest.fixture
def hs_auth() -> JWTAuth:
    return JWTAuth(key=SECRET, algorithms=["HS256"], issuer=ISSUER, audience="api")


def good(**extra: Any) -> dict[str, Any]:
    return claims(**{"iss": ISSUER, "aud": "api", **extra})


# -- the answers of RFC 6750 ----------------------------------------------------------


def test_a_valid_token_authenticates(hs_auth: JWTAuth) -> None:
    token = raw_token(
        {"alg": "HS256", "typ": "JWT"}, good(roles=["admin"], scope="a b"), hs256(SECRET)
    )
    response = get(make_app(hs_auth), token)
    assert response.status_code == 200
    assert response.json() == {
        "sub": "alice",
        "roles": ["admin"],
        "scopes": ["a", "b"],
        "scheme": "bearer",
        "same_user": True,
    }


def test_missing_token_answers_bearer_without_error(hs_auth: JWTAuth) -> None:
    response = get(make_app(hs_auth))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "Not authenticated"


def test_another_scheme_is_not_a_bearer_token(hs_auth: JWTAuth) -> None:
    with TestClient(make_app(hs_auth)) as client:
        response = client.get("/me", headers={"Authorization": "Basic YTpi"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "x" * 9000, "eyJhbGciOiJIUzI1NiJ9..", ".....", "a.b.c.d.e"],
)
def test_malformed_tokens_are_401_never_500(hs_auth: JWTAuth, token: str) -> None:
    assert_invalid(get(make_app(hs_auth), token))


def test_non_ascii_bytes_in_the_header_are_401(hs_auth: JWTAuth) -> None:
    with TestClient(make_app(hs_auth)) as client:
        response = client.get("/me", headers={b"authorization": "Bearer ä.ö.ü".encode()})
    assert_invalid(response)


def test_the_detail_never_says_which_check_failed(hs_auth: JWTAuth) -> None:
    expired = raw_token({"alg": "HS256"}, good(exp=int(time.time()) - 3600), hs256(SECRET))
    bad_sig = raw_token({"alg": "HS256"}, good(), hs256(secrets.token_bytes(32)))
    bodies = {get(make_app(hs_auth), t).text for t in (expired, bad_sig, "garbage")}
    assert len(bodies) == 1
    assert "expire" not in bodies.pop().lower()


# -- algorithms ---------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
def test_alg_none_is_refused(hs_auth: JWTAuth, alg: str) -> None:
    token = raw_token({"alg": alg, "typ": "JWT"}, good(), lambda _: b"")
    assert_invalid(get(make_app(hs_auth), token))
    assert_invalid(get(make_app(hs_auth), token.rstrip(".") + "."))


def test_none_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="'none' is never accepted"):
        JWTAuth(key=SECRET, algorithms=["none"])


def test_hs256_signed_with_the_rsa_public_key_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    """The key-confusion attack: the public PEM used as an HMAC secret."""
    pem = public_pem(rsa_key)
    auth = JWTAuth(key=pem, algorithms=["RS256"])
    forged = raw_token({"alg": "HS256", "typ": "JWT"}, claims(), hs256(pem))
    assert_invalid(get(make_app(auth), forged))
    genuine = jwt.encode(claims(), rsa_key, algorithm="RS256")
    assert get(make_app(auth), genuine).status_code == 200


def test_a_public_key_is_never_an_hmac_secret(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="never an RSA/EC key"):
        JWTAuth(key=public_pem(rsa_key), algorithms=["HS256"])


def test_one_key_never_mixes_families(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="mix key families"):
        JWTAuth(key=public_pem(rsa_key), algorithms=["RS256", "HS256"])


def test_algorithms_are_required() -> None:
    with pytest.raises(TypeError, match="never taken from the token"):
        JWTAuth(key=SECRET)


def test_an_allowed_algorithm_of_another_strength_is_refused(hs_auth: JWTAuth) -> None:
    secret = SECRET * 2
    auth = JWTAuth(key=secret, algorithms=["HS256"])
    token = jwt.encode(claims(), secret, algorithm="HS512")
    assert_invalid(get(make_app(auth), token))


# -- claims ---------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["exp", "iat"])
def test_exp_and_iat_are_required(hs_auth: JWTAuth, missing: str) -> None:
    payload = good()
    del payload[missing]
    assert_invalid(get(make_app(hs_auth), raw_token({"alg": "HS256"}, payload, hs256(SECRET))))


def test_require_can_be_relaxed_explicitly() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"], require=("exp",))
    payload = claims()
    del payload["iat"]
    assert (
        get(make_app(auth), raw_token({"alg": "HS256"}, payload, hs256(SECRET))).status_code == 200
    )


def test_a_token_without_sub_is_refused(hs_auth: JWTAuth) -> None:
    payload = good()
    del payload["sub"]
    assert_invalid(get(make_app(hs_auth), raw_token({"alg": "HS256"}, payload, hs256(SECRET))))


@pytest.mark.parametrize(
    "iss",
    [
        "https://issuer.example",  # a prefix
        "issuer.example.com",  # a substring
        "https://issuer.example.com.evil",  # the expected one as a prefix
        "https://issuer.example.co",
        "",
        ["https://issuer.example.com"],
        None,
    ],
)
def test_the_issuer_must_match_exactly(hs_auth: JWTAuth, iss: Any) -> None:
    payload = good(iss=iss)
    if iss is None:
        del payload["iss"]
    assert_invalid(get(make_app(hs_auth), raw_token({"alg": "HS256"}, payload, hs256(SECRET))))


def test_one_of_several_issuers() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"], issuer=[ISSUER, "https://b.example"])
    ok = raw_token({"alg": "HS256"}, claims(iss="https://b.example"), hs256(SECRET))
    assert get(make_app(auth), ok).status_code == 200
    bad = raw_token({"alg": "HS256"}, claims(iss="https://b.exampl"), hs256(SECRET))
    assert_invalid(get(make_app(auth), bad))


@pytest.mark.parametrize("aud", ["ap", "api2", "other", ["other"], None])
def test_the_audience_must_match(hs_auth: JWTAuth, aud: Any) -> None:
    payload = good(aud=aud)
    if aud is None:
        del payload["aud"]
    assert_invalid(get(make_app(hs_auth), raw_token({"alg": "HS256"}, payload, hs256(SECRET))))


def test_an_audience_list_containing_ours(hs_auth: JWTAuth) -> None:
    token = raw_token({"alg": "HS256"}, good(aud=["other", "api"]), hs256(SECRET))
    assert get(make_app(hs_auth), token).status_code == 200


def test_an_audience_the_app_does_not_expect_is_refused() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    assert_invalid(get(make_app(auth), raw_token({"alg": "HS256"}, claims(aud="x"), hs256(SECRET))))


@pytest.mark.parametrize("crit", [["exp"], ["b64"], ["x-custom"], [], "exp"])
def test_a_crit_header_is_refused(hs_auth: JWTAuth, crit: Any) -> None:
    token = raw_token({"alg": "HS256", "crit": crit, "x-custom": 1}, good(), hs256(SECRET))
    assert_invalid(get(make_app(hs_auth), token))


def test_expiry_inside_the_leeway_is_accepted(hs_auth: JWTAuth) -> None:
    token = raw_token({"alg": "HS256"}, good(exp=int(time.time()) - 10), hs256(SECRET))
    assert get(make_app(hs_auth), token).status_code == 200


def test_expiry_outside_the_leeway_is_refused(hs_auth: JWTAuth) -> None:
    token = raw_token({"alg": "HS256"}, good(exp=int(time.time()) - 45), hs256(SECRET))
    assert_invalid(get(make_app(hs_auth), token))


def test_not_before_and_future_iat_are_refused(hs_auth: JWTAuth) -> None:
    later = int(time.time()) + 120
    for payload in (good(nbf=later), good(iat=later)):
        assert_invalid(get(make_app(hs_auth), raw_token({"alg": "HS256"}, payload, hs256(SECRET))))


def test_a_remembered_token_still_expires() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"], leeway=0)
    token = raw_token({"alg": "HS256"}, claims(exp=int(time.time()) + 2), hs256(SECRET))
    app = make_app(auth)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/me", headers=headers).status_code == 200
        assert client.get("/me", headers=headers).status_code == 200  # from the cache
        time.sleep(max(0.0, int(time.time()) + 2 - time.time()) + 1.05)
        assert_invalid(client.get("/me", headers=headers))


def test_the_cache_is_bounded() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"], cache_size=3)
    tokens = [raw_token({"alg": "HS256"}, claims(n=i), hs256(SECRET)) for i in range(10)]
    for token in tokens:
        assert auth.verify(token).user.identity == "alice"
    assert len(auth._cache) == 3


@pytest.mark.parametrize("roles", ["admin", ["admin"]])
def test_roles_from_a_list_or_a_string(hs_auth: JWTAuth, roles: Any) -> None:
    token = raw_token({"alg": "HS256"}, good(roles=roles), hs256(SECRET))
    assert get(make_app(hs_auth), token).json()["roles"] == ["admin"]


@pytest.mark.parametrize(
    "bad", [{"roles": [1]}, {"roles": {"a": 1}}, {"scope": 5}, {"scp": [None]}]
)
def test_malformed_roles_or_scopes_are_refused(hs_auth: JWTAuth, bad: dict[str, Any]) -> None:
    assert_invalid(get(make_app(hs_auth), raw_token({"alg": "HS256"}, good(**bad), hs256(SECRET))))


# -- keys -----------------------------------------------------------------------------------


def test_short_hmac_keys_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match=r"at least 32 bytes .*secrets.token_bytes\(32\)"):
        JWTAuth(key="secret", algorithms=["HS256"])
    with pytest.raises(ValueError, match="at least 48 bytes"):
        JWTAuth(key=secrets.token_bytes(32), algorithms=["HS384"])
    with pytest.raises(ValueError, match="at least 64 bytes"):
        JWTAuth(key=secrets.token_bytes(48), algorithms=["HS512"])
    JWTAuth(key=secrets.token_bytes(64), algorithms=["HS512"])


def test_rsa_1024_is_refused() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="1024 bits; at least 2048"):
        JWTAuth(key=weak, algorithms=["RS256"])
    with pytest.raises(ValueError, match="1024 bits"):
        JWTAuth(key=public_pem(weak), algorithms=["RS256"])


def test_an_ec_key_must_be_on_the_algorithms_curve() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(ValueError, match="secp256r1"):
        JWTAuth(key=key, algorithms=["ES256"])
    auth = JWTAuth(key=key, algorithms=["ES384"])
    assert get(make_app(auth), auth.create_token("carol")).json()["sub"] == "carol"


def test_a_kid_not_preloaded_is_refused() -> None:
    other = secrets.token_bytes(32)
    auth = JWTAuth(keys={"k1": SECRET, "k2": other}, algorithms=["HS256"])
    app = make_app(auth)
    assert (
        get(app, raw_token({"alg": "HS256", "kid": "k2"}, claims(), hs256(other))).status_code
        == 200
    )
    unknown = secrets.token_bytes(32)
    assert_invalid(get(app, raw_token({"alg": "HS256", "kid": "k3"}, claims(), hs256(unknown))))
    # the kid selects the key: another key's signature under "k1" fails
    assert_invalid(get(app, raw_token({"alg": "HS256", "kid": "k1"}, claims(), hs256(other))))
    assert_invalid(get(app, raw_token({"alg": "HS256"}, claims(), hs256(SECRET))))
    assert_invalid(get(app, raw_token({"alg": "HS256", "kid": ["k1"]}, claims(), hs256(SECRET))))


def test_jku_x5u_and_jwk_headers_are_ignored(rsa_key: rsa.RSAPrivateKey) -> None:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacker_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
    auth = JWTAuth(key=rsa_key.public_key(), algorithms=["RS256"])
    headers = {
        "jku": "https://evil.example/jwks",
        "x5u": "https://evil.example/c",
        "jwk": attacker_jwk,
    }
    forged = jwt.encode(claims(), attacker, algorithm="RS256", headers=headers)
    assert_invalid(get(make_app(auth), forged))
    genuine = jwt.encode(claims(), rsa_key, algorithm="RS256", headers=headers)
    assert get(make_app(auth), genuine).status_code == 200


def jwk_of(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**data, "kid": kid, "alg": "RS256", "use": "sig"}


def test_jwks_keys_load_refresh_and_never_fetch_for_an_unknown_kid(
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    second = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    documents = [{"keys": [jwk_of(rsa_key, "a")]}, {"keys": [jwk_of(second, "b")]}]
    loads: list[int] = []

    async def loader() -> dict[str, Any]:
        loads.append(1)
        return documents[min(len(loads), 2) - 1]

    jwks = JWKSKeys(loader, algorithms=["RS256"])
    auth = JWTAuth(keys=jwks)
    app = make_app(auth)
    token_a = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "a"})
    token_b = jwt.encode(claims(), second, algorithm="RS256", headers={"kid": "b"})
    assert_invalid(get(app, token_a))  # nothing loaded yet
    anyio.run(jwks.refresh)
    assert jwks.kids == {"a"}
    with TestClient(app) as client:
        assert client.get("/me", headers={"Authorization": f"Bearer {token_a}"}).status_code == 200
        assert_invalid(client.get("/me", headers={"Authorization": f"Bearer {token_b}"}))
        assert loads == [1]  # the unknown kid fetched nothing
        anyio.run(jwks.refresh)  # the provider rotated its key
        assert_invalid(client.get("/me", headers={"Authorization": f"Bearer {token_a}"}))
        assert client.get("/me", headers={"Authorization": f"Bearer {token_b}"}).status_code == 200


def test_jwks_skips_weak_foreign_and_unusable_keys(caplog: pytest.LogCaptureFixture) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    good_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    secret_jwk = {"kty": "oct", "k": b64(b"s" * 8), "kid": "short", "alg": "HS256"}
    document = {
        "keys": [
            jwk_of(weak, "weak"),
            {**jwk_of(good_key, "enc"), "use": "enc"},
            {**jwk_of(good_key, "ps"), "alg": "PS256"},
            {"kid": "broken", "kty": "RSA"},
            secret_jwk,
            "not a key",
            jwk_of(good_key, "ok"),
        ]
    }
    jwks = JWKSKeys(algorithms=["RS256", "HS256"], document=document)
    assert jwks.kids == {"ok"}
    assert b64(b"s" * 8) not in caplog.text


def test_jwks_running_loads_and_refreshes() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    calls: list[int] = []

    def loader() -> dict[str, Any]:
        calls.append(1)
        return {"keys": [jwk_of(key, f"k{len(calls)}")]}

    jwks = JWKSKeys(loader, algorithms=["RS256"])

    async def main() -> None:
        async with jwks.running(interval=0.05):
            assert jwks.kids == {"k1"}
            await anyio.sleep(0.2)
        assert len(calls) >= 3

    anyio.run(main)
    assert jwks.kids != {"k1"}


def test_keys_as_jwk_dicts_with_their_own_algorithms(rsa_key: rsa.RSAPrivateKey) -> None:
    auth = JWTAuth(
        keys={"rsa": jwk_of(rsa_key, "rsa"), "hs": {"kty": "oct", "k": b64(SECRET), "alg": "HS256"}}
    )
    app = make_app(auth)
    rs_token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "rsa"})
    assert get(app, rs_token).status_code == 200
    hs_token = raw_token({"alg": "HS256", "kid": "hs"}, claims(), hs256(SECRET))
    assert get(app, hs_token).status_code == 200
    # the HMAC key never verifies an RS256 token, nor the RSA key an HS256 one
    assert_invalid(
        get(app, jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "hs"}))
    )
    confused = raw_token({"alg": "HS256", "kid": "rsa"}, claims(), hs256(public_pem(rsa_key)))
    assert_invalid(get(app, confused))


def test_key_material_never_appears_in_errors_or_reprs() -> None:
    secret = "k" * 20
    with pytest.raises(ValueError) as info:
        JWTAuth(key=secret, algorithms=["HS256"])
    assert secret not in str(info.value)
    jwk = {"kty": "oct", "k": b64(b"q" * 40)}
    with pytest.raises(ValueError) as info:
        JWTAuth(keys={"x": {**jwk, "alg": "XX"}})
    assert jwk["k"] not in str(info.value)
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    assert SECRET.hex() not in repr(auth)
    assert repr(SECRET) not in repr(auth._keys.get(None))
    token = auth.create_token("alice")
    assert token not in repr(auth.login_credentials("alice", []))


# -- where the token comes from ------------------------------------------------------------


def test_the_cookie_is_opt_in() -> None:
    token = raw_token({"alg": "HS256"}, claims(), hs256(SECRET))
    plain = JWTAuth(key=SECRET, algorithms=["HS256"])
    with TestClient(make_app(plain), cookies={"access_token": token}) as client:
        assert client.get("/me").headers["www-authenticate"] == "Bearer"
    cookie = JWTAuth(key=SECRET, algorithms=["HS256"], cookie="access_token")
    with TestClient(make_app(cookie), cookies={"access_token": token}) as client:
        assert client.get("/me").json()["sub"] == "alice"
    with TestClient(make_app(cookie), cookies={"access_token": "bad"}) as client:
        assert_invalid(client.get("/me"))


def test_login_as_gives_a_working_token() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"], issuer=ISSUER, audience="api")
    with TestClient(make_app(auth)) as client:
        client.login_as("bob", roles=["editor"])
        assert client.get("/me").json()["roles"] == ["editor"]
        assert client.get("/me").json()["sub"] == "bob"


def test_login_as_with_the_cookie() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"], cookie="jwt")
    credentials = auth.login_credentials("bob", ["r"])
    assert set(credentials.cookies) == {"jwt"}
    with TestClient(make_app(auth), cookies=dict(credentials.cookies)) as client:
        assert client.get("/me").json()["sub"] == "bob"


# -- dependency, scopes, middleware ---------------------------------------------------------


def test_scopes_missing_answer_403_insufficient_scope(hs_auth: JWTAuth) -> None:
    token = raw_token({"alg": "HS256"}, good(scope="items:read"), hs256(SECRET))
    response = get(make_app(hs_auth), token, path="/write")
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="items:write"'
    )
    for scopes in ({"scope": "items:read items:write"}, {"scp": ["items:write"]}):
        token = raw_token({"alg": "HS256"}, good(**scopes), hs256(SECRET))
        assert get(make_app(hs_auth), token, path="/write").json() == "alice"


def test_auto_error_false_yields_none() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"], auto_error=False)
    app = App()

    @app.get("/maybe")
    async def maybe(user: Annotated[SimpleUser | None, Depends(auth)]) -> str | None:
        return None if user is None else user.identity

    assert get(app, path="/maybe").json() is None
    assert get(app, "garbage", path="/maybe").json() is None
    token = raw_token({"alg": "HS256"}, claims(), hs256(SECRET))
    assert get(app, token, path="/maybe").json() == "alice"


def test_middleware_sets_the_user_or_anonymous() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    app = make_app(auth, middleware=True)
    assert get(app, path="/who").json() == {"sub": "", "auth": False}
    token = raw_token({"alg": "HS256"}, claims(), hs256(SECRET))
    assert get(app, token, path="/who").json() == {"sub": "alice", "auth": True}
    assert get(app, token).json()["same_user"] is True
    assert_invalid(get(app, "garbage", path="/who"))


def test_middleware_can_let_invalid_tokens_through_as_anonymous() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    app = make_app(auth, middleware=True, reject_invalid=False)
    assert get(app, "garbage", path="/who").json() == {"sub": "", "auth": False}
    assert_invalid(get(app, "garbage"))  # the dependency still refuses it


def test_the_middleware_property_binds_the_auth() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    app = App()
    app.add_middleware(auth.middleware)
    seen: list[Any] = []

    @app.get("/")
    async def index(request: Request) -> None:
        seen.append(request.user)

    get(app, path="/")
    assert seen == [ANONYMOUS]


def test_verify_raises_invalid_token_for_direct_use() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    with pytest.raises(InvalidToken):
        auth.verify("garbage")
    assert auth.verify(auth.create_token("dave")).user.identity == "dave"


def test_security_scheme_for_openapi() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    assert auth.security_scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert auth.scheme_name == "JWTAuth"


# -- issuing --------------------------------------------------------------------------------


def test_create_token_sets_the_registered_claims(hs_auth: JWTAuth) -> None:
    token = hs_auth.create_token("erin", {"roles": ["a"]}, expires_in=60)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], audience="api", issuer=ISSUER)
    assert payload["sub"] == "erin"
    assert payload["exp"] - payload["iat"] == 60
    assert payload["nbf"] == payload["iat"]
    assert len(payload["jti"]) >= 16
    assert hs_auth.create_token("erin") != hs_auth.create_token("erin")  # distinct jti
    with pytest.raises(ValueError, match="set by create_token"):
        hs_auth.create_token("erin", {"exp": 1})


def test_create_token_needs_a_signing_key(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(RuntimeError, match="no key can sign"):
        JWTAuth(key=public_pem(rsa_key), algorithms=["RS256"]).create_token("x")
    auth = JWTAuth(keys={"main": rsa_key}, algorithms=["RS256"])
    token = auth.create_token("x")
    assert jwt.get_unverified_header(token)["kid"] == "main"
    assert auth.verify(token).user.identity == "x"


def test_an_exp_too_large_for_a_float_is_401(hs_auth: JWTAuth) -> None:
    token = raw_token({"alg": "HS256"}, good(exp=10**400), hs256(SECRET))
    assert_invalid(get(make_app(hs_auth), token))


def test_a_failed_jwks_refresh_keeps_the_old_keys(
    rsa_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def loader() -> dict[str, Any]:
        calls.append(1)
        if len(calls) > 1:
            raise OSError("identity provider down")
        return {"keys": [jwk_of(rsa_key, "a")]}

    jwks = JWKSKeys(loader, algorithms=["RS256"])

    async def main() -> None:
        async with jwks.running(interval=0.02):
            await anyio.sleep(0.1)

    anyio.run(main)
    assert len(calls) >= 2
    assert jwks.kids == {"a"}
    assert "refresh failed" in caplog.text
    with pytest.raises(ValueError, match="'keys' list"):
        jwks.load({"keys": "nope"})


def test_requires_a_role_behind_the_middleware() -> None:
    from qake_security import requires

    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    app = App()
    app.add_middleware(auth.middleware)

    @app.get("/admin", dependencies=[Depends(requires("admin"))])
    async def admin(request: Request) -> str:
        return str(request.user.identity)

    @app.get("/guarded")
    async def guarded(user: Annotated[Any, Depends(requires("admin", auth=auth))]) -> str:
        return str(user.identity)

    admin_token = auth.create_token("root", {"roles": ["admin"]})
    user_token = auth.create_token("joe", {"roles": ["user"]})
    for path in ("/admin", "/guarded"):
        assert get(app, path=path).status_code == 401
        assert get(app, path=path).headers["www-authenticate"] == "Bearer"
        assert get(app, user_token, path=path).status_code == 403
        assert get(app, admin_token, path=path).json() == "root"


def websocket_exchange(auth: JWTAuth, token: str | None) -> list[dict[str, Any]]:
    """Drive the middleware with a WebSocket handshake; return what it sent."""
    seen: list[Any] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["user"])
        await receive()
        await send({"type": "websocket.accept"})

    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    scope: Scope = {"type": "websocket", "path": "/ws", "headers": headers}
    sent: list[dict[str, Any]] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(dict(message))

    anyio.run(JWTAuthMiddleware(inner, auth=auth), scope, receive, send)
    return [*sent, *({"user": user.identity} for user in seen)]


def test_the_middleware_guards_websocket_handshakes() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    assert websocket_exchange(auth, None) == [{"type": "websocket.accept"}, {"user": ""}]
    assert websocket_exchange(auth, auth.create_token("ws")) == [
        {"type": "websocket.accept"},
        {"user": "ws"},
    ]
    assert websocket_exchange(auth, "garbage") == [
        {"type": "websocket.close", "code": 1008, "reason": ""}
    ]


def test_lifespan_scopes_pass_through() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    with TestClient(make_app(auth, middleware=True)) as client:
        assert client.get("/who").json() == {"sub": "", "auth": False}
