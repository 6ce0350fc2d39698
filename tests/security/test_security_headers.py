"""SecurityHeadersMiddleware: defaults, overrides, app-set headers win, pass-through."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from qake_core import App, HTMLResponse, PlainTextResponse, Response
from qake_security import (
    API_CSP,
    DEFAULT_CSP,
    SecurityHeadersMiddleware,
    security_header_sets,
    security_headers,
)
from qake_testing import TestClient

DEFAULTS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
    "content-security-policy": DEFAULT_CSP,
}
# What a response that is not a document (JSON, text, files) gets.
OTHER = {"x-content-type-options": "nosniff", "content-security-policy": API_CSP}
DOCUMENT_ONLY = ("x-frame-options", "referrer-policy", "cross-origin-opener-policy")


def make_app(**options: Any) -> App:
    app = App()

    @app.get("/")
    async def index() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/framed")
    async def framed() -> PlainTextResponse:
        return PlainTextResponse("hi", headers={"X-Frame-Options": "SAMEORIGIN"})

    @app.get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    @app.get("/svg")
    async def svg() -> Response:
        return Response(b"<svg/>", media_type="image/svg+xml")

    @app.get("/untyped")
    async def untyped() -> Response:
        return Response(b"?")

    app.add_middleware(SecurityHeadersMiddleware, **options)
    return app


def test_documents_get_the_full_set() -> None:
    client = TestClient(make_app())
    for path in ("/page", "/svg", "/untyped"):
        response = client.get(path)
        for name, value in DEFAULTS.items():
            assert response.headers[name] == value, (path, name)
        assert "strict-transport-security" not in response.headers


def test_other_responses_get_the_headers_that_act_on_them() -> None:
    client = TestClient(make_app())
    for path in ("/", "/missing"):  # JSON and a problem+json 404
        response = client.get(path)
        for name, value in OTHER.items():
            assert response.headers[name] == value, (path, name)
        for name in DOCUMENT_ONLY:
            assert name not in response.headers, (path, name)


def test_header_sets() -> None:
    sets = security_header_sets()
    assert sets.documents == security_headers()
    assert dict(sets.other) == {k.encode(): v.encode() for k, v in OTHER.items()}
    custom = security_header_sets(api_content_security_policy=None, hsts=True)
    assert [name for name, _ in custom.other] == [
        b"x-content-type-options",
        b"strict-transport-security",
    ]


def test_a_header_the_app_set_is_kept_and_not_duplicated() -> None:
    response = TestClient(make_app()).get("/framed")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_override_disable_hsts_and_extra() -> None:
    app = make_app(
        frame_options="SAMEORIGIN",
        content_security_policy=None,
        referrer_policy=False,
        hsts=True,
        extra={"Permissions-Policy": "camera=()"},
    )
    # HSTS only over HTTPS (RFC 6797 section 7.2)
    assert "strict-transport-security" not in TestClient(app).get("/page").headers
    secure = TestClient(app, base_url="https://testserver")
    headers = secure.get("/page").headers
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert "content-security-policy" not in headers
    assert "referrer-policy" not in headers
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert headers["permissions-policy"] == "camera=()"
    other = secure.get("/").headers
    assert other["content-security-policy"] == API_CSP  # its own option
    assert other["strict-transport-security"] == headers["strict-transport-security"]
    assert other["permissions-policy"] == "camera=()"


def test_hsts_preload_rules() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    mw = SecurityHeadersMiddleware(app, hsts=True, hsts_preload=True)
    assert (b"strict-transport-security", b"max-age=31536000; includeSubDomains; preload") in (
        mw.headers
    )
    with pytest.raises(ValueError, match="one year"):
        SecurityHeadersMiddleware(app, hsts=True, hsts_preload=True, hsts_max_age=60)
    with pytest.raises(ValueError, match="positive"):
        SecurityHeadersMiddleware(app, hsts=True, hsts_max_age=0)
    with pytest.raises(ValueError, match="line break"):
        SecurityHeadersMiddleware(app, extra={"X-Evil": "a\r\nSet-Cookie: x=1"})
    with pytest.raises(ValueError, match="as a string"):
        SecurityHeadersMiddleware(app, frame_options=True)


def test_non_http_scopes_pass_through_untouched() -> None:
    seen: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(send)

    async def send(message: Any) -> None:
        pass

    async def receive() -> Any:
        return {}

    mw = SecurityHeadersMiddleware(inner)
    anyio.run(mw, {"type": "websocket"}, receive, send)
    assert seen == [send]


def test_shared_response_header_lists_are_not_mutated() -> None:
    raw = [(b"content-type", b"text/plain"), (b"content-length", b"2")]

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": raw})
        await send({"type": "http.response.body", "body": b"ok"})

    client = TestClient(SecurityHeadersMiddleware(inner))
    for _ in range(2):
        assert client.get("/").headers["content-security-policy"] == API_CSP
    assert len(raw) == 2
