"""Who a rate limit counts a request against: the client, the user, the API key, or a
function of your own (``RateLimit(key=...)``).

A key function takes the ``Request`` and returns a string (the partition of the quota)
or ``None`` to exempt the request; it may be ``async``. The ones here take any
``HTTPConnection`` (they read only what a WebSocket handshake has too). The client address is
``request.client.host``, which is the real client only behind
``ProxyHeadersMiddleware`` / ``App(trusted_proxies=[...])`` or ``RateLimit(
trusted_proxies=[...])``: ``X-Forwarded-For`` from anyone else is never read.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Awaitable, Callable

from qake_core import HTTPConnection, Request
from qake_security._users import user_of

__all__ = ["KeyFunc", "by_api_key", "by_client", "by_user"]

#: ``key(request) -> partition`` (``None``: the request is not limited).
KeyFunc = Callable[[Request], str | Awaitable[str | None] | None]


def by_client(request: HTTPConnection) -> str:
    """The client's address; an IPv6 client counts by its /64 network, because one
    subscriber gets a whole /64 and could otherwise rotate through it (RFC 6177)."""
    # PERF: the scope's pair, not ``request.client`` (which builds an Address).
    client = request.scope.get("client")
    if not client or not client[0]:
        return "ip:unknown"
    host: str = client[0]
    if ":" in host:
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            return "ip:" + host
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.IPv6Network((address, 64), strict=False)}"
    return "ip:" + host


def by_user(request: HTTPConnection) -> str:
    """The authenticated user's identity (``request.user``); anonymous requests count
    by client address, so that logging out does not lift a limit. Authentication must
    have run first (a middleware, or a dependency listed before the limit)."""
    user = user_of(request.scope)
    if user.is_authenticated:
        return "user:" + user.identity
    return by_client(request)


def by_api_key(header: str = "X-API-Key") -> Callable[[HTTPConnection], str]:
    """The API key in ``header``, by its SHA-256 digest (the key itself is a secret: it
    never reaches the store, a log or a response); requests without one count by
    client address."""
    name = header.lower()

    def api_key(request: HTTPConnection) -> str:
        value = request.headers.get(name)
        if not value:
            return by_client(request)
        return "apikey:" + hashlib.sha256(value.encode()).hexdigest()[:32]

    api_key.__qualname__ = f"by_api_key({header!r})"
    return api_key
