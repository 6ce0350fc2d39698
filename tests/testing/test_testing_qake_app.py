"""qake-testing against a real qake_core app (skipped when qake-core is not installed)."""

from __future__ import annotations

from typing import Any

import pytest

from qake_testing import FindingKind, TestClient, override_dependencies, scan

pytest.importorskip("qake_core")

from qake_core import App, Depends


def get_db() -> str:
    return "real"


def make_app() -> Any:
    app = App()

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, db: Any = Depends(get_db)) -> dict[str, Any]:
        return {"id": item_id, "db": db}

    return app


def test_client_and_overrides() -> None:
    app = make_app()
    with TestClient(app) as client:
        assert client.get("/items/1").json() == {"id": 1, "db": "real"}
        with override_dependencies(app, {get_db: lambda: "fake"}):
            assert client.get("/items/1").json()["db"] == "fake"
        assert client.get("/items/1").json()["db"] == "real"
        assert client.get("/items/x").status_code == 422


def test_scan_reads_route_specs() -> None:
    report = scan(make_app(), max_payloads=3)
    assert report.operations == ["GET /items/{item_id}"]
    kinds = {finding.kind for finding in report.findings}
    assert FindingKind.SERVER_ERROR not in kinds, report.summary()
    assert FindingKind.STACK_TRACE not in kinds, report.summary()
