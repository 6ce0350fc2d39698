"""What to scan: operations with their parameters, from OpenAPI, app routes or by hand."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

from qake_routing import Converter, PathConverter, StrConverter, Template

Location: TypeAlias = Literal["path", "query", "header", "cookie", "body", "form"]
LOCATIONS: frozenset[str] = frozenset({"path", "query", "header", "cookie", "body", "form"})

#: Methods whose operations are scanned; HEAD/OPTIONS/TRACE add nothing to find.
SCANNED_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


class _AnyConverter(dict[str, Converter]):
    """The built-in converters, and a one-segment one for any other name: the scanner
    fills templates, it never matches them, so a user converter's rules do not matter."""

    def get(self, name: str, default: Any = None) -> Converter:
        found = super().get(name)
        return found if found is not None else StrConverter()


_CONVERTERS = _AnyConverter(
    {
        name: Template.parse("/{x:" + name + "}").params["x"]
        for name in ("str", "int", "float", "uuid")
    }
)
_CONVERTERS["path"] = PathConverter()


@lru_cache(maxsize=1024)
def _template(template: str) -> Template:
    """``template`` parsed by qake-routing (the one owner of the template syntax)."""
    return Template.parse(template, _CONVERTERS)


_BENIGN_BY_CONVERTER = {
    "int": "1",
    "float": "1.5",
    "uuid": "00000000-0000-4000-8000-000000000001",
    "path": "a/b",
}
_BENIGN_BY_TYPE: dict[str, Any] = {
    "integer": 1,
    "number": 1.5,
    "boolean": True,
    "array": [],
    "object": {},
    "string": "test",
}


_ANNOTATION_TYPES: dict[object, str] = {int: "integer", float: "number", bool: "boolean"}


@dataclass(frozen=True, slots=True)
class ScanParam:
    """One input of an operation. ``type`` is a JSON-schema type or a path converter."""

    name: str
    location: Location
    type: str = "string"

    @property
    def benign(self) -> Any:
        """A value that should pass validation, used while another input is attacked."""
        if self.type in _BENIGN_BY_CONVERTER:
            return _BENIGN_BY_CONVERTER[self.type]
        value = _BENIGN_BY_TYPE.get(self.type, "test")
        return value if self.location in ("body", "form") else str(value).lower()


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """One operation: ``method`` on the path ``template`` (``/items/{item_id}``)."""

    method: str
    template: str
    params: tuple[ScanParam, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


@runtime_checkable
class ParamLike(Protocol):
    """A route parameter as the scanner reads it (a qake_core parameter spec, say)."""

    @property
    def name(self) -> str: ...

    @property
    def location(self) -> str: ...


@runtime_checkable
class RouteLike(Protocol):
    """What the scanner reads from an entry of ``app.routes``.

    ``path`` is the template and ``methods`` the HTTP methods. An optional ``params``
    attribute (a sequence of :class:`ParamLike`) adds query/header/cookie/body inputs;
    path parameters are always read from the template.
    """

    @property
    def path(self) -> str: ...

    @property
    def methods(self) -> Collection[str] | None: ...


TargetSpec: TypeAlias = ScanTarget | tuple[str, str, Iterable[ScanParam | tuple[str, str]]]


def _scannable(template: object) -> bool:
    """A template qake-routing can read (others, e.g. ``/{name}.txt`` from another
    framework's document, are left out of the scan rather than guessed at)."""
    if not isinstance(template, str):
        return False
    try:
        _template(template)
    except ValueError:  # qake_routing.InvalidTemplate
        return False
    return True


def path_params(template: str) -> list[ScanParam]:
    """The template's parameters; ``type`` is the converter's name (``str`` → string)."""
    return [
        ScanParam(
            segment.name,
            "path",
            "string" if segment.converter_name == "str" else segment.converter_name,
        )
        for segment in _template(template).segments
        if not isinstance(segment, str)
    ]


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each parameter replaced by its (already encoded) value."""
    return "/" + "/".join(
        segment if isinstance(segment, str) else values[segment.name]
        for segment in _template(template).segments
    )


def _merge(template: str, params: Iterable[ScanParam]) -> tuple[ScanParam, ...]:
    declared = {(p.name, p.location): p for p in params}
    for param in path_params(template):
        declared.setdefault((param.name, "path"), param)
    return tuple(declared.values())


def _as_param(item: ScanParam | tuple[str, str] | ParamLike) -> ScanParam | None:
    if isinstance(item, ScanParam):
        return item
    if isinstance(item, tuple):
        name, location = item
    else:
        alias = getattr(item, "alias", None)  # the name on the wire, when it differs
        name, location = alias if isinstance(alias, str) and alias else item.name, item.location
    if location not in LOCATIONS:
        return None
    kind = getattr(item, "type", None) or _ANNOTATION_TYPES.get(getattr(item, "annotation", None))
    kind = kind or "string"
    return ScanParam(name, location, kind if isinstance(kind, str) else "string")  # type: ignore[arg-type]


def coerce_targets(specs: Iterable[TargetSpec]) -> list[ScanTarget]:
    """Explicit targets: :class:`ScanTarget` or ``(method, template, params)`` tuples."""
    targets = []
    for spec in specs:
        if isinstance(spec, ScanTarget):
            targets.append(
                ScanTarget(spec.method.upper(), spec.template, _merge(spec.template, spec.params))
            )
            continue
        method, template, raw = spec
        params = [p for p in map(_as_param, raw) if p is not None]
        targets.append(ScanTarget(method.upper(), template, _merge(template, params)))
    return targets


def _declared_params(route: object) -> list[ScanParam]:
    """``route.spec`` (qake_core's compiled RouteSpec) if present, else ``route.params``."""
    spec = getattr(route, "spec", None)
    raw = getattr(spec if spec is not None else route, "params", ())
    params = [p for p in map(_as_param, raw if isinstance(raw, Sequence) else ()) if p is not None]
    body = getattr(spec, "body", None)
    adapter = getattr(body, "adapter", None)
    if adapter is not None:
        try:
            schema = adapter.json_schema()
        except Exception:  # a body type pydantic cannot describe: no fields to attack
            schema = {}
        location = "form" if "form" in str(getattr(body, "media_type", "")) else "body"
        properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
        params += [
            ScanParam(name, location, _schema_type(schema, prop))  # type: ignore[arg-type]
            for name, prop in properties.items()
        ]
    return params


def targets_from_routes(routes: Iterable[object]) -> list[ScanTarget]:
    """Targets from ``app.routes`` entries that look like :class:`RouteLike`."""
    targets = []
    for route in routes:
        if not isinstance(route, RouteLike) or route.methods is None:
            continue  # WebSocket routes and mounts have no HTTP methods
        if not _scannable(route.path):
            continue
        declared = _declared_params(route)
        methods = sorted(m.upper() for m in route.methods)
        targets += [
            ScanTarget(m, route.path, _merge(route.path, declared))
            for m in methods
            if m in SCANNED_METHODS
        ]
    return targets


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    seen = 0
    while isinstance(node, Mapping) and "$ref" in node and seen < 32:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return {}
        node = document
        for part in ref[2:].split("/"):
            node = (
                node.get(part.replace("~1", "/").replace("~0", "~"), {})
                if isinstance(node, Mapping)
                else {}
            )
        seen += 1
    return node


def _schema_type(document: Mapping[str, Any], schema: Any) -> str:
    schema = _resolve(document, schema)
    if not isinstance(schema, Mapping):
        return "string"
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None:
        for key in ("anyOf", "oneOf", "allOf"):
            options = schema.get(key)
            if isinstance(options, list):
                for option in options:
                    resolved = _schema_type(document, option)
                    if resolved != "null":
                        return resolved
        return "string"
    return str(kind)


def _body_params(document: Mapping[str, Any], operation: Mapping[str, Any]) -> list[ScanParam]:
    body = _resolve(document, operation.get("requestBody"))
    content = body.get("content", {}) if isinstance(body, Mapping) else {}
    for media, location in (
        ("application/json", "body"),
        ("application/x-www-form-urlencoded", "form"),
        ("multipart/form-data", "form"),
    ):
        if media not in content:
            continue
        schema = _resolve(document, content[media].get("schema", {}))
        properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
        return [
            ScanParam(name, location, _schema_type(document, prop))  # type: ignore[arg-type]
            for name, prop in properties.items()
        ]
    return []


def targets_from_openapi(document: Mapping[str, Any]) -> list[ScanTarget]:
    """Targets from an OpenAPI 3 document: paths, parameters and JSON/form bodies."""
    targets = []
    paths = document.get("paths", {})
    for template, item in paths.items() if isinstance(paths, Mapping) else ():
        if not _scannable(template):
            continue
        item = _resolve(document, item)
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method.upper() not in SCANNED_METHODS or not isinstance(operation, Mapping):
                continue
            params = []
            for raw in [*shared, *operation.get("parameters", [])]:
                spec = _resolve(document, raw)
                location = spec.get("in")
                if location in ("path", "query", "header", "cookie") and "name" in spec:
                    kind = _schema_type(document, spec.get("schema", {}))
                    params.append(ScanParam(spec["name"], location, kind))
            params += _body_params(document, operation)
            targets.append(ScanTarget(method.upper(), template, _merge(template, params)))
    return targets
