"""The optional mypyc build of the matcher (``_tree``) and its pure-Python fallback.

An ordinary install (the editable development one, or the ``py3-none-any`` wheel) runs
the pure ``_tree.py``; a wheel built with ``QAKE_ROUTING_COMPILE=1`` carries mypyc's
extension of the same name, which Python imports first. CI runs all of tests/routing
against both installs and says which one it has with ``QAKE_ROUTING_EXPECT``
(``pure``, the default, or ``compiled``); a compiled install also checks here that its
answers are the pure source's, on generated paths.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qake_routing._router as router_module
import qake_routing._tree as tree
from qake_routing import MethodNotAllowed, NotFound, Router

EXPECT = os.environ.get("QAKE_ROUTING_EXPECT", "pure")
EXTENSION_SUFFIXES = (".so", ".pyd")


def test_the_install_runs_the_expected_matcher() -> None:
    assert EXPECT in ("pure", "compiled"), f"QAKE_ROUTING_EXPECT={EXPECT!r}: pure or compiled"
    loaded = tree.__file__ or ""
    if EXPECT == "pure":
        assert loaded.endswith(".py"), f"an ordinary install runs the pure matcher: {loaded}"
    else:
        assert loaded.endswith(EXTENSION_SUFFIXES), f"expected mypyc's extension: {loaded}"
        assert not hasattr(tree.lookup, "__code__"), "lookup is still a Python function"
    assert tree.COMPILED is (EXPECT == "compiled")
    # The router runs this module's walk, whichever it is: the pure one as its method.
    assert router_module.Node is tree.Node
    assert router_module.lookup is tree.lookup
    assert (Router.lookup is tree.lookup) is (EXPECT == "pure")


def pure_tree() -> ModuleType:
    """``_tree.py`` itself, loaded beside whatever ``qake_routing._tree`` is."""
    source = Path(tree.__file__ or "").with_name("_tree.py")
    spec = importlib.util.spec_from_file_location("qake_routing._tree_pure_source", source)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def overlapping_router() -> Router:
    """Routes that make the walk backtrack, convert, fall through and catch all."""
    r = Router()
    r.register_converter("hex", regex="[0-9a-f]+", parse=lambda s: int(s, 16), priority=15)
    r.add("/", "root", methods="GET")
    r.add("/a/b", "a-b", methods="GET")
    r.add("/a/{x}", "a-x", methods=["GET", "POST"])
    r.add("/a/{n:int}/c", "a-n-c", methods="GET")
    r.add("/a/{h:hex}/d", "a-h-d", methods="PUT")
    r.add("/a/{f:float}/d", "a-f-d", methods="GET")
    r.add("/a/{x}/{y}/", "a-x-y-slash", methods="GET")
    r.add("/a/{rest:path}", "a-rest", methods="DELETE")
    r.add("/b/{u:uuid}", "b-u")
    r.add("/b/{n:int}/{m:int}", "b-n-m", methods="GET")
    r.add("/b/{rest:path}", "b-rest", methods="GET")
    r.add("/c%2Fd/{x}", "escaped", methods="GET")
    r.add("/café/{x}", "unicode", methods="GET")
    return r


def outcome(lookup: Any, method: str | None, path: str, decoded: bool) -> tuple[Any, ...]:
    try:
        route, params = lookup(method, path, decoded)
    except MethodNotAllowed as exc:
        return ("405", sorted(exc.allowed))
    except NotFound:
        return ("404",)
    return ("ok", route, dict(params))


ROUTER = overlapping_router()
PURE = pure_tree()
PURE_ROOT = PURE.Node()
for _route in ROUTER.routes:
    PURE_ROOT.insert(_route)
PURE_ROOT.compile(True)


class PureRouter:
    """A router as the pure ``lookup`` sees one, with no static table: every path walks."""

    def __init__(self) -> None:
        self._compiled = PURE.Compiled(PURE_ROOT, {})

    def _build(self) -> Any:
        return self._compiled


PURE_ROUTER = PureRouter()


SEGMENT = st.sampled_from(
    ["a", "b", "c", "d", "", "7", "-3", "1e3", "ff", "0.5", "x y", "%2F", "caf%C3%A9",
     "café", "c%2Fd", "12345678-1234-1234-1234-123456789abc", "9" * 25, "٣"]
)  # fmt: skip
PATHS = st.lists(SEGMENT, min_size=0, max_size=5).map(lambda s: "/" + "/".join(s))
METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", None])


@settings(max_examples=300, deadline=None)
@given(path=PATHS, method=METHODS, decoded=st.booleans())
def test_the_loaded_matcher_answers_as_the_pure_source(
    path: str, method: str | None, decoded: bool
) -> None:
    def pure(m: str | None, p: str, d: bool) -> Any:
        return PURE.lookup(PURE_ROUTER, m, p, decoded=d)

    def loaded(m: str | None, p: str, d: bool) -> Any:
        return ROUTER.lookup(m, p, decoded=d)

    assert outcome(loaded, method, path, decoded) == outcome(pure, method, path, decoded)


def test_the_pure_source_is_the_one_shipped() -> None:
    """The pure module loaded above is a separate copy of the same source."""
    assert PURE is not tree
    assert PURE.lookup is not tree.lookup
    assert PURE.COMPILED is False
    with pytest.raises(NotFound):
        PURE.lookup(PURE_ROUTER, "GET", "no-slash")
