"""``AccessLogMiddleware``: one structured log record per HTTP request."""

from __future__ import annotations

import logging
import time

from qake_core._request_id import SCOPE_KEY, request_id_var
from qake_core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLogMiddleware"]


class AccessLogMiddleware:
    """Log ``method path status duration`` to ``qake.access`` at INFO after each request.

    The record carries structured fields for JSON formatters: ``http_method``,
    ``http_path``, ``http_status``, ``duration_ms``, ``client``, ``request_id``.
    A request that failed before the response started is logged with status 500.
    When the logger is disabled for INFO the middleware is a pass-through.
    """

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger("qake.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        logger = self.logger
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            ms = (time.perf_counter() - started) * 1000
            client = scope.get("client")
            method, path = scope.get("method"), scope.get("path")
            logger.info(
                "%s %s %d %.1fms",
                method,
                path,
                status,
                ms,
                extra={
                    "http_method": method,
                    "http_path": path,
                    "http_status": status,
                    "duration_ms": round(ms, 3),
                    "client": f"{client[0]}:{client[1]}" if client else None,
                    # The scope's ID first: this middleware may wrap RequestIDMiddleware,
                    # whose context variable is reset by now.
                    "request_id": scope.get(SCOPE_KEY) or request_id_var.get(),
                },
            )
