"""The example app under ASGI servers other than uvicorn, on a free loopback port: the
command docs/deployment-scale.md shows, run as written but for its address.

``App.__call__`` is a plain function returning the route's coroutine (one coroutine
fewer per request); a server must still take the app for ASGI 3. Hypercorn asks
``inspect.iscoroutinefunction(app.__call__)``, which before Python 3.12 knows no mark
(``qake_core._asgi3``): it would call an ASGI 2 app, ``app(scope)``, and every request
would fail.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import httpx
import pytest
from qake_server import ROOT, free_port, serving


def documented(server: str) -> list[str]:
    """The first ``server ...`` command of docs/deployment-scale.md's bash blocks."""
    text = (ROOT / "docs" / "deployment-scale.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.DOTALL)
    commands = [x for b in blocks for x in b.splitlines() if x.startswith(f"{server} ")]
    assert commands, f"docs/deployment-scale.md shows no {server} command"
    return shlex.split(commands[0])


def test_hypercorn_serves_the_example_app_as_documented(tmp_path: Path) -> None:
    # In the test environment (hatch.toml); not in the qakeapi package's own venv
    # (.ci/a_la_carte.sh), which holds only what the package needs.
    pytest.importorskip("hypercorn")
    args = documented("hypercorn")
    assert args[1] == "examples.basic_app:app"
    port = free_port()
    args[args.index("--bind") + 1] = f"127.0.0.1:{port}"
    command = [sys.executable, "-m", *args]
    with serving(command, port, log=tmp_path / "hypercorn.log", ready="/items/1") as server:
        item = httpx.get(server.base + "/items/1")
        assert (item.status_code, item.json()) == (200, {"name": "Hammer", "price": 9.5})
        assert item.headers["x-content-type-options"] == "nosniff"
        created = httpx.post(server.base + "/items", json={"name": "Saw", "price": 12})
        assert created.status_code == 201
        missing = httpx.get(server.base + "/nowhere")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
