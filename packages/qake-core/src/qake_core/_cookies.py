"""Cookie parsing (request side) and ``Set-Cookie`` formatting (response side)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Literal

__all__ = ["format_set_cookie", "parse_cookie_header"]

_FORBIDDEN = frozenset(' \t\r\n;,="\\')

#: A ``Cookie`` header is read up to its first this many ``;``-separated pairs; the rest
#: is ignored. Browsers send at most a few hundred (Chrome keeps 180 per domain).
MAX_COOKIE_PAIRS = 1000

# A pair holding a control character (other than HTAB) is malformed and skipped.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# ``\ooo`` (octal, first digit 0-3) as ``http.cookies`` writes it for bytes it cannot send.
_OCTAL_ESCAPE = re.compile(r"\\([0-3][0-7][0-7])")
_OCTAL = {f"{i:03o}": chr(i) for i in range(256)}
# The slow path's escape: octal first, else any one character (as ``http.cookies``).
_ESCAPE = re.compile(r"\\([0-3][0-7][0-7]|.)")
# NOTE: two private-use characters: one stands in for an escaped backslash, the other
# joins the text between octal escapes. A header decoded from latin-1 holds neither
# (other input takes the slow path, as does a value with a line feed, which
# ``http.cookies`` does not unescape).
_SENTINEL = "\ue000"
_JOINER = "\ue001"


def _unescape_slow(inner: str) -> str:
    parts = _ESCAPE.split(inner)
    parts[1::2] = map(_OCTAL.get, parts[1::2], parts[1::2])
    return "".join(parts)


def _unquote(value: str) -> str:
    """``"..."`` → its content with ``\\c`` → ``c`` and ``\\ooo`` → one octal byte.

    The same result as the standard library's ``http.cookies._unquote`` (what Starlette
    and Django use), in linear time: that one rescans the rest of the value after every
    escape, so a value of backslashes takes quadratic time. Here every step is one
    C-level pass over the value (``str.replace``, one regex split when octal escapes
    are present), which keeps even 1 MiB of escapes to tens of milliseconds.
    """
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    inner = value[1:-1]
    if "\\" not in inner:
        return inner
    if _SENTINEL in inner or _JOINER in inner or "\n" in inner:
        return _unescape_slow(inner)
    # Escapes pair from the start of every run of backslashes, so replacing ``\\``
    # pairs left to right finds exactly the escaped backslashes; every backslash left
    # starts an escape of the (non-backslash) character after it, or ends the value.
    text = inner.replace("\\\\", _SENTINEL)
    tail = ""
    if text[-1] == "\\":  # a last backslash escapes nothing and is kept
        text, tail = text[:-1], "\\"
    if "\\" in text:
        if _OCTAL_ESCAPE.search(text) is None:
            text = text.replace("\\", "")
        else:
            parts = _OCTAL_ESCAPE.split(text)
            # PERF: the text between octal escapes loses its backslashes in one
            # replace over the joined pieces, not one call per piece.
            between = _JOINER.join(parts[0::2]).replace("\\", "")
            parts[0::2] = between.split(_JOINER)
            parts[1::2] = map(_OCTAL.__getitem__, parts[1::2])
            text = "".join(parts)
    return text.replace(_SENTINEL, "\\") + tail


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header leniently (as browsers send it), in linear time.

    Pairs are split on ``;`` then on the first ``=`` and stripped; a pair without
    ``=`` is a nameless cookie (key ``""``), as browsers send one. The first value of a
    name wins. A quoted value (``"..."``) is unquoted with ``http.cookies``' escapes
    (``\\"``, ``\\\\``, ``\\073``). Malformed pairs (empty, or holding a control
    character) are skipped, never an error; only the first :data:`MAX_COOKIE_PAIRS`
    pairs are read.
    """
    cookies: dict[str, str] = {}
    # PERF: split with a cap: the loop below runs at most MAX_COOKIE_PAIRS times however
    # many ``;`` the header holds; every step inside is a C-level pass over one pair.
    pairs = header.split(";", MAX_COOKIE_PAIRS)[:MAX_COOKIE_PAIRS]
    check_controls = _CONTROL.search(header) is not None
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq:
            key, value = "", key
        key = key.strip()
        value = value.strip()
        if (key or value) and key not in cookies:
            if check_controls and _CONTROL.search(pair) is not None:
                continue
            cookies[key] = _unquote(value)
    return cookies


def _check_set_cookie(
    key: str,
    value: str,
    path: str | None,
    domain: str | None,
    secure: bool,
    samesite: str | None,
    partitioned: bool,
) -> None:
    """Refuse what a browser would silently drop (or what would break the header)."""
    # NOTE: no whitespace of any kind (U+00A0 and U+0085 too): a reader strips it.
    if not key or any(c in _FORBIDDEN or c.isspace() for c in key) or _CONTROL.search(key):
        raise ValueError(f"invalid cookie name {key!r}")
    # NOTE: a control character (CR and LF included) cannot be sent in a header field
    # (RFC 9110 §5.5) and makes a browser drop the cookie (RFC 6265bis §5.6).
    if ";" in value or _CONTROL.search(value):
        raise ValueError(f"cookie {key!r}: value may not contain ';' or a control character")
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


def _expires(expires: int | str | datetime) -> str:
    """An ``Expires`` date: a datetime, seconds from now, or a string sent as given."""
    if isinstance(expires, datetime):
        return format_datetime(expires, usegmt=True)
    if isinstance(expires, int):
        when = datetime.fromtimestamp(datetime.now(UTC).timestamp() + expires, UTC)
        return format_datetime(when, usegmt=True)
    return expires


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
    _check_set_cookie(key, value, path, domain, secure, samesite, partitioned)
    # NOTE: quoted also when its ends are whitespace that a reader strips (a tab, or
    # U+00A0 and U+0085, which str.strip removes): the quotes keep them in the value.
    if any(c in ' ,"\\' for c in value) or value != value.strip():
        value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    parts = [f"{key}={value}"]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if expires is not None:
        parts.append(f"Expires={_expires(expires)}")
    if path is not None:
        parts.append(f"Path={path}")
    if domain is not None:
        parts.append(f"Domain={domain}")
    flags = (
        ("Secure", secure),
        ("HttpOnly", httponly),
        (f"SameSite={(samesite or '').capitalize()}", samesite is not None),
        ("Partitioned", partitioned),
    )
    parts += [flag for flag, on in flags if on]
    return "; ".join(parts)
