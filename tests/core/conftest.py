"""qake-core's tests run on both anyio backends: every ``TestClient`` a test makes
without naming a backend runs the app on asyncio, then on trio."""

from __future__ import annotations

import pytest
from backends import every_backend  # noqa: F401 - the fixture, used below


@pytest.fixture(autouse=True)
def client_backend(every_backend: str) -> str:  # noqa: F811 - the fixture imported above
    return every_backend


@pytest.fixture(params=[False, True], ids=["inline", "edge"])
def edge(request: pytest.FixtureRequest) -> bool:
    """Whether the test's app gets an edge middleware (``core_asgi.PassThrough``): the
    app routes inline in ``__call__`` without one, in its dispatcher under one."""
    return bool(request.param)
