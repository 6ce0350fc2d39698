import datetime
import math
import uuid

import pytest

from qake_routing import Converter, NotFound, Router


def h() -> None:
    return None


@pytest.mark.parametrize(
    ("segment", "expected"),
    [("42", 42), ("0", 0), ("-7", -7), ("007", 7)],
)
def test_int_accepts_ascii_digits(segment: str, expected: int) -> None:
    r = Router()
    r.add("/n/{n:int}", h)
    assert r.match(None, f"/n/{segment}").params == {"n": expected}


@pytest.mark.parametrize("segment", ["+5", "%205", "5_000", "1.0", "abc", "-", "%D9%A3", "1e3"])
def test_int_rejects_non_canonical(segment: str) -> None:
    r = Router()
    r.add("/n/{n:int}", h)
    with pytest.raises(NotFound):
        r.match(None, f"/n/{segment}")


def test_int_too_long_is_not_a_match() -> None:
    r = Router()
    r.add("/n/{n:int}", h)
    with pytest.raises(NotFound):
        r.match(None, "/n/" + "9" * 5000)


@pytest.mark.parametrize(
    ("segment", "expected"),
    [("1.5", 1.5), ("-2", -2.0), ("1e-5", 1e-5), ("1E+16", 1e16), (".5", 0.5), ("3.", 3.0)],
)
def test_float(segment: str, expected: float) -> None:
    r = Router()
    r.add("/f/{x:float}", h)
    value = r.match(None, f"/f/{segment}").params["x"]
    assert isinstance(value, float)
    assert value == expected


@pytest.mark.parametrize(
    "segment", ["nan", "inf", "-inf", "Infinity", "1e999", "1_0", "0x10", "e5"]
)
def test_float_rejects_nan_inf_and_odd_forms(segment: str) -> None:
    r = Router()
    r.add("/f/{x:float}", h)
    with pytest.raises(NotFound):
        r.match(None, f"/f/{segment}")


def test_uuid_returns_uuid_in_either_case() -> None:
    r = Router()
    r.add("/u/{u:uuid}", h)
    value = uuid.uuid4()
    assert r.match(None, f"/u/{value}").params == {"u": value}
    assert r.match(None, f"/u/{str(value).upper()}").params == {"u": value}
    with pytest.raises(NotFound):
        r.match(None, f"/u/{value.hex}")


def test_str_is_one_non_empty_segment() -> None:
    r = Router()
    r.add("/s/{s}", h)
    assert r.match(None, "/s/héllo").params == {"s": "héllo"}
    with pytest.raises(NotFound):
        r.match(None, "/s/")
    with pytest.raises(NotFound):
        r.match(None, "/s/a/b")


def test_path_takes_the_non_empty_rest() -> None:
    r = Router()
    r.add("/files/{rest:path}", h)
    assert r.match(None, "/files/a/b/c.txt").params == {"rest": "a/b/c.txt"}
    assert r.match(None, "/files/a/").params == {"rest": "a/"}
    assert r.match(None, "/files//x").params == {"rest": "/x"}
    with pytest.raises(NotFound):
        r.match(None, "/files/")
    with pytest.raises(NotFound):
        r.match(None, "/files")


def test_regex_converter() -> None:
    r = Router()
    r.register_converter("slug", regex=r"[a-z0-9]+(?:-[a-z0-9]+)*")
    r.add("/posts/{slug:slug}", h, name="post")
    assert r.match(None, "/posts/hello-world").params == {"slug": "hello-world"}
    with pytest.raises(NotFound):
        r.match(None, "/posts/Hello_World")
    assert r.url_for("post", slug="a-b") == "/posts/a-b"


def test_parse_format_converter() -> None:
    def parse(text: str) -> bool:
        if text not in ("yes", "no"):
            raise ValueError(text)
        return text == "yes"

    r = Router()
    r.register_converter("yesno", parse=parse, format=lambda v: "yes" if v else "no")
    r.add("/flag/{on:yesno}", h, name="flag")
    assert r.match(None, "/flag/yes").params == {"on": True}
    assert r.match(None, "/flag/no").params == {"on": False}
    with pytest.raises(NotFound):
        r.match(None, "/flag/maybe")
    assert r.url_for("flag", on=False) == "/flag/no"


def test_converter_subclass_and_constructor_argument() -> None:
    class Hex(Converter):
        regex = "[0-9a-f]+"

        def parse(self, text: str) -> object:
            return int(text, 16)

        def format(self, value: object) -> str:
            assert isinstance(value, int)
            return format(value, "x")

    r = Router(converters={"hex": Hex()})
    r.add("/c/{c:hex}", h, name="c")
    assert r.match(None, "/c/ff").params == {"c": 255}
    with pytest.raises(NotFound):
        r.match(None, "/c/FF")
    assert r.url_for("c", c=255) == "/c/ff"
    assert "hex" in r.converters


def test_register_converter_errors() -> None:
    r = Router()
    with pytest.raises(ValueError, match="already registered"):
        r.register_converter("int", regex="[0-9]+")
    with pytest.raises(ValueError, match="identifier"):
        r.register_converter("no-dash", regex="x")
    with pytest.raises(ValueError, match="needs a regex"):
        r.register_converter("empty")
    with pytest.raises(ValueError, match="not both"):
        r.register_converter("both", Converter("x"), regex="y")


def test_failed_conversion_falls_through() -> None:
    r = Router()
    r.add("/users/{id:int}", "by_id")
    r.add("/users/{name}", "by_name")
    assert r.match(None, "/users/42").handler == "by_id"
    assert r.match(None, "/users/abc").handler == "by_name"
    assert r.match(None, "/users/abc").params == {"name": "abc"}


def test_fall_through_backtracks_deeper() -> None:
    r = Router()
    r.add("/users/{id:int}/posts", "int-posts")
    r.add("/users/{name}/profile", "name-profile")
    assert r.match(None, "/users/42/profile").params == {"name": "42"}
    assert r.match(None, "/users/42/posts").params == {"id": 42}


def test_float_values_are_finite() -> None:
    r = Router()
    r.add("/f/{x:float}", h)
    assert math.isfinite(r.match(None, "/f/" + "9" * 300).params["x"])


def test_builtin_converters_declare_their_python_type_and_json_schema() -> None:
    r = Router()
    route = r.add("/{s}/{i:int}/{f:float}/{u:uuid}/{p:path}", h)
    declared = {
        name: (converter.python_type, converter.json_schema)
        for name, converter in route.params.items()
    }
    assert declared == {
        "s": (str, {"type": "string"}),
        "i": (int, {"type": "integer"}),
        "f": (float, {"type": "number"}),
        "u": (uuid.UUID, {"type": "string", "format": "uuid"}),
        "p": (str, {"type": "string"}),
    }


def test_user_converter_declares_python_type_and_json_schema() -> None:
    r = Router()
    day = r.register_converter(
        "date",
        regex=r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
        parse=datetime.date.fromisoformat,
        format=datetime.date.isoformat,
        python_type=datetime.date,
        json_schema={"type": "string", "format": "date"},
    )
    route = r.add("/days/{day:date}", h, name="day")
    assert route.params["day"] is day
    assert day.python_type is datetime.date
    assert day.json_schema == {"type": "string", "format": "date"}
    assert r.match(None, "/days/2024-02-29").params == {"day": datetime.date(2024, 2, 29)}
    with pytest.raises(NotFound):
        r.match(None, "/days/2023-02-29")  # parse refuses it: not a match
    assert r.url_for("day", day=datetime.date(2024, 1, 2)) == "/days/2024-01-02"


def test_undeclared_types_default_to_str_for_a_regex_and_object_when_parsed() -> None:
    class Hex(Converter):
        regex = "[0-9a-f]+"

        def parse(self, text: str) -> object:
            return int(text, 16)

    slug = Converter(r"[a-z-]+")
    yes = Converter(parse=lambda text: text == "yes")
    typed = Hex(python_type=int, json_schema={"type": "string", "pattern": "^[0-9a-f]+$"})
    assert (slug.python_type, slug.json_schema) == (str, {"type": "string"})
    assert (yes.python_type, yes.json_schema) == (object, {"type": "string"})
    assert (Hex().python_type, Hex().json_schema) == (object, {"type": "string"})
    assert typed.python_type is int
    assert typed.json_schema == {"type": "string", "pattern": "^[0-9a-f]+$"}


def test_register_converter_refuses_an_instance_with_type_options() -> None:
    with pytest.raises(ValueError, match="not both"):
        Router().register_converter("x", Converter("x"), python_type=int)
