"""Who a request is from: the user and credentials every authentication layer sets.

``JWTAuth``, ``SessionAuth``, the HTTP Basic and API-key helpers all end in
:func:`set_user`, which stores the user in ``scope["user"]`` and the credentials in
``scope["auth"]`` (read as ``request.user`` / ``request.auth``, Starlette's names).
Authorization (``requires``, ``Permission``) reads them back with :func:`user_of`
and :func:`credentials_of`, whichever layer authenticated the request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from qake_security._security_headers_app import note_authenticated

__all__ = [
    "ANONYMOUS",
    "AnonymousUser",
    "AuthCredentials",
    "BaseUser",
    "SimpleUser",
    "credentials_of",
    "set_user",
    "user_of",
]


@runtime_checkable
class BaseUser(Protocol):
    """What authorization needs of a user: whether it is authenticated, who it is and
    its roles. Any object with these attributes can be a user (an ORM row, say)."""

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def identity(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class SimpleUser:
    """An authenticated user known by its identity (a JWT's ``sub``, a user name)."""

    identity: str
    roles: frozenset[str] = frozenset()
    #: Other facts about the user (a token's claims, a session's stored fields).
    details: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __init__(
        self,
        identity: str,
        roles: Iterable[str] = (),
        details: Mapping[str, Any] | None = None,
    ) -> None:
        object.__setattr__(self, "identity", identity)
        object.__setattr__(self, "roles", frozenset(roles))
        object.__setattr__(self, "details", dict(details or {}))

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.identity


@dataclass(frozen=True, slots=True)
class AnonymousUser:
    """The user of a request no credentials authenticated."""

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def identity(self) -> str:
        return ""

    @property
    def display_name(self) -> str:
        return ""

    @property
    def roles(self) -> frozenset[str]:
        return frozenset()


#: The one anonymous user.
ANONYMOUS = AnonymousUser()


@dataclass(frozen=True, slots=True)
class AuthCredentials:
    """How a request was authenticated: the scheme (``"bearer"``, ``"session"``,
    ``"basic"``, ``"api_key"``), the OAuth2 scopes granted, and the verified claims.

    The raw secret (token, password, key) is never kept here.
    """

    scheme: str
    scopes: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


def set_user(
    scope: MutableMapping[str, Any], user: BaseUser, credentials: AuthCredentials | None
) -> None:
    """Record ``user`` and ``credentials`` as the request's (``request.user`` /
    ``request.auth``)."""
    scope["user"] = user
    scope["auth"] = credentials
    if user.is_authenticated is True:
        # An authenticated user's responses must not be cached (Cache-Control: no-store).
        note_authenticated(scope)


def user_of(scope: Mapping[str, Any]) -> BaseUser:
    """The request's user, or :data:`ANONYMOUS` when no layer authenticated it."""
    user = scope.get("user")
    return ANONYMOUS if user is None else user


def credentials_of(scope: Mapping[str, Any]) -> AuthCredentials | None:
    """The request's credentials, or ``None``."""
    return scope.get("auth")
