"""qake-core: the ASGI application, requests, responses, middleware and typed handlers.

The names an app's requests need (the application, routing, requests, responses,
parameters, dependencies) are imported with the package; the optional features' (access
log, response cache and stores, files, gzip, metrics, health, static files, templates,
server-sent events, the Redis store...) load with the first read of one of their names
(PEP 562), so that a worker that does not use them does not hold their code.
PERF: ``import qakeapi`` after uvicorn, pydantic, orjson and anyio, tracemalloc:
2,378 -> 1,916 KiB, 109 -> 91 modules (with qakeapi's own names made lazy the same way).
"""

import typing as _typing
from importlib import import_module as _import_module

from qake_core._app import App, ExceptionHandler
from qake_core._background import BackgroundTasks
from qake_core._concurrency import iterate_in_threadpool, run_in_threadpool
from qake_core._cookies import format_set_cookie, parse_cookie_header
from qake_core._datastructures import (
    URL,
    Address,
    Headers,
    MultiDict,
    MutableHeaders,
    QueryParams,
    State,
)
from qake_core._default_headers import (
    DEFAULT_HEADERS_KEY,
    DefaultHeaders,
    default_headers_of,
    is_document,
    merge_default_headers,
)
from qake_core._depends import Depends, Security, SecurityScopes
from qake_core._deprecation import Lifecycle, lifecycle_headers
from qake_core._errors import response_for_http_exception
from qake_core._exceptions import (
    HandlerSignatureError,
    HTTPException,
    RequestValidationError,
    ResponseValidationError,
    WebSocketRequestValidationError,
)
from qake_core._forms import FormData
from qake_core._limits import Limits
from qake_core._middleware import CallNext, HookMiddleware, Middleware
from qake_core._negotiation import accepts, negotiate
from qake_core._params import Body, Cookie, File, Form, Header, Param, Path, Query
from qake_core._proxy_headers import ProxyHeadersMiddleware
from qake_core._requests import ClientDisconnect, HTTPConnection, Request
from qake_core._responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from qake_core._routing import APIRoute, Mount, Router, WebSocketRoute
from qake_core._typed._specs import (
    BodySpec,
    CallSpec,
    DependencySpec,
    ParamSpec,
    ResponseSpec,
    RouteSpec,
)
from qake_core._upload import UploadFile

if _typing.TYPE_CHECKING:
    from qake_core._access_log import AccessLogMiddleware
    from qake_core._cache import CacheOptions, cache
    from qake_core._file_response import FileResponse
    from qake_core._gzip import GZipMiddleware
    from qake_core._health import Health, HealthCheck, begin_draining
    from qake_core._json_log import JSONFormatter
    from qake_core._metrics import MetricsMiddleware, add_metrics_route, metrics_app
    from qake_core._multipart_reader import MultipartPart, MultipartReader
    from qake_core._otel import otel_span_details
    from qake_core._problem import PROBLEM_JSON, problem_response
    from qake_core._redirects import is_safe_redirect
    from qake_core._redis_store import RedisStore
    from qake_core._request_id import RequestIDFilter, RequestIDMiddleware, request_id_var
    from qake_core._scope import matched_route, route_path, route_template
    from qake_core._server_errors import ServerErrorMiddleware
    from qake_core._sse import EventSourceResponse, ServerSentEvent, end_event_streams
    from qake_core._staticfiles import StaticFiles
    from qake_core._stores import GCRAResult, MemoryStore, Store
    from qake_core._templates import Jinja2Templates
    from qake_core._trusted_host import TrustedHostMiddleware
    from qake_core._ws_denial import DENIAL_EXTENSION, deny_websocket, send_denial

#: Public name -> the module that defines it (imported on first access).
_LAZY: dict[str, str] = {
    "AccessLogMiddleware": "qake_core._access_log",
    "CacheOptions": "qake_core._cache",
    "cache": "qake_core._cache",
    "FileResponse": "qake_core._file_response",
    "GZipMiddleware": "qake_core._gzip",
    "Health": "qake_core._health",
    "HealthCheck": "qake_core._health",
    "begin_draining": "qake_core._health",
    "JSONFormatter": "qake_core._json_log",
    "MetricsMiddleware": "qake_core._metrics",
    "add_metrics_route": "qake_core._metrics",
    "metrics_app": "qake_core._metrics",
    "MultipartPart": "qake_core._multipart_reader",
    "MultipartReader": "qake_core._multipart_reader",
    "otel_span_details": "qake_core._otel",
    "PROBLEM_JSON": "qake_core._problem",
    "problem_response": "qake_core._problem",
    "is_safe_redirect": "qake_core._redirects",
    "RedisStore": "qake_core._redis_store",
    "RequestIDFilter": "qake_core._request_id",
    "RequestIDMiddleware": "qake_core._request_id",
    "request_id_var": "qake_core._request_id",
    "matched_route": "qake_core._scope",
    "route_path": "qake_core._scope",
    "route_template": "qake_core._scope",
    "ServerErrorMiddleware": "qake_core._server_errors",
    "EventSourceResponse": "qake_core._sse",
    "ServerSentEvent": "qake_core._sse",
    "end_event_streams": "qake_core._sse",
    "StaticFiles": "qake_core._staticfiles",
    "GCRAResult": "qake_core._stores",
    "MemoryStore": "qake_core._stores",
    "Store": "qake_core._stores",
    "Jinja2Templates": "qake_core._templates",
    "TrustedHostMiddleware": "qake_core._trusted_host",
    "DENIAL_EXTENSION": "qake_core._ws_denial",
    "deny_websocket": "qake_core._ws_denial",
    "send_denial": "qake_core._ws_denial",
}

__all__ = [
    "DEFAULT_HEADERS_KEY",
    "DENIAL_EXTENSION",
    "PROBLEM_JSON",
    "URL",
    "APIRoute",
    "AccessLogMiddleware",
    "Address",
    "App",
    "BackgroundTasks",
    "Body",
    "BodySpec",
    "CacheOptions",
    "CallNext",
    "CallSpec",
    "ClientDisconnect",
    "Cookie",
    "DefaultHeaders",
    "DependencySpec",
    "Depends",
    "EventSourceResponse",
    "ExceptionHandler",
    "File",
    "FileResponse",
    "Form",
    "FormData",
    "GCRAResult",
    "GZipMiddleware",
    "HTMLResponse",
    "HTTPConnection",
    "HTTPException",
    "HandlerSignatureError",
    "Header",
    "Headers",
    "Health",
    "HealthCheck",
    "HookMiddleware",
    "JSONFormatter",
    "JSONResponse",
    "Jinja2Templates",
    "Lifecycle",
    "Limits",
    "MemoryStore",
    "MetricsMiddleware",
    "Middleware",
    "Mount",
    "MultiDict",
    "MultipartPart",
    "MultipartReader",
    "MutableHeaders",
    "Param",
    "ParamSpec",
    "Path",
    "PlainTextResponse",
    "ProxyHeadersMiddleware",
    "Query",
    "QueryParams",
    "RedirectResponse",
    "RedisStore",
    "Request",
    "RequestIDFilter",
    "RequestIDMiddleware",
    "RequestValidationError",
    "Response",
    "ResponseSpec",
    "ResponseValidationError",
    "RouteSpec",
    "Router",
    "Security",
    "SecurityScopes",
    "ServerErrorMiddleware",
    "ServerSentEvent",
    "State",
    "StaticFiles",
    "Store",
    "StreamingResponse",
    "TrustedHostMiddleware",
    "UploadFile",
    "WebSocketRequestValidationError",
    "WebSocketRoute",
    "accepts",
    "add_metrics_route",
    "begin_draining",
    "cache",
    "default_headers_of",
    "deny_websocket",
    "end_event_streams",
    "format_set_cookie",
    "is_document",
    "is_safe_redirect",
    "iterate_in_threadpool",
    "lifecycle_headers",
    "matched_route",
    "merge_default_headers",
    "metrics_app",
    "negotiate",
    "otel_span_details",
    "parse_cookie_header",
    "problem_response",
    "request_id_var",
    "response_for_http_exception",
    "route_path",
    "route_template",
    "run_in_threadpool",
    "send_denial",
]


def __getattr__(name: str) -> _typing.Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'qake_core' has no attribute {name!r}")
    module = _import_module(module_name)
    # Every name of that module at once: the next reads are plain module attributes.
    names = globals()
    for other, where in _LAZY.items():
        if where == module_name:
            names[other] = getattr(module, other)
    return names[name]


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
