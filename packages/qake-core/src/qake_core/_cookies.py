"""Cookie parsing (request side) and ``Set-Cookie`` formatting (response side)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from http.cookies import _unquote
from typing import Literal

__all__ = ["format_set_cookie", "parse_cookie_header"]

_FORBIDDEN = frozenset(' \t\r\n;,="\\')


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently (as browsers send it); the first value wins."""
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        if "=" in chunk:
            key, _, val = chunk.partition("=")
        else:
            key, val = "", chunk
        key = key.strip()
        val = val.strip()
        if key or val:
            cookies.setdefault(key, _unquote(val))
    return cookies


def format_set_cookie(
    key: str,
    value: str = "",
    *,
    max_age: int | None = None,
    expires: int | str | datetime | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: Literal["lax", "strict", "none"] | None = "lax",
    partitioned: bool = False,
) -> str:
    """One ``Set-Cookie`` header value.

    Enforces the browser rules that would otherwise silently drop the cookie:
    ``SameSite=None`` and ``Partitioned`` need ``Secure``; a ``__Host-`` name needs
    ``Secure``, ``Path=/`` and no ``Domain``; a ``__Secure-`` name needs ``Secure``.
    """
    if not key or any(c in _FORBIDDEN for c in key):
        raise ValueError(f"invalid cookie name {key!r}")
    if any(c in "\r\n;" for c in value):
        raise ValueError(f"cookie {key!r}: value may not contain ';', CR or LF")
    if samesite is not None and samesite.lower() not in ("lax", "strict", "none"):
        raise ValueError(f"cookie {key!r}: samesite must be 'lax', 'strict', 'none' or None")
    if samesite is not None and samesite.lower() == "none" and not secure:
        raise ValueError(f"cookie {key!r}: SameSite=None requires secure=True")
    if partitioned and not secure:
        raise ValueError(f"cookie {key!r}: Partitioned requires secure=True")
    if key.startswith("__Host-") and (not secure or path != "/" or domain is not None):
        raise ValueError(
            f"cookie {key!r}: the __Host- prefix needs secure=True, path='/', no domain"
        )
    if key.startswith("__Secure-") and not secure:
        raise ValueError(f"cookie {key!r}: the __Secure- prefix needs secure=True")
    needs_quotes = any(c in ' ,"\\' for c in value)
    if needs_quotes:
        value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    parts = [f"{key}={value}"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if expires is not None:
        if isinstance(expires, datetime):
            when = expires
        elif isinstance(expires, int):
            when = datetime.fromtimestamp(datetime.now(UTC).timestamp() + expires, UTC)
        else:
            when = None
        parts.append(f"Expires={format_datetime(when, usegmt=True) if when else expires}")
    if path is not None:
        parts.append(f"Path={path}")
    if domain is not None:
        parts.append(f"Domain={domain}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite is not None:
        parts.append(f"SameSite={samesite.capitalize()}")
    if partitioned:
        parts.append("Partitioned")
    return "; ".join(parts)
