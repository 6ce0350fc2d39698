"""What a request's head must satisfy before it is routed: the header limits, one Host
that is an RFC 3986 authority, no Content-Length beside Transfer-Encoding, and a
request-target within its limit.

RFC 9112 §3.2: a server answers 400 to an HTTP/1.1 request without a Host, with more
than one Host field, or with a Host whose value is not ``uri-host [ ":" port ]``
(RFC 3986 §3.2.2-3.2.3). Left unchecked, a Host such as ``example.com/?`` or
``example.com#x`` moves the request's path out of any URL built from it; two Hosts let a
proxy and the app disagree on which site is asked. RFC 9112 §6.1: a request with both
Content-Length and Transfer-Encoding is a smuggling attempt; it is refused and the
connection closed. RFC 6585 §5: 431 answers header fields that are too large, one or
all of them; RFC 9110 §15.5.15: 414 a request-target longer than the server handles.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping, Sequence
from typing import Any

__all__ = ["CLOSE", "KNOWN_HOSTS", "digits", "head_problem", "target_problem", "valid_host"]

_NAME_CHARS = rb"A-Za-z0-9\-._~!$&'()*+,;="  # RFC 3986 unreserved and sub-delims
_HOST = re.compile(
    # IP-literal: an IPv6 address (checked below) or an IPvFuture
    rb"(?:\[(?P<literal>[0-9A-Fa-f:.]+|[vV][0-9A-Fa-f]+\.[" + _NAME_CHARS + rb":]+)\]"
    # reg-name, which IPv4address is a case of; it may be empty (RFC 9112 §3.2)
    rb"|(?:[" + _NAME_CHARS + rb"]|%[0-9A-Fa-f]{2})*)"
    rb"(?::(?P<port>[0-9]{0,5}))?"
)

#: Host values found valid. PERF: ``App.__call__`` accepts a Host in here with one set
#: lookup; any other goes through :func:`valid_host` (and lands here when valid).
KNOWN_HOSTS: set[bytes] = set()
_KNOWN_MAX = 256  # distinct hosts remembered; the set starts over when full
_KNOWN_LONGEST = 300  # bytes: longer values (a 253-byte DNS name and a port) are not kept


def digits(value: str | bytes) -> int | None:
    """The number a header writes as ``1*DIGIT`` (Content-Length, RFC 9110 §8.6; a
    range's positions, §14.1.1), or ``None``: Python's ``int()`` also takes a sign,
    spaces, ``_`` and non-ASCII digits, none of which the grammar allows."""
    if not (value.isascii() and value.isdigit()):
        return None
    try:
        return int(value)
    except ValueError:  # beyond int()'s 4,300 digits
        return None


def valid_host(value: bytes) -> bool:
    """Whether ``value`` is ``host[:port]`` by RFC 3986: a registered name or IPv4
    address, or a bracketed IPv6/IPvFuture literal, and a port up to 65535.

    No userinfo (``@``), path, query or fragment, backslash or whitespace.
    """
    if value in KNOWN_HOSTS:
        return True
    match = _HOST.fullmatch(value)
    if match is None:
        return False
    port = match["port"]
    if port and int(port) > 65535:
        return False
    literal = match["literal"]
    if literal is not None and literal[0] not in b"vV":
        import ipaddress

        try:
            ipaddress.IPv6Address(literal.decode("ascii"))
        except ValueError:
            return False
    if len(value) <= _KNOWN_LONGEST:
        if len(KNOWN_HOSTS) >= _KNOWN_MAX:
            KNOWN_HOSTS.clear()
        KNOWN_HOSTS.add(value)
    return True


#: Sent with every refusal of a head: the connection may hold a smuggled request.
CLOSE = {"connection": "close"}


def head_problem(
    headers: Sequence[tuple[bytes, bytes]],
    max_count: int,
    max_total: int,
    max_line: int,
    http_version: str | None = None,
) -> tuple[int, str] | None:
    """The status and detail refusing ``headers``, or ``None`` when they are acceptable.

    A header's size is its name's bytes plus its value's. ``http_version`` ``"1.1"``
    requires a Host (HTTP/1.0 may omit it; HTTP/2 and 3 carry ``:authority``).
    """
    if len(headers) > max_count:
        return 431, f"The request has more than {max_count} headers."
    total = 0
    host: bytes | None = None
    hosts = 0
    length = chunked = False
    for name, value in headers:
        size = len(name) + len(value)
        if size > max_line:
            field = name[:64].decode("latin-1")
            return 431, f"The request header {field!r} is larger than {max_line} bytes."
        total += size
        if name == b"host":
            hosts += 1
            host = value
        elif name == b"content-length":
            length = True
        elif name == b"transfer-encoding":
            chunked = True
    if total > max_total:
        return 431, f"The request has more than {max_total} bytes of headers."
    if hosts > 1:
        return 400, "The request has more than one Host header (RFC 9112 section 3.2)."
    if host is None:
        if http_version == "1.1":
            return 400, "An HTTP/1.1 request needs a Host header (RFC 9112 section 3.2)."
    elif not valid_host(host):
        return 400, "The Host header is not a valid host[:port] (RFC 3986 authority)."
    if length and chunked:
        return 400, (
            "The request has both Content-Length and Transfer-Encoding (RFC 9112 section 6.1)."
        )
    return None


def target_problem(scope: MutableMapping[str, Any], max_target: int) -> tuple[int, str] | None:
    """414 when the request-target (path and query, as received) is longer than
    ``max_target`` bytes; ``None`` otherwise."""
    raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "replace")
    if len(raw) + len(scope.get("query_string", b"")) > max_target:
        return 414, f"The request-target is longer than {max_target} bytes."
    return None
