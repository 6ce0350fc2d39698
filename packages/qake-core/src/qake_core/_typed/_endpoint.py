"""Compile a route's spec into ``async (request) -> Response``, once, at startup.

The request path only runs closures specialised per parameter: no signature
inspection, no validator building, no dict built when nothing failed. A handler
without parameters is called directly; path parameters the router already
converted to the annotated type are passed through untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from pydantic import ValidationError

from qake_core._background import BackgroundTasks
from qake_core._exceptions import HTTPException, RequestValidationError
from qake_core._middleware import CallNext
from qake_core._requests import Request
from qake_core._responses import Response
from qake_core._typed._analysis import HandlerSignatureError, route_spec
from qake_core._typed._body import BodyParser, _form_body_parser, _is_json, _json_body_parser
from qake_core._typed._dependencies import _Compiler, _unwind
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

__all__ = [
    "DirectCall",
    "HandlerSignatureError",
    "compile_endpoint",
    "direct_call",
]


# -- the endpoint --------------------------------------------------------------------------


class _NoOverrides:
    """Stands for an app without ``dependency_overrides``."""

    dependency_overrides: dict[Any, Any] = {}


_NO_OVERRIDES = _NoOverrides()


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


def direct_call(endpoint: CallNext) -> DirectCall | None:
    """The :class:`DirectCall` of an endpoint that needs nothing from the request but
    its path and query parameters, so the route runner can call the handler itself
    without building a ``Request``; ``None`` otherwise."""
    return getattr(endpoint, "qake_direct", None)


def compile_endpoint(route: Any, app: Any) -> CallNext:
    """Build the request → response function of ``route``."""
    spec = route_spec(route, app)
    compiler = _Compiler(app, route, spec)
    handler = spec.handler
    func = handler.call
    serialize = build_serializer(spec.response, route.response_class, compiler.where)
    dump = build_dumper(spec.response, route.response_class, compiler.where)
    status = spec.response.status_code
    is_async = handler.is_async
    run_sync = compiler.run_sync
    # NOTE: read through the app on each request (one attribute load, on routes with
    # dependencies only): ``app.dependency_overrides = {}`` replaces the dict.
    holder: Any = app if hasattr(app, "dependency_overrides") else _NO_OVERRIDES

    simple = not spec.dependencies and spec.body is None and not handler.injected
    if simple and not handler.params:
        if is_async:

            async def endpoint_bare(request: Request) -> Response:
                return serialize(await func())

            endpoint_bare.qake_direct = DirectCall(  # type: ignore[attr-defined]
                func, None, False, serialize, dump, status
            )
            return endpoint_bare

        async def endpoint_bare_sync(request: Request) -> Response:
            return serialize(await run_sync(func, {}))

        return endpoint_bare_sync

    if simple:
        getters = compiler.plan(handler).getters
        direct = [
            p.name
            for p in handler.params
            if p.location == "path"
            and p.name == p.alias
            and _path_getter(p, compiler.converters.get(p.alias, "str")) is None
        ]
        if len(direct) == len(handler.params) == len(compiler.converters) and is_async:
            # PERF: every argument is a path parameter the router already converted.

            async def endpoint_path(request: Request) -> Response:
                return serialize(await func(**request.path_params))

            endpoint_path.qake_direct = DirectCall(  # type: ignore[attr-defined]
                func, None, True, serialize, dump, status
            )
            return endpoint_path

        # PERF: path parameters the router converted are copied in one go.
        copied = [name for name in direct if name in compiler.converters]
        if len(copied) == len(compiler.converters) and copied:
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

        read = scope_reader(handler.params, compiler.converters) if is_async else None
        if read is not None:
            endpoint_simple.qake_direct = DirectCall(  # type: ignore[attr-defined]
                func, read, False, serialize, dump, status
            )
        return endpoint_simple

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
        return _json_body_endpoint(compiler, handler, body_spec, func, serialize)

    route_deps = spec.dependencies[: len(spec.dependencies) - len(handler.dependencies)]
    top = tuple(compiler.node(d) for d in route_deps)
    plan = compiler.plan(handler)
    parse_body: BodyParser | None = None
    if spec.body is not None:
        is_form = spec.body.fields[0].location in ("form", "file")
        parse_body = _form_body_parser(spec.body) if is_form else _json_body_parser(spec.body)

    async def endpoint(request: Request) -> Response:
        ctx = _Ctx(holder.dependency_overrides or None)
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
                replaced = await _unwind(request, exc)
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

    return endpoint


def _json_body_endpoint(
    compiler: _Compiler,
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
    getters = tuple(
        (p.name, _getter(p, compiler.converters)) for p in handler.params if p.location != "body"
    )

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
