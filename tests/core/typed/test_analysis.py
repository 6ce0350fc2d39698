"""Registration work is shared between routes: one schema per type, one signature read."""

from __future__ import annotations

from typing import Any

from qake_core import App, Depends
from qake_testing import TestClient


async def item(x: int, q: str = "") -> dict[str, int | str]:
    return {"x": x, "q": q}


def test_routes_with_the_same_types_share_their_validators() -> None:
    app = App()
    for i in range(3):
        app.get(f"/r{i}/{{x}}")(item)
    app.build()
    specs = [route.spec for route in app.routes]
    assert specs[0].response.adapter is specs[1].response.adapter is specs[2].response.adapter
    with TestClient(app) as client:
        assert client.get("/r2/7?q=a").json() == {"x": 7, "q": "a"}
        bad = client.get("/r1/x")  # the template's {x} is str; the annotation asks int
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["path", "x"]


class Unhashable:
    """A callable dependency that cannot be a dict key (defines __eq__ only)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unhashable)

    __hash__ = None  # type: ignore[assignment]

    def __call__(self, token: str = "t") -> str:
        return token.upper()


def test_an_unhashable_callable_dependency_still_works() -> None:
    app = App()

    @app.get("/")
    async def index(value: Any = Depends(Unhashable())) -> dict[str, Any]:
        return {"value": value}

    with TestClient(app) as client:
        assert client.get("/?token=abc").json() == {"value": "ABC"}


def test_the_build_reuses_the_spec_computed_at_registration() -> None:
    app = App()
    app.get("/r/{x}")(item)
    registered = app.routes[0].spec
    app.build()
    assert app.routes[0].spec is registered


def test_app_dependencies_added_after_registration_are_honoured() -> None:
    calls: list[str] = []

    def audit() -> None:
        calls.append("audit")

    app = App()
    app.get("/r/{x}")(item)
    registered = app.routes[0].spec
    app.app_dependencies.append(Depends(audit))
    with TestClient(app) as client:
        assert client.get("/r/1").status_code == 200
    assert app.routes[0].spec is not registered
    assert calls == ["audit"]


def test_routes_sharing_a_handler_and_converters_share_its_call_spec() -> None:
    app = App()
    for i in range(3):
        app.get(f"/s{i}/{{x}}")(item)
    app.get("/typed/{x:int}")(item)  # another converter: analysed on its own
    app.get("/unhashable/{x}")(Unhashable())
    app.get("/unhashable2/{x}")(Unhashable())
    app.build()
    handlers = [route.spec.handler for route in app.routes]
    assert handlers[0] is handlers[1] is handlers[2]
    assert handlers[3] is not handlers[0]
    assert [p.name for p in handlers[3].params] == ["x", "q"]
    assert handlers[4] is not handlers[5]  # an unhashable callable is analysed each time
    with TestClient(app) as client:
        assert client.get("/s1/7?q=a").json() == {"x": 7, "q": "a"}
        assert client.get("/typed/8").json() == {"x": 8, "q": ""}
        assert client.get("/typed/x").status_code == 404
        assert client.get("/unhashable2/x?token=b").json() == "B"
