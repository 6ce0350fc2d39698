"""``SessionMiddleware``: ``request.session`` in a signed cookie or in a ``Store``.

Without ``store=`` the session travels in the cookie: JSON (orjson), signed with
HMAC-SHA256 (see ``_signing``), stamped with the time it was written so that
``max_age`` holds even if the browser keeps the cookie longer. With ``store=`` (a
``qake_core.Store``: ``MemoryStore``, ``RedisStore``) the cookie holds only a random
id (256 bits, ``secrets.token_urlsafe(32)``) and the data stays on the server, kept
``max_age`` seconds after its last change (OWASP Session Management Cheat Sheet).

The cookie is written only when the session changed, and deleted when it was
emptied. A cookie that is tampered with, expired, oversized or unknown gives an
empty session, never an error. Cookie defaults follow RFC 6265bis: the ``__Host-``
prefix (``Secure``, ``Path=/``, no ``Domain``), ``HttpOnly``, ``SameSite=Lax``.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Literal

import orjson

from qake_core import (
    Store,
    deny_websocket,
    format_set_cookie,
    parse_cookie_header,
    problem_response,
)
from qake_core.types import ASGIApp, Message, Receive, Scope, Send
from qake_security._signing import Signer

__all__ = [
    "MAX_COOKIE_BYTES",
    "Session",
    "SessionConfig",
    "SessionMiddleware",
    "new_session_id",
]

logger = logging.getLogger("qake.security.sessions")

#: The largest ``Set-Cookie`` value written (name, value and attributes): browsers keep
#: at least this much per cookie and may drop anything larger (RFC 6265 section 6.1).
MAX_COOKIE_BYTES = 4096
#: The close code of a handshake refused while the store is down (IANA registry: 1013
#: "Try Again Later"), when the server cannot send the 503 itself.
WS_TRY_AGAIN_LATER = 1013
_DEFAULT_MAX_AGE = 14 * 24 * 3600
_ID_LENGTH = 43  # len(secrets.token_urlsafe(32))
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_OPTIONS = (
    "secret_keys",
    "cookie_name",
    "max_age",
    "same_site",
    "https_only",
    "http_only",
    "path",
    "domain",
    "store",
)


def new_session_id() -> str:
    """A fresh session id: 256 random bits, URL-safe (OWASP: at least 64 bits)."""
    return secrets.token_urlsafe(32)


class Session(MutableMapping[str, Any]):
    """``request.session``: a mapping of JSON values that records whether it changed.

    ``id`` identifies the session (the store key's source, or a nonce inside a signed
    cookie); :meth:`regenerate` replaces it, :meth:`clear` ends the session.
    """

    __slots__ = ("_data", "_id", "_stale", "modified")

    def __init__(
        self, data: Mapping[str, Any] | None = None, session_id: str | None = None
    ) -> None:
        self._data: dict[str, Any] = dict(data or {})
        self._id = session_id
        #: Ids this session had before :meth:`regenerate` / :meth:`clear` (to delete).
        self._stale: list[str] = []
        #: Whether the cookie (and the store) must be written at the end of the request.
        self.modified = False

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        # NOTE: neither the id nor the values: either may be a secret.
        return f"Session(<{len(self._data)} key(s)>)"

    @property
    def id(self) -> str:
        """The session's id; asking for it on a new session starts one (it is saved)."""
        if self._id is None:
            self._id = new_session_id()
            self.modified = True
        return self._id

    @property
    def is_empty(self) -> bool:
        """Nothing to keep: no data and no id in use."""
        return not self._data and self._id is None

    def clear(self) -> None:
        """End the session: drop its data and its id (the cookie is deleted)."""
        if self._id is not None:
            self._stale.append(self._id)
        self._data.clear()
        self._id = None
        self.modified = True

    def regenerate(self) -> None:
        """Give the session a new id and keep its data: call it when the user logs in
        (or gains privileges) so that an id known before cannot be used after
        (session fixation, OWASP)."""
        if self._id is not None:
            self._stale.append(self._id)
        self._id = new_session_id()
        self.modified = True

    @property
    def current_id(self) -> str | None:
        """The id if the session has one (``id`` would start one)."""
        return self._id

    def stale_ids(self) -> list[str]:
        """The ids this session no longer uses (the store deletes them)."""
        return list(self._stale)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._data)


def _json(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise TypeError(
            f"SessionMiddleware: request.session holds a value JSON cannot encode ({exc}); "
            "store str, int, float, bool, None, lists and dicts with str keys"
        ) from None


def _store_key(session_id: str) -> str:
    # NOTE: the store holds a digest of the id, so a dump of the store (or a key
    # listing) does not hand out live session cookies.
    return "session:" + sha256(session_id.encode("ascii")).hexdigest()


class _CookieBackend:
    """The session in the cookie: ``base64(json).base64(hmac)``."""

    __slots__ = ("max_age", "signer")

    def __init__(self, signer: Signer, max_age: int) -> None:
        self.signer = signer
        self.max_age = max_age

    async def load(self, raw: str) -> Session:
        if len(raw) > MAX_COOKIE_BYTES:
            return Session()
        payload = self.signer.unsign(raw)
        if payload is None:
            return Session()
        try:
            doc = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return Session()
        if not isinstance(doc, dict):
            return Session()
        stamp, data, session_id = doc.get("t"), doc.get("d"), doc.get("i")
        if not isinstance(stamp, int) or not isinstance(data, dict):
            return Session()
        if not isinstance(session_id, str | None):
            return Session()
        age = time.time() - stamp
        if age > self.max_age or age < -60:  # expired, or stamped in the future
            return Session()
        return Session(data, session_id)

    async def save(self, session: Session) -> str:
        return self.encode(session.as_dict(), session.current_id)

    def encode(self, data: Mapping[str, Any], session_id: str | None) -> str:
        doc = {"t": int(time.time()), "i": session_id, "d": data}
        return self.signer.sign(_json(doc))

    async def discard(self, session: Session) -> None:
        return None


class _StoreBackend:
    """The session in a ``Store``; the cookie holds its random id.

    A session that holds no data but whose id is in use (``CSRFMiddleware`` binds its
    tokens to it) is not written to the store: its cookie carries the id signed and
    stamped (``_CookieBackend``'s format, no data), so that anonymous traffic — a probe,
    a crawler, any client that keeps no cookies — cannot grow the shared store: one key
    per request, kept ``max_age`` (14 days), was the cost before. The signature stands
    for the store's "this id was issued here": an unknown id is still never adopted.
    """

    __slots__ = ("empty", "max_age", "store")

    def __init__(self, store: Store, max_age: int, signer: Signer) -> None:
        self.store = store
        self.max_age = max_age
        #: The signed cookie of a session with an id and no data.
        self.empty = _CookieBackend(signer, max_age)

    async def load(self, raw: str) -> Session:
        if len(raw) != _ID_LENGTH or not _ID_CHARS.issuperset(raw):
            signed = await self.empty.load(raw)
            session_id = signed.current_id
            if session_id is None or len(signed) or len(session_id) != _ID_LENGTH:
                return Session()
            return Session({}, session_id)
        stored = await self.store.get(_store_key(raw))
        if stored is None:
            # NOTE: an unknown id is never adopted: a new session gets a new id.
            return Session()
        try:
            data = orjson.loads(stored)
        except orjson.JSONDecodeError:
            return Session()
        if not isinstance(data, dict):
            return Session()
        return Session(data, raw)

    async def save(self, session: Session) -> str:
        await self.discard(session)
        session_id = session.id
        data = session.as_dict()
        if not data:  # an id in use, nothing to keep: signed in the cookie, not stored
            await self.store.delete(_store_key(session_id))
            return self.empty.encode({}, session_id)
        await self.write(session_id, data)
        return session_id

    async def write(self, session_id: str, data: Mapping[str, Any]) -> None:
        await self.store.set(_store_key(session_id), _json(data), ttl=self.max_age)

    async def discard(self, session: Session) -> None:
        for stale in session.stale_ids():
            await self.store.delete(_store_key(stale))


def _default_cookie_name(https_only: bool, path: str, domain: str | None) -> str:
    if not https_only:
        return "session"
    if path == "/" and domain is None:
        return "__Host-session"
    return "__Secure-session"


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """The checked options of a :class:`SessionMiddleware` (built once, at start-up)."""

    backend: _CookieBackend | _StoreBackend
    cookie_name: str
    max_age: int
    same_site: Literal["lax", "strict", "none"]
    secure: bool
    http_only: bool
    path: str
    domain: str | None

    @classmethod
    def from_options(cls, owner: str, options: Mapping[str, Any]) -> SessionConfig:
        unknown = sorted(set(options) - set(_OPTIONS))
        if unknown:
            raise TypeError(
                f"{owner}: unknown option(s) {', '.join(unknown)}; the options are "
                f"{', '.join(_OPTIONS)}"
            )
        keys: Sequence[str | bytes] = options.get("secret_keys") or ()
        max_age = options.get("max_age", _DEFAULT_MAX_AGE)
        if not isinstance(max_age, int) or isinstance(max_age, bool) or max_age <= 0:
            raise ValueError(f"{owner}: max_age must be a positive number of seconds")
        https_only = bool(options.get("https_only", True))
        path = options.get("path", "/")
        domain = options.get("domain")
        same_site = str(options.get("same_site", "lax")).lower()
        store = options.get("store")
        backend: _CookieBackend | _StoreBackend
        if store is None:
            backend = _CookieBackend(Signer(owner, keys, "session"), max_age)
        elif isinstance(store, Store):
            backend = _StoreBackend(store, max_age, Signer(owner, keys, "session"))
        else:
            raise TypeError(f"{owner}: store must be a qake_core.Store (MemoryStore, RedisStore)")
        config = cls(
            backend=backend,
            cookie_name=options.get("cookie_name")
            or _default_cookie_name(https_only, path, domain),
            max_age=max_age,
            same_site=same_site,  # type: ignore[arg-type]  # checked just below
            secure=https_only,
            http_only=bool(options.get("http_only", True)),
            path=path,
            domain=domain,
        )
        try:
            config.set_cookie("x")  # the browser rules: prefix, SameSite=None needs Secure...
        except ValueError as exc:
            raise ValueError(f"{owner}: {exc}") from None
        return config

    def set_cookie(self, value: str) -> str:
        """The ``Set-Cookie`` value that stores ``value``."""
        return format_set_cookie(
            self.cookie_name,
            value,
            max_age=self.max_age,
            path=self.path,
            domain=self.domain,
            secure=self.secure,
            httponly=self.http_only,
            samesite=self.same_site,
        )

    def delete_cookie(self) -> str:
        """The ``Set-Cookie`` value that deletes the cookie."""
        return format_set_cookie(
            self.cookie_name,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            path=self.path,
            domain=self.domain,
            secure=self.secure,
            httponly=self.http_only,
            samesite=self.same_site,
        )

    def cookie_of(self, scope: Scope) -> str | None:
        """The session cookie's value in the request, if any."""
        values = [v for k, v in scope["headers"] if k == b"cookie"]
        if not values:
            return None
        cookies = parse_cookie_header("; ".join(v.decode("latin-1") for v in values))
        return cookies.get(self.cookie_name)


class SessionMiddleware:
    """``request.session`` for every HTTP and WebSocket request.

    ``secret_keys``: a list of secrets of at least 32 bytes; the first signs, all
    verify (rotate by putting a new key first). ``store``: a ``qake_core.Store`` for
    server-side sessions; without it the session is in a signed cookie (4 KB at most).
    ``cookie_name`` defaults to ``__Host-session`` (``__Secure-session`` with a
    ``domain`` or a ``path`` other than ``/``, plain ``session`` with
    ``https_only=False``). Unknown options are refused at start-up.
    """

    def __init__(self, app: ASGIApp, **options: Any) -> None:
        self.app = app
        self.config = SessionConfig.from_options("SessionMiddleware", options)
        #: Requests refused since the store failed (0: no outage).
        self._refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        config = self.config
        raw = config.cookie_of(scope)
        try:
            session = Session() if raw is None else await config.backend.load(raw)
        except Exception as exc:
            self._store_failed(exc)
            response = problem_response(503, "The session store is unavailable.")
            if kind == "http":
                await response(scope, receive, send)
            else:
                await deny_websocket(scope, receive, send, response, WS_TRY_AGAIN_LATER)
            return
        scope["session"] = session
        if kind == "websocket":
            await self.app(scope, receive, send)
            return

        store_failed = False

        async def send_with_cookie(message: Message) -> None:
            nonlocal store_failed
            if store_failed:
                return  # the app's body, after the 503 that replaced its response
            if message["type"] == "http.response.start" and session.modified:
                try:
                    header = await self._commit(session, raw is not None)
                except (TypeError, ValueError):
                    raise  # the application's mistake (a value JSON cannot encode, 4 KB)
                except Exception as exc:
                    self._store_failed(exc)
                    store_failed = True
                    response = problem_response(503, "The session store is unavailable.")
                    await response(scope, receive, send)
                    return
                if self._refused:
                    self._store_answered()
                if header is not None:
                    message["headers"] = [*message.get("headers", ()), (b"set-cookie", header)]
            await send(message)

        if self._refused and raw is not None:
            self._store_answered()
        await self.app(scope, receive, send_with_cookie)

    def _store_failed(self, exc: BaseException) -> None:
        """One ERROR with the traceback when an outage begins (the exception, never the
        cookie), then only a count: a store down for a minute must not write a traceback
        per request."""
        if not self._refused:
            logger.error("session store unavailable: answering 503 until it recovers", exc_info=exc)
        self._refused += 1

    def _store_answered(self) -> None:
        logger.warning("session store recovered after %d refused request(s)", self._refused)
        self._refused = 0

    async def _commit(self, session: Session, had_cookie: bool) -> bytes | None:
        config = self.config
        if session.is_empty:
            await config.backend.discard(session)
            return config.delete_cookie().encode("latin-1") if had_cookie else None
        header = config.set_cookie(await config.backend.save(session))
        if len(header) > MAX_COOKIE_BYTES:
            raise ValueError(
                f"SessionMiddleware: the session cookie would take {len(header)} bytes, more "
                f"than the {MAX_COOKIE_BYTES} a browser keeps (RFC 6265 section 6.1); keep "
                "less in request.session or use server-side sessions (store=MemoryStore() "
                "or RedisStore(...))"
            )
        return header.encode("latin-1")
