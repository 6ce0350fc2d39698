"""The issue's example, line by line."""

import pytest

from qake_routing import Match, MethodNotAllowed, NotFound, RouteConflict, Router


def handler() -> str:
    return "user"


def h2() -> str:
    return "item"


def h3() -> str:
    return "other"


def test_issue_example() -> None:
    r = Router()
    r.add("/users/{user_id:int}", handler, methods=["GET"], name="user", tags=["users"])
    m = r.match("GET", "/users/42")
    assert isinstance(m, Match)
    assert m.handler is handler
    assert m.params == {"user_id": 42}
    assert m.route.name == "user"
    assert m.route.meta == {"tags": ["users"]}
    with pytest.raises(NotFound):
        r.match("GET", "/nope")
    with pytest.raises(MethodNotAllowed) as exc:
        r.match("DELETE", "/users/42")
    assert exc.value.allowed == {"GET", "HEAD"}
    assert r.url_for("user", user_id=42) == "/users/42"
    api = Router()
    api.add("/items/{item_id}", h2, methods=["GET"])
    r.include(api, prefix="/api/v1")
    assert r.match("GET", "/api/v1/items/x").params == {"item_id": "x"}
    with pytest.raises(RouteConflict) as conflict:
        r.add("/users/{id:int}", h3, methods=["GET"])
    assert "/users/{id:int}" in str(conflict.value)
    assert "/users/{user_id:int}" in str(conflict.value)


def test_route_fields() -> None:
    r = Router()
    route = r.add("/a/{x:int}/{y}", handler, methods=["get", "post"], name="a", k=1)
    assert route.path == "/a/{x:int}/{y}"
    assert route.methods == frozenset({"GET", "POST"})
    assert route.name == "a"
    assert route.handler is handler
    assert route.meta == {"k": 1}
    assert list(route.params) == ["x", "y"]
    assert route.url_for(x=1, y="b") == "/a/1/b"


def test_errors_carry_fields_and_readable_messages() -> None:
    r = Router()
    r.add("/x", handler, methods=["GET", "POST"])
    with pytest.raises(NotFound) as nf:
        r.match("GET", "/y")
    assert nf.value.path == "/y"
    assert "/y" in str(nf.value)
    with pytest.raises(MethodNotAllowed) as mna:
        r.match("PUT", "/x")
    assert mna.value.method == "PUT"
    assert mna.value.path == "/x"
    assert "GET, HEAD, POST" in str(mna.value)
