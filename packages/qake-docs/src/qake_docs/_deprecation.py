"""A route's deprecation and sunset in its OpenAPI operation (qake-core's ``Lifecycle``).

The operation is marked ``deprecated``; its description ends with a note a reader of
the docs page sees (since when, until when, what replaces it); the dates and the
successor are also given as extensions (``x-deprecated-at``, ``x-sunset``: RFC 3339
date-times, ``x-successor``) for tools; and each response the operation describes in
place lists the ``Deprecation``, ``Sunset`` and ``Link`` headers it carries, with the
values sent. Shared responses (``$ref`` to ``components/responses``, the problem
answers) cannot hold per-operation headers: the note and the extensions cover them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from qake_core import APIRoute, Lifecycle, lifecycle_headers

__all__ = ["document_lifecycle"]

_HEADERS = {
    b"deprecation": (
        "Deprecation",
        "When this operation was (or will be) deprecated (RFC 9745): a Structured Field "
        "Date, '@' and seconds since the Unix epoch.",
    ),
    b"sunset": (
        "Sunset",
        "When this operation is expected to stop answering (RFC 8594), an HTTP-date.",
    ),
    b"link": (
        "Link",
        'Links (RFC 8288): rel="successor-version" to what replaces this operation, '
        'rel="deprecation" and rel="sunset" to their documentation.',
    ),
}


def _rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _note(lifecycle: Lifecycle, deprecated: bool) -> str:
    """What a reader of the docs page is told: since when, until when, what instead."""
    parts: list[str] = []
    if lifecycle.deprecated_at is not None:
        parts.append(f"Deprecated since {_rfc3339(lifecycle.deprecated_at)}.")
    elif deprecated:
        parts.append("Deprecated.")
    if lifecycle.sunset is not None:
        parts.append(f"Sunset: {_rfc3339(lifecycle.sunset)} (expected to stop answering then).")
    if lifecycle.successor is not None:
        parts.append(f"Use `{lifecycle.successor}` instead.")
    if lifecycle.deprecation_link is not None:
        parts.append(f"Details: <{lifecycle.deprecation_link}>.")
    if lifecycle.sunset_link is not None and lifecycle.sunset_link != lifecycle.deprecation_link:
        parts.append(f"Sunset details: <{lifecycle.sunset_link}>.")
    return " ".join(parts)


def document_lifecycle(op: dict[str, Any], route: APIRoute, where: str) -> None:
    """Add ``route``'s deprecation and sunset to its operation ``op`` (its responses
    already built); a route without them is left as it is (``deprecated=True`` alone
    still marks the operation deprecated)."""
    lifecycle: Lifecycle | None = route.meta.get("lifecycle")
    if route.deprecated:
        op["deprecated"] = True
    if lifecycle is None:
        return
    note = _note(lifecycle, route.deprecated)
    description = op.get("description")
    op["description"] = f"{description}\n\n{note}" if description else note
    if lifecycle.deprecated_at is not None:
        op["x-deprecated-at"] = _rfc3339(lifecycle.deprecated_at)
    if lifecycle.sunset is not None:
        op["x-sunset"] = _rfc3339(lifecycle.sunset)
    if lifecycle.successor is not None:
        op["x-successor"] = lifecycle.successor
    headers: dict[str, Any] = {}
    for name, value in lifecycle_headers(lifecycle, route.deprecated, where):
        title, text = _HEADERS[name]
        headers[title] = {
            "description": text,
            "schema": {"type": "string"},
            "example": value.decode("ascii"),
        }
    responses = op.get("responses", {})
    for code, response in responses.items():
        if isinstance(response, dict) and "$ref" not in response:
            # A copy: a response object may be shared with other operations. A header
            # the route declared itself (responses={...: {"headers": ...}}) wins.
            responses[code] = {**response, "headers": {**headers, **response.get("headers", {})}}
