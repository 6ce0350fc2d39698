"""Routes, prefixes and inclusion as qake-routing parses them, and path converters
(built-in and user-registered) reaching the handler's parameter checks."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import pytest

from qake_core import App, HandlerSignatureError, Path, Router
from qake_routing import Converter, InvalidTemplate
from qake_testing import TestClient


def register_date(router: Router) -> Converter:
    return router.register_converter(
        "date",
        regex=r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
        parse=datetime.date.fromisoformat,
        format=datetime.date.isoformat,
        python_type=datetime.date,
        json_schema={"type": "string", "format": "date"},
    )


class Hex(Converter):
    regex = "[0-9a-f]+"
    python_type = int

    def parse(self, text: str) -> int:
        return int(text, 16)


def test_a_user_converter_value_reaches_a_handler_annotated_with_its_type_as_is() -> None:
    app = App()
    register_date(app)

    @app.get("/days/{day:date}")
    async def day(day: datetime.date) -> dict[str, Any]:
        return {"type": type(day).__name__, "weekday": day.isoweekday()}

    @app.get("/since/{day:date}")
    async def since(day: Annotated[datetime.date, Path(ge=datetime.date(2024, 1, 1))]) -> str:
        return day.isoformat()

    (param,) = app.routes[0].spec.params
    assert param.converter.python_type is datetime.date
    assert param.takes_router_value  # no second validation: the router's date is final
    (constrained,) = app.routes[1].spec.params
    assert not constrained.takes_router_value  # constraints are checked by qake-core
    with TestClient(app) as client:
        assert client.get("/days/2024-02-29").json() == {"type": "date", "weekday": 4}
        assert client.get("/days/2023-02-29").status_code == 404  # the converter refuses
        assert client.get("/since/2024-03-01").json() == "2024-03-01"
        refused = client.get("/since/2023-12-31")
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["path", "day"]


def test_an_annotation_contradicting_a_user_converter_fails_at_declaration() -> None:
    app = App()
    register_date(app)
    with pytest.raises(HandlerSignatureError) as exc:

        @app.get("/days/{day:date}")
        async def day(day: int) -> int:
            return day

    message = str(exc.value)
    assert "'/days/{day:date}'" in message
    assert "path parameter 'day' is annotated int" in message
    assert "converter gives date" in message


def test_a_user_converter_value_converts_by_the_usual_rules() -> None:
    app = App()
    app.register_converter("hex", Hex())
    app.register_converter("upper", parse=str.upper)  # no declared type: always validated

    @app.get("/hex/{n:hex}")
    async def as_float(n: float) -> dict[str, Any]:
        return {"n": n, "type": type(n).__name__}

    @app.get("/upper/{word:upper}")
    async def upper(word: Annotated[str, Path(max_length=3)]) -> str:
        return word

    with TestClient(app) as client:
        assert client.get("/hex/ff").json() == {"n": 255.0, "type": "float"}
        assert client.get("/upper/abc").json() == "ABC"
        assert client.get("/upper/abcd").status_code == 422


def test_routers_declare_converters_and_included_routes_keep_them() -> None:
    days = Router(prefix="/days")
    register_date(days)

    @days.get("/{day:date}", name="day")
    async def day(day: datetime.date) -> str:
        return day.isoformat()

    hexes = Router(converters={"hex": Hex()})

    @hexes.get("/{n:hex}")
    async def number(n: int) -> int:
        return n

    app = App()
    app.include_router(days, prefix="/v1")
    app.include_router(hexes, prefix="/hex")
    route = app.routes[0]
    assert route.path == "/v1/days/{day:date}"
    assert route.routing.path_format == "/v1/days/{day}"
    assert route.routing.params["day"].python_type is datetime.date
    assert app.routes[0].spec.params[0].takes_router_value
    assert app.url_path_for("day", day=datetime.date(2024, 1, 2)) == "/v1/days/2024-01-02"
    with pytest.raises(InvalidTemplate, match="unknown converter 'date'"):
        app.get("/days/{day:date}")(day)  # the app itself never registered it
    with TestClient(app) as client:
        assert client.get("/v1/days/2024-01-02").json() == "2024-01-02"
        assert client.get("/hex/ff").json() == 255


def test_an_empty_path_under_a_prefix_is_the_prefix() -> None:
    users = Router(prefix="/users")

    @users.get("")
    async def listing() -> str:
        return "list"

    @users.get("/")
    async def slash() -> str:
        return "slash"

    app = App()
    app.include_router(users, prefix="/api")
    assert [r.path for r in app.routes] == ["/api/users", "/api/users/"]
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/api/users").json() == "list"
        assert client.get("/api/users/").json() == "slash"


def test_prefixes_are_checked_where_they_are_given() -> None:
    with pytest.raises(ValueError, match=r"^Router: prefix 'api' must start with '/'"):
        Router(prefix="api")
    app = App()
    with pytest.raises(ValueError, match=r"^include_router: prefix '/api/' must start"):
        app.include_router(Router(), prefix="/api/")
    with pytest.raises(ValueError, match=r"^mount: prefix 'static' must start with '/'"):
        app.mount("static", App())
    with pytest.raises(ValueError, match=r"^mount: '/orgs/\{org\}/static' holds a parameter"):
        Router(prefix="/orgs/{org}").mount("/static", App())
    with pytest.raises(InvalidTemplate, match="unbalanced"):
        Router(prefix="/a/{b")


def test_a_name_may_repeat_and_url_path_for_finds_the_first_route() -> None:
    app = App()
    inner = Router()

    async def items() -> str:
        return "items"

    async def items_socket(ws: Any) -> None:
        await ws.accept()

    app.websocket("/ws/items", name="items")(items_socket)
    app.get("/items")(items)
    inner.get("/more")(items)
    app.include_router(inner, prefix="/v1")
    assert [r.name for r in app.routes] == ["items", "items", "items"]
    assert app.url_path_for("items") == "/ws/items"  # the first declared, a WebSocket route


def test_routes_cannot_be_included_once_the_app_is_built() -> None:
    app = App()
    app.build()
    with pytest.raises(RuntimeError, match="cannot add routes after the application"):
        app.include_router(Router())


def test_the_app_takes_converters_and_redirects_to_the_other_spelling_only() -> None:
    app = App(converters={"hex": Hex()})

    @app.get("/n/{n:hex}/")
    async def number(n: int) -> int:
        return n

    with TestClient(app, follow_redirects=False) as client:
        redirected = client.get("/n/ff?x=1")
        assert redirected.status_code == 308
        assert redirected.headers["location"].endswith("/n/ff/?x=1")
        assert client.get("/n/ff/").json() == 255
        assert client.get("/n/zz").status_code == 404

    catch_all = App()

    @catch_all.get("/{rest:path}")
    async def anything(rest: str) -> str:
        return rest

    with TestClient(catch_all, follow_redirects=False) as client:
        # "/" is not "//" without its slash: no redirect to a scheme-relative URL.
        assert client.get("/").status_code == 404
        assert client.get("/a/").json() == "a/"


def test_a_routes_empty_containers_are_its_own_when_used() -> None:
    # Empty containers are made on first use (memory); each route's are its own, kept,
    # and what is put in them before the app starts counts, as for any list or dict.
    app = App()

    @app.get("/a")
    async def a() -> dict[str, str]:
        return {}

    @app.get("/b")
    async def b() -> dict[str, str]:
        return {}

    first, second = app.routes[-2:]
    assert first.tags == []
    assert first.dependencies == []
    assert first.middleware == []
    assert first.responses == {}
    assert first.meta == {}
    first.tags.append("late")
    assert first.tags is first.tags
    assert first.tags == ["late"]
    assert second.tags == []
    assert "tags=['late']" in repr(first)
    calls: list[str] = []

    async def mark(request: Any, call_next: Any) -> Any:
        calls.append(request.url.path)
        return await call_next(request)

    second.middleware.append(mark)
    with TestClient(app) as client:
        assert client.get("/a").status_code == 200
        assert client.get("/b").status_code == 200
    assert calls == ["/b"]
    with pytest.raises(AttributeError, match="no attribute 'tagz'"):
        first.tagz  # type: ignore[attr-defined]  # noqa: B018


def test_routes_without_options_start_the_app_without_making_their_containers() -> None:
    from qake_core._route_containers import _SLOTS

    app = App()
    for index in range(3):

        @app.get(f"/r{index}/{{x}}")
        async def echo(x: str) -> dict[str, str]:
            return {"x": x}

    with TestClient(app) as client:
        assert client.get("/r2/y").json() == {"x": "y"}
    for route in app.routes:
        for slot in _SLOTS.values():
            assert slot.__get__(route) is None  # the slot itself: not made
