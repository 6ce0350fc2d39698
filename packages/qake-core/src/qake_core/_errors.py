"""The error boundary: how an exception becomes a response, in one place.

A route's runner, the app's 404/405 answers, the app's ``__call__`` (errors escaping
edge middleware) and :class:`~qake_core.ServerErrorMiddleware` all answer errors here:
the app's handlers (by HTTP status, then by class along the MRO), ``HTTPException``'s
problem+json, a client that went away (499, never logged), the generic 500, and the
rules that an error is logged once and that a started response is never followed by
a second one.
"""

from __future__ import annotations

import inspect
import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import anyio

from qake_core._exceptions import HTTPException
from qake_core._messages import BODYLESS_STATUSES
from qake_core._problem import problem_response
from qake_core._requests import ClientDisconnect, Request
from qake_core._responses import HTMLResponse, Response
from qake_core.types import Receive, Scope, Send

if TYPE_CHECKING:
    from qake_core._inflight import InFlight

__all__ = [
    "RESPONSE_STARTED",
    "ErrorBoundary",
    "ErrorStyle",
    "ExceptionHandler",
    "error_response",
    "log_unhandled",
    "response_for_http_exception",
    "sending_failed",
    "silence_server_duplicates",
]

ExceptionHandler = Callable[[Request, Any], Response | Awaitable[Response]]


class ErrorStyle(NamedTuple):
    """How an error boundary writes the answers it makes itself: an ``HTTPException``'s
    (``RequestValidationError`` included) and the generic 500's. ``None`` for either:
    qakeapi's own (problem+json)."""

    http_exception: Callable[[HTTPException], Response] | None
    server_error: Callable[[BaseException, Scope, bool], Response] | None


#: Scope key set once a response (or the 500 for an error) has been sent.
RESPONSE_STARTED = "qake.response_started"

logger = logging.getLogger("qake.error")

#: Attribute set on an exception once ``qake.error`` has logged it.
_LOGGED = "__qake_logged__"

#: Loggers through which servers report an exception that escaped the app (uvicorn's).
SERVER_ERROR_LOGGERS = ("uvicorn.error",)


# -- one log record per error ---------------------------------------------------------


def log_unhandled(exc: BaseException, message: str, *args: object) -> None:
    """Log ``exc`` once on ``qake.error`` and mark it, so that a server which sees it
    escape the app (it is re-raised, to close the connection or reach the test client)
    does not log it a second time (see :func:`silence_server_duplicates`)."""
    logger.error(message, *args, exc_info=exc)
    _mark_logged(exc)


def _mark_logged(exc: BaseException) -> None:
    try:
        setattr(exc, _LOGGED, True)
    except AttributeError:  # pragma: no cover - an exception type without __dict__
        pass


def _already_logged(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_already_logged(inner) for inner in exc.exceptions)
    return bool(getattr(exc, _LOGGED, False))


class _DropLoggedErrors(logging.Filter):
    """Drop a server's record of an exception that ``qake.error`` already logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = record.exc_info
        return not (info and info[1] is not None and _already_logged(info[1]))


def silence_server_duplicates() -> None:
    """Install, once per process, the filter that keeps uvicorn from logging again an
    error qakeapi logged (with its request ID) before re-raising it."""
    for name in SERVER_ERROR_LOGGERS:
        server_logger = logging.getLogger(name)
        if not any(isinstance(f, _DropLoggedErrors) for f in server_logger.filters):
            server_logger.addFilter(_DropLoggedErrors())


def sending_failed(scope: Scope, exc: BaseException) -> None:
    """Log a failure while sending; the response may have started, so the server must
    close the connection (the caller re-raises) and nothing may send a second response."""
    scope[RESPONSE_STARTED] = True
    if isinstance(exc, _CLIENT_GONE):
        # The connection broke under the write: the client left, nothing to fix here
        # (one line at INFO, as servers log a reset connection; no traceback).
        logger.info(
            "the client went away while the response to %s %s was sent (%s)",
            scope["method"],
            scope["path"],
            type(exc).__name__,
        )
        _mark_logged(exc)  # re-raised to close the connection: the server stays quiet too
        return
    log_unhandled(exc, "error while sending the response to %s %s", scope["method"], scope["path"])


#: What a send raises when the connection is gone: a reset or broken pipe (OSError,
#: uvicorn's ClientDisconnected among them) or anyio's closed stream.
_CLIENT_GONE = (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError)


# -- the responses --------------------------------------------------------------------


def response_for_http_exception(exc: HTTPException, instance: str | None = None) -> Response:
    """The problem+json response that answers ``exc``."""
    if exc.status_code in BODYLESS_STATUSES:
        return Response(b"", status_code=exc.status_code, headers=exc.headers)
    return problem_response(
        exc.status_code,
        exc.detail,
        title=exc.title,
        type=exc.type,
        instance=instance,
        headers=exc.headers,
        extra=exc.extra,
    )


def error_response(exc: BaseException, scope: Scope, debug: bool) -> Response:
    """The 500 response for ``exc``: a generic problem, or the traceback when debugging."""
    if not debug:
        return problem_response(500, "The server failed to handle the request.")
    text = "".join(traceback.format_exception(exc))
    accept = b""
    for k, v in scope["headers"]:
        if k == b"accept":
            accept = v
    if b"text/html" in accept:
        # PERF: imported here, on this debug-only path: ``html`` loads ``html.entities``
        # (with difflib, made lazy likewise: -376 KiB VmRSS for ``import qakeapi``).
        import html

        return HTMLResponse(
            f"<h1>500 Internal Server Error</h1><pre>{html.escape(text)}</pre>", status_code=500
        )
    return problem_response(500, text)


# -- the boundary ---------------------------------------------------------------------


class ErrorBoundary:
    """Turns an exception into the response that answers it, and sends responses the
    runners do not send inline. Built by the app with its handlers (the same dict, so a
    handler added later is seen), its ``debug`` flag and its in-flight counter."""

    __slots__ = ("bound", "debug", "handlers", "http_exception", "inflight", "server_error")

    def __init__(
        self,
        handlers: Mapping[type[BaseException] | int, ExceptionHandler],
        debug: bool = False,
        inflight: InFlight | None = None,
        style: ErrorStyle | None = None,
    ) -> None:
        self.handlers = handlers
        self.debug = debug
        self.inflight = inflight
        #: How an ``HTTPException`` and an unhandled error are written: problem+json,
        #: or another style (``_compat``: FastAPI's), chosen when the app is built.
        self.http_exception: Callable[[HTTPException], Response] = response_for_http_exception
        self.server_error: Callable[[BaseException, Scope, bool], Response] = error_response
        if style is not None:
            if style.http_exception is not None:
                self.http_exception = style.http_exception
            if style.server_error is not None:
                self.server_error = style.server_error
        #: ``(answer, respond)`` bound once for every runner of the app's routes.
        #: PERF: two bound methods per route fewer (64 bytes each): -250 KiB
        #: (tracemalloc) for the benchmarks' 2,000-route app.
        self.bound = (self.answer, self.respond)

    def restyled(self, style: ErrorStyle | None) -> ErrorBoundary:
        """A boundary like this one (the same handlers dict and in-flight counter) that
        writes its own answers in ``style``."""
        return ErrorBoundary(self.handlers, self.debug, self.inflight, style)

    async def response_for(self, request: Request, exc: Exception) -> Response | None:
        """The handled answer to ``exc``: a registered handler's, an ``HTTPException``'s
        problem, or 499 for a client that went away; ``None`` when nothing handles it."""
        handlers = self.handlers
        handler: ExceptionHandler | None = None
        if handlers:
            if isinstance(exc, HTTPException):
                handler = handlers.get(exc.status_code)
            if handler is None:
                for cls in type(exc).__mro__:
                    handler = handlers.get(cls)
                    if handler is not None:
                        break
        if handler is not None:
            result = handler(request, exc)
            if inspect.isawaitable(result):
                result = await result
            return result
        if isinstance(exc, HTTPException):
            return self.http_exception(exc)
        if isinstance(exc, ClientDisconnect):
            return Response(b"", status_code=499)
        return None

    async def answer(self, request: Request, exc: Exception) -> None:
        """Answer ``exc`` raised while handling ``request``; an unhandled one is logged,
        answered 500 and re-raised (the server closes the connection)."""
        scope, receive, send = request.scope, request._receive, request._send
        unhandled = False
        try:
            response = await self.response_for(request, exc)
            if response is None:
                unhandled = True
                log_unhandled(
                    exc, "unhandled error in %s %s", scope.get("method"), scope.get("path")
                )
                response = self.server_error(exc, scope, self.debug)
                scope[RESPONSE_STARTED] = True  # the app's __call__ must not answer it again
            await response(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await request.close(exc)
        if unhandled:
            raise exc

    async def answer_escaped(
        self, exc: Exception, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """An error escaped the app (or an edge middleware) and the caller re-raises it:
        log it and answer 500, unless a response began (then it was logged where it began
        and nothing more may be sent: the server closes the connection)."""
        if scope.get(RESPONSE_STARTED):
            return
        log_unhandled(exc, "unhandled error in %s %s", scope.get("method"), scope.get("path"))
        scope[RESPONSE_STARTED] = True
        try:
            await self.server_error(exc, scope, self.debug)(scope, receive, send)
        except Exception:
            pass  # the server refused it: a response had begun after all

    async def respond(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        """Send any response; with background tasks, shutdown waits for them."""
        inflight = self.inflight
        if response.background is None or inflight is None:
            try:
                await response(scope, receive, send)
            except Exception as exc:
                sending_failed(scope, exc)
                raise
            return
        inflight.enter()
        try:
            await response(scope, receive, send)
        except Exception as exc:
            sending_failed(scope, exc)
            raise
        finally:
            inflight.exit()
