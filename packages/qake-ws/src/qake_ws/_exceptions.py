"""``WebSocketDisconnect`` (the connection is over) and ``WebSocketException`` (close it)."""

from __future__ import annotations

__all__ = ["WebSocketDisconnect", "WebSocketException"]

# RFC 6455 §7.4: codes an endpoint may send (1004-1006 and 1015 are reserved).
_SENDABLE = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})


class WebSocketDisconnect(Exception):
    """The WebSocket closed: the client went away, or the app closed it for a reason.

    ``code`` is the close code (1000 normal, 1001 going away, 1006 abnormal, 1009 too
    big...) and ``reason`` the close reason, possibly empty.
    """

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason or ""

    def __str__(self) -> str:
        suffix = f": {self.reason}" if self.reason else ""
        return f"WebSocket closed with code {self.code}{suffix}"


class WebSocketException(Exception):
    """Raise it in a WebSocket handler to close the connection with ``code`` and ``reason``
    (FastAPI's name). Before ``accept()`` the handshake is refused (HTTP 403).

    ``code`` is one an endpoint may send (RFC 6455 §7.4): 1000-1003, 1007-1014, or an
    application code 3000-4999; ``reason`` is at most 123 UTF-8 bytes.
    """

    def __init__(self, code: int, reason: str | None = None) -> None:
        if isinstance(code, bool) or not isinstance(code, int):
            raise TypeError(f"a WebSocket close code is an int, got {code!r}")
        if code not in _SENDABLE and not 3000 <= code <= 4999:
            raise ValueError(
                f"{code} cannot be sent in a close frame (RFC 6455 7.4); use 1000-1003, "
                "1007-1014 or an application code 3000-4999"
            )
        reason = reason or ""
        if len(reason.encode("utf-8")) > 123:
            raise ValueError(f"a WebSocket close reason is at most 123 UTF-8 bytes: {reason!r}")
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        suffix = f": {self.reason}" if self.reason else ""
        return f"close the WebSocket with code {self.code}{suffix}"
