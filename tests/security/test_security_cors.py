"""CORSMiddleware: preflights, simple requests, Vary, and the credential mistakes refused."""

from __future__ import annotations

from typing import Any

import pytest

from qake_core import App, PlainTextResponse
from qake_security import CORSMiddleware
from qake_testing import TestClient

SITE = "https://app.example.com"
EVIL = "https://evil.example"


def make_client(**options: Any) -> TestClient:
    app = App()

    @app.get("/data")
    async def data() -> dict[str, int]:
        return {"n": 1}

    @app.post("/data")
    async def post_data() -> dict[str, int]:
        return {"n": 2}

    @app.get("/varied")
    async def varied() -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Vary": "Accept-Encoding"})

    app.add_middleware(CORSMiddleware, **options)
    return TestClient(app)


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("not called")


def preflight(
    client: TestClient, origin: str, method: str = "GET", headers: str | None = None
) -> Any:
    request_headers = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        request_headers["access-control-request-headers"] = headers
    return client.options("/data", headers=request_headers)


def test_simple_request_from_allowed_origin() -> None:
    client = make_client(allow_origins=[SITE], expose_headers=["X-Total"])
    response = client.get("/data", headers={"origin": SITE})
    assert response.json() == {"n": 1}
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-expose-headers"] == "X-Total"
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-credentials" not in response.headers


def test_simple_request_from_other_origin_gets_no_cors_headers_but_varies() -> None:
    client = make_client(allow_origins=[SITE])
    for headers in ({"origin": EVIL}, {}):
        response = client.get("/data", headers=headers)
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers
        assert response.headers["vary"] == "Origin"


def test_vary_is_merged_with_the_apps() -> None:
    client = make_client(allow_origins=[SITE])
    response = client.get("/varied", headers={"origin": SITE})
    assert response.headers.get_list("vary") == ["Accept-Encoding, Origin"]


def test_preflight_allowed() -> None:
    client = make_client(
        allow_origins=[SITE],
        allow_methods=["GET", "POST", "PUT"],
        allow_headers=["X-Token"],
        allow_credentials=True,
        max_age=60,
    )
    response = preflight(client, SITE, "PUT", "x-token, Content-Type")
    assert response.status_code == 204
    assert response.content == b""
    h = response.headers
    assert h["access-control-allow-origin"] == SITE
    assert h["access-control-allow-methods"] == "GET, POST, PUT"
    assert h["access-control-allow-headers"] == (
        "accept, accept-language, content-language, content-type, x-token"
    )
    assert h["access-control-allow-credentials"] == "true"
    assert h["access-control-max-age"] == "60"
    assert h["vary"] == "Origin"


@pytest.mark.parametrize(
    ("origin", "method", "headers", "detail"),
    [
        (EVIL, "GET", None, "origin 'https://evil.example' is not allowed"),
        (SITE, "DELETE", None, "method 'DELETE' is not allowed"),
        (SITE, "GET", "x-secret, accept", "header(s) x-secret not allowed"),
    ],
)
def test_preflight_refused_with_a_problem(
    origin: str, method: str, headers: str | None, detail: str
) -> None:
    response = preflight(make_client(allow_origins=[SITE]), origin, method, headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert "access-control-allow-origin" not in response.headers


def test_wildcards_without_credentials() -> None:
    client = make_client(allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
    response = preflight(client, EVIL, "PATCH", "X-Anything")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "PATCH" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "x-anything"
    simple = client.get("/data", headers={"origin": EVIL})
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "vary" not in simple.headers


def test_regex_origins() -> None:
    client = make_client(allow_origin_regex=r"https://[a-z]+\.example\.com", allow_credentials=True)
    ok = client.get("/data", headers={"origin": "https://shop.example.com"})
    assert ok.headers["access-control-allow-origin"] == "https://shop.example.com"
    assert ok.headers["access-control-allow-credentials"] == "true"
    # fullmatch: a look-alike suffix does not pass.
    bad = client.get("/data", headers={"origin": "https://shop.example.com.evil.example"})
    assert "access-control-allow-origin" not in bad.headers


def test_credentials_never_reflect_an_arbitrary_origin() -> None:
    client = make_client(allow_origins=[SITE], allow_credentials=True)
    response = client.get("/data", headers={"origin": EVIL, "cookie": "session=1"})
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-credentials" not in response.headers
    assert preflight(client, EVIL).status_code == 400


@pytest.mark.parametrize(
    "options",
    [
        {"allow_origins": ["*"]},
        {"allow_origins": ["null"]},
        {"allow_origin_regex": ".*"},
        {"allow_origin_regex": r"https://.*"},
    ],
)
def test_any_origin_with_credentials_is_refused_at_init(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="allow_credentials=True"):
        CORSMiddleware(asgi_app, allow_credentials=True, **options)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"allow_origins": ["https://example.com/"]}, "is not an origin"),
        ({"allow_origins": ["example.com"]}, "is not an origin"),
        ({"allow_origins": "https://example.com"}, "not a string"),
        ({"allow_origins": [SITE], "max_age": -1}, "max_age"),
    ],
)
def test_configuration_mistakes_are_refused(options: dict[str, Any], error: str) -> None:
    with pytest.raises((ValueError, TypeError), match=error):
        CORSMiddleware(asgi_app, **options)


def test_options_without_preflight_headers_reaches_the_app() -> None:
    client = make_client(allow_origins=[SITE])
    response = client.options("/data", headers={"origin": SITE})
    assert response.status_code == 204  # the app's automatic OPTIONS answer
    assert response.headers["access-control-allow-origin"] == SITE


def test_mistakes_also_fail_when_the_app_starts() -> None:
    client = make_client(allow_origins=["*"], allow_credentials=True)
    with pytest.raises(ValueError, match="allow_credentials=True"):
        client.get("/data")
