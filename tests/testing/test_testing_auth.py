from __future__ import annotations

import base64
import builtins
from collections.abc import Sequence
from typing import Any

import jwt
import pytest
from testing_apps import EchoApp

from qake_testing import (
    Credentials,
    JWTLogin,
    LoginProvider,
    TestClient,
    basic_auth_header,
    bearer_header,
    make_jwt,
)

KEY = "a-test-key-that-is-at-least-32-bytes"


def test_basic_auth_header() -> None:
    header = basic_auth_header("alice", "pä:ss")
    scheme, token = header["Authorization"].split()
    assert scheme == "Basic"
    assert base64.b64decode(token).decode() == "alice:pä:ss"


def test_bearer_header() -> None:
    assert bearer_header("abc") == {"Authorization": "Bearer abc"}


def test_make_jwt_round_trips_with_pyjwt() -> None:
    token = make_jwt({"sub": "alice", "roles": ["admin"]}, KEY, expires_in=60)
    claims = jwt.decode(token, KEY, algorithms=["HS256"])
    assert claims["sub"] == "alice"
    assert claims["roles"] == ["admin"]
    assert claims["exp"] - claims["iat"] == 60


def test_make_jwt_expired_and_without_expiry() -> None:
    expired = make_jwt({"sub": "a"}, KEY, expires_in=-10)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(expired, KEY, algorithms=["HS256"])
    assert "exp" not in jwt.decode(make_jwt({"sub": "a"}, KEY, expires_in=None), KEY, ["HS256"])


def test_make_jwt_without_pyjwt_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "jwt":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"qake-testing\[jwt\]"):
        make_jwt({}, KEY)


class HeaderLogin:
    """Implements LoginProvider structurally, as qake-security would."""

    def login_credentials(self, user: str, roles: Sequence[str]) -> Credentials:
        return Credentials(
            headers={"X-User": user, "X-Roles": ",".join(roles)}, cookies={"sid": user}
        )


def test_login_as_finds_the_provider_on_the_app() -> None:
    app = EchoApp()
    app.login_provider = HeaderLogin()  # type: ignore[attr-defined]
    assert isinstance(app.login_provider, LoginProvider)  # type: ignore[attr-defined]
    with TestClient(app) as client:
        client.login_as("bob", roles=["admin", "ops"])
        headers = client.get("/echo").json()["headers"]
    assert headers["x-user"] == "bob"
    assert headers["x-roles"] == "admin,ops"
    assert headers["cookie"] == "sid=bob"


def test_login_as_with_provider_in_app_state_mapping_or_explicit() -> None:
    app = EchoApp()
    app.state = {"login_provider": HeaderLogin()}  # type: ignore[attr-defined]
    with TestClient(app) as client:
        client.login_as("carol")
        assert client.get("/echo").json()["headers"]["x-user"] == "carol"
        credentials = client.login_as("dave", ["r"], provider=JWTLogin(KEY))
        token = credentials.headers["Authorization"].removeprefix("Bearer ")
        sent = client.get("/echo").json()["headers"]["authorization"]
    assert sent == f"Bearer {token}"
    claims = jwt.decode(token, KEY, algorithms=["HS256"])
    assert (claims["sub"], claims["roles"]) == ("dave", ["r"])


def test_login_as_without_provider_explains() -> None:
    with TestClient(EchoApp()) as client, pytest.raises(LookupError, match="login_provider"):
        client.login_as("x")
