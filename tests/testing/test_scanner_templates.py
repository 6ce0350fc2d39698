"""The scanner reads path templates with qake-routing (issue 13: one template parser)."""

from __future__ import annotations

from typing import Any

from qake_core import App, Router
from qake_routing import Converter
from qake_testing import FindingKind, scan


class SlugConverter(Converter):
    regex = "[a-z-]+"
    python_type = str
    json_schema = {"type": "string", "pattern": "^[a-z-]+$"}

    def convert(self, segment: str) -> Any:
        return segment

    def format(self, value: Any) -> str:
        return str(value)


def test_a_route_with_a_user_converter_is_scanned() -> None:
    app = App()
    router = Router()
    router.register_converter("slug", SlugConverter())
    seen: list[str] = []

    @router.get("/posts/{slug:slug}/{n:int}")
    async def post(slug: str, n: int) -> dict[str, object]:
        seen.append(f"{slug}/{n}")
        return {"slug": slug, "n": n}

    app.include_router(router)
    report = scan(app)
    assert report.operations == ["GET /posts/{slug:slug}/{n:int}"]
    assert "test/1" in seen  # benign values filled into the template qake-routing parsed
    assert not report.of_kind(FindingKind.SERVER_ERROR), str(report)


def test_an_openapi_path_qake_routing_cannot_read_is_left_out() -> None:
    from qake_testing._scanner._targets import targets_from_openapi

    document = {
        "paths": {
            "/files/{name}.txt": {"get": {}},
            "/items/{item_id}": {
                "get": {
                    "parameters": [{"name": "item_id", "in": "path", "schema": {"type": "integer"}}]
                }
            },
        }
    }
    targets = targets_from_openapi(document)
    assert [t.template for t in targets] == ["/items/{item_id}"]
    assert [(p.name, p.type) for p in targets[0].params] == [("item_id", "integer")]
