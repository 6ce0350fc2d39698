"""A route's deprecation and sunset in the OpenAPI document: ``deprecated``, a note in
the description, ``x-deprecated-at``/``x-sunset``/``x-successor``, the ``Deprecation``,
``Sunset`` and ``Link`` headers on the responses described in place; and the example
of ``docs/versioning.md``, run as written."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from qake_core import App, HTTPException, Router
from qake_docs import openapi_document
from qake_testing import TestClient
from tests.docs.openapi_check import checked

DEPRECATED = datetime(2026, 1, 1, tzinfo=UTC)
SUNSET = datetime(2027, 7, 1, tzinfo=UTC)


def document(app: App) -> dict[str, Any]:
    return checked(openapi_document(app, title="versioned", version="2"))


def op(doc: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    operation: dict[str, Any] = doc["paths"][path][method]
    return operation


def versioned() -> App:
    items = Router(responses={404: {"description": "No such item"}})

    @items.get("/items/{item_id}")
    async def read_item(item_id: int) -> dict[str, int]:
        """Read one item."""
        if item_id == 0:
            raise HTTPException(404)
        return {"id": item_id}

    @items.get("/own", responses={200: {"headers": {"Sunset": {"schema": {"type": "string"}}}}})
    async def own() -> dict[str, int]:
        return {}

    app = App()
    app.include_router(
        items,
        prefix="/v1",
        deprecated=DEPRECATED,
        sunset=SUNSET,
        successor="/v2",
        deprecation_link="https://example.com/changes",
    )
    app.include_router(items, prefix="/v2")
    return app


def test_a_deprecated_version_is_documented() -> None:
    doc = document(versioned())
    old = op(doc, "/v1/items/{item_id}")
    assert old["deprecated"] is True
    assert old["x-deprecated-at"] == "2026-01-01T00:00:00Z"
    assert old["x-sunset"] == "2027-07-01T00:00:00Z"
    assert old["x-successor"] == "/v2"
    assert old["description"] == (
        "Read one item.\n\nDeprecated since 2026-01-01T00:00:00Z. "
        "Sunset: 2027-07-01T00:00:00Z (expected to stop answering then). "
        "Use `/v2` instead. Details: <https://example.com/changes>."
    )
    examples = {
        name: header["example"] for name, header in old["responses"]["200"]["headers"].items()
    }
    assert examples == {
        "Deprecation": "@1767225600",
        "Sunset": "Thu, 01 Jul 2027 00:00:00 GMT",
        "Link": '</v2>; rel="successor-version", <https://example.com/changes>; rel="deprecation"',
    }
    for header in old["responses"]["200"]["headers"].values():
        assert header["schema"] == {"type": "string"}
        assert "RFC" in header["description"]
    # The declared 404 is described in place: it gets the headers too.
    assert set(old["responses"]["404"]["headers"]) == {"Deprecation", "Sunset", "Link"}
    # A shared problem response ($ref) cannot hold them: left as it is.
    assert old["responses"]["422"] == {"$ref": "#/components/responses/ValidationError"}


def test_the_current_version_is_untouched() -> None:
    doc = document(versioned())
    new = op(doc, "/v2/items/{item_id}")
    assert "deprecated" not in new
    assert new["description"] == "Read one item."
    assert not [key for key in new if key.startswith("x-")]
    # The router's declared 404 is shared by both versions: the v1 headers did not leak.
    assert "headers" not in new["responses"]["404"]
    assert "headers" not in new["responses"]["200"]


def test_a_header_the_route_declares_itself_wins() -> None:
    doc = document(versioned())
    headers = op(doc, "/v1/own")["responses"]["200"]["headers"]
    assert headers["Sunset"] == {"schema": {"type": "string"}}
    assert headers["Deprecation"]["example"] == "@1767225600"


def test_deprecated_true_alone_and_sunset_alone() -> None:
    app = App()

    @app.get("/flagged", deprecated=True)
    async def flagged() -> dict[str, int]:
        return {}

    @app.get("/leaving", sunset=SUNSET, sunset_link="https://example.com/sunset")
    async def leaving() -> dict[str, int]:
        """Leaving soon."""
        return {}

    doc = document(app)
    flagged_op = op(doc, "/flagged")
    assert flagged_op["deprecated"] is True
    assert "description" not in flagged_op
    assert "headers" not in flagged_op["responses"]["200"]
    leaving_op = op(doc, "/leaving")
    assert "deprecated" not in leaving_op  # a sunset alone is not a deprecation
    assert leaving_op["x-sunset"] == "2027-07-01T00:00:00Z"
    assert leaving_op["description"] == (
        "Leaving soon.\n\nSunset: 2027-07-01T00:00:00Z (expected to stop answering then). "
        "Sunset details: <https://example.com/sunset>."
    )
    assert set(leaving_op["responses"]["200"]["headers"]) == {"Sunset", "Link"}


def test_openapi_extra_still_has_the_last_word() -> None:
    app = App()

    @app.get("/x", deprecated=DEPRECATED, openapi_extra={"x-sunset": "never"})
    async def x() -> dict[str, int]:
        return {}

    assert op(document(app), "/x")["x-sunset"] == "never"


def test_the_documented_headers_are_the_ones_sent() -> None:
    app = versioned()
    doc = document(app)
    documented = op(doc, "/v1/items/{item_id}")["responses"]
    with TestClient(app) as client:
        for status, path in (("200", "/v1/items/1"), ("404", "/v1/items/0")):
            response = client.get(path)
            assert str(response.status_code) == status
            for name, header in documented[status]["headers"].items():
                assert response.headers[name] == header["example"], (status, name)


# -- the example of docs/versioning.md ------------------------------------------------

PAGE = Path(__file__).resolve().parents[2] / "docs" / "versioning.md"


def test_the_versioning_page_runs_as_written() -> None:
    """The page's Python blocks, in order, in one namespace: the app, then what a client
    sees (its own asserts)."""
    pytest.importorskip("qakeapi")
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 2
    namespace: dict[str, Any] = {"__name__": "versioning_page"}
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), namespace)  # the page's own code
    checked(namespace["app"].openapi())
