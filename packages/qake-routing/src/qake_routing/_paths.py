"""Splitting a request path into decoded segments.

The path is split on ``/`` first and each segment is percent-decoded once afterwards,
so a ``%2F`` stays inside its segment and ``%252F`` becomes the text ``%2F``.
"""

from __future__ import annotations

from urllib.parse import unquote

__all__ = ["split_path"]


def _utf8_from_latin1(path: str) -> str:
    # ASGI's raw_path decoded as latin-1 turns raw UTF-8 bytes into mojibake; undo it.
    # A str that was never latin-1 bytes (real Unicode) is left as it is.
    try:
        return path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return path


def split_path(path: str) -> list[str]:
    """Segments of the raw ``path`` (which starts with '/'), each decoded exactly once.

    The router does not call this for an ASCII path without '%': that is a plain split.
    """
    if not path.isascii():
        path = _utf8_from_latin1(path)
    segments = path[1:].split("/")
    # unquote() leaves malformed escapes ('%zz') as they are and replaces invalid UTF-8.
    return [unquote(segment) if "%" in segment else segment for segment in segments]
