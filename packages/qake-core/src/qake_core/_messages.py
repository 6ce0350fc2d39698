"""A response on the wire: its framing header lines and the two ASGI messages that
carry it.

Every response qake-core sends starts through :func:`response_messages`: the HEAD rule
and the app's default headers are applied there, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import overload

from qake_core._default_headers import (
    CONTENT_LENGTH,
    CONTENT_TYPE,
    DefaultHeaders,
    merge_default_headers,
)
from qake_core.types import Message

__all__ = [
    "BODYLESS_STATUSES",
    "CONTENT_LENGTH_LINES",
    "JSON_CONTENT_TYPE",
    "content_type",
    "not_modified_headers",
    "response_messages",
]


class _ContentLengthLines(dict[int, tuple[bytes, bytes]]):
    """``lines[size]`` is the ``(b"content-length", b"<size>")`` header line.

    PERF: formatting the number costs more than the rest of a small response's header
    list, so the line of each size seen is kept, up to a bound on the size.
    """

    __slots__ = ()
    cached_sizes = 2048

    def __missing__(self, size: int) -> tuple[bytes, bytes]:
        line = (CONTENT_LENGTH, b"%d" % size)
        if size < self.cached_sizes:
            self[size] = line
        return line


#: ``CONTENT_LENGTH_LINES[size]``: the Content-Length header line of a body size.
CONTENT_LENGTH_LINES = _ContentLengthLines()

#: Statuses whose responses have no body, hence no Content-Length.
BODYLESS_STATUSES = frozenset([*range(200), 204, 304])

#: The Content-Type line of every JSON response qake-core builds.
JSON_CONTENT_TYPE = (CONTENT_TYPE, b"application/json")

_CONTENT_TYPES: dict[tuple[str, str], bytes] = {}


def content_type(media_type: str, charset: str) -> bytes:
    """The Content-Type header value of ``media_type``: a text type gets ``charset``
    unless it names one. Cached per type."""
    value = _CONTENT_TYPES.get((media_type, charset))
    if value is None:
        full = media_type
        if media_type.startswith("text/") and "charset=" not in media_type:
            full = f"{media_type}; charset={charset}"
        value = full.encode("latin-1")
        if len(_CONTENT_TYPES) < 256:
            _CONTENT_TYPES[(media_type, charset)] = value
    return value


#: What a 304 keeps of the response it stands for (RFC 9110 §15.4.5): its validators
#: and the headers that update a cache's copy.
_NOT_MODIFIED_KEPT = frozenset({b"etag", b"last-modified", b"cache-control", b"vary", b"expires"})


def not_modified_headers(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The header lines of the 304 that answers a conditional request for a response
    with these (lower-case) ``headers``."""
    return [line for line in headers if line[0] in _NOT_MODIFIED_KEPT]


@overload
def response_messages(
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    method: str,
    defaults: DefaultHeaders | None,
) -> tuple[Message, Message]: ...
@overload
def response_messages(
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: None,
    method: str,
    defaults: DefaultHeaders | None,
) -> tuple[Message, Message | None]: ...
def response_messages(
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes | None,
    method: str,
    defaults: DefaultHeaders | None,
) -> tuple[Message, Message | None]:
    """The ``http.response.start`` and ``http.response.body`` messages of a response to
    a ``method`` request.

    The start carries ``headers`` and the ``defaults`` they do not set themselves (a
    new list: ``headers`` is never changed, responses reuse it). A HEAD request gets the
    headers and an empty body. ``body=None`` is a body the caller streams: the second
    message is then ``None``, except for HEAD, where it is the empty body that ends
    the response (there is nothing to stream).

    PERF: a plain function that builds the two dicts: the route runners call it inline
    and await the sends themselves, without a coroutine of its own.
    """
    if defaults is not None:
        headers = merge_default_headers(defaults, headers)
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    if method == "HEAD":
        return start, {"type": "http.response.body", "body": b""}
    if body is None:
        return start, None
    return start, {"type": "http.response.body", "body": body}
