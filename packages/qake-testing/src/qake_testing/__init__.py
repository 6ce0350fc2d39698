"""Test clients, a pytest plugin, auth helpers, a benchmark helper and a security scanner
for qakeapi and any ASGI app.

Names are imported on first use (PEP 562): the pytest plugin, ``qake_testing.plugin``,
is loaded in every pytest run and importing this package must not pull in httpx or anyio.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._async_client import AsyncTestClient
    from ._auth import basic_auth_header, bearer_header, make_jwt
    from ._client import TestClient
    from ._lifespan import LifespanError
    from ._login import Credentials, JWTLogin, LoginCredentials, LoginProvider
    from ._overrides import DependencyOverrides, override_dependencies
    from ._perf import MeasureError, Measurement, ameasure, measure
    from ._scanner import (
        Finding,
        FindingKind,
        ParamLike,
        RouteLike,
        ScanParam,
        ScanReport,
        ScanTarget,
        ascan,
        assert_no_findings,
        load_payloads,
        scan,
    )
    from ._websocket import AsyncWebSocketTestSession, WebSocketTestSession
    from ._ws_channel import WebSocketDisconnect, WebSocketRejected

__all__ = [
    "AsyncTestClient",
    "AsyncWebSocketTestSession",
    "Credentials",
    "DependencyOverrides",
    "Finding",
    "FindingKind",
    "JWTLogin",
    "LifespanError",
    "LoginCredentials",
    "LoginProvider",
    "MeasureError",
    "Measurement",
    "ParamLike",
    "RouteLike",
    "ScanParam",
    "ScanReport",
    "ScanTarget",
    "TestClient",
    "WebSocketDisconnect",
    "WebSocketRejected",
    "WebSocketTestSession",
    "ameasure",
    "ascan",
    "assert_no_findings",
    "basic_auth_header",
    "bearer_header",
    "load_payloads",
    "make_jwt",
    "measure",
    "override_dependencies",
    "scan",
]

_MODULES = {
    "AsyncTestClient": "._async_client",
    "AsyncWebSocketTestSession": "._websocket",
    "Credentials": "._login",
    "DependencyOverrides": "._overrides",
    "Finding": "._scanner",
    "FindingKind": "._scanner",
    "JWTLogin": "._login",
    "LifespanError": "._lifespan",
    "LoginCredentials": "._login",
    "LoginProvider": "._login",
    "MeasureError": "._perf",
    "Measurement": "._perf",
    "ParamLike": "._scanner",
    "RouteLike": "._scanner",
    "ScanParam": "._scanner",
    "ScanReport": "._scanner",
    "ScanTarget": "._scanner",
    "TestClient": "._client",
    "WebSocketDisconnect": "._ws_channel",
    "WebSocketRejected": "._ws_channel",
    "WebSocketTestSession": "._websocket",
    "ameasure": "._perf",
    "ascan": "._scanner",
    "assert_no_findings": "._scanner",
    "basic_auth_header": "._auth",
    "bearer_header": "._auth",
    "load_payloads": "._scanner",
    "make_jwt": "._auth",
    "measure": "._perf",
    "override_dependencies": "._overrides",
    "scan": "._scanner",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
