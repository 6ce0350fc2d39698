"""Build RFC 9457 ``application/problem+json`` responses."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson

from qake_core._responses import Response

__all__ = ["PROBLEM_JSON", "problem_response"]

PROBLEM_JSON = "application/problem+json"


def problem_response(
    status: int,
    detail: Any = None,
    *,
    title: str | None = None,
    type: str = "about:blank",
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """A problem+json response with ``type``, ``title``, ``status``, ``detail``, ``instance``."""
    if title is None:
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
    doc: dict[str, Any] = {"type": type, "title": title, "status": status}
    if detail is not None:
        doc["detail"] = detail
    if instance is not None:
        doc["instance"] = instance
    if extra:
        for key, value in extra.items():
            doc.setdefault(key, value)
    body = orjson.dumps(doc, default=str)
    return Response(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)
