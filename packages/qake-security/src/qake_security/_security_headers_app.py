"""Security headers wired into a ``qake_core.App`` at no cost per request by default.

The static headers become the app's default headers (merged by the core as each
response starts: no middleware layer). The per-request parts cost only when enabled:

- HSTS (over HTTPS only) and CSP nonces: a small edge layer, added only when asked for;
- ``Cache-Control: no-store`` for an authenticated user: :func:`set_user` calls
  :func:`note_authenticated`, which points the request's default headers at a variant
  that carries it; an unauthenticated request never pays anything.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from weakref import WeakKeyDictionary

from qake_core import DEFAULT_HEADERS_KEY, DefaultHeaders, default_headers_of
from qake_core.types import ASGIApp, Message, Receive, Scope, Send
from qake_security._security_headers import (
    SecurityHeaderPlan,
    add_per_request,
    new_csp_nonce,
    security_header_plan,
)

__all__ = ["install_security_headers", "note_authenticated"]

_HSTS = b"strict-transport-security"
_CACHE_CONTROL = b"cache-control"
_SECURE_SCHEMES = frozenset({"https", "wss"})

#: The apps whose authenticated responses get a Cache-Control, and its value.
_CACHE_CONTROL_OF: WeakKeyDictionary[Any, bytes] = WeakKeyDictionary()
#: (id(default headers), id(app)) -> (those headers, that app, what an authenticated
#: user's responses get instead or ``None``: the same). PERF: a dict lookup instead of the
#: app's ``WeakKeyDictionary`` lookup. The app counts too: a mounted app without default
#: headers of its own leaves its parent's in the scope. Few entries (bounded), which
#: hold their headers and app (so that the ids stay theirs).
_VARIANTS: dict[tuple[int, int], tuple[DefaultHeaders, Any, DefaultHeaders | None]] = {}
_VARIANTS_MAX = 64
#: PERF: the entry used last (a process usually serves one app): two identity checks.
_last: tuple[Any, Any, DefaultHeaders | None] = (None, None, None)


def install_security_headers(app: Any, **options: Any) -> SecurityHeaderPlan:
    """Give ``app`` (a ``qake_core.App``, before it starts) the security headers of
    :func:`~qake_security.security_header_plan` ``(**options)``: the static ones as its
    default headers, ``Cache-Control`` for authenticated users through
    :func:`note_authenticated`, and an edge layer only for HSTS or CSP nonces.
    ``qakeapi.QakeAPI`` calls it with its ``security_headers`` options."""
    plan = security_header_plan(**options)
    app.set_default_headers(plan.static.other, documents=plan.static.documents)
    if plan.authenticated_cache_control is not None:
        _CACHE_CONTROL_OF[app] = plan.authenticated_cache_control
    else:
        _CACHE_CONTROL_OF.pop(app, None)
    global _last
    _VARIANTS.clear()
    _last = (None, None, None)
    if plan.per_request:
        app.add_middleware(_PerRequestHeaders, plan=plan)
    return plan


def note_authenticated(scope: Any) -> None:
    """The request of ``scope`` is now an authenticated user's: if its app was installed
    with a ``Cache-Control`` for that, its responses carry it from here on (unless they
    set their own). Called by :func:`~qake_security.set_user`."""
    global _last
    defaults = scope.get(DEFAULT_HEADERS_KEY)
    app = scope.get("app")
    known = _last
    if defaults is not known[0] or app is not known[1]:
        if defaults is None or (defaults is known[2] and app is known[1]):
            return  # no default headers, or the variant already (a second authentication)
        found = _VARIANTS.get((id(defaults), id(app)))
        if found is None or found[0] is not defaults or found[1] is not app:
            found = _learn(defaults, app)
            if found is None:
                return
        _last = known = found
    if known[2] is not None:
        scope[DEFAULT_HEADERS_KEY] = known[2]


def _learn(defaults: Any, app: Any) -> tuple[DefaultHeaders, Any, DefaultHeaders | None] | None:
    """What :func:`note_authenticated` does to ``defaults`` in a request to ``app``,
    remembered."""
    if not isinstance(defaults, DefaultHeaders):
        return None
    variant = None
    if _CACHE_CONTROL not in defaults.names:  # else: already the variant, or the app's own
        try:
            value = _CACHE_CONTROL_OF.get(app)
        except TypeError:  # an app that cannot be weakly referenced: never installed
            value = None
        if value is not None:
            added = [(_CACHE_CONTROL, value)]
            documents = defaults.document_pairs
            variant = default_headers_of(
                defaults.pairs + added, None if documents is None else documents + added
            )
    if len(_VARIANTS) >= _VARIANTS_MAX:
        _VARIANTS.clear()
    known = _VARIANTS[id(defaults), id(app)] = (defaults, app, variant)
    if variant is not None:  # a second authentication changes nothing
        _VARIANTS[id(variant), id(app)] = (variant, app, None)
    return known


class _PerRequestHeaders:
    """HSTS over HTTPS and the CSP nonce for an app whose static security headers (and
    authenticated Cache-Control) are the core's default headers."""

    __slots__ = ("app", "csp_parts", "hsts")

    def __init__(self, app: ASGIApp, plan: SecurityHeaderPlan) -> None:
        self.app = app
        self.hsts = plan.hsts
        self.csp_parts = plan.nonce_csp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hsts = self.hsts if scope.get("scheme") in _SECURE_SCHEMES else None
        csp = None
        if self.csp_parts is not None:
            csp = new_csp_nonce(scope).encode("ascii").join(self.csp_parts)
        if hsts is None and csp is None:
            await self.app(scope, receive, send)
            return

        def send_with_headers(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                merged = list(headers)
                if hsts is not None and not any(name == _HSTS for name, _ in headers):
                    merged.append((_HSTS, hsts))
                add_per_request(merged, headers, scope, csp, None)
                message["headers"] = merged
            return send(message)

        await self.app(scope, receive, send_with_headers)
