"""Extracting request inputs: parameter getters, built per route.

Each getter reads one parameter (path, query, header, cookie, group) from the request
and validates it with a prebuilt pydantic-core validator; failures raise ``_Invalid``
carrying problem entries. ``_body`` parses the body; ``_endpoint`` composes both into
each route's endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from qake_core._background import BackgroundTasks
from qake_core._exceptions import RequestValidationError
from qake_core._params import Header
from qake_core._requests import Request, query_values
from qake_core._responses import Response
from qake_core._typed._specs import ParamSpec
from qake_core._typed._types import base_type, is_sequence
from qake_core.types import Scope

__all__ = ["ScopeReader", "scope_reader"]  # and private helpers of _body and _endpoint

Getter = Callable[[Request, "_Ctx"], Any]
_FAILED: Any = object()
_ABSENT: Any = object()
_INT_FAST_MAX = 18  # digits int() parses with no risk of the int-str conversion limit


class _Invalid(Exception):
    """A parameter failed; ``errors`` are the problem entries (may be empty)."""

    __slots__ = ("errors",)

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors


class _Ctx:
    """Per-request resolution state (only for routes that need more than getters)."""

    __slots__ = ("background", "body", "cache", "errors", "overrides", "response")

    def __init__(self, overrides: Mapping[Any, Any] | None) -> None:
        self.errors: list[dict[str, Any]] | None = None
        self.cache: dict[Any, Any] = {}
        self.body: dict[str, Any] = {}
        self.response: Response | None = None
        self.background: BackgroundTasks | None = None
        self.overrides = overrides

    def fail(self, errors: list[dict[str, Any]]) -> None:
        if self.errors is None:
            self.errors = []
        self.errors.extend(errors)


def _errors(exc: ValidationError, prefix: tuple[Any, ...]) -> list[dict[str, Any]]:
    # NOTE: no "input" (it may hold a secret) and no "ctx" (it may hold an exception).
    return [
        {"loc": [*prefix, *e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def _unique(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Errors without repeats (two dependencies may read the same parameter)."""
    seen: set[str] = set()
    out = []
    for e in errors:
        key = repr((e["loc"], e["type"]))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def _missing(loc: list[Any]) -> list[dict[str, Any]]:
    return [{"loc": loc, "msg": "Field required", "type": "missing"}]


# -- parameter getters -------------------------------------------------------------------


def _value_converter(p: ParamSpec) -> Callable[[Any], Any]:
    """``raw -> value`` for a query/header/cookie scalar (``str`` or ``None``) or list;
    raises ``_Invalid`` with the problem entries."""
    loc = [p.location, p.alias]
    required, default = p.required, p.default
    assert p.adapter is not None
    validate = p.adapter.validate_python
    base = base_type(p.annotation)
    plain = not p.field_info.metadata and p.annotation is base
    if p.is_sequence:

        def convert_list(raw: Any) -> Any:
            if not raw:
                if required:
                    raise _Invalid(_missing(loc))
                return default
            try:
                return validate(raw)
            except ValidationError as exc:
                raise _Invalid(_errors(exc, tuple(loc))) from None

        return convert_list
    if plain and base is str:

        def convert_str(raw: Any) -> Any:
            if raw is None:
                if required:
                    raise _Invalid(_missing(loc))
                return default
            return raw

        return convert_str
    fast_int = plain and base is int

    def convert(raw: Any) -> Any:
        if raw is None:
            if required:
                raise _Invalid(_missing(loc))
            return default
        # PERF: plain ASCII digits are what pydantic would accept; skip its call.
        if fast_int and raw.isdigit() and raw.isascii() and len(raw) <= _INT_FAST_MAX:
            return int(raw)
        try:
            return validate(raw)
        except ValidationError as exc:
            raise _Invalid(_errors(exc, tuple(loc))) from None

    return convert


def _value_getter(p: ParamSpec, read: Callable[[Request], Any]) -> Getter:
    """Getter for a query/header/cookie scalar or list: ``read`` gives str, list or None."""
    convert = _value_converter(p)

    def get(request: Request, ctx: _Ctx) -> Any:
        return convert(read(request))

    return get


def _reader(p: ParamSpec) -> Callable[[Request], Any]:
    key = p.alias
    if p.location == "query":
        if p.is_sequence:
            return lambda r: r.query_params.getlist(key)
        return lambda r: r.query_params.get(key)
    if p.location == "header":
        if p.is_sequence:
            return lambda r: r.headers.getlist(key)
        return lambda r: r.headers.get(key)
    return lambda r: r.cookies.get(key)


def _group_fields(p: ParamSpec) -> list[tuple[str, str, bool]]:
    """``(name on the wire, key the model validates, is a sequence)`` per model field.

    The key is the field's validation alias, else its alias, else its name. A header
    field without an alias is read with underscores turned into hyphens (``x_token``
    reads ``x-token``) unless the marker says ``Header(convert_underscores=False)``,
    as for a single header parameter; header names are matched case-insensitively.
    """
    model = p.model
    assert model is not None
    header = p.location == "header"
    marker = p.marker
    convert = not isinstance(marker, Header) or marker.convert_underscores
    fields: list[tuple[str, str, bool]] = []
    for fname, f in model.model_fields.items():
        validation_alias = f.validation_alias
        key = validation_alias if isinstance(validation_alias, str) else (f.alias or fname)
        wire = key
        if header:
            if convert and key == fname:
                wire = fname.replace("_", "-")
            wire = wire.lower()
        fields.append((wire, key, is_sequence(f.annotation)))
    return fields


def _group_getter(p: ParamSpec) -> Getter:
    """A pydantic model filled from several query/header/cookie values.

    A model that forbids (or allows) extra fields is given every other value of its
    location too, so that ``extra="forbid"`` answers 422 ``extra_forbidden`` for an
    unknown query parameter, header or cookie, as pydantic does for a body.
    """
    model = p.model
    assert model is not None
    fields = _group_fields(p)
    # NOTE: header names are lower-case on the wire side; the known set holds both the
    # wire names and the model's keys so that neither is passed again as an extra.
    known = frozenset(name for wire, key, _ in fields for name in (wire, key))
    extras = model.model_config.get("extra") in ("forbid", "allow")
    validate = model.__pydantic_validator__.validate_python
    location = p.location
    required, default = p.required, p.default

    def get(request: Request, ctx: _Ctx) -> Any:
        source: Any
        if location == "query":
            source = request.query_params
        elif location == "header":
            source = request.headers
        else:
            source = request.cookies
        data: dict[str, Any] = {}
        for wire, key, seq in fields:
            if seq and location != "cookie":
                value = source.getlist(wire) or None
            else:
                value = source.get(wire)
            if value is not None:
                data[key] = value
        if extras:
            for name in source:
                if name not in known:
                    many = source.getlist(name) if location == "query" else ()
                    data[name] = many if len(many) > 1 else source[name]
        if not data and not required:
            return default
        try:
            return validate(data)
        except ValidationError as exc:
            raise _Invalid(_errors(exc, (location,))) from None

    return get


def _path_converter(p: ParamSpec) -> Callable[[Any], Any] | None:
    """``router value -> value``; ``None`` when the router's converted value is passed as is."""
    if p.takes_router_value:
        return None
    assert p.adapter is not None
    validate = p.adapter.validate_python
    loc = ("path", p.alias)

    def convert(raw: Any) -> Any:
        try:
            return validate(raw)
        except ValidationError as exc:
            raise _Invalid(_errors(exc, loc)) from None

    return convert


def _path_getter(p: ParamSpec) -> Getter | None:
    """``None`` when the router's converted value can be passed as is."""
    convert = _path_converter(p)
    if convert is None:
        return None
    key = p.alias

    def get(request: Request, ctx: _Ctx) -> Any:
        return convert(request.path_params[key])

    return get


def _as_is_path_getter(key: str) -> Getter:
    def get(request: Request, ctx: _Ctx) -> Any:
        return request.path_params[key]

    return get


def _body_getter(name: str) -> Getter:
    def get(request: Request, ctx: _Ctx) -> Any:
        value = ctx.body.get(name, _FAILED)
        if value is _FAILED:
            raise _Invalid([])
        return value

    return get


def _getter(p: ParamSpec) -> Getter:
    if p.location == "path":
        return _path_getter(p) or _as_is_path_getter(p.alias)
    if p.location in ("body", "form", "file"):
        return _body_getter(p.name)
    if p.model is not None:
        return _group_getter(p)
    return _value_getter(p, _reader(p))


def _read_params(
    getters: tuple[tuple[str, Getter], ...],
    request: Request,
    kwargs: dict[str, Any],
    errors: list[dict[str, Any]] | None,
) -> list[dict[str, Any]] | None:
    """Run plain getters (no resolution state) into ``kwargs``; return every error."""
    for name, get in getters:
        try:
            kwargs[name] = get(request, None)  # type: ignore[arg-type]
        except _Invalid as exc:
            errors = exc.errors if errors is None else errors + exc.errors
    return errors


ScopeReader = Callable[[Scope, Mapping[str, Any]], dict[str, Any]]
_NO_QUERY: Mapping[str, str] = MappingProxyType({})


def scope_reader(
    params: tuple[ParamSpec, ...], converters: Mapping[str, Any]
) -> ScopeReader | None:
    """``(scope, path_params) -> kwargs`` for a handler whose inputs are all path and
    scalar query parameters, read without building a ``Request``; raises
    ``RequestValidationError`` with every problem. ``None`` for other handlers.
    """
    copied: list[str] = []
    path: list[tuple[str, str, Callable[[Any], Any]]] = []
    query: list[tuple[str, str, Callable[[Any], Any]]] = []
    ordered: list[tuple[str, Callable[[Any], Any], bool]] = []  # (key, convert, from query)
    for p in params:
        if p.location == "path":
            convert = _path_converter(p)
            if convert is None and p.name == p.alias:
                copied.append(p.name)
                continue
            path.append((p.name, p.alias, convert or _same))
            ordered.append((p.alias, convert or _same, False))
        elif p.location == "query" and p.model is None and not p.is_sequence:
            convert = _value_converter(p)
            query.append((p.name, p.alias, convert))
            ordered.append((p.alias, convert, True))
        else:
            return None
    copy_all = len(copied) == len(converters)

    def problems(scope: Scope, path_params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every problem, in parameter order (only run once something failed)."""
        raw_query = scope.get("query_string")
        values = query_values(raw_query) if raw_query else _NO_QUERY
        errors: list[dict[str, Any]] = []
        for key, convert, from_query in ordered:
            try:
                convert(values.get(key) if from_query else path_params[key])
            except _Invalid as exc:
                errors += exc.errors
        return errors

    def read(scope: Scope, path_params: Mapping[str, Any]) -> dict[str, Any]:
        kwargs = dict(path_params) if copy_all else {n: path_params[n] for n in copied}
        try:
            for name, key, convert in path:
                kwargs[name] = convert(path_params[key])
            if query:
                raw_query = scope.get("query_string")
                values = query_values(raw_query) if raw_query else _NO_QUERY
                for name, key, convert in query:
                    kwargs[name] = convert(values.get(key))
        except _Invalid:
            raise RequestValidationError(problems(scope, path_params)) from None
        return kwargs

    return read


def _same(value: Any) -> Any:
    return value
