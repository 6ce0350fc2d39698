"""``otel_span_details``: OpenTelemetry's ASGI middleware names a request's span after
its route template (its ``default_span_details`` hook; no OpenTelemetry import here)."""

from __future__ import annotations

from qake_core._scope import route_template
from qake_core.types import Scope
from qake_routing._route import HTTP_METHODS

__all__ = ["otel_span_details"]


def otel_span_details(scope: Scope) -> tuple[str, dict[str, str]]:
    """The span name and attributes of a request, for ``opentelemetry-instrumentation-asgi``:
    ``app.add_middleware(OpenTelemetryMiddleware, default_span_details=otel_span_details)``.

    An HTTP request's span is ``"GET /items/{item_id:int}"`` with the attribute
    ``http.route`` (the template, after the ``root_path``), as OpenTelemetry's semantic
    conventions name server spans; a WebSocket connection's is the template alone.
    When no route matches (a 404 or 405, a mounted app's path) the name is the method
    alone (``"HTTP"`` for an unknown one) or ``"websocket"``: never the raw path, which
    a client chooses. The route is known once the app has put itself in the scope: add
    the middleware with ``app.add_middleware`` (wrapping the app from outside gives
    every span the method's name alone).
    """
    template = route_template(scope)
    if scope["type"] == "websocket":
        if template is None:
            return "websocket", {}
        return template, {"http.route": template}
    method = scope.get("method", "")
    if method not in HTTP_METHODS:
        method = "HTTP"
    if template is None:
        return method, {}
    return f"{method} {template}", {"http.route": template}
