"""``AccessLogMiddleware``: one structured log record per HTTP request, and per
WebSocket connection one when it is accepted (or refused) and one when it closes."""

from __future__ import annotations

import logging
import time

from qake_core._request_id import SCOPE_KEY, request_id_var
from qake_core._scope import route_template
from qake_core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLogMiddleware"]

_LINE = "%s %s %d %.1fms"
#: A response that started and never ended (the app failed mid-body, the client left):
#: its status line went out, its body did not.
_CUT = "%s %s %d %.1fms, cut off"


class AccessLogMiddleware:
    """Log ``method path status duration`` to ``qake.access`` at INFO after each request.

    The record carries structured fields for JSON formatters (:class:`JSONFormatter`):
    ``http_method``, ``http_path``, ``http_route`` (the template of the route that served
    the request, ``/items/{item_id:int}``; ``None`` for a 404 or 405), ``http_status``,
    ``duration_ms``, ``client``, ``request_id``, ``response_complete`` (``False`` when the
    response started and its body never ended: the line says "cut off").
    A request that failed before the response started is logged with status 500.
    WebSocket connections get :class:`WebSocketAccessLog`'s records. When the logger
    is disabled for INFO the middleware is a pass-through.
    """

    def __init__(self, app: ASGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger("qake.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        logger = self.logger
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            if scope["type"] == "websocket" and logger.isEnabledFor(logging.INFO):
                await WebSocketAccessLog(scope, logger).run(self.app, receive, send)
                return
            await self.app(scope, receive, send)
            return
        status = 500
        complete = False
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status, complete
            if message["type"] == "http.response.start":
                status = message["status"]
            elif not message.get("more_body"):
                await send(message)
                complete = True  # once the last body message went out
                return
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            ms = (time.perf_counter() - started) * 1000
            method, path = scope.get("method"), scope.get("path")
            extra = {
                "http_method": method,
                "http_path": path,
                "http_route": route_template(scope),
                "http_status": status,
                "duration_ms": round(ms, 3),
                "client": _client(scope),
                "request_id": _request_id(scope),
                "response_complete": complete,
            }
            # PERF: logger.info without its lookup of the caller (a walk up the stack,
            # a fifth of the record's cost): the record names this module, line 0.
            record = logger.makeRecord(
                logger.name,
                logging.INFO,
                __file__,
                0,
                _LINE if complete else _CUT,
                (method, path, status, ms),
                None,
                None,
                extra,
            )
            logger.handle(record)


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else None


def _request_id(scope: Scope) -> str | None:
    # The scope's ID first: this middleware may wrap RequestIDMiddleware, whose context
    # variable is reset by the time the record is written.
    return scope.get(SCOPE_KEY) or request_id_var.get()


class WebSocketAccessLog:
    """One connection's records: ``WS /path accepted`` (or ``refused <status>``) when
    the handshake is answered, ``WS /path closed <code> <duration> in=<n> out=<n>``
    when it ends. Structured fields: ``ws_path``, ``http_route`` (the route's template),
    ``ws_event`` (accepted, refused, closed), ``http_status`` (a refusal's),
    ``ws_close_code`` (the code the app sent or the client's; 1006 when neither),
    ``ws_closed_by`` (app, client),
    ``ws_messages_in``/``ws_messages_out``, ``duration_ms``, ``client``, ``request_id``."""

    __slots__ = ("closed_by", "code", "logger", "messages_in", "messages_out", "scope")

    def __init__(self, scope: Scope, logger: logging.Logger) -> None:
        self.scope = scope
        self.logger = logger
        self.messages_in = self.messages_out = 0
        self.code = 1006
        self.closed_by: str | None = None

    async def run(self, app: ASGIApp, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        refused = False

        async def counting_receive() -> Message:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                self.messages_in += 1
            elif kind == "websocket.disconnect" and self.closed_by is None:
                self.code = message.get("code", 1005)
                self.closed_by = "client"
            return message

        async def counting_send(message: Message) -> None:
            nonlocal refused
            kind = message["type"]
            if kind == "websocket.send":
                self.messages_out += 1
            elif kind == "websocket.accept":
                self.event("accepted", "WS %s accepted", None)
            elif kind == "websocket.http.response.start":
                refused = True
                status = message["status"]
                self.event("refused", "WS %s refused %d", status)
            elif kind == "websocket.close" and self.closed_by is None:
                self.code = message.get("code", 1000)
                self.closed_by = "app"
            await send(message)

        try:
            await app(self.scope, counting_receive, counting_send)
        finally:
            if not refused:
                self.closed(time.perf_counter() - started)

    def _extra(self, event: str, status: int | None) -> dict[str, object]:
        return {
            "ws_path": self.scope.get("path"),
            "http_route": route_template(self.scope),
            "ws_event": event,
            "http_status": status,
            "client": _client(self.scope),
            "request_id": _request_id(self.scope),
        }

    def event(self, event: str, message: str, status: int | None) -> None:
        args = (self.scope.get("path"),) if status is None else (self.scope.get("path"), status)
        self.logger.info(message, *args, extra=self._extra(event, status))

    def closed(self, seconds: float) -> None:
        extra = self._extra("closed", None)
        extra.update(
            ws_close_code=self.code,
            ws_closed_by=self.closed_by,
            ws_messages_in=self.messages_in,
            ws_messages_out=self.messages_out,
            duration_ms=round(seconds * 1000, 3),
        )
        self.logger.info(
            "WS %s closed %d %.1fms in=%d out=%d",
            self.scope.get("path"),
            self.code,
            seconds * 1000,
            self.messages_in,
            self.messages_out,
            extra=extra,
        )
