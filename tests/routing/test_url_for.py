import uuid

import pytest

from qake_routing import Router, URLBuildError


def make() -> Router:
    r = Router()
    r.add("/users/{user_id:int}", "u", name="user")
    r.add("/users/{user_id:int}/files/{rest:path}", "f", name="file")
    r.add("/docs/{doc:uuid}/v/{version:float}", "d", name="doc")
    r.add("/tags/{tag}", "t", name="tag")
    r.add("/café", "c", name="cafe")
    return r


def test_url_for_builds_encoded_paths() -> None:
    r = make()
    assert r.url_for("user", user_id=42) == "/users/42"
    assert r.url_for("user", user_id=-1) == "/users/-1"
    assert r.url_for("file", user_id=1, rest="a/b c.txt") == "/users/1/files/a/b%20c.txt"
    doc = uuid.UUID(int=1)
    assert r.url_for("doc", doc=doc, version=2) == f"/docs/{doc}/v/2.0"
    assert r.url_for("tag", tag="a/b?%") == "/tags/a%2Fb%3F%25"
    assert r.url_for("tag", tag="x:y@z+1") == "/tags/x:y@z+1"
    assert r.url_for("cafe") == "/caf%C3%A9"


def test_unknown_name() -> None:
    with pytest.raises(URLBuildError, match=r"no route named 'usr'; did you mean 'user'"):
        make().url_for("usr", user_id=1)


def test_missing_and_extra_parameters() -> None:
    r = make()
    with pytest.raises(URLBuildError, match="missing parameter\\(s\\) user_id"):
        r.url_for("user")
    with pytest.raises(URLBuildError, match="unknown parameter\\(s\\) id"):
        r.url_for("user", user_id=1, id=2)


@pytest.mark.parametrize(
    ("name", "params", "fragment"),
    [
        ("user", {"user_id": "42"}, "expected int, got str"),
        ("user", {"user_id": True}, "expected int, got bool"),
        ("user", {"user_id": 1.5}, "expected int, got float"),
        ("doc", {"doc": "not-a-uuid", "version": 1.0}, "expected uuid.UUID"),
        ("doc", {"doc": uuid.UUID(int=0), "version": float("nan")}, "finite"),
        ("tag", {"tag": ""}, "non-empty"),
        ("tag", {"tag": 5}, "expected str"),
        ("file", {"user_id": 1, "rest": ""}, "non-empty"),
        ("tag", {"tag": "\ud800"}, "'tag'"),
    ],
)
def test_ill_typed_parameters(name: str, params: dict[str, object], fragment: str) -> None:
    with pytest.raises(URLBuildError) as exc:
        make().url_for(name, **params)
    assert fragment in str(exc.value)
    assert f"route {name!r}" in str(exc.value)


def test_regex_converter_format_checks_the_regex() -> None:
    r = Router()
    r.register_converter("slug", regex="[a-z]+")
    r.add("/p/{s:slug}", "p", name="p")
    with pytest.raises(URLBuildError, match="does not match"):
        r.url_for("p", s="ABC")


def test_route_url_for_without_name() -> None:
    r = Router()
    route = r.add("/a/{x:int}", "a")
    assert route.url_for(x=3) == "/a/3"
    with pytest.raises(URLBuildError, match="/a/\\{x:int\\}"):
        route.url_for(x="3")
