"""Default response headers: the headers an app adds to each response that does not set
them itself, with a separate set for responses a browser renders as documents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

__all__ = [
    "CONTENT_LENGTH",
    "CONTENT_TYPE",
    "DEFAULT_HEADERS_KEY",
    "DOCUMENT_TYPES",
    "DefaultHeaders",
    "default_headers_of",
    "is_document",
    "merge_default_headers",
]

#: The framing header names every response line is built with. PERF: the merge tells
#: the header list ``Response.__init__`` builds by these very objects (``is``).
CONTENT_LENGTH = b"content-length"
CONTENT_TYPE = b"content-type"

#: Framing headers the response itself must own; a default value would be wrong.
_NOT_DEFAULTS = frozenset({CONTENT_LENGTH, CONTENT_TYPE, b"transfer-encoding"})

#: Scope key under which an App puts its default response headers.
DEFAULT_HEADERS_KEY = "qake.default_headers"


class DefaultHeaders(NamedTuple):
    """Headers added to each response that does not set them itself.

    ``document_pairs`` (when given) replace ``pairs`` for responses a browser renders
    as a document (see :func:`is_document`): headers such as ``Referrer-Policy`` or a
    page's ``Content-Security-Policy`` only mean something there.
    """

    pairs: list[tuple[bytes, bytes]]
    names: frozenset[bytes]
    document_pairs: list[tuple[bytes, bytes]] | None = None
    document_names: frozenset[bytes] = frozenset()


#: Media types a browser renders as an active document (scripts, subresources, frames).
DOCUMENT_TYPES = (
    b"text/html",
    b"application/xhtml+xml",
    b"image/svg+xml",
    b"text/xml",
    b"application/xml",
)


def is_document(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    """Whether a response with these (lower-case) headers may be rendered as a document:
    an HTML, XHTML, SVG or XML Content-Type, or none at all (a browser would sniff)."""
    for name, value in headers:
        if name == CONTENT_TYPE:
            document = _DOCUMENT_BY_VALUE.get(value)
            return _document_type(value) if document is None else document
    return True


#: PERF: responses reuse a handful of Content-Type values; each is classified once.
_DOCUMENT_BY_VALUE: dict[bytes, bool] = {}


def _document_type(content_type: bytes) -> bool:
    """Whether a Content-Type value names a document type (remembered for next time)."""
    document = content_type.partition(b";")[0].strip().lower() in DOCUMENT_TYPES
    if len(_DOCUMENT_BY_VALUE) < 256:
        _DOCUMENT_BY_VALUE[content_type] = document
    return document


def _pairs_of(
    headers: Mapping[str, str] | Sequence[tuple[bytes, bytes]],
) -> list[tuple[bytes, bytes]]:
    if isinstance(headers, Mapping):
        pairs = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    else:
        pairs = [(bytes(k).lower(), bytes(v)) for k, v in headers]
    for name, value in pairs:
        if b"\r" in value or b"\n" in value:
            raise ValueError(f"default header {name!r}: the value contains a line break")
        if name in _NOT_DEFAULTS:
            raise ValueError(
                f"default header {name!r}: each response sets its own framing headers; "
                "set it on the response instead"
            )
    return pairs


def default_headers_of(
    headers: Mapping[str, str] | Sequence[tuple[bytes, bytes]],
    documents: Mapping[str, str] | Sequence[tuple[bytes, bytes]] | None = None,
) -> DefaultHeaders:
    """Normalise ``{"name": "value"}`` or raw pairs into :class:`DefaultHeaders`;
    ``documents`` are the headers for document responses instead of ``headers``."""
    pairs = _pairs_of(headers)
    if documents is None:
        return DefaultHeaders(pairs, frozenset(k for k, _ in pairs))
    document_pairs = _pairs_of(documents)
    return DefaultHeaders(
        pairs,
        frozenset(k for k, _ in pairs),
        document_pairs,
        frozenset(k for k, _ in document_pairs),
    )


def merge_default_headers(
    defaults: DefaultHeaders, headers: Sequence[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """A new list: ``headers`` plus the defaults (the document set for a document) that
    they do not already carry. ``headers`` itself is never changed (responses reuse it)."""
    if type(headers) is list and len(headers) == 2 and headers[0][0] is CONTENT_LENGTH:
        name, value = headers[1]
        if name is CONTENT_TYPE:
            # PERF: what Response.__init__ builds without extra headers: Content-Length
            # and Content-Type, which are never defaults (default_headers_of refuses them).
            if defaults.document_pairs is not None:
                document = _DOCUMENT_BY_VALUE.get(value)
                if document is None:
                    document = _document_type(value)
                if document:
                    return headers + defaults.document_pairs
            return headers + defaults.pairs
    pairs, names = defaults.pairs, defaults.names
    if defaults.document_pairs is not None and is_document(headers):
        pairs, names = defaults.document_pairs, defaults.document_names
    for name, _ in headers:
        if name in names:  # the response set one of them itself: its value wins
            present = {k for k, _ in headers}
            return [*headers, *(pair for pair in pairs if pair[0] not in present)]
    # PERF: list + list is the cheapest concatenation.
    return headers + pairs if type(headers) is list else [*headers, *pairs]
