"""Dependency resolution: each route's plan of getters and dependency nodes, resolved
per request with the per-request cache, overrides, app-scoped values and the clean-ups
of yield dependencies (run after the response, or thrown the endpoint's error first)."""

from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from qake_core._background import BackgroundTasks
from qake_core._depends import Security, SecurityScopes
from qake_core._requests import HTTPConnection, Request
from qake_core._responses import Response
from qake_core._typed._analysis import (
    HandlerSignatureError,
    analyse_call,
    route_label,
)
from qake_core._typed._extraction import Getter, Problems, param_getter, read_params
from qake_core._typed._specs import CallSpec, DependencySpec

if TYPE_CHECKING:
    from qake_core._app import App
    from qake_core._routing import APIRoute, WebSocketRoute

__all__ = [
    "CallPlan",
    "DependencyExit",
    "DependencyNode",
    "ResolutionState",
    "RoutePlanner",
    "thread_runner",
    "to_thread",
    "unwind",
]

logger = logging.getLogger("qake.error")

_FAILED: Any = object()
_ABSENT: Any = object()


class ResolutionState:
    """Per-request state of a route with dependencies, a body or injected objects:
    the body's values, the errors so far, the per-request dependency cache, the
    overrides in force, and the sub-response and background tasks handed out."""

    __slots__ = ("background", "body", "cache", "errors", "function_exits", "overrides", "response")

    def __init__(
        self, overrides: Mapping[Any, Any] | None, function_exits: list[Any] | None = None
    ) -> None:
        #: The clean-ups of ``Depends(scope="function")`` generators, run when the
        #: handler returns (a route that has some passes a list; else they are the
        #: request's, as on a WebSocket).
        self.function_exits = function_exits
        self.errors: Problems | None = None
        self.cache: dict[Any, Any] = {}
        self.body: dict[str, Any] = {}
        self.response: Response | None = None
        self.background: BackgroundTasks | None = None
        self.overrides = overrides

    def fail(self, errors: Problems) -> None:
        if self.errors is None:
            self.errors = []
        self.errors.extend(errors)


def thread_runner(app: App) -> Callable[..., Any]:
    """``await run(func, kwargs)``: a sync handler or dependency in a worker thread
    (the app's limiter), with the caller's context variables.

    PERF: the limiter is read at the call, not here: made on first read, it loads
    anyio's event-loop backend (20 modules), which a worker whose handlers are all async
    never needs (2.3 MiB of the 2,000-route app's RSS, 4.3 MiB of the small one's; the
    thread hand-off itself loads that backend, so a sync handler's first call pays only
    the limiter's creation). A property read per call, beside a thread hand-off."""

    async def run(func: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        call = functools.partial(contextvars.copy_context().run, functools.partial(func, **kwargs))
        return await anyio.to_thread.run_sync(call, limiter=app.thread_limiter)

    return run


class RoutePlanner:
    """Builds the resolution plan of every callable of one route, HTTP or WebSocket
    (its handler, its dependencies, and dependency overrides when a request first
    meets them)."""

    def __init__(self, app: App, route: APIRoute | WebSocketRoute) -> None:
        self.app = app
        self.route = route
        #: How errors name the route: its methods, path template and handler.
        self.where = route_label(route)
        #: The route's path parameters: name → converter (its template's, parsed once).
        self.converters = route.routing.params
        self.run_sync = thread_runner(app)
        self.override_nodes: dict[tuple[Any, tuple[str, ...]], DependencyNode] = {}

    @property
    def app_scoped(self) -> Any:
        """The app's store of app-scoped values (the app closes it in its lifespan).

        PERF: read when an app-scoped dependency resolves, not for every route at build
        time: the store is made on first read (see :func:`thread_runner`)."""
        return self.app.app_scoped_values

    def plan(self, spec: CallSpec, scopes: tuple[str, ...] = ()) -> CallPlan:
        """``spec``'s plan; ``scopes`` are those of the ``Security`` markers above it."""
        getters: list[tuple[str, Getter]] = []
        body: list[str] = []
        for p in spec.params:
            if p.location in ("body", "form", "file"):
                body.append(p.name)
            else:
                getters.append((p.name, param_getter(p)))
        deps = tuple((d.name, self.node(d, scopes)) for d in spec.dependencies)
        return CallPlan(tuple(getters), tuple(body), deps, spec.injected, scopes)

    def node(self, dep: DependencySpec, scopes: tuple[str, ...] = ()) -> DependencyNode:
        spec = dep.spec
        if isinstance(dep.depends, Security):
            scopes = (*scopes, *dep.depends.scopes)
        if dep.depends.scope == "app" and (spec.params or spec.injected):
            raise HandlerSignatureError(
                f"{self.where}: app-scoped dependency "
                f"{getattr(spec.call, '__qualname__', spec.call)!r} takes request parameters; "
                "an app-scoped dependency may only depend on other app-scoped dependencies"
            )
        node = DependencyNode(
            self, dep.spec, dep.depends.use_cache, dep.depends.scope == "app", scopes
        )
        node.function_scoped = dep.depends.scope == "function"
        return node

    def override(self, fake: Callable[..., Any], original: DependencyNode) -> DependencyNode:
        key = (fake, original.scopes)
        node = self.override_nodes.get(key)
        if node is None:
            label = getattr(fake, "__qualname__", repr(fake))
            spec = analyse_call(fake, f"{self.where}, override {label}", self.converters)
            node = DependencyNode(
                self, spec, original.use_cache, original.app_scoped, original.scopes
            )
            self.override_nodes[key] = node
        return node


class CallPlan:
    """How to call one handler or dependency: its parameter getters, the names of its
    body parameters (read from the state's body), its dependencies and injections."""

    __slots__ = ("body", "deps", "getters", "injected", "security_scopes")

    def __init__(
        self,
        getters: tuple[tuple[str, Getter], ...],
        body: tuple[str, ...],
        deps: tuple[tuple[str | None, DependencyNode], ...],
        injected: tuple[tuple[str, str], ...],
        scopes: tuple[str, ...] = (),
    ) -> None:
        self.getters = getters
        self.body = body
        self.deps = deps
        self.injected = injected
        #: What a ``SecurityScopes`` parameter receives (one value, built at startup).
        self.security_scopes = SecurityScopes(scopes)

    async def solve(self, request: HTTPConnection, ctx: ResolutionState) -> dict[str, Any] | None:
        """The keyword arguments, or ``None`` when an input failed (errors are in ctx)."""
        kwargs: dict[str, Any] = {}
        errors = read_params(self.getters, request, kwargs, None)
        ok = errors is None
        if errors:
            ctx.fail(errors)
        for name in self.body:
            value = ctx.body.get(name, _FAILED)
            if value is _FAILED:
                ok = False  # the body's problems are already in ctx
            else:
                kwargs[name] = value
        for dep_name, node in self.deps:
            value = await node.resolve(request, ctx)
            if value is _FAILED:
                ok = False
            elif dep_name is not None:
                kwargs[dep_name] = value
        for name, what in self.injected:
            kwargs[name] = _inject(what, request, ctx, self)
        return kwargs if ok else None


def _inject(what: str, request: HTTPConnection, ctx: ResolutionState, plan: CallPlan) -> Any:
    if what == "request":
        return request
    if what == "security_scopes":
        return plan.security_scopes
    if what == "background":
        if ctx.background is None:
            ctx.background = BackgroundTasks()
        return ctx.background
    if ctx.response is None:
        ctx.response = Response(None, status_code=0)
    return ctx.response


class DependencyNode:
    """A dependency ready to resolve: cache, override, call by kind, clean-up."""

    __slots__ = (
        "app_scoped",
        "cache_key",
        "call",
        "function_scoped",
        "key",
        "kind",
        "plan",
        "planner",
        "scopes",
        "use_cache",
    )

    def __init__(
        self,
        planner: RoutePlanner,
        spec: CallSpec,
        use_cache: bool,
        app_scoped: bool,
        scopes: tuple[str, ...] = (),
    ) -> None:
        self.planner = planner
        self.call = spec.call
        # The per-request cache key: the callable itself, or its id when it cannot be
        # hashed (a callable object defining __eq__ only); it lives as long as the app.
        try:
            hash(spec.call)
            self.key: Any = spec.call
        except TypeError:
            self.key = id(spec.call)
        # FastAPI's rule: one call per dependency and set of required scopes.
        self.scopes = scopes
        self.cache_key: Any = (self.key, frozenset(scopes)) if scopes else self.key
        self.plan = planner.plan(spec, scopes)
        self.use_cache = use_cache
        self.app_scoped = app_scoped
        #: ``Depends(scope="function")``: a generator's clean-up runs when the handler
        #: returns (``ResolutionState.function_exits``).
        self.function_scoped = False
        self.kind = (
            "agen"
            if spec.is_async_gen
            else "gen"
            if spec.is_gen
            else "async"
            if spec.is_async
            else "sync"
        )

    async def resolve(self, request: HTTPConnection, ctx: ResolutionState) -> Any:
        overrides = ctx.overrides
        if overrides:
            fake = overrides.get(self.key)
            if fake is not None:
                return await self.planner.override(fake, self).resolve(request, ctx)
        if self.app_scoped:
            return await self.planner.app_scoped.get(self.key, lambda: self._create_app(ctx))
        call = self.cache_key
        if self.use_cache:
            value = ctx.cache.get(call, _ABSENT)
            if value is not _ABSENT:
                return value
        kwargs = await self.plan.solve(request, ctx)
        if kwargs is None:
            if self.use_cache:
                ctx.cache[call] = _FAILED  # report its errors once
            return _FAILED
        exits = ctx.function_exits if self.function_scoped else None
        value = await self._call(kwargs, request.add_cleanup if exits is None else exits.append)
        if self.use_cache:
            ctx.cache[call] = value
        return value

    async def app_value(self) -> Any:
        """An app-scoped node's value, without overrides (the flat path's): from the
        app's store, created on first use (its dependencies are app-scoped too)."""
        return await self.planner.app_scoped.get(
            self.key, lambda: self._create_app(ResolutionState(None))
        )

    async def _create_app(self, ctx: ResolutionState) -> Any:
        store = self.planner.app_scoped
        kwargs = await self.plan.solve(Request({"type": "http", "headers": []}), ctx)
        assert kwargs is not None
        if self.kind == "agen":
            agen = self.call(**kwargs)
            value = await agen.__anext__()
            store.push_async_exit(agen)
            return value
        if self.kind == "gen":
            gen = self.call(**kwargs)
            value = await to_thread(next, gen)
            store.push_sync_exit(gen)
            return value
        return await self._call(kwargs, None)

    async def _call(self, kwargs: dict[str, Any], add_cleanup: Any) -> Any:
        kind = self.kind
        if kind == "async":
            return await self.call(**kwargs)
        if kind == "sync":
            return await self.planner.run_sync(self.call, kwargs)
        if kind == "agen":
            agen = self.call(**kwargs)
            value = await agen.__anext__()
            add_cleanup(DependencyExit(agen, True))
            return value
        gen = self.call(**kwargs)
        value = await to_thread(next, gen)
        add_cleanup(DependencyExit(gen, False))
        return value


async def to_thread(func: Callable[..., Any], *args: Any) -> Any:
    call = functools.partial(contextvars.copy_context().run, func, *args)
    return await anyio.to_thread.run_sync(call)


class DependencyExit:
    """The code after a yield dependency's ``yield``, registered as a request clean-up.

    When ``Request.close`` calls it (after the response was sent), an error the clean-up
    raises is logged. :func:`unwind` instead runs it before the endpoint's error is
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
            raised, again = await to_thread(_resume_sync, self.gen, exc)
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


async def unwind(request: HTTPConnection, exc: Exception) -> BaseException:
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
        if isinstance(cleanup, DependencyExit):
            raised = await cleanup.finish(current)
            if raised is not None:
                current = raised
        else:
            await cleanup(current)
    return current


def has_function_scope(nodes: Iterable[DependencyNode]) -> bool:
    """Whether a ``Depends(scope="function")`` generator is among ``nodes`` or below."""
    for node in nodes:
        if node.function_scoped and node.kind in ("agen", "gen"):
            return True
        if has_function_scope(n for _, n in node.plan.deps):
            return True
    return False


async def finish_function_scope(exits: list[Any], exc: Exception | None) -> BaseException | None:
    """Run the clean-ups of ``Depends(scope="function")`` generators, newest first, with
    ``exc`` (the handler's error) thrown in; the exception one raised instead replaces
    it (returned), as :func:`unwind` does for the request's."""
    current: BaseException | None = exc
    while exits:
        raised = await exits.pop().finish(current)
        if raised is not None:
            current = raised
    return current


def _label(gen: Any) -> str:
    return str(getattr(gen, "__qualname__", gen))
