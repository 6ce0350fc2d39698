"""Reading one response: the problems a single answer can show."""

from __future__ import annotations

import re

import httpx

_TRACE = re.compile(r'Traceback \(most recent call last\)|File "[^"\n]+", line \d+')
#: Characters that make a reflected payload dangerous in HTML.
_HTML_SPECIAL = frozenset("<>\"'")


def _snippet(text: str, start: int, length: int, margin: int = 30) -> str:
    begin = max(0, start - margin)
    return text[begin : start + length + margin].replace("\n", "\\n")


def stack_trace(response: httpx.Response) -> str | None:
    match = _TRACE.search(response.text)
    return None if match is None else _snippet(response.text, match.start(), len(match[0]))


def reflected_unescaped(response: httpx.Response, payload: str) -> str | None:
    """Evidence if an HTML response contains ``payload`` verbatim (and it has HTML in it)."""
    if not _HTML_SPECIAL.intersection(payload):
        return None
    content_type = response.headers.get("content-type", "")
    if not content_type.lower().startswith(("text/html", "application/xhtml")):
        return None
    index = response.text.find(payload)
    return None if index < 0 else _snippet(response.text, index, len(payload))


#: Media types a browser renders as a document (a missing Content-Type counts too).
_DOCUMENTS = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml")


def missing_security_headers(response: httpx.Response) -> list[str]:
    """Every response: ``nosniff`` and a framing policy (CSP or X-Frame-Options);
    documents also a ``Referrer-Policy`` (it acts on nothing else)."""
    headers = response.headers
    missing = []
    if headers.get("x-content-type-options", "").strip().lower() != "nosniff":
        missing.append("X-Content-Type-Options")
    if "content-security-policy" not in headers and "x-frame-options" not in headers:
        missing.append("Content-Security-Policy/X-Frame-Options")
    media = headers.get("content-type", "").partition(";")[0].strip().lower()
    if (not media or media in _DOCUMENTS) and "referrer-policy" not in headers:
        missing.append("Referrer-Policy")
    return missing


def insecure_cors(response: httpx.Response, origin: str) -> str | None:
    allowed = response.headers.get("access-control-allow-origin")
    credentials = response.headers.get("access-control-allow-credentials", "").lower()
    if allowed in (origin, "*") and credentials == "true":
        return (
            f"Access-Control-Allow-Origin: {allowed} with Access-Control-Allow-Credentials: "
            f"true for Origin {origin}"
        )
    return None
