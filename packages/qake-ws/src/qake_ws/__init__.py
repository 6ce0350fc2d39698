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
from qake_ws._class_endpoint import WebSocketEndpoint
from qake_ws._endpoint import WebSocketHandle, compile_websocket_route
from qake_ws._exceptions import WebSocketDisconnect, WebSocketException
from qake_ws._heartbeat import HEARTBEAT_TIMEOUT_CODE, heartbeat
from qake_ws._limits import DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_MESSAGES_PER_SECOND
from qake_ws._models import INVALID_MESSAGE_POLICIES
from qake_ws._origin import ANY_ORIGIN, OriginPolicy
from qake_ws._presence import Presence
from qake_ws._state import WebSocketState
from qake_ws._websocket import DEFAULT_MAX_MESSAGE_SIZE, WebSocket

__all__ = [
    "ANY_ORIGIN",
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_MESSAGES_PER_SECOND",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MAX_QUEUE",
    "HEARTBEAT_TIMEOUT_CODE",
    "INVALID_MESSAGE_POLICIES",
    "Broadcast",
    "BroadcastUnavailable",
    "MemoryBroadcast",
    "OriginPolicy",
    "Presence",
    "RedisBroadcast",
    "Subscriber",
    "SubscriberDropped",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketEndpoint",
    "WebSocketException",
    "WebSocketHandle",
    "WebSocketState",
    "compile_websocket_route",
    "heartbeat",
]
