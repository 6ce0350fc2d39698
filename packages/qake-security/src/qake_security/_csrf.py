"""``CSRFMiddleware``: refuse state-changing requests another site made the browser send.

The OWASP CSRF Prevention Cheat Sheet's layers, all on every unsafe request:

1. Fetch metadata: ``Sec-Fetch-Site: cross-site`` is refused.
2. ``Origin`` (or the ``Referer``'s origin when there is no ``Origin``) must be the
   request's own origin or one of ``allowed_origins``.
3. A token: the "signed double-submit cookie". The ``__Host-csrf`` cookie holds
   ``nonce.HMAC-SHA256(key, session id | nonce)``; the request must repeat it in the
   ``X-CSRF-Token`` header or the ``csrf_token`` form field. The copy must equal the
   cookie (constant-time) and its signature must be bound to the request's session
   (``SessionMiddleware``'s session id; without a session, to nothing but the key).
   A token is never taken from the cookie alone.

Safe methods (GET, HEAD, OPTIONS, TRACE) pass and receive the cookie when it is
missing or not valid for the session. Refusals answer 403 problem+json with a
generic detail; the reason goes to the ``qake.security.csrf`` log (debug level).
"""

from __future__ import annotations

import hmac
import html
import logging
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

from qake_core import (
    ClientDisconnect,
    HTTPException,
    Request,
    format_set_cookie,
    parse_cookie_header,
    problem_response,
    route_template,
)
from qake_core.types import ASGIApp, Message, Receive, Scope, Send
from qake_security._sessions import Session, SessionMiddleware
from qake_security._signing import Signer, b64decode, b64encode

__all__ = ["CSRFMiddleware", "csrf_exempt", "csrf_input", "csrf_token"]

logger = logging.getLogger("qake.security.csrf")

F = TypeVar("F", bound=Callable[..., Any])

#: Where the middleware leaves the request's token for :func:`csrf_token`.
TOKEN_KEY = "qake.csrf_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")
_EXEMPT_ATTRIBUTE = "__qake_csrf_exempt__"
_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#\s]+")
_FORM_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")
_DEFAULT_PORTS = {"http": ":80", "https": ":443", "ws": ":80", "wss": ":443"}
_REFUSED = "CSRF check failed."


def csrf_exempt(endpoint: F) -> F:
    """Mark a route's handler as exempt from CSRF checks.

    Only for routes a browser cannot call with ambient credentials: APIs that
    authenticate with a token in a header (``Authorization: Bearer``, an API key),
    never with cookies. Put it under the route decorator::

        @app.post("/api/items")
        @csrf_exempt
        async def create(...): ...
    """
    setattr(endpoint, _EXEMPT_ATTRIBUTE, True)
    return endpoint


class _Issued(NamedTuple):
    token: str
    field_name: str


def _issued(request: Request) -> _Issued:
    issued = request.scope.get(TOKEN_KEY)
    if not isinstance(issued, _Issued):
        raise RuntimeError(
            "csrf_token: no token for this request; add CSRFMiddleware to the app "
            "(exempt routes carry none)"
        )
    return issued


def csrf_token(request: Request) -> str:
    """The CSRF token to send back with the next unsafe request (a header or a field)."""
    return _issued(request).token


def csrf_input(request: Request) -> str:
    """A hidden ``<input>`` carrying the token, HTML-escaped, for a form.

    A ``markupsafe.Markup`` when markupsafe is installed (Jinja2 then inserts it as is).
    """
    token, field_name = _issued(request)
    markup = (
        f'<input type="hidden" name="{html.escape(field_name, quote=True)}" '
        f'value="{html.escape(token, quote=True)}">'
    )
    try:
        from markupsafe import Markup
    except ImportError:  # pragma: no cover - depends on the environment
        return markup
    return Markup(markup)  # escaped just above


def _normal_origin(origin: str) -> str:
    origin = origin.lower()
    scheme = origin.partition("://")[0]
    port = _DEFAULT_PORTS.get(scheme)
    return origin[: -len(port)] if port and origin.endswith(port) else origin


def _check_origins(origins: Iterable[str]) -> frozenset[str]:
    if isinstance(origins, str):
        raise TypeError("CSRFMiddleware: allowed_origins is a list of origins, not a string")
    checked = set()
    for origin in origins:
        if origin in ("*", "null") or not _ORIGIN.fullmatch(origin.lower()):
            raise ValueError(
                f"CSRFMiddleware: {origin!r} is not an origin to trust; write "
                "scheme://host[:port] with no path, e.g. 'https://app.example.com'"
            )
        checked.add(_normal_origin(origin))
    return frozenset(checked)


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


class CSRFMiddleware:
    """Cross-site request forgery protection for cookie-authenticated apps.

    Add it *before* ``SessionMiddleware`` (so that the session wraps it and tokens are
    bound to the session); use ``csrf_token(request)`` / ``csrf_input(request)`` in
    pages. ``exempt`` lists route names or route path templates (exactly as
    declared); ``@csrf_exempt`` marks a handler. Both are checked against the app's
    routes at start-up.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret_keys: Sequence[str | bytes],
        allowed_origins: Iterable[str] = (),
        cookie_name: str | None = None,
        header_name: str = "x-csrf-token",
        field_name: str = "csrf_token",
        exempt: Iterable[str] = (),
        safe_methods: Iterable[str] = SAFE_METHODS,
        https_only: bool = True,
    ) -> None:
        self.app = app
        self.signer = Signer("CSRFMiddleware", secret_keys, "csrf")
        self.origins = _check_origins(allowed_origins)
        self.cookie_name = cookie_name or ("__Host-csrf" if https_only else "csrf")
        self.secure = https_only
        self.header_name = header_name.lower().encode("latin-1")
        if not field_name:
            raise ValueError("CSRFMiddleware: field_name must not be empty")
        self.field_name = field_name
        if isinstance(exempt, str) or isinstance(safe_methods, str):
            raise TypeError("CSRFMiddleware: exempt and safe_methods are lists, not strings")
        self.exempt = tuple(exempt)
        self.safe_methods = frozenset(m.upper() for m in safe_methods)
        if not self.safe_methods <= set(SAFE_METHODS):
            unsafe = sorted(self.safe_methods - set(SAFE_METHODS))
            raise ValueError(
                f"CSRFMiddleware: {', '.join(unsafe)} may change state (RFC 9110 9.2.1); "
                "safe_methods may only hold GET, HEAD, OPTIONS, TRACE"
            )
        try:
            self._set_cookie_prefix("x")  # the cookie's browser rules, checked now
        except ValueError as exc:
            raise ValueError(f"CSRFMiddleware: {exc}") from None
        #: (method, route template) pairs exempt from checks: resolved on the first
        #: request (the lifespan does not pass through edge middleware), from the
        #: app's routes; an exemption naming no route raises then, on every request.
        self._exempt_routes: frozenset[tuple[str, str]] | None = None

    def _set_cookie_prefix(self, token: str) -> str:
        return format_set_cookie(
            self.cookie_name, token, path="/", secure=self.secure, samesite="lax"
        )

    # -- tokens -----------------------------------------------------------------------

    def _mac(self, binding: str, nonce: str) -> bytes:
        return self.signer.mac(f"{binding}|{nonce}".encode())

    def new_token(self, binding: str) -> str:
        nonce = secrets.token_urlsafe(32)
        return f"{nonce}.{b64encode(self._mac(binding, nonce))}"

    def is_valid(self, token: str, binding: str) -> bool:
        """Whether ``token`` was made here for ``binding`` (constant-time check)."""
        nonce, dot, mac = token.partition(".")
        raw = b64decode(mac) if dot and nonce.isascii() else None
        if raw is None:
            return False
        return self.signer.verify(f"{binding}|{nonce}".encode(), raw)

    # -- ASGI -------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exempt = self._exempt_routes
        if exempt is None:
            exempt = self._exempt_routes = _resolve_exemptions(scope.get("app"), self.exempt)
        if scope["method"] in self.safe_methods:
            await self._safe(scope, receive, send)
            return
        if exempt and self._is_exempt(scope, exempt):
            await self.app(scope, receive, send)
            return
        reason = self._origin_refusal(scope)
        if reason is None:
            try:
                reason, receive = await self._token_refusal(scope, receive)
            except HTTPException as exc:  # the form was too large, malformed...
                await problem_response(exc.status_code, exc.detail, headers=exc.headers)(
                    scope, receive, send
                )
                return
            except ClientDisconnect:
                return
        if reason is not None:
            logger.debug("CSRF: refused %s %s: %s", scope["method"], scope["path"], reason)
            await problem_response(403, _REFUSED)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _cookie(self, scope: Scope) -> str | None:
        values = [v for k, v in scope["headers"] if k == b"cookie"]
        if not values:
            return None
        cookies = parse_cookie_header("; ".join(v.decode("latin-1") for v in values))
        return cookies.get(self.cookie_name)

    async def _safe(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = scope.get("session")
        binding = session.id if isinstance(session, Session) else ""
        token = self._cookie(scope)
        if token is not None and self.is_valid(token, binding):
            scope[TOKEN_KEY] = _Issued(token, self.field_name)
            await self.app(scope, receive, send)
            return
        token = self.new_token(binding)
        scope[TOKEN_KEY] = _Issued(token, self.field_name)
        header = (b"set-cookie", self._set_cookie_prefix(token).encode("latin-1"))

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _is_exempt(self, scope: Scope, exempt: frozenset[tuple[str, str]]) -> bool:
        """Whether the route the app dispatches this request to is exempt for its method
        (the app's own router decides: a sibling path or method is still checked)."""
        template = route_template(scope)
        if template is None:
            return False
        root: str = scope.get("root_path", "")
        return (scope["method"], template[len(root) :]) in exempt

    def _origin_refusal(self, scope: Scope) -> str | None:
        headers = scope["headers"]
        if _header(headers, b"sec-fetch-site") == "cross-site":
            return "Sec-Fetch-Site: cross-site"
        origin = _header(headers, b"origin")
        if origin is None:
            referer = _header(headers, b"referer")
            if referer is None:
                return None  # neither header: the token decides (OWASP allows either way)
            try:
                parts = urlsplit(referer)
            except ValueError:
                return "malformed Referer"
            origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
        normal = _normal_origin(origin)
        if normal in self.origins:
            return None
        host = _header(headers, b"host")
        if host is not None and normal == _normal_origin(f"{scope.get('scheme', 'http')}://{host}"):
            return None
        return "the request's origin is not allowed"

    async def _token_refusal(self, scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
        submitted = _header(scope["headers"], self.header_name)
        if submitted is None:
            content_type = (_header(scope["headers"], b"content-type") or "").encode("latin-1")
            if content_type.lower().startswith(_FORM_TYPES):
                submitted, receive = await self._form_token(scope, receive)
        if not submitted:
            return "no token in the header or the form", receive
        cookie = self._cookie(scope)
        if cookie is None:
            return "no CSRF cookie", receive
        if not hmac.compare_digest(submitted.encode(), cookie.encode()):
            return "the token does not match the cookie", receive
        session = scope.get("session")
        binding = session.current_id if isinstance(session, Session) else ""
        if binding is None or not self.is_valid(submitted, binding):
            return "the token is not this session's", receive
        scope[TOKEN_KEY] = _Issued(cookie, self.field_name)
        return None, receive

    async def _form_token(self, scope: Scope, receive: Receive) -> tuple[str | None, Receive]:
        """The form field's token. The body is read through a ``Request`` (held to the
        app's limits), which caches it in the scope for the handler's ``Request``; other
        ASGI apps get it replayed from the returned ``receive``."""
        request = Request(scope, receive)
        body = await request.body()
        try:
            form = await request.form()
            value = form.get(self.field_name)
        finally:
            await request.close()
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return (value if isinstance(value, str) else None), replay


def _check_order(app: Any) -> None:
    """Refuse a ``SessionMiddleware`` inside this one: tokens would not be bound to the
    session (``user_middleware`` lists the outermost first)."""
    kinds = [getattr(entry, "cls", None) for entry in getattr(app, "user_middleware", ())]
    sessions = [i for i, cls in enumerate(kinds) if cls is SessionMiddleware]
    csrf = [i for i, cls in enumerate(kinds) if cls is CSRFMiddleware]
    if sessions and csrf and sessions[0] > csrf[0]:
        raise ValueError(
            "CSRFMiddleware: SessionMiddleware was added before it, so it runs inside and "
            "tokens cannot be bound to the session; add CSRFMiddleware first, then "
            "SessionMiddleware (the last added is the outermost)"
        )


def _resolve_exemptions(app: Any, exempt: Sequence[str]) -> frozenset[tuple[str, str]]:
    """(method, template) of every exempt route of ``app``; unknown names/paths refused."""
    _check_order(app)
    routes = [r for r in getattr(app, "routes", ()) if hasattr(r, "methods")]
    wanted = set(exempt)
    found: set[str] = set()
    pairs = set()
    for route in routes:
        marked = getattr(route.endpoint, _EXEMPT_ATTRIBUTE, False)
        by_option = {route.name, route.path} & wanted
        if marked or by_option:
            found |= by_option
            pairs |= {(method, route.path) for method in route.methods}
    missing = wanted - found
    if missing:
        raise ValueError(
            f"CSRFMiddleware: exempt={sorted(missing)!r} names no route of the app; give "
            "route names or path templates exactly as declared (e.g. '/api/items/{item_id}')"
        )
    return frozenset(pairs)
