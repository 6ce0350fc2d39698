"""SessionMiddleware, login/logout and SessionAuth: signed-cookie and store-backed sessions."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest
from backends import every_backend  # noqa: F401 - the fixture

from qake_core import App, Depends, MemoryStore, RedisStore, Request, Store
from qake_security import (
    SessionAuth,
    SessionAuthMiddleware,
    SessionMiddleware,
    login,
    logout,
    regenerate_session,
)
from qake_testing import TestClient

KEY = "k" * 32
OTHER_KEY = "o" * 40
BASE = "https://testserver"


# Every TestClient made without naming a backend runs the app on asyncio, then trio.
pytestmark = pytest.mark.usefixtures("every_backend")


def make_app(**options: Any) -> App:
    options.setdefault("secret_keys", [KEY])
    app = App()

    @app.get("/read")
    async def read(request: Request) -> dict[str, Any]:
        return dict(request.session)

    @app.post("/write")
    async def write(request: Request) -> dict[str, Any]:
        request.session.update(await request.json())
        return dict(request.session)

    @app.post("/login/{user}")
    async def do_login(request: Request, user: str) -> dict[str, str]:
        login(request, user, roles=["admin"] if user == "root" else [])
        return {"ok": user}

    @app.post("/logout")
    async def do_logout(request: Request) -> dict[str, bool]:
        logout(request)
        return {"ok": True}

    @app.post("/regenerate")
    async def do_regenerate(request: Request) -> dict[str, bool]:
        regenerate_session(request)
        return {"ok": True}

    @app.get("/me")
    async def me(user: Any = Depends(SessionAuth())) -> dict[str, Any]:
        return {"user": user.identity, "roles": sorted(user.roles)}

    @app.get("/who")
    async def who(request: Request, user: Any = Depends(SessionAuth(auto_error=False))) -> Any:
        return {"user": None if user is None else request.user.identity, "auth": str(user)}

    app.add_middleware(SessionMiddleware, **options)
    app.login_provider = SessionAuth(app)  # type: ignore[attr-defined]
    return app


def client_for(app: App) -> TestClient:
    return TestClient(app, base_url=BASE)


def set_cookie_of(response: Any) -> str:
    values = response.headers.get_list("set-cookie")
    assert len(values) == 1, values
    return str(values[0])


# -- signed cookies ---------------------------------------------------------------------


def test_round_trip_and_cookie_attributes() -> None:
    with client_for(make_app()) as client:
        response = client.post("/write", json={"cart": [1, 2], "name": "ümlaut"})
        header = set_cookie_of(response)
        name, _, rest = header.partition("=")
        assert name == "__Host-session"
        attributes = rest.split("; ")[1:]
        assert attributes == [
            f"Max-Age={14 * 24 * 3600}",
            "Path=/",
            "Secure",
            "HttpOnly",
            "SameSite=Lax",
        ]
        read = client.get("/read")
        assert read.json() == {"cart": [1, 2], "name": "ümlaut"}
        assert "set-cookie" not in read.headers  # unchanged: no cookie written


def test_no_cookie_for_an_untouched_session() -> None:
    with client_for(make_app()) as client:
        assert "set-cookie" not in client.get("/read").headers
        assert client.get("/read").json() == {}


def tamper(value: str) -> Iterator[str]:
    payload, _, signature = value.rpartition(".")
    doc = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    forged = base64.urlsafe_b64encode(doc.replace(b'"user"', b'"root"')).rstrip(b"=").decode()
    yield f"{forged}.{signature}"
    yield f"{payload}.{signature[:-2]}AA"
    yield f"{payload}."
    yield payload
    yield "not base64 at all!"
    yield "." * 5000


def test_tampered_cookie_gives_an_empty_session() -> None:
    with client_for(make_app()) as client:
        client.post("/write", json={"role": "user"})
        value = client.cookies["__Host-session"]
        for forged in tamper(value):
            client.cookies.clear()
            client.cookies.set("__Host-session", forged, domain="testserver.local")
            response = client.get("/read")
            assert response.status_code == 200
            assert response.json() == {}


def test_expired_cookie_gives_an_empty_session(monkeypatch: pytest.MonkeyPatch) -> None:
    with client_for(make_app(max_age=60)) as client:
        client.post("/write", json={"a": 1})
        assert client.get("/read").json() == {"a": 1}
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 61)
        assert client.get("/read").json() == {}


def test_key_rotation() -> None:
    old_app = make_app(secret_keys=[OTHER_KEY])
    with client_for(old_app) as old:
        old.post("/write", json={"a": 1})
        cookie = old.cookies["__Host-session"]
    rotated = make_app(secret_keys=[KEY, OTHER_KEY])  # new key first, the old still verifies
    with client_for(rotated) as client:
        client.cookies.set("__Host-session", cookie, domain="testserver.local")
        assert client.get("/read").json() == {"a": 1}
        client.post("/write", json={"b": 2})  # re-signed with the new key
        resigned = client.cookies["__Host-session"]
    with client_for(make_app(secret_keys=[KEY])) as new_only:
        new_only.cookies.set("__Host-session", resigned, domain="testserver.local")
        assert new_only.get("/read").json() == {"a": 1, "b": 2}
        new_only.cookies.set("__Host-session", cookie, domain="testserver.local")
        assert new_only.get("/read").json() == {}  # the retired key no longer verifies


def test_oversized_session_is_refused_with_a_clear_error() -> None:
    with client_for(make_app()) as client, pytest.raises(ValueError, match="4096"):
        client.post("/write", json={"blob": "x" * 5000})


def test_oversized_incoming_cookie_is_ignored() -> None:
    with client_for(make_app()) as client:
        client.cookies.set("__Host-session", "a" * 5000, domain="testserver.local")
        response = client.get("/read")
        assert response.status_code == 200
        assert response.json() == {}


def test_logout_deletes_the_cookie() -> None:
    with client_for(make_app()) as client:
        client.post("/login/alice")
        assert client.get("/me").json() == {"user": "alice", "roles": []}
        header = set_cookie_of(client.post("/logout"))
        assert header.startswith("__Host-session=; Max-Age=0; Expires=Thu, 01 Jan 1970")
        assert "__Host-session" not in client.cookies
        assert client.get("/me").status_code == 401


def test_session_auth_401_and_optional() -> None:
    with client_for(make_app()) as client:
        response = client.get("/me")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Session"
        assert client.get("/who").json() == {"user": None, "auth": "None"}
        client.post("/login/root")
        assert client.get("/me").json() == {"user": "root", "roles": ["admin"]}
        assert client.get("/who").json()["user"] == "root"


def test_cookie_session_login_changes_the_nonce() -> None:
    with client_for(make_app()) as client:
        client.post("/write", json={"before": 1})
        planted = client.cookies["__Host-session"]
        client.post("/login/alice")
        after = client.cookies["__Host-session"]
        assert after != planted
        assert client.get("/me").status_code == 200
        client.cookies.set("__Host-session", planted, domain="testserver.local")
        assert client.get("/me").status_code == 401  # the pre-login cookie stays anonymous
        client.cookies.set("__Host-session", after, domain="testserver.local")
        assert client.get("/read").json()["before"] == 1  # data kept across the login
        client.post("/login/bob")  # another user: the session starts again
        assert "before" not in client.get("/read").json()


def test_login_as_signs_a_cookie_the_app_accepts() -> None:
    with client_for(make_app()) as client:
        client.login_as("carol", roles=["editor"])
        assert client.get("/me").json() == {"user": "carol", "roles": ["editor"]}


# -- options ----------------------------------------------------------------------------


def app_with(**options: Any) -> None:
    make_app(**options).build()


def test_options_are_checked_at_startup() -> None:
    with pytest.raises(TypeError, match="samesite"):
        app_with(samesite="lax")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        app_with(secret_keys=["short"])
    with pytest.raises(ValueError, match="non-empty list"):
        app_with(secret_keys=KEY)
    with pytest.raises(ValueError, match="max_age"):
        app_with(max_age=0)
    with pytest.raises(ValueError, match="__Host-"):
        app_with(cookie_name="__Host-s", domain="example.com")
    with pytest.raises(ValueError, match="SameSite=None requires secure"):
        app_with(same_site="none", https_only=False)
    with pytest.raises(TypeError, match=r"qake_core\.Store"):
        app_with(store={})


def test_key_never_in_errors_or_reprs() -> None:
    secret = "s3cr3t-but-too-short"
    with pytest.raises(ValueError) as info:
        app_with(secret_keys=[secret])
    assert secret not in str(info.value)
    middleware = SessionMiddleware(App(), secret_keys=[KEY])
    assert KEY not in repr(middleware.config)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"https_only": False}, "session"),
        ({"domain": "example.com"}, "__Secure-session"),
        ({"path": "/app"}, "__Secure-session"),
    ],
)
def test_default_name_without_host_prefix(options: dict[str, Any], name: str) -> None:
    base = "http://testserver" if options.get("https_only") is False else BASE
    app = make_app(**options)
    if "path" in options:

        @app.post("/app/write")
        async def write(request: Request) -> dict[str, Any]:
            request.session["x"] = 1
            return {}

    url = "/app/write" if "path" in options else "/write"
    with TestClient(app, base_url=base) as client:
        header = set_cookie_of(client.post(url, json={"x": 1}))
        assert header.startswith(name + "=")
        assert ("Secure" in header.split("; ")) is (options.get("https_only") is not False)


# -- server-side sessions ---------------------------------------------------------------


def store_cookie(client: TestClient) -> str:
    return str(client.cookies["__Host-session"])


def check_store_sessions(store: Store) -> None:
    app = make_app(store=store)
    closer = getattr(store, "aclose", None)
    if closer is not None:  # the Redis connections belong to the app's event loop
        app.on_shutdown.append(closer)
    with client_for(app) as client:
        client.post("/write", json={"a": 1})
        first = store_cookie(client)
        assert len(first) == 43  # secrets.token_urlsafe(32): only an id in the cookie
        assert client.get("/read").json() == {"a": 1}

        client.post("/login/alice")  # fixation: a new id, the old one is gone
        second = store_cookie(client)
        assert second != first
        assert client.get("/me").json() == {"user": "alice", "roles": []}
        client.cookies.set("__Host-session", first, domain="testserver.local")
        assert client.get("/read").json() == {}

        client.cookies.set("__Host-session", second, domain="testserver.local")
        client.post("/regenerate")
        third = store_cookie(client)
        assert third != second
        assert client.get("/read").json()["a"] == 1

        client.post("/logout")  # the stored session is deleted, not just the cookie
        client.cookies.set("__Host-session", third, domain="testserver.local")
        assert client.get("/read").json() == {}

        unknown = "A" * 43  # an id the server never issued is not adopted
        client.cookies.set("__Host-session", unknown, domain="testserver.local")
        client.post("/write", json={"b": 2})
        assert store_cookie(client) != unknown

        client.cookies.clear()
        client.login_as("dave", roles=["ops"])
        assert client.get("/me").json() == {"user": "dave", "roles": ["ops"]}


def test_memory_store_sessions() -> None:
    check_store_sessions(MemoryStore())


class _Clock:
    """``time`` for ``qake_core._stores``: the real clocks, ``monotonic`` moved on by
    ``ahead`` seconds (the store's expiry without a sleep)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead

    def monotonic_ns(self) -> int:
        return time.monotonic_ns() + int(self.ahead * 1e9)


def test_store_session_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    # The store's clock moves, not the client's: the cookie (Max-Age=60) stays in the
    # client's jar, so only the server-side expiry can empty the session. (With
    # max_age=1 and a real sleep, the jar's whole-second clock could drop the cookie
    # between the write and the first read.)
    from qake_core import _stores

    clock = _Clock()
    monkeypatch.setattr(_stores, "time", clock)
    store = MemoryStore()
    with client_for(make_app(store=store, max_age=60)) as client:
        client.post("/write", json={"a": 1})
        clock.ahead = 30.0
        assert client.get("/read").json() == {"a": 1}
        clock.ahead = 61.0
        assert client.get("/read").json() == {}


async def _redis_answers() -> bool:
    store = RedisStore("redis://127.0.0.1:6379/0")
    try:
        await store.client.ping()
    except Exception:
        return False
    finally:
        await store.aclose()
    return True


@pytest.fixture
def redis_url() -> str:
    pytest.importorskip("redis")
    if not asyncio.run(_redis_answers()):
        pytest.skip("no Redis answers at 127.0.0.1:6379")
    return "redis://127.0.0.1:6379/0"


def test_redis_store_sessions(redis_url: str, every_backend: str) -> None:  # noqa: F811
    if every_backend != "asyncio":
        pytest.skip("redis-py's asyncio client runs on asyncio only")
    store = RedisStore(redis_url, prefix=f"qake-test-{time.monotonic_ns()}:")
    check_store_sessions(store)


def test_store_outage_is_503_not_500() -> None:
    class Down(MemoryStore):
        async def get(self, key: str) -> bytes | None:
            raise ConnectionError("down")

    with client_for(make_app(store=Down())) as client:
        client.cookies.set("__Host-session", "A" * 43, domain="testserver.local")
        response = client.get("/read")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"


def test_session_auth_middleware_sets_the_user() -> None:
    app = App()

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, Any]:
        auth = request.auth
        return {
            "user": request.user.identity,
            "authenticated": request.user.is_authenticated,
            "scheme": None if auth is None else auth.scheme,
        }

    @app.post("/login/{user}")
    async def do_login(request: Request, user: str) -> dict[str, str]:
        login(request, user, roles=["a"])
        return {}

    app.add_middleware(SessionAuthMiddleware)
    app.add_middleware(SessionMiddleware, secret_keys=[KEY])
    with client_for(app) as client:
        assert client.get("/whoami").json() == {
            "user": "",
            "authenticated": False,
            "scheme": None,
        }
        client.post("/login/erin")
        assert client.get("/whoami").json() == {
            "user": "erin",
            "authenticated": True,
            "scheme": "session",
        }


def test_session_auth_middleware_needs_the_session() -> None:
    app = App()

    @app.get("/x")
    async def x() -> dict[str, bool]:
        return {}

    app.add_middleware(SessionMiddleware, secret_keys=[KEY])
    app.add_middleware(SessionAuthMiddleware)  # outside the session: wrong order
    with client_for(app) as client, pytest.raises(RuntimeError, match="before SessionMiddleware"):
        client.get("/x")


def test_store_outage_on_write_is_503_not_500() -> None:
    class ReadOnly(MemoryStore):
        async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
            raise ConnectionError("down")

    with client_for(make_app(store=ReadOnly())) as client:
        response = client.post("/write", json={"a": 1})
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "set-cookie" not in response.headers


def test_a_value_json_cannot_encode_names_the_fix() -> None:
    app = make_app()

    @app.post("/bad")
    async def bad(request: Request) -> dict[str, bool]:
        request.session["when"] = {1, 2}
        return {}

    with client_for(app) as client, pytest.raises(TypeError, match="JSON cannot encode"):
        client.post("/bad")
