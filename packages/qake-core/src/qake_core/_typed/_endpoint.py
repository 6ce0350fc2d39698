"""Compile a route's spec into ``async (request) -> Response``, once, at startup.

The request path only runs closures specialised per parameter: no signature
inspection, no validator building, no dict built when nothing failed. A handler
without parameters is called directly; path parameters the router already
converted to the annotated type are passed through untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import ValidationError

from qake_core._background import BackgroundTasks
from qake_core._exceptions import HTTPException, RequestValidationError
from qake_core._middleware import CallNext
from qake_core._requests import Request
from qake_core._responses import Response
from qake_core._typed._analysis import HandlerSignatureError, route_spec
from qake_core._typed._body import BodyParser, _form_body_parser, _is_json, _json_body_parser
from qake_core._typed._dependencies import RoutePlanner, unwind
from qake_core._typed._extraction import (
    ScopeReader,
    _Ctx,
    _errors,
    _getter,
    _missing,
    _path_getter,
    _read_params,
    _unique,
    scope_reader,
)
from qake_core._typed._serialization import build_dumper, build_serializer
from qake_core._typed._specs import BodySpec, CallSpec

if TYPE_CHECKING:
    from qake_core._app import App
    from qake_core._routing import APIRoute

__all__ = ["CompiledRoute", "DirectCall", "HandlerSignatureError", "compile_route"]


# -- the endpoint --------------------------------------------------------------------------


class DirectCall(NamedTuple):
    """How a route runner calls a handler that needs no ``Request``.

    ``read(scope, path_params) -> kwargs`` when the handler takes query parameters (or
    path parameters to validate); otherwise the handler gets the router's converted
    ``path_params`` (``with_params``) or nothing. ``dump`` turns the return value into
    JSON body bytes for a declared response model (``None``: use ``serialize``).
    """

    func: Callable[..., Any]
    read: ScopeReader | None
    with_params: bool
    serialize: Callable[[Any], Response]
    dump: Callable[[Any], bytes] | None
    status: int


class CompiledRoute(NamedTuple):
    """What the planner gives the app for one route.

    ``call`` answers a ``Request`` (hook middleware wraps it); ``direct`` is set when
    the handler needs nothing from the request but its path and query parameters, so
    that the route runner can call the handler itself without building a ``Request``
    (used when no hook middleware runs).
    """

    call: CallNext
    direct: DirectCall | None = None


def compile_route(route: APIRoute, app: App) -> CompiledRoute:
    """Compile ``route`` for ``app``: its request → response function, and its direct
    call when it has one."""
    spec = route_spec(route, app)
    planner = RoutePlanner(app, route, spec)
    handler = spec.handler
    func = handler.call
    serialize = build_serializer(spec.response, route.response_class, planner.where)
    dump = build_dumper(spec.response, route.response_class, planner.where)
    status = spec.response.status_code
    is_async = handler.is_async
    run_sync = planner.run_sync

    simple = not spec.dependencies and spec.body is None and not handler.injected
    if simple and not handler.params:
        if is_async:

            async def endpoint_bare(request: Request) -> Response:
                return serialize(await func())

            return CompiledRoute(
                endpoint_bare, DirectCall(func, None, False, serialize, dump, status)
            )

        async def endpoint_bare_sync(request: Request) -> Response:
            return serialize(await run_sync(func, {}))

        return CompiledRoute(endpoint_bare_sync)

    if simple:
        getters = planner.plan(handler).getters
        as_is = [
            p.name
            for p in handler.params
            if p.location == "path" and p.name == p.alias and _path_getter(p) is None
        ]
        if len(as_is) == len(handler.params) == len(planner.converters) and is_async:
            # PERF: every argument is a path parameter the router already converted.

            async def endpoint_path(request: Request) -> Response:
                return serialize(await func(**request.path_params))

            return CompiledRoute(
                endpoint_path, DirectCall(func, None, True, serialize, dump, status)
            )

        # PERF: path parameters the router converted are copied in one go.
        copied = [name for name in as_is if name in planner.converters]
        if len(copied) == len(planner.converters) and copied:
            getters = tuple((name, get) for name, get in getters if name not in copied)
            from_params = True
        else:
            from_params = False

        async def endpoint_simple(request: Request) -> Response:
            kwargs: dict[str, Any] = dict(request.path_params) if from_params else {}
            errors = _read_params(getters, request, kwargs, None)
            if errors:
                raise RequestValidationError(errors)
            if is_async:
                return serialize(await func(**kwargs))
            return serialize(await run_sync(func, kwargs))

        read = scope_reader(handler.params, planner.converters) if is_async else None
        if read is None:
            return CompiledRoute(endpoint_simple)
        return CompiledRoute(
            endpoint_simple, DirectCall(func, read, False, serialize, dump, status)
        )

    body_spec = spec.body
    if (
        body_spec is not None
        and not spec.dependencies
        and not handler.injected
        and is_async
        and not body_spec.embed
        and len(body_spec.fields) == 1
        and body_spec.fields[0].location == "body"
    ):
        return CompiledRoute(_json_body_endpoint(planner, handler, body_spec, func, serialize))

    route_deps = spec.dependencies[: len(spec.dependencies) - len(handler.dependencies)]
    top = tuple(planner.node(d) for d in route_deps)
    plan = planner.plan(handler)
    parse_body: BodyParser | None = None
    if spec.body is not None:
        is_form = spec.body.fields[0].location in ("form", "file")
        parse_body = _form_body_parser(spec.body) if is_form else _json_body_parser(spec.body)

    async def endpoint(request: Request) -> Response:
        # NOTE: read through the app on each request (one attribute load, on routes with
        # dependencies only): ``app.dependency_overrides = {}`` replaces the dict.
        ctx = _Ctx(app.dependency_overrides or None)
        try:
            if parse_body is not None:
                await parse_body(request, ctx)
            for node in top:
                await node.resolve(request, ctx)
            kwargs = await plan.solve(request, ctx)
            if ctx.errors:
                raise RequestValidationError(_unique(ctx.errors))
            assert kwargs is not None
            if is_async:
                result = await func(**kwargs)
            else:
                result = await run_sync(func, kwargs)
            response = serialize(result)
        except Exception as exc:
            # NOTE: yield dependencies see the error before it is answered, so one may
            # turn it into another (an HTTPException); after a response they see None.
            if request.cleanups:
                replaced = await unwind(request, exc)
                if replaced is not exc:
                    # the dependency raised it, chained to ``exc`` (or not) as it chose
                    raise replaced  # noqa: B904
            raise
        sub = ctx.response
        if sub is not None and sub is not response:
            if sub.status_code:
                response.status_code = sub.status_code
            response.raw_headers.extend(sub.raw_headers)
        background = ctx.background
        if background is not None and background.tasks:
            if response.background is None:
                response.background = background
            elif isinstance(response.background, BackgroundTasks):
                response.background.tasks.extend(background.tasks)
        return response

    return CompiledRoute(endpoint)


def _json_body_endpoint(
    planner: RoutePlanner,
    handler: CallSpec,
    body: BodySpec,
    func: Callable[..., Any],
    serialize: Callable[[Any], Response],
) -> CallNext:
    """PERF: a route whose only inputs are one JSON body model and plain parameters:
    no per-request resolution state, the body validated straight from its bytes."""
    validate_json = body.adapter.validator.validate_json
    body_name = body.fields[0].name
    required = body.required
    default = body.fields[0].default
    getters = tuple((p.name, _getter(p)) for p in handler.params if p.location != "body")

    async def endpoint_json_body(request: Request) -> Response:
        raw = await request.body()
        errors: list[dict[str, Any]] | None = None
        value: Any = default
        if raw:
            if not _is_json(request.scope["headers"]):
                raise HTTPException(415, "Expected a JSON body (Content-Type: application/json).")
            try:
                value = validate_json(raw)
            except ValidationError as exc:
                errors = _errors(exc, ("body",))
        elif required:
            errors = _missing(["body"])
        kwargs: dict[str, Any] = {body_name: value}
        errors = _read_params(getters, request, kwargs, errors)
        if errors:
            raise RequestValidationError(errors)
        return serialize(await func(**kwargs))

    return endpoint_json_body
