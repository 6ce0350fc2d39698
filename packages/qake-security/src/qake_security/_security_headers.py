"""``SecurityHeadersMiddleware``: protective response headers on every HTTP response."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, NamedTuple

from qake_core import default_headers_of, merge_default_headers
from qake_core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "API_CSP",
    "DEFAULT_CSP",
    "DOCUMENT_ONLY_HEADERS",
    "SecurityHeaderSets",
    "SecurityHeadersMiddleware",
    "security_header_sets",
    "security_headers",
]

#: A conservative policy for pages: same-origin resources only, never framed.
DEFAULT_CSP = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'"

#: The policy for responses that are not documents (JSON, text, images, files): they may
#: not be framed (OWASP's REST recommendation). Short on purpose: servers scan every
#: header byte on every response (uvicorn runs two regular expressions per header).
API_CSP = "frame-ancestors 'none'"

#: Headers that act only on documents (pages): a browser ignores them elsewhere.
#: ``X-Frame-Options`` is superseded by CSP ``frame-ancestors`` (sent everywhere) in
#: every browser that understands CSP; it stays on pages for older ones.
DOCUMENT_ONLY_HEADERS = frozenset(
    {"x-frame-options", "referrer-policy", "cross-origin-opener-policy", "content-security-policy"}
)

# A header option: the value to send, or None/False to leave the header out.
HeaderOption = str | None | bool


def _hsts_value(max_age: int, include_subdomains: bool, preload: bool) -> str:
    if isinstance(max_age, bool) or max_age <= 0:
        raise ValueError(f"hsts_max_age must be a positive number of seconds, got {max_age!r}")
    value = f"max-age={max_age}"
    if include_subdomains:
        value += "; includeSubDomains"
    if preload:
        if not include_subdomains or max_age < 31_536_000:
            raise ValueError(
                "hsts_preload needs hsts_include_subdomains=True and hsts_max_age >= 31536000 "
                "(one year): browsers' preload lists refuse anything less"
            )
        value += "; preload"
    return value


def security_headers(
    *,
    content_type_options: HeaderOption = "nosniff",
    frame_options: HeaderOption = "DENY",
    referrer_policy: HeaderOption = "strict-origin-when-cross-origin",
    cross_origin_opener_policy: HeaderOption = "same-origin",
    content_security_policy: HeaderOption = DEFAULT_CSP,
    hsts: bool = False,
    hsts_max_age: int = 31_536_000,
    hsts_include_subdomains: bool = True,
    hsts_preload: bool = False,
    extra: dict[str, str] | None = None,
) -> list[tuple[bytes, bytes]]:
    """The raw ``(name, value)`` header pairs for these options.

    Defaults: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
    ``Referrer-Policy: strict-origin-when-cross-origin``,
    ``Cross-Origin-Opener-Policy: same-origin`` and :data:`DEFAULT_CSP`. Pass a
    string to change a header, ``None`` to drop it; ``hsts=True`` adds
    ``Strict-Transport-Security`` (only sensible when the site is HTTPS-only);
    ``extra`` adds any other header. ``qakeapi.QakeAPI`` hands these to the core's
    default response headers; :class:`SecurityHeadersMiddleware` adds them to any
    ASGI app.
    """
    wanted: dict[str, HeaderOption] = {
        "x-content-type-options": content_type_options,
        "x-frame-options": frame_options,
        "referrer-policy": referrer_policy,
        "cross-origin-opener-policy": cross_origin_opener_policy,
        "content-security-policy": content_security_policy,
    }
    if hsts:
        wanted["strict-transport-security"] = _hsts_value(
            hsts_max_age, hsts_include_subdomains, hsts_preload
        )
    for extra_name, extra_value in (extra or {}).items():
        wanted[extra_name.lower()] = extra_value
    return _pairs(wanted)


def _pairs(wanted: dict[str, HeaderOption]) -> list[tuple[bytes, bytes]]:
    pairs: list[tuple[bytes, bytes]] = []
    for name, value in wanted.items():
        if value is None or value is False:
            continue
        if value is True:
            raise ValueError(f"security header {name!r}: give its value as a string, or None")
        if "\r" in value or "\n" in value:
            raise ValueError(f"security header {name!r}: the value contains a line break")
        pairs.append((name.encode("latin-1"), value.encode("latin-1")))
    return pairs


class SecurityHeaderSets(NamedTuple):
    """The headers for documents (pages) and for every other response."""

    documents: list[tuple[bytes, bytes]]
    other: list[tuple[bytes, bytes]]


def security_header_sets(
    *, api_content_security_policy: HeaderOption = API_CSP, **options: Any
) -> SecurityHeaderSets:
    """:func:`security_headers` for documents, and for other responses the same minus
    :data:`DOCUMENT_ONLY_HEADERS`, with ``api_content_security_policy`` (default
    :data:`API_CSP`; ``None`` leaves it out) as their Content-Security-Policy.

    Documents are what :func:`qake_core.is_document` says: HTML, XHTML, SVG, XML, or
    no Content-Type at all. ``QakeAPI`` and :class:`SecurityHeadersMiddleware` use
    these two sets, so a JSON answer carries two security headers, not five.
    """
    documents = security_headers(**options)
    other = [pair for pair in documents if pair[0].decode("latin-1") not in DOCUMENT_ONLY_HEADERS]
    other += _pairs({"content-security-policy": api_content_security_policy})
    return SecurityHeaderSets(documents, other)


class SecurityHeadersMiddleware:
    """Add security headers to every HTTP response of any ASGI app that does not set them.

    The options are those of :func:`security_header_sets`: documents get the full
    set, other responses the headers that act on them. A header the application set
    itself wins. (``QakeAPI`` does not need this layer: it gives the same headers to
    the core, which merges them as each response starts.)
    """

    __slots__ = ("_defaults", "app")

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        self.app = app
        sets = security_header_sets(**options)
        # PERF: built once; the core's merge adds them as each response starts.
        self._defaults = default_headers_of(sets.other, sets.documents)

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The raw ``(name, value)`` pairs added to documents."""
        return list(self._defaults.document_pairs or ())

    @property
    def other_headers(self) -> list[tuple[bytes, bytes]]:
        """The raw ``(name, value)`` pairs added to responses that are not documents."""
        return list(self._defaults.pairs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        defaults = self._defaults
        if scope["type"] != "http" or not (defaults.pairs or defaults.document_pairs):
            await self.app(scope, receive, send)
            return

        # PERF: a plain function returning send's awaitable saves a coroutine per message.
        def send_with_headers(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                message["headers"] = merge_default_headers(defaults, message.get("headers", ()))
            return send(message)

        await self.app(scope, receive, send_with_headers)
