"""What every security dependency shares: its OpenAPI scheme, its 401, and how an
``Authorization`` header is read (RFC 9110 section 11).

A security dependency is a callable instance taking the ``HTTPConnection``, so that it
serves HTTP routes (a ``Request``) and WebSocket handshakes (the ``WebSocket``) alike;
qake-docs finds it in a route's dependencies by its ``security_scheme`` (an OpenAPI 3.1
Security Scheme Object) and ``scheme_name`` (the key under ``components.securitySchemes``).
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

from qake_core import HTTPConnection, HTTPException

__all__ = [
    "INVALID_CREDENTIALS",
    "MAX_CREDENTIALS_LENGTH",
    "NOT_AUTHENTICATED",
    "SecurityBase",
    "authorization_of",
    "is_token68",
    "quoted_string",
    "split_authorization",
]

#: Longest credentials value read (header, query or cookie); a longer one is refused
#: with 401 rather than parsed, so no client pays for (or logs) a megabyte "token".
MAX_CREDENTIALS_LENGTH = 8192

NOT_AUTHENTICATED = "Not authenticated"
INVALID_CREDENTIALS = "Invalid authentication credentials"

# RFC 9110 section 5.6.2: token; section 11.2: auth-scheme = token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 section 11.2: token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# RFC 9110 section 5.6.4: qdtext excludes controls (other than HTAB) and DEL.
_UNQUOTABLE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def authorization_of(request: HTTPConnection) -> str | None:
    """The request's ``Authorization`` value (several fields arrive joined with ``", "``,
    which no single credential parses as, so a repeated header is refused)."""
    value: str | None = request.headers.get("authorization")
    return value


def split_authorization(value: str) -> tuple[str, str] | None:
    """``(auth-scheme in lower case, the rest)`` of an ``Authorization`` value, or
    ``None`` when it is malformed or longer than :data:`MAX_CREDENTIALS_LENGTH`.

    RFC 9110 section 11.6.2: ``credentials = auth-scheme [ 1*SP ( token68 /
    #auth-param ) ]``; the scheme is case-insensitive. The rest is ``""`` when the
    value is a scheme alone.
    """
    if len(value) > MAX_CREDENTIALS_LENGTH:
        return None
    scheme, _, rest = value.partition(" ")
    if not _TOKEN.fullmatch(scheme):
        return None
    return scheme.lower(), rest.lstrip(" ")


def is_token68(value: str) -> bool:
    """Whether ``value`` is an RFC 9110 ``token68`` (a Bearer token, Basic's base64)."""
    return _TOKEN68.fullmatch(value) is not None


def quoted_string(value: str, what: str) -> str:
    """``value`` as an RFC 9110 quoted-string (for a challenge's ``realm``); a value with
    control characters is refused (``ValueError`` naming ``what``)."""
    if _UNQUOTABLE.search(value):
        raise ValueError(f"{what}={value!r}: control characters cannot be sent in a header")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class SecurityBase:
    """Base of the security dependencies: ``security_scheme`` (the OpenAPI Security
    Scheme Object, a dict), ``scheme_name`` (its name in the document; the class name by
    default, as FastAPI), ``auto_error`` and the challenge sent with the 401."""

    security_scheme: dict[str, Any]
    scheme_name: str
    auto_error: bool
    #: The ``WWW-Authenticate`` value of this scheme's 401 (RFC 9110 section 11.6.1).
    challenge: str

    def __init__(
        self,
        security_scheme: dict[str, Any],
        *,
        scheme_name: str | None,
        description: str | None,
        auto_error: bool,
        challenge: str,
    ) -> None:
        if description:
            security_scheme["description"] = description
        self.security_scheme = security_scheme
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error
        self.challenge = challenge

    def unauthorized(self, detail: str = NOT_AUTHENTICATED, challenge: str | None = None) -> None:
        """Refuse the request (``auto_error=True``: 401 with the challenge) or let it through
        without credentials (``auto_error=False``: return, the caller yields ``None``)."""
        if self.auto_error:
            self.refuse(detail, challenge)

    def refuse(self, detail: str, challenge: str | None = None) -> NoReturn:
        """401 problem response with ``WWW-Authenticate``."""
        raise HTTPException(401, detail, headers={"WWW-Authenticate": challenge or self.challenge})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scheme_name={self.scheme_name!r})"
