"""Turn what a handler returns into a ``Response``, by its declared response model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from qake_core._exceptions import ResponseValidationError
from qake_core._responses import JSONResponse, PlainTextResponse, Response
from qake_core._specs import ResponseSpec

__all__ = ["ResponseValidationError", "build_serializer", "to_response"]


class _JSONBytes(Response):
    """JSON already serialised to bytes (its Content-Type line is built once per class)."""

    __slots__ = ()
    media_type = "application/json"


def to_response(value: Any, status_code: int | None, response_class: type | None) -> Response:
    """The response for a handler's return ``value`` when no response model is declared.

    A ``Response`` is sent as is; ``str`` becomes text; ``None`` becomes an empty
    204 when the route declared ``status_code=204``; a pydantic model is serialised
    by pydantic-core; anything else (dicts, lists, dataclasses...) is JSON via orjson.
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
        return _JSONBytes(value.__pydantic_serializer__.to_json(value), status)
    return JSONResponse(value, status_code=status)


def build_serializer(
    spec: ResponseSpec, response_class: type | None, where: str = "route"
) -> Callable[[Any], Response]:
    """A ``value -> Response`` function specialised for the declared response."""
    status = spec.status_code
    adapter = spec.adapter
    if spec.model is None or adapter is None:

        def plain(value: Any) -> Response:
            if isinstance(value, Response):  # PERF: the handler built its response
                return value
            return to_response(value, status, response_class)

        return plain
    model = spec.model
    exact = model if isinstance(model, type) and issubclass(model, BaseModel) else None
    options: dict[str, Any] = {
        "exclude_none": spec.exclude_none,
        "exclude_unset": spec.exclude_unset,
        "by_alias": spec.by_alias,
    }
    to_json = exact.__pydantic_serializer__.to_json if exact is not None else None
    # PERF: pydantic-core's validator and serializer directly, without TypeAdapter's
    # Python wrappers (half the cost per call).
    validate = adapter.validator.validate_python
    dump_json = adapter.serializer.to_json
    dump_python = adapter.serializer.to_python

    def serialize(value: Any) -> Response:
        if isinstance(value, Response):
            return value
        if status in (204, 304) and value is None:
            return Response(None, status_code=status)
        # PERF: an instance of exactly the declared model was validated when it was
        # built; serialise it straight away with pydantic-core.
        if to_json is not None and type(value) is exact:
            if response_class is None:
                return _JSONBytes(to_json(value, **options), status)
            validated = value
        else:
            try:
                validated = validate(value, from_attributes=True)
            except ValidationError as exc:
                errors = exc.errors(include_url=False, include_context=False, include_input=False)
                raise ResponseValidationError(where, [dict(e) for e in errors]) from None
            if response_class is None:
                return _JSONBytes(dump_json(validated, **options), status)
        data = dump_python(validated, mode="json", **options)
        return response_class(data, status_code=status)  # type: ignore[no-any-return]

    return serialize
