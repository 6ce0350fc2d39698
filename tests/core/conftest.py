"""qake-core's tests run on both anyio backends: every ``TestClient`` a test makes
without naming a backend runs the app on asyncio, then on trio."""

from __future__ import annotations

import pytest

from qake_testing import TestClient


@pytest.fixture(autouse=True, params=["asyncio", "trio"])
def client_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    backend = str(request.param)
    defaults = dict(TestClient.__init__.__kwdefaults__ or {})
    defaults["backend"] = backend
    monkeypatch.setattr(TestClient.__init__, "__kwdefaults__", defaults)
    return backend


@pytest.fixture(params=[False, True], ids=["inline", "edge"])
def edge(request: pytest.FixtureRequest) -> bool:
    """Whether the test's app gets an edge middleware (``core_asgi.PassThrough``): the
    app routes inline in ``__call__`` without one, in its dispatcher under one."""
    return bool(request.param)
