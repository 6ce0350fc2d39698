"""``WebSocketState``: where each side of a connection stands."""

from __future__ import annotations

import enum

__all__ = ["WebSocketState"]


class WebSocketState(enum.Enum):
    """The state of one side (client or application) of a WebSocket."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
