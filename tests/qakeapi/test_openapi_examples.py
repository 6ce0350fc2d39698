"""The example apps' documents pass openapi-spec-validator."""

from __future__ import annotations

import importlib

import pytest

from tests.docs.openapi_check import checked


@pytest.mark.parametrize("module", ["basic_app", "auth_app", "websocket_app"])
def test_example_documents_validate(module: str) -> None:
    app = importlib.import_module(f"examples.{module}").app
    doc = checked(app.openapi())
    assert doc["paths"]
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
