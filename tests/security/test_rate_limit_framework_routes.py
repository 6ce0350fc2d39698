"""RateLimitMiddleware lets the framework's own routes (the OpenAPI document, the docs
pages) through unless asked, as the app's dependencies do."""

from __future__ import annotations

import pytest

from qakeapi import QakeAPI
from qakeapi.security import RateLimitMiddleware
from qakeapi.testing import TestClient


def _app(**options: bool) -> QakeAPI:
    app = QakeAPI()
    app.add_middleware(RateLimitMiddleware, limit="1/minute", **options)

    @app.get("/items")
    async def items() -> list[int]:
        return [1]

    return app


def test_the_docs_routes_pass_the_middlewares_limit() -> None:
    client = TestClient(_app())
    assert client.get("/items").status_code == 200
    assert client.get("/items").status_code == 429
    for _ in range(3):
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/docs").status_code == 200
        assert client.get("/redoc").status_code == 200


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_limit_framework_routes_counts_them_too(path: str) -> None:
    client = TestClient(_app(limit_framework_routes=True))
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 429
