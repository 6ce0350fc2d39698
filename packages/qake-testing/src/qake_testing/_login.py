"""``client.login_as(user, roles=...)``: the hook an auth package implements.

qake-security (or any auth layer) implements :class:`LoginProvider` *structurally* — it
never imports qake_testing — and exposes it on the app; the test client finds it there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

from ._auth import bearer_header, make_jwt


@runtime_checkable
class LoginCredentials(Protocol):
    """What a provider returns: headers and cookies that authenticate the next requests."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def cookies(self) -> Mapping[str, str]: ...


@runtime_checkable
class LoginProvider(Protocol):
    """Turns a user and roles into credentials the app accepts.

    Looked up, in order: the ``provider=`` argument of ``login_as``, ``app.login_provider``,
    then ``app.state.login_provider`` (attribute or mapping key).
    """

    def login_credentials(self, user: str, roles: Sequence[str]) -> LoginCredentials: ...


@dataclass(frozen=True, slots=True)
class Credentials:
    """A plain :class:`LoginCredentials`."""

    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JWTLogin:
    """A ready-made provider: a Bearer JWT with ``sub`` = user and ``roles`` = roles."""

    key: str | bytes
    algorithm: str = "HS256"
    roles_claim: str = "roles"
    expires_in: float | timedelta | None = 3600
    claims: Mapping[str, Any] = field(default_factory=dict)

    def login_credentials(self, user: str, roles: Sequence[str]) -> Credentials:
        claims = {**self.claims, "sub": user, self.roles_claim: list(roles)}
        token = make_jwt(claims, self.key, self.algorithm, expires_in=self.expires_in)
        return Credentials(headers=bearer_header(token))


def find_login_provider(app: object) -> LoginProvider:
    candidates: list[object] = [getattr(app, "login_provider", None)]
    state = getattr(app, "state", None)
    if isinstance(state, Mapping):
        candidates.append(state.get("login_provider"))
    elif state is not None:
        candidates.append(getattr(state, "login_provider", None))
    for candidate in candidates:
        if isinstance(candidate, LoginProvider):
            return candidate
    raise LookupError(
        "login_as() found no LoginProvider: pass provider=..., or set app.login_provider "
        "(or app.state.login_provider) to an object with a "
        "login_credentials(user, roles) method."
    )
