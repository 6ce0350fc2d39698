"""The outermost middleware: any unhandled exception becomes a 500, never a traceback."""

from __future__ import annotations

import html
import logging
import traceback

from qake_core._problem import problem_response
from qake_core._responses import HTMLResponse, Response
from qake_core.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "RESPONSE_STARTED",
    "ServerErrorMiddleware",
    "error_response",
    "log_unhandled",
    "silence_server_duplicates",
]

#: Scope key set once a response (or the 500 for an error) has been sent.
RESPONSE_STARTED = "qake.response_started"

logger = logging.getLogger("qake.error")

#: Attribute set on an exception once ``qake.error`` has logged it.
_LOGGED = "__qake_logged__"

#: Loggers through which servers report an exception that escaped the app (uvicorn's).
SERVER_ERROR_LOGGERS = ("uvicorn.error",)


def log_unhandled(exc: BaseException, message: str, *args: object) -> None:
    """Log ``exc`` once on ``qake.error`` and mark it, so that a server which sees it
    escape the app (it is re-raised, to close the connection or reach the test client)
    does not log it a second time (see :func:`silence_server_duplicates`)."""
    logger.error(message, *args, exc_info=exc)
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


class ServerErrorMiddleware:
    """Answer 500 (problem+json) when the app raises before it started a response.

    The exception is logged with its traceback and re-raised so the server sees it
    too. With ``debug=True`` the response shows the traceback (HTML for browsers).
    If the response had already started, nothing more is sent: the server closes
    the connection.
    """

    def __init__(self, app: ASGIApp, debug: bool = False) -> None:
        self.app = app
        self.debug = debug
        silence_server_duplicates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # PERF: no send wrapper to track "response started"; on error we try to send
        # the 500 and swallow the server's refusal if a response had already begun.
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            log_unhandled(exc, "unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if scope.get(RESPONSE_STARTED):
                raise  # the runner saw the response begin: never send a second one
            try:
                await error_response(exc, scope, self.debug)(scope, receive, send)
            except Exception:
                pass
            raise


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
        return HTMLResponse(
            f"<h1>500 Internal Server Error</h1><pre>{html.escape(text)}</pre>", status_code=500
        )
    return problem_response(500, text)
