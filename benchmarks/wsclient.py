"""A lean WebSocket client for ``websocket.py``: asyncio protocols, no library.

The load generator must cost less per message than the servers it measures, or it
measures itself: the ``websockets`` client spends more CPU per small message than a
bare ASGI server under uvicorn does. This client parses the server's (unmasked) frames
in ``data_received`` and sends prebuilt, masked frames of a fixed payload, so each
message costs it a few bytes operations and one ``transport.write``.

RFC 6455 as far as a benchmark needs: the handshake (``Sec-WebSocket-Accept``
checked), text, close and ping frames, 7-, 16- and 64-bit lengths. Fragmented messages
are not expected (servers send each small message as one frame) and are reported as
errors, like any close the client did not ask for.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
from collections.abc import Callable
from typing import cast

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT = 0x1
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA


class ClientError(RuntimeError):
    """The server refused the handshake, closed unasked or sent an unexpected frame."""


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame (RFC 6455 section 5.2; a fresh mask key each)."""
    key = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    masked = int.from_bytes(payload, "big") ^ int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return header + key + masked.to_bytes(n, "big")


class Connection(asyncio.Protocol):
    """One client connection; ``on_text`` is called with each text message's payload."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self._key = base64.b64encode(os.urandom(16))
        self._request = (
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            ).encode()
            + b"Sec-WebSocket-Key: "
            + self._key
            + b"\r\n\r\n"
        )
        self._head = b""
        self._buffer = b""
        self._upgraded = False
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.closing = False
        self.error: str | None = None
        self.on_text: Callable[[bytes], None] = _ignore

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if not self._upgraded:
            data = self._handshake(data)
            if not data:
                return
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        size = len(data)
        at = 0
        while size - at >= 2:
            first = data[at]
            n = data[at + 1]  # server frames are not masked
            start = at + 2
            if n == 126:
                if size - at < 4:
                    break
                n = int.from_bytes(data[start : start + 2], "big")
                start += 2
            elif n == 127:
                if size - at < 10:
                    break
                n = int.from_bytes(data[start : start + 8], "big")
                start += 8
            end = start + n
            if end > size:
                break
            if first == 0x81:  # FIN + text
                self.on_text(data[start:end])
            else:
                self._control(first, data[start:end])
            at = end
        if at < size:
            self._buffer = data[at:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closing and self.error is None:
            self.error = f"connection lost: {exc or 'closed by the server'}"
        if not self.opened.done():
            self.opened.set_exception(ClientError(self.error or "connection lost"))
        if not self.closed.done():
            self.closed.set_result(None)

    # -- the protocol ------------------------------------------------------------------

    def _handshake(self, data: bytes) -> bytes:
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            return b""
        head, rest = self._head[:end], self._head[end + 4 :]
        self._head = b""
        expected = base64.b64encode(hashlib.sha1(self._key + _GUID).digest())
        lines = head.split(b"\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(b":") for line in lines[1:])
        }
        if (
            not lines[0].startswith(b"HTTP/1.1 101")
            or headers.get(b"sec-websocket-accept") != expected
        ):
            self._fail(f"handshake refused: {lines[0].decode(errors='replace')}")
            return b""
        self._upgraded = True
        self.opened.set_result(None)
        return rest

    def _control(self, first: int, payload: bytes) -> None:
        opcode = first & 0x0F
        if opcode == OP_PING:
            self.write(client_frame(OP_PONG, payload))
        elif opcode == OP_PONG:
            pass
        elif opcode == OP_CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            if not self.closing:
                self.error = f"closed by the server: {code} {payload[2:].decode(errors='replace')}"
            self.closing = True
            self.write(client_frame(OP_CLOSE, payload[:2]))
            if self.transport is not None:
                self.transport.close()
        else:
            self._fail(f"unexpected frame 0x{first:02x} (fragmented or binary)")

    def _fail(self, why: str) -> None:
        self.error = self.error or why
        if self.transport is not None:
            self.transport.abort()

    def write(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    async def close(self, within: float = 5.0) -> None:
        """Close 1000 and wait for the server's close (or drop the connection)."""
        if not self.closed.done():
            self.closing = True
            self.write(client_frame(OP_CLOSE, (1000).to_bytes(2, "big")))
            try:
                await asyncio.wait_for(asyncio.shield(self.closed), within)
            except TimeoutError:
                if self.transport is not None:
                    self.transport.abort()


def _ignore(payload: bytes) -> None:
    """The default ``on_text``."""


async def connect(host: str, port: int, path: str, within: float = 30.0) -> Connection:
    """An open connection to ``ws://host:port/path`` (handshake done)."""
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(lambda: Connection(host, port, path), host, port)
    await asyncio.wait_for(asyncio.shield(conn.opened), within)
    return conn
