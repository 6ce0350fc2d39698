"""The scanner's header and CORS checks, on hand-written apps (qake-testing alone): the
framing policy needs CSP frame-ancestors or X-Frame-Options, "strict" expects the page
set qake-security sends, and a reflected or null origin is reported."""

from __future__ import annotations

from typing import Any

import pytest
from testing_apps import respond

from qake_testing import FindingKind, ScanTarget, scan

TARGETS = [ScanTarget("GET", "/page"), ScanTarget("GET", "/data")]
PAGE_SET = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=()"),
    (b"x-permitted-cross-domain-policies", b"none"),
]
API_SET = [
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
]


def make_app(
    page: list[tuple[bytes, bytes]], api: list[tuple[bytes, bytes]], cors: str = ""
) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        origin = dict(scope["headers"]).get(b"origin", b"")
        extra: list[tuple[bytes, bytes]] = []
        if cors == "reflect" or (cors == "null" and origin == b"null"):
            extra = [(b"access-control-allow-origin", origin)]
        if scope["path"] == "/page":
            await respond(send, 200, b"<p>hi</p>", b"text/html; charset=utf-8", page + extra)
        else:
            await respond(send, 200, b"{}", headers=api + extra)

    return app


def missing(report: Any) -> set[tuple[str, str]]:
    return {(f.path, f.parameter) for f in report.of_kind(FindingKind.MISSING_SECURITY_HEADER)}


@pytest.mark.parametrize("check", [True, "strict"])
def test_the_default_set_passes(check: Any) -> None:
    report = scan(make_app(PAGE_SET, API_SET), TARGETS, check_headers=check, categories=[])
    assert report.ok, report.summary()


def test_strict_expects_the_page_set() -> None:
    page = PAGE_SET[:3]  # nosniff, CSP, Referrer-Policy only
    app = make_app(page, API_SET)
    assert scan(app, TARGETS, categories=[]).ok  # enough for the default check
    strict = missing(scan(app, TARGETS, check_headers="strict", categories=[]))
    assert strict == {
        ("/page", "Cross-Origin-Opener-Policy"),
        ("/page", "Cross-Origin-Resource-Policy"),
        ("/page", "Permissions-Policy"),
        ("/page", "X-Permitted-Cross-Domain-Policies"),
    }
    no_script_policy = [*PAGE_SET[:1], (b"content-security-policy", b"frame-ancestors 'none'")]
    report = scan(
        make_app(no_script_policy + PAGE_SET[2:], API_SET),
        TARGETS,
        check_headers="strict",
        categories=[],
    )
    assert missing(report) == {("/page", "Content-Security-Policy")}


def test_a_csp_without_frame_ancestors_is_no_framing_policy() -> None:
    api = [
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", b"default-src 'none'"),
    ]
    report = scan(make_app(PAGE_SET, api), TARGETS, categories=[])
    assert missing(report) == {("/data", "Content-Security-Policy/X-Frame-Options")}


@pytest.mark.parametrize(
    ("cors", "parameters"),
    [("reflect", {"header:Origin", "header:Origin=null"}), ("null", {"header:Origin=null"})],
)
def test_reflected_and_null_origins(cors: str, parameters: set[str]) -> None:
    report = scan(make_app(PAGE_SET, API_SET, cors), TARGETS, categories=[])
    found = report.of_kind(FindingKind.INSECURE_CORS)
    assert {f.path for f in found} == {"/page", "/data"}
    assert {f.parameter for f in found} == parameters
