"""Issue 18: ``MetricsMiddleware``'s ``websocket_connections`` gauge on a QakeAPI app's
WebSocket routes, and the metrics route out of its OpenAPI document
(tests/core/test_metrics.py covers the HTTP metrics)."""

from __future__ import annotations

import pytest

from qakeapi import MetricsMiddleware, QakeAPI, WebSocket, add_metrics_route
from qakeapi.testing import TestClient

prometheus_client = pytest.importorskip(
    "prometheus_client", reason="MetricsMiddleware needs prometheus-client (qake-core[metrics])"
)
CollectorRegistry = prometheus_client.CollectorRegistry


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def test_websocket_connections_are_a_gauge_by_route() -> None:
    registry = CollectorRegistry()
    app = QakeAPI()
    app.add_middleware(MetricsMiddleware, registry=registry)

    @app.websocket("/rooms/{room}")
    async def room(websocket: WebSocket, room: str) -> None:
        await websocket.accept()
        while True:
            message = await websocket.receive_text()
            if message == "count":
                value = sample(registry, "websocket_connections", route="/rooms/{room}")
                await websocket.send_text(str(value))
            else:
                await websocket.close()
                return

    with TestClient(app) as client:
        with (
            client.websocket_connect("/rooms/a") as one,
            client.websocket_connect("/rooms/b") as two,
        ):
            one.send_text("count")
            assert one.receive_text() == "2.0"
            two.send_text("bye")
        with client.websocket_connect("/rooms/c") as three:
            three.send_text("count")
            assert three.receive_text() == "1.0"
    assert sample(registry, "websocket_connections", route="/rooms/{room}") == 0
    # Not an HTTP request: no request counted.
    assert (
        registry.get_sample_value(
            "http_requests_total", {"method": "GET", "route": "/rooms/{room}", "status": "200"}
        )
        is None
    )


def test_the_metrics_route_stays_out_of_the_openapi_document() -> None:
    app = QakeAPI()
    add_metrics_route(app)

    @app.get("/items")
    async def items() -> list[int]:
        return []

    with TestClient(app) as client:
        paths = client.get("/openapi.json").json()["paths"]
        assert client.get("/metrics").status_code == 200
    assert list(paths) == ["/items"]
