"""``SecurityHeadersMiddleware``: protective response headers on every HTTP response.

The static part (computed once) goes to every response; three parts depend on the
request and cost nothing unless enabled: HSTS only over HTTPS (RFC 6797 §7.2), a CSP
nonce per request, and ``Cache-Control: no-store`` on authenticated responses.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable
from typing import Any, NamedTuple

from qake_core import DefaultHeaders, default_headers_of, is_document, merge_default_headers
from qake_core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "API_CSP",
    "DEFAULT_CSP",
    "DEFAULT_PERMISSIONS_POLICY",
    "DOCUMENT_ONLY_HEADERS",
    "SecurityHeaderPlan",
    "SecurityHeaderSets",
    "SecurityHeadersMiddleware",
    "csp_nonce",
    "security_header_plan",
    "security_header_sets",
    "security_headers",
]

#: A conservative policy for pages: same-origin resources only, never framed, forms
#: posted only to this origin (OWASP Secure Headers Project; CSP Level 3).
DEFAULT_CSP = (
    "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'"
)

#: The policy for responses that are not documents (JSON, text, images, files): they may
#: not be framed (OWASP's REST recommendation). Short on purpose: servers scan every
#: header byte on every response (uvicorn runs two regular expressions per header).
API_CSP = "frame-ancestors 'none'"

#: Every powerful browser feature off for pages (the OWASP Secure Headers Project's
#: recommended value of 2024-09, without ``interest-cohort``: FLoC is gone and browsers
#: log an unknown feature as an error). A page that needs one sets its own header.
DEFAULT_PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), cross-origin-isolated=(), "
    "display-capture=(), encrypted-media=(), fullscreen=(), geolocation=(), gyroscope=(), "
    "keyboard-map=(), magnetometer=(), microphone=(), midi=(), payment=(), "
    "picture-in-picture=(), publickey-credentials-get=(), screen-wake-lock=(), "
    "sync-xhr=(self), usb=(), web-share=(), xr-spatial-tracking=(), clipboard-read=(), "
    "clipboard-write=(), gamepad=(), hid=(), idle-detection=(), serial=(), unload=()"
)

#: Headers that act only on documents (pages): a browser ignores them elsewhere.
#: ``X-Frame-Options`` is superseded by CSP ``frame-ancestors`` (sent everywhere) in
#: every browser that understands CSP; it stays on pages for older ones.
DOCUMENT_ONLY_HEADERS = frozenset(
    {
        "x-frame-options",
        "referrer-policy",
        "cross-origin-opener-policy",
        "content-security-policy",
        "cross-origin-resource-policy",
        "permissions-policy",
        "x-permitted-cross-domain-policies",
    }
)

_CSP = b"content-security-policy"
_HSTS = b"strict-transport-security"
_CACHE_CONTROL = b"cache-control"
_NONCE_MARK = "\x00nonce\x00"
_SECURE_SCHEMES = frozenset({"https", "wss"})

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


class _Wanted(NamedTuple):
    """The headers the options ask for: built-in ones and ``extra`` ones (by name)."""

    builtin: dict[str, HeaderOption]
    extra: dict[str, HeaderOption]


def _wanted(
    *,
    content_type_options: HeaderOption = "nosniff",
    frame_options: HeaderOption = "DENY",
    referrer_policy: HeaderOption = "strict-origin-when-cross-origin",
    cross_origin_opener_policy: HeaderOption = "same-origin",
    cross_origin_resource_policy: HeaderOption = "same-origin",
    permissions_policy: HeaderOption = DEFAULT_PERMISSIONS_POLICY,
    permitted_cross_domain_policies: HeaderOption = "none",
    content_security_policy: HeaderOption = DEFAULT_CSP,
    hsts: bool = False,
    hsts_max_age: int = 31_536_000,
    hsts_include_subdomains: bool = True,
    hsts_preload: bool = False,
    extra: dict[str, str] | None = None,
) -> _Wanted:
    builtin: dict[str, HeaderOption] = {
        "x-content-type-options": content_type_options,
        "x-frame-options": frame_options,
        "referrer-policy": referrer_policy,
        "cross-origin-opener-policy": cross_origin_opener_policy,
        "cross-origin-resource-policy": cross_origin_resource_policy,
        "permissions-policy": permissions_policy,
        "x-permitted-cross-domain-policies": permitted_cross_domain_policies,
        "content-security-policy": content_security_policy,
    }
    if hsts:
        builtin["strict-transport-security"] = _hsts_value(
            hsts_max_age, hsts_include_subdomains, hsts_preload
        )
    extras: dict[str, HeaderOption] = {k.lower(): v for k, v in (extra or {}).items()}
    return _Wanted(builtin, extras)


def security_headers(**options: Any) -> list[tuple[bytes, bytes]]:
    """The raw ``(name, value)`` header pairs for documents (pages) with these options.

    Defaults: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
    ``Referrer-Policy: strict-origin-when-cross-origin``,
    ``Cross-Origin-Opener-Policy: same-origin``, ``Cross-Origin-Resource-Policy:
    same-origin``, :data:`DEFAULT_PERMISSIONS_POLICY`,
    ``X-Permitted-Cross-Domain-Policies: none`` and :data:`DEFAULT_CSP` (options
    ``content_type_options``, ``frame_options``, ``referrer_policy``,
    ``cross_origin_opener_policy``, ``cross_origin_resource_policy``,
    ``permissions_policy``, ``permitted_cross_domain_policies``,
    ``content_security_policy``). Pass a string to change a header, ``None`` to drop
    it; ``hsts=True`` (with ``hsts_max_age``, ``hsts_include_subdomains``,
    ``hsts_preload``) adds ``Strict-Transport-Security``, which the middleware and
    ``QakeAPI`` send over HTTPS only; ``extra`` adds any other header.
    """
    wanted = _wanted(**options)
    return _pairs({**wanted.builtin, **wanted.extra})


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


def _sets(wanted: _Wanted, api_content_security_policy: HeaderOption) -> SecurityHeaderSets:
    documents = _pairs({**wanted.builtin, **wanted.extra})
    other_wanted = {k: v for k, v in wanted.builtin.items() if k not in DOCUMENT_ONLY_HEADERS}
    other_wanted.update(wanted.extra)  # ``extra`` goes to both sets...
    # ...but a response that is not a document has its own CSP option.
    other_wanted["content-security-policy"] = api_content_security_policy
    return SecurityHeaderSets(documents, _pairs(other_wanted))


def security_header_sets(
    *, api_content_security_policy: HeaderOption = API_CSP, **options: Any
) -> SecurityHeaderSets:
    """:func:`security_headers` for documents, and for other responses the same minus
    :data:`DOCUMENT_ONLY_HEADERS` (``extra`` headers go to both), with
    ``api_content_security_policy`` (default :data:`API_CSP`; ``None`` leaves it out)
    as their Content-Security-Policy.

    Documents are what :func:`qake_core.is_document` says: HTML, XHTML, SVG, XML, or
    no Content-Type at all. These are the static sets, HSTS included when asked for;
    :func:`security_header_plan` separates what depends on the request.
    """
    return _sets(_wanted(**options), api_content_security_policy)


def _nonce_policy(policy: str) -> str:
    """``policy`` with a nonce source (marked :data:`_NONCE_MARK`) in ``script-src`` and
    ``style-src``; a missing directive starts from ``default-src``'s sources (which it
    replaces for that resource type, CSP Level 3 §6.8.3)."""
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    names = [d.split(None, 1)[0].lower() for d in directives]
    default = next(
        (d.split(None, 1)[1:] for d in directives if d.lower().startswith("default-src")), []
    )
    source = f"'nonce-{_NONCE_MARK}'"
    for wanted in ("script-src", "style-src"):
        if wanted in names:
            index = names.index(wanted)
            directives[index] = f"{directives[index]} {source}"
        else:
            base = default[0] if default else "'self'"
            directives.append(f"{wanted} {base} {source}")
    return "; ".join(directives)


class SecurityHeaderPlan(NamedTuple):
    """Security headers split into what is the same for every response (``static``,
    handed to the core's default headers or merged by the middleware) and what
    depends on the request, each ``None`` when not enabled:

    - ``hsts``: the ``Strict-Transport-Security`` value, sent over HTTPS only;
    - ``nonce_csp``: the document CSP in pieces to join with a fresh nonce;
    - ``authenticated_cache_control``: ``Cache-Control`` for an authenticated user's
      responses that set none themselves.
    """

    static: SecurityHeaderSets
    hsts: bytes | None
    nonce_csp: tuple[bytes, ...] | None
    authenticated_cache_control: bytes | None

    @property
    def per_request(self) -> bool:
        """Whether a part must be decided per request (HSTS or a CSP nonce)."""
        return self.hsts is not None or self.nonce_csp is not None


def security_header_plan(
    *,
    csp_nonce: bool = False,
    cache_control_authenticated: str | None = "no-store",
    api_content_security_policy: HeaderOption = API_CSP,
    **options: Any,
) -> SecurityHeaderPlan:
    """The :class:`SecurityHeaderPlan` for these options (those of
    :func:`security_header_sets`, plus):

    - ``csp_nonce=True``: each request gets a nonce (``secrets.token_urlsafe(16)``) in
      ``scope["state"]["csp_nonce"]`` (read it with :func:`csp_nonce`), added to the
      page CSP's ``script-src`` and ``style-src`` as ``'nonce-…'``;
    - ``cache_control_authenticated`` (default ``"no-store"``, ``None`` to send nothing):
      ``Cache-Control`` for responses to an authenticated user (``scope["user"]``) that
      set none, so no cache keeps one user's data (OWASP Session Management: "Web
      Content Caching").
    """
    wanted = _wanted(**options)
    hsts = wanted.builtin.pop("strict-transport-security", None)
    nonce_csp = None
    if csp_nonce:
        policy = wanted.extra.get(
            "content-security-policy", wanted.builtin["content-security-policy"]
        )
        if not isinstance(policy, str):
            raise ValueError("csp_nonce=True needs a content_security_policy to add the nonce to")
        wanted.extra.pop("content-security-policy", None)
        wanted.builtin["content-security-policy"] = None  # added per request instead
        ((_, value),) = _pairs({"content-security-policy": _nonce_policy(policy)})
        nonce_csp = tuple(value.split(_NONCE_MARK.encode()))
    cache_control = None
    if cache_control_authenticated is not None:
        ((_, cache_control),) = _pairs({"cache-control": cache_control_authenticated})
    return SecurityHeaderPlan(
        _sets(wanted, api_content_security_policy),
        None if hsts is None else str(hsts).encode("latin-1"),
        nonce_csp,
        cache_control,
    )


def new_csp_nonce(scope: Scope) -> str:
    """A fresh nonce for this request, kept in ``scope["state"]["csp_nonce"]``."""
    nonce = secrets.token_urlsafe(16)
    state = scope.get("state")
    if state is None:
        scope["state"] = state = {}
    state["csp_nonce"] = nonce
    return nonce


def csp_nonce(request: Any) -> str:
    """This request's CSP nonce (``request`` is a ``Request`` or an ASGI scope), for
    ``<script nonce="{{ csp_nonce(request) }}">``; register it for templates with
    ``templates.env.globals["csp_nonce"] = csp_nonce``. Raises ``RuntimeError`` unless
    the security headers were configured with ``csp_nonce=True``."""
    scope = getattr(request, "scope", request)
    nonce = (scope.get("state") or {}).get("csp_nonce")
    if not isinstance(nonce, str):
        raise RuntimeError(
            "no CSP nonce for this request: configure the security headers with "
            "csp_nonce=True (QakeAPI(security_headers={'csp_nonce': True}) or "
            "SecurityHeadersMiddleware(app, csp_nonce=True))"
        )
    return nonce


def _has(headers: Any, name: bytes) -> bool:
    return any(key == name for key, _ in headers)


def _is_authenticated(scope: Scope) -> bool:
    user = scope.get("user")
    return user is not None and getattr(user, "is_authenticated", False) is True


class SecurityHeadersMiddleware:
    """Add security headers to every HTTP response of any ASGI app that does not set them.

    The options are those of :func:`security_header_plan`: documents get the full
    set, other responses the headers that act on them; HSTS goes over HTTPS only, a CSP
    nonce is made per request when asked for, and an authenticated user's responses get
    ``Cache-Control: no-store``. A header the application set itself wins.
    (``QakeAPI`` does not need this layer unless HSTS or nonces are on: it gives the
    static headers to the core, which merges them as each response starts.)
    """

    __slots__ = ("_cache_control", "_defaults", "_hsts_defaults", "_nonce_csp", "_plan", "app")

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        self.app = app
        plan = security_header_plan(**options)
        self._plan = plan
        # PERF: built once; the core's merge adds them as each response starts.
        self._defaults = default_headers_of(plan.static.other, plan.static.documents)
        self._hsts_defaults: DefaultHeaders | None = None
        if plan.hsts is not None:
            hsts = [(_HSTS, plan.hsts)]
            self._hsts_defaults = default_headers_of(
                plan.static.other + hsts, plan.static.documents + hsts
            )
        self._nonce_csp = plan.nonce_csp
        self._cache_control = plan.authenticated_cache_control

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """The raw ``(name, value)`` pairs added to documents (HSTS: over HTTPS)."""
        defaults = self._hsts_defaults or self._defaults
        return list(defaults.document_pairs or ())

    @property
    def other_headers(self) -> list[tuple[bytes, bytes]]:
        """The raw ``(name, value)`` pairs added to other responses (HSTS: over HTTPS)."""
        return list((self._hsts_defaults or self._defaults).pairs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = self._defaults
        if self._hsts_defaults is not None and scope.get("scheme") in _SECURE_SCHEMES:
            defaults = self._hsts_defaults
        csp = None
        if self._nonce_csp is not None:
            csp = new_csp_nonce(scope).encode("ascii").join(self._nonce_csp)
        cache_control = self._cache_control
        if (
            csp is None
            and cache_control is None
            and not (defaults.pairs or defaults.document_pairs)
        ):
            await self.app(scope, receive, send)
            return

        # PERF: a plain function returning send's awaitable saves a coroutine per message.
        def send_with_headers(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                merged = merge_default_headers(defaults, headers)
                add_per_request(merged, headers, scope, csp, cache_control)
                message["headers"] = merged
            return send(message)

        await self.app(scope, receive, send_with_headers)


def add_per_request(
    merged: list[tuple[bytes, bytes]],
    headers: Any,
    scope: Scope,
    csp: bytes | None,
    cache_control: bytes | None,
) -> None:
    """Append the per-request headers ``headers`` (the response's own) lack: the nonce
    CSP (documents only) and the authenticated user's ``Cache-Control``."""
    if csp is not None and is_document(headers) and not _has(headers, _CSP):
        merged.append((_CSP, csp))
    if cache_control is not None and _is_authenticated(scope) and not _has(headers, _CACHE_CONTROL):
        merged.append((_CACHE_CONTROL, cache_control))
