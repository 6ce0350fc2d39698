"""Build ASGI ``http`` and ``websocket`` scopes from an :class:`httpx.Request`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from ._types import Address, Scope

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _headers(request: httpx.Request) -> list[tuple[bytes, bytes]]:
    # ASGI requires lower-cased header names; httpx keeps the caller's spelling.
    return [(name.lower(), value) for name, value in request.headers.raw]


def _server(url: httpx.URL) -> Address:
    return url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80)


def http_scope(
    request: httpx.Request,
    *,
    root_path: str,
    client: Address,
    state: dict[str, Any],
) -> Scope:
    url = request.url
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": url.path,
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "query_string": url.query,
        "root_path": root_path,
        "headers": _headers(request),
        "client": client,
        "server": _server(url),
        # ASGI lifespan spec: each request gets a shallow copy of the lifespan state.
        "state": dict(state),
        "extensions": {},
    }


def websocket_scope(
    request: httpx.Request,
    *,
    subprotocols: Sequence[str],
    root_path: str,
    client: Address,
    state: dict[str, Any],
) -> Scope:
    url = request.url
    scheme = {"http": "ws", "https": "wss"}.get(url.scheme, url.scheme)
    headers = _headers(request)
    if subprotocols:
        headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode("latin-1")))
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": scheme,
        "path": url.path,
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "query_string": url.query,
        "root_path": root_path,
        "headers": headers,
        "client": client,
        "server": _server(url),
        "subprotocols": list(subprotocols),
        "state": dict(state),
        "extensions": {"websocket.http.response": {}},
    }
