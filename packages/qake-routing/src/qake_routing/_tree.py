"""The segment tree: built at registration (refusing conflicts), compiled for matching.

Each node holds a dict of static children, typed-parameter children, at most one plain
``str`` child and catch-all children. Matching walks one node per path segment, trying
static > typed (by converter priority, then name) > plain > catch-all and backtracking
when a branch dead-ends, so cost depends on the path's length, not on the route count.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final, Protocol

from ._converters import NO_MATCH, Converter, IntConverter, StrConverter
from ._errors import MethodNotAllowed, NotFound, RouteConflict
from ._kept import kept
from ._paths import split_path
from ._route import Match, Route
from ._template import Param

__all__ = ["COMPILED", "Compiled", "Leaf", "Node", "StaticLeaf", "lookup", "search"]

#: Digit strings shorter than this are converted inline (well under int()'s str limit).
_INT_INLINE_DIGITS: Final = 19


def _is_compiled() -> bool:
    # A function compiled by mypyc is a built-in function: it has no code object.
    return not hasattr(_is_compiled, "__code__")


#: Whether this module runs as the optional mypyc build (then ``Router.lookup`` calls
#: ``lookup``; the pure build binds ``lookup`` as the method itself).
COMPILED: Final = _is_compiled()


#: Each verb set leaves were built with, kept once (``kept``).
_ALLOWED: dict[frozenset[str], frozenset[str]] = {}
_ALLOWED_MAX = 64


#: The ``table`` of a leaf with one route (``Leaf.single``): shared, never written.
_NO_ROUTES: Final[dict[str | None, Any]] = {}


class Leaf:
    """The routes of one path shape, by method. Built by ``Node.compile``.

    PERF: a leaf with one route (and no route for any method) keeps it as ``single``,
    answering the methods of ``allowed``, and the shared empty table: no dict per
    route. With ``StaticLeaf``'s: -522 KiB (tracemalloc, 5,019 -> 4,497 KiB) for the
    benchmarks' 2,000-route app, and qakeapi's request in process (callgrind,
    PYTHONHASHSEED=0) S3 65,705 -> 65,518, S5 44,000 -> 43,841 instructions."""

    __slots__ = ("allowed", "any", "single", "table")

    def __init__(self, routes: tuple[Route, ...], auto_head: bool) -> None:
        table: dict[str | None, Route] = {}
        self.any: Route | None = None
        for route in routes:
            if route.methods is None:
                self.any = route
            else:
                for method in route.methods:
                    table[method] = route
        if auto_head and "GET" in table and "HEAD" not in table:
            table["HEAD"] = table["GET"]
        allowed = frozenset(m for m in table if m is not None)
        # PERF: one set per verb set, shared by the leaves that allow the same methods
        # (a handful per app: ~0.4 MiB fewer for the benchmarks' 2,000-route app).
        self.allowed = kept(_ALLOWED, allowed, allowed, _ALLOWED_MAX)
        self.single: Route | None = None
        self.table = table
        if self.any is None and len(routes) == 1:
            self.single = routes[0]
            self.table = _NO_ROUTES


class StaticLeaf:
    """A fully static path's routes with their ``Match`` objects built once; as in
    ``Leaf``, one route is kept as ``single``."""

    __slots__ = ("allowed", "any", "single", "table")

    def __init__(self, leaf: Leaf, empty: Any) -> None:
        self.allowed = leaf.allowed
        self.any = Match(leaf.any, empty) if leaf.any is not None else None
        self.single: Match | None = None
        self.table: dict[str | None, Match] = _NO_ROUTES
        if leaf.single is not None:
            self.single = Match(leaf.single, empty)
            return
        # PERF: one Match per route, shared by its methods (GET and its implied HEAD):
        # -63 KiB (tracemalloc) for the 1,000 static routes of the benchmarks' app.
        matches: dict[int, Match] = {}
        table: dict[str | None, Match] = {}
        for method, route in leaf.table.items():
            found = matches.get(id(route))
            if found is None:
                found = matches[id(route)] = Match(route, empty)
            table[method] = found
        self.table = table

    def by_method(self) -> dict[str | None, Match]:
        """Method → match, the route for any other method under ``None``."""
        table: dict[str | None, Match]
        if self.single is not None:
            table = dict.fromkeys(self.allowed, self.single)
        else:
            table = dict(self.table)
        if self.any is not None:
            table[None] = self.any
        return table


#: A node's containers until it gets a child or a route of its own: shared, never
#: written (``Node.insert`` replaces them first).
_NO_STATIC: Final[dict[str, Node]] = {}
_NO_TYPED: Final[dict[tuple[str, Converter], Node]] = {}


def _sort_key(item: tuple[tuple[str, Converter], Node]) -> tuple[int, str]:
    (name, converter), _ = item
    return converter.priority, name


class Node:
    __slots__ = (
        "catch_all",
        "catch_seq",
        "int_child",
        "leaf",
        "plain",
        "routes",
        "static",
        "typed",
        "typed_seq",
    )

    def __init__(self) -> None:
        # PERF: the child containers start as the shared empty ones below and get their
        # own on the first insert (``insert``, ``_child``): most nodes keep two of the
        # three empty; the routes are a tuple (one object, not a list and its array).
        # -677 KiB and -32 KiB (tracemalloc) for the benchmarks' 2,000-route app.
        self.static: dict[str, Node] = _NO_STATIC
        # Keyed by (converter name, converter): two routers may register different
        # converters under one name, and included routes keep their own.
        self.typed: dict[tuple[str, Converter], Node] = _NO_TYPED
        self.plain: Node | None = None
        self.catch_all: dict[tuple[str, Converter], Node] = _NO_TYPED
        self.routes: tuple[Route, ...] = ()
        # Filled by compile():
        self.typed_seq: tuple[tuple[Any, Node], ...] = ()
        self.catch_seq: tuple[tuple[Any, Leaf], ...] = ()
        #: The child of the built-in ``int`` converter when it is tried first here.
        self.int_child: Node | None = None
        self.leaf: Leaf | None = None

    def insert(self, route: Route, shadow: bool = False) -> bool:
        """Add ``route``; raise ``RouteConflict`` if it overlaps an equivalent one, or
        with ``shadow``, leave it out (the earlier one answers) and return ``False``."""
        node = self
        for segment in route.template.segments:
            if isinstance(segment, str):
                if node.static is _NO_STATIC:
                    node.static = {}
                node = node.static.setdefault(segment, Node())
            elif type(segment.converter) is StrConverter:
                if node.plain is None:
                    node.plain = Node()
                node = node.plain
            elif segment.converter.catch_all:
                if node.catch_all is _NO_TYPED:
                    node.catch_all = {}
                node = _child(node.catch_all, segment, route)
            else:
                if node.typed is _NO_TYPED:
                    node.typed = {}
                node = _child(node.typed, segment, route)
        for other in node.routes:
            if route.methods is None or other.methods is None:
                reason = "same path shape, and a route without methods accepts every method"
            elif route.methods & other.methods:
                shared = ", ".join(sorted(route.methods & other.methods))
                reason = f"same path shape and overlapping methods ({shared})"
            else:
                continue
            if shadow:
                return False
            raise RouteConflict(
                route, other, reason + "; change one of the paths or split the methods"
            )
        node.routes = (*node.routes, route)
        return True

    def compile(self, auto_head: bool) -> None:
        self.leaf = Leaf(self.routes, auto_head) if self.routes else None
        for child in self.static.values():
            child.compile(auto_head)
        if self.plain is not None:
            self.plain.compile(auto_head)
        typed = sorted(self.typed.items(), key=_sort_key)
        for _, child in typed:
            child.compile(auto_head)
        # PERF: keep the bound ``convert`` so matching makes one call per candidate.
        self.typed_seq = tuple((conv.convert, child) for (_, conv), child in typed)
        # PERF: the matcher converts plain ASCII digits inline for the built-in ``int``
        # converter when it comes first (it has the lowest built-in priority).
        first = typed[0][0][1] if typed else None
        self.int_child = typed[0][1] if type(first) is IntConverter else None
        catch: list[tuple[Any, Leaf]] = []
        for (_, conv), child in sorted(self.catch_all.items(), key=_sort_key):
            child.compile(auto_head)
            if child.leaf is not None:
                catch.append((conv.convert, child.leaf))
        self.catch_seq = tuple(catch)

    def iter_routes(self) -> Iterator[Route]:
        yield from self.routes
        for child in self.static.values():
            yield from child.iter_routes()
        for child in self.typed.values():
            yield from child.iter_routes()
        if self.plain is not None:
            yield from self.plain.iter_routes()
        for child in self.catch_all.values():
            yield from child.iter_routes()


def _child(children: dict[tuple[str, Converter], Node], segment: Param, route: Route) -> Node:
    key = (segment.converter_name, segment.converter)
    node = children.get(key)
    if node is not None:
        return node
    for (name, conv), sibling in children.items():
        # Same name and priority but a different converter object: the order between
        # them would be arbitrary, so refuse instead of guessing.
        if name == key[0] and conv.priority == segment.converter.priority:
            other = next(sibling.iter_routes())
            raise RouteConflict(
                route,
                other,
                f"two different converters named {name!r} at the same position; "
                "register one of them under another name",
            )
    node = children[key] = Node()
    return node


def search(
    node: Node, segments: list[str], index: int, count: int, values: list[Any]
) -> Leaf | None:
    """Depth-first search: static > typed > plain > catch-all, backtracking on dead ends.

    ``Router.match`` first walks the tree greedily (the first path this search would
    try); this runs only when that walk dead-ends: a fall-through or a 404.
    """
    if index == count:
        return node.leaf
    segment = segments[index]
    child = node.static.get(segment)
    if child is not None:
        found = search(child, segments, index + 1, count, values)
        if found is not None:
            return found
    if segment:
        for convert, child in node.typed_seq:
            value = convert(segment)
            if value is not NO_MATCH:
                values.append(value)
                found = search(child, segments, index + 1, count, values)
                if found is not None:
                    return found
                values.pop()
        child = node.plain
        if child is not None:
            values.append(segment)
            found = search(child, segments, index + 1, count, values)
            if found is not None:
                return found
            values.pop()
    if node.catch_seq and (segment or index + 1 < count):
        rest = "/".join(segments[index:])
        for convert, leaf in node.catch_seq:
            value = convert(rest)
            if value is not NO_MATCH:
                values.append(value)
                return leaf
    return None


class Compiled:
    """A router's matching structures: the tree and the table of fully static paths."""

    __slots__ = ("root", "static")

    def __init__(self, root: Node, static: dict[str, StaticLeaf]) -> None:
        self.root = root
        self.static = static


class Compiles(Protocol):
    """What ``lookup`` needs of its router: the compiled structures, built on demand."""

    _compiled: Compiled | None

    def _build(self) -> Compiled: ...


# PERF: one function on purpose (the static table, the segment walk and the ASCII-int
# shortcut are inline: this runs per request, and each helper call costs ~100-450
# instructions); the pure build binds it as ``Router.lookup`` itself (see _router.py).
# It is also what the optional mypyc build compiles, with this module (package README).
def lookup(  # noqa: C901
    router: Compiles, method: str | None, path: str, *, decoded: bool = False
) -> Match | tuple[Route, Mapping[str, Any]]:
    """:meth:`Router.match` as a plain ``(route, params)`` pair, for a dispatcher that
    only unpacks it (a static route's pair is its shared :class:`Match`).

    PERF: no ``Match`` made (nor freed) per parametrised lookup: qakeapi's request,
    in-process under callgrind (PYTHONHASHSEED=0), S3 67,843 -> 66,059 and S5
    46,162 -> 44,428 instructions; static routes (S1, S2) unchanged."""
    compiled = router._compiled
    if compiled is None:
        compiled = router._build()
    # PERF: fully static paths are one dict lookup and a prebuilt Match.
    static = compiled.static.get(path)
    if static is not None:
        found = static.single
        if found is None or method not in static.allowed:
            found = static.table.get(method, static.any)
            if found is None:
                raise MethodNotAllowed(method, path, static.allowed)
        return found
    if path[:1] != "/":
        raise NotFound(path)
    segments: list[str]
    # PERF: an ASCII path's int segments need no isascii() of their own: S3's lookup
    # alone (two int segments) 13,498 -> 13,301 instructions.
    ascii_path = path.isascii()
    if (ascii_path and "%" not in path) or decoded:
        segments = path[1:].split("/")  # PERF: no decoding work when there is none to do
    else:
        segments = split_path(path)
        ascii_path = False  # decoding may bring non-ASCII characters
    # PERF: greedy walk, one node per segment, taking the first viable branch (static,
    # else the first typed converter that accepts, else plain). That is the first path
    # the full depth-first ``search`` would try, so when it reaches a leaf the answer is
    # the same; when it dead-ends the full search runs from the root.
    values: list[Any] = []
    root = node = compiled.root
    leaf: Leaf | None = None
    for segment in segments:
        child = node.static.get(segment)
        if child is None:
            if segment:
                child = node.int_child
                if (
                    child is not None
                    and segment.isdigit()
                    and (ascii_path or segment.isascii())
                    and len(segment) < _INT_INLINE_DIGITS
                ):
                    values.append(int(segment))
                    node = child
                    continue
                for convert, typed_child in node.typed_seq:
                    value = convert(segment)
                    if value is not NO_MATCH:
                        values.append(value)
                        child = typed_child
                        break
                else:
                    child = node.plain
                    if child is not None:
                        values.append(segment)
            if child is None:
                break
        node = child
    else:
        leaf = node.leaf
    if leaf is None:
        values.clear()
        leaf = search(root, segments, 0, len(segments), values)
    if leaf is None:
        raise NotFound(path)
    route = leaf.single
    if route is None or method not in leaf.allowed:
        route = leaf.table.get(method, leaf.any)
        if route is None:
            raise MethodNotAllowed(method, path, leaf.allowed)
    names = route.param_names
    # PERF: one or two parameters (most routes) without a call of the route's builder:
    # S5's lookup alone (callgrind) 9,027 -> 8,760 instructions.
    if len(names) == 1:
        return route, {names[0]: values[0]}
    if len(names) == 2:
        return route, {names[0]: values[0], names[1]: values[1]}
    return route, route.build_params(values)
