"""A deadline for the request head: uvicorn's HTTP/1.1 protocols, with a timer.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive``, but it has no
deadline for a request *head*: a client that connects and sends nothing, or trickles a
head one byte at a time (slowloris), holds a connection and its descriptor for as long
as it likes. The protocols here add one timer per connection, as nginx's
``client_header_timeout`` and Go's ``ReadHeaderTimeout`` do:

- armed when the connection is made and when the first byte of a new head arrives;
- stopped when the head is complete (the body has its own deadline, in the app:
  ``Limits.body_timeout``);
- on expiry: a connection that sent nothing is closed; one with a head begun is answered
  ``408 Request Timeout`` (a problem+json body, ``Connection: close``, RFC 9110 §15.5.9)
  and closed. While the server itself holds the head back (a pipelined request waiting
  for the response before it, reading paused by flow control) the timer waits instead.

``qake run --head-timeout SECONDS`` sets it (10 s by default; 0 turns it off) through
:class:`ServingConfig`, which carries it to every worker process.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol

from qake_core import problem_response
from qakeapi._cli import HEAD_TIMEOUT

__all__ = [
    "HEAD_TIMEOUT",
    "H11HeadDeadline",
    "HttpToolsHeadDeadline",
    "ServingConfig",
    "protocol_for",
    "request_timeout_answer",
]

logger = logging.getLogger("uvicorn.error")


class ServingConfig(Config):
    """``uvicorn.Config`` with the head deadline: an attribute of the config, so it
    reaches worker processes (uvicorn pickles the config for them)."""

    def __init__(self, app: Any, *, head_timeout: float = HEAD_TIMEOUT, **options: Any) -> None:
        if head_timeout < 0:
            raise ValueError(f"head_timeout must be >= 0 (0: no deadline), got {head_timeout!r}")
        super().__init__(app, **options)
        self.head_timeout = head_timeout


def request_timeout_answer(seconds: float, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The whole ``408`` answer on the wire: the status line, the server's default
    headers, then qake-core's problem+json response (its one owner) with
    ``Connection: close``."""
    detail = f"the request head was not complete within {seconds:g} s"
    response = problem_response(408, detail, headers={"connection": "close"})
    lines = [b"HTTP/1.1 408 Request Timeout"]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [name + b": " + value for name, value in response.raw_headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + response.body


class _HeadDeadline(asyncio.Protocol):
    """The timer, shared by both protocols (mixed in before uvicorn's, whose methods its
    ``super()`` calls reach); ``_head_begun`` says whether a byte of the current head
    has arrived (the protocol keeps it up to date)."""

    # Provided by the uvicorn protocol this is mixed into.
    config: Config
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    client: tuple[str, int] | None
    server_state: Any
    cycle: Any
    flow: Any

    _head_timer: asyncio.TimerHandle | None = None
    _head_begun = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    @property
    def head_timeout(self) -> float:
        return float(getattr(self.config, "head_timeout", HEAD_TIMEOUT))

    def _arm_head_timer(self) -> None:
        if self._head_timer is None and self.head_timeout > 0:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        self._head_begun = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        busy = self.cycle is not None and not self.cycle.response_complete
        if busy or self.flow.read_paused:
            # The head waits on this server (a response in progress, reading paused),
            # not on the client: look again later.
            self._arm_head_timer()
            return
        if self._head_begun:
            logger.info(
                "%s - request head not complete after %g s: 408, connection closed",
                f"{self.client[0]}:{self.client[1]}" if self.client else "client",
                self.head_timeout,
            )
            default_headers = list(self.server_state.default_headers)
            self.transport.write(request_timeout_answer(self.head_timeout, default_headers))
        self.transport.close()


def _httptools_protocol() -> type[Any] | None:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is not installed
        return None

    class HttpToolsHeadDeadline(_HeadDeadline, HttpToolsProtocol):
        """uvicorn's httptools protocol with the head deadline."""

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_begun = True
            self._arm_head_timer()

        def on_headers_complete(self) -> None:
            self._stop_head_timer()
            super().on_headers_complete()

    HttpToolsHeadDeadline.__module__ = __name__
    HttpToolsHeadDeadline.__qualname__ = "HttpToolsHeadDeadline"
    return HttpToolsHeadDeadline


#: ``None`` when httptools is not installed.
HttpToolsHeadDeadline = _httptools_protocol()


class H11HeadDeadline(_HeadDeadline, H11Protocol):
    """uvicorn's h11 protocol with the head deadline."""

    def handle_events(self) -> None:
        super().handle_events()
        if self.transport.is_closing():
            self._stop_head_timer()
        elif self.conn.their_state is not h11.IDLE:
            self._stop_head_timer()  # the head is in (or the connection is done)
        elif self.conn.trailing_data[0]:
            self._head_begun = True  # part of a head is buffered
            self._arm_head_timer()


def protocol_for(http: str) -> type[Any]:
    """The protocol class serving ``http`` (``"httptools"`` or ``"h11"``)."""
    if http == "h11":
        return H11HeadDeadline
    if http == "httptools" and HttpToolsHeadDeadline is not None:
        return HttpToolsHeadDeadline
    installed = HttpToolsHeadDeadline is not None
    raise ValueError(f"no HTTP/1.1 protocol {http!r} (httptools installed: {installed})")
