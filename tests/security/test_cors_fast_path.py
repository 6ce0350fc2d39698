"""CORSMiddleware's simple-request path: what it adds, what it leaves alone, and how it
merges with the headers the app set itself (Vary, its own CORS headers)."""

from __future__ import annotations

from typing import Any

import pytest

from qake_core import App, PlainTextResponse
from qake_core.types import Message, Receive, Scope, Send
from qake_security import CORSMiddleware
from qake_testing import TestClient

SITE = "https://app.example.com"
OTHER = "https://admin.example.com"
EVIL = "https://evil.example"


def make_app(**options: Any) -> App:
    app = App()

    @app.get("/data")
    async def data() -> dict[str, int]:
        return {"n": 1}

    @app.get("/vary/{value}")
    async def vary(value: str) -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Vary": value, "X-Mine": "kept"})

    @app.get("/own-cors")
    async def own_cors() -> PlainTextResponse:
        return PlainTextResponse(
            "x",
            headers={"Access-Control-Allow-Origin": "https://stale.example", "X-Mine": "kept"},
        )

    app.add_middleware(CORSMiddleware, **options)
    return app


def get(app: Any, path: str = "/data", origins: tuple[str, ...] = ()) -> Any:
    """``origins`` as that many ``Origin`` header lines (raw, so that several can be sent)."""
    headers = [("origin", origin) for origin in origins]
    with TestClient(app) as client:
        return client.get(path, headers=headers)


def cors_names(response: Any) -> set[str]:
    return {name for name in response.headers if name.startswith("access-control-")}


def test_an_allowed_origin_gets_each_header_exactly_once() -> None:
    app = make_app(
        allow_origins=[SITE, OTHER], allow_credentials=True, expose_headers=["X-Total", "X-Page"]
    )
    for origin in (SITE, OTHER, SITE):  # the prebuilt lines are reused, never grown
        response = get(app, origins=(origin,))
        assert response.json() == {"n": 1}
        assert response.headers.get_list("access-control-allow-origin") == [origin]
        assert response.headers.get_list("access-control-allow-credentials") == ["true"]
        assert response.headers.get_list("access-control-expose-headers") == ["X-Total, X-Page"]
        assert response.headers.get_list("vary") == ["Origin"]


def test_no_origin_adds_only_vary() -> None:
    app = make_app(allow_origins=[SITE], allow_credentials=True)
    plain = get(app)
    assert plain.json() == {"n": 1}
    assert cors_names(plain) == set()
    assert plain.headers.get_list("vary") == ["Origin"]


@pytest.mark.parametrize(
    "origin",
    [
        EVIL,
        "https://app.example.com.evil",
        "HTTPS://APP.EXAMPLE.COM",  # an origin is compared exactly, as the browser sends it
        "https://app.example.com/",
        "https://app.example.com:443",
        "null",
        "",
    ],
)
def test_a_disallowed_origin_changes_nothing_but_vary(origin: str) -> None:
    app = make_app(allow_origins=[SITE], allow_credentials=True)
    response = get(app, "/vary/Accept", origins=(origin,))
    assert response.text == "x"
    assert cors_names(response) == set()
    assert response.headers["x-mine"] == "kept"
    assert response.headers.get_list("vary") == ["Accept, Origin"]


@pytest.mark.parametrize("origins", [(SITE, SITE), (EVIL, SITE), (SITE, EVIL)])
def test_several_origin_headers_are_never_allowed(origins: tuple[str, ...]) -> None:
    """RFC 9110 §5.3: several lines are one comma-joined value, which is no origin."""
    app = make_app(allow_origins=[SITE], allow_credentials=True)
    response = get(app, origins=origins)
    assert response.status_code == 200
    assert cors_names(response) == set()
    assert response.headers.get_list("vary") == ["Origin"]


def test_a_preflight_with_several_origin_headers_is_refused() -> None:
    app = make_app(allow_origins=[SITE])
    headers = [("origin", SITE), ("origin", SITE), ("access-control-request-method", "GET")]
    with TestClient(app) as client:
        response = client.options("/data", headers=headers)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("app_vary", "expected"),
    [
        ("Accept-Encoding", "Accept-Encoding, Origin"),
        ("Accept-Encoding, Cookie", "Accept-Encoding, Cookie, Origin"),
        ("origin", "origin"),  # already listed (field names are case-insensitive)
        ("Accept, Origin", "Accept, Origin"),
        ("*", "*"),  # varies on everything already
        ("X-Origin-Id", "X-Origin-Id, Origin"),  # a name containing "origin" is not Origin
    ],
)
def test_vary_origin_is_merged_with_the_apps(app_vary: str, expected: str) -> None:
    app = make_app(allow_origins=[SITE])
    for origins in ((SITE,), (), (EVIL,)):
        response = get(app, f"/vary/{app_vary}", origins=origins)
        assert response.headers.get_list("vary") == [expected]
        assert response.headers["x-mine"] == "kept"
    allowed = get(app, f"/vary/{app_vary}", origins=(SITE,))
    assert allowed.headers["access-control-allow-origin"] == SITE


def test_the_apps_own_allow_origin_is_replaced_for_an_allowed_origin() -> None:
    app = make_app(allow_origins=[SITE])
    response = get(app, "/own-cors", origins=(SITE,))
    assert response.headers.get_list("access-control-allow-origin") == [SITE]
    assert response.headers.get_list("vary") == ["Origin"]
    assert response.headers["x-mine"] == "kept"


def test_any_origin_without_credentials_never_varies() -> None:
    app = make_app(allow_origins=["*"], expose_headers=["X-Total"])
    for origins in ((EVIL,), (SITE,)):
        response = get(app, origins=origins)
        assert response.headers.get_list("access-control-allow-origin") == ["*"]
        assert response.headers["access-control-expose-headers"] == "X-Total"
        assert "vary" not in response.headers
    untouched = get(app)  # no Origin: the response passes as the app sent it
    assert cors_names(untouched) == set()
    assert "vary" not in untouched.headers


def test_a_listed_origin_next_to_the_wildcard_gets_the_wildcard() -> None:
    app = make_app(allow_origins=["*", SITE])
    for origin in (SITE, EVIL):
        response = get(app, origins=(origin,))
        assert response.headers.get_list("access-control-allow-origin") == ["*"]
        assert "vary" not in response.headers


def test_a_regex_origin_is_echoed_and_a_listed_one_wins() -> None:
    app = make_app(
        allow_origins=[SITE], allow_origin_regex=r"https://[a-z]+\.shop\.example", max_age=5
    )
    shop = get(app, origins=("https://eu.shop.example",))
    assert shop.headers.get_list("access-control-allow-origin") == ["https://eu.shop.example"]
    assert shop.headers.get_list("vary") == ["Origin"]
    assert get(app, origins=(SITE,)).headers["access-control-allow-origin"] == SITE
    refused = get(app, origins=("https://eu.shop.example.evil",))
    assert cors_names(refused) == set()


def raw_app(headers: Any) -> Any:
    """A plain ASGI app sending ``headers`` as given (a tuple, a list, or none at all)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan support
        start: Message = {"type": "http.response.start", "status": 200}
        if headers is not None:
            start["headers"] = headers
        await send(start)
        await send({"type": "http.response.body", "body": b"ok"})

    return app


@pytest.mark.parametrize(
    "headers",
    [
        None,
        ((b"content-type", b"text/plain"),),
        [(b"content-type", b"text/plain"), (b"vary", b"Accept")],
    ],
)
def test_any_asgi_app_and_header_sequence(headers: Any) -> None:
    middleware = CORSMiddleware(raw_app(headers), allow_origins=[SITE])
    response = get(middleware, "/", origins=(SITE,))
    assert response.text == "ok"
    assert response.headers["access-control-allow-origin"] == SITE
    expected = "Accept, Origin" if headers and len(headers) == 2 else "Origin"
    assert response.headers.get_list("vary") == [expected]


def test_the_prebuilt_lines_are_never_shared_with_the_response() -> None:
    """A layer outside CORS that edits the header list in place (allowed by ASGI) must
    not change what the next request gets."""

    def appending(app: Any) -> Any:
        async def outer(scope: Scope, receive: Receive, send: Send) -> None:
            async def send_more(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"].append((b"x-outer", b"1"))
                await send(message)

            await app(scope, receive, send_more)

        return outer

    wrapped = appending(CORSMiddleware(raw_app([]), allow_origins=[SITE]))
    for _ in range(3):
        response = get(wrapped, "/", origins=(SITE,))
        assert response.headers.get_list("x-outer") == ["1"]
        assert response.headers.get_list("access-control-allow-origin") == [SITE]
    for _ in range(2):
        assert get(wrapped, "/").headers.get_list("x-outer") == ["1"]
