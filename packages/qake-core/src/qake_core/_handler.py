"""Compile a route's spec into ``async (request) -> Response``, once, at startup.

The request path only runs closures specialised per parameter: no signature
inspection, no validator building, no dict built when nothing failed. A handler
without parameters is called directly; path parameters the router already
converted to the annotated type are passed through untouched.
"""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

import anyio.to_thread
from pydantic import ValidationError

from qake_core._background import BackgroundTasks
from qake_core._depends import AppScope
from qake_core._exceptions import HTTPException, RequestValidationError
from qake_core._extract import (
    _ABSENT,
    _FAILED,
    BodyParser,
    Getter,
    ScopeReader,
    _Ctx,
    _errors,
    _form_body_parser,
    _getter,
    _Invalid,
    _is_json,
    _json_body_parser,
    _missing,
    _path_getter,
    _read_params,
    _unique,
    scope_reader,
)
from qake_core._middleware import CallNext
from qake_core._requests import Request
from qake_core._responses import Response
from qake_core._serialize import build_dumper, build_serializer
from qake_core._signature import (
    HandlerSignatureError,
    analyse_call,
    analyse_route,
)
from qake_core._specs import BodySpec, CallSpec, DependencySpec, RouteSpec

__all__ = [
    "DirectCall",
    "HandlerSignatureError",
    "compile_endpoint",
    "direct_call",
    "route_label",
    "route_spec",
]


logger = logging.getLogger("qake.error")


def route_spec(route: Any, app: Any = None) -> RouteSpec:
    """The spec of ``route`` for ``app``, stored on ``route.spec``.

    Computed when the route is registered; the app's build reuses it unless the app's
    own dependencies changed since (an included route is a new copy, analysed anew).
    """
    app_dependencies = tuple(getattr(app, "app_dependencies", ()))
    key = (app, app_dependencies)
    if route.spec is not None and route.spec_key == key:
        spec: RouteSpec = route.spec
        return spec
    spec = analyse_route(route, app_dependencies)
    route.spec = spec
    route.spec_key = key
    return spec


def route_label(route: Any) -> str:
    """How an error names ``route``: ``route GET '/items/{item_id}' (handler read_item)``."""
    func = route.endpoint
    label = getattr(func, "__qualname__", repr(func))
    return f"route {' '.join(sorted(route.methods))} {route.path!r} (handler {label})"


# -- calling -------------------------------------------------------------------------------


def _thread_runner(app: Any) -> Callable[..., Any]:
    limiter = getattr(app, "thread_limiter", None)

    async def run(func: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        call = functools.partial(contextvars.copy_context().run, functools.partial(func, **kwargs))
        return await anyio.to_thread.run_sync(call, limiter=limiter)

    return run


class _Compiler:
    """Builds the resolution plan of every callable of one route."""

    def __init__(self, app: Any, route: Any, spec: RouteSpec) -> None:
        from qake_core._signature import path_converters

        self.app = app
        self.route = route
        #: How errors name the route: its methods, path template and handler.
        self.where = route_label(route)
        self.converters = path_converters(spec.path)
        self.run_sync = _thread_runner(app)
        self.app_scope = _app_scope(app)
        self.override_nodes: dict[Any, _Node] = {}

    def plan(self, spec: CallSpec) -> _Plan:
        getters = tuple((p.name, _getter(p, self.converters)) for p in spec.params)
        deps = tuple((d.name, self.node(d)) for d in spec.dependencies)
        return _Plan(getters, deps, spec.injected)

    def node(self, dep: DependencySpec) -> _Node:
        spec = dep.spec
        if dep.depends.scope == "app" and (spec.params or spec.injected):
            raise HandlerSignatureError(
                f"{self.where}: app-scoped dependency "
                f"{getattr(spec.call, '__qualname__', spec.call)!r} takes request parameters; "
                "an app-scoped dependency may only depend on other app-scoped dependencies"
            )
        return _Node(self, dep.spec, dep.depends.use_cache, dep.depends.scope == "app")

    def override(self, fake: Callable[..., Any], original: _Node) -> _Node:
        node = self.override_nodes.get(fake)
        if node is None:
            label = getattr(fake, "__qualname__", repr(fake))
            spec = analyse_call(fake, f"{self.where}, override {label}", self.converters)
            node = _Node(self, spec, original.use_cache, original.app_scoped)
            self.override_nodes[fake] = node
        return node


class _Plan:
    __slots__ = ("deps", "getters", "injected")

    def __init__(
        self,
        getters: tuple[tuple[str, Getter], ...],
        deps: tuple[tuple[str | None, _Node], ...],
        injected: tuple[tuple[str, str], ...],
    ) -> None:
        self.getters = getters
        self.deps = deps
        self.injected = injected

    async def solve(self, request: Request, ctx: _Ctx) -> dict[str, Any] | None:
        """The keyword arguments, or ``None`` when an input failed (errors are in ctx)."""
        kwargs: dict[str, Any] = {}
        ok = True
        for name, get in self.getters:
            try:
                kwargs[name] = get(request, ctx)
            except _Invalid as exc:
                ok = False
                if exc.errors:
                    ctx.fail(exc.errors)
        for dep_name, node in self.deps:
            value = await node.resolve(request, ctx)
            if value is _FAILED:
                ok = False
            elif dep_name is not None:
                kwargs[dep_name] = value
        for name, what in self.injected:
            kwargs[name] = _inject(what, request, ctx)
        return kwargs if ok else None


def _inject(what: str, request: Request, ctx: _Ctx) -> Any:
    if what == "request":
        return request
    if what == "background":
        if ctx.background is None:
            ctx.background = BackgroundTasks()
        return ctx.background
    if ctx.response is None:
        ctx.response = Response(None, status_code=0)
    return ctx.response


class _Node:
    """A dependency ready to resolve: cache, override, call by kind, clean-up."""

    __slots__ = ("app_scoped", "call", "compiler", "key", "kind", "plan", "use_cache")

    def __init__(
        self, compiler: _Compiler, spec: CallSpec, use_cache: bool, app_scoped: bool
    ) -> None:
        self.compiler = compiler
        self.call = spec.call
        # The per-request cache key: the callable itself, or its id when it cannot be
        # hashed (a callable object defining __eq__ only); it lives as long as the app.
        try:
            hash(spec.call)
            self.key: Any = spec.call
        except TypeError:
            self.key = id(spec.call)
        self.plan = compiler.plan(spec)
        self.use_cache = use_cache
        self.app_scoped = app_scoped
        self.kind = (
            "agen"
            if spec.is_async_gen
            else "gen"
            if spec.is_gen
            else "async"
            if spec.is_async
            else "sync"
        )

    async def resolve(self, request: Request, ctx: _Ctx) -> Any:
        overrides = ctx.overrides
        if overrides:
            fake = overrides.get(self.key)
            if fake is not None:
                return await self.compiler.override(fake, self).resolve(request, ctx)
        if self.app_scoped:
            return await self.compiler.app_scope.get(self.key, lambda: self._create_app(ctx))
        call = self.key
        if self.use_cache:
            value = ctx.cache.get(call, _ABSENT)
            if value is not _ABSENT:
                return value
        kwargs = await self.plan.solve(request, ctx)
        if kwargs is None:
            if self.use_cache:
                ctx.cache[call] = _FAILED  # report its errors once
            return _FAILED
        value = await self._call(kwargs, request.add_cleanup)
        if self.use_cache:
            ctx.cache[call] = value
        return value

    async def _create_app(self, ctx: _Ctx) -> Any:
        scope = self.compiler.app_scope
        kwargs = await self.plan.solve(Request({"type": "http", "headers": []}), ctx)
        assert kwargs is not None
        if self.kind == "agen":
            agen = self.call(**kwargs)
            value = await agen.__anext__()
            scope.push_async_exit(agen)
            return value
        if self.kind == "gen":
            gen = self.call(**kwargs)
            value = await _to_thread(next, gen)
            scope.push_sync_exit(gen)
            return value
        return await self._call(kwargs, None)

    async def _call(self, kwargs: dict[str, Any], add_cleanup: Any) -> Any:
        kind = self.kind
        if kind == "async":
            return await self.call(**kwargs)
        if kind == "sync":
            return await self.compiler.run_sync(self.call, kwargs)
        if kind == "agen":
            agen = self.call(**kwargs)
            value = await agen.__anext__()
            add_cleanup(_DependencyExit(agen, True))
            return value
        gen = self.call(**kwargs)
        value = await _to_thread(next, gen)
        add_cleanup(_DependencyExit(gen, False))
        return value


async def _to_thread(func: Callable[..., Any], *args: Any) -> Any:
    call = functools.partial(contextvars.copy_context().run, func, *args)
    return await anyio.to_thread.run_sync(call)


class _DependencyExit:
    """The code after a yield dependency's ``yield``, registered as a request clean-up.

    When ``Request.close`` calls it (after the response was sent), an error the clean-up
    raises is logged. :func:`_unwind` instead runs it before the endpoint's error is
    answered, and an exception it raises in place of the one thrown in (an
    ``HTTPException`` raised in its ``except`` block) becomes the answer.
    """

    __slots__ = ("gen", "is_async")

    def __init__(self, gen: Any, is_async: bool) -> None:
        self.gen = gen
        self.is_async = is_async

    async def __call__(self, exc: BaseException | None) -> None:
        raised = await self.finish(exc)
        if raised is not None:
            logger.error("clean-up of dependency %s failed", _label(self.gen), exc_info=raised)

    async def finish(self, exc: BaseException | None) -> BaseException | None:
        """Resume the generator (throwing ``exc`` in, if any); the exception it raised
        instead of ``exc``, or ``None`` (it finished, or let ``exc`` through)."""
        if self.is_async:
            raised, again = await _resume_async(self.gen, exc)
        else:
            raised, again = await _to_thread(_resume_sync, self.gen, exc)
        if again:
            logger.error("dependency %s yielded more than once", _label(self.gen))
        return None if raised is exc else raised


async def _resume_async(agen: Any, exc: BaseException | None) -> tuple[BaseException | None, bool]:
    """``(what it raised or None, whether it yielded again)``; a second yield closes it."""
    try:
        if exc is None:
            await agen.__anext__()
        else:
            await agen.athrow(exc)
    except StopAsyncIteration:
        return None, False
    except BaseException as raised:
        return raised, False
    await agen.aclose()
    return None, True


def _resume_sync(gen: Any, exc: BaseException | None) -> tuple[BaseException | None, bool]:
    """:func:`_resume_async` for a sync generator (runs in a worker thread)."""
    try:
        if exc is None:
            next(gen)
        else:
            gen.throw(exc)
    except StopIteration:
        return None, False
    except BaseException as raised:
        return raised, False
    gen.close()
    return None, True


async def _unwind(request: Request, exc: Exception) -> BaseException:
    """Throw ``exc`` into the request's yield dependencies (newest first) before it is
    answered; one that raises another exception (``try: yield x / except E: raise
    HTTPException(400)``) replaces it, for the older ones and for the answer.

    A dependency that swallows the exception cannot give a response: the original
    exception is then answered as usual, and the older dependencies still see it.
    """
    current: BaseException = exc
    cleanups = request.cleanups
    while cleanups:
        cleanup = cleanups.pop()
        if isinstance(cleanup, _DependencyExit):
            raised = await cleanup.finish(current)
            if raised is not None:
                current = raised
        else:
            await cleanup(current)
    return current


def _label(gen: Any) -> str:
    return str(getattr(gen, "__qualname__", gen))


def _app_scope(app: Any) -> AppScope:
    scope: AppScope | None = getattr(app, "_qake_app_scope", None)
    if scope is None:
        scope = AppScope()
        app._qake_app_scope = scope
        on_shutdown = getattr(app, "on_shutdown", None)
        if isinstance(on_shutdown, list):
            on_shutdown.append(scope.aclose)
    return scope


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
