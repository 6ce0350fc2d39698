"""OAuth2 bearer dependencies: ``OAuth2``, ``OAuth2PasswordBearer`` and
``OAuth2AuthorizationCodeBearer`` (FastAPI's names and behaviour).

They read the bearer token of RFC 6750 section 2.1 (``Authorization: Bearer <token>``)
and declare the OAuth2 flows in the OpenAPI document; checking the token (a JWT, a
database lookup) is the application's dependency on top of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qake_core import HTTPConnection
from qake_security._schemes import (
    INVALID_CREDENTIALS,
    MAX_CREDENTIALS_LENGTH,
    SecurityBase,
    authorization_of,
    is_token68,
    split_authorization,
)

__all__ = ["OAuth2", "OAuth2AuthorizationCodeBearer", "OAuth2PasswordBearer"]

# OpenAPI 3.1 OAuth Flow Objects: each flow and the URLs it requires.
_FLOW_URLS: dict[str, tuple[str, ...]] = {
    "implicit": ("authorizationUrl",),
    "password": ("tokenUrl",),
    "clientCredentials": ("tokenUrl",),
    "authorizationCode": ("authorizationUrl", "tokenUrl"),
}
# RFC 6750 section 3.1: the token is there but malformed.
INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'


def _flows(flows: Mapping[str, Mapping[str, Any]], who: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, flow in flows.items():
        urls = _FLOW_URLS.get(name)
        if urls is None:
            raise ValueError(
                f"{who}: unknown OAuth2 flow {name!r}; use one of {sorted(_FLOW_URLS)}"
            )
        missing = [url for url in urls if not flow.get(url)]
        if missing:
            raise ValueError(f"{who}: the {name!r} flow needs {', '.join(missing)}")
        # OpenAPI requires "scopes" (a map of scope name to description), even empty.
        out[name] = {**flow, "scopes": dict(flow.get("scopes") or {})}
    return out


def _flow(scopes: Mapping[str, str] | None, refresh_url: str | None, **urls: str) -> dict[str, Any]:
    flow: dict[str, Any] = dict(urls)
    if refresh_url:
        flow["refreshUrl"] = refresh_url
    flow["scopes"] = dict(scopes or {})
    return flow


class OAuth2(SecurityBase):
    """OAuth2 with the given ``flows`` (OpenAPI OAuth Flows Object: ``{"password":
    {"tokenUrl": ...}}``). Yields the raw ``Authorization`` value; 401 with
    ``WWW-Authenticate: Bearer`` when there is none (``None`` with ``auto_error=False``).
    """

    def __init__(
        self,
        *,
        flows: Mapping[str, Mapping[str, Any]] | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        scheme = {"type": "oauth2", "flows": _flows(flows or {}, type(self).__name__)}
        super().__init__(
            scheme,
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
            challenge="Bearer",
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        value = authorization_of(request)
        if not value or len(value) > MAX_CREDENTIALS_LENGTH:
            self.unauthorized()
            return None
        return value


class _BearerFlow(OAuth2):
    """An OAuth2 flow whose access token comes as ``Authorization: Bearer <token>``."""

    async def __call__(self, request: HTTPConnection) -> str | None:
        value = authorization_of(request)
        parsed = split_authorization(value) if value else None
        if parsed is None or parsed[0] != "bearer":
            self.unauthorized()
            return None
        token = parsed[1]
        if not is_token68(token):
            self.unauthorized(INVALID_CREDENTIALS, INVALID_TOKEN_CHALLENGE)
            return None
        return token


class OAuth2PasswordBearer(_BearerFlow):
    """The bearer token of OAuth2's password flow (RFC 6749 section 4.3): ``token:
    str = Depends(OAuth2PasswordBearer(tokenUrl="token"))``. ``tokenUrl`` is where
    clients (and Swagger UI's Authorize button) post the ``OAuth2PasswordRequestForm``.
    """

    def __init__(
        self,
        tokenUrl: str,
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,
    ) -> None:
        super().__init__(
            flows={"password": _flow(scopes, refreshUrl, tokenUrl=tokenUrl)},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )


class OAuth2AuthorizationCodeBearer(_BearerFlow):
    """The bearer token of OAuth2's authorization-code flow (RFC 6749 section 4.1)."""

    def __init__(
        self,
        authorizationUrl: str,
        tokenUrl: str,
        refreshUrl: str | None = None,
        scheme_name: str | None = None,
        scopes: Mapping[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        flow = _flow(scopes, refreshUrl, authorizationUrl=authorizationUrl, tokenUrl=tokenUrl)
        super().__init__(
            flows={"authorizationCode": flow},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
