"""QakeAPI's docs pages (issue 16): FastAPI's options and defaults, the security headers
left intact around each page's own Content-Security-Policy, the app's dependencies not
guarding the pages, and no middleware added for them."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import pytest

from qake_core import Depends, Header, HTTPException
from qake_docs._pages import REDOC_CSP, SWAGGER_UI_CSP, SWAGGER_UI_OAUTH2_REDIRECT_CSP
from qakeapi import QakeAPI
from qakeapi.testing import TestClient

PAGES = {
    "/docs": SWAGGER_UI_CSP,
    "/redoc": REDOC_CSP,
    "/docs/oauth2-redirect": SWAGGER_UI_OAUTH2_REDIRECT_CSP,
}


async def require_token(x_token: Annotated[str, Header()]) -> None:
    if x_token != "secret":
        raise HTTPException(401)


def make_app(**options: Any) -> QakeAPI:
    app = QakeAPI(title="Shop", **options)

    @app.get("/items")
    async def items() -> list[str]:
        return ["a"]

    return app


def config_of(html: str) -> dict[str, Any]:
    (found,) = re.findall(r'id="swagger-ui-config">(.*?)</script>', html)
    config: dict[str, Any] = json.loads(found)
    return config


def test_the_pages_are_on_by_default_as_in_fastapi() -> None:
    app = make_app()
    assert (app.docs_url, app.redoc_url, app.openapi_url) == ("/docs", "/redoc", "/openapi.json")
    assert app.swagger_ui_oauth2_redirect_url == "/docs/oauth2-redirect"
    with TestClient(app) as client:
        for path, csp in PAGES.items():
            page = client.get(path)
            assert page.status_code == 200, path
            assert page.headers["content-security-policy"] == csp
        assert client.get("/openapi.json").json()["paths"].keys() == {"/items"}


@pytest.mark.parametrize(
    "security_headers",
    [True, {"content_security_policy": "default-src 'none'"}, {"csp_nonce": True}],
)
def test_each_page_keeps_its_csp_and_the_other_security_headers(
    security_headers: Any,
) -> None:
    app = make_app(security_headers=security_headers)
    with TestClient(app) as client:
        for path, csp in PAGES.items():
            page = client.get(path)
            assert page.headers.get_list("content-security-policy") == [csp]
            assert page.headers["x-frame-options"] == "DENY"
            assert page.headers["x-content-type-options"] == "nosniff"
            assert page.headers["cross-origin-opener-policy"] == "same-origin"
        script = re.findall(r'src="([^"]+)"', client.get("/docs").text)[0]
        asset = client.get(script)
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_fastapi_options() -> None:
    app = make_app(
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        swagger_ui_oauth2_redirect_url="/api/docs/callback",
        swagger_ui_parameters={"persistAuthorization": True, "syntaxHighlight": False},
        swagger_ui_init_oauth={"clientId": "docs-client", "scopes": "me items"},
    )
    with TestClient(app) as client:
        for gone in ("/docs", "/redoc", "/docs/oauth2-redirect", "/openapi.json"):
            assert client.get(gone).status_code == 404
        config = config_of(client.get("/api/docs").text)
        assert config["url"] == "/api/openapi.json"
        assert config["oauth2RedirectUrl"] == "/api/docs/callback"
        assert config["persistAuthorization"] is True
        assert config["syntaxHighlight"] is False
        assert config["initOAuth"] == {"clientId": "docs-client", "scopes": "me items"}
        assert client.get("/api/docs/callback").status_code == 200


def test_openapi_url_none_leaves_every_page_out() -> None:
    with TestClient(make_app(openapi_url=None)) as client:
        for path in (*PAGES, "/openapi.json"):
            assert client.get(path).status_code == 404


def test_the_app_dependencies_guard_the_pages_only_through_docs_dependencies() -> None:
    with TestClient(make_app(dependencies=[Depends(require_token)])) as client:
        assert client.get("/items").status_code == 422
        for path in PAGES:
            assert client.get(path).status_code == 200, path
    guarded = make_app(
        dependencies=[Depends(require_token)], docs_dependencies=[Depends(require_token)]
    )
    with TestClient(guarded) as client:
        for path in PAGES:
            assert client.get(path).status_code == 422, path
            assert client.get(path, headers={"x-token": "secret"}).status_code == 200


def test_the_pages_add_no_middleware() -> None:
    without = make_app(docs_url=None, redoc_url=None)
    with_pages = make_app()
    assert [m.cls for m in with_pages.user_middleware] == [m.cls for m in without.user_middleware]
    with TestClient(without) as one, TestClient(with_pages) as other:
        first, second = one.get("/items"), other.get("/items")
    assert first.headers == second.headers
    assert first.content == second.content
