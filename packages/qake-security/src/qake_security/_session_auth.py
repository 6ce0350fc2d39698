"""Logging in with a session: ``login``, ``logout``, ``regenerate_session``, ``SessionAuth``.

``login(request, user_id, roles=...)`` regenerates the session id before it records
the user (OWASP Session Management: renew the id on any privilege change, so that an
id an attacker planted or saw before the login is worth nothing after it).
``SessionAuth`` reads the user back: as a dependency it sets ``request.user`` /
``request.auth`` and answers 401 when nobody is logged in.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qake_core import HTTPConnection, MemoryStore, Request
from qake_core.types import ASGIApp, Receive, Scope, Send
from qake_security._schemes import SecurityBase
from qake_security._sessions import (
    Session,
    SessionConfig,
    SessionMiddleware,
    _StoreBackend,
    new_session_id,
)
from qake_security._users import ANONYMOUS, AuthCredentials, BaseUser, SimpleUser, set_user

__all__ = [
    "ROLES_KEY",
    "USER_KEY",
    "SessionAuth",
    "SessionAuthMiddleware",
    "login",
    "logout",
    "regenerate_session",
]

#: The session keys ``login`` writes (Django's habit: a leading underscore).
USER_KEY = "_auth_user_id"
ROLES_KEY = "_auth_roles"


def _session_of(request: Request) -> Session:
    session = request.session
    if not isinstance(session, Session):
        raise TypeError("login/logout need qake_security.SessionMiddleware's request.session")
    return session


def regenerate_session(request: Request) -> None:
    """Give the request's session a new id, keeping its data (see :meth:`Session.regenerate`)."""
    _session_of(request).regenerate()


def login(request: Request, user_id: str, roles: Sequence[str] = ()) -> None:
    """Log ``user_id`` in: a new session id, then the user and roles in the session.

    Logging in as another user than the one logged in starts from an empty session.
    """
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("login: user_id must be a non-empty str")
    if isinstance(roles, str):
        raise TypeError("login: give roles as a list, not a string")
    session = _session_of(request)
    previous = session.get(USER_KEY)
    if previous is not None and previous != user_id:
        session.clear()
    session.regenerate()
    session[USER_KEY] = user_id
    session[ROLES_KEY] = list(roles)


def logout(request: Request) -> None:
    """End the session: its data is dropped and its cookie (and stored copy) deleted."""
    _session_of(request).clear()


def user_from_session(session: Mapping[str, Any]) -> SimpleUser | None:
    """The user ``login`` recorded in ``session``, or ``None``."""
    user_id = session.get(USER_KEY)
    if not isinstance(user_id, str) or not user_id:
        return None
    roles = session.get(ROLES_KEY)
    if not isinstance(roles, list):
        roles = []
    return SimpleUser(user_id, roles=[r for r in roles if isinstance(r, str)])


@dataclass(frozen=True, slots=True)
class SessionCredentials:
    """What ``login_credentials`` returns (qake-testing's ``LoginCredentials`` shape)."""

    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict, repr=False)


class SessionAuth(SecurityBase):
    """The logged-in user of a session-backed app.

    ``Depends(SessionAuth())`` gives the user (a ``SimpleUser``) and sets
    ``request.user`` / ``request.auth`` (scheme ``"session"``); nobody logged in
    answers 401 with ``WWW-Authenticate: Session`` (``auto_error=False``: ``None``).
    Needs ``SessionMiddleware``. It authenticates WebSocket handshakes too (the
    session cookie comes with them; qake-ws's Origin check keeps a cross-site page from
    riding it). OpenAPI shows it as an ``apiKey`` in the session
    cookie (``cookie_name``, taken from the app's ``SessionMiddleware`` when given).

    Given the app (``SessionAuth(app)``) it is also qake-testing's login provider:
    ``app.login_provider = SessionAuth(app)`` makes ``client.login_as(user, roles)``
    produce a session cookie the app's ``SessionMiddleware`` accepts.
    """

    def __init__(
        self,
        app: Any = None,
        *,
        cookie_name: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.app = app
        self._config: SessionConfig | None = None
        if cookie_name is None:
            config = self._find_config() if app is not None else None
            cookie_name = config.cookie_name if config is not None else "__Host-session"
        super().__init__(
            {"type": "apiKey", "in": "cookie", "name": cookie_name},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
            challenge="Session",
        )

    async def __call__(self, request: HTTPConnection) -> BaseUser | None:
        user = user_from_session(request.session)
        if user is None:
            self.unauthorized()
            return None
        set_user(request.scope, user, AuthCredentials("session"))
        return user

    def login_credentials(self, user: str, roles: Sequence[str]) -> SessionCredentials:
        """A session cookie that logs ``user`` in with ``roles`` (for tests).

        Signed-cookie sessions: a signed cookie. Store sessions: the session is written
        to the store (a ``MemoryStore`` directly; a ``RedisStore`` through a short-lived
        connection of its own, in a worker thread); other stores are refused.
        """
        config = self._session_config()
        data = {USER_KEY: user, ROLES_KEY: list(roles)}
        session_id = new_session_id()
        backend = config.backend
        if isinstance(backend, _StoreBackend):
            _write_now(backend, session_id, data)
            value = session_id
        else:
            value = backend.encode(data, session_id)
        return SessionCredentials(cookies={config.cookie_name: value})

    def _find_config(self) -> SessionConfig | None:
        """The options of the app's ``SessionMiddleware`` (checked as it checks them)."""
        if self._config is None:
            for entry in getattr(self.app, "user_middleware", None) or ():
                cls = getattr(entry, "cls", None)
                if isinstance(cls, type) and issubclass(cls, SessionMiddleware):
                    self._config = SessionConfig.from_options("SessionMiddleware", entry.kwargs)
                    break
        return self._config

    def _session_config(self) -> SessionConfig:
        config = self._find_config()
        if config is None:
            raise LookupError(
                "SessionAuth.login_credentials: give it the app (SessionAuth(app)) after "
                "app.add_middleware(SessionMiddleware, ...)"
            )
        return config


class SessionAuthMiddleware:
    """``request.user`` / ``request.auth`` from the session on every request (the
    logged-in ``SimpleUser``, else ``ANONYMOUS`` and ``None``): for pages that show who
    is logged in without requiring it. Add it before ``SessionMiddleware`` (so that the
    session wraps it); authorization (``requires``) then sees the user."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            session = scope.get("session")
            if session is None:
                raise RuntimeError(
                    "SessionAuthMiddleware needs request.session: add it before "
                    "SessionMiddleware (the last added is the outermost)"
                )
            user = user_from_session(session)
            if user is None:
                set_user(scope, ANONYMOUS, None)
            else:
                set_user(scope, user, AuthCredentials("session"))
        await self.app(scope, receive, send)


def _write_now(backend: _StoreBackend, session_id: str, data: Mapping[str, Any]) -> None:
    """Write a session from synchronous code (qake-testing's ``login_as``)."""
    store = backend.store
    if isinstance(store, MemoryStore):
        _run_unsuspended(backend.write(session_id, data))
        return
    pool: Any = getattr(getattr(store, "client", None), "connection_pool", None)
    kwargs = getattr(pool, "connection_kwargs", None)
    if kwargs is None:
        raise TypeError(
            f"SessionAuth.login_credentials cannot write to a {type(store).__name__} from "
            "synchronous code; use MemoryStore or RedisStore in tests"
        )
    # NOTE: the app's Redis client belongs to the app's event loop; a copy of the store
    # with its own connection writes from a worker thread's loop and closes.
    from redis.asyncio import ConnectionPool, Redis

    from qake_core import RedisStore

    async def write() -> None:
        own = ConnectionPool(connection_class=pool.connection_class, **kwargs)
        copy = RedisStore(
            client=Redis(connection_pool=own), prefix=getattr(store, "prefix", "qake:")
        )
        try:
            await _StoreBackend(copy, backend.max_age, backend.empty.signer).write(session_id, data)
        finally:
            await copy.aclose()
            await own.disconnect()

    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(write())
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)

    worker = threading.Thread(target=run, name="qake-session-login")
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


def _run_unsuspended(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine that never waits (``MemoryStore``'s) to completion, here."""
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()
    raise RuntimeError("the store suspended; it is not a MemoryStore")
