"""The FastAPI compatibility switch: ``App(compat="fastapi")`` (or a router's).

qakeapi answers some things differently from FastAPI on purpose (problem+json errors,
415 for a body of the wrong media type, ``str`` as text...). With the switch, the app
(or the routes of one router) answers as FastAPI does, so the clients of a ported app
see no change. Everything here is chosen when the app is built: a route compiled
without the switch runs exactly the code it runs when the switch does not exist.

This module owns the FastAPI side of each difference: the error bodies
(``{"detail": ...}``), the validation error entries, and the 500 answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from qake_core._exceptions import HTTPException, RequestValidationError
from qake_core._messages import BODYLESS_STATUSES
from qake_core._responses import JSONResponse, PlainTextResponse, Response
from qake_core.types import Scope

if TYPE_CHECKING:
    from qake_core._errors import ErrorStyle

__all__ = [
    "COMPAT_MODES",
    "Compat",
    "check_compat",
    "fastapi_error_style",
    "fastapi_json_error",
    "route_compat",
    "route_mode",
]

#: ``"fastapi"``: FastAPI's answers; ``"qakeapi"``: qakeapi's (a router that opts out
#: inside a compatible app); ``None``: the including router's, else the app's.
Compat = Literal["fastapi", "qakeapi"] | None
COMPAT_MODES = ("fastapi", "qakeapi")


def check_compat(value: object, where: str) -> Compat:
    """``value`` as a compat mode, or a ``ValueError`` naming ``where`` and the choices."""
    if value is None or value in COMPAT_MODES:
        return value  # type: ignore[return-value]
    raise ValueError(
        f"{where}: compat={value!r} is not supported; use compat='fastapi' for FastAPI's "
        "error bodies and answers, compat='qakeapi' for qakeapi's, or leave it out"
    )


def route_mode(meta: Mapping[str, Any], app_compat: Compat) -> Literal["fastapi", "qakeapi"]:
    """How a route answers: its router's choice, else the app's, else ``"qakeapi"``."""
    return "fastapi" if (meta.get("compat") or app_compat) == "fastapi" else "qakeapi"


def route_compat(meta: Mapping[str, Any], app_compat: Compat) -> bool:
    """Whether a route answers as FastAPI (:func:`route_mode`)."""
    return route_mode(meta, app_compat) == "fastapi"


def _entry(error: dict[str, Any], echo_input: bool) -> dict[str, Any]:
    """One entry of FastAPI's validation ``detail``: ``type``, ``loc``, ``msg``, then
    ``input`` (only when the app echoes it) and ``ctx`` when pydantic gave one."""
    entry: dict[str, Any] = {
        "type": error.get("type"),
        "loc": error.get("loc"),
        "msg": error.get("msg"),
    }
    if echo_input:
        entry["input"] = error.get("input")
    if "ctx" in error:
        entry["ctx"] = error["ctx"]
    return entry


def fastapi_error_style(echo_input: bool = False) -> ErrorStyle:
    """FastAPI's answers: ``{"detail": ...}`` for an ``HTTPException``, the validation
    errors as a ``detail`` list, ``Internal Server Error`` as text for a 500.

    ``echo_input``: validation entries carry the ``input`` that failed (FastAPI always
    sends it; qakeapi only when the app opts in: it may hold a password or a token).
    """

    def http_exception(exc: HTTPException) -> Response:
        status = exc.status_code
        if status in BODYLESS_STATUSES:
            return Response(b"", status_code=status, headers=exc.headers)
        if isinstance(exc, RequestValidationError):
            from qake_core.encoders import jsonable_encoder  # NOTE: loads pydantic

            detail = jsonable_encoder([_entry(e, echo_input) for e in exc.errors])
            return JSONResponse({"detail": detail}, status_code=status, headers=exc.headers)
        return JSONResponse({"detail": exc.detail}, status_code=status, headers=exc.headers)

    def server_error(exc: BaseException, scope: Scope, debug: bool) -> Response:
        return PlainTextResponse("Internal Server Error", status_code=500)

    from qake_core._errors import ErrorStyle

    return ErrorStyle(http_exception, server_error)


def fastapi_json_error(raw: bytes) -> dict[str, Any]:
    """The entry FastAPI gives for a body that is not JSON: ``json_invalid`` at
    ``["body", position]`` with the standard library parser's message (the error path
    only: the body is parsed once more, by ``json``, to find them)."""
    try:
        json.loads(raw)
    except json.JSONDecodeError as exc:
        return {
            "type": "json_invalid",
            "loc": ["body", exc.pos],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": exc.msg},
        }
    except (UnicodeDecodeError, RecursionError):
        pass
    return {
        "type": "json_invalid",
        "loc": ["body", 0],
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": "Invalid JSON"},
    }
