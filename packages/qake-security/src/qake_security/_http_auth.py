"""HTTP authentication schemes (RFC 9110 section 11): ``HTTPBasic`` (RFC 7617),
``HTTPBearer`` (RFC 6750) and ``HTTPDigest`` (RFC 7616, credentials extracted only),
with FastAPI's names and behaviour; ``BasicLogin`` gives qake-testing's
``client.login_as`` the Basic credentials of known users.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from qake_core import HTTPConnection
from qake_security._schemes import (
    INVALID_CREDENTIALS,
    SecurityBase,
    authorization_of,
    is_token68,
    quoted_string,
    split_authorization,
)

__all__ = [
    "BasicLogin",
    "HTTPAuthorizationCredentials",
    "HTTPBase",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
]

# C0 controls, DEL and C1 controls (RFC 7617 section 2; RFC 5234 CTL and Unicode Cc).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class HTTPBasicCredentials:
    """The user-id and password of a Basic ``Authorization`` header (the password is
    left out of the ``repr``)."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class HTTPAuthorizationCredentials:
    """An ``Authorization`` header's scheme (as sent) and credentials (left out of the
    ``repr``)."""

    scheme: str
    credentials: str = field(repr=False)


class _HTTPScheme(SecurityBase):
    """An HTTP authentication scheme (OpenAPI's ``http`` type) read from ``Authorization``."""

    def __init__(
        self,
        *,
        scheme: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
        challenge: str | None = None,
    ) -> None:
        super().__init__(
            {"type": "http", "scheme": scheme},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
            challenge=challenge or scheme.capitalize(),
        )

    def credentials(self, request: HTTPConnection) -> tuple[str, str] | None:
        """``(scheme as sent, credentials)``, or ``None`` after :meth:`unauthorized`."""
        value = authorization_of(request)
        if not value:
            self.unauthorized()
            return None
        parsed = split_authorization(value)
        if parsed is None or not parsed[1]:
            self.unauthorized(INVALID_CREDENTIALS)
            return None
        return value[: len(parsed[0])], parsed[1]


class HTTPBase(_HTTPScheme):
    """Any HTTP authentication ``scheme``: yields the header's
    :class:`HTTPAuthorizationCredentials` whatever the scheme sent."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        found = self.credentials(request)
        return None if found is None else HTTPAuthorizationCredentials(*found)


class _NamedScheme(HTTPBase):
    """An HTTP scheme whose credentials must use one auth-scheme name."""

    async def __call__(self, request: HTTPConnection) -> HTTPAuthorizationCredentials | None:
        found = self.credentials(request)
        if found is None:
            return None
        if found[0].lower() != self.security_scheme["scheme"] or not self.valid(found[1]):
            self.unauthorized(INVALID_CREDENTIALS)
            return None
        return HTTPAuthorizationCredentials(*found)

    def valid(self, credentials: str) -> bool:
        return True


class HTTPBearer(_NamedScheme):
    """``Authorization: Bearer <token>`` (RFC 6750 section 2.1): yields
    :class:`HTTPAuthorizationCredentials`; 401 with ``WWW-Authenticate: Bearer``."""

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="bearer",
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
        if bearerFormat:
            self.security_scheme["bearerFormat"] = bearerFormat

    def valid(self, credentials: str) -> bool:
        return is_token68(credentials)


class HTTPDigest(_NamedScheme):
    """``Authorization: Digest ...`` (RFC 7616): yields the credentials unchecked, as
    FastAPI does; verifying them is the application's."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="digest",
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )


def decode_basic(token: str) -> HTTPBasicCredentials | None:
    """RFC 7617 section 2: base64 of ``user-id ":" password``; ``None`` when malformed.

    The bytes are read as UTF-8 (the charset RFC 7617 section 2.1 defines) and, when
    they are not UTF-8, as ISO-8859-1 (what older clients send). Control characters
    are refused (RFC 7617 section 2: the user-id and password MUST NOT contain any).
    """
    if not is_token68(token):
        return None
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    username, colon, password = text.partition(":")
    if not colon or _CONTROL.search(text):
        return None
    return HTTPBasicCredentials(username, password)


class HTTPBasic(_HTTPScheme):
    """``Authorization: Basic <base64(user:password)>`` (RFC 7617): yields
    :class:`HTTPBasicCredentials`. A missing or malformed header is a 401 with
    ``WWW-Authenticate: Basic`` (``Basic realm="..."`` when ``realm`` is given), which
    makes a browser ask for a user name and password."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        realm: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        challenge = "Basic" if realm is None else f"Basic realm={quoted_string(realm, 'realm')}"
        super().__init__(
            scheme="basic",
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
            challenge=challenge,
        )
        self.realm = realm

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:
        found = self.credentials(request)
        if found is None:
            return None
        if found[0].lower() != "basic":
            self.unauthorized()
            return None
        credentials = decode_basic(found[1])
        if credentials is None:
            self.unauthorized(INVALID_CREDENTIALS)
        return credentials


@dataclass(frozen=True, slots=True)
class _LoginCredentials:
    headers: Mapping[str, str] = field(repr=False)
    cookies: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BasicLogin:
    """A ``login_as`` provider for HTTP Basic: set ``app.login_provider =
    BasicLogin({"alice": "wonderland"})`` and ``client.login_as("alice")`` sends
    her ``Authorization: Basic`` header.

    Basic credentials carry no roles (the app looks them up from the user), so asking
    for roles is a ``ValueError``; an unknown user is a ``LookupError``.
    """

    passwords: Mapping[str, str] = field(repr=False)

    def login_credentials(self, user: str, roles: Sequence[str] = ()) -> _LoginCredentials:
        if roles:
            raise ValueError(
                f"BasicLogin: HTTP Basic credentials carry no roles ({list(roles)!r}); "
                "give the user its roles where the app looks them up"
            )
        try:
            password = self.passwords[user]
        except KeyError:
            raise LookupError(f"BasicLogin: no password for user {user!r}") from None
        return _LoginCredentials(headers={"Authorization": basic_authorization(user, password)})


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` value for ``username`` and ``password`` (UTF-8, RFC 7617);
    a user-id with a colon, or credentials with a control character, cannot be sent
    (RFC 7617 section 2): ``ValueError``."""
    if ":" in username:
        raise ValueError("HTTP Basic: a user-id cannot contain ':' (RFC 7617 section 2)")
    if _CONTROL.search(username) or _CONTROL.search(password):
        # NOTE: decode_basic refuses them: such credentials could never log in.
        raise ValueError(
            "HTTP Basic: a user-id or password cannot contain control characters "
            "(RFC 7617 section 2)"
        )
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"
