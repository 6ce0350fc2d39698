from __future__ import annotations

import pytest
from testing_scanner_apps import OPENAPI, RoutedApp, clean_app, vulnerable_app

from qake_testing import (
    FindingKind,
    ScanParam,
    ScanReport,
    ScanTarget,
    ascan,
    assert_no_findings,
    load_payloads,
    scan,
)
from qake_testing._scanner._targets import targets_from_openapi


@pytest.fixture(scope="module")
def report() -> ScanReport:
    return scan(vulnerable_app)


def test_openapi_discovery_resolves_refs() -> None:
    targets = {t.name: t for t in targets_from_openapi(OPENAPI)}
    assert set(targets) == {"GET /search", "GET /items/{item_id}", "POST /items"}
    assert targets["GET /items/{item_id}"].params == (ScanParam("item_id", "path", "integer"),)
    assert targets["POST /items"].params == (
        ScanParam("name", "body", "string"),
        ScanParam("price", "body", "number"),
    )


def test_vulnerable_app_has_every_kind_of_finding(report: ScanReport) -> None:
    assert set(report.operations) == {"GET /search", "GET /items/{item_id}", "POST /items"}
    assert {finding.kind for finding in report.findings} == set(FindingKind)
    assert not report.ok


def test_reflected_xss_is_found_on_the_html_route(report: ScanReport) -> None:
    (finding,) = report.of_kind(FindingKind.REFLECTED_XSS)
    assert (finding.method, finding.path, finding.parameter) == ("GET", "/search", "query:q")
    assert finding.payload is not None
    assert finding.payload in finding.evidence


def test_server_errors_and_stack_traces(report: ScanReport) -> None:
    errors = {(f.path, f.parameter) for f in report.of_kind(FindingKind.SERVER_ERROR)}
    assert ("/items/{item_id}", "path:item_id") in errors
    assert ("/items", "body:price") in errors
    assert ("/items", "body") in errors  # deeply nested / invalid JSON
    traces = report.of_kind(FindingKind.STACK_TRACE)
    assert traces
    assert all("Traceback" in f.evidence or "line" in f.evidence for f in traces)


def test_headers_and_cors(report: ScanReport) -> None:
    missing = {f.parameter for f in report.of_kind(FindingKind.MISSING_SECURITY_HEADER)}
    assert missing == {
        "X-Content-Type-Options",
        "Content-Security-Policy/X-Frame-Options",
        "Referrer-Policy",
    }
    cors = report.of_kind(FindingKind.INSECURE_CORS)
    assert {f.path for f in cors} == {"/search", "/items/{item_id}", "/items"}
    assert "https://evil.example" in cors[0].evidence


def test_summary_is_readable(report: ScanReport) -> None:
    summary = report.summary()
    assert summary.startswith("Security scan: 3 operations")
    assert "reflected_xss: GET /search [query:q]" in summary
    assert str(report) == summary


def test_clean_app_has_no_findings() -> None:
    report = assert_no_findings(clean_app)
    assert report.ok
    assert report.requests > 100
    assert report.summary().endswith("0 findings.")


def test_assert_no_findings_fails_with_the_summary() -> None:
    with pytest.raises(AssertionError, match="missing_security_header"):
        assert_no_findings(
            vulnerable_app,
            [("GET", "/search", [])],
            ignore=[FindingKind.INSECURE_CORS],
            max_payloads=1,
        )


def test_routes_discovery_without_openapi() -> None:
    report = scan(RoutedApp(), categories=["xss"], check_headers=False)
    assert sorted(report.operations) == ["GET /items/{item_id:int}", "GET /search"]
    assert report.of_kind(FindingKind.REFLECTED_XSS)
    assert ("path:item_id") in {f.parameter for f in report.of_kind(FindingKind.SERVER_ERROR)}


def test_explicit_targets_and_extra_payloads() -> None:
    marker = "<b id=qake-extra>"
    report = scan(
        vulnerable_app,
        [ScanTarget("GET", "/search", (ScanParam("q", "query"),))],
        categories=[],
        payloads={"custom": [marker]},
    )
    assert report.operations == ["GET /search"]
    (finding,) = report.of_kind(FindingKind.REFLECTED_XSS)
    assert finding.payload == marker


def test_payload_files_are_loaded() -> None:
    assert "<script>alert(1)</script>" in load_payloads("xss")
    assert all(load_payloads(c) for c in ("xss", "sqli", "traversal", "types"))


@pytest.mark.anyio
async def test_ascan() -> None:
    report = await ascan(clean_app, [("POST", "/items", [("price", "body")])], max_payloads=2)
    assert report.ok, report.summary()
