"""``every_backend``: run a test module's apps on asyncio, then on trio.

Every ``TestClient`` a test makes without naming a backend gets the parametrised one.
qake-core's tests use it for every test (``tests/core/conftest.py``); another package's
test module opts in with ``pytestmark = pytest.mark.usefixtures("every_backend")``
after importing it (``tests/core`` is on pytest's ``pythonpath``).
"""

from __future__ import annotations

import pytest

from qake_testing import TestClient


@pytest.fixture(params=["asyncio", "trio"])
def every_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    backend = str(request.param)
    defaults = dict(TestClient.__init__.__kwdefaults__ or {})
    defaults["backend"] = backend
    monkeypatch.setattr(TestClient.__init__, "__kwdefaults__", defaults)
    return backend
