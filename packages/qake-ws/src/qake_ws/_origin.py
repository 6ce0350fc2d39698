"""The handshake's ``Origin`` check: refuse cross-site WebSocket hijacking.

Browsers send ``Origin`` on every WebSocket handshake (RFC 6455 §4.1, §10.2) but do
not apply the same-origin policy to WebSockets, so a page on another site could open
a socket riding the user's cookies (OWASP: Cross-Site WebSocket Hijacking). The server
must check ``Origin`` itself: same-origin by default, plus an explicit allow-list.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from qake_core.types import Scope

__all__ = ["ANY_ORIGIN", "OriginPolicy", "normalize_origin"]

#: The allow-list entry that accepts every origin (unsafe with cookie authentication).
ANY_ORIGIN = "*"

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HTTP_SCHEME = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def _serialize(scheme: str, host: str, port: int | None) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal, as RFC 6454 serialises it
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def normalize_origin(value: str) -> str | None:
    """``scheme://host[:port]`` lower-cased, default port dropped (RFC 6454 §6.2);
    ``None`` when ``value`` is not such an origin (a path, query, userinfo, ``null``)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if (
        scheme not in _DEFAULT_PORTS
        or not host
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or value.strip().endswith("?")
    ):
        return None
    return _serialize(scheme, host, port)


def _own_origin(scope: Scope, host: str | None) -> str | None:
    """The origin the handshake was addressed to: the scope's scheme, the Host header."""
    if not host:
        return None
    scheme = _HTTP_SCHEME.get(str(scope.get("scheme", "ws")).lower())
    if scheme is None:
        return None
    return normalize_origin(f"{scheme}://{host}")


def _header_values(scope: Scope) -> tuple[list[bytes], bytes | None]:
    origins: list[bytes] = []
    host: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"origin":
            origins.append(value)
        elif name == b"host" and host is None:
            host = value
    return origins, host


class OriginPolicy:
    """Which ``Origin`` a handshake may come from: its own, or one in ``allowed``.

    A handshake without ``Origin`` (a non-browser client) passes: it cannot carry a
    victim's cookies across sites. ``"*"`` in ``allowed`` accepts any origin.
    """

    __slots__ = ("allow_any", "allowed")

    def __init__(self, allowed: Iterable[str] = (), *, where: str = "allowed_origins") -> None:
        if isinstance(allowed, str):
            raise TypeError(f"{where}: give a list of origins, not the string {allowed!r}")
        normalized: set[str] = set()
        allow_any = False
        for entry in allowed:
            if entry == ANY_ORIGIN:
                allow_any = True
                continue
            origin = normalize_origin(entry) if isinstance(entry, str) else None
            if origin is None:
                raise ValueError(
                    f"{where}: {entry!r} is not an origin; write scheme://host[:port] "
                    "(http or https, no path), e.g. 'https://app.example.com', or '*'"
                )
            normalized.add(origin)
        self.allowed = frozenset(normalized)
        self.allow_any = allow_any

    def allows(self, scope: Scope) -> bool:
        """Whether the handshake in ``scope`` may proceed."""
        origins, host = _header_values(scope)
        if not origins:
            return True
        if len(origins) > 1:
            return False  # RFC 6454 §7.3: at most one Origin header
        if self.allow_any:
            return True
        origin = normalize_origin(origins[0].decode("latin-1"))
        if origin is None:
            return False  # "null" (sandboxed or file: pages) or garbage
        if origin in self.allowed:
            return True
        return origin == _own_origin(scope, host.decode("latin-1") if host else None)

    def __repr__(self) -> str:
        entries = sorted(self.allowed) + ([ANY_ORIGIN] if self.allow_any else [])
        return f"OriginPolicy({entries!r})"
