"""CSRFMiddleware: signed double-submit tokens bound to the session, Fetch metadata, Origin."""

from __future__ import annotations

from typing import Any

import pytest
from backends import every_backend  # noqa: F401 - the fixture
from markupsafe import Markup

from qake_core import App, Request
from qake_security import (
    CSRFMiddleware,
    SessionMiddleware,
    csrf_exempt,
    csrf_input,
    csrf_token,
    login,
)
from qake_testing import TestClient

KEY = "c" * 32
SESSION_KEY = "s" * 32
BASE = "https://testserver"
SELF = "https://testserver"
PARTNER = "https://partner.example.com"


# Every TestClient made without naming a backend runs the app on asyncio, then trio.
pytestmark = pytest.mark.usefixtures("every_backend")


def make_app(*, sessions: bool = True, **options: Any) -> App:
    options.setdefault("secret_keys", [KEY])
    options.setdefault("allowed_origins", [PARTNER])
    app = App()

    @app.get("/page")
    async def page(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request), "input": str(csrf_input(request))}

    @app.post("/submit")
    async def submit() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        data = await request.form()
        upload = data.get("file")
        content = None if upload is None or isinstance(upload, str) else await upload.read()
        return {"name": data.get("name"), "file": None if content is None else content.decode()}

    @app.post("/api/items")
    @csrf_exempt
    async def api_items() -> dict[str, bool]:
        return {"api": True}

    @app.post("/api/{thing}", name="machine")
    async def api_thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    @app.put("/api/{thing}")
    async def api_put(thing: str) -> dict[str, str]:
        return {"put": thing}

    @app.post("/login/{user}")
    async def do_login(request: Request, user: str) -> dict[str, str]:
        login(request, user)
        return {"user": user}

    app.add_middleware(CSRFMiddleware, exempt=["machine"], **options)
    if sessions:  # outside the CSRF middleware: tokens are bound to the session
        app.add_middleware(SessionMiddleware, secret_keys=[SESSION_KEY])
    return app


@pytest.fixture
def client() -> Any:
    with TestClient(make_app(), base_url=BASE) as client:
        yield client


def token_of(client: TestClient) -> str:
    response = client.get("/page")
    assert response.status_code == 200
    token = str(response.json()["token"])
    assert client.cookies["__Host-csrf"] == token
    return token


def assert_refused(response: Any) -> None:
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "CSRF check failed."


def test_safe_method_sets_the_cookie(client: TestClient) -> None:
    response = client.get("/page")
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-csrf=")]
    assert len(cookies) == 1
    token = response.json()["token"]
    assert cookies[0] == f"__Host-csrf={token}; Path=/; Secure; SameSite=Lax"
    again = client.get("/page")  # a valid cookie is kept, not re-issued
    assert again.json()["token"] == token
    assert not any(c.startswith("__Host-csrf=") for c in again.headers.get_list("set-cookie"))
    for method in ("HEAD", "OPTIONS"):
        assert client.request(method, "/page").status_code < 400


def test_valid_header_token(client: TestClient) -> None:
    token = token_of(client)
    response = client.post("/submit", headers={"x-csrf-token": token})
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_token_only_in_the_cookie_is_refused(client: TestClient) -> None:
    token_of(client)
    assert_refused(client.post("/submit"))
    assert_refused(client.post("/submit", json={"a": 1}))


def test_no_cookie_is_refused(client: TestClient) -> None:
    token = token_of(client)
    client.cookies.delete("__Host-csrf")
    assert_refused(client.post("/submit", headers={"x-csrf-token": token}))


def test_sec_fetch_site_cross_site_is_refused(client: TestClient) -> None:
    token = token_of(client)
    headers = {"x-csrf-token": token, "sec-fetch-site": "cross-site"}
    assert_refused(client.post("/submit", headers=headers))
    headers["sec-fetch-site"] = "same-origin"
    assert client.post("/submit", headers=headers).status_code == 200


def test_text_plain_json_without_token_is_refused(client: TestClient) -> None:
    token_of(client)
    # What an HTML form with enctype="text/plain" (or a no-preflight fetch) can send.
    response = client.post(
        "/submit",
        content=b'{"amount": 1000, "to": "attacker"}',
        headers={"content-type": "text/plain"},
    )
    assert_refused(response)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://testserver.evil",
        "http://testserver",
        "null",
        "https://partner.example.com.evil",
    ],
)
def test_wrong_origin_is_refused(client: TestClient, origin: str) -> None:
    token = token_of(client)
    assert_refused(client.post("/submit", headers={"x-csrf-token": token, "origin": origin}))


@pytest.mark.parametrize("origin", [SELF, PARTNER, "https://TESTSERVER:443"])
def test_own_and_allowed_origins_pass(client: TestClient, origin: str) -> None:
    token = token_of(client)
    response = client.post("/submit", headers={"x-csrf-token": token, "origin": origin})
    assert response.status_code == 200


def test_referer_when_origin_is_absent(client: TestClient) -> None:
    token = token_of(client)
    evil = {"x-csrf-token": token, "referer": "https://evil.example/page?x=1"}
    assert_refused(client.post("/submit", headers=evil))
    garbage = {"x-csrf-token": token, "referer": "not a url"}
    assert_refused(client.post("/submit", headers=garbage))
    own = {"x-csrf-token": token, "referer": f"{SELF}/page"}
    assert client.post("/submit", headers=own).status_code == 200
    # Origin, when present, is what counts.
    both = {"x-csrf-token": token, "origin": SELF, "referer": "https://evil.example/"}
    assert client.post("/submit", headers=both).status_code == 200


def test_form_field_and_the_handler_still_reads_the_form(client: TestClient) -> None:
    token = token_of(client)
    response = client.post("/form", data={"csrf_token": token, "name": "Zoë"})
    assert response.status_code == 200
    assert response.json() == {"name": "Zoë", "file": None}
    assert_refused(client.post("/form", data={"csrf_token": "x" + token, "name": "Zoë"}))
    assert_refused(client.post("/form", data={"name": "Zoë"}))


def test_non_ascii_token_is_refused_not_500(client: TestClient) -> None:
    token = token_of(client)
    assert_refused(client.post("/form", data={"csrf_token": token + "ü", "name": "x"}))
    raw = [(b"x-csrf-token", (token + "\xff").encode("latin-1"))]
    assert_refused(client.post("/submit", headers=raw))


def test_session_middleware_inside_is_refused() -> None:
    app = App()

    @app.get("/page")
    async def page() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(SessionMiddleware, secret_keys=[SESSION_KEY])
    app.add_middleware(CSRFMiddleware, secret_keys=[KEY])  # outside the session: wrong
    with TestClient(app, base_url=BASE) as client, pytest.raises(ValueError, match="first"):
        client.get("/page")


def test_multipart_form_field(client: TestClient) -> None:
    token = token_of(client)
    response = client.post(
        "/form",
        data={"csrf_token": token, "name": "doc"},
        files={"file": ("a.txt", b"file body", "text/plain")},
    )
    assert response.status_code == 200
    assert response.json() == {"name": "doc", "file": "file body"}
    refused = client.post("/form", data={"name": "doc"}, files={"file": ("a.txt", b"x")})
    assert_refused(refused)


def test_oversized_form_is_413_not_500(client: TestClient) -> None:
    token_of(client)
    response = client.post("/form", data={"name": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_exempt_routes(client: TestClient) -> None:
    assert client.post("/api/items").json() == {"api": True}  # @csrf_exempt
    assert client.post("/api/other").json() == {"thing": "other"}  # exempt=["machine"]
    # The exemption is the route's, not the path's: PUT on the same template is checked.
    assert_refused(client.put("/api/other"))
    assert_refused(client.post("/submit"))


def test_exempt_name_must_exist() -> None:
    app = make_app(sessions=False)
    app.add_middleware(CSRFMiddleware, secret_keys=[KEY], exempt=["no-such-route"])
    # Checked against the app's routes on the first request (loudly, every time).
    with TestClient(app, base_url=BASE) as client:
        for _ in range(2):
            with pytest.raises(ValueError, match="no-such-route"):
                client.get("/page")


def test_token_from_another_session_is_refused() -> None:
    app = make_app()
    with TestClient(app, base_url=BASE) as victim, TestClient(app, base_url=BASE) as attacker:
        token_of(victim)
        victim_session = victim.cookies["__Host-session"]
        attacker_token = token_of(attacker)
        # The attacker's own (valid) token and cookie, sent with the victim's session.
        attacker.cookies.set("__Host-session", victim_session, domain="testserver.local")
        assert_refused(attacker.post("/submit", headers={"x-csrf-token": attacker_token}))


def test_login_rotates_the_binding(client: TestClient) -> None:
    token = token_of(client)
    assert client.post("/login/alice", headers={"x-csrf-token": token}).status_code == 200
    assert_refused(client.post("/submit", headers={"x-csrf-token": token}))
    fresh = token_of(client)
    assert fresh != token
    assert client.post("/submit", headers={"x-csrf-token": fresh}).status_code == 200


def test_without_sessions_a_forged_cookie_is_refused() -> None:
    with TestClient(make_app(sessions=False), base_url=BASE) as client:
        token = token_of(client)
        assert client.post("/submit", headers={"x-csrf-token": token}).status_code == 200
        nonce = token.partition(".")[0]
        forged = f"{nonce}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        client.cookies.set("__Host-csrf", forged, domain="testserver.local")
        assert_refused(client.post("/submit", headers={"x-csrf-token": forged}))


def test_token_of_another_key_is_refused() -> None:
    with TestClient(make_app(sessions=False, secret_keys=["o" * 32]), base_url=BASE) as other:
        foreign = token_of(other)
    with TestClient(make_app(sessions=False), base_url=BASE) as client:
        client.cookies.set("__Host-csrf", foreign, domain="testserver.local")
        assert_refused(client.post("/submit", headers={"x-csrf-token": foreign}))


def test_csrf_input_is_escaped_markup() -> None:
    app = make_app(field_name='a"b<c>')
    with TestClient(app, base_url=BASE) as client:
        body = client.get("/page").json()
        token = body["token"]
        assert body["input"] == (f'<input type="hidden" name="a&quot;b&lt;c&gt;" value="{token}">')

    class Fake:
        scope = {"qake.csrf_token": None}

    with pytest.raises(RuntimeError, match="CSRFMiddleware"):
        csrf_token(Fake())  # type: ignore[arg-type]


def test_csrf_input_returns_markup() -> None:
    seen: list[Any] = []
    app = make_app()

    @app.get("/markup")
    async def markup(request: Request) -> dict[str, bool]:
        seen.append(csrf_input(request))
        return {"ok": True}

    with TestClient(app, base_url=BASE) as client:
        client.get("/markup")
    assert isinstance(seen[0], Markup)


def test_options_are_checked() -> None:
    def build(**options: Any) -> None:
        options.setdefault("secret_keys", [KEY])
        CSRFMiddleware(App(), **options)

    with pytest.raises(ValueError, match="at least 32 bytes"):
        build(secret_keys=["short"])
    with pytest.raises(ValueError, match="not an origin"):
        build(allowed_origins=["*"])
    with pytest.raises(ValueError, match="not an origin"):
        build(allowed_origins=["https://example.com/"])
    with pytest.raises(TypeError, match="not a string"):
        build(allowed_origins="https://example.com")
    with pytest.raises(ValueError, match="POST"):
        build(safe_methods=["GET", "POST"])
    with pytest.raises(ValueError, match="__Host-"):
        build(cookie_name="__Host-x", https_only=False)
    with pytest.raises(TypeError, match="unexpected keyword"):
        build(allow_origins=[PARTNER])


def test_plain_http_name_without_prefix() -> None:
    app = make_app(sessions=False, https_only=False)
    with TestClient(app) as client:
        response = client.get("/page")
        token = response.json()["token"]
        assert response.headers["set-cookie"] == f"csrf={token}; Path=/; SameSite=Lax"
        assert client.post("/submit", headers={"x-csrf-token": token}).status_code == 200
