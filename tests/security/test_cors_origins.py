"""CORSMiddleware refuses the look-alike and opaque origins that broke other
frameworks, with and without credentials; qake-testing's scanner agrees with
qake-security's defaults (headers and CORS)."""

from typing import Any

import pytest

from qake_core import App, HTMLResponse
from qake_security import CORSMiddleware
from qake_testing import FindingKind, TestClient, scan
from qakeapi import QakeAPI

SITE = "https://app.example.com"
LOOK_ALIKES = ["https://app.example.com.evil", "https://exampleXcom", "null"]


def make_client(**options: Any) -> TestClient:
    app = App()

    @app.get("/data")
    async def data() -> dict[str, int]:
        return {"n": 1}

    app.add_middleware(CORSMiddleware, allow_methods=["GET", "POST"], **options)
    return TestClient(app)


CONFIGS = [
    {"allow_origins": [SITE]},
    {"allow_origins": [SITE], "allow_credentials": True},
    {"allow_origins": ["https://example.com"], "allow_credentials": True},
    {"allow_origin_regex": r"https://[a-z]+\.example\.com"},
    {"allow_origin_regex": r"https://[a-z]+\.example\.com", "allow_credentials": True},
    {"allow_origin_regex": r"https://example\.com", "allow_credentials": True},
]


@pytest.mark.parametrize("options", CONFIGS)
@pytest.mark.parametrize("origin", LOOK_ALIKES)
def test_look_alike_and_null_origins_are_refused(options: dict[str, Any], origin: str) -> None:
    client = make_client(**options)
    simple = client.get("/data", headers={"origin": origin})
    assert simple.status_code == 200
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-credentials" not in simple.headers
    assert "origin" in simple.headers["vary"].lower()
    preflight = client.options(
        "/data", headers={"origin": origin, "access-control-request-method": "POST"}
    )
    assert preflight.status_code == 400
    assert preflight.headers["content-type"] == "application/problem+json"
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize("options", CONFIGS[:2] + CONFIGS[3:5])
def test_the_real_origin_is_allowed(options: dict[str, Any]) -> None:
    response = make_client(**options).get("/data", headers={"origin": SITE})
    assert response.headers["access-control-allow-origin"] == SITE


def test_an_unescaped_dot_is_refused_at_startup() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    for pattern in (
        "https://example.com",
        r"https://[a-z]+.example\.com",
        "https://app.example.com",
    ):
        for credentials in (False, True):
            with pytest.raises(ValueError, match=r"unescaped '\.'") as caught:
                CORSMiddleware(app, allow_origin_regex=pattern, allow_credentials=credentials)
            assert "\\\\." in str(caught.value)  # the message shows the escaped pattern
    # dots that mean "any character" on purpose, or inside a class, are accepted
    CORSMiddleware(app, allow_origin_regex=r"https://.*\.example\.com")
    CORSMiddleware(app, allow_origin_regex=r"https://[a-z.]+\.example\.com")


def test_null_with_credentials_is_refused_at_startup() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        pass

    with pytest.raises(ValueError, match="null"):
        CORSMiddleware(app, allow_origins=["null"], allow_credentials=True)


def page_app(**options: Any) -> QakeAPI:
    app = QakeAPI(**options)

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>hello</p>")

    return app


def test_scanner_finds_nothing_on_qake_security_defaults() -> None:
    app = page_app()
    app.add_middleware(CORSMiddleware, allow_origins=[SITE], allow_credentials=True)
    report = scan(app, check_headers="strict", max_payloads=2)
    assert not report.of_kind(FindingKind.MISSING_SECURITY_HEADER), report.summary()
    assert not report.of_kind(FindingKind.INSECURE_CORS), report.summary()


def test_scanner_flags_what_differs_from_the_defaults() -> None:
    bare = scan(page_app(security_headers=False), check_headers="strict", max_payloads=1)
    missing = {(f.path, f.parameter) for f in bare.of_kind(FindingKind.MISSING_SECURITY_HEADER)}
    assert ("/items/{item_id}", "X-Content-Type-Options") in missing
    assert ("/page", "Permissions-Policy") in missing
    assert ("/page", "Cross-Origin-Resource-Policy") in missing
    # without frame-ancestors a CSP does not stop framing
    no_frame = scan(
        page_app(security_headers={"api_content_security_policy": "default-src 'none'"}),
        max_payloads=1,
    )
    framing = {f.parameter for f in no_frame.of_kind(FindingKind.MISSING_SECURITY_HEADER)}
    assert framing == {"Content-Security-Policy/X-Frame-Options"}


@pytest.mark.parametrize(
    ("options", "evidence"),
    [
        ({"allow_origin_regex": r"https?://.*"}, "reflects"),
        ({"allow_origins": ["null", SITE]}, "null origin"),
    ],
)
def test_scanner_flags_reflection_and_null(options: dict[str, Any], evidence: str) -> None:
    app = page_app()
    app.add_middleware(CORSMiddleware, **options)
    found = scan(app, max_payloads=1).of_kind(FindingKind.INSECURE_CORS)
    assert found
    assert any(evidence in f.evidence for f in found)
