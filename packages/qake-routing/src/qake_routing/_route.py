"""``Route`` (one registered template + handler + metadata) and ``Match`` (a lookup result)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ._converters import Converter
from ._kept import kept
from ._template import Template

__all__ = [
    "HTTP_METHODS",
    "Match",
    "Methods",
    "Route",
    "merge_meta",
    "new_match",
    "normalize_methods",
]

#: What ``methods=`` accepts: one method, several, or ``None`` for any method/label.
Methods = str | Iterable[str] | None

HTTP_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "QUERY"}
)


def normalize_methods(methods: Methods) -> frozenset[str] | None:
    """Upper-case HTTP verbs; keep other labels as given. ``None`` means any method."""
    if methods is None:
        return None
    if isinstance(methods, str):
        methods = (methods,)
    result = set()
    for method in methods:
        if not isinstance(method, str) or not method:
            raise ValueError(f"a method must be a non-empty str, got {method!r}")
        upper = method.upper()
        result.add(upper if upper in HTTP_METHODS else method)
    if not result:
        raise ValueError("methods is empty; pass None to accept any method")
    frozen = frozenset(result)
    # PERF: one frozenset per distinct method set, shared by the routes that have it:
    # -210 KiB (tracemalloc) for the benchmarks' 2,000-route app, a 1-method frozenset
    # being 216 bytes.
    return kept(_METHOD_SETS, frozen, frozen, _METHOD_SETS_MAX)


#: The method sets ``normalize_methods`` hands out, each once (see there).
_METHOD_SETS: dict[frozenset[str], frozenset[str]] = {}
_METHOD_SETS_MAX = 64


#: The ``meta`` of every route registered without any (never written).
_NO_META: dict[str, Any] = {}


def merge_meta(parent: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Child keys win, except lists (and tuples), which concatenate parent first.

    PERF: without either, the one shared empty dict (routes are read-only by
    convention): -126 KiB (tracemalloc) for the benchmarks' 2,000-route app."""
    if not parent and not child:
        return _NO_META
    merged = dict(parent)
    for key, value in child.items():
        inherited = merged.get(key)
        if isinstance(inherited, list) and isinstance(value, list):
            merged[key] = [*inherited, *value]
        elif isinstance(inherited, tuple) and isinstance(value, tuple):
            merged[key] = (*inherited, *value)
        else:
            merged[key] = value
    return merged


def _params_builder(
    names: tuple[str, ...],
) -> tuple[tuple[str, ...], Callable[[list[Any]], dict[str, Any]]]:
    """The parameter names (an equal tuple kept once) and a function turning matched
    values (in template order) into the params dict, the ones already made for the
    same names (PERF: a closure is ~100 bytes and most routes share their names,
    ``{id}`` or none: -195 KiB (tracemalloc) for the benchmarks' 2,000-route app, and
    the names tuple -47 KiB)."""
    found = _BUILDERS.get(names)
    if found is not None:
        return found
    return kept(_BUILDERS, names, (names, _new_params_builder(names)), _BUILDERS_MAX)


_BUILDERS: dict[tuple[str, ...], tuple[tuple[str, ...], Callable[[list[Any]], dict[str, Any]]]] = {}
_BUILDERS_MAX = 256


def _new_params_builder(names: tuple[str, ...]) -> Callable[[list[Any]], dict[str, Any]]:
    # PERF: dict(zip(...)) costs several times a dict display for one or two names.
    if len(names) == 1:
        (a,) = names
        return lambda values: {a: values[0]}
    if len(names) == 2:
        a, b = names
        return lambda values: {a: values[0], b: values[1]}
    if len(names) == 3:
        a, b, c = names
        return lambda values: {a: values[0], b: values[1], c: values[2]}
    return lambda values: dict(zip(names, values, strict=True))


class Route:
    """One registered route. Read-only by convention; the router builds it."""

    __slots__ = ("build_params", "handler", "meta", "methods", "name", "param_names", "template")

    def __init__(
        self,
        template: Template,
        handler: Any,
        methods: frozenset[str] | None,
        name: str | None,
        meta: dict[str, Any],
    ) -> None:
        self.template = template
        self.handler = handler
        self.methods = methods
        self.name = name
        self.meta = meta
        self.param_names, self.build_params = _params_builder(tuple(template.params))

    @property
    def path(self) -> str:
        """The template string, e.g. ``/users/{user_id:int}``."""
        return self.template.path

    @property
    def path_format(self) -> str:
        """The template without converter names, e.g. ``/users/{user_id}``."""
        return self.template.path_format

    @property
    def params(self) -> Mapping[str, Converter]:
        """Parameter name → converter, in template order.

        Each converter gives the ``python_type`` and ``json_schema`` of its values.
        """
        return self.template.params

    def url_for(self, **params: Any) -> str:
        """The percent-encoded path for these parameter values."""
        return self.template.format(self.name or self.path, params)

    def describe(self) -> str:
        methods = "ANY" if self.methods is None else ",".join(sorted(self.methods))
        named = f" (name {self.name!r})" if self.name else ""
        return f"'{methods} {self.path}'{named}"

    def __repr__(self) -> str:
        return f"<Route {self.describe()} -> {self.handler!r}>"


class Match(tuple):  # type: ignore[type-arg]
    """The result of ``Router.match``: the route and its converted parameters.

    A ``(route, params)`` pair (``route, params = router.match(...)`` works). Treat it
    as read-only: for static routes the router returns one shared instance whose
    ``params`` is an empty read-only mapping.
    """

    __slots__ = ()

    def __new__(cls, route: Route, params: Mapping[str, Any]) -> Match:
        return tuple.__new__(cls, (route, params))

    if TYPE_CHECKING:

        @property
        def route(self) -> Route: ...

        @property
        def params(self) -> Mapping[str, Any]: ...

    else:
        # PERF: C-level accessors; a Match is built on every parametrised lookup.
        route = property(itemgetter(0), doc="The matched ``Route``.")
        params = property(itemgetter(1), doc="Parameter name → converted value.")

    @property
    def handler(self) -> Any:
        return self[0].handler

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Match):
            return NotImplemented
        return self[0] is other[0] and dict(self[1]) == dict(other[1])

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Match(route={self[0]!r}, params={dict(self[1])!r})"


#: ``new_match(Match, (route, params))`` skips ``Match.__new__``'s Python frame.
new_match: Callable[[type[Match], tuple[Route, Mapping[str, Any]]], Match] = tuple.__new__
