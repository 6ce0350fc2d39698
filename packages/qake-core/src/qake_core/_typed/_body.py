"""Reading a route's request body: a JSON body validated straight from its bytes, or a
form (URL-encoded or multipart).

Both give the values of the body parameters by name, and the problem entries
(``None`` when there are none); a body of the wrong media type is answered 415. The
one JSON parser serves both the endpoint of a route whose only body is one model and
the general endpoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from pydantic import ValidationError

from qake_core._exceptions import HTTPException
from qake_core._forms import FormData
from qake_core._requests import Request
from qake_core._typed._extraction import Problems, missing, problem_entries
from qake_core._typed._specs import BodySpec, ParamSpec
from qake_core._typed._types import base_type
from qake_core._upload import UploadFile

__all__ = ["FormReader", "JSONParser", "form_reader", "is_form_body", "json_parser"]

BodyValues = tuple[dict[str, Any], Problems | None]
#: ``parse(raw body, request) -> ({parameter name: value}, problems or None)``.
JSONParser = Callable[[bytes, Request], BodyValues]
#: ``await read(request) -> ({parameter name: value}, problems or None)``.
FormReader = Callable[[Request], Awaitable[BodyValues]]


def is_form_body(body: BodySpec) -> bool:
    """Whether ``body`` is a form (URL-encoded or multipart) rather than JSON."""
    return body.fields[0].location in ("form", "file")


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the Content-Type names JSON (``application/json`` or ``...+json``).

    PERF: the names' lengths compared first (an int comparison is specialised, a bytes
    one is not) and the verdict remembered per value (bounded, as ``_default_headers``'
    document types): S4 in process (callgrind, PYTHONHASHSEED=0) 62,784 -> 62,350
    instructions."""
    for k, v in headers:
        if len(k) == 12 and k == b"content-type":
            known = _JSON_BY_VALUE.get(v)
            return _json_media(v) if known is None else known
    return False


#: Content-Type value -> whether it names JSON: the first 256 values of at most 64 bytes
#: seen (they come from the network: at most 16 KiB kept, whatever clients send).
_JSON_BY_VALUE: dict[bytes, bool] = {}


def _json_media(content_type: bytes) -> bool:
    media = content_type.partition(b";")[0].strip().lower()
    json = media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )
    if len(content_type) <= 64 and len(_JSON_BY_VALUE) < 256:
        _JSON_BY_VALUE[content_type] = json
    return json


def _is_form(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the Content-Type names a form (URL-encoded or multipart)."""
    for k, v in headers:
        if k == b"content-type":
            media = v.partition(b";")[0].strip().lower()
            return media in (b"application/x-www-form-urlencoded", b"multipart/form-data")
    return False


_EMPTY_FORM = FormData()


class _Shape(NamedTuple):
    """What both JSON parsers need to know of a body."""

    names: list[str]
    embed: bool
    required: bool
    defaults: dict[str, Any]
    #: One entry per missing required body parameter (an embedded body), else one for
    #: the body itself.
    absent: Problems

    def empty(self) -> BodyValues:
        """The values of a request without a body: the defaults, or what is missing."""
        if self.required:
            return {}, self.absent
        return dict(self.defaults), None


def _shape(body: BodySpec) -> _Shape:
    absent = (
        [e for f in body.fields if f.required for e in missing(["body", f.alias])]
        if body.embed
        else missing(["body"])
    )
    defaults = {f.name: f.default for f in body.fields}
    return _Shape([f.name for f in body.fields], body.embed, body.required, defaults, absent)


def json_parser(body: BodySpec, fastapi: bool = False) -> JSONParser:
    """The parser of a JSON body, given its bytes (the endpoint awaits them: PERF, one
    coroutine fewer than an async reader). ``fastapi``: FastAPI's
    (:func:`_fastapi_json_parser`)."""
    if fastapi:
        return _fastapi_json_parser(body)
    validate_json = body.adapter.validator.validate_json  # PERF: pydantic-core directly
    shape = _shape(body)
    names, embed, single = shape.names, shape.embed, shape.names[0]

    def parse(raw: bytes, request: Request) -> BodyValues:
        if not raw:
            return shape.empty()
        if not _is_json(request.scope["headers"]):
            raise HTTPException(415, "Expected a JSON body (Content-Type: application/json).")
        try:
            value = validate_json(raw)
        except ValidationError as exc:
            return {}, problem_entries(exc, ("body",))
        if embed:
            return {n: getattr(value, n) for n in names}, None
        return {single: value}, None

    return parse


def _fastapi_json_parser(body: BodySpec) -> JSONParser:
    """The parser of a route with ``compat="fastapi"``: a body of another media type (or
    none named) fails validation as FastAPI's does (422, not 415), and a body that is
    not JSON gives FastAPI's ``json_invalid`` entry."""
    from qake_core._compat import fastapi_json_error

    validator = body.adapter.validator
    shape = _shape(body)
    names, embed, single = shape.names, shape.embed, shape.names[0]
    aliases = [f.alias for f in body.fields]

    def parse(raw: bytes, request: Request) -> BodyValues:
        if not raw:
            return shape.empty()
        if not _is_json(request.scope["headers"]):
            # FastAPI validates the bytes themselves: they fail (an embedded body: it
            # looks each parameter up in them, and each is missing)
            if embed:
                return {}, [e for alias in aliases for e in missing(["body", alias])]
            try:
                return {single: validator.validate_python(raw, from_attributes=True)}, None
            except ValidationError as exc:
                return {}, problem_entries(exc, ("body",))
        try:
            value = validator.validate_json(raw)
        except ValidationError as exc:
            errors = problem_entries(exc, ("body",))
            if errors and errors[0]["type"] == "json_invalid":
                return {}, [fastapi_json_error(raw)]
            if embed and errors and errors[0]["loc"] == ["body"]:  # not an object
                return {}, [e for alias in aliases for e in missing(["body", alias])]
            return {}, errors
        if embed:
            return {n: getattr(value, n) for n in names}, None
        return {single: value}, None

    return parse


def form_reader(body: BodySpec, fastapi: bool = False) -> FormReader:
    """The reader of a form body (it awaits the parsed form). ``fastapi``: a body that
    is not a form reads as an empty one (FastAPI's 422 for each missing field, where
    qakeapi answers 415)."""
    plans: list[tuple[ParamSpec, Callable[[Any], Any] | None]] = []
    for f in body.fields:
        validate = f.adapter.validate_python if f.adapter is not None else None
        if f.model is not None:
            validate = f.model.__pydantic_validator__.validate_python
        plans.append((f, validate))

    async def read(request: Request) -> BodyValues:
        if _is_form(request.scope["headers"]):
            form = await request.form()
        elif not fastapi and await request.body():
            form = await request.form()  # a body that is not a form: 415
        else:
            # NOTE: no body at all (a bare POST has no Content-Type): an empty form, so
            # optional fields take their defaults and missing ones are listed (422), as
            # the JSON side does for an empty body.
            form = _EMPTY_FORM
        values: dict[str, Any] = {}
        errors: Problems = []
        for f, validate in plans:
            loc = ["body", f.alias]
            if f.model is not None:
                assert validate is not None
                try:
                    values[f.name] = validate(dict(form.items()))
                except ValidationError as exc:
                    errors += problem_entries(exc, ("body",))
                continue
            raw: Any = form.getlist(f.alias) if f.is_sequence else form.get(f.alias)
            if raw is None or raw == []:
                if f.required:
                    errors += missing(loc)
                else:
                    values[f.name] = f.default
                continue
            if f.location == "file":
                files = raw if isinstance(raw, list) else [raw]
                if not all(isinstance(x, UploadFile) for x in files):
                    errors.append({"loc": loc, "msg": "Expected an uploaded file", "type": "file"})
                    continue
                if base_type(f.annotation) is bytes or (
                    f.is_sequence and "bytes" in repr(f.annotation)
                ):
                    files = [await x.read() for x in files]
                values[f.name] = files if f.is_sequence else files[0]
                continue
            assert validate is not None
            try:
                values[f.name] = validate(raw)
            except ValidationError as exc:
                errors += problem_entries(exc, tuple(loc))
        return values, (errors or None)

    return read
