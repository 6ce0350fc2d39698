"""``TrustedHostMiddleware``: refuse requests whose Host is not one of ours."""

from __future__ import annotations

from collections.abc import Sequence

from qake_core._problem import problem_response
from qake_core._ws_denial import deny_websocket
from qake_core.types import ASGIApp, Receive, Scope, Send

__all__ = ["TrustedHostMiddleware"]


class TrustedHostMiddleware:
    """Answer 400 (problem+json) unless the Host header matches ``allowed_hosts``.

    Patterns are exact names or ``*.example.com`` (any subdomain, not the apex);
    ``"*"`` allows everything. Ports are ignored. Protects against Host-header
    poisoning of generated URLs and password-reset links.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str] = ("*",)) -> None:
        self.app = app
        hosts = [h.lower() for h in allowed_hosts]
        self.allow_any = "*" in hosts
        self.exact = frozenset(h for h in hosts if not h.startswith("*."))
        self.suffixes = tuple(h[1:] for h in hosts if h.startswith("*."))

    def is_allowed(self, host: str) -> bool:
        """Whether ``host`` (with or without a port) is allowed."""
        if host.startswith("["):  # IPv6 literal
            name = host[: host.find("]") + 1]
        else:
            name = host.rpartition(":")[0] if ":" in host else host
        name = name.lower().rstrip(".")
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = ""
        for k, v in scope["headers"]:
            if k == b"host":
                host = v.decode("latin-1")
                break
        if self.is_allowed(host):
            await self.app(scope, receive, send)
            return
        response = problem_response(400, "Invalid Host header.")
        if scope["type"] == "websocket":
            await deny_websocket(scope, receive, send, response)
            return
        await response(scope, receive, send)
