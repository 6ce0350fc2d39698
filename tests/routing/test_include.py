import pytest

from qake_routing import InvalidTemplate, Route, Router


def test_include_with_prefix_and_meta_inheritance() -> None:
    app = Router(tags=["app"], auth="session")
    api = Router(meta={"tags": ["api"], "deps": ("db",)})
    api.add(
        "/items/{item_id:int}", "get", methods=["GET"], name="item", tags=["items"], deps=("x",)
    )
    api.add("/items", "list", methods=["GET"], name="items", auth="token")
    app.include(api, prefix="/api/v1", name="api", version=1)
    item, items = app.routes
    assert item.path == "/api/v1/items/{item_id:int}"
    assert item.meta == {
        "tags": ["app", "api", "items"],
        "auth": "session",
        "deps": ("db", "x"),
        "version": 1,
    }
    assert items.meta["auth"] == "token"  # the route's own key wins
    assert items.meta["tags"] == ["app", "api"]
    assert app.url_for("api:item", item_id=3) == "/api/v1/items/3"
    assert app.match("GET", "/api/v1/items/3").params == {"item_id": 3}


def test_include_without_name_keeps_names_and_is_a_snapshot() -> None:
    app = Router()
    api = Router()
    api.add("/x", "x", name="x")
    app.include(api, prefix="/api")
    api.add("/later", "later")
    assert app.url_for("x") == "/api/x"
    assert [r.path for r in app] == ["/api/x"]
    assert api.routes[0].path == "/x"  # the included router is unchanged


def test_nested_includes_and_parametrised_prefix() -> None:
    leaf = Router(layer=["leaf"])
    leaf.add("/repos/{repo}", "repo", name="repo")
    mid = Router(layer=["mid"])
    mid.include(leaf, prefix="/orgs/{org}", name="orgs")
    top = Router(layer=["top"])
    top.include(mid, prefix="/v2", name="v2")
    route = top.routes[0]
    assert route.path == "/v2/orgs/{org}/repos/{repo}"
    assert route.meta == {"layer": ["top", "mid", "leaf"]}
    assert top.url_for("v2:orgs:repo", org="o", repo="r") == "/v2/orgs/o/repos/r"
    assert top.match("GET", "/v2/orgs/o/repos/r").params == {"org": "o", "repo": "r"}


def test_prefix_parameter_clash_is_refused() -> None:
    api = Router()
    api.add("/{id}", "x")
    with pytest.raises(ValueError, match="parameter 'id' appears in both"):
        Router().include(api, prefix="/users/{id}")


def test_router_prefix_option() -> None:
    r = Router(prefix="/api")
    r.add("/a", "a", name="a")
    assert r.routes[0].path == "/api/a"
    assert r.url_for("a") == "/api/a"
    other = Router()
    other.add("/b", "b")
    r.include(other, prefix="/v1")
    assert r.routes[1].path == "/api/v1/b"


def test_included_routes_keep_their_converters() -> None:
    api = Router()
    api.register_converter("slug", regex="[a-z-]+")
    api.add("/p/{s:slug}", "p")
    app = Router()
    app.include(api, prefix="/blog")
    assert app.match(None, "/blog/p/a-b").params == {"s": "a-b"}
    assert "slug" not in app.converters


def test_include_returns_the_copies_and_copy_handler_gives_each_its_handler() -> None:
    api = Router(prefix="/api")
    api.add("/items/{item_id:int}", "item", methods=["GET"], name="item")
    api.add("", "root", methods=["GET"])
    seen = []

    def copy_handler(copy: Route) -> str:
        seen.append((copy.handler, copy.path, copy.name))
        return f"v1 {copy.handler}"

    app = Router()
    copies = app.include(api, prefix="/v1", name="v1", copy_handler=copy_handler)
    assert seen == [
        ("item", "/v1/api/items/{item_id:int}", "v1:item"),
        ("root", "/v1/api", None),
    ]
    assert copies == app.routes
    assert [c.handler for c in copies] == ["v1 item", "v1 root"]
    assert app.match("GET", "/v1/api/items/3").handler == "v1 item"
    assert [r.handler for r in api] == ["item", "root"]  # the included routes are unchanged


def test_empty_path_under_a_prefix_is_the_prefix() -> None:
    r = Router(prefix="/users/{org}")
    route = r.add("", "list")
    r.add("/", "slash")
    assert route.path == "/users/{org}"
    assert r.match(None, "/users/o").handler == "list"
    assert r.match(None, "/users/o/").handler == "slash"
    assert r.prefix == "/users/{org}"
    with pytest.raises(InvalidTemplate, match="must start with '/'"):
        Router().add("", "no prefix")
