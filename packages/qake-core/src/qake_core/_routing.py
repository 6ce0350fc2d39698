"""The framework's router: route declarations, verb decorators and nesting.

Matching itself belongs to ``qake_routing``: each ``Router`` here keeps a
``qake_routing.Router`` that receives every route as soon as it is declared, so
a bad template or a conflict fails at the decorator line, naming both routes. The
template is parsed there and only there: each route keeps the ``qake_routing.Route``
it got back (``route.routing``: parameters, their converters and what those produce),
prefixes are that router's, and ``include_router`` is its ``include``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote

import qake_routing
from qake_core._compat import Compat, check_compat
from qake_core._deprecation import combine, lifecycle_of
from qake_core._limits import Limits
from qake_core._middleware import HookMiddleware
from qake_core._options import keywords, reject_unknown_options
from qake_core._route_containers import (
    defer_empty_containers,
    make_containers_on_use,
    route_dependencies,
    route_meta,
    route_middleware,
    route_responses,
    route_tags,
)
from qake_core._streaming import is_streaming, stream_info, streaming_endpoint
from qake_core.types import ASGIApp

__all__ = ["APIRoute", "Mount", "Router", "WebSocketRoute"]

F = TypeVar("F", bound=Callable[..., Any])

_UNSET: Any = object()


@dataclass(eq=False, slots=True)
class APIRoute:
    """One HTTP operation as declared: path template, methods, handler and options.

    Routers copy routes when they are included (like FastAPI), so a route's
    ``path``, ``dependencies``, ``tags`` and ``middleware`` are the merged values
    of every router it passed through, outermost first.
    """

    path: str
    endpoint: Callable[..., Any]
    methods: frozenset[str]
    name: str
    status_code: int | None = None
    response_model: Any = _UNSET
    response_class: type | None = None
    dependencies: list[Any] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    middleware: list[HookMiddleware] = field(default_factory=list)
    responses: dict[int | str, Any] = field(default_factory=dict)
    summary: str | None = None
    description: str | None = None
    deprecated: bool = False
    include_in_schema: bool = True
    operation_id: str | None = None
    limits: Limits = field(default_factory=Limits)
    response_model_include: Any = None
    response_model_exclude: Any = None
    response_model_exclude_none: bool = False
    response_model_exclude_unset: bool = False
    response_model_exclude_defaults: bool = False
    response_model_by_alias: bool = True
    #: Whether the app's own ``dependencies=`` run for this route. ``False`` for the
    #: framework's routes (the OpenAPI document), which the app's dependencies do not
    #: guard unless asked (``QakeAPI(docs_dependencies=[...])``).
    use_app_dependencies: bool = True
    #: The options kept for the layers that act on them: ``produces``, ``cache`` and
    #: ``lifecycle`` (``deprecated=<datetime>``, ``sunset=``...: ``_deprecation``),
    #: installed as hooks (see ``_route_options``).
    meta: dict[str, Any] = field(default_factory=dict)
    #: The compiled ``handle(scope, receive, send, path_params)``, set when the app builds.
    handle: Any = field(default=None, repr=False)
    #: The ``RouteSpec`` (parameters, body, dependencies, response), computed when the
    #: route is registered and again when the app builds.
    spec: Any = field(default=None, repr=False)
    #: What ``spec`` was computed for: (the router or app, its app-level dependencies).
    spec_key: Any = field(default=None, repr=False)
    #: The router's route for this one (``qake_routing.Route``): the parsed template,
    #: ``routing.params`` (name → converter, with its ``python_type`` and
    #: ``json_schema``), ``routing.path_format``. Set when the route is registered.
    routing: qake_routing.Route = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # PERF: empty containers are made when first read (``_route_containers``).
        defer_empty_containers(self)

    @property
    def has_response_model(self) -> bool:
        """Whether ``response_model=`` was given explicitly (``None`` disables it)."""
        return self.response_model is not _UNSET


make_containers_on_use(APIRoute)


@dataclass(eq=False, slots=True)
class WebSocketRoute:
    """A WebSocket endpoint: ``async def handler(websocket)``, optionally with dependencies."""

    path: str
    endpoint: Callable[..., Any]
    name: str
    dependencies: list[Any] = field(default_factory=list)
    #: The options the route gives (``max_message_size``, ``allowed_origins``...):
    #: qake-ws reads and validates them.
    meta: dict[str, Any] = field(default_factory=dict)
    handle: Any = field(default=None, repr=False)
    #: The ``ConnectionSpec`` (parameters, dependencies), computed when the route is
    #: registered and again when the app builds; ``spec_key`` as ``APIRoute.spec_key``.
    spec: Any = field(default=None, repr=False)
    spec_key: Any = field(default=None, repr=False)
    #: The router's route for this one, as ``APIRoute.routing``.
    routing: qake_routing.Route = field(init=False, repr=False)


@dataclass(eq=False, slots=True)
class Mount:
    """Any ASGI application served under a path prefix."""

    path: str
    app: ASGIApp
    name: str | None = None


#: The verb sets of the routes declared so far, each kept once (bounded, see _keep_verbs).
_VERB_SETS: dict[frozenset[str], frozenset[str]] = {}


def _keep_verbs(verbs: frozenset[str]) -> frozenset[str]:
    """``verbs``, kept for the next route with the same verbs (the first 64 sets)."""
    if len(_VERB_SETS) < 64:
        _VERB_SETS[verbs] = verbs
    return verbs


@functools.cache
def _route_keywords() -> list[str]:
    return keywords(Router.add_api_route, skip=("path", "endpoint"))


def _refusal(where: str, exc: ValueError) -> ValueError:
    """qake-routing's refusal of a prefix, naming where it was given (a bad template
    or a conflict already names it)."""
    return exc if type(exc) is not ValueError else ValueError(f"{where}: {exc}")


def _callback_list(callbacks: Sequence[Any] | Mapping[str, Any] | None) -> list[Any]:
    """``callbacks=`` as a list: routers or routes, or mappings of an OpenAPI runtime
    expression (``{$request.body#/callback_url}``) to a router or routes."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Mapping):
        return [dict(callbacks)]
    return list(callbacks)


def _merged_meta(outer: dict[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
    """An included route's ``meta``: its own options over the including router's
    (callbacks: the outer ones first)."""
    meta = {**outer, **own}
    if "callbacks" in outer and "callbacks" in own:
        meta["callbacks"] = [*outer["callbacks"], *own["callbacks"]]
    return meta


class Router:
    """A group of routes with a shared prefix, tags, dependencies and middleware.

    ``router.include_router(other)`` and ``app.include_router(router)`` copy the
    routes of ``other`` under the given prefix; its dependencies and hook
    middleware run after (inside) the including router's.
    """

    def __init__(
        self,
        prefix: str = "",
        *,
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Any] | None = None,
        middleware: Sequence[HookMiddleware] | None = None,
        responses: Mapping[int | str, Any] | None = None,
        limits: Limits | None = None,
        deprecated: bool | date | None = None,
        sunset: date | None = None,
        successor: str | None = None,
        deprecation_link: str | None = None,
        sunset_link: str | None = None,
        include_in_schema: bool = True,
        default_response_class: type | None = None,
        converters: Mapping[str, qake_routing.Converter] | None = None,
        callbacks: Sequence[Any] | Mapping[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] | None = None,
        compat: Compat = None,
        **unknown: Any,
    ) -> None:
        try:
            # HTTP and WebSocket routes are matched apart, one tree each; both parse the
            # prefix and know the converters.
            self._tree = qake_routing.Router(
                prefix=prefix, converters=converters, unique_names=False
            )
            self._ws_tree = qake_routing.Router(
                prefix=prefix, converters=converters, unique_names=False
            )
        except ValueError as exc:
            raise _refusal("Router", exc) from None
        self.prefix = prefix
        if unknown:
            where = f"{type(self).__name__}(prefix={prefix!r})"
            supported = keywords(type(self).__init__, Router.__init__)
            reject_unknown_options("router", where, unknown, supported)
        self.tags = list(tags or [])
        self.dependencies = list(dependencies or [])
        # NOTE: not ``self.middleware``: App.middleware is the ``@app.middleware`` decorator.
        self.route_middleware = list(middleware or [])
        self.responses = dict(responses or {})
        self.limits = limits or Limits()
        self.deprecated = deprecated
        #: ``deprecated=<datetime>``, ``sunset=``, ``successor=``... for its routes
        #: (``_deprecation``): the headers they send, their OpenAPI notes.
        self.lifecycle = lifecycle_of(
            f"{type(self).__name__}(prefix={prefix!r})",
            deprecated,
            sunset,
            successor,
            deprecation_link,
            sunset_link,
        )
        self.include_in_schema = include_in_schema
        self.default_response_class = default_response_class
        #: OpenAPI only (qake-docs): callback routes documented on every route, and
        #: the operationId function of routes that do not name their own.
        self.callbacks = _callback_list(callbacks)
        self.generate_unique_id_function = generate_unique_id_function
        #: ``"fastapi"``: this router's routes answer as FastAPI does (``_compat``);
        #: ``None``: as the app (or the including router) chooses.
        self.compat = check_compat(compat, f"{type(self).__name__}(prefix={prefix!r})")
        if compat == "fastapi":  # FastAPI's rule for a duplicate route: the first wins
            self._tree.shadow_duplicates = self._ws_tree.shadow_duplicates = True
        self.routes: list[APIRoute | WebSocketRoute] = []
        self.mounts: list[Mount] = []
        # Names default to the handler's name, which may repeat (one function serving
        # several paths): the first route of a name is the one url_path_for finds (each
        # tree keeps its first; this says whether the very first was a WebSocket route).
        self._names: dict[str, bool] = {}
        #: (handler, its path converters) -> its ``CallSpec``: the routes declared here
        #: with the same handler share one analysis (``_typed._analysis``).
        self._handler_specs: dict[Any, Any] = {}

    # -- registration -----------------------------------------------------------------

    def _check_not_built(self, what: str) -> None:
        """The app refuses changes once it has been built; a router takes them."""

    def register_converter(
        self,
        name: str,
        converter: qake_routing.Converter | None = None,
        *,
        regex: str | None = None,
        parse: Callable[[str], Any] | None = None,
        format: Callable[[Any], str] | None = None,
        priority: int | None = None,
        python_type: type | None = None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> qake_routing.Converter:
        """Register a path converter, ``{param:name}``, for the routes declared on this
        router from now on (included routes keep the converters they were declared with).

        Arguments as ``qake_routing.Router.register_converter``: declare ``python_type``
        (a parameter annotated with it gets the router's value as is; another type is
        validated, or refused at startup when it cannot be) and ``json_schema`` (the
        parameter's schema in the OpenAPI document).
        """
        converter = self._tree.register_converter(
            name,
            converter,
            regex=regex,
            parse=parse,
            format=format,
            priority=priority,
            python_type=python_type,
            json_schema=json_schema,
        )
        self._ws_tree.register_converter(name, converter)
        return converter

    def _register(self, route: APIRoute | WebSocketRoute) -> None:
        """Add a route just declared here; its ``path`` is relative to this router's
        prefix until the tree has parsed it, then the full template."""
        self._check_not_built("add routes")
        if isinstance(route, APIRoute):
            routing = self._tree.add(route.path, route, sorted(route.methods), name=route.name)
        else:
            routing = self._ws_tree.add(route.path, route, None, name=route.name)
        route.routing = routing
        route.path = routing.path
        self._keep(route)

    def _keep(self, route: APIRoute | WebSocketRoute) -> None:
        self._names.setdefault(route.name, isinstance(route, WebSocketRoute))
        self.routes.append(route)

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        name: str | None = None,
        status_code: int | None = None,
        response_model: Any = _UNSET,
        response_class: type | None = None,
        dependencies: Sequence[Any] | None = None,
        tags: Sequence[str] | None = None,
        middleware: Sequence[HookMiddleware] | None = None,
        responses: Mapping[int | str, Any] | None = None,
        summary: str | None = None,
        description: str | None = None,
        deprecated: bool | date | None = None,
        sunset: date | None = None,
        successor: str | None = None,
        deprecation_link: str | None = None,
        sunset_link: str | None = None,
        include_in_schema: bool = True,
        operation_id: str | None = None,
        limits: Limits | None = None,
        response_model_include: Any = None,
        response_model_exclude: Any = None,
        response_model_exclude_none: bool = False,
        response_model_exclude_unset: bool = False,
        response_model_exclude_defaults: bool = False,
        response_model_by_alias: bool = True,
        produces: Sequence[str] | None = None,
        cache: Any = None,
        use_app_dependencies: bool = True,
        openapi_extra: Mapping[str, Any] | None = None,
        callbacks: Sequence[Any] | Mapping[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] | None = None,
        **unknown: Any,
    ) -> APIRoute:
        """Declare an HTTP route; see the verb decorators for the common case.

        ``deprecated`` is ``True`` or the (aware) datetime of the deprecation, sent in
        the ``Deprecation`` header; ``sunset`` the datetime the route goes away
        (``Sunset`` header); ``successor``, ``deprecation_link`` and ``sunset_link``
        URLs sent in ``Link`` (see ``docs/versioning.md``).

        Every keyword not listed here raises ``TypeError`` naming it and the route.
        """
        verbs = frozenset(m.upper() for m in (methods or ["GET"]))
        # PERF: the same frozenset object for the routes with the same verbs (bounded):
        # -210 KiB (tracemalloc) for the benchmarks' 2,000-route app.
        verbs = _VERB_SETS.get(verbs) or _keep_verbs(verbs)
        where = f"route {' '.join(sorted(verbs))} {self.prefix + path!r}"
        if unknown:
            reject_unknown_options("route", where, unknown, _route_keywords())
        if not callable(endpoint):
            raise TypeError(f"route {path!r}: the endpoint must be callable, got {endpoint!r}")
        response_class = response_class or self.default_response_class
        meta: dict[str, Any] = {}
        if is_streaming(endpoint):  # a generator: JSON Lines, SSE or raw (``_streaming``)
            meta["stream"] = stream_info(endpoint, response_class)
            endpoint = streaming_endpoint(endpoint, response_class)
        if produces is not None:
            meta["produces"] = produces
        if cache is not None:
            meta["cache"] = cache
        meta.update(self._openapi_meta(openapi_extra, callbacks, generate_unique_id_function))
        if self.compat is not None:
            meta["compat"] = self.compat
        own = lifecycle_of(where, deprecated, sunset, successor, deprecation_link, sunset_link)
        lifecycle = combine(own, self.lifecycle, False if deprecated is False else None)
        if lifecycle is not None:
            meta["lifecycle"] = lifecycle
        route = APIRoute(
            path=path,
            endpoint=endpoint,
            methods=verbs,
            name=name or str(getattr(endpoint, "__name__", "route")),
            status_code=status_code,
            response_model=response_model,
            response_class=response_class,
            dependencies=[*self.dependencies, *(dependencies or [])],
            tags=[*self.tags, *(t for t in (tags or []) if t not in self.tags)],
            middleware=[*self.route_middleware, *(middleware or [])],
            responses={**self.responses, **(responses or {})},
            summary=summary,
            description=description,
            deprecated=bool(deprecated if deprecated is not None else self.deprecated),
            include_in_schema=include_in_schema and self.include_in_schema,
            operation_id=operation_id,
            # PERF: no limits of its own: the router's (frozen) object itself, which is
            # what Limits().merged_over(self.limits) equals, field for field: one Limits
            # fewer per route, -215 KiB (tracemalloc) for the 2,000-route app.
            limits=self.limits if limits is None else limits.merged_over(self.limits),
            response_model_include=response_model_include,
            response_model_exclude=response_model_exclude,
            response_model_exclude_none=response_model_exclude_none,
            response_model_exclude_unset=response_model_exclude_unset,
            response_model_exclude_defaults=response_model_exclude_defaults,
            response_model_by_alias=response_model_by_alias,
            use_app_dependencies=use_app_dependencies,
            meta=meta,
        )
        self._register(route)
        self._route_added(route)
        return route

    def _openapi_meta(
        self,
        openapi_extra: Mapping[str, Any] | None,
        callbacks: Sequence[Any] | Mapping[str, Any] | None,
        generate_unique_id: Callable[[APIRoute], str] | None,
    ) -> dict[str, Any]:
        """The OpenAPI-only options of a route declared here, kept in ``route.meta``
        for qake-docs: the router's callbacks before the route's, the route's id
        function else the router's."""
        meta: dict[str, Any] = {}
        if openapi_extra:
            meta["openapi_extra"] = dict(openapi_extra)
        if self.callbacks or callbacks:
            meta["callbacks"] = [*self.callbacks, *_callback_list(callbacks)]
        generate_unique_id = generate_unique_id or self.generate_unique_id_function
        if generate_unique_id is not None:
            meta["generate_unique_id_function"] = generate_unique_id
        return meta

    def _route_added(self, route: APIRoute) -> None:
        """Check the handler's signature now (fails at the decorator line) and keep its
        ``RouteSpec`` on ``route.spec``."""
        from qake_core._typed._analysis import route_spec

        route_spec(route, self)

    def api_route(
        self, path: str, *, methods: Sequence[str] | None = None, **options: Any
    ) -> Callable[[F], F]:
        """Decorator form of :meth:`add_api_route`."""

        def decorator(func: F) -> F:
            self.add_api_route(path, func, methods=methods, **options)
            return func

        return decorator

    route = api_route

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        """Declare a GET route (HEAD is answered automatically)."""
        return self.api_route(path, methods=["GET"], **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        """Declare a POST route."""
        return self.api_route(path, methods=["POST"], **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        """Declare a PUT route."""
        return self.api_route(path, methods=["PUT"], **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        """Declare a PATCH route."""
        return self.api_route(path, methods=["PATCH"], **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        """Declare a DELETE route."""
        return self.api_route(path, methods=["DELETE"], **options)

    def head(self, path: str, **options: Any) -> Callable[[F], F]:
        """Declare a HEAD route (replaces the automatic HEAD of a GET route)."""
        return self.api_route(path, methods=["HEAD"], **options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        """Declare an OPTIONS route (replaces the automatic OPTIONS answer)."""
        return self.api_route(path, methods=["OPTIONS"], **options)

    def add_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[Any] | None = None,
        max_message_size: int | None = _UNSET,
        allowed_origins: Sequence[str] | None = _UNSET,
        max_messages_per_second: float | None = _UNSET,
        idle_timeout: float | None = _UNSET,
        invalid_message: str = _UNSET,
        **unknown: Any,
    ) -> WebSocketRoute:
        """Declare a WebSocket endpoint: an ``async def`` taking the connection, typed
        path/query/header/cookie parameters and dependencies (as an HTTP handler,
        without a body), or a class endpoint (qake-ws's ``WebSocketEndpoint``).

        ``max_message_size`` (bytes, ``None`` for no limit), ``allowed_origins``,
        ``max_messages_per_second``, ``idle_timeout`` and ``invalid_message``
        (``"close"`` or ``"error"``) override the app's ``websocket_<option>`` for this
        route (qake-ws applies and validates them). The signature is checked here.
        """
        if unknown:
            where = f"websocket route {self.prefix + path!r}"
            supported = keywords(Router.add_websocket_route, skip=("path", "endpoint"))
            reject_unknown_options("websocket route", where, unknown, supported)
        meta: dict[str, Any] = {}
        options = {
            "max_message_size": max_message_size,
            "allowed_origins": allowed_origins,
            "max_messages_per_second": max_messages_per_second,
            "idle_timeout": idle_timeout,
            "invalid_message": invalid_message,
        }
        meta.update((key, value) for key, value in options.items() if value is not _UNSET)
        route = WebSocketRoute(
            path=path,
            endpoint=endpoint,
            name=name or str(getattr(endpoint, "__name__", "websocket")),
            dependencies=[*self.dependencies, *(dependencies or [])],
            meta=meta,
        )
        self._register(route)
        self._websocket_route_added(route)
        return route

    def _websocket_route_added(self, route: WebSocketRoute) -> None:
        """Check the handler's signature now (fails at the decorator line)."""
        from qake_core._typed._connection import connection_spec

        connection_spec(route, self)

    def websocket(self, path: str, **options: Any) -> Callable[[F], F]:
        """Decorator form of :meth:`add_websocket_route`."""

        def decorator(func: F) -> F:
            self.add_websocket_route(path, func, **options)
            return func

        return decorator

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> None:
        """Serve the ASGI application ``app`` under ``path`` (``/static`` never matches
        ``/staticfoo``); the mounted app sees the rest of the path and a ``root_path``."""
        full = self.prefix + path
        if not full:
            raise ValueError("mount: the path must not be empty; mount at a prefix like '/static'")
        try:
            template = qake_routing.Template.parse_prefix(full, self._tree.converters)
        except ValueError as exc:
            raise _refusal("mount", exc) from None
        if template is not None and template.params:
            raise ValueError(
                f"mount: {full!r} holds a parameter; a mount is a fixed prefix (serve "
                "parametrised paths with routes)"
            )
        self.mounts.append(Mount(full, app, name))

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Any] | None = None,
        middleware: Sequence[HookMiddleware] | None = None,
        responses: Mapping[int | str, Any] | None = None,
        deprecated: bool | date | None = None,
        sunset: date | None = None,
        successor: str | None = None,
        deprecation_link: str | None = None,
        sunset_link: str | None = None,
        include_in_schema: bool = True,
        default_response_class: type | None = None,
        callbacks: Sequence[Any] | Mapping[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] | None = None,
        **unknown: Any,
    ) -> None:
        """Copy ``router``'s routes into this one under ``prefix``.

        Order of dependencies and hook middleware for an included route: this
        router's, then the ones given here, then the included router's, then the
        route's own. A route's response class is its own, else its router's
        ``default_response_class``, else the one given here, else this router's; its
        ``deprecated``, ``sunset``, ``successor``... likewise (versioning: include a
        ``v1`` router with ``deprecated=<datetime>, sunset=..., successor="/v2"``).
        """
        inner = f"{type(router).__name__}(prefix={router.prefix!r})"
        where = f"include_router({inner}, prefix={prefix!r})"
        if unknown:
            supported = keywords(Router.include_router, skip=("router",))
            reject_unknown_options("include_router", where, unknown, supported)
        self._check_not_built("add routes")
        response_class = default_response_class or self.default_response_class
        outer_deps = [*self.dependencies, *(dependencies or [])]
        outer_mw = [*self.route_middleware, *(middleware or [])]
        outer_tags = [*self.tags, *(tags or [])]
        outer_meta = self._openapi_meta(None, callbacks, generate_unique_id_function)
        if router.compat is None and self.compat is not None:
            outer_meta["compat"] = self.compat
        given = lifecycle_of(where, deprecated, sunset, successor, deprecation_link, sunset_link)
        outer_lifecycle = combine(given, self.lifecycle)

        def copy_api_route(copy: qake_routing.Route) -> APIRoute:
            route: APIRoute = copy.handler
            api_route = replace(
                route,
                path=copy.path,
                # The included route's own containers read without being made.
                dependencies=[*outer_deps, *route_dependencies(route)],
                middleware=[*outer_mw, *route_middleware(route)],
                tags=[*outer_tags, *(t for t in route_tags(route) if t not in outer_tags)],
                responses={**self.responses, **(responses or {}), **route_responses(route)},
                deprecated=route.deprecated or bool(deprecated) or bool(self.deprecated),
                include_in_schema=route.include_in_schema and include_in_schema,
                limits=route.limits.merged_over(self.limits),
                response_class=route.response_class or response_class,
                meta=_merged_meta(outer_meta, route_meta(route)),
            )
            lifecycle = combine(route_meta(route).get("lifecycle"), outer_lifecycle)
            if lifecycle is not None:
                api_route.meta["lifecycle"] = lifecycle
            api_route.routing = copy
            return api_route

        def copy_websocket_route(copy: qake_routing.Route) -> WebSocketRoute:
            route: WebSocketRoute = copy.handler
            ws_route = replace(
                route, path=copy.path, dependencies=[*outer_deps, *route.dependencies]
            )
            ws_route.routing = copy
            return ws_route

        # The trees copy the parsed templates (prefix prepended, converters kept): an
        # included route's template is not parsed again.
        try:
            http = self._tree.include(router._tree, prefix, copy_handler=copy_api_route)
            ws = self._ws_tree.include(router._ws_tree, prefix, copy_handler=copy_websocket_route)
        except ValueError as exc:
            raise _refusal("include_router", exc) from None
        http_copies, ws_copies = iter(http), iter(ws)
        for route in router.routes:  # in declaration order, HTTP and WebSocket mixed
            copied = next(http_copies if isinstance(route, APIRoute) else ws_copies).handler
            self._keep(copied)
            if isinstance(copied, APIRoute):
                self._route_added(copied)
            else:
                self._websocket_route_added(copied)
        outer = self.prefix + prefix
        for mount in router.mounts:
            self.mounts.append(Mount(outer + mount.path, mount.app, mount.name))

    # -- introspection ----------------------------------------------------------------

    def __iter__(self) -> Iterator[APIRoute | WebSocketRoute]:
        return iter(self.routes)

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of the route (or named mount) ``name`` with ``params`` filled in.

        A mount takes one parameter, ``path``: ``url_path_for("static", path="/app.css")``
        gives ``/static/app.css``.
        """
        for mount in self.mounts:
            if mount.name == name:
                rest = str(params.pop("path", "/"))
                if params:
                    raise qake_routing.URLBuildError(
                        f"mount {name!r} takes only 'path', not {sorted(params)}"
                    )
                return mount.path + quote("/" + rest.lstrip("/"), safe="/")
        trees = (self._tree, self._ws_tree)
        first, second = reversed(trees) if self._names.get(name) else trees
        try:
            return str(first.url_for(name, **params))
        except qake_routing.URLBuildError as error:
            try:
                return str(second.url_for(name, **params))
            except qake_routing.URLBuildError:
                raise error from None
