"""OWASP's page headers, HSTS over HTTPS only, per-request CSP nonces for templates and
Cache-Control: no-store on authenticated responses; through SecurityHeadersMiddleware
and through QakeAPI (whose default pays no middleware layer)."""

import re
from pathlib import Path
from typing import Annotated, Any

import pytest

from qake_core import App, Depends, HTMLResponse, HTTPException, Jinja2Templates, Request
from qake_security import (
    API_CSP,
    DEFAULT_CSP,
    DEFAULT_PERMISSIONS_POLICY,
    BaseUser,
    SecurityHeadersMiddleware,
    SimpleUser,
    csp_nonce,
    requires,
    security_header_plan,
    security_header_sets,
    set_user,
    user_of,
)
from qake_testing import TestClient
from qakeapi import QakeAPI

PAGE = (
    '<script nonce="{{ csp_nonce(request) }}">go()</script>'
    '<style nonce="{{ csp_nonce(request) }}"></style>'
)


def authenticate(request: Request) -> BaseUser:
    if request.headers.get("x-user"):
        set_user(request.scope, SimpleUser(request.headers["x-user"]), None)
    return user_of(request.scope)


Authenticated = Annotated[BaseUser, Depends(authenticate)]


def add_routes(app: App, tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(PAGE)
    templates = Jinja2Templates(tmp_path)
    templates.env.globals["csp_nonce"] = csp_nonce

    @app.get("/page")
    async def page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "page.html")

    @app.get("/plain-page")
    async def plain_page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    @app.get("/own-csp")
    async def own_csp() -> HTMLResponse:
        return HTMLResponse("<p>x</p>", headers={"Content-Security-Policy": "default-src 'none'"})

    @app.get("/data")
    async def data() -> dict[str, int]:
        return {"n": 1}

    @app.get("/me")
    async def me(user: Authenticated) -> dict[str, str]:
        return {"me": user.identity}

    @app.get("/me/cached")
    async def me_cached(user: Authenticated) -> HTMLResponse:
        return HTMLResponse(user.identity, headers={"Cache-Control": "private, max-age=60"})

    @app.get("/me/missing")
    async def me_missing(user: Authenticated) -> None:
        raise HTTPException(404, "no such thing")

    @app.get("/admin", dependencies=[requires("admin", auth=authenticate)])
    async def admin() -> dict[str, bool]:
        return {"admin": True}


def middleware_app(tmp_path: Path, **options: Any) -> App:
    app = App()
    add_routes(app, tmp_path)
    app.add_middleware(SecurityHeadersMiddleware, **options)
    return app


def qakeapi_app(tmp_path: Path, **options: Any) -> QakeAPI:
    app = QakeAPI(security_headers=options or True, openapi_url=None)
    add_routes(app, tmp_path)
    return app


MAKERS = [middleware_app, qakeapi_app]


@pytest.mark.parametrize("make", MAKERS)
def test_owasp_page_headers_and_short_api_set(tmp_path: Path, make: Any) -> None:
    client = TestClient(make(tmp_path))
    page = client.get("/plain-page").headers
    assert page["cross-origin-resource-policy"] == "same-origin"
    assert page["x-permitted-cross-domain-policies"] == "none"
    assert page["permissions-policy"] == DEFAULT_PERMISSIONS_POLICY
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in page["permissions-policy"]
    assert page["content-security-policy"] == DEFAULT_CSP
    assert "form-action 'self'" in DEFAULT_CSP
    data = client.get("/data").headers
    assert data["content-security-policy"] == API_CSP
    for name in ("cross-origin-resource-policy", "permissions-policy", "x-frame-options"):
        assert name not in data


@pytest.mark.parametrize("make", MAKERS)
def test_every_value_configurable_or_removable(tmp_path: Path, make: Any) -> None:
    options = {
        "cross_origin_resource_policy": "same-site",
        "permissions_policy": "camera=(self)",
        "permitted_cross_domain_policies": None,
        "cache_control_authenticated": "private, no-cache",
    }
    client = TestClient(make(tmp_path, **options))
    page = client.get("/plain-page").headers
    assert page["cross-origin-resource-policy"] == "same-site"
    assert page["permissions-policy"] == "camera=(self)"
    assert "x-permitted-cross-domain-policies" not in page
    assert (
        client.get("/me", headers={"x-user": "ann"}).headers["cache-control"] == "private, no-cache"
    )
    off = TestClient(make(tmp_path, cache_control_authenticated=None))
    assert "cache-control" not in off.get("/me", headers={"x-user": "ann"}).headers


@pytest.mark.parametrize("make", MAKERS)
def test_hsts_only_over_https(tmp_path: Path, make: Any) -> None:
    app = make(tmp_path, hsts=True, hsts_preload=True)
    for path in ("/plain-page", "/data", "/nowhere"):
        assert "strict-transport-security" not in TestClient(app).get(path).headers
        secure = TestClient(app, base_url="https://testserver").get(path).headers
        assert secure["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"


def nonce_of(csp: str, directive: str) -> str:
    match = re.search(rf"(?:^|; ){directive} ([^;]*)", csp)
    assert match is not None, csp
    (nonce,) = re.findall(r"'nonce-([A-Za-z0-9_\-]+)'", match[1])
    return str(nonce)


@pytest.mark.parametrize("make", MAKERS)
def test_csp_nonce_per_request_and_in_templates(tmp_path: Path, make: Any) -> None:
    client = TestClient(make(tmp_path, csp_nonce=True))
    nonces = set()
    for _ in range(3):
        response = client.get("/page")
        csp = response.headers["content-security-policy"]
        nonce = nonce_of(csp, "script-src")
        assert nonce_of(csp, "style-src") == nonce
        assert len(nonce) >= 22  # 16 random bytes
        assert response.text.count(f'nonce="{nonce}"') == 2  # the template saw the same one
        assert csp.startswith(DEFAULT_CSP)
        assert "script-src 'self' 'nonce-" in csp
        nonces.add(nonce)
    assert len(nonces) == 3
    assert client.get("/data").headers["content-security-policy"] == API_CSP
    assert client.get("/own-csp").headers.get_list("content-security-policy") == [
        "default-src 'none'"
    ]


def test_nonce_joins_an_existing_script_src(tmp_path: Path) -> None:
    policy = "default-src 'none'; script-src 'self' https://cdn.example; img-src 'self'"
    client = TestClient(middleware_app(tmp_path, csp_nonce=True, content_security_policy=policy))
    csp = client.get("/page").headers["content-security-policy"]
    nonce = nonce_of(csp, "script-src")
    assert f"script-src 'self' https://cdn.example 'nonce-{nonce}'" in csp
    assert f"style-src 'none' 'nonce-{nonce}'" in csp  # from default-src
    with pytest.raises(ValueError, match="content_security_policy"):
        security_header_plan(csp_nonce=True, content_security_policy=None)


def test_csp_nonce_without_the_option_says_how(tmp_path: Path) -> None:
    client = TestClient(middleware_app(tmp_path), raise_server_exceptions=True)
    with pytest.raises(RuntimeError, match="csp_nonce=True"):
        client.get("/page")


@pytest.mark.parametrize("make", MAKERS)
def test_no_store_on_authenticated_responses_only(tmp_path: Path, make: Any) -> None:
    client = TestClient(make(tmp_path))
    assert "cache-control" not in client.get("/me").headers  # anonymous
    assert client.get("/me", headers={"x-user": "ann"}).headers["cache-control"] == "no-store"
    missing = client.get("/me/missing", headers={"x-user": "ann"})
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store"
    own = client.get("/me/cached", headers={"x-user": "ann"})
    assert own.headers.get_list("cache-control") == ["private, max-age=60"]  # the app's wins
    assert client.get("/admin", headers={"x-user": "bob"}).headers["cache-control"] == "no-store"
    refused = client.get("/admin")
    assert refused.status_code == 401
    assert "cache-control" not in refused.headers
    assert "cache-control" not in client.get("/me").headers  # nothing leaked between requests


def test_default_qakeapi_pays_no_middleware_layer(tmp_path: Path) -> None:
    assert qakeapi_app(tmp_path).user_middleware == []
    assert not security_header_plan().per_request
    assert len(qakeapi_app(tmp_path, hsts=True).user_middleware) == 1
    assert len(qakeapi_app(tmp_path, csp_nonce=True).user_middleware) == 1
    assert security_header_plan(hsts=True).per_request


def test_static_sets_keep_their_shape() -> None:
    sets = security_header_sets(extra={"X-Extra": "1"})
    names = [name for name, _ in sets.other]
    assert names == [b"x-content-type-options", b"x-extra", b"content-security-policy"]
    plan = security_header_plan(hsts=True, csp_nonce=True)
    assert b"strict-transport-security" not in dict(plan.static.documents)
    assert b"content-security-policy" not in dict(plan.static.documents)
    assert dict(plan.static.other)[b"content-security-policy"] == API_CSP.encode()
    assert plan.authenticated_cache_control == b"no-store"
