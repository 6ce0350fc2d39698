import pytest

from qake_routing import RouteConflict, Router


def test_equivalent_templates_with_overlapping_methods_conflict() -> None:
    r = Router()
    first = r.add("/users/{user_id:int}", "a", methods=["GET", "POST"], name="user")
    with pytest.raises(RouteConflict) as exc:
        r.add("/users/{id:int}", "b", methods=["POST", "PUT"])
    message = str(exc.value)
    assert "'GET,POST /users/{user_id:int}' (name 'user')" in message
    assert "'POST,PUT /users/{id:int}'" in message
    assert "overlapping methods (POST)" in message
    assert exc.value.other is first
    assert exc.value.route.path == "/users/{id:int}"
    assert len(r) == 1


def test_disjoint_methods_do_not_conflict() -> None:
    r = Router()
    r.add("/items", "list", methods=["GET"])
    r.add("/items", "create", methods=["POST"])
    r.add("/items/{id}", "get", methods=["GET"])
    r.add("/items/{name}", "put", methods=["PUT"])
    assert r.match("PUT", "/items/x").params == {"name": "x"}
    assert r.match("GET", "/items/x").params == {"id": "x"}


def test_any_method_route_conflicts_with_every_method() -> None:
    r = Router()
    r.add("/a", "get", methods=["GET"])
    with pytest.raises(RouteConflict, match="accepts every method"):
        r.add("/a", "any")
    r2 = Router()
    r2.add("/a", "any")
    with pytest.raises(RouteConflict):
        r2.add("/a", "get", methods=["GET"])


def test_different_shapes_do_not_conflict() -> None:
    r = Router()
    r.add("/a/{x}", "plain")
    r.add("/a/{x:int}", "int")
    r.add("/a/{x:path}", "path")
    r.add("/a/b", "static")
    r.add("/a/{x}/", "slash")
    assert len(r) == 5


def test_duplicate_name_on_another_path_conflicts() -> None:
    r = Router()
    r.add("/a", "a", methods=["GET"], name="thing")
    r.add("/a", "a2", methods=["POST"], name="thing")  # same path, other method: fine
    with pytest.raises(RouteConflict, match="name 'thing' is already used"):
        r.add("/b", "b", name="thing")
    assert r.url_for("thing") == "/a"


def test_names_may_repeat_on_other_paths_when_not_unique() -> None:
    r = Router(unique_names=False)
    r.add("/a", "a", name="thing")
    r.add("/b", "b", name="thing")
    assert r.url_for("thing") == "/a"  # the first route registered under the name
    assert [route.name for route in r] == ["thing", "thing"]


def test_two_converters_with_one_name_at_one_position_conflict() -> None:
    a = Router()
    a.register_converter("code", regex="[a-z]+")
    a.add("/x/{c:code}", "a")
    b = Router()
    b.register_converter("code", regex="[0-9]+")
    b.add("/x/{c:code}/", "b")
    top = Router()
    top.include(a)
    with pytest.raises(RouteConflict, match="two different converters named 'code'"):
        top.include(b)


def test_conflict_during_include_names_both_routes() -> None:
    r = Router()
    r.add("/api/items", "mine", methods=["GET"])
    api = Router()
    api.add("/items", "theirs", methods=["GET"])
    with pytest.raises(RouteConflict) as exc:
        r.include(api, prefix="/api")
    assert "/api/items" in str(exc.value)
    assert "theirs" not in str(exc.value)  # handlers are not part of the message
