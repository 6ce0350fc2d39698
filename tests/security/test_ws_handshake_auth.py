"""qake-security at the WebSocket handshake: its dependencies, middleware and guards
authenticate a WebSocket route as they do an HTTP one (a bearer header, a session
cookie, a query token for browsers), and a refusal denies the handshake with the HTTP
answer an HTTP route would give (qake-testing's sessions have the
``websocket.http.response`` extension), on asyncio and trio."""

import base64
import hashlib
import secrets
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from backends import every_backend  # noqa: F401 - the fixture

from qakeapi import (
    Depends,
    HandlerSignatureError,
    HTTPConnection,
    MemoryStore,
    QakeAPI,
    Request,
    Router,
    Security,
    WebSocket,
)
from qakeapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HasRole,
    HasScope,
    HTTPBasic,
    HTTPBearer,
    HTTPDigest,
    JWTAuth,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    Permission,
    RateLimit,
    SessionAuth,
    SessionAuthMiddleware,
    SessionMiddleware,
    SimpleUser,
    by_api_key,
    by_client,
    by_user,
    login,
    requires,
)
from qakeapi.testing import TestClient, WebSocketRejected

# Every TestClient made without naming a backend runs the app on asyncio, then trio.
pytestmark = pytest.mark.usefixtures("every_backend")

SECRET = secrets.token_bytes(32)
BASE = "https://testserver"
EVIL = "https://evil.example"
INVALID = 'Bearer error="invalid_token"'


def new_jwt(**options: Any) -> JWTAuth:
    return JWTAuth(key=SECRET, algorithms=["HS256"], **options)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def refusal(
    client: TestClient, path: str, headers: dict[str, str] | None = None
) -> WebSocketRejected:
    """The denial of a handshake that must be refused."""
    with pytest.raises(WebSocketRejected) as info, client.websocket_connect(path, headers=headers):
        pass
    return info.value


def assert_problem(denied: WebSocketRejected, status: int) -> None:
    assert denied.status_code == status
    assert denied.headers["content-type"] == "application/problem+json"


def jwt_app(auth: JWTAuth) -> tuple[QakeAPI, list[str]]:
    """``/ws`` greets the token's user; ``/me`` (HTTP) answers who it is."""
    app = QakeAPI()
    ran: list[str] = []

    @app.websocket("/ws")
    async def greet(ws: WebSocket, user: Annotated[SimpleUser, Depends(auth)]) -> None:
        ran.append(user.identity)
        await ws.accept()
        await ws.send_json({"user": user.identity, "same": ws.user is user})

    @app.get("/me")
    async def me(user: Annotated[SimpleUser, Depends(auth)]) -> dict[str, str]:
        return {"user": user.identity}

    return app, ran


# -- bearer tokens in the Authorization header ----------------------------------------


def test_a_bearer_token_authenticates_the_handshake() -> None:
    auth = new_jwt()
    app, ran = jwt_app(auth)
    with (
        TestClient(app) as client,
        client.websocket_connect("/ws", headers=bearer(auth.create_token("alice"))) as ws,
    ):
        # The dependency's user, also set on the connection (ws.user) for later code.
        assert ws.receive_json() == {"user": "alice", "same": True}
    assert ran == ["alice"]


def test_no_token_denies_the_handshake_with_401_and_a_bearer_challenge() -> None:
    app, ran = jwt_app(new_jwt())
    with TestClient(app) as client:
        denied = refusal(client, "/ws")
    assert_problem(denied, 401)
    assert denied.headers["www-authenticate"] == "Bearer"
    assert b"Not authenticated" in denied.body
    assert ran == []


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        JWTAuth(key=secrets.token_bytes(32), algorithms=["HS256"]).create_token("mallory"),
        "x" * 9000,  # longer than any token: refused before decoding
    ],
    ids=["garbage", "other-key", "too-long"],
)
def test_a_bad_token_denies_the_handshake_with_401_invalid_token(token: str) -> None:
    app, ran = jwt_app(new_jwt())
    with TestClient(app) as client:
        denied = refusal(client, "/ws", bearer(token))
    assert_problem(denied, 401)
    assert denied.headers["www-authenticate"] == INVALID
    assert ran == []


def test_an_expired_token_denies_the_handshake() -> None:
    auth = new_jwt(leeway=0)
    app, ran = jwt_app(auth)
    with TestClient(app) as client:
        denied = refusal(client, "/ws", bearer(auth.create_token("alice", expires_in=-10)))
    assert_problem(denied, 401)
    assert denied.headers["www-authenticate"] == INVALID
    assert ran == []


def test_security_scopes_on_a_websocket_route() -> None:
    auth = new_jwt()
    app = QakeAPI()

    @app.websocket("/feed")
    async def feed(ws: WebSocket, user: Any = Security(auth, scopes=["feed:read"])) -> None:
        await ws.accept()
        await ws.send_text(user.identity)

    with TestClient(app) as client:
        reader = auth.create_token("reader", {"scope": "feed:read other"})
        with client.websocket_connect("/feed", headers=bearer(reader)) as ws:
            assert ws.receive_text() == "reader"
        denied = refusal(client, "/feed", bearer(auth.create_token("nosy", {"scope": "other"})))
        assert_problem(denied, 403)
        assert denied.headers["www-authenticate"] == (
            'Bearer error="insufficient_scope", scope="feed:read"'
        )
        assert_problem(refusal(client, "/feed"), 401)


def test_auto_error_false_lets_an_anonymous_handshake_through() -> None:
    auth = new_jwt(auto_error=False)
    app = QakeAPI()

    @app.websocket("/maybe")
    async def maybe(ws: WebSocket, user: Annotated[SimpleUser | None, Depends(auth)]) -> None:
        await ws.accept()
        await ws.send_json(None if user is None else user.identity)

    with TestClient(app) as client:
        with client.websocket_connect("/maybe") as ws:
            assert ws.receive_json() is None
        with client.websocket_connect("/maybe", headers=bearer(auth.create_token("bo"))) as ws:
            assert ws.receive_json() == "bo"


# -- a token in the query, for browsers (WebSocket handshakes only) ------------------


def test_the_query_token_authenticates_a_websocket_and_never_an_http_request() -> None:
    auth = new_jwt(websocket_query_param="access_token")
    app, ran = jwt_app(auth)
    token = auth.create_token("browser")
    with TestClient(app) as client:
        with client.websocket_connect(f"/ws?access_token={token}") as ws:
            assert ws.receive_json() == {"user": "browser", "same": True}
        # The same token in an HTTP URL is not read (URLs end up in logs and Referer).
        response = client.get("/me", params={"access_token": token})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert client.get("/me", headers=bearer(token)).json() == {"user": "browser"}
        # Another parameter name, an empty value or a bad token: no user.
        assert_problem(refusal(client, f"/ws?token={token}"), 401)
        assert_problem(refusal(client, "/ws?access_token="), 401)
        denied = refusal(client, "/ws?access_token=forged.token.here")
        assert denied.headers["www-authenticate"] == INVALID
    assert ran == ["browser"]


def test_the_query_token_is_off_by_default() -> None:
    auth = new_jwt()
    app, ran = jwt_app(auth)
    with TestClient(app) as client:
        denied = refusal(client, f"/ws?access_token={auth.create_token('browser')}")
    assert_problem(denied, 401)
    assert ran == []


def test_the_query_token_is_percent_decoded_and_the_header_comes_first() -> None:
    auth = new_jwt(websocket_query_param="t")
    app, _ = jwt_app(auth)
    token = auth.create_token("q")
    with TestClient(app) as client:
        encoded = token.replace(".", "%2E")
        with client.websocket_connect(f"/ws?x=1&t={encoded}&t=ignored") as ws:
            assert ws.receive_json()["user"] == "q"
        header_token = auth.create_token("h")
        with client.websocket_connect(f"/ws?t={token}", headers=bearer(header_token)) as ws:
            assert ws.receive_json()["user"] == "h"


@pytest.mark.parametrize("name", ["", "access token", "tok&en", "a=b", "é", "x" * 65, True, 3])
def test_a_bad_query_parameter_name_fails_at_startup_naming_the_fix(name: Any) -> None:
    with pytest.raises(ValueError, match=r"websocket_query_param='access_token'"):
        new_jwt(websocket_query_param=name)


# -- cookies: a session, or a JWT in a cookie ------------------------------------------


def session_app() -> QakeAPI:
    app = QakeAPI()

    @app.post("/login/{user}")
    async def do_login(request: Request, user: str) -> dict[str, str]:
        login(request, user, roles=["admin"] if user == "root" else [])
        return {"ok": user}

    @app.websocket("/ws")
    async def chat(ws: WebSocket, user: Annotated[SimpleUser, Depends(SessionAuth())]) -> None:
        await ws.accept()
        await ws.send_json(
            {
                "user": user.identity,
                "roles": sorted(user.roles),
                "scheme": ws.auth.scheme,
                "session": ws.session["_auth_user_id"],
            }
        )

    app.add_middleware(SessionMiddleware, secret_keys=["k" * 32])
    return app


def test_a_session_cookie_login_then_websocket_connect() -> None:
    with TestClient(session_app(), base_url=BASE) as client:
        assert_problem(refusal(client, "/ws"), 401)
        assert refusal(client, "/ws").headers["www-authenticate"] == "Session"
        assert client.post("/login/root").json() == {"ok": "root"}
        with client.websocket_connect("/ws", headers={"origin": BASE}) as ws:
            assert ws.receive_json() == {
                "user": "root",
                "roles": ["admin"],
                "scheme": "session",
                "session": "root",
            }


def test_a_cross_site_page_cannot_ride_the_session_cookie() -> None:
    with TestClient(session_app(), base_url=BASE) as client:
        client.post("/login/root")
        denied = refusal(client, "/ws", {"origin": EVIL})
    assert_problem(denied, 403)


def test_a_jwt_in_a_cookie_authenticates_and_cross_site_is_refused() -> None:
    auth = new_jwt(cookie="token")
    app, ran = jwt_app(auth)
    with TestClient(app, base_url=BASE) as client:
        client.cookies.set("token", auth.create_token("cookie-user"), domain="testserver.local")
        with client.websocket_connect("/ws", headers={"origin": BASE}) as ws:
            assert ws.receive_json()["user"] == "cookie-user"
        assert_problem(refusal(client, "/ws", {"origin": EVIL}), 403)
    assert ran == ["cookie-user"]


def test_a_session_store_outage_denies_the_handshake_with_503() -> None:
    class Down(MemoryStore):
        async def get(self, key: str) -> bytes | None:
            raise ConnectionError("down")

    app = QakeAPI()

    @app.websocket("/ws")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()

    app.add_middleware(SessionMiddleware, secret_keys=["k" * 32], store=Down())
    with TestClient(app, base_url=BASE) as client:
        client.cookies.set("__Host-session", "A" * 43, domain="testserver.local")
        assert_problem(refusal(client, "/ws"), 503)


# -- middleware: scope["user"] / ["auth"] / ["session"] on websocket scopes ----------


def whoami_app() -> QakeAPI:
    app = QakeAPI()

    @app.websocket("/whoami")
    async def whoami(ws: WebSocket) -> None:
        await ws.accept()
        auth = ws.auth
        await ws.send_json(
            {
                "user": ws.user.identity,
                "authenticated": ws.user.is_authenticated,
                "scheme": None if auth is None else auth.scheme,
                "scopes": None if auth is None else sorted(auth.scopes),
            }
        )

    return app


def test_the_jwt_middleware_sets_the_user_on_websocket_scopes() -> None:
    auth = new_jwt(websocket_query_param="access_token")
    app = whoami_app()
    app.add_middleware(auth.middleware)
    token = auth.create_token("mw", {"scope": "a b"})
    with TestClient(app) as client:
        for headers, path in (({}, f"/whoami?access_token={token}"), (bearer(token), "/whoami")):
            with client.websocket_connect(path, headers=headers) as ws:
                assert ws.receive_json() == {
                    "user": "mw",
                    "authenticated": True,
                    "scheme": "bearer",
                    "scopes": ["a", "b"],
                }
        with client.websocket_connect("/whoami") as ws:
            assert ws.receive_json() == {
                "user": "",
                "authenticated": False,
                "scheme": None,
                "scopes": None,
            }
        # A bad token is told, not ignored: 401 with the RFC 6750 challenge.
        denied = refusal(client, "/whoami", bearer("forged"))
        assert_problem(denied, 401)
        assert denied.headers["www-authenticate"] == INVALID


def test_the_session_middlewares_set_user_and_session_on_websocket_scopes() -> None:
    app = whoami_app()

    @app.post("/login/{user}")
    async def do_login(request: Request, user: str) -> dict[str, str]:
        login(request, user)
        return {"ok": user}

    @app.websocket("/session")
    async def session(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json(dict(ws.session))

    app.add_middleware(SessionAuthMiddleware)
    app.add_middleware(SessionMiddleware, secret_keys=["k" * 32])
    with TestClient(app, base_url=BASE) as client:
        with client.websocket_connect("/whoami") as ws:
            assert ws.receive_json()["authenticated"] is False
        client.post("/login/sam")
        with client.websocket_connect("/whoami") as ws:
            assert ws.receive_json() == {
                "user": "sam",
                "authenticated": True,
                "scheme": "session",
                "scopes": [],
            }
        with client.websocket_connect("/session") as ws:
            assert ws.receive_json()["_auth_user_id"] == "sam"


# -- authorization: guards on routers, permissions --------------------------------------


@pytest.fixture
def guarded() -> Iterator[tuple[TestClient, JWTAuth]]:
    auth = new_jwt()
    admin = Router(prefix="/admin", dependencies=[requires(HasRole("admin"), auth=auth)])

    @admin.websocket("/console/{room}")
    async def console(ws: WebSocket, room: str) -> None:
        await ws.accept()
        await ws.send_json({"room": room, "user": ws.user.identity})

    app = QakeAPI()
    app.include_router(admin)
    with TestClient(app) as client:
        yield client, auth


def test_a_role_guard_on_a_router_applies_to_its_websocket_routes(
    guarded: tuple[TestClient, JWTAuth],
) -> None:
    client, auth = guarded
    root = auth.create_token("root", {"roles": ["admin"]})
    with client.websocket_connect("/admin/console/ops", headers=bearer(root)) as ws:
        assert ws.receive_json() == {"room": "ops", "user": "root"}
    denied = refusal(client, "/admin/console/ops", bearer(auth.create_token("eve")))
    assert_problem(denied, 403)
    denied = refusal(client, "/admin/console/ops")
    assert_problem(denied, 401)
    assert denied.headers["www-authenticate"] == "Bearer"


def test_permissions_see_the_websocket() -> None:
    auth = new_jwt()

    async def public_room(connection: HTTPConnection) -> bool:
        # The WebSocket's path parameters and handshake headers, as a Request's.
        return connection.path_params["room"] == "lobby" and "upgrade" in connection.headers

    needs = Permission(public_room) | (HasRole("mod") & HasScope("rooms:write"))
    guard = requires(needs, auth=auth)
    app = QakeAPI()

    @app.websocket("/rooms/{room}", dependencies=[Depends(guard)])
    async def room(ws: WebSocket, room: str) -> None:
        await ws.accept()
        await ws.send_text(room)

    anyone = bearer(auth.create_token("anyone"))
    mod = bearer(auth.create_token("mod", {"roles": ["mod"], "scope": "rooms:write"}))
    with TestClient(app) as client:
        with client.websocket_connect("/rooms/lobby", headers=anyone) as ws:
            assert ws.receive_text() == "lobby"
        with client.websocket_connect("/rooms/backstage", headers=mod) as ws:
            assert ws.receive_text() == "backstage"
        assert_problem(refusal(client, "/rooms/backstage", anyone), 403)


# -- FastAPI's security dependencies -----------------------------------------------


BASIC = "Basic " + base64.b64encode(b"ann:pw").decode()

SCHEMES: list[tuple[Any, dict[str, str], str, str, Any]] = [
    # (dependency, headers, query, its 401 challenge, what it yields, as JSON)
    (HTTPBearer(), {"authorization": "Bearer abc"}, "", "Bearer", "abc"),
    (HTTPBasic(realm="chat"), {"authorization": BASIC}, "", 'Basic realm="chat"', "ann"),
    (HTTPDigest(), {"authorization": 'Digest username="d"'}, "", "Digest", 'username="d"'),
    (OAuth2PasswordBearer(tokenUrl="token"), {"authorization": "Bearer t0k"}, "", "Bearer", "t0k"),
    (
        OAuth2AuthorizationCodeBearer(authorizationUrl="auth", tokenUrl="token"),
        {"authorization": "Bearer c0de"},
        "",
        "Bearer",
        "c0de",
    ),
    (APIKeyHeader(name="X-Key"), {"x-key": "k1"}, "", "APIKey", "k1"),
    (APIKeyQuery(name="key"), {}, "?key=k2", "APIKey", "k2"),
    (APIKeyCookie(name="key"), {"cookie": "key=k3"}, "", "APIKey", "k3"),
]


def _plain(value: Any) -> Any:
    for attribute in ("credentials", "username"):
        if hasattr(value, attribute):
            return getattr(value, attribute)
    return value


@pytest.mark.parametrize(
    ("dependency", "headers", "query", "challenge", "expected"),
    SCHEMES,
    ids=[type(s[0]).__name__ for s in SCHEMES],
)
def test_fastapis_security_dependencies_guard_a_handshake(
    dependency: Any, headers: dict[str, str], query: str, challenge: str, expected: Any
) -> None:
    app = QakeAPI()

    @app.websocket("/ws")
    async def endpoint(ws: WebSocket, credentials: Any = Depends(dependency)) -> None:
        await ws.accept()
        await ws.send_json(_plain(credentials))

    with TestClient(app) as client:
        with client.websocket_connect("/ws" + query, headers=headers) as ws:
            assert ws.receive_json() == expected
        denied = refusal(client, "/ws")
    assert_problem(denied, 401)
    assert denied.headers["www-authenticate"] == challenge


def test_rate_limit_key_functions_take_the_websocket() -> None:
    auth = new_jwt()
    app = QakeAPI()

    @app.websocket("/keys")
    async def keys(ws: WebSocket, user: Any = Depends(auth)) -> None:
        await ws.accept()
        await ws.send_json([by_client(ws), by_user(ws), by_api_key("x-key")(ws)])

    with (
        TestClient(app) as client,
        client.websocket_connect(
            "/keys", headers={**bearer(auth.create_token("kim")), "x-key": "s"}
        ) as ws,
    ):
        client_key, user_key, api_key = ws.receive_json()
    assert client_key.startswith("ip:")
    assert user_key == "user:kim"
    assert api_key == "apikey:" + hashlib.sha256(b"s").hexdigest()[:32]


def test_rate_limit_needs_an_http_response_and_is_refused_on_a_websocket_route() -> None:
    app = QakeAPI()
    with pytest.raises(HandlerSignatureError, match=r"asks for Response.*serves HTTP routes only"):

        @app.websocket("/ws", dependencies=[Depends(RateLimit("5/minute"))])
        async def endpoint(ws: WebSocket) -> None:
            await ws.accept()
