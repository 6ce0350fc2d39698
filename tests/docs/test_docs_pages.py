"""Swagger UI at /docs, ReDoc at /redoc and their files, served offline by the app.

The pages have no inline script and no URL of another site; their files come from
the installed qake-docs with versioned, immutable URLs; each page sends the CSP it
needs; the routes are hidden from the document, not guarded by the app's own
dependencies and add no middleware. The wheel build hook's download checks are run
with the network call replaced.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import sys
import urllib.error
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import pytest

import qake_docs
from qake_core import App, Depends, Header, HTTPException, Request, Response
from qake_docs import (
    Docs,
    add_docs_assets,
    add_docs_routes,
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from qake_docs._asset_pins import PINS
from qake_docs._pages import REDOC_CSP, SWAGGER_UI_CSP, SWAGGER_UI_OAUTH2_REDIRECT_CSP
from qake_testing import TestClient

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "packages" / "qake-docs"
ASSETS = Path(qake_docs.__file__).parent / "_assets"
CONFIG = re.compile(
    r'<script type="application/json" id="swagger-ui-config">(.*?)</script>', re.DOTALL
)
IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
}
PINNED = {item.name: item for pin in PINS for item in pin.files}


async def require_token(x_token: Annotated[str, Header()]) -> None:
    if x_token != "secret":
        raise HTTPException(401)


def make_app(token_app: bool = False, **install: Any) -> App:
    """An app with one route and the docs; ``token_app``: every route needs X-Token."""
    app = App(dependencies=[Depends(require_token)] if token_app else None)

    @app.get("/items")
    async def items() -> list[str]:
        return ["a"]

    options: dict[str, Any] = {"docs_url": "/docs", "redoc_url": "/redoc", **install}
    Docs(app, title="Shop").install(
        options.pop("openapi_url", "/openapi.json"),
        options.pop("docs_url"),
        options.pop("redoc_url"),
        **options,
    )
    return app


def urls_in(html: str) -> list[str]:
    return re.findall(r'(?:src|href|spec-url)="([^"]+)"', html)


def swagger_config(html: str) -> dict[str, Any]:
    found = CONFIG.findall(html)
    assert len(found) == 1
    config: dict[str, Any] = json.loads(found[0])
    return config


def assert_offline(html: str) -> None:
    """No URL of another site, no inline script: every <script> has a src or is JSON."""
    assert "http://" not in html
    assert "https://" not in html
    assert "//" not in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/' in tag or 'type="application/json"' in tag, tag


def test_swagger_ui_page() -> None:
    client = TestClient(make_app())
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == SWAGGER_UI_CSP
    assert "script-src 'self';" in SWAGGER_UI_CSP
    assert "unsafe" not in SWAGGER_UI_CSP
    assert "img-src 'self' data: blob:" in SWAGGER_UI_CSP
    assert '<div id="swagger-ui"></div>' in page.text
    assert "<title>Shop - Swagger UI</title>" in page.text
    assert_offline(page.text)
    config = swagger_config(page.text)
    assert config == {
        "url": "/openapi.json",
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
        "validatorUrl": None,
        "oauth2RedirectUrl": "/docs/oauth2-redirect",
    }


def test_redoc_page() -> None:
    client = TestClient(make_app())
    page = client.get("/redoc")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == REDOC_CSP
    for needed in ("script-src 'self';", "style-src 'self' 'unsafe-inline'", "worker-src blob:"):
        assert needed in REDOC_CSP
    assert '<redoc spec-url="/openapi.json"></redoc>' in page.text
    assert "<title>Shop - ReDoc</title>" in page.text
    assert_offline(page.text)


def test_oauth2_redirect_page() -> None:
    client = TestClient(make_app())
    page = client.get("/docs/oauth2-redirect")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == SWAGGER_UI_OAUTH2_REDIRECT_CSP
    assert_offline(page.text)
    (script,) = urls_in(page.text)
    assert script.endswith("/oauth2-redirect.js")
    assert client.get(script).status_code == 200


def test_every_file_the_pages_use_is_served_with_immutable_caching() -> None:
    client = TestClient(make_app())
    pages = client.get("/docs").text + client.get("/redoc").text
    files = {url for url in urls_in(pages) if url.startswith("/docs/assets/")}
    names = {url.rsplit("/", 1)[1] for url in files}
    assert names == {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-init.js",
        "favicon-32x32.png",
        "redoc.standalone.js",
    }
    for url in files:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == IMMUTABLE
        assert response.headers["content-type"] == MEDIA_TYPES[Path(url).suffix]
        name = url.rsplit("/", 1)[1]
        digest = hashlib.sha256(response.content).hexdigest()
        if name in PINNED:  # the npm file itself, byte for byte
            assert digest == PINNED[name].sha256
        assert url.split("/")[-2] == digest[:16]  # the URL changes with the content
        etag = response.headers["etag"]
        again = client.get(url, headers={"if-none-match": f'W/"x", {etag}'})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200


def test_the_installed_package_holds_every_pinned_file() -> None:
    for name, item in PINNED.items():
        data = (ASSETS / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (item.size, item.sha256)


@pytest.mark.parametrize(
    "path",
    [
        "/docs/assets/{key}/swagger-ui.LICENSE",  # in the package, not served
        "/docs/assets/0000000000000000/swagger-ui.css",  # another version's URL
        "/docs/assets/{key}/nothing.js",
        "/docs/assets/{key}/..%2F_asset_pins.py",
        "/docs/assets/{key}/%2e%2e%2f%2e%2e%2f__init__.py",
        "/docs/assets/..%2F..%2F/swagger-ui.css",
        "/docs/assets/swagger-ui.css",
        "/docs/assets/{key}/swagger-ui.css/x",
    ],
)
def test_unknown_files_and_traversal_are_404_problems(path: str) -> None:
    client = TestClient(make_app())
    css = next(u for u in urls_in(client.get("/docs").text) if u.endswith("swagger-ui.css"))
    response = client.get(path.format(key=css.split("/")[-2]))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_custom_urls_and_pages_left_out() -> None:
    app = make_app(
        openapi_url="/api/schema.json",
        docs_url="/api/docs",
        redoc_url="/api/redoc",
        swagger_ui_oauth2_redirect_url=None,
    )
    client = TestClient(app)
    for gone in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert client.get(gone).status_code == 404
    page = client.get("/api/docs").text
    config = swagger_config(page)
    assert config["url"] == "/api/schema.json"
    assert "oauth2RedirectUrl" not in config
    assert all(url.startswith("/api/docs/assets/") for url in urls_in(page))
    assert '<redoc spec-url="/api/schema.json">' in client.get("/api/redoc").text
    assert client.get("/api/schema.json").json()["paths"].keys() == {"/items"}


def test_none_leaves_each_page_out() -> None:
    no_swagger = TestClient(make_app(docs_url=None))
    assert no_swagger.get("/docs").status_code == 404
    assert no_swagger.get("/docs/oauth2-redirect").status_code == 404
    redoc = urls_in(no_swagger.get("/redoc").text)
    assert redoc[1] == "/openapi.json"
    files = [redoc[0], *redoc[2:]]
    assert len(files) == 2
    for url in files:
        assert url.startswith("/redoc/assets/")
        assert no_swagger.get(url).status_code == 200
    no_redoc = TestClient(make_app(redoc_url=None))
    assert no_redoc.get("/redoc").status_code == 404
    assert no_redoc.get("/docs").status_code == 200
    nothing = make_app(openapi_url=None)  # no document: no page either
    assert [route.path for route in nothing.routes] == ["/items"]
    assert TestClient(nothing).get("/docs").status_code == 404
    plain = App()
    add_docs_routes(plain)  # the document alone, as before
    assert [route.path for route in plain.routes] == ["/openapi.json"]


def test_swagger_ui_parameters_and_init_oauth_travel_as_escaped_json() -> None:
    hostile = '</script><script>alert(1)</script><!-- & \u2028 "quoted"'
    parameters = {"persistAuthorization": True, "docExpansion": "none", "filter": hostile}
    init_oauth = {"clientId": "docs", "usePkceWithAuthorizationCodeGrant": True}
    client = TestClient(
        make_app(swagger_ui_parameters=parameters, swagger_ui_init_oauth=init_oauth)
    )
    page = client.get("/docs").text
    assert "alert(1)</script>" not in page
    assert "<!--" not in page
    assert page.count("</script>") == 3  # the JSON block and the two script elements
    config = swagger_config(page)
    assert config["filter"] == hostile
    assert config["persistAuthorization"] is True
    assert config["docExpansion"] == "none"
    assert config["initOAuth"] == init_oauth
    assert config["deepLinking"] is True  # the defaults stay unless overridden
    overridden = swagger_config(
        get_swagger_ui_html(
            openapi_url="/o.json", title="T", swagger_ui_parameters={"deepLinking": False}
        ).body.decode()
    )
    assert overridden["deepLinking"] is False


def test_the_title_is_escaped() -> None:
    page = get_redoc_html(openapi_url='/o.json?a=1&b="2"', title="<b>Shop & co</b>")
    text = page.body.decode()
    assert "<title>&lt;b&gt;Shop &amp; co&lt;/b&gt;</title>" in text
    assert 'spec-url="/o.json?a=1&amp;b=&quot;2&quot;"' in text


def test_the_page_functions_serve_custom_routes() -> None:
    app = App()
    add_docs_assets(app, "/static/docs")
    add_docs_routes(app)

    @app.get("/my-docs", include_in_schema=False)
    async def my_docs() -> Response:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Mine",
            oauth2_redirect_url="/my-docs/redirect",
            assets_url="/static/docs",
        )

    @app.get("/my-docs/redirect", include_in_schema=False)
    async def redirect() -> Response:
        return get_swagger_ui_oauth2_redirect_html(assets_url="/static/docs")

    @app.get("/my-redoc", include_in_schema=False)
    async def my_redoc() -> Response:
        return get_redoc_html(openapi_url="/openapi.json", title="Mine", assets_url="/static/docs")

    client = TestClient(app)
    for path, csp in (
        ("/my-docs", SWAGGER_UI_CSP),
        ("/my-docs/redirect", SWAGGER_UI_OAUTH2_REDIRECT_CSP),
        ("/my-redoc", REDOC_CSP),
    ):
        page = client.get(path)
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == csp
        assert_offline(page.text)
        for url in urls_in(page.text):
            if url.startswith("/static/docs/"):
                assert client.get(url).headers["cache-control"] == IMMUTABLE
    assert swagger_config(client.get("/my-docs").text)["oauth2RedirectUrl"] == "/my-docs/redirect"
    assert client.get("/openapi.json").json()["paths"] == {}


def test_explicit_file_urls_and_google_fonts() -> None:
    page = get_swagger_ui_html(
        openapi_url="/o.json",
        title="T",
        swagger_js_url="/js/bundle.js",
        swagger_css_url="/css/ui.css",
        swagger_favicon_url="/icon.png",
        swagger_init_js_url="/js/init.js",
    ).body.decode()
    assert urls_in(page) == ["/css/ui.css", "/icon.png", "/js/bundle.js", "/js/init.js"]
    with pytest.raises(ValueError, match="another site"):
        get_redoc_html(openapi_url="/o.json", title="T", with_google_fonts=True)


def test_pages_follow_the_root_path() -> None:
    client = TestClient(make_app(), root_path="/api")
    page = client.get("/docs").text
    config = swagger_config(page)
    assert config["url"] == "/api/openapi.json"
    assert config["oauth2RedirectUrl"] == "/api/docs/oauth2-redirect"
    assert all(url.startswith("/api/docs/assets/") for url in urls_in(page))
    assert '<redoc spec-url="/api/openapi.json">' in client.get("/redoc").text


def test_the_app_dependencies_do_not_guard_the_pages_unless_asked() -> None:
    open_app = make_app(token_app=True)  # an app whose every route needs X-Token
    client = TestClient(open_app)
    assert client.get("/items").status_code == 422
    page = client.get("/docs")
    assert page.status_code == 200
    for path in ("/redoc", "/docs/oauth2-redirect", "/openapi.json", *urls_in(page.text)):
        assert client.get(path).status_code == 200, path
    guarded = make_app(token_app=True, dependencies=[Depends(require_token)])
    client = TestClient(guarded)
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect", "/openapi.json", *urls_in(page.text)):
        assert client.get(path).status_code == 422, path
        assert client.get(path, headers={"x-token": "secret"}).status_code == 200, path


def test_the_pages_add_no_middleware_and_nothing_to_other_routes() -> None:
    bare = App()
    with_docs = App()
    for app in (bare, with_docs):

        @app.get("/items")
        async def items(request: Request) -> list[str]:
            return ["a"]

    before = list(with_docs.user_middleware)
    Docs(with_docs).install("/openapi.json", "/docs", "/redoc")
    assert with_docs.user_middleware == before == []
    assert all(not route.include_in_schema for route in with_docs.routes[1:])
    one, other = TestClient(bare).get("/items"), TestClient(with_docs).get("/items")
    assert one.headers == other.headers
    assert one.content == other.content


def load_build_assets() -> ModuleType:
    path = PACKAGE_ROOT / "build_assets.py"
    spec = importlib.util.spec_from_file_location("qake_docs_build_assets_under_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def package_copy(tmp_path: Path, with_assets: bool) -> Path:
    root = tmp_path / "qake-docs"
    (root / "src" / "qake_docs").mkdir(parents=True)
    shutil.copy(PACKAGE_ROOT / "src" / "qake_docs" / "_asset_pins.py", root / "src" / "qake_docs")
    if with_assets:
        shutil.copytree(ASSETS, root / "src" / "qake_docs" / "_assets")
    return root


def test_the_build_hook_uses_files_already_there_without_the_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_assets = load_build_assets()

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(build_assets.urllib.request, "urlopen", no_network)
    root = package_copy(tmp_path, with_assets=True)
    paths = build_assets.ensure_assets(root)
    assert sorted(path.name for path in paths) == sorted(PINNED)


def test_the_build_hook_says_what_it_needs_when_the_download_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_assets = load_build_assets()
    asked: list[str] = []

    def unreachable(url: str, timeout: float) -> None:
        asked.append(url)
        raise urllib.error.URLError("Connection refused")

    monkeypatch.setattr(build_assets.urllib.request, "urlopen", unreachable)
    root = package_copy(tmp_path, with_assets=False)
    pin = PINS[0]
    with pytest.raises(RuntimeError) as failure:
        build_assets.ensure_assets(root)
    message = str(failure.value)
    assert asked == [pin.url]
    assert pin.url == (
        f"https://registry.npmjs.org/{pin.package}/-/{pin.package}-{pin.version}.tgz"
    )
    for needed in (pin.package, pin.version, pin.url, "Connection refused"):
        assert needed in message


def test_the_build_hook_refuses_a_tarball_that_is_not_the_pinned_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_assets = load_build_assets()

    class Answer:
        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def read(self) -> bytes:
            return b"not the tarball"

    monkeypatch.setattr(build_assets.urllib.request, "urlopen", lambda url, timeout: Answer())
    root = package_copy(tmp_path, with_assets=True)
    (root / "src" / "qake_docs" / "_assets" / "swagger-ui.css").write_bytes(b"tampered")
    with pytest.raises(RuntimeError, match="does not match its pinned integrity"):
        build_assets.ensure_assets(root)
    assert (root / "src" / "qake_docs" / "_assets" / "swagger-ui.css").read_bytes() == b"tampered"
