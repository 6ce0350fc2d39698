"""The ASGI application: configuration, build (routes, middleware stack) and lifespan."""

from __future__ import annotations

import gc
import itertools
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from qake_core._asgi3 import asgi3, introspect_as_async
from qake_core._compat import Compat, route_mode
from qake_core._datastructures import State
from qake_core._default_headers import DEFAULT_HEADERS_KEY, DefaultHeaders, default_headers_of
from qake_core._deprecation import merged_default_headers, route_headers, with_route_headers
from qake_core._dispatch import Dispatcher
from qake_core._errors import (
    ErrorBoundary,
    ErrorStyle,
    ExceptionHandler,
    silence_server_duplicates,
)
from qake_core._inflight import InFlight, draining
from qake_core._lifespan import Lifespan, combine, run_lifespan
from qake_core._limits import DEFAULT_LIMITS, Limits
from qake_core._middleware import HookMiddleware, Middleware, build_hook_chain
from qake_core._options import keywords, reject_unknown_options
from qake_core._proxy_headers import ProxyHeadersMiddleware
from qake_core._request_head import KNOWN_HOSTS
from qake_core._route_containers import route_meta, route_middleware
from qake_core._route_options import route_option_hooks
from qake_core._routing import APIRoute, Router, WebSocketRoute
from qake_core._runners import RouteHandle, direct_runner, request_runner
from qake_core._typed._app_scoped import AppScopedValues
from qake_core.types import ASGIApp, Receive, Scope, Send
from qake_routing import Converter

if TYPE_CHECKING:
    from qake_core._exceptions import HTTPException
    from qake_core._responses import Response
    from qake_core._typed._connection import ConnectionPlan

__all__ = ["App", "ExceptionHandler"]

F = TypeVar("F", bound=Callable[..., Any])
WebSocketCompiler = Callable[[WebSocketRoute, Any], Any]


class App(Router):
    """An ASGI 3 application.

    Routes, middleware and handlers are compiled once, when the app first receives
    a scope (the lifespan startup under a server): a request only walks the
    pre-built stack, the route tree and the route's compiled plan.
    """

    #: Dispatch (static table, trees, head limits, mounts, 404/405/431: ``_dispatch``),
    #: made by ``build`` once the routes are compiled.
    _dispatcher: Dispatcher

    def __init__(
        self,
        *,
        debug: bool = False,
        middleware: Sequence[Middleware] | None = None,
        hooks: Sequence[HookMiddleware] | None = None,
        exception_handlers: Mapping[type[BaseException] | int, ExceptionHandler] | None = None,
        lifespan: Lifespan | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        dependencies: Sequence[Any] | None = None,
        limits: Limits | None = None,
        redirect_slashes: bool = True,
        default_response_class: type | None = None,
        converters: Mapping[str, Converter] | None = None,
        trusted_proxies: Sequence[str] | None = None,
        shutdown_timeout: float = 30.0,
        thread_limiter_tokens: int = 40,
        default_headers: Mapping[str, str] | Sequence[tuple[bytes, bytes]] | None = None,
        callbacks: Sequence[Any] | Mapping[str, Any] | None = None,
        generate_unique_id_function: Callable[[APIRoute], str] | None = None,
        compat: Compat = None,
        echo_validation_input: bool = False,
        **unknown: Any,
    ) -> None:
        if unknown:  # a FastAPI option qakeapi lacks, or a typo: say which, and the fix
            where = f"{type(self).__name__}(...)"
            supported = keywords(type(self).__init__, App.__init__)
            reject_unknown_options("app", where, unknown, supported)
        # Servers inspect ``app.__call__``: a coroutine function to all of them.
        introspect_as_async(self)
        super().__init__(
            limits=(limits or Limits()).merged_over(DEFAULT_LIMITS),
            default_response_class=default_response_class,
            converters=converters,
            callbacks=callbacks,
            generate_unique_id_function=generate_unique_id_function,
            compat=compat,
        )
        self.exception_handlers: dict[type[BaseException] | int, ExceptionHandler] = dict(
            exception_handlers or {}
        )
        #: With ``compat="fastapi"``: validation errors carry the ``input`` that failed
        #: (FastAPI always sends it; it may hold a secret, so qakeapi asks).
        self.echo_validation_input = echo_validation_input
        self.inflight = InFlight()
        #: Exception → response for the whole app (``_errors``): the runners, the 404/405
        #: answers and ``__call__`` use it; it shares ``exception_handlers``' dict. In
        #: the app's style: problem+json, or FastAPI's with ``compat="fastapi"``.
        self._errors = ErrorBoundary(
            self.exception_handlers, debug, self.inflight, self._error_style(self.compat)
        )
        #: The boundaries by compat mode: the app's, and one per other mode a router
        #: asks for (made when the routes are compiled).
        self._boundaries: dict[str, ErrorBoundary] = {self.compat or "qakeapi": self._errors}
        self.user_middleware: list[Middleware] = list(middleware or [])
        self.hooks: list[HookMiddleware] = list(hooks or [])
        #: ``async def hook(websocket, call_next) -> None`` around every WebSocket route.
        self.websocket_hooks: list[Callable[..., Any]] = []
        self.app_dependencies: list[Any] = list(dependencies or [])
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.lifespan_context = lifespan
        self.on_startup: list[Callable[[], Any]] = list(on_startup or [])
        self.on_shutdown: list[Callable[[], Any]] = list(on_shutdown or [])
        self.redirect_slashes = redirect_slashes
        self.state = State()
        self.websocket_compiler: WebSocketCompiler | None = None
        #: Peers whose X-Forwarded-*/Forwarded headers are honoured (see ProxyHeadersMiddleware).
        self.trusted_proxies = list(trusted_proxies or [])
        #: Seconds the lifespan shutdown waits for in-flight background tasks.
        self.shutdown_timeout = shutdown_timeout
        self._default_headers: DefaultHeaders | None = (
            default_headers_of(default_headers) if default_headers else None
        )
        #: True when no edge middleware wraps the router: __call__ then routes inline.
        self._no_edge_middleware = False
        self._stack: ASGIApp | None = None
        # Bounds the worker threads running sync handlers and dependencies: made when
        # first read (see ``thread_limiter``), checked now as anyio would check it.
        if thread_limiter_tokens != math.inf and (
            not isinstance(thread_limiter_tokens, int) or isinstance(thread_limiter_tokens, bool)
        ):
            raise TypeError("thread_limiter_tokens must be an int or math.inf")
        if thread_limiter_tokens < 1:
            raise ValueError("thread_limiter_tokens must be >= 1")
        self._thread_limiter_tokens = thread_limiter_tokens
        self._thread_limiter: anyio.CapacityLimiter | None = None
        #: Values of ``Depends(..., scope="app")``: created on first use, closed when
        #: the lifespan ends.
        self._app_scoped_values: AppScopedValues | None = None

    @property
    def thread_limiter(self) -> anyio.CapacityLimiter:
        """Bounds the worker threads running sync handlers and dependencies
        (``thread_limiter_tokens``, 40 by default).

        PERF: made on first read, not in ``__init__``: made there inside a running loop
        (uvicorn imports the app there), it loads anyio's asyncio backend (20 modules)
        into every worker. The route compiler reads it only when something runs in a
        thread (``_typed._dependencies.thread_runner``, at the call): an app whose
        handlers are all async saves 2.3-4.3 MiB VmRSS (``benchmarks/memory.py``'s
        worker, 2,000-route and small app).
        """
        limiter = self._thread_limiter
        if limiter is None:
            limiter = self._thread_limiter = anyio.CapacityLimiter(self._thread_limiter_tokens)
        return limiter

    @thread_limiter.setter
    def thread_limiter(self, limiter: anyio.CapacityLimiter) -> None:
        self._thread_limiter = limiter

    @property
    def app_scoped_values(self) -> AppScopedValues:
        """Values of ``Depends(..., scope="app")``: created on first use, closed when
        the lifespan ends. The store is made when first read (its anyio lock loads
        anyio's backend inside a running loop, as ``thread_limiter``)."""
        values = self._app_scoped_values
        if values is None:
            values = self._app_scoped_values = AppScopedValues()
        return values

    async def _close_app_scoped_values(self) -> None:
        """Close the app-scoped values, if a store was ever made."""
        if self._app_scoped_values is not None:
            await self._app_scoped_values.aclose()

    # -- configuration ----------------------------------------------------------------

    @property
    def router(self) -> App:
        """FastAPI's ``app.router``: the app is its own router (``app.router.routes``,
        ``app.router.add_api_route(...)``, ``app.router.include_router(...)``)."""
        return self

    @property
    def debug(self) -> bool:
        """Show tracebacks in 500 answers (the error boundary reads it)."""
        return self._errors.debug

    @debug.setter
    def debug(self, value: bool) -> None:
        for boundary in self._boundaries.values():
            boundary.debug = value

    def http_exception_response(self, exc: HTTPException) -> Response:
        """The app's own answer to ``exc``, without its handlers: problem+json, or
        ``{"detail": ...}`` with ``compat="fastapi"`` (``qakeapi.exception_handlers``)."""
        return self._errors.http_exception(exc)

    def _error_style(self, mode: Compat) -> ErrorStyle | None:
        if mode != "fastapi":
            return None  # qakeapi's: problem+json
        from qake_core._compat import fastapi_error_style

        return fastapi_error_style(self.echo_validation_input)

    def _boundary_of(self, route: APIRoute) -> ErrorBoundary:
        """The error boundary answering ``route``'s errors: the app's, or the one of the
        compat mode its router chose (``_compat``), made once per mode."""
        mode = route_mode(route_meta(route), self.compat)
        boundary = self._boundaries.get(mode)
        if boundary is None:
            boundary = self._errors.restyled(self._error_style(mode))
            self._boundaries[mode] = boundary
        return boundary

    def _check_not_built(self, what: str) -> None:
        if self._stack is not None:
            raise RuntimeError(
                f"cannot {what} after the application has started; do it before serving "
                "(at import time or in a factory)"
            )

    def set_default_headers(
        self,
        headers: Mapping[str, str] | Sequence[tuple[bytes, bytes]] | None,
        documents: Mapping[str, str] | Sequence[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Headers added to every response the app sends, unless the response set them.

        ``documents``, when given, are used instead of ``headers`` for responses a
        browser renders as a document (HTML, XHTML, SVG, XML, or no Content-Type):
        page-only headers (a page's CSP, ``Referrer-Policy``...) need not travel with
        every JSON answer. They are merged when the response starts (no middleware
        layer, no send wrapper), for routes, errors, 404/405 answers and the app's own
        mounted ``StaticFiles``; a foreign ASGI app mounted here does not get them.
        """
        self._check_not_built("set default headers")
        if not headers and not documents:
            self._default_headers = None
            return
        self._default_headers = default_headers_of(headers or (), documents)

    def add_middleware(self, cls: Callable[..., ASGIApp], *args: Any, **kwargs: Any) -> None:
        """Add a pure ASGI middleware; the last one added is the outermost."""
        self._check_not_built("add middleware")
        self.user_middleware.insert(0, Middleware(cls, *args, **kwargs))

    def middleware(self, kind: str = "http") -> Callable[[F], F]:
        """Decorator: ``async def mw(request, call_next) -> Response`` around every HTTP
        route; with ``"websocket"``, ``async def mw(websocket, call_next) -> None``
        around every WebSocket route (see :meth:`add_websocket_hook`)."""
        if kind not in ("http", "websocket"):
            raise ValueError(
                f"middleware kind {kind!r} is not supported; use 'http' or 'websocket'"
            )

        def decorator(func: F) -> F:
            if kind == "http":
                self.add_hook(func)
            else:
                self.add_websocket_hook(func)
            return func

        return decorator

    def add_websocket_hook(self, hook: Callable[..., Any]) -> None:
        """Add ``async def hook(websocket, call_next) -> None`` around every WebSocket
        route, the first added outermost. It runs before the route's dependencies:
        raising ``HTTPException`` before ``await call_next(websocket)`` refuses the
        handshake; code after it runs when the handler has ended."""
        self._check_not_built("add middleware")
        self.websocket_hooks.append(hook)

    def add_hook(self, hook: HookMiddleware) -> None:
        """Add an app-level hook middleware (runs before router- and route-level ones)."""
        self._check_not_built("add middleware")
        self.hooks.append(hook)

    def add_exception_handler(
        self, exc_class_or_status: type[BaseException] | int, handler: ExceptionHandler
    ) -> None:
        """Answer an exception class (and subclasses) or an HTTP status with ``handler``."""
        self.exception_handlers[exc_class_or_status] = handler

    def exception_handler(self, exc_class_or_status: type[BaseException] | int) -> Callable[[F], F]:
        """Decorator form of :meth:`add_exception_handler`."""

        def decorator(func: F) -> F:
            self.add_exception_handler(exc_class_or_status, func)
            return func

        return decorator

    def on_event(self, event: str) -> Callable[[F], F]:
        """Decorator registering a ``"startup"`` or ``"shutdown"`` hook."""
        if event not in ("startup", "shutdown"):
            raise ValueError(f"unknown event {event!r}; use 'startup' or 'shutdown'")

        def decorator(func: F) -> F:
            (self.on_startup if event == "startup" else self.on_shutdown).append(func)
            return func

        return decorator

    # -- build --------------------------------------------------------------------------

    def build(self) -> ASGIApp:
        """Compile every route and the middleware stack (idempotent)."""
        if self._stack is not None:
            return self._stack
        # PERF: the cyclic garbage collector paused while the routes compile: they hold
        # no cycles, and it ran two full collections of the whole process here (the
        # benchmarks' 2,000-route app: build 86-89 -> 36-38 ms CPU; no full collection
        # in the next 1,000 requests, the first request unchanged).
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._compile_routes()
        finally:
            if collecting:
                gc.enable()
        dispatcher = Dispatcher(
            self._tree,
            self._ws_tree,
            self.mounts,
            self.limits,
            self._errors,
            self._run_lifespan,
            self.redirect_slashes,
            self.compat == "fastapi",
        )
        self._dispatcher = dispatcher
        stack: ASGIApp = dispatcher.dispatch
        for mw in reversed(self.user_middleware):
            stack = mw.wrap(stack)
        if self.trusted_proxies:
            stack = ProxyHeadersMiddleware(stack, self.trusted_proxies)
        # Errors escaping edge middleware are answered in __call__ (no extra layer).
        self._no_edge_middleware = stack == dispatcher.dispatch
        # An error qake.error logged is re-raised to the server: it must not log it again.
        silence_server_duplicates()
        self._stack = stack
        return stack

    def _compile_routes(self) -> None:
        for route in self.routes:
            if isinstance(route, APIRoute):
                route.handle = self._compile_route(route)
            elif self.websocket_compiler is not None:
                route.handle = self.websocket_compiler(route, self)
            else:
                raise RuntimeError(
                    f"websocket route {route.path!r}: no WebSocket support is installed; "
                    "use qakeapi.QakeAPI or install qake-ws and set app.websocket_compiler"
                )

    def _compile_route(self, route: APIRoute) -> RouteHandle:
        # NOTE: imported here: the compiler (and pydantic) load with the first route.
        from qake_core._typed._endpoint import compile_route

        compiled = compile_route(route, self)
        errors = self._boundary_of(route)
        hooks = [*self.hooks, *route_middleware(route), *route_option_hooks(route)]
        # The route's default headers: the app's, or merged once with its Deprecation,
        # Sunset and Link (``_deprecation``); the runner is then wrapped to use them.
        app_defaults = self._default_headers
        pairs = route_headers(route)
        own = merged_default_headers(app_defaults, pairs) if pairs else app_defaults
        direct = None if hooks else compiled.direct
        if direct is not None:
            handle = direct_runner(direct, route.limits, errors, own)
            return with_route_headers(handle, app_defaults, own, pairs)
        flat = None if hooks else compiled.flat
        if flat is not None:
            from qake_core._typed._flat_runner import flat_runner

            general = request_runner(flat.general, route.limits, errors)
            handle = flat_runner(flat, general, route.limits, errors, own, self)
            return with_route_headers(handle, app_defaults, own, pairs)
        handle = request_runner(build_hook_chain(compiled.call, hooks), route.limits, errors)
        return with_route_headers(handle, app_defaults, own, pairs)

    def compile_connection(self, route: WebSocketRoute) -> ConnectionPlan:
        """The per-connection plan of a WebSocket route's arguments (for the app's
        ``websocket_compiler``): its parameters and dependencies, compiled once."""
        # NOTE: imported here: the compiler (and pydantic) load with the first route.
        from qake_core._typed._connection import ConnectionPlan

        return ConnectionPlan(route, self)

    # -- ASGI ---------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        # The inspected ``__call__`` attribute is bound to this instance: a copy (or an
        # unpickled app) gets its own in __setstate__, not this one's.
        state = dict(vars(self))
        state.pop("__call__", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state)
        introspect_as_async(self)

    @asgi3
    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        scope["app"] = self
        if self._default_headers is not None:
            scope[DEFAULT_HEADERS_KEY] = self._default_headers
        # PERF: a plain function (``asgi3`` marks it for servers) that returns the
        # route's coroutine: no coroutine of its own, -860 instructions per request in
        # process (callgrind, PYTHONHASHSEED=0: S1 35,193 -> 34,336, S3 65,682 -> 64,832);
        # under edge middleware the plain call comes on top of _call_through_stack's
        # coroutine, which the guard used to share with this one (S6 40,980 -> 41,584).
        if self._no_edge_middleware:
            # PERF: no edge middleware: the route is found and returned right here, as
            # Dispatcher.dispatch (which edge middleware call) would find it: one call
            # fewer, -1,400 instructions per request under callgrind. Keep the two in
            # step; the tests of tests/core/test_dispatch.py run both.
            # PERF: the head passes here when its Host comes first and is one seen valid
            # before (the last new one: one comparison; else a set lookup) and its headers
            # add up to no more than one header may hold (one loop, ~800 instructions a
            # header: the price of the size limits); the dispatcher judges any other head.
            dispatcher = self._dispatcher
            if scope["type"] == "http":
                headers = scope["headers"]
                if headers and len(headers) <= dispatcher.max_headers:
                    first = headers[0]
                    host = first[1]
                    if first[0] == b"host" and (
                        host == dispatcher.last_host or host in KNOWN_HOSTS
                    ):
                        # The request-target counts too (414 above its limit), and a
                        # second Host or a Transfer-Encoding sends the head to be judged.
                        # PERF: +1,450 instructions per request in-process (S2, three
                        # headers, PYTHONHASHSEED=0 under callgrind: 28,958 -> 30,406; the
                        # target ~590, the names ~860): the price of RFC 9112's MUSTs.
                        # The request-target as received (target_problem's measure).
                        raw = scope.get("raw_path")
                        size = len(raw or b"") + len(scope["query_string"])
                        named = 0
                        for name, value in headers:
                            # PERF: the names' lengths first (4: host, 17: transfer-encoding): an
                            # int comparison is specialised, a bytes one is not (~360 instructions
                            # a header for the two bytes comparisons alone).
                            length = len(name)
                            size += length + len(value)
                            if (length == 4 or length == 17) and (
                                name == b"host" or name == b"transfer-encoding"
                            ):
                                named += 1
                        if (
                            size <= dispatcher.quick_header_bytes
                            and named == 1
                            and raw is not None
                            and not scope.get("root_path")
                        ):
                            entry = dispatcher.static.get(raw)
                            if entry is not None and scope["method"] in entry[2]:
                                return entry[0](scope, receive, send, entry[1])  # type: ignore[no-any-return]
                            try:
                                route, params = dispatcher.tree.lookup(
                                    scope["method"], raw.decode("latin-1")
                                )
                            except LookupError as exc:
                                return dispatcher.no_route(scope, receive, send, exc)
                            return route.handler.handle(scope, receive, send, params)  # type: ignore[no-any-return]
            return dispatcher.dispatch(scope, receive, send)
        return self._call_through_stack(scope, receive, send)

    async def _call_through_stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Before the build (the lifespan, or a first request without one) or under edge
        middleware: run the stack; an error escaping it goes to the error boundary."""
        stack = self._stack
        if stack is None:
            if scope["type"] == "lifespan":
                # Build inside the lifespan protocol so a bad route is reported as a
                # startup failure (the server exits) instead of "lifespan unsupported".
                await self._run_lifespan(scope, receive, send, before_startup=self.build)
                return
            stack = self.build()
        if scope["type"] != "http":
            await stack(scope, receive, send)
            return
        try:
            await stack(scope, receive, send)
        except Exception as exc:
            # An edge middleware raised: answer 500 unless a response began.
            await self._errors.answer_escaped(exc, scope, receive, send)
            raise

    async def _run_lifespan(
        self, scope: Scope, receive: Receive, send: Send, before_startup: Any = None
    ) -> None:
        # The app-scoped dependency values close last, after the shutdown hooks (the
        # list is read when the lifespan ends: a hook added at startup runs too).
        on_shutdown = itertools.chain(self.on_shutdown, (self._close_app_scoped_values,))
        lifespan = combine(self.lifespan_context, self.on_startup, on_shutdown)
        lifespan = draining(lifespan, self.inflight, self.shutdown_timeout)
        await run_lifespan(self, lifespan, scope, receive, send, before_startup=before_startup)
