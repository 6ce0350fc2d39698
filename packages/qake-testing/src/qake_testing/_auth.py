"""Credentials for tests: HTTP Basic and Bearer headers, and signed JWTs."""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any


def basic_auth_header(user: str, password: str) -> dict[str, str]:
    """``{"Authorization": "Basic ..."}`` for ``user:password`` (UTF-8, RFC 7617)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def bearer_header(token: str) -> dict[str, str]:
    """``{"Authorization": "Bearer <token>"}``."""
    return {"Authorization": f"Bearer {token}"}


def make_jwt(
    claims: Mapping[str, Any],
    key: str | bytes,
    algorithm: str = "HS256",
    *,
    expires_in: float | timedelta | None = 3600,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``claims`` as a JWT with PyJWT (install ``qake-testing[jwt]``).

    ``iat`` and ``exp`` (now + ``expires_in`` seconds) are added unless ``claims`` sets them
    or ``expires_in`` is ``None``; a negative ``expires_in`` makes an already-expired token.
    """
    try:
        import jwt
    except ImportError:  # pragma: no cover - exercised by monkeypatching the import
        raise ImportError(
            "make_jwt needs PyJWT: install it with `pip install 'qake-testing[jwt]'`."
        ) from None
    payload = dict(claims)
    if expires_in is not None:
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
        now = int(time.time())
        payload.setdefault("iat", now)
        payload.setdefault("exp", now + int(seconds))
    extra = dict(headers) if headers is not None else None
    token: str = jwt.encode(payload, key, algorithm=algorithm, headers=extra)
    return token
