"""Security schemes in the OpenAPI document: ``components.securitySchemes`` from the
routes' security dependencies, and each operation's ``security`` with the scopes of
the ``Security`` markers on the way (what makes Swagger UI show "Authorize")."""

from __future__ import annotations

from typing import Any

import pytest

from qake_core import Depends, Router, Security, SecurityScopes
from qake_security import (
    APIKeyHeader,
    HTTPBasic,
    HTTPBearer,
    OAuth2PasswordBearer,
    SessionAuth,
    SessionMiddleware,
)
from qakeapi import QakeAPI
from qakeapi.testing import TestClient

oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Read me", "items": "Read items"})
api_key = APIKeyHeader(name="X-API-Key", auto_error=False)
bearer = HTTPBearer(scheme_name="jwt", bearerFormat="JWT")


async def current_user(
    security_scopes: SecurityScopes,
    token: Any = Depends(oauth2),
) -> Any:
    return token


async def active_user(user: Any = Security(current_user, scopes=["me"])) -> Any:
    return user


def document(app: QakeAPI) -> dict[str, Any]:
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def make_app() -> QakeAPI:
    app = QakeAPI()

    @app.get("/public")
    async def public() -> dict[str, str]:
        return {}

    @app.get("/users/me")
    async def me(user: Any = Depends(active_user)) -> dict[str, str]:
        return {"user": user}

    @app.get("/users/me/items")
    async def items(user: Any = Security(active_user, scopes=["items"])) -> list[str]:
        return []

    @app.get("/status", dependencies=[Depends(api_key)])
    async def status() -> dict[str, str]:
        return {}

    @app.get("/basic")
    async def basic(credentials: Any = Depends(HTTPBasic(realm="staff"))) -> None:
        return None

    @app.get("/either")
    async def either(
        key: Any = Depends(api_key),
        token: Any = Security(bearer, scopes=["read"]),
    ) -> None:
        return None

    return app


def test_security_schemes_are_collected_once_each() -> None:
    schemes = document(make_app())["components"]["securitySchemes"]
    assert schemes == {
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "flows": {
                "password": {
                    "tokenUrl": "token",
                    "scopes": {"me": "Read me", "items": "Read items"},
                }
            },
        },
        "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "HTTPBasic": {"type": "http", "scheme": "basic"},
        "jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    }


def test_operation_security_carries_the_scopes_of_the_chain() -> None:
    paths = document(make_app())["paths"]
    assert "security" not in paths["/public"]["get"]
    assert paths["/users/me"]["get"]["security"] == [{"OAuth2PasswordBearer": ["me"]}]
    # FastAPI's order: the outermost Security first.
    assert paths["/users/me/items"]["get"]["security"] == [
        {"OAuth2PasswordBearer": ["items", "me"]}
    ]
    assert paths["/status"]["get"]["security"] == [{"APIKeyHeader": []}]
    assert paths["/basic"]["get"]["security"] == [{"HTTPBasic": []}]
    assert paths["/either"]["get"]["security"] == [{"APIKeyHeader": []}, {"jwt": ["read"]}]


def test_router_and_app_dependencies_declare_security() -> None:
    app = QakeAPI(dependencies=[Depends(api_key)])
    router = Router(prefix="/admin", dependencies=[Security(oauth2, scopes=["admin"])])

    @router.get("/stats")
    async def stats() -> dict[str, str]:
        return {}

    @app.get("/root")
    async def root() -> dict[str, str]:
        return {}

    app.include_router(router)
    paths = document(app)["paths"]
    assert paths["/root"]["get"]["security"] == [{"APIKeyHeader": []}]
    assert paths["/admin/stats"]["get"]["security"] == [
        {"APIKeyHeader": []},
        {"OAuth2PasswordBearer": ["admin"]},
    ]


def test_scopes_of_one_scheme_are_merged() -> None:
    app = QakeAPI()

    async def reader(token: Any = Security(oauth2, scopes=["items"])) -> Any:
        return token

    @app.get("/both")
    async def both(
        user: Any = Depends(active_user),
        other: Any = Depends(reader),
    ) -> None:
        return None

    security = document(app)["paths"]["/both"]["get"]["security"]
    assert security == [{"OAuth2PasswordBearer": ["me", "items"]}]


def test_a_marker_can_declare_the_scheme() -> None:
    app = QakeAPI()

    async def tenant_key() -> str:
        return "k"

    scheme = {"type": "apiKey", "in": "header", "name": "X-Tenant"}

    @app.get("/tenant", dependencies=[Depends(tenant_key, security_scheme=scheme)])
    async def tenant() -> None:
        return None

    doc = document(app)
    assert doc["components"]["securitySchemes"] == {"tenant_key": scheme}
    assert doc["paths"]["/tenant"]["get"]["security"] == [{"tenant_key": []}]


def test_two_schemes_with_one_name_are_refused() -> None:
    app = QakeAPI()
    first = APIKeyHeader(name="X-One")
    second = APIKeyHeader(name="X-Two")

    @app.get("/one")
    async def one(key: Any = Depends(first)) -> None:
        return None

    @app.get("/two")
    async def two(key: Any = Depends(second)) -> None:
        return None

    with pytest.raises(ValueError, match="'APIKeyHeader' names two different schemes"):
        app.openapi()


def test_equal_schemes_under_one_name_are_one_entry() -> None:
    app = QakeAPI()

    @app.get("/one")
    async def one(key: Any = Depends(APIKeyHeader(name="X-Key"))) -> None:
        return None

    @app.get("/two")
    async def two(key: Any = Depends(APIKeyHeader(name="X-Key"))) -> None:
        return None

    doc = document(app)
    assert list(doc["components"]["securitySchemes"]) == ["APIKeyHeader"]


def test_app_without_security_has_no_security_schemes() -> None:
    app = QakeAPI()

    @app.get("/x")
    async def x() -> dict[str, str]:
        return {}

    doc = document(app)
    assert "securitySchemes" not in doc.get("components", {})
    assert "security" not in doc["paths"]["/x"]["get"]


def test_session_auth_in_openapi() -> None:
    app = QakeAPI()
    app.add_middleware(SessionMiddleware, secret_keys=["k" * 32], https_only=False)
    auth = SessionAuth(app)

    @app.get("/me")
    async def me(user: Any = Depends(auth)) -> dict[str, str]:
        return {"user": user.identity}

    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["SessionAuth"] == {"type": "apiKey", "in": "cookie", "name": "session"}
    assert document["paths"]["/me"]["get"]["security"] == [{"SessionAuth": []}]
    assert SessionAuth().security_scheme["name"] == "__Host-session"
