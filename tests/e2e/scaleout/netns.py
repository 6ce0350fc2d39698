"""Two "hosts" on one machine: network namespaces joined by a bridge on a private /24.

``Hosts.create()`` makes a bridge on the host side (address ``.1``) and, per host, a
namespace with one end of a veth pair (addresses ``.2``, ``.3``...), the other end on the
bridge. The host side reaches every namespace and every namespace reaches ``.1``;
``Hosts.remove()`` deletes all of it (deleting a namespace deletes its veth pair).
Needs root (CAP_NET_ADMIN) and the ``ip`` tool; :func:`unavailable` says why not.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import random
import shutil
import subprocess
from dataclasses import dataclass, field

__all__ = ["Hosts", "unavailable"]

_serial = itertools.count()


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None when they can."""
    if shutil.which("ip") is None:
        return "the ip tool (iproute2) is not installed"
    if os.geteuid() != 0:
        return f"network namespaces need root (CAP_NET_ADMIN); running as uid {os.geteuid()}"
    probe = f"qkprobe{os.getpid() % 100000}"
    try:
        _ip("netns", "add", probe)
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return f"ip netns add failed: {detail.decode(errors='replace').strip() or exc}"
    _ip("netns", "del", probe)
    try:
        _ip("link", "add", probe, "type", "bridge")
    except (subprocess.CalledProcessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return f"no bridge device: {detail.decode(errors='replace').strip() or exc}"
    _ip("link", "del", probe)
    return None


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.x.y.0/24 that no route of this machine overlaps."""
    routes = subprocess.run(
        ["ip", "-4", "route", "show", "table", "all"], capture_output=True, text=True, check=True
    ).stdout
    used = []
    for line in routes.splitlines():
        word = line.split()[0] if line.split() else ""
        if word in ("local", "broadcast", "unreachable"):
            word = line.split()[1]
        try:
            used.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            continue
    used = [net for net in used if net.prefixlen > 0]  # the default route overlaps all
    for _ in range(200):
        net = ipaddress.ip_network(f"10.{random.randint(1, 254)}.{random.randint(0, 255)}.0/24")
        if not any(net.overlaps(other) for other in used):
            return net
    raise RuntimeError("no free 10.x.y.0/24 subnet")  # pragma: no cover


@dataclass
class Hosts:
    """``count`` namespaces on a bridge; names carry the creating process's pid."""

    count: int = 2
    tag: str = field(default_factory=lambda: f"{os.getpid() % 100000}{next(_serial)}")
    subnet: ipaddress.IPv4Network = field(default_factory=_free_subnet)
    made: list[tuple[str, str]] = field(default_factory=list)  # ("netns"|"link", name)

    @property
    def bridge(self) -> str:
        return f"qkbr{self.tag}"

    @property
    def gateway(self) -> str:
        """The host side's address (the bridge)."""
        return str(self.subnet.network_address + 1)

    def namespace(self, i: int) -> str:
        return f"qkscale-{self.tag}-{i}"

    def address(self, i: int) -> str:
        return str(self.subnet.network_address + 2 + i)

    def create(self) -> None:
        prefix = self.subnet.prefixlen
        _ip("link", "add", self.bridge, "type", "bridge")
        self.made.append(("link", self.bridge))
        _ip("addr", "add", f"{self.gateway}/{prefix}", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for i in range(self.count):
            ns, outside, inside = self.namespace(i), f"qkh{self.tag}x{i}", f"qkn{self.tag}x{i}"
            assert len(outside) <= 15, outside  # IFNAMSIZ
            _ip("netns", "add", ns)
            self.made.append(("netns", ns))
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            self.made.append(("link", outside))
            _ip("link", "set", inside, "netns", ns)
            _ip("link", "set", outside, "master", self.bridge)
            _ip("link", "set", outside, "up")
            _ip("-n", ns, "addr", "add", f"{self.address(i)}/{prefix}", "dev", inside)
            _ip("-n", ns, "link", "set", inside, "up")
            _ip("-n", ns, "link", "set", "lo", "up")

    def exec_prefix(self, i: int) -> list[str]:
        """The command prefix that runs a program on host ``i``."""
        return ["ip", "netns", "exec", self.namespace(i)]

    def remove(self) -> None:
        """Delete everything :meth:`create` made (namespaces first, then links)."""
        for kind, name in reversed(self.made):
            args = ("netns", "del", name) if kind == "netns" else ("link", "del", name)
            subprocess.run(["ip", *args], capture_output=True, timeout=20)
        self.made.clear()
