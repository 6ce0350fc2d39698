"""Reading a route's request body: a JSON body validated straight from its bytes, or a
form (URL-encoded or multipart), into the per-request resolution state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from qake_core._exceptions import HTTPException
from qake_core._forms import FormData
from qake_core._requests import Request
from qake_core._typed._extraction import _Ctx, _errors, _missing
from qake_core._typed._specs import BodySpec, ParamSpec
from qake_core._typed._types import base_type
from qake_core._upload import UploadFile

__all__ = ["BodyParser"]  # and private helpers of _endpoint


def _is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    for k, v in headers:
        if k == b"content-type":
            media = v.partition(b";")[0].strip().lower()
            return media == b"application/json" or (
                media.startswith(b"application/") and media.endswith(b"+json")
            )
    return False


def _is_form(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the Content-Type names a form (URL-encoded or multipart)."""
    for k, v in headers:
        if k == b"content-type":
            media = v.partition(b";")[0].strip().lower()
            return media in (b"application/x-www-form-urlencoded", b"multipart/form-data")
    return False


_EMPTY_FORM = FormData()

BodyParser = Callable[[Request, _Ctx], Any]


def _json_body_parser(body: BodySpec) -> BodyParser:
    validate_json = body.adapter.validator.validate_json  # PERF: pydantic-core directly
    fields = body.fields
    names = [f.name for f in fields]
    embed = body.embed
    required = body.required
    defaults = {f.name: f.default for f in fields}
    single = names[0]

    async def parse(request: Request, ctx: _Ctx) -> None:
        raw = await request.body()
        if not raw:
            if required:
                ctx.fail(_missing(["body"]))
            else:
                ctx.body = dict(defaults)
            return
        if not _is_json(request.scope["headers"]):
            raise HTTPException(415, "Expected a JSON body (Content-Type: application/json).")
        try:
            value = validate_json(raw)
        except ValidationError as exc:
            ctx.fail(_errors(exc, ("body",)))
            return
        if embed:
            ctx.body = {n: getattr(value, n) for n in names}
        else:
            ctx.body = {single: value}

    return parse


def _form_body_parser(body: BodySpec) -> BodyParser:
    plans: list[tuple[ParamSpec, Callable[[Any], Any] | None]] = []
    for f in body.fields:
        validate = f.adapter.validate_python if f.adapter is not None else None
        if f.model is not None:
            validate = f.model.__pydantic_validator__.validate_python
        plans.append((f, validate))

    async def parse(request: Request, ctx: _Ctx) -> None:
        if _is_form(request.scope["headers"]):
            form = await request.form()
        elif await request.body():
            form = await request.form()  # a body that is not a form: 415
        else:
            # NOTE: no body at all (a bare POST has no Content-Type): an empty form, so
            # optional fields take their defaults and missing ones are listed (422), as
            # the JSON side does for an empty body.
            form = _EMPTY_FORM
        values: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for f, validate in plans:
            loc = ["body", f.alias]
            if f.model is not None:
                assert validate is not None
                try:
                    values[f.name] = validate(dict(form.items()))
                except ValidationError as exc:
                    errors += _errors(exc, ("body",))
                continue
            raw: Any = form.getlist(f.alias) if f.is_sequence else form.get(f.alias)
            if raw is None or raw == []:
                if f.required:
                    errors += _missing(loc)
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
                errors += _errors(exc, tuple(loc))
        if errors:
            ctx.fail(errors)
        ctx.body = values

    return parse
