"""``WebSocketDisconnect``: the connection is over, with its close code."""

from __future__ import annotations

__all__ = ["WebSocketDisconnect"]


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
