"""Prometheus metrics (prometheus-client, the ``metrics`` extra): ``MetricsMiddleware``
counts and times requests by route template; ``add_metrics_route`` and ``metrics_app``
serve the exposition, merged across worker processes in multiprocess mode."""

from __future__ import annotations

import importlib
import os
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import anyio.to_thread

from qake_core._datastructures import Headers
from qake_core._requests import Request
from qake_core._responses import Response
from qake_core._scope import route_template
from qake_core.types import ASGIApp, Message, Receive, Scope, Send
from qake_routing._route import HTTP_METHODS

__all__ = ["UNMATCHED", "MetricsMiddleware", "add_metrics_route", "metrics_app"]

#: The ``route`` label of a request no route of the app matched (a 404, a 405, a path
#: served by a mounted app): raw paths, which clients choose, never become labels.
UNMATCHED = "<unmatched>"
#: The ``method`` label of a method qake-routing does not know: bounded too.
OTHER_METHOD = "<other>"
_EXTRA = "qake-core[metrics]"
_MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _prometheus(what: str) -> Any:
    """prometheus_client, imported on first use (qake-core imports without it)."""
    try:
        return importlib.import_module("prometheus_client")
    except ImportError as exc:
        raise RuntimeError(
            f"{what} needs prometheus-client, which is not installed: pip install '{_EXTRA}'"
        ) from exc


def _check_multiprocess_dir() -> None:
    folder = os.environ.get(_MULTIPROC_ENV)
    if folder is not None and not os.path.isdir(folder):
        raise RuntimeError(
            f"{_MULTIPROC_ENV}={folder!r} is not a directory: create it (empty) before the "
            "server starts its workers, or unset it for single-process metrics"
        )


class _Instruments:
    """One app's metrics in one registry, created once (prometheus-client refuses the
    same name twice in a registry), with the labelled children cached per label set."""

    def __init__(
        self, prometheus: Any, registry: Any, namespace: str, buckets: Sequence[float]
    ) -> None:
        options = {"namespace": namespace, "registry": registry}
        self.requests = prometheus.Counter(
            "http_requests",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            **options,
        )
        self.duration = prometheus.Histogram(
            "http_request_duration_seconds",
            "Seconds from the request's arrival at the app to its last response byte, "
            "by method, route template and status.",
            ("method", "route", "status"),
            buckets=tuple(buckets),
            **options,
        )
        # livesum: in multiprocess mode, the sum over the worker processes alive.
        self.in_flight = prometheus.Gauge(
            "http_requests_in_flight",
            "HTTP requests being answered.",
            multiprocess_mode="livesum",
            **options,
        )
        self.websockets = prometheus.Gauge(
            "websocket_connections",
            "Open (accepted) WebSocket connections, by route template.",
            ("route",),
            multiprocess_mode="livesum",
            **options,
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        #: Multiprocess mode: the in-flight gauge is written to this process's file.
        #: PERF: otherwise it reads a plain count when scraped (no lock per request).
        self.shared = bool(os.environ.get(_MULTIPROC_ENV))
        self.in_flight_count = 0
        if not self.shared:
            self.in_flight.set_function(lambda: self.in_flight_count)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = self._children[key] = (
                self.requests.labels(*labels),
                self.duration.labels(*labels),
            )
        children[0].inc()
        children[1].observe(seconds)


#: Per registry (weakly: a test's registry goes with it), per namespace and buckets.
_INSTRUMENTS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], _Instruments]] = (
    weakref.WeakKeyDictionary()
)

#: prometheus-client's default buckets, from 5 ms to 10 s.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


def _instruments(registry: Any, namespace: str, buckets: Sequence[float]) -> _Instruments:
    prometheus = _prometheus("MetricsMiddleware")
    _check_multiprocess_dir()
    if registry is None:
        registry = prometheus.REGISTRY
    per_registry = _INSTRUMENTS.setdefault(registry, {})
    key = (namespace, tuple(buckets))
    found = per_registry.get(key)
    if found is None:
        if per_registry:
            raise ValueError(
                "MetricsMiddleware: this registry already holds the metrics with other "
                "options (namespace, buckets); give each set of options its own registry"
            )
        found = per_registry[key] = _Instruments(prometheus, registry, namespace, buckets)
    return found


def route_label(scope: Scope) -> str:
    """The ``route`` label of a request: its route's template, or :data:`UNMATCHED`."""
    return route_template(scope) or UNMATCHED


class MetricsMiddleware:
    """Prometheus metrics of every request and WebSocket connection:
    ``app.add_middleware(MetricsMiddleware)``, then :func:`add_metrics_route` (or
    :func:`metrics_app`) to serve them.

    - ``http_requests_total{method, route, status}``
    - ``http_request_duration_seconds{method, route, status}`` (a histogram)
    - ``http_requests_in_flight``
    - ``websocket_connections{route}``

    ``route`` is the template of the route that served the request
    (``/items/{item_id:int}``), ``<unmatched>`` when none did (404, 405, a mounted
    app's path); ``method`` is ``<other>`` for a method qake-routing does not know: a
    client cannot grow the label sets. A request that fails before its response starts
    counts as a 500. ``namespace`` prefixes the names (``shop_http_requests_total``).

    The metrics are made once per registry (prometheus-client's default one unless
    ``registry`` is given): several apps in one process share them. With
    ``PROMETHEUS_MULTIPROC_DIR`` set (to an empty directory, before the workers start)
    every worker process writes its own files there and the exposition merges them.
    Needs the ``qake-core[metrics]`` extra: without it the app fails to start, saying so.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        registry: Any = None,
        namespace: str = "",
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        self.app = app
        self.instruments = _instruments(registry, namespace, buckets)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        instruments = self.instruments
        shared = instruments.shared
        if shared:
            instruments.in_flight.inc()
        else:
            instruments.in_flight_count += 1
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            if shared:
                instruments.in_flight.dec()
            else:
                instruments.in_flight_count -= 1
            method = scope["method"]
            if method not in HTTP_METHODS:
                method = OTHER_METHOD
            instruments.observe(method, route_label(scope), status, seconds)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        gauge: Any = None

        async def send_counted(message: Message) -> None:
            nonlocal gauge
            if message["type"] == "websocket.accept" and gauge is None:
                gauge = self.instruments.websockets.labels(route_label(scope))
                gauge.inc()
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            if gauge is not None:
                gauge.dec()


def _exposition_registry(registry: Any) -> Any:
    prometheus = _prometheus("the metrics endpoint")
    if registry is not None:
        return registry
    if os.environ.get(_MULTIPROC_ENV):
        # Every worker's files, merged: a fresh registry per scrape, as prometheus-client
        # prescribes (the default one holds only this process's values).
        merged = prometheus.CollectorRegistry()
        importlib.import_module("prometheus_client.multiprocess").MultiProcessCollector(merged)
        return merged
    return prometheus.REGISTRY


async def _exposition(registry: Any, accept: str | None) -> tuple[bytes, str]:
    """The metrics in the format ``accept`` asks for (Prometheus text by default,
    OpenMetrics when asked), generated in a worker thread (multiprocess mode reads
    every worker's files)."""
    exposition = importlib.import_module("prometheus_client.exposition")
    encoder, content_type = exposition.choose_encoder(accept or "")

    def generate() -> bytes:
        body: bytes = encoder(_exposition_registry(registry))
        return body

    return await anyio.to_thread.run_sync(generate), content_type


def add_metrics_route(
    app: Any, path: str = "/metrics", *, registry: Any = None, name: str = "metrics"
) -> None:
    """Serve the metrics at ``GET path`` on ``app`` (a qake-core ``App`` or router),
    left out of the OpenAPI document. ``registry``: the one :class:`MetricsMiddleware`
    was given, if any. Protect it as any operator endpoint (a separate port with
    :func:`metrics_app`, a network policy, or ``dependencies=`` on a router)."""
    _prometheus("add_metrics_route")

    async def metrics(request: Request) -> Response:
        body, content_type = await _exposition(registry, request.headers.get("accept"))
        return Response(body, media_type=content_type)

    app.add_api_route(path, metrics, methods=["GET"], name=name, include_in_schema=False)


def metrics_app(registry: Any = None) -> Callable[[Scope, Receive, Send], Any]:
    """The metrics as an ASGI app of its own: to mount (``app.mount("/metrics",
    metrics_app())``) or to serve on a private port. Any path, ``GET`` and ``HEAD``."""
    _prometheus("metrics_app")

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # served alone: nothing to start or stop
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):
            response = Response(b"", status_code=405, headers={"allow": "GET, HEAD"})
        else:
            accept = Headers(scope=scope).get("accept")
            body, content_type = await _exposition(registry, accept)
            response = Response(body, media_type=content_type)
        await response(scope, receive, send)

    return serve
