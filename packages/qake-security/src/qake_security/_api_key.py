"""API keys in a header, the query string or a cookie: ``APIKeyHeader``,
``APIKeyQuery`` and ``APIKeyCookie`` (FastAPI's names and behaviour).

Each yields the key as a string; checking it is the application's (compare with
``secrets.compare_digest``). A missing, empty or over-long key is a 401 with
``WWW-Authenticate: APIKey``, as FastAPI answers since 0.122: no RFC defines an
API-key scheme, but RFC 9110 section 15.5.2 requires a challenge with every 401.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

from qake_core import HTTPConnection
from qake_security._schemes import MAX_CREDENTIALS_LENGTH, SecurityBase

__all__ = ["APIKeyBase", "APIKeyCookie", "APIKeyHeader", "APIKeyQuery"]


class APIKeyBase(SecurityBase, ABC):
    """An API key named ``name`` in ``location`` (OpenAPI's ``apiKey`` scheme)."""

    location: Literal["header", "query", "cookie"]

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        if not name:
            raise ValueError(f"{type(self).__name__}(name=...): give the key's name")
        super().__init__(
            {"type": "apiKey", "in": self.location, "name": name},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
            challenge="APIKey",
        )
        self.name = name

    @abstractmethod
    def read(self, request: HTTPConnection) -> str | None:
        """The key as sent, or ``None``."""

    async def __call__(self, request: HTTPConnection) -> str | None:
        key = self.read(request)
        if not key or len(key) > MAX_CREDENTIALS_LENGTH:
            self.unauthorized()
            return None
        return key


class APIKeyHeader(APIKeyBase):
    """The API key in request header ``name`` (``APIKeyHeader(name="X-API-Key")``)."""

    location = "header"

    def read(self, request: HTTPConnection) -> str | None:
        value: str | None = request.headers.get(self.name)
        return value


class APIKeyQuery(APIKeyBase):
    """The API key in query parameter ``name``. Prefer a header: URLs end up in logs,
    browser history and ``Referer`` headers (OWASP REST Security Cheat Sheet)."""

    location = "query"

    def read(self, request: HTTPConnection) -> str | None:
        value: str | None = request.query_params.get(self.name)
        return value


class APIKeyCookie(APIKeyBase):
    """The API key in cookie ``name``."""

    location = "cookie"

    def read(self, request: HTTPConnection) -> str | None:
        return request.cookies.get(self.name)
