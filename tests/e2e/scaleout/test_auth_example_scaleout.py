"""``examples/auth_app.py`` on ``qake run --workers 2`` as docs/deployment-scale.md says to
run it (``AUTH_APP_SECRET``, ``AUTH_APP_DB`` a file, ``AUTH_APP_REDIS``): a user signed up
on one worker logs in on the other, an access token issued by one is accepted by the
other, the login rate limit is one quota for both, and the session page's login (a
signed-cookie session, CSRF-checked) done on one is seen by the other (issue 18).

Redis is a private ``redis-server``: the example's keys carry no per-test prefix.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from qake_server import free_port
from redis_process import RedisProcess, redis_process

from tests.e2e.scaleout.cluster import ROOT, Backend, RoundRobin, launch, pinned_clients

pytestmark = [pytest.mark.e2e, pytest.mark.redis, pytest.mark.scaleout]

pytest.importorskip("redis", reason="AUTH_APP_REDIS needs redis-py (qake-core's redis extra)")

__all__ = ["redis_process"]  # the fixture, imported for the test below

PASSWORD = "a long enough password"


@pytest.fixture
def workers(redis_process: RedisProcess, tmp_path: Path) -> Iterator[list[Backend]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "AUTH_APP_SECRET": secrets.token_hex(32),
        "AUTH_APP_DB": str(tmp_path / "auth.sqlite3"),
        "AUTH_APP_REDIS": redis_process.url,
    }
    command = [sys.executable, "-m", "qakeapi", "run", "tests.e2e.scaleout.auth_workers:app"]
    command += ["--port", str(port), "--workers", "2"]
    with launch(command, env=env, log=tmp_path / "workers.log", base=base):
        backends = pinned_clients(base, 2)
        try:
            yield backends
        finally:
            for backend in backends:
                backend.close()


def test_the_auth_example_on_two_workers_is_one_app(workers: list[Backend]) -> None:
    lb = RoundRobin(workers)
    signup = lb.request("POST", "/signup", on=0, json={"username": "carol", "password": PASSWORD})
    assert signup.status_code == 201, signup.text
    form = {"username": "carol", "password": PASSWORD}
    token = lb.request("POST", "/token", on=1, data=form)
    assert token.status_code == 200, token.text
    bearer = {"authorization": f"Bearer {token.json()['access_token']}"}
    for on in (0, 1):
        me = lb.request("GET", "/me", on=on, headers=bearer)
        assert me.status_code == 200, me.text
        assert me.json() == {"username": "carol", "roles": []}
    # /token allows 5 a minute per client: 1 used; of 5 more (alternating) the last is
    # refused, whichever worker it reaches.
    wrong = {"username": "carol", "password": "not the password at all"}
    statuses = [lb.request("POST", "/token", data=wrong).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429], statuses

    # The HTML page: the CSRF token in the form comes from worker 0, the login (a new
    # signed-cookie session) is posted to worker 1, worker 0 shows the notes page.
    page = lb.request("GET", "/", on=0)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None, page.text
    login = lb.request(
        "POST", "/login", on=1, data={**form, "csrf_token": match.group(1)}, follow_redirects=False
    )
    assert login.status_code == 303, login.text
    home = lb.request("GET", "/", on=0)
    assert "<h1>Notes of carol</h1>" in home.text
