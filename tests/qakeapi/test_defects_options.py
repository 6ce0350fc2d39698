"""Issue 12, items 12 and 16 at the level of the full framework (QakeAPI, qake-docs).

* 12: the app's dependencies do not guard the OpenAPI document (as in FastAPI, where
  the docs routes are plain routes); ``docs_dependencies=`` do.
* 16: ``QakeAPI(...)`` refuses unknown options by name, with the alternative.
"""

from __future__ import annotations

from typing import Annotated

import pytest

from qake_core import App, Depends, Header, HTTPException
from qake_docs import Docs
from qakeapi import QakeAPI
from qakeapi.testing import TestClient


async def require_token(x_token: Annotated[str, Header()]) -> None:
    if x_token != "secret":
        raise HTTPException(401)


async def require_admin(x_admin: Annotated[str, Header()]) -> None:
    if x_admin != "yes":
        raise HTTPException(403)


def make_app(**options: object) -> QakeAPI:
    app = QakeAPI(title="Shop", dependencies=[Depends(require_token)], **options)

    @app.get("/items")
    async def items() -> list[str]:
        return ["a"]

    return app


def test_app_dependencies_do_not_guard_the_openapi_document() -> None:
    app = make_app()
    with TestClient(app) as client:
        assert client.get("/items").status_code == 422  # the app's dependency runs
        assert client.get("/items", headers={"x-token": "nope"}).status_code == 401
        assert client.get("/items", headers={"x-token": "secret"}).json() == ["a"]
        response = client.get("/openapi.json")
        assert response.status_code == 200, response.text
        doc = response.json()
    # The app's routes still document the app's dependency's header.
    params = doc["paths"]["/items"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in params] == [("x-token", "header")]
    assert "/openapi.json" not in doc["paths"]


def test_docs_dependencies_guard_the_document_when_asked() -> None:
    app = make_app(docs_dependencies=[Depends(require_admin)])
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 422
        assert client.get("/openapi.json", headers={"x-admin": "no"}).status_code == 403
        assert client.get("/openapi.json", headers={"x-admin": "yes"}).status_code == 200
    same = make_app(docs_dependencies=[Depends(require_token)])  # the app's own list
    with TestClient(same) as client:
        assert client.get("/openapi.json").status_code == 422
        assert client.get("/openapi.json", headers={"x-token": "secret"}).status_code == 200


def test_docs_install_on_a_core_app_is_not_guarded_by_its_dependencies() -> None:
    app = App(dependencies=[Depends(require_token)])
    Docs(app, title="Core").install("/schema.json")
    guarded = App(dependencies=[Depends(require_token)])
    Docs(guarded).install("/schema.json", dependencies=[Depends(require_admin)])
    with TestClient(app) as client:
        assert client.get("/schema.json").json()["info"]["title"] == "Core"
    with TestClient(guarded) as client:
        assert client.get("/schema.json").status_code == 422
        assert client.get("/schema.json", headers={"x-admin": "yes"}).status_code == 200


def test_qakeapi_refuses_unknown_options_by_name() -> None:
    with pytest.raises(
        TypeError, match=r"^QakeAPI\(\.\.\.\): unknown app option 'titel'; did you mean 'title'"
    ):
        QakeAPI(titel="Shop")
    with pytest.raises(
        TypeError,
        match=r"^QakeAPI\(\.\.\.\): option 'openapi_external_docs' is not supported"
        r".*app\.openapi\(\)",
    ):
        QakeAPI(openapi_external_docs={"url": "https://docs.example.com"})
    # docs_url, swagger_ui_parameters...: QakeAPI's own options (test_docs_pages_app.py)


def test_qakeapi_takes_docs_url_none_as_fastapi_users_write_it() -> None:
    app = QakeAPI(docs_url=None, redoc_url=None)
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/docs").status_code == 404


def test_the_advice_to_edit_the_document_works() -> None:
    app = QakeAPI()
    app.openapi()["servers"] = [{"url": "https://api.example.com"}]
    with TestClient(app) as client:
        assert client.get("/openapi.json").json()["servers"] == [{"url": "https://api.example.com"}]
