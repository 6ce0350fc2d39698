"""``HTTPSRedirectMiddleware``: send ``http``/``ws`` requests to the ``https``/``wss`` URL.

The answer is **308 Permanent Redirect** for every method by default: RFC 9110
§15.4.9 makes a 308 keep the method and the body (a 301 or 302 may turn a POST into
a GET, §15.4.2-3), and the move to HTTPS is permanent. ``status_code=307`` gives the
temporary form. Pair it with HSTS (``SecurityHeadersMiddleware(hsts=True)``) so that
browsers stop trying plain HTTP at all (RFC 6797 §7.2 sends the redirect, §8 the rest).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote_from_bytes

from qake_core import TrustedHostMiddleware, problem_response
from qake_core.types import ASGIApp, Receive, Scope, Send

__all__ = ["HTTPSRedirectMiddleware"]

_SECURE = {"http": "https", "ws": "wss"}
# ASGI: a scope without "scheme" is "http" (HTTP) or "ws" (WebSocket).
_DEFAULT_SCHEME = {"http": "http", "websocket": "ws"}
_REDIRECTS = frozenset({301, 302, 307, 308})
# A Host we redirect to: a DNS name or IPv4 address (letters, digits, "-", "."), or a
# bracketed IPv6 literal, and an optional port. Stricter than RFC 3986's reg-name on
# purpose: the value goes into a Location the client follows.
_HOST = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9.\-]{0,252}|\[[0-9A-Fa-f:.]{2,45}\])"
    r"(?::[0-9]{1,5})?"
)
# RFC 3986 §3.3 and §3.4: characters a path and a query keep as they are.
_PATH_SAFE = b"/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + b"?"


class HTTPSRedirectMiddleware:
    """Redirect plain-HTTP and ``ws://`` requests to the same URL over TLS.

    The path and query are kept byte for byte; the port becomes ``https_port`` (left
    out when 443). The Host header must be a plain ``host[:port]`` (and one of
    ``allowed_hosts`` when given, with :class:`~qake_core.TrustedHostMiddleware`'s
    patterns): a request with any other Host gets a 400 problem, never a redirect to a
    host an attacker chose. A ``ws://`` handshake is redirected when the server supports
    the ASGI ``websocket.http.response`` extension, and refused (close 1008, which
    the server sends as 403) otherwise. Behind a TLS-terminating proxy, let the app
    trust it (``trusted_proxies``) so that ``scope["scheme"]`` is the client's.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        status_code: int = 308,
        https_port: int = 443,
        allowed_hosts: Sequence[str] | None = None,
    ) -> None:
        if status_code not in _REDIRECTS:
            raise ValueError(
                f"HTTPSRedirectMiddleware: status_code={status_code} is not a redirect; "
                "use 308 (permanent, keeps the method) or 307 (temporary)"
            )
        if isinstance(https_port, bool) or not 0 < https_port < 65536:
            raise ValueError(f"HTTPSRedirectMiddleware: https_port={https_port!r} is not a port")
        if isinstance(allowed_hosts, str):
            raise TypeError("HTTPSRedirectMiddleware: give allowed_hosts as a list of host names")
        self.app = app
        self.status_code = status_code
        self.port_suffix = "" if https_port == 443 else f":{https_port}"
        self.hosts = None if allowed_hosts is None else TrustedHostMiddleware(app, allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        default = _DEFAULT_SCHEME.get(scope["type"])
        secure = None if default is None else _SECURE.get(scope.get("scheme") or default)
        if secure is None:
            await self.app(scope, receive, send)
            return
        location = self.location(scope, secure)
        if scope["type"] == "websocket":
            await self._refuse_websocket(scope, send, location)
            return
        if location is None:
            await problem_response(400, "Invalid Host header.")(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": [(b"location", location), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def location(self, scope: Scope, secure_scheme: str) -> bytes | None:
        """The secure URL of this request, or ``None`` when its Host is refused."""
        host = b""
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
                break
        match = _HOST.fullmatch(host.decode("latin-1"))
        if match is None:
            return None
        name = match["name"].lower()
        if self.hosts is not None and not self.hosts.is_allowed(name):
            return None
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        url = f"{secure_scheme}://{name}{self.port_suffix}{quote_from_bytes(raw_path, _PATH_SAFE)}"
        query = scope.get("query_string", b"")
        if query:
            url += "?" + quote_from_bytes(query, _QUERY_SAFE)
        return url.encode("latin-1")

    async def _refuse_websocket(self, scope: Scope, send: Send, location: bytes | None) -> None:
        if location is not None and "websocket.http.response" in (scope.get("extensions") or {}):
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": self.status_code,
                    "headers": [(b"location", location), (b"content-length", b"0")],
                }
            )
            await send({"type": "websocket.http.response.body", "body": b""})
            return
        await send({"type": "websocket.close", "code": 1008})
