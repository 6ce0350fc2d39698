"""Turn what a handler returns into a ``Response``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from qake_core._responses import JSONResponse, PlainTextResponse, Response

__all__ = ["to_response"]

_JSON = "application/json"


def to_response(value: Any, status_code: int | None, response_class: type | None) -> Response:
    """The response for a handler's return ``value``.

    A ``Response`` is sent as is; ``str`` becomes text; ``None`` becomes an empty
    204 when the route declared ``status_code=204``; a pydantic model is serialised
    by pydantic-core; anything else is JSON via orjson.
    """
    if isinstance(value, Response):
        return value
    status = status_code or 200
    if response_class is not None:
        return response_class(value, status_code=status)  # type: ignore[no-any-return]
    if isinstance(value, str):
        return PlainTextResponse(value, status_code=status)
    if value is None and status in (204, 304):
        return Response(None, status_code=status)
    if isinstance(value, BaseModel):
        return Response(value.__pydantic_serializer__.to_json(value), status, media_type=_JSON)
    return JSONResponse(value, status_code=status)
