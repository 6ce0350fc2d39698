"""Output encoding for the rare hand-built HTML, script data, URL or SQL identifier.

qake-security never "sanitises" input: data is stored and returned exactly as sent,
and encoded for the context it is written into (OWASP Cross Site Scripting
Prevention Cheat Sheet, rules 1-3 and 5; OWASP SQL Injection Prevention Cheat
Sheet, option 3: allow-list the rare dynamic identifier, bind every value).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import Any

import orjson

__all__ = ["escape_html", "escape_js_string", "safe_identifier", "safe_url"]

# The same five replacements as markupsafe, so output does not depend on what is installed.
_HTML_TABLE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})


def _escape_html_plain(value: Any) -> str:
    html = getattr(value, "__html__", None)
    if html is not None:
        return str(html())
    return str(value).translate(_HTML_TABLE)


_escape: Callable[[Any], str] = _escape_html_plain
_as_markup: Callable[[str], str] = str
try:  # markupsafe comes with jinja2 (the templates extra)
    from markupsafe import Markup, escape

    _escape, _as_markup = escape, Markup
except ImportError:  # pragma: no cover - depends on the environment
    pass

# Inside <script>, "</script>" or "<!--" end or confuse the element; U+2028/2029 ended
# JavaScript string literals before ES2019. \u escapes mean the same to JSON and JS.
_SCRIPT_TABLE = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
# WHATWG URL parser: leading/trailing C0 controls and spaces are stripped, and tabs and
# newlines anywhere are removed, before the scheme is read ("java\tscript:" is javascript:).
_URL_STRIP = "".join(chr(c) for c in range(0x21))
_URL_REMOVED = str.maketrans("", "", "\t\n\r")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
#: What :func:`safe_url` gives instead of a URL whose scheme is not allowed.
UNSAFE_URL = "about:invalid"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def escape_html(value: Any) -> str:
    """``value`` as text safe inside an HTML element or a quoted attribute: ``& < > " '``
    become character references. An object with ``__html__`` (``markupsafe.Markup``)
    is already markup and is returned as is. With markupsafe installed the result is
    ``Markup``, so a Jinja2 template does not escape it twice."""
    return _escape(value)


def escape_js_string(value: Any) -> str:
    """``value`` as JSON text that can be written inside a ``<script>`` element:
    ``const data = {{ escape_js_string(data) }};``. ``< > &`` and U+2028/U+2029 are
    written as ``\\u`` escapes, so no value can close the element or start a comment;
    ``JSON.parse`` and JavaScript read back exactly ``value``. (Markup with markupsafe
    installed: a template must not HTML-escape script content.)

    Never put it in an event-handler attribute or a URL: those are other contexts.
    """
    text = orjson.dumps(value).decode("utf-8").translate(_SCRIPT_TABLE)
    return _as_markup(text)


def safe_url(url: str, schemes: Collection[str] = ("http", "https", "mailto")) -> str:
    """``url`` when it is relative or its scheme is one of ``schemes``; otherwise
    :data:`UNSAFE_URL`. For ``href``/``src`` values a user supplied: escaping keeps
    ``javascript:alert(1)`` from breaking out of the attribute, but a browser would still
    run it when the link is followed (OWASP XSS cheat sheet, rule 5). Escape the result
    as usual (templates do)."""
    cleaned = url.strip(_URL_STRIP).translate(_URL_REMOVED)
    match = _SCHEME.match(cleaned)
    if match is None:
        return url  # relative: no scheme of its own
    allowed = {s.lower() for s in schemes}
    return url if match.group(1).lower() in allowed else UNSAFE_URL


def safe_identifier(name: str, allowed: Collection[str] | None = None) -> str:
    """A dynamic SQL identifier (a column to sort by, a table name), double-quoted as the
    SQL standard (and SQLite, PostgreSQL; MySQL in ANSI_QUOTES mode) reads identifiers.

    With ``allowed``, ``name`` must be one of them (the safer choice: the allow-list
    OWASP recommends); without it, ``name`` must match ``[A-Za-z_][A-Za-z0-9_]{0,62}``.
    Anything else raises ``ValueError``. Values are never written into SQL this way:
    bind them as parameters (``cursor.execute("... WHERE name = ?", (name,))``). A
    quoted identifier is case-sensitive in PostgreSQL.
    """
    if not isinstance(name, str):
        raise TypeError(f"safe_identifier: the name must be a string, got {type(name).__name__}")
    shown = repr(name[:40] + ("..." if len(name) > 40 else ""))
    if allowed is not None:
        if isinstance(allowed, str):
            raise TypeError("safe_identifier(allowed=...): give a collection of names")
        if name not in allowed:
            raise ValueError(f"safe_identifier: {shown} is not one of the allowed identifiers")
    elif _IDENTIFIER.fullmatch(name) is None:
        raise ValueError(
            f"safe_identifier: {shown} is not a plain identifier (letters, digits and "
            "underscores, not starting with a digit, at most 63 characters); pass allowed="
        )
    return '"' + name.replace('"', '""') + '"'
