"""Open-redirect protection for redirect targets taken from the request."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["is_safe_redirect"]


def is_safe_redirect(
    url: str, allowed_hosts: Iterable[str] = (), *, require_https: bool = False
) -> bool:
    """Whether redirecting to ``url`` stays on this site or on ``allowed_hosts``.

    Relative paths (``/next``) are safe; scheme-relative (``//evil.com``),
    backslash tricks (``/\\evil.com``), control characters and schemes other than
    http(s) (``javascript:``) are not. Absolute URLs are safe only when their host
    is in ``allowed_hosts`` (and, with ``require_https``, the scheme is https).
    """
    if not url or any(ord(c) < 0x20 or c == "\x7f" for c in url):
        return False
    url = url.strip()
    # Browsers treat "\" as "/": "/\evil.com" is "//evil.com".
    if "\\" in url:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not parts.scheme and not parts.netloc:
        return not url.startswith("//")
    if parts.scheme not in ("http", "https") or not host:
        return False
    if require_https and parts.scheme != "https":
        return False
    if parts.username is not None or parts.password is not None:
        return False
    allowed = {h.lower() for h in allowed_hosts}
    return host.lower() in allowed
