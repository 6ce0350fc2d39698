"""Request limits with safe defaults, configurable per app, router and route."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["DEFAULT_LIMITS", "Limits", "app_limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds on what a request may send.

    Unset (``None``) fields inherit from the enclosing router or application; the
    application's values default to the safe numbers below.
    """

    max_body_size: int | None = None  # bytes; 1 MiB by default, 413 above it
    max_form_fields: int | None = None  # 1,000 by default
    max_files: int | None = None  # 100 by default
    max_file_size: int | None = None  # 16 MiB per uploaded file by default
    max_part_header_size: int | None = None  # 16 KiB per multipart part's headers
    max_header_count: int | None = None  # 100 request headers by default, 431 above (app-level)
    max_header_size: int | None = None  # 64 KiB of request headers in all by default, 431
    # above (app-level); a header's bytes are its name's and its value's
    max_header_line_size: int | None = None  # 16 KiB per request header by default, 431 above
    # (app-level); the server may cap both lower (h11 answers 400 to a head it has to wait for
    # beyond its buffer), never higher
    max_target_size: int | None = None  # 64 KiB of request-target (path and query) by
    # default, 414 above (app-level)
    body_timeout: float | None = None  # seconds a body read waits for the client's next bytes:
    # 30 by default; 408 and the connection closed when the client stalls for longer

    def merged_over(self, outer: Limits) -> Limits:
        """These limits, with unset fields taken from ``outer``."""
        changes = {
            f.name: getattr(outer, f.name)
            for f in fields(self)
            if getattr(self, f.name) is None and getattr(outer, f.name) is not None
        }
        return replace(self, **changes) if changes else self


DEFAULT_LIMITS = Limits(
    max_body_size=1024 * 1024,
    max_form_fields=1000,
    max_files=100,
    max_file_size=16 * 1024 * 1024,
    max_part_header_size=16 * 1024,
    max_header_count=100,
    max_header_size=64 * 1024,
    max_header_line_size=16 * 1024,
    max_target_size=64 * 1024,
    body_timeout=30.0,
)


def app_limits(app: Any) -> Limits:
    """The complete limits of ``app`` (an ``App``'s are merged over the defaults when it
    is made), or the defaults for anything else. A route's request carries its route's
    limits, merged over the app's when the route was added; this is for a request made
    outside a route (an exception handler's, a middleware's)."""
    limits = getattr(app, "limits", None)
    return limits if isinstance(limits, Limits) else DEFAULT_LIMITS
