"""QakeAPI end to end through the TestClient: defaults, OpenAPI, WebSockets."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel

from qakeapi import HTMLResponse, QakeAPI, WebSocket, WebSocketDisconnect
from qakeapi.security import API_CSP, DEFAULT_CSP, CORSMiddleware
from qakeapi.testing import TestClient


class Item(BaseModel):
    name: str
    price: float


def make_app(**options: Any) -> QakeAPI:
    app = QakeAPI(title="Shop", version="1.0", description="Things to buy", **options)

    @app.get("/items/{item_id:int}")
    async def read_item(item_id: int) -> Item:
        return Item(name=f"item {item_id}", price=9.5)

    @app.websocket("/ws")
    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        async for text in ws.iter_text():
            await ws.send_text(text)

    return app


def test_security_headers_on_by_default() -> None:
    app = make_app()

    @app.get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse("<h1>hi</h1>")

    client = TestClient(app)
    for path in ("/items/1", "/openapi.json", "/nowhere"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["content-security-policy"] == API_CSP, path
        assert "x-frame-options" not in headers, path
        assert "strict-transport-security" not in headers
    headers = client.get("/page").headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["content-security-policy"] == DEFAULT_CSP


def test_security_headers_options_and_off() -> None:
    options = {"api_content_security_policy": "frame-ancestors 'self'", "hsts": True}
    app = make_app(security_headers=options)
    headers = TestClient(app, base_url="https://testserver").get("/items/1").headers
    assert headers["content-security-policy"] == "frame-ancestors 'self'"
    assert headers["strict-transport-security"].startswith("max-age=")
    # HSTS only over HTTPS (RFC 6797 section 7.2)
    assert "strict-transport-security" not in TestClient(app).get("/items/1").headers
    off = TestClient(make_app(security_headers=False)).get("/items/1").headers
    assert "x-content-type-options" not in off
    assert "content-security-policy" not in off


def test_openapi_served_and_describes_the_app() -> None:
    app = make_app()
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "Shop", "version": "1.0", "description": "Things to buy"}
    assert list(doc["paths"]) == ["/items/{item_id}"]
    assert doc["paths"]["/items/{item_id}"]["get"]["parameters"][0]["name"] == "item_id"
    assert app.openapi() == doc


def test_openapi_url_none_serves_nothing() -> None:
    app = make_app(openapi_url=None)
    assert TestClient(app).get("/openapi.json").status_code == 404
    assert app.openapi()["info"]["title"] == "Shop"


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_websocket_echo(backend: Literal["asyncio", "trio"]) -> None:
    with TestClient(make_app(), backend=backend) as client:
        with client.websocket_connect("/ws") as session:
            for text in ("hello", "wörld"):
                session.send_text(text)
                assert session.receive_text() == text
        assert client.get("/items/2").json() == {"name": "item 2", "price": 9.5}


def test_design_example_with_cors() -> None:
    app = make_app()
    app.add_middleware(CORSMiddleware, allow_origins=["https://example.com"])
    client = TestClient(app)
    response = client.get("/items/1", headers={"origin": "https://example.com"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://example.com"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert issubclass(WebSocketDisconnect, Exception)
