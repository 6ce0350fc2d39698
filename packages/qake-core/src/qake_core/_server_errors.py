"""The outermost middleware: any unhandled exception becomes a 500, never a traceback."""

from __future__ import annotations

from qake_core._errors import ErrorBoundary, silence_server_duplicates
from qake_core.types import ASGIApp, Receive, Scope, Send

__all__ = ["ServerErrorMiddleware"]


class ServerErrorMiddleware:
    """Answer 500 (problem+json) when the app raises before it started a response.

    The exception is logged with its traceback and re-raised so the server sees it
    too. With ``debug=True`` the response shows the traceback (HTML for browsers).
    If the response had already started, nothing more is sent: the server closes
    the connection. The answer is the error boundary's (``_errors``), the same the
    app gives an error escaping its own edge middleware.
    """

    def __init__(self, app: ASGIApp, debug: bool = False) -> None:
        self.app = app
        self.boundary = ErrorBoundary({}, debug)
        silence_server_duplicates()

    @property
    def debug(self) -> bool:
        return self.boundary.debug

    @debug.setter
    def debug(self, value: bool) -> None:
        self.boundary.debug = value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # PERF: no send wrapper to track "response started"; on error we try to send
        # the 500 and swallow the server's refusal if a response had already begun.
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            await self.boundary.answer_escaped(exc, scope, receive, send)
            raise
