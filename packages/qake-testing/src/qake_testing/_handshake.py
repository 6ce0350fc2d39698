"""What a sync and an async test client share: the WebSocket request and ``login_as``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import httpx

from ._login import LoginCredentials, LoginProvider, find_login_provider

_UPGRADE_HEADERS = {
    "connection": "upgrade",
    "upgrade": "websocket",
    "sec-websocket-version": "13",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
}


def websocket_request(
    client: httpx.Client | httpx.AsyncClient,
    url: httpx.URL | str,
    *,
    params: httpx.QueryParams | Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
) -> httpx.Request:
    """The handshake request, with the client's base URL, default headers and cookies."""
    merged = {**_UPGRADE_HEADERS, **(headers or {})}
    return client.build_request("GET", url, params=params, headers=merged)


def login(
    client: httpx.Client | httpx.AsyncClient,
    app: object,
    user: str,
    roles: Sequence[str],
    provider: LoginProvider | None,
) -> LoginCredentials:
    found = provider if provider is not None else find_login_provider(app)
    credentials = found.login_credentials(user, list(roles))
    client.headers.update(credentials.headers)
    for name, value in credentials.cookies.items():
        client.cookies.set(name, value)
    return credentials
