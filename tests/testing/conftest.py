from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # The plugin tests need pytester; a conftest below the rootdir may not use
    # `pytest_plugins`, so load it here if the run did not (`-p pytester`).
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
