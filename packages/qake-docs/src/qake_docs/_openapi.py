"""``openapi_document``: the OpenAPI 3.1 description of an application's HTTP routes."""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import orjson

from qake_core import PROBLEM_JSON, APIRoute, ParamSpec, RouteSpec
from qake_docs._schemas import SchemaRegistry, named_model
from qake_docs._security import SecuritySchemes

__all__ = ["openapi_document"]

_WIRE_LOCATIONS = ("path", "query", "header", "cookie")
_NO_BODY_STATUSES = (204, 304)

# RFC 9457 problem details, as qake-core answers errors.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "properties": {
        "type": {"type": "string", "default": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status"],
}
VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ValidationProblem",
    "allOf": [{"$ref": "#/components/schemas/Problem"}],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["loc", "msg", "type"],
            },
        }
    },
}


def _operation_id(route: APIRoute, method: str) -> str:
    if route.operation_id:
        return route.operation_id
    return re.sub(r"\W", "_", f"{route.name}{route.routing.path_format}") + "_" + method.lower()


def _json_default(value: Any) -> Any:
    """``value`` if it survives JSON serialisation, else ``None`` (left out)."""
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:
        return None


class _Builder:
    def __init__(self) -> None:
        self.schemas = SchemaRegistry()
        self.uses_validation = False
        self.operation_ids: dict[str, str] = {}
        self.security = SecuritySchemes()

    def parameter(self, p: ParamSpec) -> dict[str, Any]:
        param: dict[str, Any] = {"name": p.alias, "in": p.location}
        if p.location == "path" or p.required:
            param["required"] = True
        if p.description:
            param["description"] = p.description
        if p.deprecated:
            param["deprecated"] = True
        if p.takes_router_value:
            # The router's value reaches the handler as is: what the converter accepts is
            # all there is to say, in the converter's own words.
            assert p.converter is not None
            param["schema"] = copy.deepcopy(p.converter.json_schema)
            return param
        schema = self.schemas.schema_for(p.adapter if p.adapter is not None else p.annotation)
        if not p.required and p.default is not None:
            default = _json_default(p.default)
            if default is not None:
                schema["default"] = default  # kept when the placeholder is filled
        param["schema"] = schema
        return param

    def parameters(self, route: APIRoute, spec: RouteSpec | None) -> list[dict[str, Any]]:
        declared: dict[tuple[str, str], dict[str, Any]] = {}
        if spec is not None:
            for p in spec.params:
                if p.location in _WIRE_LOCATIONS and p.include_in_schema:
                    declared[(p.location, p.alias)] = self.parameter(p)
        out = []
        # Every parameter of the template, in its order, as the router parsed it; one the
        # handler does not declare is described by its converter.
        for name, converter in route.routing.params.items():
            schema = copy.deepcopy(converter.json_schema)
            fallback = {"name": name, "in": "path", "required": True, "schema": schema}
            out.append(declared.pop(("path", name), fallback))
        out.extend(declared.values())
        return out

    def request_body(self, spec: RouteSpec, operation_id: str) -> dict[str, Any] | None:
        body = spec.body
        if body is None:
            return None
        adapter = body.adapter
        if body.embed:
            # The model qake-core built for this route's body fields: named after the
            # operation (unique, stable), as FastAPI names it, not after qake-core's module.
            module = getattr(spec.endpoint, "__module__", None) or "app"
            adapter = named_model(adapter, f"Body_{operation_id}", module)
        schema = self.schemas.schema_for(adapter)
        return {"required": body.required, "content": {body.media_type: {"schema": schema}}}

    def responses(self, route: APIRoute, spec: RouteSpec | None, validates: bool) -> dict[str, Any]:
        status = spec.status_code if spec is not None else (route.status_code or 200)
        main: dict[str, Any] = {"description": _phrase(status)}
        model = spec.response.model if spec is not None else None
        if model is not None and status not in _NO_BODY_STATUSES:
            adapter = spec.response.adapter if spec is not None else None
            schema = self.schemas.schema_for(adapter or model, "serialization")
            main["content"] = {"application/json": {"schema": schema}}
        out: dict[str, Any] = {str(status): main}
        if validates:
            self.uses_validation = True
            out["422"] = {
                "description": "Validation Error",
                "content": {
                    PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}
                },
            }
        declared = spec.responses if spec is not None else route.responses
        for code, extra in declared.items():
            out[str(code)] = self.declared_response(code, extra, out.get(str(code)))
        return out

    def declared_response(self, code: int | str, extra: Any, current: Any) -> dict[str, Any]:
        """A ``responses={404: {"model": Problem, "description": ...}}`` entry."""
        response: dict[str, Any] = dict(current or {})
        if not isinstance(extra, dict):
            extra = {"model": extra}
        extra = dict(extra)
        model = extra.pop("model", None)
        response.update(extra)
        response.setdefault("description", _phrase(code))
        if model is not None:
            schema = self.schemas.schema_for(model, "serialization")
            response.setdefault("content", {})["application/json"] = {"schema": schema}
        return response

    def operation(self, route: APIRoute, method: str) -> dict[str, Any]:
        spec = route.spec if isinstance(route.spec, RouteSpec) else None
        operation_id = _operation_id(route, method)
        where = f"{method} {route.path}"
        if operation_id in self.operation_ids:
            raise ValueError(
                f"OpenAPI: operationId {operation_id!r} is used by both "
                f"{self.operation_ids[operation_id]} and {where}; give one of them "
                "another operation_id="
            )
        self.operation_ids[operation_id] = where
        op: dict[str, Any] = {}
        if route.tags:
            op["tags"] = list(route.tags)
        op["summary"] = route.summary or route.name.replace("_", " ").capitalize()
        description = route.description or inspect.getdoc(route.endpoint)
        if description:
            op["description"] = description
        op["operationId"] = operation_id
        parameters = self.parameters(route, spec)
        if parameters:
            op["parameters"] = parameters
        body = self.request_body(spec, operation_id) if spec is not None else None
        if body is not None:
            op["requestBody"] = body
        validates = spec is not None and can_fail_validation(spec)
        op["responses"] = self.responses(route, spec, validates)
        if route.deprecated:
            op["deprecated"] = True
        security = self.security.requirements(spec, where) if spec is not None else []
        if security:
            op["security"] = security
        return op


def can_fail_validation(spec: RouteSpec) -> bool:
    """Whether some input of the route can be refused with 422 (so the document lists it).

    A body, and a query/header/cookie value, are validated. A path parameter is only
    when qake-core validates the router's value: the router answers 404 to a segment its
    converter refuses (``{item_id:int}`` and ``abc``), and passes the converted value
    as is when the annotation is the converter's own type without constraints
    (``ParamSpec.takes_router_value``, the rule qake-core's extraction follows).
    """
    if spec.body is not None:
        return True
    return any(p.location != "path" or not p.takes_router_value for p in spec.params)


def _phrase(code: int | str) -> str:
    try:
        return HTTPStatus(int(code)).phrase
    except ValueError:
        return "Response"


def _http_routes(routes: Iterable[Any]) -> Iterable[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            yield route


def openapi_document(
    app: Any, *, title: str, version: str, description: str = ""
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s HTTP routes, as a JSON-ready dict.

    Paths, methods, tags, summaries and path parameters come from the routes; when
    the core has analysed a route (``route.spec``) its query/header/cookie
    parameters, request body and response model are described too, with pydantic
    models as shared ``components.schemas``, and its security dependencies as
    ``components.securitySchemes`` and the operation's ``security``.
    """
    builder = _Builder()
    paths: dict[str, dict[str, Any]] = {}
    for route in _http_routes(getattr(app, "routes", ())):
        item = paths.setdefault(route.routing.path_format, {})
        for method in sorted(route.methods):
            item[method.lower()] = builder.operation(route, method)
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    document: dict[str, Any] = {"openapi": "3.1.0", "info": info, "paths": paths}
    schemas = builder.schemas.finish()
    if builder.uses_validation:
        schemas.setdefault("Problem", PROBLEM_SCHEMA)
        schemas.setdefault("ValidationProblem", VALIDATION_PROBLEM_SCHEMA)
    components: dict[str, Any] = {}
    if schemas:
        components["schemas"] = dict(sorted(schemas.items()))
    if builder.security.schemes:
        components["securitySchemes"] = copy.deepcopy(builder.security.schemes)
    if components:
        document["components"] = components
    return document
