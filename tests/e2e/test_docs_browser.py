"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) in a headless chromium against a real
uvicorn, with every other network address unreachable: the pages render every
operation of the document from the app's own files (no CDN request, nothing the
Content-Security-Policy refuses), and Swagger UI's "Authorize" plus "Try it out" call a
protected route successfully, by a bearer token and by the OAuth2 password flow
(issue 16).

Debian's ``chromium`` is the browser (``.ci/run`` installs it; Playwright's own browser
download is not used).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from docs_oauth2_app import PASSWORD, USERNAME
from offline_browser import CHROMIUM, OfflinePage, offline_page
from playwright.sync_api import Locator, Page
from qake_server import Server, qake_run

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing (Debian's chromium package; .ci/run installs it)",
    ),
]

ADMIN_PASSWORD = "an admin password"
AUTH_PRELUDE = (
    f"import os; os.environ['AUTH_APP_ADMIN_PASSWORD'] = {ADMIN_PASSWORD!r}; "
    "os.environ['AUTH_APP_SECRET'] = 's' * 32"
)


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("auth") / "log"
    with qake_run("examples.auth_app:app", log=log, prelude=AUTH_PRELUDE) as server:
        yield server


@pytest.fixture(scope="module")
def oauth2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("oauth2") / "log"
    with qake_run("tests.e2e.docs_oauth2_app:app", log=log, ready="/openapi.json") as server:
        yield server


def operations(base: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``(METHOD, path, operation)`` of every operation in the served document."""
    document = httpx.get(base + "/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def assert_offline(offline: OfflinePage) -> None:
    assert offline.blocked == [], f"requests outside {offline.origin}: {offline.blocked}"
    assert offline.csp_violations == []


def opblock(page: Page, method: str, path: str) -> Locator:
    summary_path = page.locator(f'.opblock-summary-path[data-path="{path}"]')
    return page.locator(f".opblock.opblock-{method.lower()}", has=summary_path)


def execute(page: Page, method: str, path: str) -> tuple[str, str]:
    """ "Try it out" → "Execute" on an operation without parameters: the status and
    body Swagger UI shows."""
    block = opblock(page, method, path)
    if not block.locator(".try-out__btn").is_visible():
        block.locator(".opblock-summary-control").click()
        block.locator(".try-out__btn").click()
    execute = block.locator("button.execute")
    clear = block.locator("button.btn-clear")
    if clear.is_visible():
        clear.click()
    execute.click()
    live = block.locator(".live-responses-table")
    status = live.locator("tbody .response-col_status").first
    status.wait_for()
    body = live.locator(".response-col_description .highlight-code").first
    body.wait_for()
    return status.inner_text().strip(), body.inner_text()


def open_authorize(page: Page) -> Locator:
    page.locator(".auth-wrapper button.authorize").click()
    modal = page.locator(".modal-ux")
    modal.wait_for()
    return modal


def test_a_request_to_another_address_is_refused_and_recorded(auth_server: Server) -> None:
    """The harness itself: what a page loading Swagger UI from a CDN would meet."""
    cdn = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
    with offline_page(auth_server.base) as offline:
        page = offline.page
        page.set_content(f'<script src="{cdn}"></script>')  # a page without a CSP
        assert offline.blocked == [cdn]
        # On /docs the page's Content-Security-Policy refuses it before the network.
        page.goto(offline.url("/docs"))
        outcome = page.evaluate("url => fetch(url).then(() => 'fetched', () => 'refused')", cdn)
        assert outcome == "refused"
        assert offline.blocked == [cdn]
        assert any(cdn in line for line in offline.csp_violations), offline.csp_violations


def test_swagger_ui_renders_the_operations_offline(auth_server: Server) -> None:
    expected = [(method, path) for method, path, _ in operations(auth_server.base)]
    with offline_page(auth_server.base) as offline:
        page = offline.page
        page.goto(offline.url("/docs"))
        page.locator(".opblock").first.wait_for()
        methods = page.locator(".opblock-summary-method").all_inner_texts()
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert sorted(zip(methods, paths, strict=True)) == sorted(expected)
        assert page.locator(".info .title").inner_text().startswith("Auth example")
        assert_offline(offline)


def test_redoc_renders_the_operations_offline(auth_server: Server) -> None:
    summaries = [operation["summary"] for _, _, operation in operations(auth_server.base)]
    with offline_page(auth_server.base) as offline:
        page = offline.page
        page.goto(offline.url("/redoc"))
        page.locator("h2").first.wait_for()
        assert page.locator("h2").all_inner_texts() == summaries
        assert page.locator("h1").first.inner_text().startswith("Auth example")
        assert_offline(offline)


def test_swagger_ui_authorizes_a_bearer_token_and_calls_a_protected_route(
    auth_server: Server,
) -> None:
    login = httpx.post(
        auth_server.base + "/token", data={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert login.status_code == 200, login.text
    with offline_page(auth_server.base) as offline:
        page = offline.page
        page.goto(offline.url("/docs"))
        opblock(page, "GET", "/me").wait_for()
        status, _ = execute(page, "GET", "/me")
        assert status == "401"  # not signed in yet

        modal = open_authorize(page)
        bearer = modal.locator(".auth-container", has_text="(http, Bearer)")
        bearer.locator("#auth-bearer-value").fill(login.json()["access_token"])
        bearer.locator("button.authorize").click()
        bearer.locator("button", has_text="Logout").wait_for()  # Swagger UI holds the token now
        modal.locator("button.close-modal").click()

        status, body = execute(page, "GET", "/me")
        assert status == "200", body
        assert '"username": "admin"' in body
        assert_offline(offline)


def test_swagger_ui_signs_in_by_the_oauth2_password_flow(oauth2_server: Server) -> None:
    with offline_page(oauth2_server.base) as offline:
        page = offline.page
        page.goto(offline.url("/docs"))
        opblock(page, "GET", "/users/me").wait_for()
        status, _ = execute(page, "GET", "/users/me")
        assert status == "401"

        modal = open_authorize(page)
        modal.locator("#oauth_username").fill(USERNAME)
        modal.locator("#oauth_password").fill(PASSWORD)
        modal.locator("button.authorize").click()  # Swagger UI posts the form to /token
        modal.locator("button", has_text="Logout").wait_for()
        modal.locator("button.close-modal").click()

        status, body = execute(page, "GET", "/users/me")
        assert status == "200", body
        assert f'"username": "{USERNAME}"' in body
        assert_offline(offline)
