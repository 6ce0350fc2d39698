"""WebSocket routes on the typed-handler compiler.

A WebSocket handler declares what an HTTP handler declares, except a body: typed path,
query, header and cookie parameters, ``Depends``/``Security`` (yield clean-ups run when
the connection ends) and the app's and routers' ``dependencies=``. Its signature is read
when the route is registered, so a mistake fails at the decorator line, and the
arguments are resolved once per connection by the same dependency plan as HTTP routes.

The connection goes to every parameter annotated ``WebSocket`` or ``HTTPConnection``
(in the handler and in dependencies); a handler without one gets it as its first,
unannotated parameter (``async def endpoint(websocket)``). A class endpoint declares
its parameters on ``on_connect``.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from qake_core._exceptions import WebSocketRequestValidationError
from qake_core._requests import HTTPConnection, Request
from qake_core._typed._analysis import (
    HandlerSignatureError,
    analyse_call,
    flatten_dependencies,
    route_label,
    split_params,
    top_dependencies,
)
from qake_core._typed._dependencies import ResolutionState, RoutePlanner, unwind
from qake_core._typed._extraction import unique_errors
from qake_core._typed._specs import CallSpec, DependencySpec, ParamSpec
from qake_core._typed._types import base_type, type_hints_of

if TYPE_CHECKING:
    from qake_core._app import App
    from qake_core._routing import Router, WebSocketRoute

__all__ = ["ConnectionPlan", "ConnectionSpec", "connection_call", "connection_spec"]

#: Annotations that say nothing about a parameter: the first one then takes the connection.
_UNTYPED = (inspect.Parameter.empty, Any, object, "Any", "object")


@dataclass(frozen=True, slots=True, eq=False)
class ConnectionSpec:
    """What a WebSocket route declares: its handler's spec (a class endpoint's
    ``on_connect``), its dependencies (the app's and routers' first, then the
    handler's), every dependency of the tree, and every request parameter."""

    handler: CallSpec
    dependencies: tuple[DependencySpec, ...]
    all_dependencies: tuple[DependencySpec, ...]
    params: tuple[ParamSpec, ...]


def connection_call(endpoint: Any) -> Callable[..., Any]:
    """The callable whose signature declares a route's inputs: the endpoint itself, or a
    class endpoint's ``on_connect`` (bound for reading only: an instance is made per
    connection)."""
    if isinstance(endpoint, type):
        on_connect = getattr(endpoint, "on_connect", None)
        if not callable(on_connect):
            raise HandlerSignatureError(
                f"websocket endpoint class {endpoint.__qualname__!r} has no on_connect(); "
                "subclass qake_ws.WebSocketEndpoint"
            )
        return types.MethodType(on_connect, endpoint)
    if not callable(endpoint):
        raise HandlerSignatureError(f"websocket endpoint {endpoint!r} is not callable")
    return endpoint  # type: ignore[no-any-return]


def _with_connection(spec: CallSpec, where: str) -> CallSpec:
    """``spec`` with its first parameter taken as the connection when no parameter is
    annotated ``WebSocket``/``HTTPConnection`` and the first is untyped (Starlette's
    ``async def f(websocket)``)."""
    if any(what == "request" for _, what in spec.injected):
        return spec
    signature = inspect.signature(spec.call)
    first = next(iter(signature.parameters.values()), None)
    if (
        first is None
        or first.annotation not in _UNTYPED
        or first.default is not inspect.Parameter.empty
    ):
        raise HandlerSignatureError(
            f"{where}: the handler has no parameter for the connection; write "
            "`async def handler(websocket: WebSocket, ...)`"
        )
    name = first.name
    return replace(
        spec,
        params=tuple(p for p in spec.params if p.name != name),
        injected=((name, "request"), *spec.injected),
        order=tuple(("inject", n) if n == name else (kind, n) for kind, n in spec.order),
    )


def _check_inputs(spec: CallSpec, where: str) -> None:
    """Refuse what a WebSocket cannot give: a body, a ``Request``, a sub-response or
    background tasks."""
    label = f"{where}, in {getattr(spec.call, '__qualname__', spec.call)!r}"
    for p in spec.params:
        if p.location in ("body", "form", "file"):
            raise HandlerSignatureError(
                f"{label}: parameter {p.name!r} would be read from a request body, and a "
                "WebSocket handshake has none; receive it as a message "
                "(`await websocket.receive_model(Model)`) or make it a Query/Header parameter"
            )
    for name, what in spec.injected:
        if what in ("response", "background"):
            kind = "Response" if what == "response" else "BackgroundTasks"
            raise HandlerSignatureError(
                f"{label}: parameter {name!r} asks for {kind}, which a WebSocket route "
                "does not have: this callable serves HTTP routes only (send messages "
                "with the WebSocket instead)"
            )
    hints: dict[str, Any] | None = None
    for name, what in spec.injected:
        if what == "request":
            if hints is None:
                hints = type_hints_of(spec.call, label)
            base = base_type(hints.get(name))
            if isinstance(base, type) and issubclass(base, Request):
                raise HandlerSignatureError(
                    f"{label}: parameter {name!r} is annotated {base.__name__}, and a "
                    "WebSocket route has no HTTP request; annotate it HTTPConnection to "
                    "serve HTTP and WebSocket routes alike, or WebSocket"
                )


def analyse_connection(route: WebSocketRoute, app_dependencies: tuple[Any, ...]) -> ConnectionSpec:
    """The ``ConnectionSpec`` of ``route`` (raises ``HandlerSignatureError``)."""
    where = route_label(route)
    converters = route.routing.params
    call = connection_call(route.endpoint)
    method = getattr(call, "__func__", call)
    if not inspect.iscoroutinefunction(method):
        raise HandlerSignatureError(f"{where}: a WebSocket handler must be an `async def`")
    handler = _with_connection(analyse_call(call, where, converters), where)
    top = top_dependencies((*app_dependencies, *route.dependencies), where, converters)
    every = flatten_dependencies([*top, *handler.dependencies])
    for spec in (*(d.spec for d in every), handler):
        _check_inputs(spec, where)
    params, _ = split_params(every, handler)
    return ConnectionSpec(
        handler=handler,
        dependencies=(*top, *handler.dependencies),
        all_dependencies=tuple(every),
        params=tuple(params),
    )


def connection_spec(route: WebSocketRoute, app: Router | None = None) -> ConnectionSpec:
    """The spec of ``route`` for ``app``, stored on ``route.spec`` (computed when the
    route is registered; the app's build reuses it unless its dependencies changed)."""
    app_dependencies = tuple(getattr(app, "app_dependencies", ()))
    key = (app, app_dependencies)
    if isinstance(route.spec, ConnectionSpec) and route.spec_key == key:
        return route.spec
    spec = analyse_connection(route, app_dependencies)
    route.spec = spec
    route.spec_key = key
    return spec


class ConnectionPlan:
    """A WebSocket route's arguments, resolved per connection (compiled at startup).

    ``await plan.arguments(connection)`` gives the handler's keyword arguments, or
    raises what a dependency raised (``HTTPException`` from an auth dependency) or
    ``RequestValidationError`` listing every invalid parameter. The clean-ups of yield
    dependencies are registered on the connection: ``await plan.finish(connection,
    exc)`` runs them when it ends (``exc`` is thrown into them first).
    """

    __slots__ = ("app", "handler", "plan", "top")

    def __init__(self, route: WebSocketRoute, app: App) -> None:
        spec = connection_spec(route, app)
        planner = RoutePlanner(app, route)
        handler = spec.handler
        own = len(handler.dependencies)
        route_deps = spec.dependencies[: len(spec.dependencies) - own]
        self.top = tuple(planner.node(d) for d in route_deps)
        self.plan = planner.plan(handler)
        #: The handler's spec: its parameters, dependencies and injections.
        self.handler = handler
        self.app = app

    async def arguments(self, connection: HTTPConnection) -> dict[str, Any]:
        # NOTE: the overrides are read per connection: app.dependency_overrides = {}
        # replaces the dict (qake-testing's override helpers do).
        ctx = ResolutionState(self.app.dependency_overrides or None)
        for node in self.top:
            await node.resolve(connection, ctx)
        kwargs = await self.plan.solve(connection, ctx)
        if ctx.errors:
            raise WebSocketRequestValidationError(unique_errors(ctx.errors))
        assert kwargs is not None
        return kwargs

    @staticmethod
    async def finish(connection: HTTPConnection, exc: Exception | None) -> BaseException | None:
        """Run the connection's clean-ups, newest first. With ``exc``, yield dependencies
        see it thrown in, and the exception one raised instead replaces it (returned);
        a clean-up's own failure after a clean end is logged."""
        if exc is not None:
            return await unwind(connection, exc)
        await connection.run_cleanups()
        return None
