"""FastAPI's document and docs options given to a bare qake-core App name QakeAPI."""

from __future__ import annotations

import pytest

from qake_core import App


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("summary", r"info\.summary belongs to .*QakeAPI\(summary=\.\.\.\)"),
        ("servers", r"QakeAPI\(servers=\.\.\.\)"),
        ("openapi_tags", r"QakeAPI\(openapi_tags=\.\.\.\)"),
        ("webhooks", r"QakeAPI\(webhooks=\.\.\.\)"),
        ("docs_url", r"QakeAPI\(docs_url=\.\.\., redoc_url=.*add_docs_routes"),
        ("swagger_ui_parameters", r"get_swagger_ui_html"),
    ],
)
def test_document_options_on_a_bare_app_point_to_qakeapi(option: str, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        App(**{option: None})


def test_route_level_document_options_are_taken() -> None:
    app = App()

    @app.get("/x", openapi_extra={"x-a": 1}, callbacks=[], generate_unique_id_function=None)
    async def x() -> int:
        return 1

    assert app.routes[0].meta["openapi_extra"] == {"x-a": 1}
