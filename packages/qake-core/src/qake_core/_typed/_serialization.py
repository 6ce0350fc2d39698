"""Turn what a handler returns into a ``Response``, by its declared response model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from qake_core._exceptions import ResponseValidationError
from qake_core._json_fallback import json_bytes
from qake_core._messages import BODYLESS_STATUSES, CONTENT_LENGTH_LINES, JSON_CONTENT_TYPE
from qake_core._responses import JSONResponse, PlainTextResponse, Response, finished_response
from qake_core._typed._analysis import route_label
from qake_core._typed._specs import ResponseSpec

if TYPE_CHECKING:
    from qake_core._routing import APIRoute

__all__ = [
    "Dump",
    "ResponseValidationError",
    "build_dumper",
    "build_serializer",
    "json_bytes_response",
    "plain_json_body",
    "sends_plain_json",
    "to_response",
]


class _JSONBytes(Response):
    """JSON already serialised to bytes (its Content-Type line is built once per class)."""

    __slots__ = ()
    media_type = "application/json"


def json_bytes_response(body: bytes, status: int) -> Response:
    """A JSON response around ``body`` (already serialised).

    PERF: what ``_JSONBytes(body, status)`` builds, without ``__init__``.
    """
    if status in BODYLESS_STATUSES:
        return _JSONBytes(body, status)
    lines = [CONTENT_LENGTH_LINES[len(body)], JSON_CONTENT_TYPE]
    return finished_response(_JSONBytes, status, lines, body)


def to_response(value: Any, status_code: int | None, response_class: type | None) -> Response:
    """The response for a handler's return ``value`` when no response model is declared.

    A ``Response`` is sent as is; ``str`` becomes text; ``None`` becomes an empty
    204 when the route declared ``status_code=204``; a pydantic model is serialised
    by pydantic-core; anything else (dicts, lists, dataclasses, ``Decimal``...) is
    JSON as pydantic writes it (``JSONResponse``: orjson, pydantic for what it lacks).
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
    body = plain_json_body(value)
    if body is not None:
        return json_bytes_response(body, status)
    return JSONResponse(value, status_code=status)


def plain_json_body(value: Any) -> bytes | None:
    """The JSON body ``to_response`` would send for a ``dict``, ``list`` or pydantic
    model ``value`` (``JSONResponse``'s bytes, the model's own serializer's), or
    ``None`` for any other value."""
    kind = type(value)
    if kind is dict or kind is list:
        return json_bytes(value)
    if isinstance(value, BaseModel):
        return value.__pydantic_serializer__.to_json(value)
    return None


def _no_plain_body(value: Any) -> None:
    """``sends_plain_json``'s answer for a route with a response model or class, or a
    status without a body: its runner writes no body itself."""


def sends_plain_json(
    spec: ResponseSpec, response_class: type | None
) -> Callable[[Any], bytes | None]:
    """``value -> body or None`` for a route runner: :func:`plain_json_body` when the
    runner may send the body of a returned ``dict``, ``list`` or model itself (the
    default headers merged once, no ``Response`` made), that is when the route declares
    no response model and no response class and its status has a body; else a function
    that answers ``None`` (the runner then goes through its serializer).

    PERF: FastAPI's tutorial handlers declare no return type; for them the runner
    made a ``JSONResponse`` on every request (in process, callgrind, PYTHONHASHSEED=0,
    ``qakeapi-untyped``: S2 41,431 -> 32,145, S3 70,858 -> 61,618, S4 71,162 -> 63,016,
    S5 51,648 -> 42,443).
    """
    if (
        (spec.model is None or spec.adapter is None)
        and response_class is None
        and spec.status_code not in BODYLESS_STATUSES
    ):
        return plain_json_body
    return _no_plain_body


#: ``(value, route) -> JSON bytes``: a declared response model's dumper, shared by the
#: routes with the same response (``route`` is named if the value does not fit).
Dump = Callable[[Any, "APIRoute"], bytes]


@lru_cache(maxsize=256)
def build_dumper(spec: ResponseSpec, response_class: type | None) -> Dump | None:
    """``(value, route) -> JSON bytes`` for a declared response model sent as JSON.

    The value is validated against the model (``ResponseValidationError`` naming
    ``route``, as ``route_label`` does, when it does not fit) unless it is an instance
    of exactly the declared pydantic model, which was validated when it was built.
    ``None`` when the route sends something else (no model, a ``response_class``, or a
    status without a body).

    PERF: one per response spec and class (the routes with the same response share
    their spec, ``_analysis._response_spec``), not one per route: -196 KiB
    (tracemalloc) for the benchmarks' 2,000-route app, and one walk of the core schema
    (``_validator``) per spec. The runner passes its route: +70-110 instructions per
    request in process (callgrind, PYTHONHASHSEED=0: S2 33,570 -> 33,642, S4 62,138 ->
    62,247, S5 43,874 -> 43,970).
    """
    adapter = spec.adapter
    status = spec.status_code
    if spec.model is None or adapter is None or response_class is not None:
        return None
    if status in BODYLESS_STATUSES:
        return None
    model = spec.model
    options = _options(spec)
    # PERF: pydantic-core's validator and serializer directly, without TypeAdapter's
    # Python wrappers (half the cost per call).
    # PERF: a call with ``**{}`` still builds a keyword dict: options are bound only
    # when there are some.
    validate = _validator(adapter)
    dump_json = _with_options(adapter.serializer.to_json, options)

    # NOTE: a closure (on the request path of S2, S3, S5): a slotted object's bound
    # method instead cost +0.6 % instructions per request.
    def dump(value: Any, route: APIRoute) -> bytes:
        try:
            validated = validate(value)
        except ValidationError as exc:
            raise _invalid_response(exc, route) from None
        return dump_json(validated)

    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return dump
    exact = model
    model_json = _with_options(model.__pydantic_serializer__.to_json, options)

    def dump_model(value: Any, route: APIRoute) -> bytes:
        if type(value) is exact:
            return model_json(value)
        return dump(value, route)

    return dump_model


class _JSONSerializer:
    """``build_serializer``'s function for a route with a dumper.

    PERF: slotted objects and bound methods, not closures (a function, its cells and
    their tuple), here and in ``_PlainSerializer`` (shared by the routes with the same
    status and response class): -455 KiB (tracemalloc, 7,484 -> 7,029 KiB in all) for
    the benchmarks' 2,000-route app; neither runs on the direct runners' path."""

    __slots__ = ("dump", "route", "status")

    def __init__(self, dump: Dump, status: int, route: APIRoute) -> None:
        self.dump = dump
        self.status = status
        self.route = route

    def serialize_json(self, value: Any) -> Response:
        if isinstance(value, Response):
            return value
        # PERF: json_bytes_response inline (``status`` has a body: a dumper exists).
        body = self.dump(value, self.route)
        lines = [CONTENT_LENGTH_LINES[len(body)], JSON_CONTENT_TYPE]
        return finished_response(_JSONBytes, self.status, lines, body)


class _PlainSerializer:
    """``build_serializer``'s function for a route without a response model: one per
    status and response class (``_plain_serializer``: the last 64 pairs used), shared
    by their routes."""

    __slots__ = ("response_class", "status")

    def __init__(self, status: int | None, response_class: type | None) -> None:
        self.status = status
        self.response_class = response_class

    def plain(self, value: Any) -> Response:
        if isinstance(value, Response):  # PERF: the handler built its response
            return value
        return to_response(value, self.status, self.response_class)


@lru_cache(maxsize=64)
def _plain_serializer(status: int | None, response_class: type | None) -> Callable[[Any], Response]:
    return _PlainSerializer(status, response_class).plain


#: The core schema types whose validation never reads an object's attributes: a response
#: type made only of these validates the same with or without ``from_attributes``.
_PLAIN_SCHEMA_TYPES = frozenset(
    {
        "any",
        "none",
        "bool",
        "int",
        "float",
        "decimal",
        "str",
        "bytes",
        "date",
        "time",
        "datetime",
        "timedelta",
        "uuid",
        "url",
        "multi-host-url",
        "literal",
        "list",
        "tuple",
        "set",
        "frozenset",
        "dict",
        "nullable",
        "union",
    }
)


def _validator(adapter: Any) -> Callable[[Any], Any]:
    """``value -> validated value`` for a response: attributes read (``from_attributes``,
    so a handler may return an ORM object for a model) unless the type has nothing that
    reads them.

    PERF: pydantic-core parses a keyword on every call: a ``dict[str, str]`` validates
    in 82 ns without it, 92 with it. In process (callgrind, PYTHONHASHSEED=0): S2 34,041
    -> 33,832, S3 65,987 -> 65,757, S5 44,310 -> 44,099 instructions."""
    validate_python = adapter.validator.validate_python
    if _plain_schema(adapter.core_schema):
        return validate_python  # type: ignore[no-any-return]
    return partial(validate_python, from_attributes=True)


def _plain_schema(schema: Any) -> bool:
    """Whether every node of a core schema is one of ``_PLAIN_SCHEMA_TYPES`` (with no
    validator functions of its own)."""
    return all(
        not isinstance(kind := node.get("type"), str) or kind in _PLAIN_SCHEMA_TYPES
        for node in _schema_nodes(schema)
    )


def _schema_nodes(schema: Any) -> Iterator[dict[str, Any]]:
    """Every dict of a pydantic core schema, nested ones included (fields, items,
    definitions, serialization schemas, metadata)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)


def _with_options(to_json: Callable[..., bytes], options: dict[str, Any]) -> Callable[[Any], bytes]:
    return partial(to_json, **options) if options else to_json


def _options(spec: ResponseSpec) -> dict[str, Any]:
    """The serializer options that change anything for this response model.

    PERF: pydantic-core parses every keyword on every call (passing the three options
    triples the cost of serialising a small dict), so defaults are left out, and so is
    ``by_alias`` when nothing in the model has an alias.
    """
    options: dict[str, Any] = {}
    if spec.exclude_none:
        options["exclude_none"] = True
    if spec.exclude_unset:
        options["exclude_unset"] = True
    if spec.exclude_defaults:
        options["exclude_defaults"] = True
    if spec.include is not None:
        options["include"] = spec.include
    if spec.exclude is not None:
        options["exclude"] = spec.exclude
    adapter = spec.adapter
    if adapter is None or _has_alias(adapter.core_schema):
        options["by_alias"] = spec.by_alias
    return options


def _has_alias(schema: Any) -> bool:
    """Whether a pydantic core schema declares an alias anywhere (fields, definitions)."""
    return any("serialization_alias" in node or "alias" in node for node in _schema_nodes(schema))


def _invalid_response(exc: ValidationError, route: APIRoute) -> ResponseValidationError:
    """The error for ``route``'s value, named when it happens.

    PERF: the functions that raise it keep the route, not its label: -100 KiB
    (tracemalloc) of label strings for the benchmarks' 2,000-route app."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return ResponseValidationError(route_label(route), [dict(e) for e in errors])


def _str_as_json(status: int | None) -> Callable[[Any], Response]:
    """``build_serializer``'s plain serializer, but a ``str`` is sent as JSON."""

    def plain_json(value: Any) -> Response:
        if isinstance(value, Response):
            return value
        if isinstance(value, str):
            return JSONResponse(value, status_code=status or 200)
        return to_response(value, status, None)

    return plain_json


def build_serializer(
    spec: ResponseSpec,
    response_class: type | None,
    route: APIRoute,
    dump: Dump | None,
    str_as_json: bool = False,
) -> Callable[[Any], Response]:
    """A ``value -> Response`` function specialised for the declared response
    (a ``ResponseValidationError`` names ``route``). ``dump`` is the route's
    :func:`build_dumper` (PERF: shared with the route runners). ``str_as_json``:
    a returned ``str`` is sent as JSON, as FastAPI does (``compat="fastapi"``)."""
    status = spec.status_code
    adapter = spec.adapter
    if (spec.model is None or adapter is None) and str_as_json and response_class is None:
        return _str_as_json(status)
    if spec.model is None or adapter is None:
        return _plain_serializer(status, response_class)
    if dump is not None:
        return _JSONSerializer(dump, status, route).serialize_json
    model = spec.model
    exact = model if isinstance(model, type) and issubclass(model, BaseModel) else None
    options = _options(spec)
    validate = adapter.validator.validate_python
    dump_json = adapter.serializer.to_json
    dump_python = adapter.serializer.to_python

    def serialize(value: Any) -> Response:
        if isinstance(value, Response):
            return value
        if status in (204, 304) and value is None:
            return Response(None, status_code=status)
        if exact is not None and type(value) is exact:
            validated = value
        else:
            try:
                validated = validate(value, from_attributes=True)
            except ValidationError as exc:
                raise _invalid_response(exc, route) from None
        if response_class is None:
            return _JSONBytes(dump_json(validated, **options), status)
        data = dump_python(validated, mode="json", **options)
        return response_class(data, status_code=status)  # type: ignore[no-any-return]

    return serialize
