"""``RequestIDMiddleware``: a request ID per request, echoed and put into log records."""

from __future__ import annotations

import itertools
import logging
import os
import re
from contextvars import ContextVar

from qake_core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestIDFilter", "RequestIDMiddleware", "record_request_id", "request_id_var"]

#: The current request's ID (``None`` outside a request).
request_id_var: ContextVar[str | None] = ContextVar("qake_request_id", default=None)

_VALID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
SCOPE_KEY = "qake.request_id"
_HANDSHAKE_ANSWERS = frozenset({"websocket.accept", "websocket.http.response.start"})

#: Attribute naming the request on an exception that escaped a RequestIDMiddleware.
_EXC_KEY = "__qake_request_id__"


class _IDs:
    """Unique IDs: a random per-process prefix and a counter (far cheaper than uuid4)."""

    __slots__ = ("_count", "_prefix")

    def __init__(self) -> None:
        self._prefix = os.urandom(6).hex()
        self._count = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._count):010x}"


class RequestIDMiddleware:
    """Give every HTTP request and WebSocket connection an ID and echo it in the
    response header (a WebSocket's: in the handshake's answer).

    An incoming ``X-Request-ID`` (the ``header`` option) is kept when it is 1-128
    characters of ``[A-Za-z0-9._-]`` (and ``trust_incoming`` is on); otherwise one is
    generated. The ID is in ``scope["qake.request_id"]``, ``request.state.request_id``
    and the ``request_id_var`` context variable, which :class:`RequestIDFilter`
    copies into log records.
    """

    def __init__(
        self, app: ASGIApp, header: str = "x-request-id", *, trust_incoming: bool = True
    ) -> None:
        self.app = app
        self.header = header.lower().encode("latin-1")
        self.trust_incoming = trust_incoming
        self.generate = _IDs()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        request_id: str | None = None
        if self.trust_incoming:
            name = self.header
            for k, v in scope["headers"]:
                if k == name:
                    if _VALID.fullmatch(v):
                        request_id = v.decode("ascii")
                    break
        if request_id is None:
            request_id = self.generate()
        scope[SCOPE_KEY] = request_id
        scope.setdefault("state", {})["request_id"] = request_id
        echo = (self.header, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), echo]
            await send(message)

        if kind == "websocket":
            # The handshake's answer carries it: the accept, or the denial response.
            async def send_with_id_ws(message: Message) -> None:
                if message["type"] in _HANDSHAKE_ANSWERS:
                    message["headers"] = [*(message.get("headers") or ()), echo]
                await send(message)

            send_with_id = send_with_id_ws

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException as exc:
            # NOTE: the error may be logged outside this middleware (by the app's edge,
            # an outer ServerErrorMiddleware, the server), after the context variable is
            # reset: the exception carries the ID so that RequestIDFilter still finds it.
            # A try block costs nothing until something raises.
            if getattr(exc, _EXC_KEY, None) is None:
                try:
                    setattr(exc, _EXC_KEY, request_id)
                except AttributeError:  # pragma: no cover - an exception without __dict__
                    pass
            raise
        finally:
            request_id_var.reset(token)


class RequestIDFilter(logging.Filter):
    """Add ``record.request_id`` (``"-"`` outside a request) to every record.

    ``handler.addFilter(RequestIDFilter())`` then ``%(request_id)s`` in the format.
    The ID is, first found: the record's own ``request_id`` (``extra={"request_id":
    ...}``, as :class:`AccessLogMiddleware` sets it from the scope), the current
    request's (``request_id_var``), or the one carried by the record's exception when
    it escaped a :class:`RequestIDMiddleware` (an error logged by a middleware that wraps
    it). So the order of the middleware does not change the ID a record shows.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = record_request_id(record) or "-"
        return True


def record_request_id(record: logging.LogRecord) -> str | None:
    """The request ID a log record belongs to, or ``None``: the record's own
    ``request_id`` (``"-"`` counts as none), else the current request's, else the one
    carried by the record's exception (:class:`RequestIDFilter`'s lookup; the JSON
    formatter's too)."""
    request_id = getattr(record, "request_id", None)
    if request_id and request_id != "-":
        return str(request_id)
    request_id = request_id_var.get()
    if request_id is None and record.exc_info:
        request_id = getattr(record.exc_info[1], _EXC_KEY, None)
    return request_id
