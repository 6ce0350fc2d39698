"""``OAuth2PasswordRequestForm``: the form an OAuth2 password-flow client posts to the
token URL (RFC 6749 section 4.3.2), as a class dependency: ``form_data:
OAuth2PasswordRequestForm = Depends()``.

qake-core never echoes an input value in a validation error, and these classes keep
``password`` and ``client_secret`` out of their ``repr``.
"""

from __future__ import annotations

from typing import Annotated

from qake_core import Form

__all__ = ["OAuth2PasswordRequestForm", "OAuth2PasswordRequestFormStrict"]

# Swagger UI masks a field of format "password" (OpenAPI data type formats).
_SECRET = {"format": "password"}


class OAuth2PasswordRequestForm:
    """``grant_type`` (``"password"`` when sent), ``username``, ``password``, ``scope``
    (space-separated, RFC 6749 section 3.3; split into ``scopes``), ``client_id`` and
    ``client_secret`` (RFC 6749 section 2.3.1 allows them in the body)."""

    __slots__ = ("client_id", "client_secret", "grant_type", "password", "scopes", "username")

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra=_SECRET)],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra=_SECRET)] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(username={self.username!r}, scopes={self.scopes!r}, "
            f"client_id={self.client_id!r})"
        )


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """The same form with ``grant_type=password`` required, as RFC 6749 section 4.3.2
    says; another or a missing grant type is a 422 validation error."""

    __slots__ = ()

    def __init__(
        self,
        *,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra=_SECRET)],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra=_SECRET)] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )
