"""The ``qake`` pytest plugin (entry point ``pytest11``), loaded in every pytest run.

Keep this module cheap: nothing heavier than pytest at import time; the clients, httpx
and anyio are imported inside the fixtures that need them.

Fixtures read the app under test from a fixture **named ``app``** that you define::

    @pytest.fixture
    def app():
        return create_app()

* ``qake_client`` — a :class:`~qake_testing.TestClient` for ``app``.
* ``qake_async_client`` — an :class:`~qake_testing.AsyncTestClient` (async tests, run by
  anyio's pytest plugin: mark them ``@pytest.mark.anyio``).
* ``qake_client_options`` — override it to pass keyword arguments to both clients.
* ``override`` — ``override(dependency, fake)`` sets ``app.dependency_overrides``; the
  dict's previous contents are restored after the test.

The app's lifespan runs around the client with ``@pytest.mark.qake_lifespan``, with
``--qake-lifespan`` on the command line, or ``qake_lifespan = true`` in the ini file;
``@pytest.mark.qake_lifespan(False)`` turns it off for one test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._async_client import AsyncTestClient
    from ._client import TestClient
    from ._overrides import DependencyOverrides

_MARKER = "qake_lifespan"
_SYNC_ONLY_OPTIONS = ("backend", "backend_options")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qake", "qake-testing")
    group.addoption(
        "--qake-lifespan",
        action="store_true",
        default=False,
        help="run the app's lifespan around the qake_client/qake_async_client fixtures",
    )
    parser.addini(
        "qake_lifespan",
        type="bool",
        default=False,
        help="run the app's lifespan around the qake_client/qake_async_client fixtures",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(enabled=True): run the app's lifespan (startup/shutdown) around the "
        "qake_client and qake_async_client fixtures",
    )


def _lifespan_wanted(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker(_MARKER)
    if marker is not None:
        return bool(marker.args[0] if marker.args else marker.kwargs.get("enabled", True))
    if request.config.getoption("qake_lifespan"):
        return True
    return bool(request.config.getini("qake_lifespan"))


@pytest.fixture
def qake_client_options() -> dict[str, Any]:
    """Keyword arguments for the ``qake_client``/``qake_async_client`` constructors."""
    return {}


@pytest.fixture
def qake_client(
    request: pytest.FixtureRequest, app: Any, qake_client_options: dict[str, Any]
) -> Iterator[TestClient]:
    """A sync TestClient for the ``app`` fixture."""
    from ._client import TestClient

    client = TestClient(app, **qake_client_options)
    if _lifespan_wanted(request):
        with client:
            yield client
    else:
        try:
            yield client
        finally:
            client.close()


@pytest.fixture
async def qake_async_client(
    request: pytest.FixtureRequest,
    anyio_backend: Any,
    app: Any,
    qake_client_options: dict[str, Any],
) -> AsyncIterator[AsyncTestClient]:
    """An AsyncTestClient for the ``app`` fixture, on the test's anyio backend."""
    from ._async_client import AsyncTestClient

    options = {k: v for k, v in qake_client_options.items() if k not in _SYNC_ONLY_OPTIONS}
    client = AsyncTestClient(app, **options)
    if _lifespan_wanted(request):
        async with client:
            yield client
    else:
        try:
            yield client
        finally:
            await client.aclose()


@pytest.fixture
def override(app: Any) -> Iterator[DependencyOverrides]:
    """``override(dependency, fake)``; ``app.dependency_overrides`` is restored afterwards."""
    from ._overrides import override_dependencies

    with override_dependencies(app) as helper:
        yield helper
