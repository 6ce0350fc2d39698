"""JSON as pydantic writes it, for what orjson does not write the same way: the options
and hooks ``JSONResponse`` gives orjson, and pydantic-core for what orjson refuses."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import orjson

__all__ = ["JSON_OPTIONS", "json_bytes", "json_default", "pydantic_json"]

#: ``OPT_UTC_Z``: a UTC datetime ends in ``Z``, as pydantic writes it.
JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z


@functools.cache
def _pydantic_json_mode() -> tuple[Callable[..., Any], Callable[..., bytes]]:
    """pydantic-core's JSON-mode conversion and writer, with ``timedelta`` as seconds.

    NOTE: imported here: pydantic loads with the first route, not with this module.
    ``timedelta_mode="float"`` is what FastAPI's ``jsonable_encoder`` writes for a bare
    ``timedelta`` (a pydantic model's own fields keep its ``ser_json_timedelta``).
    """
    from pydantic_core import to_json, to_jsonable_python

    return (
        functools.partial(to_jsonable_python, timedelta_mode="float"),
        functools.partial(to_json, timedelta_mode="float", inf_nan_mode="null"),
    )


def json_default(value: Any) -> Any:
    """orjson's hook for a type it does not know (``Decimal``, ``timedelta``, ``set``,
    ``Path``, a pydantic model...): pydantic's JSON form of it."""
    return _pydantic_json_mode()[0](value)


def pydantic_json(content: Any, refused: Exception) -> bytes:
    """``content`` written by pydantic, after orjson ``refused`` it."""
    try:
        return _pydantic_json_mode()[1](content)
    except ValueError as exc:  # pydantic-core's PydanticSerializationError
        raise TypeError(f"cannot serialise the response to JSON: {exc}") from refused


def json_bytes(content: Any) -> bytes:
    """``content`` as JSON the way pydantic writes it: orjson with :data:`JSON_OPTIONS`
    and :func:`json_default`, pydantic-core for what orjson refuses (what
    ``JSONResponse`` sends, and a route without a response model for a dict or list)."""
    try:
        return orjson.dumps(content, default=json_default, option=JSON_OPTIONS)
    except orjson.JSONEncodeError as refused:
        return pydantic_json(content, refused)
