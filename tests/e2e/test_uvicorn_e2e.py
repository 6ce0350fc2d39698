"""The example app under a real uvicorn on a free loopback port, driven by httpx."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from qake_server import qake_run


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with qake_run("examples.basic_app:app", log=log) as running:
        yield running.base


def test_get_typed_path_param(server: str) -> None:
    r = httpx.get(server + "/items/1")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"name": "Hammer", "price": 9.5}


def test_post_json_body_validated(server: str) -> None:
    r = httpx.post(server + "/items", json={"name": "Saw", "price": 12})
    assert r.status_code == 201
    assert r.json()["item"] == {"name": "Saw", "price": 12.0}
    bad = httpx.post(server + "/items", json={"name": "Saw", "price": "cheap"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["loc"] == ["body", "price"]


def test_not_found_and_conversion_failure_are_problem_json(server: str) -> None:
    for path in ("/items/999", "/items/abc", "/nowhere"):
        r = httpx.get(server + path)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 404


def test_method_not_allowed_lists_allow(server: str) -> None:
    r = httpx.delete(server + "/items/1")
    assert r.status_code == 405
    assert "GET" in r.headers["allow"]


def test_streaming(server: str) -> None:
    with httpx.stream("GET", server + "/countdown") as r:
        body = b"".join(r.iter_bytes())
    assert body == b"3\n2\n1\nliftoff\n"


def test_malformed_json_is_4xx_not_500(server: str) -> None:
    r = httpx.post(
        server + "/items", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"] == "application/problem+json"


def test_template_escapes_and_links_static_files(server: str) -> None:
    r = httpx.get(server + "/", params={"name": "<script>alert(1)</script>"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert "<script>" not in r.text
    assert 'href="/static/style.css"' in r.text
    css = httpx.get(server + "/static/style.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    again = httpx.get(server + "/static/style.css", headers={"if-none-match": css.headers["etag"]})
    assert again.status_code == 304
    assert httpx.get(server + "/static/%2e%2e/basic_app.py").status_code == 404


def test_upload_is_streamed_and_measured(server: str) -> None:
    payload = b"x" * 200_000
    r = httpx.post(
        server + "/upload", files={"file": ("big.bin", payload, "application/octet-stream")}
    )
    assert r.status_code == 200
    assert r.json() == {
        "filename": "big.bin",
        "content_type": "application/octet-stream",
        "size": 200_000,
    }


def test_security_headers_are_on_by_default(server: str) -> None:
    r = httpx.get(server + "/items/1")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert "x-frame-options" not in r.headers  # a page-only header
    page = httpx.get(server + "/")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
