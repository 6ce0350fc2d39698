"""Path templates in OpenAPI form: ``/items/{item_id:int}`` → ``/items/{item_id}``."""

from __future__ import annotations

import re
import uuid
from typing import Any

__all__ = ["CONVERTER_TYPES", "openapi_path", "path_converters", "path_parameters"]

_PARAM = re.compile(r"\{\s*([^{}:\s]+)\s*(?::\s*([^{}\s]+)\s*)?\}")

# The JSON Schema of what each built-in converter accepts; user converters are strings.
CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "path": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}


#: The Python type each built-in converter produces; the router's value reaches the
#: handler as is when the parameter is annotated with it (no 422 possible).
CONVERTER_TYPES: dict[str, type] = {
    "str": str,
    "path": str,
    "int": int,
    "float": float,
    "uuid": uuid.UUID,
}


def path_converters(template: str) -> dict[str, str]:
    """``name → converter name`` of each parameter of ``template`` (``str`` by default)."""
    return {m.group(1): m.group(2) or "str" for m in _PARAM.finditer(template)}


def openapi_path(template: str) -> str:
    """The template with converters removed, as OpenAPI writes paths."""
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", template)


def path_parameters(template: str) -> dict[str, dict[str, Any]]:
    """``name → schema`` of each parameter of ``template``, in order."""
    return {
        m.group(1): dict(CONVERTER_SCHEMAS.get(m.group(2) or "str", {"type": "string"}))
        for m in _PARAM.finditer(template)
    }
