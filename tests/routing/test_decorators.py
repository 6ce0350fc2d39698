from collections.abc import Callable

import pytest

from qake_routing import Router


def test_decorators_register_and_return_the_handler() -> None:
    r = Router()

    @r.get("/a", name="a", tags=["t"])
    def get_a() -> str:
        return "a"

    @r.route("/any")
    def anything() -> str:
        return "any"

    @r.route("/multi", methods=["GET", "POST"])
    def multi() -> str:
        return "multi"

    assert get_a() == "a"
    assert r.match("GET", "/a").handler is get_a
    assert r.routes[0].meta == {"tags": ["t"]}
    assert r.match("whatever", "/any").handler is anything
    assert r.match("POST", "/multi").handler is multi


@pytest.mark.parametrize("verb", ["head", "post", "put", "patch", "delete", "options"])
def test_verb_decorators(verb: str) -> None:
    r = Router()
    decorator: Callable[[str], Callable[[object], object]] = getattr(r, verb)

    def handler() -> None:
        return None

    decorator("/v")(handler)
    assert r.routes[0].methods == frozenset({verb.upper()})
    assert r.match(verb.upper(), "/v").handler is handler


def test_iteration_is_in_registration_order() -> None:
    r = Router()
    paths = ["/z", "/a/{x}", "/m", "/a/b", "/"]
    for path in paths:
        r.add(path, path)
    assert [route.path for route in r] == paths
    assert [route.path for route in r.routes] == paths
    assert len(r) == 5
    assert "5 route" in repr(r)
    assert "/z" in repr(r.routes[0])
