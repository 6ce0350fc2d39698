"""``JWTAuth``: bearer JSON Web Tokens (RFC 7519) verified with PyJWT, the safe way.

Verification follows RFC 8725 (JWT best current practices): algorithms fixed per key,
``exp`` and ``iat`` required, exact ``iss`` and ``aud``, unknown ``crit`` extensions
refused (RFC 7515 §4.1.11), ``kid`` selecting only among keys loaded beforehand. Errors
follow RFC 6750 §3: a missing token answers ``401`` with ``WWW-Authenticate: Bearer``;
a bad one ``401`` with ``error="invalid_token"`` and a detail that does not say which
check failed; missing scopes ``403`` with ``error="insufficient_scope"``.
"""

from __future__ import annotations

import functools
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

from qake_core import HTTPConnection, HTTPException, SecurityScopes, parse_cookie_header
from qake_core.types import ASGIApp, Scope
from qake_security._jwks import JWKSKeys, KeySet, StaticKeys, VerifyingKey
from qake_security._lazy_jwt import jwt
from qake_security._security_headers_app import note_authenticated
from qake_security._users import AuthCredentials, SimpleUser

__all__ = ["JWTAuth", "TokenCredentials", "VerifiedToken"]

#: Claims ``create_token`` sets itself; passing them in ``claims`` is a mistake.
RESERVED_CLAIMS = frozenset({"sub", "iat", "exp", "nbf", "iss", "aud", "jti"})
#: Longer bearer values are refused before any decoding (a JWT is rarely over 2 KiB).
MAX_TOKEN_LENGTH = 8192
MISSING_DETAIL = "Not authenticated"
INVALID_DETAIL = "Could not validate credentials"
SCOPE_DETAIL = "Not enough permissions"
#: RFC 6750 §3.1: no ``error`` attribute when the request carried no token at all.
MISSING_CHALLENGE = {"WWW-Authenticate": "Bearer"}
INVALID_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
#: A ``websocket_query_param`` name: RFC 3986 unreserved characters, sent unencoded.
_QUERY_NAME = re.compile(r"[A-Za-z0-9._~-]{1,64}")


@dataclass(frozen=True, slots=True)
class TokenCredentials:
    """What :meth:`JWTAuth.login_credentials` returns (qake-testing's ``login_as``)."""

    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    cookies: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A token that passed every check: its user, credentials and claims."""

    user: SimpleUser
    credentials: AuthCredentials
    #: Unix time after which the token is no longer accepted (``exp`` + leeway).
    expires: float = field(repr=False)

    @property
    def claims(self) -> Mapping[str, Any]:
        return self.credentials.claims


#: PERF: the clock, read once per request (a module global: no attribute lookup).
_now = time.time


class InvalidToken(Exception):
    """A token failed a check (which one is never told to the client)."""


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _query_param(name: object) -> str | None:
    """``websocket_query_param`` checked at construction (``None``: off)."""
    if name is None:
        return None
    if not isinstance(name, str) or not _QUERY_NAME.fullmatch(name):
        raise ValueError(
            "JWTAuth: websocket_query_param names the query parameter that carries the token "
            "on WebSocket handshakes, e.g. websocket_query_param='access_token' (1 to 64 "
            f"letters, digits, '-', '.', '_' or '~'); got {name!r}"
        )
    return name


def _first_query_value(query: bytes, name: str) -> str | None:
    """The first value of ``name`` in a raw query string (percent-decoded), or ``None``."""
    if not query:
        return None
    for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if key == name:
            return value
    return None


def _strings(value: Any, name: str) -> frozenset[str]:
    """A space-separated string or a list of strings (``scope``, ``scp``, roles)."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise InvalidToken(f"{name} claim is not a string or a list of strings")


class JWTAuth:
    """Authenticate requests by a signed JWT in ``Authorization: Bearer`` (or a cookie).

    ``key`` (one key) or ``keys`` (``{kid: key}``, or a :class:`JWKSKeys`) with the
    ``algorithms`` they verify. As a dependency (``user = Depends(auth)`` or
    ``Security(auth, scopes=[...])``) it returns the :class:`SimpleUser`; as middleware
    (``app.add_middleware(auth.middleware)``) it sets ``request.user`` /
    ``request.auth`` for every request. ``cookie="name"`` also reads the token from that
    cookie (protect cookie-authenticated forms with CSRF middleware).

    It serves WebSocket routes as well (the handshake is authenticated like a request).
    Browsers cannot set headers on a WebSocket, so ``websocket_query_param="name"``
    (off by default) also reads the token from that query parameter, on WebSocket
    handshakes only: HTTP requests never take a token from their URL. URLs are logged by
    servers and proxies: give such connections short-lived tokens. The order is the
    ``Authorization`` header, then the query parameter (WebSocket), then the cookie.

    Verified tokens are remembered (``cache_size`` of them, each only until its ``exp``
    plus the leeway; all are forgotten when the keys change), so a client that sends
    the same token again costs a dictionary lookup instead of a signature check. Their
    claims are shared between those requests: treat ``user.details`` as read-only.
    """

    scheme_name = "JWTAuth"
    security_scheme: Mapping[str, str] = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}

    def __init__(
        self,
        key: Any = None,
        algorithms: Sequence[str] | None = None,
        *,
        keys: Mapping[str, Any] | JWKSKeys | None = None,
        issuer: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        leeway: float | timedelta = 30,
        require: Iterable[str] = ("exp", "iat"),
        roles_claim: str = "roles",
        cookie: str | None = None,
        websocket_query_param: str | None = None,
        auto_error: bool = True,
        expires_in: float | timedelta = 900,
        cache_size: int = 1024,
    ) -> None:
        self._keys = self._key_set(key, keys, algorithms)
        self.issuers = self._names(issuer, "issuer")
        self.audiences = self._names(audience, "audience")
        self.leeway = _seconds(leeway)
        if self.leeway < 0 or self.leeway > 300:
            raise ValueError("JWTAuth: leeway must be between 0 and 300 seconds (default 30)")
        required = dict.fromkeys(require)
        if self.issuers:
            required["iss"] = None
        self.require = tuple(required)
        self.roles_claim = roles_claim
        self.cookie = cookie
        self.websocket_query_param = _query_param(websocket_query_param)
        self.auto_error = auto_error
        self.expires_in = _seconds(expires_in)
        if cache_size < 0:
            raise ValueError("JWTAuth: cache_size must be >= 0 (0 turns the cache off)")
        self.cache_size = cache_size
        #: Verified tokens by the raw ``Authorization`` value (bytes) they came in, or by
        #: the token itself (str: ``verify``, the cookie). Never logged, never in a repr.
        self._cache: dict[str | bytes, VerifiedToken] = {}
        #: Where a request's verified token is kept (so that middleware and dependency
        #: verify it once): one key per JWTAuth, so another's token is never taken.
        self._scope_key = f"qake_security.jwt.{id(self):x}"
        self._generation = self._keys.generation
        # PERF: everything PyJWT is given per request is built once, here.
        self._options: Any = {"require": list(self.require), "verify_signature": True}
        self._audience = list(self.audiences) or None
        self._single = self._keys.get(None) if isinstance(self._keys, StaticKeys) else None

    @staticmethod
    def _key_set(
        key: Any, keys: Mapping[str, Any] | JWKSKeys | None, algorithms: Sequence[str] | None
    ) -> KeySet:
        if (key is None) == (keys is None):
            raise TypeError("JWTAuth: give either key=... (one key) or keys=... (a key set)")
        if isinstance(keys, JWKSKeys):
            if algorithms is not None:
                raise TypeError("JWTAuth(keys=JWKSKeys(...)): give algorithms to JWKSKeys")
            return keys
        given = keys.values() if keys is not None else (key,)
        if algorithms is None and not all(isinstance(k, jwt.PyJWK | Mapping) for k in given):
            raise TypeError(
                "JWTAuth: name the algorithm(s) the key verifies, e.g. algorithms=['HS256'] "
                "(never taken from the token)"
            )
        if keys is not None:
            return StaticKeys(keys, algorithms or ())
        return StaticKeys.single(key, algorithms or ())

    @staticmethod
    def _names(value: str | Sequence[str] | None, what: str) -> tuple[str, ...]:
        if value is None:
            return ()
        names = (value,) if isinstance(value, str) else tuple(value)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"JWTAuth: {what} must be a non-empty string or list of strings")
        return names

    def __repr__(self) -> str:
        return f"JWTAuth(issuer={list(self.issuers)!r}, audience={list(self.audiences)!r})"

    # -- verification -------------------------------------------------------------

    def verify(self, token: str) -> VerifiedToken:
        """The verified token, or :class:`InvalidToken` (for any reason)."""
        return self._verify(token, token)

    def _verify(self, token: str, key: str | bytes) -> VerifiedToken:
        """:meth:`verify`, remembering the answer under ``key``."""
        keys = self._keys
        if keys.generation != self._generation:
            self._cache.clear()
            self._generation = keys.generation
        cached = self._cache.get(key)
        if cached is not None:
            if _now() < cached.expires:
                return cached
            self._cache.pop(key, None)
        verified = self._decode(token)
        if self.cache_size:
            cache = self._cache
            if len(cache) >= self.cache_size:  # forget the oldest entry
                cache.pop(next(iter(cache), key), None)
            cache[key] = verified
        return verified

    def _key_for(self, token: str) -> VerifyingKey:
        if self._single is not None:
            return self._single
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed header") from None
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("unknown kid")
        return key

    def _decode(self, token: str) -> VerifiedToken:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("too long")
        key = self._key_for(token)
        try:
            decoded = jwt.decode_complete(
                token,
                key.verify_key,
                algorithms=key.algorithms,
                options=self._options,
                audience=self._audience,
                leeway=self.leeway,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from None
        if "crit" in decoded["header"]:  # RFC 7515 §4.1.11: no extension is understood
            raise InvalidToken("crit")
        return self._verified(decoded["payload"])

    def _verified(self, claims: dict[str, Any]) -> VerifiedToken:
        # Exact issuer match, whatever PyJWT version: a prefix or substring never passes.
        if self.issuers and (
            type(claims.get("iss")) is not str or claims["iss"] not in self.issuers
        ):
            raise InvalidToken("iss")
        sub = claims.get("sub")
        if type(sub) is not str or not sub:
            raise InvalidToken("sub")
        try:  # PyJWT checked exp; an integer too large for a float is refused here
            expires = float(claims.get("exp", "inf")) + self.leeway
        except (OverflowError, TypeError, ValueError):
            raise InvalidToken("exp") from None
        scopes = _strings(claims.get("scope"), "scope") | _strings(claims.get("scp"), "scp")
        roles = _strings(claims.get(self.roles_claim), self.roles_claim)
        user = SimpleUser(sub, roles, claims)
        return VerifiedToken(user, AuthCredentials("bearer", scopes, user.details), expires)

    # -- the request side -------------------------------------------------------------

    def token_from(self, scope: Scope) -> str | None:
        """The bearer token of a request: its ``Authorization`` header, else (WebSocket
        handshakes, when configured) the ``websocket_query_param``, else the cookie."""
        found = self._token_and_key(scope)
        return None if found is None else found[0]

    def _token_and_key(self, scope: Scope) -> tuple[str, str | bytes] | None:
        """The bearer token and its cache key: the raw header value, or the token."""
        cookie_header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                # RFC 6750 §2.1: "Bearer" (any case, RFC 9110 §11.1) 1*SP b64token
                if value[6:7] == b" " and value[:6].lower() == b"bearer":
                    token = value[7:].strip().decode("latin-1")
                    if not token:
                        return None
                    # Keyed by the raw value only when it is "Bearer " and the token: a
                    # padded one would let a valid token fill the cache with long keys.
                    return token, (value if len(value) == len(token) + 7 else token)
            elif name == b"cookie" and self.cookie is not None:
                cookie_header = value.decode("latin-1")
        if self.websocket_query_param is not None and scope["type"] == "websocket":
            token = _first_query_value(scope.get("query_string", b""), self.websocket_query_param)
            if token:
                return token, token
        if cookie_header is not None:
            token = parse_cookie_header(cookie_header).get(self.cookie or "")
            return (token, token) if token else None
        return None

    def authenticate(self, scope: Scope) -> VerifiedToken | None:
        """Verify the request's token and set ``request.user`` / ``request.auth``.

        ``None`` when the request carries no token; :class:`InvalidToken` when it
        carries a bad one.
        """
        verified = self._remembered(scope)
        if verified is None:
            return self._authenticate(scope)
        # What set_user does for an authenticated user, inlined (PERF).
        scope["user"] = verified.user
        scope["auth"] = verified.credentials
        note_authenticated(scope)
        return verified

    def _remembered(self, scope: Scope) -> VerifiedToken | None:
        """PERF: the request's token when it is a remembered one (else ``None``): a dict
        lookup by the raw ``Authorization`` bytes (no decoding, no parsing), its expiry
        checked with one clock read, the keys' generation compared."""
        for name, value in scope["headers"]:
            if name == b"authorization":
                verified = self._cache.get(value)
                if (
                    verified is not None
                    and _now() < verified.expires
                    and self._keys.generation == self._generation
                ):
                    return verified
                return None
        return None

    def _authenticate(self, scope: Scope) -> VerifiedToken | None:
        """:meth:`authenticate` for a token not remembered: parsed and verified (once
        per request, whichever of middleware and dependency asks first)."""
        verified = scope.get(self._scope_key)
        if verified is not None:
            return verified  # type: ignore[no-any-return]
        found = self._token_and_key(scope)
        if found is None:
            return None
        verified = self._verify(*found)
        scope["user"] = verified.user
        scope["auth"] = verified.credentials
        note_authenticated(scope)
        scope[self._scope_key] = verified
        return verified

    async def __call__(
        self, request: HTTPConnection, security_scopes: SecurityScopes
    ) -> SimpleUser | None:
        """The dependency: the authenticated user (``None`` with ``auto_error=False``), on
        HTTP routes (``request`` is the ``Request``) and WebSocket routes (the
        ``WebSocket``, before ``accept()``: a 401/403 denies the handshake)."""
        scope = request.scope
        # PERF: authenticate() with its remembered-token path inlined (one call fewer).
        for name, value in scope["headers"]:
            if name == b"authorization":
                verified = self._cache.get(value)
                if (
                    verified is not None
                    and _now() < verified.expires
                    and self._keys.generation == self._generation
                ):
                    scope["user"] = verified.user
                    scope["auth"] = verified.credentials
                    note_authenticated(scope)
                    if security_scopes.scopes:
                        return self._with_scopes(verified, security_scopes)
                    return verified.user
                break
        return self._with_scopes(self._dependency(scope), security_scopes)

    def _dependency(self, scope: Scope) -> VerifiedToken | None:
        """:meth:`_authenticate` with the dependency's answers: 401, or ``None``."""
        try:
            verified = self._authenticate(scope)
        except InvalidToken:
            if self.auto_error:
                raise HTTPException(401, INVALID_DETAIL, INVALID_CHALLENGE) from None
            return None
        if verified is None and self.auto_error:
            raise HTTPException(401, MISSING_DETAIL, MISSING_CHALLENGE)
        return verified

    def _with_scopes(
        self, verified: VerifiedToken | None, security_scopes: SecurityScopes
    ) -> SimpleUser | None:
        """The user when its token grants every required scope: else 403 (RFC 6750 §3.1
        ``insufficient_scope``), or ``None``."""
        if verified is None:
            return None
        if security_scopes.scopes and not verified.credentials.scopes.issuperset(
            security_scopes.scopes
        ):
            if self.auto_error:
                challenge = (
                    f'Bearer error="insufficient_scope", scope="{security_scopes.scope_str}"'
                )
                raise HTTPException(403, SCOPE_DETAIL, {"WWW-Authenticate": challenge})
            return None
        return verified.user

    @property
    def middleware(self) -> Callable[..., ASGIApp]:
        """``app.add_middleware(auth.middleware)``: the middleware bound to this auth."""
        from qake_security._jwt_middleware import JWTAuthMiddleware

        return functools.partial(JWTAuthMiddleware, auth=self)

    # -- issuing ------------------------------------------------------------------------

    def create_token(
        self,
        subject: str,
        claims: Mapping[str, Any] | None = None,
        *,
        expires_in: float | timedelta | None = None,
        not_before: float | timedelta | None = None,
    ) -> str:
        """A signed token for ``subject``: ``sub``, ``iat``, ``nbf``, ``exp`` (now +
        ``expires_in``, default the constructor's), ``iss`` and ``aud`` (the first
        configured), a random ``jti``, and ``claims``."""
        key = self._keys.signing_key()
        if key is None:
            raise RuntimeError(
                "JWTAuth.create_token: no key can sign (a public key or a JWKS verifies "
                "only); give the private key or the HMAC secret"
            )
        extra = dict(claims or {})
        clash = RESERVED_CLAIMS.intersection(extra)
        if clash:
            raise ValueError(
                f"create_token: {sorted(clash)} are set by create_token itself; use "
                "subject=, expires_in= and the JWTAuth's issuer/audience"
            )
        now = int(_now())
        lifetime = self.expires_in if expires_in is None else _seconds(expires_in)
        payload: dict[str, Any] = {
            **extra,
            "sub": subject,
            "iat": now,
            "nbf": now + (0 if not_before is None else int(_seconds(not_before))),
            "exp": now + int(lifetime),
            "jti": secrets.token_urlsafe(16),
        }
        if self.issuers:
            payload["iss"] = self.issuers[0]
        if self.audiences:
            payload["aud"] = self.audiences[0]
        headers = {"kid": key.kid} if key.kid is not None else None
        return jwt.encode(payload, key.signing_key, algorithm=key.algorithms[0], headers=headers)

    def login_credentials(self, user: str, roles: Sequence[str]) -> TokenCredentials:
        """qake-testing's ``client.login_as(user, roles=...)``: a token in the
        ``Authorization`` header (and in the cookie, when one is configured)."""
        token = self.create_token(user, {self.roles_claim: list(roles)})
        cookies = {self.cookie: token} if self.cookie else {}
        return TokenCredentials({"Authorization": f"Bearer {token}"}, cookies)
