"""Property-based tests: url_for and match invert each other; order never picks winners."""

import math
import re
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from qake_routing import NotFound, Router

# Any Unicode text except lone surrogates (which no URL can carry).
TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)
FINITE = st.floats(allow_nan=False, allow_infinity=False)


def roundtrip_router() -> Router:
    r = Router()
    r.add("/s/{value}", "str", name="str")
    r.add("/i/{value:int}", "int", name="int")
    r.add("/f/{value:float}", "float", name="float")
    r.add("/u/{value:uuid}", "uuid", name="uuid")
    r.add("/p/{value:path}", "path", name="path")
    r.add("/m/{a}/{b:int}/{c:path}", "mixed", name="mixed")
    return r


ROUTER = roundtrip_router()


@settings(max_examples=150, deadline=None)
@given(value=TEXT)
def test_str_roundtrip(value: str) -> None:
    url = ROUTER.url_for("str", value=value)
    assert url.isascii()
    assert ROUTER.match("GET", url).params == {"value": value}


@settings(max_examples=150, deadline=None)
@given(value=TEXT)
def test_path_roundtrip(value: str) -> None:
    url = ROUTER.url_for("path", value=value)
    assert ROUTER.match("GET", url).params == {"value": value}


@settings(max_examples=100, deadline=None)
@given(value=st.integers())
def test_int_roundtrip(value: int) -> None:
    assert ROUTER.match("GET", ROUTER.url_for("int", value=value)).params == {"value": value}


@settings(max_examples=100, deadline=None)
@given(value=FINITE)
def test_float_roundtrip(value: float) -> None:
    got = ROUTER.match("GET", ROUTER.url_for("float", value=value)).params["value"]
    assert got == value
    assert math.copysign(1, got) == math.copysign(1, value)


@settings(max_examples=50, deadline=None)
@given(value=st.uuids())
def test_uuid_roundtrip(value: uuid.UUID) -> None:
    assert ROUTER.match("GET", ROUTER.url_for("uuid", value=value)).params == {"value": value}


@settings(max_examples=100, deadline=None)
@given(a=TEXT, b=st.integers(), c=TEXT)
def test_mixed_roundtrip(a: str, b: int, c: str) -> None:
    url = ROUTER.url_for("mixed", a=a, b=b, c=c)
    assert ROUTER.match(None, url).params == {"a": a, "b": b, "c": c}


# -- precedence is independent of registration order ----------------------------------

KINDS = ["a", "b", "{p}", "{n:int}", "{f:float}"]
RANK = {"a": 0, "b": 0, "{n:int}": 1, "{f:float}": 2, "{p}": 3, "{r:path}": 4}
FLOAT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


@st.composite
def template(draw: st.DrawFn) -> tuple[str, ...]:
    segments = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=3))
    if draw(st.booleans()):
        segments.append("{r:path}")
    return tuple(segments)


def render(segments: tuple[str, ...]) -> str:
    # Distinct parameter names per position, so equal shapes are equal strings.
    out = []
    for index, segment in enumerate(segments):
        out.append(segment.replace("{", "{x" + str(index) + "_", 1) if "{" in segment else segment)
    return "/" + "/".join(out)


def segment_matches(kind: str, text: str) -> bool:
    if kind in ("a", "b"):
        return kind == text
    if kind == "{n:int}":
        return re.fullmatch("-?[0-9]+", text) is not None
    if kind == "{f:float}":
        return FLOAT.fullmatch(text) is not None and math.isfinite(float(text))
    return text != ""


def oracle(templates: list[tuple[str, ...]], path: list[str]) -> tuple[str, ...] | None:
    """The documented rule: compare matching templates segment by segment by kind rank."""
    candidates = []
    for tpl in templates:
        if tpl[-1] == "{r:path}":
            head = tpl[:-1]
            if len(path) <= len(head) or "/".join(path[len(head) :]) == "":
                continue
        elif len(tpl) != len(path):
            continue
        else:
            head = tpl
        if all(segment_matches(k, s) for k, s in zip(head, path, strict=False)):
            candidates.append(tpl)
    if not candidates:
        return None
    return min(candidates, key=lambda tpl: [RANK[k] for k in tpl])


@settings(max_examples=150, deadline=None)
@given(
    templates=st.lists(template(), min_size=1, max_size=12, unique=True),
    paths=st.lists(
        st.lists(st.sampled_from(["a", "b", "1", "-2", "1.5", "x", ""]), min_size=1, max_size=5),
        min_size=1,
        max_size=10,
    ),
    data=st.data(),
)
def test_shuffled_registration_never_changes_the_winner(
    templates: list[tuple[str, ...]], paths: list[list[str]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(templates))
    routers = []
    for order in (templates, shuffled):
        r = Router()
        for tpl in order:
            r.add(render(tpl), tpl)
        routers.append(r)
    for segments in paths:
        path = "/" + "/".join(segments)
        winners = []
        for r in routers:
            try:
                winners.append(r.match("GET", path).handler)
            except NotFound:
                winners.append(None)
        assert winners[0] == winners[1]
        assert winners[0] == oracle(templates, segments), path
