from __future__ import annotations

from collections.abc import Callable

import pytest
from redis_process import redis_process  # noqa: F401 - the fixture, for the modules here

from qake_core import App
from qake_testing import TestClient
from qake_ws import compile_websocket_route


@pytest.fixture(params=["asyncio", "trio"])
def client_for(request: pytest.FixtureRequest) -> Callable[[App], TestClient]:
    """``client_for(app)``: a TestClient on each async backend."""
    backend = request.param

    def make(app: App) -> TestClient:
        return TestClient(app, backend=backend)

    return make


@pytest.fixture
def make_app() -> Callable[[], App]:
    """``make_app()``: a bare qake-core App with qake-ws as its WebSocket compiler."""

    def make() -> App:
        app = App()
        app.websocket_compiler = compile_websocket_route
        return app

    return make
