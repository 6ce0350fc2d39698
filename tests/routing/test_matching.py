import pytest

from qake_routing import Match, MethodNotAllowed, NotFound, Router


def test_precedence_static_typed_plain_catch_all() -> None:
    r = Router()
    r.add("/x/{rest:path}", "catch")
    r.add("/x/{name}", "plain")
    r.add("/x/{n:int}", "typed")
    r.add("/x/me", "static")
    assert r.match(None, "/x/me").handler == "static"
    assert r.match(None, "/x/7").handler == "typed"
    assert r.match(None, "/x/bob").handler == "plain"
    assert r.match(None, "/x/a/b").handler == "catch"


def test_precedence_is_per_segment_left_to_right() -> None:
    r = Router()
    r.add("/{a}/static", "plain-then-static")
    r.add("/static/{b}", "static-then-plain")
    assert r.match(None, "/static/static").handler == "static-then-plain"


def test_typed_converters_have_a_fixed_order() -> None:
    # "5" is both an int and a float: int (priority 10) beats float (30), in either order.
    for order in (["int", "float"], ["float", "int"]):
        r = Router()
        for conv in order:
            r.add(f"/v/{{x:{conv}}}", conv)
        assert r.match(None, "/v/5").handler == "int"
        assert r.match(None, "/v/5.5").handler == "float"


def test_404_vs_405() -> None:
    r = Router()
    r.add("/items", "list", methods=["GET"])
    r.add("/items", "create", methods=["POST"])
    assert r.match("GET", "/items").handler == "list"
    assert r.match("POST", "/items").handler == "create"
    with pytest.raises(MethodNotAllowed) as exc:
        r.match("DELETE", "/items")
    assert exc.value.allowed == {"GET", "HEAD", "POST"}
    with pytest.raises(NotFound):
        r.match("GET", "/items/1")
    with pytest.raises(NotFound):
        r.match("GET", "items")
    with pytest.raises(NotFound):
        r.match("GET", "")


def test_405_is_decided_by_the_winning_path() -> None:
    # The path picks the route group first; the method then picks within it.
    r = Router()
    r.add("/users/me", "me", methods=["GET"])
    r.add("/users/{id}", "delete", methods=["DELETE"])
    with pytest.raises(MethodNotAllowed) as exc:
        r.match("DELETE", "/users/me")
    assert exc.value.allowed == {"GET", "HEAD"}
    assert r.match("DELETE", "/users/42").handler == "delete"


def test_405_on_parametrised_route() -> None:
    r = Router()
    r.add("/items/{id:int}", "get", methods=["GET"])
    with pytest.raises(MethodNotAllowed) as exc:
        r.match("PUT", "/items/3")
    assert exc.value.allowed == {"GET", "HEAD"}


def test_auto_head() -> None:
    r = Router()
    r.add("/a", "get-a", methods=["GET"])
    assert r.match("HEAD", "/a").handler == "get-a"
    r.add("/a", "head-a", methods=["HEAD"])
    assert r.match("HEAD", "/a").handler == "head-a"
    assert r.match("GET", "/a").handler == "get-a"


def test_auto_head_off() -> None:
    r = Router(auto_head=False)
    r.add("/a", "get-a", methods=["GET"])
    with pytest.raises(MethodNotAllowed) as exc:
        r.match("HEAD", "/a")
    assert exc.value.allowed == {"GET"}


def test_methods_none_accepts_any_label_and_none() -> None:
    r = Router()
    r.add("/topic/{name}", "any")
    assert r.match("GET", "/topic/a").handler == "any"
    assert r.match("publish", "/topic/a").handler == "any"
    assert r.match(None, "/topic/a").handler == "any"


def test_method_none_needs_a_route_without_methods() -> None:
    r = Router()
    r.add("/a", "get", methods=["GET"])
    with pytest.raises(MethodNotAllowed):
        r.match(None, "/a")


def test_method_normalisation() -> None:
    r = Router()
    r.add("/a", "a", methods="get")
    r.add("/b", "b", methods=["publish", "Delete"])
    assert r.routes[0].methods == frozenset({"GET"})
    assert r.routes[1].methods == frozenset({"publish", "DELETE"})
    assert r.match("publish", "/b").handler == "b"
    with pytest.raises(ValueError, match="methods is empty"):
        r.add("/c", "c", methods=[])
    with pytest.raises(ValueError, match="non-empty str"):
        r.add("/c", "c", methods=[""])


def test_percent_decoding_happens_once_and_keeps_segments() -> None:
    r = Router()
    r.add("/files/{name}", "one")
    r.add("/files/{dir}/{name}", "two")
    r.add("/static/{rest:path}", "rest")
    m = r.match("GET", "/files/a%2Fb")
    assert m.handler == "one"
    assert m.params == {"name": "a/b"}
    assert r.match("GET", "/files/a%252Fb").params == {"name": "a%2Fb"}
    assert r.match("GET", "/files/a/b").params == {"dir": "a", "name": "b"}
    assert r.match("GET", "/files/caf%C3%A9").params == {"name": "café"}
    assert r.match("GET", "/files/100%").params == {"name": "100%"}
    assert r.match("GET", "/files/%zz").params == {"name": "%zz"}
    assert r.match("GET", "/static/a%2Fb/c").params == {"rest": "a/b/c"}


def test_percent_encoded_static_segments() -> None:
    r = Router()
    r.add("/hello world", "space")
    assert r.match("GET", "/hello%20world").handler == "space"
    assert r.match("GET", "/hello world", decoded=True).handler == "space"


def test_decoded_paths_are_not_decoded_again() -> None:
    r = Router()
    r.add("/files/{name}", "one")
    assert r.match("GET", "/files/a%2Fb", decoded=True).params == {"name": "a%2Fb"}
    assert r.match("GET", "/files/café", decoded=True).params == {"name": "café"}


def test_raw_latin1_utf8_bytes_are_recovered() -> None:
    r = Router()
    r.add("/files/{name}", "one")
    raw = "/files/café".encode().decode("latin-1")  # what raw_path.decode("latin-1") gives
    assert r.match("GET", raw).params == {"name": "café"}
    assert r.match("GET", raw + "%20").params == {"name": "café "}


def test_trailing_slash_is_strict() -> None:
    r = Router()
    r.add("/users", "list", methods=["GET"])
    r.add("/docs/", "docs", methods=["GET"])
    r.add("/items/{id}/", "item", methods=["GET"])
    with pytest.raises(NotFound):
        r.match("GET", "/users/")
    with pytest.raises(NotFound):
        r.match("GET", "/docs")
    with pytest.raises(NotFound):
        r.match("GET", "/items/1")
    assert r.match("GET", "/items/1/").params == {"id": "1"}


def test_redirect_slashes_helper() -> None:
    r = Router()
    r.add("/users", "list", methods=["GET"])
    r.add("/docs/", "docs", methods=["GET"])
    r.add("/items/{id}/", "item", methods=["GET"])
    assert r.redirect_slashes("GET", "/users/") == "/users"
    assert r.redirect_slashes("GET", "/docs") == "/docs/"
    assert r.redirect_slashes("GET", "/items/a%20b") == "/items/a%20b/"
    assert r.redirect_slashes("GET", "/users") is None  # matches as is
    assert r.redirect_slashes("POST", "/users") is None  # 405, not a slash problem
    assert r.redirect_slashes("POST", "/users/") is None  # the other one would 405
    assert r.redirect_slashes("GET", "/nothing") is None
    assert r.redirect_slashes("GET", "/") is None


def test_empty_segments_do_not_match_parameters() -> None:
    r = Router()
    r.add("/a/{x}/b", "x")
    with pytest.raises(NotFound):
        r.match("GET", "/a//b")


def test_lazy_compile_sees_new_routes() -> None:
    r = Router()
    r.add("/a", "a")
    assert r.match(None, "/a").handler == "a"
    r.add("/b/{x}", "b")
    assert r.match(None, "/b/1").handler == "b"
    r.compile()
    r.add("/c", "c")
    assert r.match(None, "/c").handler == "c"


def test_static_matches_have_empty_read_only_params() -> None:
    r = Router()
    r.add("/a", "a")
    m = r.match(None, "/a")
    assert m.params == {}
    assert m == r.match(None, "/a")
    assert "Match(" in repr(m)


def test_a_match_is_a_route_params_pair() -> None:
    r = Router()
    r.add("/users/{uid:int}/{name}", "user")
    route, params = r.match(None, "/users/42/ada")
    assert route.handler == "user"
    assert params == {"uid": 42, "name": "ada"}
    m = r.match(None, "/users/42/ada")
    assert m.route is route
    assert m.params == params
    assert m.handler == "user"
    assert m == r.match(None, "/users/42/ada")
    assert m != r.match(None, "/users/43/ada")
    assert m != ("something", "else")


def test_a_converter_tried_before_int_is_not_skipped() -> None:
    # Plain digits are converted inline only when the built-in int converter is the
    # first candidate at that position; a lower-priority user converter goes first.
    r = Router()
    r.register_converter("hex", regex="[0-9a-f]+", parse=lambda s: int(s, 16), priority=5)
    r.add("/v/{x:int}", "int")
    r.add("/v/{x:hex}", "hex")
    assert r.match(None, "/v/10").params == {"x": 16}
    assert r.match(None, "/v/10").handler == "hex"


def test_int_segments_convert_at_every_depth() -> None:
    r = Router()
    r.add("/a/{x:int}/b/{y:int}", "ints")
    r.add("/a/{x:int}/b/{y}", "int-str")
    assert r.match(None, "/a/7/b/-3").params == {"x": 7, "y": -3}
    assert r.match(None, "/a/007/b/12345678901234567890").params == {
        "x": 7,
        "y": 12345678901234567890,
    }
    assert r.match(None, "/a/7/b/x1").handler == "int-str"


def test_static_matches_lists_what_match_answers_by_lookup() -> None:
    r = Router()
    r.add("/items", "list", methods=["GET"])
    r.add("/items", "create", methods=["POST"])
    r.add("/any", "any", methods=None)
    r.add("/items/{id:int}", "one", methods=["GET"])
    r.add("/caf%C3%A9", "escaped", methods=["GET"])
    tables = r.static_matches()
    assert set(tables) == {"/items", "/any"}  # no parameters, no escapes
    assert set(tables["/items"]) == {"GET", "HEAD", "POST"}  # auto_head
    for method, found in tables["/items"].items():
        assert found == r.match(method, "/items")
    assert tables["/any"][None] == r.match("DELETE", "/any")
    # A new dict each call; later routes show up in the next one only.
    tables["/items"].clear()
    r.add("/later", "later", methods=["GET"])
    assert set(tables) == {"/items", "/any"}
    assert r.static_matches()["/later"]["GET"].handler == "later"
    assert r.static_matches()["/items"]["GET"].handler == "list"


def test_lookup_is_match_as_a_plain_pair() -> None:
    """``Router.lookup``: the same route and parameters as ``match``, as a plain tuple
    (a static route's is its shared ``Match``); the same errors."""
    router = Router()
    router.add("/users/{user_id:int}/posts/{slug}", "post", methods=["GET"])
    router.add("/about", "about", methods=["GET"])
    pair = router.lookup("GET", "/users/7/posts/hello%20world")
    assert type(pair) is tuple
    route, params = pair
    assert (route.handler, dict(params)) == ("post", {"user_id": 7, "slug": "hello world"})
    assert router.match("GET", "/users/7/posts/hello%20world") == Match(route, params)
    static = router.lookup("GET", "/about")
    assert static is router.match("GET", "/about")  # the prebuilt Match, shared
    with pytest.raises(MethodNotAllowed):
        router.lookup("POST", "/users/7/posts/x")
    with pytest.raises(NotFound):
        router.lookup("GET", "/users/x/posts/y/z")


def test_routers_do_not_share_their_nodes_children() -> None:
    # Nodes start with shared empty containers (memory); each router's inserts must give
    # a node its own before writing, so one router's routes never show in another's.
    first = Router()
    first.add("/a/{n:int}", "typed")
    first.add("/a/{rest:path}", "catch")
    first.add("/a/b", "static")
    first.add("/c", "leaf")
    second = Router()
    second.add("/other", "other")
    for path in ("/a/1", "/a/x/y", "/a/b", "/c"):
        with pytest.raises(NotFound):
            second.match("GET", path)
    assert first.match("GET", "/a/1").handler == "typed"
    assert first.match("GET", "/a/x/y").handler == "catch"
    assert first.match("GET", "/a/b").handler == "static"
    assert second.match("GET", "/other").handler == "other"
    fresh = Router()
    with pytest.raises(NotFound):
        fresh.match("GET", "/c")


@pytest.mark.parametrize("path", ["/one/{n:int}", "/one"])
def test_a_path_of_one_route_answers_its_methods_and_405s_the_rest(path: str) -> None:
    # A leaf of one route keeps it alone (memory), with the methods it answers.
    router = Router()
    router.add(path, "one", ["GET"])
    router.add("/many/{n:int}", "get", ["GET"])
    router.add("/many/{n:int}", "post", ["POST"])
    router.add("/any/{n:int}", "any", None)
    concrete = path.replace("{n:int}", "7")
    assert router.match("GET", concrete).handler == "one"
    assert router.match("HEAD", concrete).handler == "one"  # implied by GET
    for method in ("POST", None):
        with pytest.raises(MethodNotAllowed) as info:
            router.match(method, concrete)
        assert info.value.allowed == frozenset({"GET", "HEAD"})
    assert router.match("POST", "/many/7").handler == "post"
    assert router.match("HEAD", "/many/7").handler == "get"
    with pytest.raises(MethodNotAllowed):
        router.match("PUT", "/many/7")
    assert router.match("PUT", "/any/7").handler == "any"
    assert router.match(None, "/any/7").handler == "any"
    if "{" not in path:
        table = router.static_matches()[path]
        assert set(table) == {"GET", "HEAD"}
        assert table["GET"] is table["HEAD"] is router.match("GET", path)
