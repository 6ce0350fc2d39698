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

# NOTE: the expected headers below mirror qake-security's defaults
# (``qake_security.security_header_sets()``: nosniff and a framing policy on every
# response, the page headers on documents). qake-testing does not import qake-security
# (siblings never import each other): they are data here; keep the two in step.

#: Every response: what it must carry, as (header, value it must have or None for any).
EVERY_RESPONSE: tuple[tuple[str, str | None], ...] = (("x-content-type-options", "nosniff"),)
#: Documents (pages) also need these (the scan's default check).
DOCUMENT_REQUIRED: tuple[str, ...] = ("referrer-policy",)
#: ...and these with ``check_headers="strict"``: the rest of qake-security's page set
#: (OWASP Secure Headers Project), which a page without them may still survive.
DOCUMENT_RECOMMENDED: tuple[str, ...] = (
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "permissions-policy",
    "x-permitted-cross-domain-policies",
)
#: The name a missing framing policy is reported under.
FRAMING = "Content-Security-Policy/X-Frame-Options"
_CANONICAL = {
    "x-content-type-options": "X-Content-Type-Options",
    "referrer-policy": "Referrer-Policy",
    "cross-origin-opener-policy": "Cross-Origin-Opener-Policy",
    "cross-origin-resource-policy": "Cross-Origin-Resource-Policy",
    "permissions-policy": "Permissions-Policy",
    "x-permitted-cross-domain-policies": "X-Permitted-Cross-Domain-Policies",
    "content-security-policy": "Content-Security-Policy",
}


def _framing_policy(headers: httpx.Headers) -> bool:
    """Whether the response says who may frame it: ``X-Frame-Options``, or a CSP with a
    ``frame-ancestors`` directive (a CSP without one allows any framing)."""
    if "x-frame-options" in headers:
        return True
    for policy in headers.get_list("content-security-policy"):
        for directive in policy.split(";"):
            if directive.strip().lower().startswith("frame-ancestors"):
                return True
    return False


def _script_policy(headers: httpx.Headers) -> bool:
    """Whether a page's CSP restricts scripts (``default-src`` or ``script-src``)."""
    for policy in headers.get_list("content-security-policy"):
        for directive in policy.split(";"):
            if directive.strip().lower().startswith(("default-src", "script-src")):
                return True
    return False


def missing_security_headers(response: httpx.Response, strict: bool = False) -> list[str]:
    """The security headers ``response`` lacks. Every response: ``nosniff`` and a
    framing policy (CSP ``frame-ancestors`` or X-Frame-Options); documents also a
    ``Referrer-Policy`` (it acts on nothing else) and, when ``strict``, the rest of
    qake-security's page set: a CSP that restricts scripts, COOP, CORP,
    ``Permissions-Policy`` and ``X-Permitted-Cross-Domain-Policies``."""
    headers = response.headers
    missing = []
    for name, value in EVERY_RESPONSE:
        present = headers.get(name)
        if present is None or (value is not None and present.strip().lower() != value):
            missing.append(_CANONICAL[name])
    if not _framing_policy(headers):
        missing.append(FRAMING)
    media = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media and media not in _DOCUMENTS:
        return missing
    wanted = DOCUMENT_REQUIRED + (DOCUMENT_RECOMMENDED if strict else ())
    missing.extend(_CANONICAL[name] for name in wanted if name not in headers)
    if strict and not _script_policy(headers):
        missing.append(_CANONICAL["content-security-policy"])
    return missing


def insecure_cors(response: httpx.Response, origin: str) -> str | None:
    """Evidence when a response to a request from ``origin`` (an untrusted one: the
    scanner's made-up site, or ``null``) lets that origin read it: a reflected origin
    (with or without credentials), ``null`` allowed, or ``*`` with credentials."""
    allowed = response.headers.get("access-control-allow-origin")
    if allowed is None:
        return None
    credentials = response.headers.get("access-control-allow-credentials", "").lower() == "true"
    with_credentials = " with Access-Control-Allow-Credentials: true" if credentials else ""
    if allowed == origin:
        what = "allows the null origin (any sandboxed page)" if origin == "null" else "reflects"
        return (
            f"Access-Control-Allow-Origin: {allowed}{with_credentials} for Origin {origin} ({what})"
        )
    if allowed == "*" and credentials:
        return (
            f"Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true for "
            f"Origin {origin}"
        )
    return None
