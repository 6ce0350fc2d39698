"""qakeapi: the whole framework — every public name of qake-core, plus ``QakeAPI``,
``WebSocket``, ``WebSocketDisconnect``, ``WebSocketException`` (FastAPI's names),
``WebSocketEndpoint`` and ``WebSocketState``.

The other packages are mirrored as ``qakeapi.routing``, ``qakeapi.security``,
``qakeapi.ws``, ``qakeapi.testing`` and ``qakeapi.docs``.
"""

from qake_core import *  # noqa: F403
from qake_core import __all__ as _core_all
from qake_ws import (
    WebSocket,
    WebSocketDisconnect,
    WebSocketEndpoint,
    WebSocketException,
    WebSocketState,
)
from qakeapi._app import QakeAPI

__all__ = [
    "QakeAPI",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketEndpoint",
    "WebSocketException",
    "WebSocketState",
]
__all__ += _core_all
