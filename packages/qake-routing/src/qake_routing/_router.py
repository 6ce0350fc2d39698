"""``Router``: register routes, refuse conflicts, compile lazily, match, reverse."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Final

from ._converters import BUILTIN_CONVERTERS, Converter
from ._decorators import RouteDecorators
from ._errors import MethodNotAllowed, NotFound, RouteConflict, URLBuildError
from ._route import Match, Methods, Route, merge_meta, new_match, normalize_methods
from ._template import parse_prefix, parse_template
from ._tree import COMPILED, Compiled, Node, StaticLeaf, lookup

__all__ = ["Router"]


# Shared by every Match of a static route: read-only, so sharing is safe.
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})


class Router(RouteDecorators):
    """A compiled path router. ``Router(**meta)`` or ``Router(meta={...})``.

    * ``auto_head``: a GET route also answers HEAD unless HEAD is registered explicitly.
    * ``prefix``: prepended to every path added to this router (no trailing '/').
    * ``converters``: extra converters by name, on top of str/int/float/uuid/path.
    * ``unique_names``: with ``False`` a name may be reused on another path, and
      ``url_for`` builds the first route registered under it (Starlette's rule);
      by default that is a ``RouteConflict``.
    * ``shadow_duplicates``: with ``True`` a route whose path shape and methods overlap
      an earlier one's is kept (``url_for`` builds it) but never matched: the first
      wins, as in Starlette, and a warning is logged on ``qake.routing``; by default
      it is a ``RouteConflict``.
    * ``meta`` / extra keywords: inherited by this router's routes (route keys win,
      lists concatenate parent first).
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        auto_head: bool = True,
        converters: Mapping[str, Converter] | None = None,
        unique_names: bool = True,
        shadow_duplicates: bool = False,
        meta: Mapping[str, Any] | None = None,
        **extra_meta: Any,
    ) -> None:
        self.auto_head = auto_head
        self.unique_names = unique_names
        self.shadow_duplicates = shadow_duplicates
        self.meta: dict[str, Any] = {**(meta or {}), **extra_meta}
        self._converters: dict[str, Converter] = dict(BUILTIN_CONVERTERS)
        for name, converter in (converters or {}).items():
            self.register_converter(name, converter)
        self._prefix = parse_prefix(prefix, self._converters)
        self._routes: list[Route] = []
        self._names: dict[str, Route] = {}
        self._root = Node()
        self._compiled: Compiled | None = None

    # -- registration -------------------------------------------------------------------

    def register_converter(
        self,
        name: str,
        converter: Converter | None = None,
        *,
        regex: str | None = None,
        parse: Callable[[str], Any] | None = None,
        format: Callable[[Any], str] | None = None,
        priority: int | None = None,
        python_type: type | None = None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> Converter:
        """Register a converter for ``{param:name}``: an instance, or the ``Converter``
        constructor's arguments (regex/parse/format, priority, python_type, json_schema)."""
        if not name.isidentifier():
            raise ValueError(f"converter name {name!r} must be a Python identifier")
        if name in self._converters:
            raise ValueError(f"a converter named {name!r} is already registered; pick another")
        if converter is None:
            if regex is None and parse is None:
                raise ValueError(f"converter {name!r} needs a regex, a parse function or both")
            converter = Converter(
                regex,
                parse,
                format,
                priority=priority,
                python_type=python_type,
                json_schema=json_schema,
            )
        elif any(
            option is not None
            for option in (regex, parse, format, priority, python_type, json_schema)
        ):
            raise ValueError(
                "pass either a Converter instance or the constructor's arguments "
                "(regex/parse/format...), not both"
            )
        self._converters[name] = converter
        return converter

    def add(
        self,
        path: str,
        handler: Any,
        methods: Methods = None,
        *,
        name: str | None = None,
        **meta: Any,
    ) -> Route:
        """Register ``handler`` for ``path``; ``methods=None`` accepts any method/label.

        With a prefix, ``path=""`` registers the prefix itself (``/api``, where ``"/"``
        gives ``/api/``).
        """
        if not path and self._prefix is not None:
            template = self._prefix
        else:
            template = parse_template(path, self._converters)
            if self._prefix is not None:
                template = self._prefix + template
        route = Route(
            template, handler, normalize_methods(methods), name, merge_meta(self.meta, meta)
        )
        self._add_route(route)
        return route

    def include(
        self,
        router: Router,
        prefix: str = "",
        *,
        name: str | None = None,
        copy_handler: Callable[[Route], Any] | None = None,
        **meta: Any,
    ) -> tuple[Route, ...]:
        """Copy ``router``'s routes into this one, under ``prefix``; return the copies.

        A snapshot: routes added to ``router`` later are not seen. Each route's meta
        becomes ``this router's meta < meta given here < the route's own meta``. With
        ``name="api"`` route names become ``"api:<name>"``. The copies keep the
        converters their templates were parsed with.

        ``copy_handler(copy)``, when given, returns the handler the copy keeps; it gets
        the copy (its path, name and meta final, its handler still the included
        route's) before it is added. For a framework whose handler objects carry
        per-route state, such as the full path or inherited options.
        """
        if router is self:
            raise ValueError("a router cannot include itself")
        prefix_template = parse_prefix(prefix, self._converters)
        if self._prefix is not None:
            prefix_template = (
                self._prefix if prefix_template is None else self._prefix + prefix_template
            )
        parent_meta = merge_meta(self.meta, meta)
        copies: list[Route] = []
        for route in router._routes:
            template = route.template
            if prefix_template is not None:
                template = prefix_template + template
            route_name = route.name
            if name is not None and route_name is not None:
                route_name = f"{name}:{route_name}"
            copy = Route(
                template,
                route.handler,
                route.methods,
                route_name,
                merge_meta(parent_meta, route.meta),
            )
            if copy_handler is not None:
                copy.handler = copy_handler(copy)
            self._add_route(copy)
            copies.append(copy)
        return tuple(copies)

    def _add_route(self, route: Route) -> None:
        if route.name is not None:
            other = self._names.get(route.name)
            if other is not None and other.path != route.path and self.unique_names:
                raise RouteConflict(
                    route,
                    other,
                    f"name {route.name!r} is already used by another path; "
                    "names must be unique per path (one name may cover several methods)",
                )
        # raises RouteConflict before anything is recorded
        if not self._root.insert(route, self.shadow_duplicates):
            import logging  # NOTE: here: only a router that shadows routes needs it

            logging.getLogger("qake.routing").warning(
                "route %s %s is shadowed by an earlier route with the same path shape and "
                "methods: the earlier one answers (shadow_duplicates=True)",
                ",".join(sorted(route.methods or ("*",))),
                route.path,
            )
        self._routes.append(route)
        if route.name is not None:
            self._names.setdefault(route.name, route)
        self._compiled = None

    # -- compile & match ----------------------------------------------------------------

    def compile(self) -> None:
        """Build the matching structures now (``match`` does it on first use otherwise)."""
        self._build()

    def _build(self) -> Compiled:
        root = self._root
        root.compile(self.auto_head)
        static: dict[str, StaticLeaf] = {}
        for route in self._routes:
            path = route.path
            # Only keys that a raw path can be compared with verbatim: no escapes, ASCII.
            if route.template.params or "%" in path or not path.isascii() or path in static:
                continue
            node = root
            for segment in route.template.segments:
                node = node.static[str(segment)]
            assert node.leaf is not None
            static[path] = StaticLeaf(node.leaf, _EMPTY)
        compiled = self._compiled = Compiled(root, static)
        return compiled

    def static_matches(self) -> dict[str, dict[str | None, Match]]:
        """The paths ``match`` answers with one dict lookup, and what it answers.

        Raw path (as ``match`` takes it) → method → the ``Match`` returned for it; the
        key ``None`` holds a route registered with ``methods=None`` (any other method).
        Only fully static, ASCII paths without escapes are listed. A framework may
        index its own dispatch table from this; it is a new dict on every call, and
        adding a route later does not change one already returned.
        """
        compiled = self._compiled
        if compiled is None:
            compiled = self._build()
        tables: dict[str, dict[str | None, Match]] = {}
        for path, leaf in compiled.static.items():
            tables[path] = leaf.by_method()
        return tables

    def match(self, method: str | None, path: str, *, decoded: bool = False) -> Match:
        """The route for ``method`` and ``path``, with converted parameters.

        ``path`` is the raw, still percent-encoded path (ASGI ``raw_path`` decoded as
        latin-1, no query string); pass ``decoded=True`` for an already-decoded path.
        ``method=None`` matches only routes registered with ``methods=None``.
        Raises ``NotFound`` or ``MethodNotAllowed``.
        """
        found = self.lookup(method, path, decoded=decoded)
        return found if type(found) is Match else new_match(Match, found)

    def lookup(
        self, method: str | None, path: str, *, decoded: bool = False
    ) -> tuple[Route, Mapping[str, Any]]:
        """:meth:`match` as a plain ``(route, params)`` pair, for a dispatcher that only
        unpacks it (a static route's pair is its shared :class:`Match`)."""
        return lookup(self, method, path, decoded=decoded)

    def redirect_slashes(
        self, method: str | None, path: str, *, decoded: bool = False
    ) -> str | None:
        """The same path with the trailing '/' toggled, if only that one matches.

        ``None`` when ``path`` itself matches (or 405s), or when neither does. Matching is
        strict; a framework calls this after a ``NotFound`` to answer with a redirect.
        """
        try:
            self.match(method, path, decoded=decoded)
            return None
        except MethodNotAllowed:
            return None
        except NotFound:
            pass
        if path == "/" or not path.startswith("/"):
            return None
        other = path[:-1] if path.endswith("/") else path + "/"
        try:
            self.match(method, other, decoded=decoded)
        except LookupError:
            return None
        return other

    # -- reverse & introspection ------------------------------------------------------

    def url_for(self, name: str, /, **params: Any) -> str:
        """The percent-encoded path of the route called ``name``."""
        route = self._names.get(name)
        if route is None:
            # PERF: imported on this error path only (with html, made lazy likewise:
            # -376 KiB VmRSS for ``import qakeapi``).
            import difflib

            close = difflib.get_close_matches(name, self._names, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            known = ", ".join(sorted(self._names)) or "(none)"
            raise URLBuildError(f"no route named {name!r}{hint} (known names: {known})")
        return route.url_for(**params)

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every route, in registration order."""
        return tuple(self._routes)

    @property
    def prefix(self) -> str:
        """The prefix given to the constructor (``""`` for none)."""
        return "" if self._prefix is None else self._prefix.path

    @property
    def converters(self) -> Mapping[str, Converter]:
        return MappingProxyType(self._converters)

    def __iter__(self) -> Iterator[Route]:
        return iter(tuple(self._routes))

    def __len__(self) -> int:
        return len(self._routes)

    def __repr__(self) -> str:
        return f"<Router with {len(self._routes)} route(s)>"


if not COMPILED:
    # PERF: the pure build binds the walk itself as the method, one Python frame less
    # per lookup (S3 and S5 in-process: -441 instructions each, as when the walk was
    # written inline here); the compiled one keeps the method above, which calls it.
    Router.lookup = lookup  # type: ignore[method-assign, assignment]
