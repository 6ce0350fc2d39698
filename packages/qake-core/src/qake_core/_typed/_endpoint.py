"""Compile a route's spec into ``async (request) -> Response``, once, at startup.

The request path only runs closures specialised per parameter: no signature
inspection, no validator building, no dict built when nothing failed. The shape of
the handler picks the endpoint, cheapest first:

- no dependencies, body or injections: the handler is called with its parameters,
  and when it is async and takes only path and scalar query parameters the route
  runner may call it itself (``CompiledRoute.direct``, no ``Request`` built);
- one JSON body model and plain parameters: no per-request resolution state;
- dependencies, a body, injections: the tree flattened at startup into one generated
  function (``_flat``); the general endpoint (per-request resolution state) while
  dependency overrides are set, and for a tree the flat plan does not take.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from qake_core._compat import route_compat
from qake_core._exceptions import RequestValidationError
from qake_core._middleware import CallNext
from qake_core._requests import Request, body_value
from qake_core._responses import Response
from qake_core._route_containers import route_meta
from qake_core._typed._analysis import HandlerSignatureError, route_spec
from qake_core._typed._body import form_reader, is_form_body, json_parser
from qake_core._typed._dependencies import (
    CallPlan,
    DependencyNode,
    ResolutionState,
    RoutePlanner,
    finish_function_scope,
    has_function_scope,
    unwind,
)
from qake_core._typed._extraction import (
    ScopeReader,
    is_as_is,
    read_params,
    scope_reader,
    unique_errors,
)
from qake_core._typed._flat import BodyReader, FlatPlan, flatten, merge_injected
from qake_core._typed._serialization import (
    Dump,
    build_dumper,
    build_serializer,
    sends_plain_json,
)
from qake_core._typed._specs import CallSpec, RouteSpec

if TYPE_CHECKING:
    from qake_core._app import App
    from qake_core._routing import APIRoute

__all__ = [
    "CompiledRoute",
    "DirectCall",
    "FlatCall",
    "HandlerSignatureError",
    "compile_route",
]


class DirectCall(NamedTuple):
    """How a route runner calls a handler that needs no ``Request``.

    ``read(scope, path_params) -> kwargs`` when the handler takes query parameters (or
    path parameters to validate); otherwise the handler gets the router's converted
    ``path_params`` (``with_params``) or nothing. ``dump`` turns the return value into
    JSON body bytes for a declared response model; without one, ``serialize`` turns
    it into a ``Response`` (``None`` when there is a ``dump``).
    """

    func: Callable[..., Any]
    read: ScopeReader | None
    with_params: bool
    serialize: Callable[[Any], Response] | None
    dump: Dump | None
    status: int
    #: The route, passed to ``dump`` (named if the value does not fit).
    route: APIRoute
    #: Without a ``dump``: ``value -> JSON body`` of a returned ``dict``, ``list`` or
    #: model, ``None`` for other values, which go to ``serialize`` (``sends_plain_json``).
    plain_json: Callable[[Any], bytes | None]


class BodyPlan(NamedTuple):
    """What the flat runner reads of a plan, for a route whose only inputs are one JSON
    body model and plain parameters (``_json_body_endpoint``)."""

    run: Callable[[Request | None], Awaitable[Any]]
    needs_request: bool


class FlatCall(NamedTuple):
    """How a route runner answers a route whose dependency tree is flat (``_flat``):
    ``plan.run(request)`` is the handler's value, ``serialize``/``dump``/``status`` as
    in :class:`DirectCall`; ``general`` answers while dependency overrides are set."""

    plan: FlatPlan | BodyPlan
    general: CallNext
    serialize: Callable[[Any], Response]
    dump: Dump | None
    status: int
    route: APIRoute
    plain_json: Callable[[Any], bytes | None]


class CompiledRoute(NamedTuple):
    """What the compiler gives the app for one route.

    ``call`` answers a ``Request`` (hook middleware wraps it); ``direct`` is set when
    the handler needs nothing from the request but its path and query parameters, so
    that the route runner can call the handler itself without building a ``Request``
    (used when no hook middleware runs); ``flat`` when its dependencies are flat.
    """

    call: CallNext
    direct: DirectCall | None = None
    flat: FlatCall | None = None


@dataclass(frozen=True, slots=True)
class _Build:
    """What every endpoint shape is built from."""

    spec: RouteSpec
    planner: RoutePlanner
    handler: CallSpec
    serialize: Callable[[Any], Response]
    dump: Dump | None
    #: ``compat="fastapi"`` (``_compat``): FastAPI's answers for this route's body.
    fastapi: bool
    route: APIRoute
    #: ``sends_plain_json``: a dict, list or model value sent by the runner itself.
    plain_json: Callable[[Any], bytes | None]

    def direct(self, read: ScopeReader | None, with_params: bool) -> DirectCall:
        func, status = self.handler.call, self.spec.response.status_code
        # PERF: with a dump, the runner never serialises: the route keeps no serializer
        # (-110 KiB tracemalloc for the benchmarks' 2,000-route app).
        serialize = self.serialize if self.dump is None else None
        return DirectCall(
            func, read, with_params, serialize, self.dump, status, self.route, self.plain_json
        )


def compile_route(route: APIRoute, app: App) -> CompiledRoute:
    """Compile ``route`` for ``app``: its request → response function, and its direct
    call when it has one."""
    spec = route_spec(route, app)
    planner = RoutePlanner(app, route)
    fastapi = route_compat(route_meta(route), app.compat)
    dump = build_dumper(spec.response, route.response_class)
    build = _Build(
        spec,
        planner,
        spec.handler,
        build_serializer(spec.response, route.response_class, route, dump, str_as_json=fastapi),
        dump,
        fastapi,
        route,
        sends_plain_json(spec.response, route.response_class),
    )
    handler = spec.handler
    if not spec.dependencies and not handler.injected:
        if spec.body is None:
            return _parameters_endpoint(build)
        body = spec.body
        if (
            handler.is_async
            and not body.embed
            and len(body.fields) == 1
            and body.fields[0].location == "body"
        ):
            endpoint, run = _json_body_endpoint(build)
            # PERF: answered by the flat runner (a declared model's JSON bytes sent
            # without a Response, the default headers merged once): S4 in-process
            # (callgrind, 500 requests, PYTHONHASHSEED=0): 66,918 -> 63,010 instructions.
            body_call = FlatCall(
                BodyPlan(run, True),
                endpoint,
                build.serialize,
                build.dump,
                spec.response.status_code,
                route,
                build.plain_json,
            )
            return CompiledRoute(endpoint, flat=body_call)
    route_deps = spec.dependencies[: len(spec.dependencies) - len(handler.dependencies)]
    top = tuple(planner.node(d) for d in route_deps)
    plan = planner.plan(handler)
    general = _general_endpoint(build, app, top, plan)
    flat = _flat_call(build, top, plan, general)
    if flat is None:
        return CompiledRoute(general)
    return CompiledRoute(_flat_endpoint(flat, app), flat=flat)


def _parameters_endpoint(build: _Build) -> CompiledRoute:
    """A handler that takes only request parameters (path, query, header, cookie)."""
    handler, serialize = build.handler, build.serialize
    func, is_async, run_sync = handler.call, handler.is_async, build.planner.run_sync
    converters = build.planner.converters
    if not handler.params:
        if not is_async:

            async def endpoint_bare_sync(request: Request) -> Response:
                return serialize(await run_sync(func, {}))

            return CompiledRoute(endpoint_bare_sync)

        async def endpoint_bare(request: Request) -> Response:
            return serialize(await func())

        return CompiledRoute(endpoint_bare, build.direct(None, False))
    as_is = [p.name for p in handler.params if is_as_is(p)]
    if len(as_is) == len(handler.params) == len(converters) and is_async:
        # PERF: every argument is a path parameter the router already converted.

        async def endpoint_path(request: Request) -> Response:
            return serialize(await func(**request.path_params))

        return CompiledRoute(endpoint_path, build.direct(None, True))

    # PERF: path parameters the router converted are copied in one go.
    from_params = len(as_is) == len(converters) and bool(as_is)
    plan = build.planner.plan(handler)
    getters = tuple(g for g in plan.getters if g[0] not in as_is) if from_params else plan.getters

    async def endpoint_parameters(request: Request) -> Response:
        kwargs: dict[str, Any] = dict(request.path_params) if from_params else {}
        errors = read_params(getters, request, kwargs, None)
        if errors:
            raise RequestValidationError(errors)
        if is_async:
            return serialize(await func(**kwargs))
        return serialize(await run_sync(func, kwargs))

    read = scope_reader(handler.params, converters) if is_async else None
    if read is None:
        return CompiledRoute(endpoint_parameters)
    return CompiledRoute(endpoint_parameters, build.direct(read, False))


def _json_body_endpoint(
    build: _Build,
) -> tuple[CallNext, Callable[[Request | None], Awaitable[Any]]]:
    """PERF: a route whose only inputs are one JSON body model and plain parameters:
    no per-request resolution state, the body validated straight from its bytes.
    The endpoint, and its ``run(request)``: the handler's value (for the flat runner)."""
    handler, serialize = build.handler, build.serialize
    assert build.spec.body is not None
    parse_body = json_parser(build.spec.body, build.fastapi)
    func = handler.call
    getters = build.planner.plan(handler).getters

    async def run_json_body(request: Request | None) -> Any:
        assert request is not None  # BodyPlan.needs_request
        kwargs, errors = parse_body(await request.body(), request)
        if getters:  # PERF: no call for a route whose only input is the body
            errors = read_params(getters, request, kwargs, errors)
        if errors:
            raise RequestValidationError(errors, body=body_value(request))
        return await func(**kwargs)

    async def endpoint_json_body(request: Request) -> Response:
        # Under hook middleware or dependency overrides only: the flat runner calls
        # run_json_body itself.
        return serialize(await run_json_body(request))

    return endpoint_json_body, run_json_body


def _flat_call(
    build: _Build, top: tuple[DependencyNode, ...], plan: CallPlan, general: CallNext
) -> FlatCall | None:
    """The flat form of a route with dependencies (or a body and injections), or
    ``None`` for a tree the flat plan does not take (a body parameter of a dependency
    the route's body does not list)."""
    handler, planner, spec = build.handler, build.planner, build.spec
    body = None
    if spec.body is not None:
        names = tuple(f.name for f in spec.body.fields)
        if is_form_body(spec.body):
            body = BodyReader(None, form_reader(spec.body, build.fastapi), names)
        else:
            body = BodyReader(json_parser(spec.body, build.fastapi), None, names)
    flat = flatten(
        top,
        plan,
        handler.call,
        handler.is_async,
        planner.run_sync,
        planner.where,
        body,
        build.serialize,
    )
    if flat is None:
        return None
    return FlatCall(
        flat,
        general,
        build.serialize,
        build.dump,
        spec.response.status_code,
        build.route,
        build.plain_json,
    )


def _flat_endpoint(flat: FlatCall, app: App) -> CallNext:
    """The endpoint of a flat route (under hook middleware; without, the app runs
    :func:`qake_core._typed._flat_runner.flat_runner`)."""
    run, general, serialize = flat.plan.run, flat.general, flat.serialize

    async def endpoint_flat(request: Request) -> Response:
        if app.dependency_overrides:
            return await general(request)
        try:
            return serialize(await run(request))
        except Exception as exc:
            # NOTE: as the general endpoint: yield dependencies (and clean-ups a
            # dependency registered) see the error before it is answered.
            if request.cleanups:
                replaced = await unwind(request, exc)
                if replaced is not exc:
                    raise replaced  # noqa: B904
            raise

    return endpoint_flat


def _general_endpoint(
    build: _Build, app: App, top: tuple[DependencyNode, ...], plan: CallPlan
) -> CallNext:
    """Body, dependencies, injected objects: per-request resolution state, and the
    clean-ups of yield dependencies."""
    spec, handler, planner, serialize = build.spec, build.handler, build.planner, build.serialize
    func, is_async, run_sync = handler.call, handler.is_async, planner.run_sync
    body = spec.body
    # Depends(scope="function") generators end when the handler returns (FastAPI's).
    function_scope = has_function_scope((*top, *(node for _, node in plan.deps)))
    read_form = None if body is None or not is_form_body(body) else form_reader(body, build.fastapi)
    parse_json = None if body is None or read_form is not None else json_parser(body, build.fastapi)

    async def endpoint(request: Request) -> Response:
        # NOTE: read through the app on each request (one attribute load, on routes with
        # dependencies only): ``app.dependency_overrides = {}`` replaces the dict.
        ctx = ResolutionState(app.dependency_overrides or None, [] if function_scope else None)
        try:
            if parse_json is not None:
                ctx.body, errors = parse_json(await request.body(), request)
                if errors:
                    ctx.fail(errors)
            elif read_form is not None:
                ctx.body, errors = await read_form(request)
                if errors:
                    ctx.fail(errors)
            for node in top:
                await node.resolve(request, ctx)
            kwargs = await plan.solve(request, ctx)
            if ctx.errors:
                raise RequestValidationError(unique_errors(ctx.errors), body=body_value(request))
            assert kwargs is not None
            if ctx.function_exits is not None:
                result = await _call_in_function_scope(func, is_async, run_sync, kwargs, ctx)
            elif is_async:
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
        _merge_injected(response, ctx)
        return response

    return endpoint


async def _call_in_function_scope(
    func: Callable[..., Any],
    is_async: bool,
    run_sync: Callable[..., Any],
    kwargs: dict[str, Any],
    ctx: ResolutionState,
) -> Any:
    """Call the handler, then end its ``Depends(scope="function")`` generators (newest
    first, the handler's error thrown in; one they raise instead replaces it)."""
    exits = ctx.function_exits
    assert exits is not None
    try:
        result = await func(**kwargs) if is_async else await run_sync(func, kwargs)
    except Exception as exc:
        replaced = await finish_function_scope(exits, exc)
        if replaced is not exc and replaced is not None:
            raise replaced  # noqa: B904 - the dependency's choice, chained as it raised it
        raise
    raised = await finish_function_scope(exits, None)
    if raised is not None:
        raise raised
    return result


def _merge_injected(response: Response, ctx: ResolutionState) -> None:
    """Carry the injected sub-response and background tasks over (``merge_injected``)."""
    merge_injected(response, ctx.response, ctx.background)
