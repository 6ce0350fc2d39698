"""qake-core: the ASGI application, requests, responses, middleware and typed handlers."""

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
from qake_core._exceptions import HTTPException, RequestValidationError
from qake_core._forms import FormData
from qake_core._handler import HandlerSignatureError
from qake_core._limits import Limits
from qake_core._middleware import CallNext, HookMiddleware, Middleware
from qake_core._problem import PROBLEM_JSON, problem_response
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
from qake_core._scope import route_path

__all__ = [
    "PROBLEM_JSON",
    "URL",
    "APIRoute",
    "Address",
    "App",
    "BackgroundTasks",
    "CallNext",
    "ClientDisconnect",
    "ExceptionHandler",
    "FormData",
    "HTMLResponse",
    "HTTPConnection",
    "HTTPException",
    "HandlerSignatureError",
    "Headers",
    "HookMiddleware",
    "JSONResponse",
    "Limits",
    "Middleware",
    "Mount",
    "MultiDict",
    "MutableHeaders",
    "PlainTextResponse",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "RequestValidationError",
    "Response",
    "Router",
    "State",
    "StreamingResponse",
    "WebSocketRoute",
    "format_set_cookie",
    "iterate_in_threadpool",
    "parse_cookie_header",
    "problem_response",
    "route_path",
    "run_in_threadpool",
]
