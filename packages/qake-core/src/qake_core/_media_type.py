"""A strict, linear-time parser for media types (``Content-Type`` values).

RFC 9110 §8.3.1 and §5.6.6::

    media-type      = type "/" subtype parameters
    parameters      = *( OWS ";" OWS [ parameter ] )
    parameter       = parameter-name "=" parameter-value
    parameter-value = ( token / quoted-string )

Anything else (a stray character, an unterminated quoted string, whitespace around
``=``, a parameter named twice, more than :data:`MAX_PARAMETERS` parameters) is
malformed: :class:`MediaTypeError`. The regexes below never backtrack, so parsing is
linear in the header's length whatever it holds.
"""

from __future__ import annotations

import re

from qake_core._exceptions import HTTPException

__all__ = ["MediaTypeError", "body_media_type", "parse_media_type"]

#: A media type with more parameters than this is refused: real ones carry two or three
#: (``charset``, ``boundary``), and the cap bounds the per-parameter work.
MAX_PARAMETERS = 32

_TCHAR = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
# PERF: possessive quantifiers (``*+``, ``++``): nothing is ever backtracked into, and
# the alternatives start on disjoint characters, so a match (or a failure) costs one
# pass over the characters it looked at. Empty parameters (";;") are consumed at once.
_TYPE = re.compile(rf"({_TCHAR}++)/({_TCHAR}++)")
# qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text; quoted-pair = "\" char.
_PARAMETER = re.compile(
    rf"(?:[ \t]*+;)++[ \t]*+(?:({_TCHAR}++)=(?:({_TCHAR}++)"
    r'|"((?:[\t !#-\[\]-~\x80-\xff]++|\\[\t -~\x80-\xff])*+)"))?'
)
# NOTE: stands in for an escaped backslash while the other escapes are removed; a
# quoted string that matched the pattern above holds no character beyond U+00FF.
_SENTINEL = "\ue000"


def _unescape(quoted: str) -> str:
    # PERF: str.replace passes, no per-escape work. The pattern matched quoted pairs
    # from the left, so ``\\`` pairs are exactly the escaped backslashes and every
    # other backslash escapes the (non-backslash) character after it.
    return quoted.replace("\\\\", _SENTINEL).replace("\\", "").replace(_SENTINEL, "\\")


class MediaTypeError(ValueError):
    """A media type that does not follow RFC 9110's syntax."""


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """``"Text/HTML; Charset=\\"utf-8\\""`` → ``("text/html", {"charset": "utf-8"})``.

    The type and parameter names are lower-cased (they are case-insensitive); values
    are kept as sent, a quoted string unquoted. Raises :class:`MediaTypeError`.
    """
    value = value.strip(" \t")
    match = _TYPE.match(value)
    if match is None:
        raise MediaTypeError("expected type/subtype")
    media_type = f"{match[1]}/{match[2]}".lower()
    params: dict[str, str] = {}
    pos = match.end()
    end = len(value)
    while pos < end:
        match = _PARAMETER.match(value, pos)
        if match is None:
            raise MediaTypeError(f"unexpected character at offset {pos}")
        pos = match.end()
        name = match[1]
        if name is None:  # only empty parameters (";;" or a last ";"), which are allowed
            continue
        name = name.lower()
        if len(params) == MAX_PARAMETERS:
            raise MediaTypeError(f"more than {MAX_PARAMETERS} parameters")
        if name in params:
            # NOTE: RFC 9110 leaves a repeated parameter undefined; two parsers that
            # pick different ones (a proxy and this app, say) would read two different
            # bodies, so it is refused rather than guessed.
            raise MediaTypeError("a parameter is given twice")
        token, quoted = match[2], match[3]
        if token is not None:
            params[name] = token
        elif "\\" in quoted:
            params[name] = _unescape(quoted)
        else:
            params[name] = quoted
    return media_type, params


def body_media_type(content_type: str | None) -> tuple[str, dict[str, str]] | None:
    """A request body's media type and parameters from its ``Content-Type`` header;
    ``None`` without one. A value that breaks RFC 9110's syntax (a stray character, an
    unterminated quoted string, a repeated parameter) is a bad request: 400, not an
    unsupported type, since its parameters (a multipart boundary) cannot be trusted."""
    if content_type is None:
        return None
    try:
        return parse_media_type(content_type)
    except MediaTypeError as exc:
        raise HTTPException(400, f"Malformed Content-Type header: {exc}.") from None
