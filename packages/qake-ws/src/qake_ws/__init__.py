"""qake-ws: WebSocket connections and endpoints for qakeapi."""

from qake_ws._broadcast import (
    DEFAULT_MAX_QUEUE,
    Broadcast,
    BroadcastUnavailable,
    MemoryBroadcast,
    Subscriber,
    SubscriberDropped,
)
from qake_ws._broadcast_redis import RedisBroadcast
from qake_ws._endpoint import WebSocketHandle, compile_websocket_route
from qake_ws._exceptions import WebSocketDisconnect
from qake_ws._presence import Presence
from qake_ws._state import WebSocketState
from qake_ws._websocket import DEFAULT_MAX_MESSAGE_SIZE, WebSocket

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MAX_QUEUE",
    "Broadcast",
    "BroadcastUnavailable",
    "MemoryBroadcast",
    "Presence",
    "RedisBroadcast",
    "Subscriber",
    "SubscriberDropped",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketHandle",
    "WebSocketState",
    "compile_websocket_route",
]
