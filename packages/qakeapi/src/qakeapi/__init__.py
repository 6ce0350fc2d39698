"""qakeapi: the whole framework — every public name of qake-core, plus ``QakeAPI``,
``WebSocket``, ``WebSocketDisconnect``, ``WebSocketException`` (FastAPI's names),
``WebSocketEndpoint`` and ``WebSocketState``, ``APIRouter`` (``Router``, FastAPI's name)
and the ``status`` module.

The other packages are mirrored as ``qakeapi.routing``, ``qakeapi.security``,
``qakeapi.ws``, ``qakeapi.testing`` and ``qakeapi.docs``. FastAPI's modules have their
counterparts: ``qakeapi.status``, ``qakeapi.encoders``, ``qakeapi.responses``,
``qakeapi.concurrency`` and ``qakeapi.exception_handlers``.
"""

from importlib import import_module as _import_module
from typing import TYPE_CHECKING, Any

import qake_core
from qake_core import Router as APIRouter
from qake_core import __all__ as _core_all
from qakeapi._app import QakeAPI

if TYPE_CHECKING:
    from qake_core import *  # noqa: F403
    from qake_core.settings import Settings, SettingsConfigDict, SettingsError
    from qake_ws import (
        WebSocket,
        WebSocketDisconnect,
        WebSocketEndpoint,
        WebSocketException,
        WebSocketState,
    )
    from qakeapi import status

__all__ = [
    "APIRouter",
    "QakeAPI",
    "Settings",
    "SettingsConfigDict",
    "SettingsError",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketEndpoint",
    "WebSocketException",
    "WebSocketState",
    "status",
]
__all__ += _core_all

#: PERF: qake-core's names as qake_core holds them: the ones it loaded are copied here,
#: its optional features' (gzip, metrics, templates...) load with their first read (the
#: ``__getattr__`` below), as in ``qake_core`` itself; a ``from qake_core import *``
#: would load them all.
globals().update({name: vars(qake_core)[name] for name in _core_all if name in vars(qake_core)})
#: The ones not loaded yet (a name copied above, once deleted, stays deleted).
_CORE_LAZY = frozenset(_core_all).difference(globals())

#: Typed settings (qake_core.settings) load pydantic-settings when first used, so that
#: ``import qakeapi`` stays cheap.
_SETTINGS_NAMES = frozenset({"Settings", "SettingsConfigDict", "SettingsError"})
#: PERF: qake-ws's names load with the first one read: an app without WebSocket routes
#: never imports qake-ws (13 modules: -796 KiB VmRSS
#: for ``import qakeapi``, with ``QakeAPI``'s compiler made lazy too).
_WS_NAMES = frozenset(
    {
        "WebSocket",
        "WebSocketDisconnect",
        "WebSocketEndpoint",
        "WebSocketException",
        "WebSocketState",
    }
)


def __getattr__(name: str) -> Any:
    if name == "status":  # PERF: FastAPI's status codes module, loaded when first read
        value = _import_module("qakeapi.status")
        globals()[name] = value
        return value
    if name in _CORE_LAZY:
        value = getattr(qake_core, name)
        globals()[name] = value
        return value
    if name in _SETTINGS_NAMES:
        from qake_core import settings

        return getattr(settings, name)
    if name in _WS_NAMES:
        import qake_ws

        value = getattr(qake_ws, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qakeapi' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
