"""``examples/auth_app.py``: sign-up, OAuth2 password login with JWTs and refresh
rotation, roles and a permission, API keys, a rate-limited login, and the session-backed
HTML form protected by CSRF — each through HTTP, as a client sees it."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator

import pytest

from examples.auth_app import create_app
from qakeapi.testing import TestClient, assert_no_findings, scan

ADMIN_PASSWORD = "admin password for tests"
ALICE_PASSWORD = "alice's long password"
SECRET = b"k" * 32


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(secret=SECRET, admin_password=ADMIN_PASSWORD)
    with TestClient(app, base_url="https://testserver") as c:
        yield c


def signup(client: TestClient, username: str = "alice", password: str = ALICE_PASSWORD) -> None:
    response = client.post("/signup", json={"username": username, "password": password})
    assert response.status_code == 201, response.text


def tokens(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_signup_stores_a_password_hash_never_the_password(tmp_path: object) -> None:
    db = f"{tmp_path}/users.db"
    with TestClient(create_app(secret=SECRET, database=db), base_url="https://testserver") as c:
        signup(c)
        assert (
            c.post("/signup", json={"username": "alice", "password": "x" * 12}).status_code == 409
        )
        short = c.post("/signup", json={"username": "bob", "password": "pw-Tiny"})
        assert short.status_code == 422
        assert "pw-Tiny" not in short.text
    (stored,) = sqlite3.connect(db).execute("SELECT password_hash FROM users").fetchone()
    assert stored.startswith(("$argon2id$", "$scrypt$"))
    assert ALICE_PASSWORD not in stored


def test_password_login_issues_tokens_that_authenticate(client: TestClient) -> None:
    signup(client)
    pair = tokens(client, "alice", ALICE_PASSWORD)
    assert pair["token_type"] == "bearer"
    assert client.get("/me", headers=bearer(pair["access_token"])).json() == {
        "username": "alice",
        "roles": [],
    }
    wrong = client.post("/token", data={"username": "alice", "password": "not it at all"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    unknown = client.post("/token", data={"username": "nobody", "password": "whatever123"})
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == wrong.json()["detail"]
    assert client.get("/me").status_code == 401
    # a refresh token is not an access token (another key and audience)
    assert client.get("/me", headers=bearer(pair["refresh_token"])).status_code == 401


def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_login(
    client: TestClient,
) -> None:
    signup(client)
    first = tokens(client, "alice", ALICE_PASSWORD)
    second = client.post("/token/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()["refresh_token"]
    assert rotated != first["refresh_token"]
    # the first refresh token again: refused, and the whole family is revoked
    replay = client.post("/token/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert client.post("/token/refresh", json={"refresh_token": rotated}).status_code == 401
    # an access token is no refresh token
    access = client.post("/token/refresh", json={"refresh_token": first["access_token"]})
    assert access.status_code == 401


def test_roles_and_the_owner_or_admin_permission(client: TestClient) -> None:
    signup(client)
    signup(client, "bob", "bob's long password")
    alice = bearer(tokens(client, "alice", ALICE_PASSWORD)["access_token"])
    admin = bearer(tokens(client, "admin", ADMIN_PASSWORD)["access_token"])
    assert client.get("/admin/users").status_code == 401
    assert client.get("/admin/users", headers=alice).status_code == 403
    listed = client.get("/admin/users", params={"sort": "created"}, headers=admin)
    assert [u["username"] for u in listed.json()] == ["admin", "alice", "bob"]
    # the sort column is an identifier: only allow-listed names reach the SQL text
    hostile = client.get(
        "/admin/users", params={"sort": "username; DROP TABLE users"}, headers=admin
    )
    assert hostile.status_code == 422
    assert client.get("/admin/users", headers=admin).status_code == 200
    assert client.get("/users/alice/notes", headers=alice).status_code == 200
    assert client.get("/users/bob/notes", headers=alice).status_code == 403
    assert client.get("/users/bob/notes", headers=admin).status_code == 200
    assert client.get("/users/bob/notes").status_code == 401


def test_api_keys_for_a_machine_client(client: TestClient) -> None:
    signup(client)
    admin = bearer(tokens(client, "admin", ADMIN_PASSWORD)["access_token"])
    alice = bearer(tokens(client, "alice", ALICE_PASSWORD)["access_token"])
    assert client.post("/admin/api-keys", json={"client": "etl"}, headers=alice).status_code == 403
    issued = client.post("/admin/api-keys", json={"client": "etl"}, headers=admin)
    assert issued.status_code == 201
    key = issued.json()["api_key"]
    report = client.get("/machine/report", headers={"X-API-Key": key})
    assert report.json() == {"client": "etl", "users": 2}
    assert "ratelimit-policy" in report.headers
    assert client.get("/machine/report", headers={"X-API-Key": key + "x"}).status_code == 401
    missing = client.get("/machine/report")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "APIKey"


def test_the_login_is_rate_limited() -> None:
    app = create_app(secret=SECRET, login_rate="3/minute")
    with TestClient(app, base_url="https://testserver") as client:
        answers = [
            client.post("/token", data={"username": "alice", "password": f"guess {i}"})
            for i in range(4)
        ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    limited = answers[-1]
    assert int(limited.headers["retry-after"]) > 0
    assert limited.headers["ratelimit-policy"] == '"login";q=3;w=60'
    assert limited.headers["content-type"].startswith("application/problem+json")


def csrf_field(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def test_the_html_form_needs_its_csrf_token_and_keeps_payloads_inert(
    client: TestClient,
) -> None:
    signup(client)
    token = csrf_field(client.get("/").text)
    credentials = {"username": "alice", "password": ALICE_PASSWORD}
    assert client.post("/login", data=credentials).status_code == 403
    cross_site = client.post(
        "/login",
        data={**credentials, "csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross_site.status_code == 403
    logged_in = client.post(
        "/login", data={**credentials, "csrf_token": token}, follow_redirects=False
    )
    assert logged_in.status_code == 303
    page = client.get("/").text
    assert "Notes of alice" in page
    # login rotated the session: the pre-login token is refused
    assert client.post("/notes", data={"text": "x", "csrf_token": token}).status_code == 403
    token = csrf_field(page)
    for payload in ("<script>alert(1)</script>", "'); DROP TABLE notes; --"):
        added = client.post(
            "/notes", data={"text": payload, "csrf_token": token}, follow_redirects=False
        )
        assert added.status_code == 303
    page = client.get("/").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert "&#39;); DROP TABLE notes; --" in page
    alice = bearer(tokens(client, "alice", ALICE_PASSWORD)["access_token"])
    assert client.get("/users/alice/notes", headers=alice).json() == [
        "<script>alert(1)</script>",
        "'); DROP TABLE notes; --",
    ]
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert "Log in" in client.get("/").text


def test_login_as_issues_an_access_token(client: TestClient) -> None:
    client.login_as("carol", roles=["admin"])
    assert client.get("/admin/users").status_code == 200
    assert client.get("/me").json() == {"username": "carol", "roles": ["admin"]}


def test_no_password_reaches_a_log_record_or_a_body(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    signup(client)
    bodies = [
        client.post("/token", data={"username": "alice", "password": ALICE_PASSWORD}).text,
        client.post(
            "/token", data={"username": "alice", "password": "wrong " + ALICE_PASSWORD}
        ).text,
        client.post("/signup", json={"username": "b", "password": ALICE_PASSWORD}).text,
        client.post("/signup", json={"username": "bob", "password": ALICE_PASSWORD[:5]}).text,
    ]
    for text in (*bodies, caplog.text):
        assert ALICE_PASSWORD not in text
        assert ALICE_PASSWORD[:5] + '"' not in text


def test_hostile_inputs_find_nothing_in_the_auth_example() -> None:
    """qake-testing's scanner (hostile inputs on every operation, headers, CORS) finds
    nothing: no 5xx, no reflected payload, every security header qake-security sets."""
    app = create_app(secret=SECRET, admin_password=ADMIN_PASSWORD, login_rate="1000/minute")
    report = scan(app)
    assert len(report.operations) >= 12
    assert_no_findings(report)
