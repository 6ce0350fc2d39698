"""``openapi_document``: the OpenAPI 3.1 description of an application's HTTP routes.

Everything comes from the compiled routes: ``route.spec`` (qake-core's ``RouteSpec``:
parameters, body, response model, dependencies), ``route.routing`` (the parsed
template and its converters) and the options kept on the route. No handler signature
is inspected again.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from qake_core import APIRoute, ParamSpec, RouteSpec, ServerSentEvent
from qake_docs._deprecation import document_lifecycle
from qake_docs._merge import deep_merge
from qake_docs._operation_ids import OperationIds
from qake_docs._param_models import model_fields
from qake_docs._problems import Problems
from qake_docs._responses import (
    NO_BODY_STATUSES,
    body_content,
    declared_response,
    media_type_of,
    phrase,
)
from qake_docs._schemas import SchemaRegistry, named_model
from qake_docs._security import SecuritySchemes
from qake_docs._text import description_of, summary_of

__all__ = ["body_failures", "can_fail_validation", "dependency_responses", "openapi_document"]

_WIRE_LOCATIONS = ("path", "query", "header", "cookie")


def _json_default(value: Any) -> Any:
    """``value`` if it survives JSON serialisation, else ``None`` (left out)."""
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:
        return None


def _examples(p: ParamSpec) -> dict[str, Any] | None:
    """The parameter's ``openapi_examples=`` (OpenAPI Example Objects by name)."""
    examples = getattr(p.marker, "openapi_examples", None)
    return copy.deepcopy(examples) if examples else None


class _Builder:
    def __init__(self, *, separate_input_output_schemas: bool = True) -> None:
        self.schemas = SchemaRegistry()
        # FastAPI's switch: False documents every model once, as its input.
        self.output_mode: Any = "serialization" if separate_input_output_schemas else "validation"
        self.operation_ids = OperationIds()
        self.security = SecuritySchemes()
        self.problems = Problems()

    def parameter(self, p: ParamSpec) -> dict[str, Any]:
        param: dict[str, Any] = {"name": p.alias, "in": p.location}
        if p.location == "path" or p.required:
            param["required"] = True
        if p.description:
            param["description"] = p.description
        if p.deprecated:
            param["deprecated"] = True
        examples = _examples(p)
        if examples:
            param["examples"] = examples
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

    def model_parameters(self, p: ParamSpec) -> Iterable[tuple[str, dict[str, Any]]]:
        """One parameter per field of a parameter model, as the app reads them."""
        for wire, info, annotation in model_fields(p):
            param: dict[str, Any] = {"name": wire, "in": p.location}
            if info.is_required():
                param["required"] = True
            if info.description:
                param["description"] = info.description
            if info.deprecated:
                param["deprecated"] = True
            schema = self.schemas.schema_for(annotation)
            if info.title:
                schema["title"] = info.title
            if not info.is_required() and info.default is not None:
                default = _json_default(info.get_default(call_default_factory=False))
                if default is not None:
                    schema["default"] = default
            param["schema"] = schema
            yield wire, param

    def parameters(self, route: APIRoute, spec: RouteSpec | None) -> list[dict[str, Any]]:
        declared: dict[tuple[str, str], dict[str, Any]] = {}
        if spec is not None:
            for p in spec.params:
                if p.location not in _WIRE_LOCATIONS or not p.include_in_schema:
                    continue
                if p.model is None:
                    declared[(p.location, p.alias)] = self.parameter(p)
                    continue
                for wire, param in self.model_parameters(p):
                    declared.setdefault((p.location, wire), param)
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
        media: dict[str, Any] = {"schema": self.schemas.schema_for(adapter)}
        if len(body.fields) == 1:
            examples = _examples(body.fields[0])
            if examples:
                media["examples"] = examples
        return {"required": body.required, "content": {body.media_type: media}}

    def responses(
        self, route: APIRoute, spec: RouteSpec | None, security: list[dict[str, list[str]]]
    ) -> dict[str, Any]:
        status = spec.status_code if spec is not None else (route.status_code or 200)
        media_type = media_type_of(route.response_class)
        main: dict[str, Any] = {"description": phrase(status)}
        model = spec.response.model if spec is not None else None
        stream = route.meta.get("stream")
        if stream is not None and status not in NO_BODY_STATUSES:
            main["content"] = self.stream_content(stream)
        elif status not in NO_BODY_STATUSES:
            schema = None
            if model is not None and spec is not None:
                adapter = spec.response.adapter
                schema = self.schemas.schema_for(adapter or model, self.output_mode)
            content = body_content(media_type, schema)
            if content is not None:
                main["content"] = content
        out: dict[str, Any] = {str(status): main}
        if security and spec is not None and self.security.refuses(spec):
            out["401"] = self.problems.ref(401)
        if any(scopes for requirement in security for scopes in requirement.values()):
            out["403"] = self.problems.ref(403)
        if route.meta.get("produces"):
            out["406"] = self.problems.ref(406)
        if spec is not None and spec.body is not None:
            for failure in body_failures(spec.body.media_type):
                out[str(failure)] = self.problems.ref(failure)
        if spec is not None and can_fail_validation(spec):
            out["422"] = self.problems.ref(422)
        if spec is not None:
            for given, (description, headers) in dependency_responses(spec).items():
                out.setdefault(str(given), self.problems.ref(given, description, headers))
        declared = spec.responses if spec is not None else route.responses
        for code, extra in declared.items():
            out[str(code)] = declared_response(
                code, extra, out.get(str(code)), media_type, self.schemas, self.output_mode
            )
        return out

    def stream_content(self, stream: Any) -> dict[str, Any]:
        """The content of a streaming route's answer (qake-core's ``StreamInfo``): each
        item's schema, for events the event object whose ``data`` holds the item's JSON.

        Under ``x-itemSchema``: OpenAPI 3.2 names it ``itemSchema`` (as FastAPI writes
        it), a field a 3.1 document may not hold (validators refuse it); a ``schema``
        would describe the whole body, which is not one JSON value."""
        media: dict[str, Any] = {}
        if stream.item is not None:
            if stream.events:
                # Items that are ServerSentEvents themselves carry data of any kind: what
                # the handler put there, text or JSON, is not in its annotation.
                own = isinstance(stream.item, type) and issubclass(stream.item, ServerSentEvent)
                data: dict[str, Any] = {"type": "string"}
                if not own:
                    data["contentMediaType"] = "application/json"
                    data["contentSchema"] = self.schemas.schema_for(stream.item, self.output_mode)
                item = {
                    "type": "object",
                    "properties": {
                        "data": data,
                        "event": {"type": "string"},
                        "id": {"type": "string"},
                        "retry": {"type": "integer", "minimum": 0},
                    },
                    "required": ["data"],
                }
            else:
                item = self.schemas.schema_for(stream.item, self.output_mode)
            media["x-itemSchema"] = item
        return {stream.media_type or "application/octet-stream": media}

    def operation(self, route: APIRoute, method: str, ids: OperationIds | None) -> dict[str, Any]:
        """The Operation Object of ``method`` on ``route``; ``ids`` checks the id is
        unique (``None`` for callbacks, described once per operation using them)."""
        spec = route.spec if isinstance(route.spec, RouteSpec) else None
        where = f"{method} {route.path}"
        operation_id = ids.assign(route, method, where) if ids else OperationIds.of(route, method)
        op: dict[str, Any] = {}
        if route.tags:
            op["tags"] = list(route.tags)
        op["summary"] = summary_of(route)
        description = description_of(route)
        if description:
            op["description"] = description
        op["operationId"] = operation_id
        parameters = self.parameters(route, spec)
        if parameters:
            op["parameters"] = parameters
        body = self.request_body(spec, operation_id) if spec is not None else None
        if body is not None:
            op["requestBody"] = body
        security = self.security.requirements(spec, where) if spec is not None else []
        op["responses"] = self.responses(route, spec, security)
        callbacks = self.callbacks(route.meta.get("callbacks") or ())
        if callbacks:
            op["callbacks"] = callbacks
        document_lifecycle(op, route, f"route {where!r}")
        if security:
            op["security"] = security
        extra = route.meta.get("openapi_extra")
        if extra:
            deep_merge(op, extra)
        return op

    def path_items(
        self, routes: Iterable[APIRoute], ids: OperationIds | None, key: Any
    ) -> dict[str, dict[str, Any]]:
        items: dict[str, dict[str, Any]] = {}
        for route in routes:
            item = items.setdefault(key(route), {})
            for method in sorted(route.methods):
                item[method.lower()] = self.operation(route, method, ids)
        return items

    def callbacks(self, declared: Iterable[Any]) -> dict[str, Any]:
        """``callbacks=[router or route, ...]``: each route documented as a request the
        API sends, under the route's name, at its path (as FastAPI does).

        A route template cannot hold OpenAPI's runtime expressions, so a mapping
        ``{"{$callback_url}/invoices/{$request.body#/id}": router}`` gives the URL the
        API calls: the router's routes are documented at that expression instead.
        """
        out: dict[str, Any] = {}
        for item in declared:
            targets: list[tuple[str | None, Any]]
            if isinstance(item, Mapping):
                targets = [(str(key), value) for key, value in item.items()]
            else:
                targets = [(None, item)]
            for expression, target in targets:
                for route in _http_routes(_routes_of([target])):
                    key = expression or route.routing.path_format
                    item = out.setdefault(route.name, {}).setdefault(key, {})
                    for method in sorted(route.methods):
                        item[method.lower()] = self.operation(route, method, None)
        return out


def _routes_of(declared: Iterable[Any]) -> Iterable[Any]:
    for item in declared:
        if isinstance(item, APIRoute):
            yield item
        else:
            yield from getattr(item, "routes", ())


def body_failures(media_type: str) -> tuple[int, ...]:
    """What qake-core answers a body it cannot read with: 400 (malformed: bad JSON, a
    broken multipart body, a bad Content-Length), 413 (over a size limit), 415 (a JSON
    body sent as another type), 431 (a multipart part's headers too large)."""
    if media_type == "multipart/form-data":
        return (400, 413, 431)
    if media_type == "application/x-www-form-urlencoded":
        return (400, 413)
    return (400, 413, 415)


def dependency_responses(spec: RouteSpec) -> dict[int, tuple[str, dict[str, Any]]]:
    """The error answers the route's dependencies declare they give, as
    ``openapi_responses = {429: ("Too many requests", {"Retry-After": {...}})}`` on
    the dependency (qake-security's ``RateLimit`` does); the first declaration of a
    status wins."""
    found: dict[int, tuple[str, dict[str, Any]]] = {}
    for dep in spec.all_dependencies:
        declared = getattr(dep.spec.call, "openapi_responses", None)
        if isinstance(declared, dict):
            for code, (description, headers) in declared.items():
                found.setdefault(int(code), (str(description), dict(headers)))
    return found


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


def _http_routes(routes: Iterable[Any]) -> Iterable[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            yield route


def _servers(servers: Iterable[Any] | None, root_path: str | None) -> list[dict[str, Any]]:
    """``servers=`` as given; ``root_path`` adds its own entry first (as FastAPI's
    ``root_path_in_servers``) unless one already has that URL."""
    out = [copy.deepcopy(dict(s)) for s in servers or ()]
    root = (root_path or "").rstrip("/")
    if root and root not in {s.get("url") for s in out}:
        out.insert(0, {"url": root})
    return out


def assemble(
    routes: Iterable[Any],
    *,
    title: str,
    version: str,
    description: str | None = None,
    summary: str | None = None,
    info_extra: dict[str, Any] | None = None,
    servers: Iterable[Any] | None = None,
    root_path: str | None = None,
    tags: Iterable[Any] | None = None,
    webhooks: Iterable[Any] = (),
    separate_input_output_schemas: bool = True,
    openapi_version: str = "3.1.0",
) -> dict[str, Any]:
    """The document of ``routes`` (HTTP routes with their ``RouteSpec``), ``webhooks``
    (routes documented as requests the API sends) and the given metadata.
    ``info_extra`` holds ``termsOfService``, ``contact`` and ``license`` when given."""
    builder = _Builder(separate_input_output_schemas=separate_input_output_schemas)
    paths = builder.path_items(
        _http_routes(routes), builder.operation_ids, lambda r: r.routing.path_format
    )
    hooks = builder.path_items(
        _http_routes(webhooks),
        builder.operation_ids,
        # FastAPI's webhook names have no leading slash; a qakeapi router needs one.
        lambda r: r.routing.path_format.lstrip("/") or "/",
    )
    info: dict[str, Any] = {"title": title}
    if summary:
        info["summary"] = summary
    info["version"] = version
    if description:
        info["description"] = description
    info.update(copy.deepcopy(info_extra or {}))
    document: dict[str, Any] = {"openapi": openapi_version, "info": info}
    server_list = _servers(servers, root_path)
    if server_list:
        document["servers"] = server_list
    document["paths"] = paths
    if hooks:
        document["webhooks"] = hooks
    schemas = builder.schemas.finish()
    builder.problems.avoid(schemas)
    schemas.update(builder.problems.schemas())
    components: dict[str, Any] = {}
    if schemas:
        components["schemas"] = dict(sorted(schemas.items()))
    responses = builder.problems.responses()
    if responses:
        components["responses"] = responses
    if builder.security.schemes:
        components["securitySchemes"] = copy.deepcopy(builder.security.schemes)
    if components:
        document["components"] = components
    tag_list = [copy.deepcopy(dict(tag)) for tag in tags or ()]
    if tag_list:
        document["tags"] = tag_list
    return document


def openapi_document(
    app: Any, *, title: str, version: str, description: str = ""
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s HTTP routes, as a JSON-ready dict.

    Paths, methods, tags, summaries and parameters come from the routes and their
    ``RouteSpec``: request bodies, responses (models as shared ``components.schemas``,
    the framework's problem+json errors as ``components.responses``), security
    dependencies as ``components.securitySchemes`` and the operation's ``security``,
    callbacks and ``openapi_extra``. The app's ``summary``, ``servers``,
    ``root_path``, ``openapi_tags``, ``webhooks`` (a router whose routes are documented,
    not served) and ``separate_input_output_schemas`` are read when it has them.
    """
    return assemble(
        getattr(app, "routes", ()),
        title=title,
        version=version,
        description=description,
        summary=getattr(app, "summary", None),
        servers=getattr(app, "servers", None),
        root_path=getattr(app, "root_path", None),
        tags=getattr(app, "openapi_tags", None),
        webhooks=getattr(getattr(app, "webhooks", None), "routes", ()),
        separate_input_output_schemas=getattr(app, "separate_input_output_schemas", True)
        is not False,
    )
