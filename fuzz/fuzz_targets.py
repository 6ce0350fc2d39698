"""The fuzz targets: each takes any bytes and checks that a parser only succeeds or
raises its own parse error (never another exception), plus what must hold of what it
returns. Shared by the atheris harnesses (``fuzz_*.py``, coverage-guided) and by
``run.py``'s hypothesis-driven fallback.

An ``AssertionError`` or any unexpected exception is a finding: the harness reports it
as a crash and writes the input to ``fuzz/artifacts/``.
"""

from __future__ import annotations

import re

from qake_core import TrustedHostMiddleware, format_set_cookie, parse_cookie_header
from qake_core._cookies import MAX_COOKIE_PAIRS
from qake_core._datastructures import URL
from qake_core._exceptions import HTTPException
from qake_core._file_response import _RangeError, parse_range
from qake_core._media_type import MAX_PARAMETERS, MediaTypeError, parse_media_type
from qake_core._multipart import _boundary
from qake_core._request_head import head_problem, valid_host

__all__ = ["TARGETS", "cookie", "host", "media_type", "range_header"]

_CONTROL = {*map(chr, range(0x09)), *map(chr, range(0x0A, 0x20)), "\x7f"}


def _text(data: bytes) -> str:
    """The input as text: Latin-1 (what a server decodes a header as) unless its first
    byte is odd, then UTF-8 (so characters past U+00FF are tried too)."""
    if data[:1] and data[0] & 1:
        return data[1:].decode("utf-8", "replace")
    return data[1:].decode("latin-1")


def cookie(data: bytes) -> None:
    """``parse_cookie_header`` never raises; ``format_set_cookie`` writes a line that
    parses back to its name and value, or raises ``ValueError``."""
    text = _text(data)
    cookies = parse_cookie_header(text)
    assert isinstance(cookies, dict)
    assert len(cookies) <= MAX_COOKIE_PAIRS
    for key, value in cookies.items():
        assert isinstance(key, str)
        assert isinstance(value, str)
        assert key == key.strip()
        assert not _CONTROL.intersection(key)
    key, _, value = text.partition("\x00")
    try:
        line = format_set_cookie(key, value, path=None, samesite=None)
    except ValueError:
        return
    assert not _CONTROL.intersection(line), line
    assert parse_cookie_header(line) == {key: value}, (key, value, line)


def range_header(data: bytes) -> None:
    """``parse_range`` answers ``None``, sorted merged ranges inside the file, or its own
    ``_RangeError``."""
    size = int.from_bytes(data[:2], "big") % 5000 if len(data) >= 2 else 0
    header = data[2:].decode("latin-1")
    try:
        ranges = parse_range(header, size)
    except _RangeError:
        return
    if ranges is None:
        return
    assert ranges, header
    previous_end = -2
    for start, end in ranges:
        assert 0 <= start <= end < size, (header, size, ranges)
        assert start > previous_end + 1, (header, size, ranges)
        previous_end = end


_TRUSTED = TrustedHostMiddleware(lambda *a: None, ["example.com", "*.example.org"])


def host(data: bytes) -> None:
    """``valid_host`` answers a bool (true only for an authority without a path, query,
    fragment, userinfo or whitespace); ``head_problem`` answers ``None`` or a 400;
    ``TrustedHostMiddleware`` answers a bool; no Host moves ``URL``'s path."""
    valid = valid_host(data)
    assert isinstance(valid, bool)
    text = data.decode("latin-1")
    if valid:
        assert not set(text) & set('/?#@\\ \t\r\n"<>^`{|}'), text
        assert text.isascii()
        assert text.isprintable()
    problem = head_problem([(b"host", data)], 100, 1 << 20, 1 << 20)
    assert problem is None if valid else problem is not None and problem[0] == 400
    assert isinstance(_TRUSTED.is_allowed(text), bool)
    scope = {"type": "http", "path": "/admin", "query_string": b"a=1", "headers": [(b"host", data)]}
    url = URL(scope=scope)
    assert url.path == "/admin"
    assert str(url).endswith("/admin?a=1"), str(url)


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _format(media: str, params: dict[str, str]) -> str:
    """RFC 9110's form of a media type: a value is a token, else a quoted string."""
    out = media
    for name, value in params.items():
        if not _TOKEN.fullmatch(value):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out += f"; {name}={value}"
    return out


def media_type(data: bytes) -> None:
    """``parse_media_type`` answers ``(type, params)`` that format back to the same, or
    raises its own ``MediaTypeError``; the multipart boundary check gives bytes or a
    400."""
    text = _text(data)
    try:
        media, params = parse_media_type(text)
    except MediaTypeError:
        return
    assert media == media.lower()
    assert media.count("/") == 1
    assert len(params) <= MAX_PARAMETERS
    assert parse_media_type(_format(media, params)) == (media, params), text
    try:
        boundary = _boundary(params)
    except HTTPException as exc:
        if exc.status_code != 400:
            raise AssertionError(f"boundary refused with {exc.status_code}, not 400") from exc
        return
    assert 1 <= len(boundary) <= 70


#: name → target, as ``run.py`` and the harnesses know them.
TARGETS = {
    "cookie": cookie,
    "range": range_header,
    "host": host,
    "media_type": media_type,
}
