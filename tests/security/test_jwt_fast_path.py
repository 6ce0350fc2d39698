"""JWTAuth's remembered-token path: a token seen before is looked up by its raw
``Authorization`` value; what that lookup must never change (who is authenticated,
by which JWTAuth, with which scopes, Cache-Control: no-store)."""

import secrets
import time
from typing import Annotated, Any

import jwt
import pytest

from qake_core import App, HTTPException
from qake_security import JWTAuth, JWTAuthMiddleware, SimpleUser
from qakeapi import Depends, QakeAPI, Request, Security
from qakeapi.testing import TestClient

SECRET = secrets.token_bytes(32)
OTHER_SECRET = secrets.token_bytes(32)


def token(secret: bytes = SECRET, **claims: Any) -> str:
    now = int(time.time())
    payload = {"sub": "alice", "iat": now, "exp": now + 300, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def make_app(auth: JWTAuth, **options: Any) -> QakeAPI:
    app = QakeAPI(**options)

    @app.get("/me")
    async def me(request: Request, user: Annotated[SimpleUser, Depends(auth)]) -> dict[str, Any]:
        return {"sub": user.identity, "same": request.user is user, "roles": sorted(user.roles)}

    @app.get("/write")
    async def write(user: Annotated[SimpleUser, Security(auth, scopes=["items:write"])]) -> str:
        return user.identity

    return app


def call(client: TestClient, value: str | None, path: str = "/me") -> Any:
    headers = {} if value is None else {"Authorization": value}
    return client.get(path, headers=headers)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_a_remembered_token_answers_like_a_fresh_one(scheme: str) -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    value = f"{scheme} {token(roles=['admin'])}"
    with TestClient(make_app(auth)) as client:
        first, second, third = (call(client, value) for _ in range(3))
    expected = {"sub": "alice", "same": True, "roles": ["admin"]}
    assert first.json() == second.json() == third.json() == expected


def test_a_remembered_token_still_needs_the_required_scopes() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    reader = f"Bearer {token(scope='items:read')}"
    writer = f"Bearer {token(scope='items:read items:write')}"
    with TestClient(make_app(auth)) as client:
        for _ in range(2):  # verified, then remembered
            refused = call(client, reader, "/write")
            assert refused.status_code == 403
            assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
            assert call(client, reader).status_code == 200
            assert call(client, writer, "/write").json() == "alice"


def test_one_jwtauths_token_is_never_anothers() -> None:
    """The middleware of one JWTAuth verified (and remembered) the token: a dependency on
    another JWTAuth, with another key, still refuses it."""
    ours = JWTAuth(key=SECRET, algorithms=["HS256"])
    theirs = JWTAuth(key=OTHER_SECRET, algorithms=["HS256"])
    app = make_app(theirs)
    app.add_middleware(JWTAuthMiddleware, auth=ours)
    value = f"Bearer {token()}"
    with TestClient(app) as client:
        for _ in range(2):
            response = call(client, value)
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_the_first_bearer_authorization_line_counts() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    good = f"Bearer {token()}"
    with TestClient(make_app(auth)) as client:
        assert call(client, good).status_code == 200  # now remembered
        for _ in range(2):
            both = client.get(
                "/me", headers=[("authorization", "Basic YTpi"), ("authorization", good)]
            )
            assert both.json()["sub"] == "alice"
        assert call(client, "Basic YTpi").headers["www-authenticate"] == "Bearer"
        assert call(client, good.replace("Bearer ", "Bearer:")).status_code == 401
        assert call(client, None).status_code == 401


def test_a_token_signed_by_another_key_is_refused_even_after_a_good_one() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    good = token()
    header, payload, _ = good.split(".")
    forged = jwt.encode(jwt.decode(good, SECRET, algorithms=["HS256"]), OTHER_SECRET, "HS256")
    assert forged.split(".")[:2] == [header, payload]  # the same claims, another signature
    with TestClient(make_app(auth)) as client:
        assert call(client, f"Bearer {good}").status_code == 200
        for _ in range(2):
            assert call(client, f"Bearer {forged}").status_code == 401
        assert call(client, f"Bearer {good}").status_code == 200


def test_no_store_follows_each_app_and_its_options() -> None:
    """Two apps in one process, one with its own Cache-Control for authenticated users
    and one with none: each remembered-token answer carries its own app's."""
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    private = make_app(auth, security_headers={"cache_control_authenticated": "private"})
    default = make_app(auth)
    off = make_app(auth, security_headers={"cache_control_authenticated": None})
    value = f"Bearer {token()}"
    expected = {id(private): "private", id(default): "no-store", id(off): None}
    with TestClient(private) as a, TestClient(default) as b, TestClient(off) as c:
        for _ in range(2):
            for client, app in ((a, private), (b, default), (c, off), (a, private)):
                response = call(client, value)
                assert response.status_code == 200
                assert response.headers.get("cache-control") == expected[id(app)]
                assert "cache-control" not in call(client, None).headers  # the 401


def test_a_padded_header_is_remembered_by_its_token_only() -> None:
    """Whitespace around the token is allowed, but never becomes part of a cache key:
    one valid token must not fill the cache with long keys."""
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    value = token()
    with TestClient(make_app(auth)) as client:
        for padding in range(1, 6):
            padded = f"Bearer {' ' * 1000 * padding}{value}"
            assert call(client, padded).json()["sub"] == "alice"
        assert call(client, f"Bearer {value}").json()["sub"] == "alice"
    assert len(auth._cache) == 2  # the token itself, and the exact "Bearer <token>" bytes
    assert all(len(key) <= len(value) + 7 for key in auth._cache)


def test_no_store_follows_the_app_not_only_its_headers() -> None:
    """A mounted app without default headers of its own leaves its parent's in the
    scope: what the child does must not decide the parent's answers (an error answer
    is built from the scope's default headers, whatever the route runner)."""
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    outer = QakeAPI()
    inner = App()

    async def missing(user: Annotated[SimpleUser, Depends(auth)]) -> None:
        raise HTTPException(404, "no such thing")

    inner.get("/missing")(missing)
    outer.get("/missing")(missing)
    outer.mount("/inner", inner)
    value = f"Bearer {token()}"
    with TestClient(outer) as client:
        for _ in range(2):
            child = call(client, value, "/inner/missing")
            assert child.status_code == 404
            parent = call(client, value, "/missing")
            assert parent.status_code == 404
            assert parent.headers["cache-control"] == "no-store"


def test_no_store_when_middleware_and_dependency_both_authenticate() -> None:
    auth = JWTAuth(key=SECRET, algorithms=["HS256"])
    app = QakeAPI()
    app.add_middleware(JWTAuthMiddleware, auth=auth)

    @app.get("/missing")
    async def missing(user: Annotated[SimpleUser, Depends(auth)]) -> None:
        raise HTTPException(404, f"nothing for {user.identity}")

    value = f"Bearer {token()}"
    with TestClient(app) as client:
        for _ in range(3):
            response = call(client, value, "/missing")
            assert response.json()["detail"] == "nothing for alice"
            assert response.headers.get_list("cache-control") == ["no-store"]
        assert "cache-control" not in call(client, None, "/missing").headers
