"""``ProxyHeadersMiddleware``: honour ``X-Forwarded-*``/``Forwarded`` from trusted proxies only."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from qake_core.types import ASGIApp, Receive, Scope, Send

__all__ = ["ProxyHeadersMiddleware"]

_Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse_forwarded(value: str) -> tuple[list[str], str | None]:
    """``for=`` addresses (in order) and the last ``proto=`` of an RFC 7239 header."""
    hosts: list[str] = []
    proto: str | None = None
    for element in value.split(","):
        for pair in element.split(";"):
            key, _, val = pair.strip().partition("=")
            key = key.strip().lower()
            val = val.strip().strip('"')
            if key == "for" and val:
                if val.startswith("["):  # "[2001:db8::1]:4711"
                    val = val[1 : val.find("]")]
                elif val.count(":") == 1:
                    val = val.partition(":")[0]
                hosts.append(val)
            elif key == "proto" and val:
                proto = val.lower()
    return hosts, proto


class ProxyHeadersMiddleware:
    """Rewrite ``scope["client"]`` and ``scope["scheme"]`` from proxy headers.

    Only when the direct peer is in ``trusted_proxies`` (addresses or CIDR networks,
    or ``"*"``). The client is the right-most address of the chain that is not itself
    a trusted proxy, so a client cannot spoof its address by sending the header.
    ``Forwarded`` (RFC 7239) wins over ``X-Forwarded-For``/``X-Forwarded-Proto``.
    Also available as ``App(trusted_proxies=[...])``.
    """

    def __init__(self, app: ASGIApp, trusted_proxies: Iterable[str] = ("127.0.0.1",)) -> None:
        self.app = app
        proxies = list(trusted_proxies)
        self.trust_all = "*" in proxies
        self.networks: list[_Net] = []
        for p in proxies:
            try:
                self.networks.append(ipaddress.ip_network(p, strict=False))
            except ValueError:
                pass  # a name (e.g. a unix socket peer): matched exactly
        self.hosts = frozenset(p for p in proxies if p != "*")

    def is_trusted(self, host: str) -> bool:
        """Whether ``host`` is one of the trusted proxies."""
        if self.trust_all or host in self.hosts:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in net for net in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if (
            scope["type"] not in ("http", "websocket")
            or not client
            or not self.is_trusted(client[0])
        ):
            await self.app(scope, receive, send)
            return
        forwarded = forwarded_for = forwarded_proto = None
        for k, v in scope["headers"]:
            if k == b"forwarded":
                forwarded = v.decode("latin-1")
            elif k == b"x-forwarded-for":
                forwarded_for = v.decode("latin-1")
            elif k == b"x-forwarded-proto":
                forwarded_proto = v.decode("latin-1")
        if forwarded is not None:
            chain, proto = _parse_forwarded(forwarded)
        else:
            chain = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
            proto = forwarded_proto.split(",")[-1].strip().lower() if forwarded_proto else None
        if proto in ("http", "https"):
            if scope["type"] == "websocket":
                proto = "wss" if proto == "https" else "ws"
            scope["scheme"] = proto
        if chain:
            host = chain[-1]
            for candidate in reversed(chain):
                host = candidate
                if not self.is_trusted(candidate):
                    break
            scope["client"] = (host, 0)
        await self.app(scope, receive, send)
