"""Schemathesis against the example apps under a real uvicorn (``qake run``): each
operation of ``/openapi.json`` with 15 derandomized positive and 15 negative examples,
checked for no server errors and for status codes, content types and response bodies
as documented (issue 16).

The auth example is exercised as a signed-in client: schemathesis is given the admin's
bearer token, an API key and a signed-in session for the security schemes the document
declares, and the session's CSRF token, so protected operations answer beyond 401/403.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from qake_server import Server, qake_run
from schemathesis.config import SchemathesisConfig
from schemathesis_run import Found, run_checks

pytestmark = pytest.mark.e2e

ADMIN_PASSWORD = "an admin password"
AUTH_PRELUDE = (
    f"import os; os.environ['AUTH_APP_ADMIN_PASSWORD'] = {ADMIN_PASSWORD!r}; "
    "os.environ['AUTH_APP_SECRET'] = 's' * 32"
)


def report(found: list[Found]) -> str:
    return f"{len(found)} schemathesis failure(s):\n" + "\n".join(map(str, found))


@pytest.fixture(scope="module")
def basic_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("basic") / "log"
    with qake_run("examples.basic_app:app", log=log) as server:
        yield server


@pytest.fixture(scope="module")
def db_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("db")
    prelude = (
        f"import os; os.environ['DB_APP_SQLITE'] = {str(folder / 'books.sqlite3')!r}; "
        "os.environ.pop('DB_APP_DSN', None)"
    )
    with qake_run(
        "examples.db_app:app", log=folder / "log", ready="/books", prelude=prelude
    ) as server:
        yield server


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("auth") / "log"
    with qake_run("examples.auth_app:app", log=log, prelude=AUTH_PRELUDE) as server:
        yield server


def test_schemathesis_finds_nothing_on_the_basic_example(basic_server: Server) -> None:
    schema = schemathesis.openapi.from_url(basic_server.base + "/openapi.json")
    found = run_checks(schema)
    assert not found, report(found)


def test_schemathesis_finds_nothing_on_the_db_example(db_server: Server) -> None:
    schema = schemathesis.openapi.from_url(db_server.base + "/openapi.json")
    found = run_checks(schema)
    assert not found, report(found)


class SignedIn:
    """The admin signed in every way the auth example offers."""

    def __init__(self, base: str) -> None:
        with httpx.Client(base_url=base) as client:
            token = client.post("/token", data={"username": "admin", "password": ADMIN_PASSWORD})
            assert token.status_code == 200, token.text
            self.bearer: str = token.json()["access_token"]
            key = client.post(
                "/admin/api-keys",
                json={"client": "schemathesis"},
                headers={"Authorization": f"Bearer {self.bearer}"},
            )
            assert key.status_code == 201, key.text
            self.api_key: str = key.json()["api_key"]
            # The __Host- cookies are Secure: kept by hand, sent as a header over http.
            self.cookies: dict[str, str] = {}
            self.csrf = self._page(client)
            signed_in = client.post(
                "/login",
                data={"username": "admin", "password": ADMIN_PASSWORD},
                headers=self._headers(),
            )
            assert signed_in.status_code == 303, signed_in.text
            self._keep(signed_in)
            self.csrf = self._page(client)  # a new session id: a new CSRF token

    def _headers(self) -> dict[str, str]:
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return {"Cookie": cookie, "X-CSRF-Token": getattr(self, "csrf", "")}

    def _keep(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name] = value

    def _page(self, client: httpx.Client) -> str:
        page = client.get("/", headers=self._headers())
        assert page.status_code == 200, page.text
        self._keep(page)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, page.text
        return match.group(1)

    def schemes(self, document: dict[str, Any]) -> dict[str, dict[str, str]]:
        """schemathesis' ``auth.openapi`` values for the document's security schemes."""
        out: dict[str, dict[str, str]] = {}
        for name, scheme in document["components"]["securitySchemes"].items():
            if scheme["type"] == "http" and scheme["scheme"].lower() == "bearer":
                out[name] = {"bearer": self.bearer}
            elif scheme["type"] == "apiKey" and scheme["in"] == "header":
                out[name] = {"api_key": self.api_key}
            elif scheme["type"] == "apiKey" and scheme["in"] == "cookie":
                out[name] = {"api_key": self.cookies[scheme["name"]]}
            elif scheme["type"] == "oauth2":
                out[name] = {"bearer": self.bearer}
        return out


def test_schemathesis_finds_nothing_on_the_auth_example(auth_server: Server) -> None:
    signed_in = SignedIn(auth_server.base)
    url = auth_server.base + "/openapi.json"
    document = httpx.get(url).json()
    schemes = signed_in.schemes(document)
    assert schemes, document["components"]["securitySchemes"]
    config = SchemathesisConfig.from_dict({"auth": {"openapi": schemes}})
    schema = schemathesis.openapi.from_url(url, config=config)
    found = run_checks(
        schema,
        # The CSRF token goes with the session and CSRF cookies it is bound to, on every
        # request (the session cookie also on operations that do not declare it).
        headers={"X-CSRF-Token": signed_in.csrf},
        cookies=signed_in.cookies,
    )
    assert not found, report(found)
