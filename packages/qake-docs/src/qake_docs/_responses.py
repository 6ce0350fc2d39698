"""An operation's ``responses``: its own answer (from the response model and the
response class), the error answers it can give, and ``responses={...}`` as declared."""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qake_docs._schemas import SchemaRegistry

__all__ = ["NO_BODY_STATUSES", "declared_response", "media_type_of", "phrase"]

NO_BODY_STATUSES = (204, 304)
JSON = "application/json"


def phrase(code: int | str) -> str:
    """The reason phrase of ``code`` (``Response`` for ``default``, ``2XX``...)."""
    try:
        return HTTPStatus(int(code)).phrase
    except ValueError:
        return "Response"


def media_type_of(response_class: type | None) -> str | None:
    """The content type a route's ``response_class`` answers with: JSON by default,
    the class's ``media_type`` (``text/html``...), ``None`` when the class sets none
    (``Response``, ``FileResponse``, ``StreamingResponse``: the handler decides)."""
    if response_class is None:
        return JSON
    media_type = getattr(response_class, "media_type", None)
    return media_type if isinstance(media_type, str) else None


def body_content(media_type: str | None, schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``content`` of the route's own answer."""
    if media_type is None:
        return None
    if media_type == JSON or media_type.endswith("+json"):
        return {media_type: {"schema": schema}} if schema is not None else None
    if media_type.startswith("text/"):
        return {media_type: {"schema": {"type": "string"}}}
    return {media_type: {}}


def declared_response(
    code: int | str,
    extra: Any,
    current: dict[str, Any] | None,
    media_type: str | None,
    schemas: SchemaRegistry,
    mode: Any,
) -> dict[str, Any]:
    """One ``responses={404: {"model": Problem, "description": ..., "headers": ...,
    "content": {"image/png": {}}}}`` entry merged over what was generated for that
    status. ``model`` is documented under the route's media type (JSON by default),
    next to any example the entry gives for it; every other key is OpenAPI's own."""
    response: dict[str, Any] = {}
    if current and "$ref" not in current:
        # NOTE: not deep-copied: the schemas in it are placeholders filled later.
        response = dict(current)
        if "content" in current:
            response["content"] = {k: dict(v) for k, v in current["content"].items()}
    if not isinstance(extra, dict):
        extra = {"model": extra}
    extra = copy.deepcopy(extra)
    model = extra.pop("model", None)
    content = extra.pop("content", None)
    response.update(extra)
    response.setdefault("description", phrase(code))
    for header in (response.get("headers") or {}).values():
        # A Header Object needs a schema (or content); a header described in words
        # only is a string, which every header value is.
        if isinstance(header, dict) and not {"schema", "content", "$ref"} & header.keys():
            header["schema"] = {"type": "string"}
    if content:
        merged = response.setdefault("content", {})
        for key, value in content.items():
            merged.setdefault(key, {}).update(value)
    if model is not None:
        target = media_type if media_type and "json" in media_type else JSON
        schema = schemas.schema_for(model, mode)
        response.setdefault("content", {}).setdefault(target, {})["schema"] = schema
    return response
