import pytest

from qake_routing import Converter, InvalidTemplate, Router, Template


def h() -> None:
    return None


@pytest.mark.parametrize(
    ("template", "problem", "fix"),
    [
        ("users/{id}", "must start with '/'", "write '/users/{id}'"),
        ("/users/{id", "unbalanced", "write each parameter as"),
        ("/users/id}", "unbalanced", "write each parameter as"),
        ("/users/{{id}}", "unbalanced", "write each parameter as"),
        ("/users/}id{", "unbalanced", "write each parameter as"),
        ("/a/{x}/{x}", "duplicate parameter name 'x'", "distinct name"),
        ("/a/{x:nope}", "unknown converter 'nope'", "register_converter('nope'"),
        ("/a/{rest:path}/b", "not the last segment", "move it to the end"),
        ("/a/{}", "empty parameter name", "name it"),
        ("/a/{:int}", "empty parameter name", "name it"),
        ("/a/{1x}", "not a Python identifier", "letters, digits and '_'"),
        ("/a/{my-id}", "not a Python identifier", "letters, digits and '_'"),
        ("/a/{ id }", "not a Python identifier", "letters, digits and '_'"),
        ("/files/{name}.txt", "does not span the whole segment", "segment of its own"),
        ("/a//b", "empty segment", "remove the duplicate '/'"),
        ("/a?x=1", "not part of a path", "remove the query string"),
    ],
)
def test_invalid_templates_name_template_and_fix(template: str, problem: str, fix: str) -> None:
    r = Router()
    with pytest.raises(InvalidTemplate) as exc:
        r.add(template, h)
    message = str(exc.value)
    assert repr(template) in message
    assert problem in message
    assert fix in message
    assert exc.value.template == template
    assert len(r) == 0


def test_unknown_converter_lists_known_ones() -> None:
    with pytest.raises(InvalidTemplate, match="float, int, path, str, uuid"):
        Router().add("/a/{x:nope}", h)


def test_valid_edge_templates() -> None:
    r = Router()
    r.add("/", "root")
    r.add("/trailing/", "trailing")
    r.add("/café/{x}", "unicode")
    r.add("/100%/{x}", "percent")
    assert r.match(None, "/").handler == "root"
    assert r.match(None, "/trailing/").handler == "trailing"
    assert r.match(None, "/caf%C3%A9/1").handler == "unicode"
    assert r.match(None, "/100%25/1").handler == "percent"
    assert r.url_for is not None


def test_bad_prefix() -> None:
    r = Router()
    api = Router()
    for prefix in ("api", "/api/"):
        with pytest.raises(ValueError, match="must start with '/' and must not end with '/'"):
            r.include(api, prefix=prefix)
    with pytest.raises(ValueError, match="catch-all"):
        r.include(api, prefix="/x/{p:path}")
    with pytest.raises(ValueError, match="itself"):
        r.include(r)


def test_path_format_drops_converter_names() -> None:
    r = Router(prefix="/orgs/{org}")
    route = r.add("/files/{name}/{rest:path}", h)
    assert route.path == "/orgs/{org}/files/{name}/{rest:path}"
    assert route.path_format == "/orgs/{org}/files/{name}/{rest}"
    assert route.template.path_format == route.path_format
    assert r.add("/", h).path_format == "/orgs/{org}/"


def test_template_parse_and_parse_prefix() -> None:
    template = Template.parse("/users/{user_id:int}")
    assert template.path == "/users/{user_id:int}"
    assert template.params["user_id"].python_type is int
    slug = Converter(r"[a-z]+")
    assert Template.parse("/p/{s:slug}", {"slug": slug}).params == {"s": slug}
    with pytest.raises(InvalidTemplate, match="unknown converter 'slug'"):
        Template.parse("/p/{s:slug}")
    assert Template.parse_prefix("") is None
    prefix = Template.parse_prefix("/orgs/{org}")
    assert prefix is not None
    assert list(prefix.params) == ["org"]
    for bad in ("api", "/api/"):
        with pytest.raises(ValueError, match="must start with '/' and must not end with '/'"):
            Template.parse_prefix(bad)
    with pytest.raises(ValueError, match="catch-all"):
        Template.parse_prefix("/x/{p:path}")
    with pytest.raises(InvalidTemplate, match="empty segment"):
        Template.parse_prefix("/a//b")


def test_templates_share_equal_parameters_and_keep_their_own_converters() -> None:
    # Equal path parameters are kept once (memory): sharing must never mix converters
    # registered under one name, and the shared mapping stays read-only.
    a = Template.parse("/a/{item_id:int}")
    b = Template.parse("/b/{item_id:int}/c")
    assert a.params is b.params
    assert a.segments[1] is b.segments[1]
    with pytest.raises(TypeError):
        a.params["other"] = a.params["item_id"]  # type: ignore[index]

    class Upper(Converter):
        regex = "[A-Z]+"

    upper = Upper()
    c = Template.parse("/c/{item_id:int}", {"int": upper})
    assert c.params["item_id"] is upper
    assert a.params["item_id"] is not upper
    assert Template.parse("/d/{item_id}").params is not a.params


def test_routes_share_an_empty_meta_that_an_include_never_writes() -> None:
    inner = Router()
    plain = inner.add("/plain", "plain")
    outer = Router()
    (copy,) = outer.include(inner, prefix="/api", auth="token")
    assert copy.meta == {"auth": "token"}
    assert plain.meta == {}
    assert Router().add("/other", "other").meta == {}
    assert inner.add("/p/{n:int}", "p").param_names == ("n",)
