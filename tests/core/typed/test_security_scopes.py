"""``Security(dep, scopes=[...])`` and ``SecurityScopes``: FastAPI's scope chain."""

from __future__ import annotations

from typing import Annotated

import pytest

from qake_core import App, Depends, HTTPException, Security, SecurityScopes
from qake_testing import TestClient

CALLS: list[tuple[str, ...]] = []


def token_scopes(security_scopes: SecurityScopes) -> list[str]:
    CALLS.append(tuple(security_scopes.scopes))
    return security_scopes.scopes


def current_user(
    security_scopes: SecurityScopes, granted: Annotated[list[str], Depends(token_scopes)]
) -> str:
    if security_scopes.scopes and "me" not in granted:
        raise HTTPException(401, headers={"WWW-Authenticate": "Bearer"})
    return security_scopes.scope_str


def active_user(user: Annotated[str, Security(current_user, scopes=["me"])]) -> str:
    return user


def make_app() -> App:
    CALLS.clear()
    app = App()

    @app.get("/me")
    async def me(user: Annotated[str, Security(active_user, scopes=["items"])]) -> dict[str, str]:
        return {"scopes": user}

    @app.get("/twice")
    async def twice(
        a: Annotated[str, Security(current_user, scopes=["me"])],
        b: Annotated[str, Security(current_user, scopes=["me", "x"])],
        c: Annotated[str, Security(current_user, scopes=["me"])],
    ) -> list[str]:
        return [a, b, c]

    @app.get("/plain")
    async def plain(scopes: SecurityScopes, user: str = Depends(current_user)) -> list[str]:
        return [scopes.scope_str, user]

    @app.get("/denied")
    async def denied(user: Annotated[str, Security(current_user, scopes=["admin"])]) -> str:
        return user

    return app


def test_scopes_accumulate_outermost_first() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/me").json() == {"scopes": "items me"}
    assert CALLS == [("items", "me")]


def test_one_call_per_dependency_and_scope_set() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/twice").json() == ["me", "me x", "me"]
    assert sorted(CALLS) == [("me",), ("me", "x")]


def test_without_security_the_scopes_are_empty() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/plain").json() == ["", ""]


def test_a_dependency_refusing_the_scopes_answers_its_error() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/denied")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_scopes_must_be_a_list() -> None:
    with pytest.raises(TypeError, match="list of scope names"):
        Security(token_scopes, scopes="items")  # type: ignore[arg-type]


def fake_scopes(security_scopes: SecurityScopes) -> list[str]:
    return ["me", *security_scopes.scopes]


def test_an_override_receives_the_same_scopes() -> None:
    app = make_app()
    app.dependency_overrides[token_scopes] = fake_scopes
    with TestClient(app) as client:
        assert client.get("/denied").json() == "admin"
        assert client.get("/me").json() == {"scopes": "items me"}
