"""Every example app serves under ``qake run`` (a real uvicorn on a free loopback port):
it starts with its documented environment, answers a known route, and stops cleanly
(its lifespan's shutdown runs, nothing is logged as an error)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from qake_server import qake_run


class Example(NamedTuple):
    target: str
    path: str
    expect: str  # a piece of the answer's body
    environment: dict[str, str]


EXAMPLES = {
    "basic": Example("examples.basic_app:app", "/items/1", '"Hammer"', {}),
    "websocket": Example("examples.websocket_app:app", "/", 'action="/login"', {}),
    "auth": Example(
        "examples.auth_app:app",
        "/",
        'name="csrf_token"',
        {"AUTH_APP_SECRET": "s" * 32, "AUTH_APP_ADMIN_PASSWORD": "an admin password"},
    ),
    "db": Example(
        "examples.db_app:app", "/books", '"items":[]', {"DB_APP_SQLITE": "{tmp}/books.sqlite3"}
    ),
    "fullstack": Example(
        "examples.fullstack_app:app",
        "/",
        "No entries yet.",
        {"FULLSTACK_APP_SECRET": "s" * 32, "FULLSTACK_APP_DEMO_PASSWORD": "a demo password"},
    ),
}
#: What the examples read from the environment: the test's values only.
CLEARED = ("AUTH_APP_", "CHAT_APP_", "CHAT_REDIS_URL", "DB_APP_", "FULLSTACK_APP_")


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_example_serves_under_qake_run(name: str, tmp_path: Path) -> None:
    example = EXAMPLES[name]
    environment = {k: v.format(tmp=tmp_path) for k, v in example.environment.items()}
    prelude = (
        "import os\n"
        f"for name in [n for n in os.environ if n.startswith({CLEARED!r})]: del os.environ[name]\n"
        f"os.environ.update({environment!r})"
    )
    log = tmp_path / "server.log"
    with qake_run(example.target, log=log, ready=example.path, prelude=prelude) as server:
        response = httpx.get(server.base + example.path, timeout=5)
        assert response.status_code == 200, response.text
        assert example.expect in response.text
        assert response.headers["x-content-type-options"] == "nosniff"
    output = log.read_text()
    assert "Application startup complete" in output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    assert "Finished server process" in output
    assert not [line for line in output.splitlines() if line.startswith(("ERROR", "CRITICAL"))]
    assert "password" not in output  # the passwords given in the environment stay out
