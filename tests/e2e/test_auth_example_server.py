"""``qake run examples.auth_app:app`` serves the auth example under a real uvicorn."""

from __future__ import annotations

from pathlib import Path

import httpx
from qake_server import qake_run

PRELUDE = (
    "import os; os.environ['AUTH_APP_ADMIN_PASSWORD'] = 'an admin password'; "
    "os.environ['AUTH_APP_SECRET'] = 's' * 32"
)


def test_the_auth_example_runs_under_qake_run(tmp_path: Path) -> None:
    with qake_run("examples.auth_app:app", log=tmp_path / "log", prelude=PRELUDE) as server:
        with httpx.Client(base_url=server.base) as client:
            login = client.post(
                "/token", data={"username": "admin", "password": "an admin password"}
            )
            assert login.status_code == 200, login.text
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            assert client.get("/admin/users", headers=auth).json() == [
                {"username": "admin", "roles": ["admin"]}
            ]
            page = client.get("/")
            assert page.status_code == 200
            assert 'name="csrf_token"' in page.text
            assert page.headers["x-frame-options"] == "DENY"
            # no token in the form: the cookie alone never passes CSRF
            assert client.post("/login", data={"username": "admin"}).status_code == 403
        assert "an admin password" not in server.output()
