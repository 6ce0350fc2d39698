"""Read handler and dependency signatures into specs, once, at registration.

Every error a user can make here raises ``HandlerSignatureError`` naming the
route, the parameter and the fix.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from pydantic import Field, TypeAdapter, create_model
from pydantic.fields import FieldInfo

import qake_routing
from qake_core._depends import Depends
from qake_core._exceptions import HandlerSignatureError
from qake_core._params import REQUIRED, Body, File, Header, Location, Param, Path, Query
from qake_core._responses import Response, default_status_code
from qake_core._route_containers import route_dependencies, route_responses, route_tags
from qake_core._typed._specs import (
    BodySpec,
    CallSpec,
    DependencySpec,
    Injected,
    ParamSpec,
    ResponseSpec,
    RouteSpec,
)
from qake_core._typed._types import (
    base_type,
    injected_kind,
    is_complex,
    is_sequence,
    is_upload,
    model_of,
    shared_adapter,
    signature_of,
    type_hints_of,
)

if TYPE_CHECKING:
    from qake_core._routing import APIRoute, Router, WebSocketRoute

__all__ = [
    "HandlerSignatureError",
    "analyse_call",
    "analyse_route",
    "flatten_dependencies",
    "route_label",
    "route_spec",
    "split_params",
    "top_dependencies",
]

#: Path parameters by name: the converters of a route's template (``route.routing.params``).
Converters = Mapping[str, qake_routing.Converter]

#: The types of the built-in converters' values: an annotation naming one of them can
#: only take a value of that type (or an int as a float), so another converter's value
#: would be refused on every request.
_SCALAR_TYPES = frozenset(
    c.python_type
    for c in (
        qake_routing.StrConverter,
        qake_routing.IntConverter,
        qake_routing.FloatConverter,
        qake_routing.UUIDConverter,
    )
)


def _adapter(tp: Any, info: FieldInfo | None, where: str, name: str) -> TypeAdapter[Any]:
    try:
        if info is not None:
            return TypeAdapter(Annotated[tp, info])
        return shared_adapter(tp)
    except Exception as exc:
        raise HandlerSignatureError(
            f"{where}: parameter {name!r} has an unsupported annotation {tp!r} ({exc}); "
            "use a type pydantic can validate, or add Depends(...) if it is a dependency"
        ) from None


def _split_marker(tp: Any, where: str, name: str) -> tuple[Any, Param | Depends | None]:
    if get_origin(tp) is not Annotated:
        return tp, None
    base, *meta = get_args(tp)
    markers = [m for m in meta if isinstance(m, Param | Depends)]
    if len(markers) > 1:
        raise HandlerSignatureError(
            f"{where}: parameter {name!r} has several markers {markers!r}; keep one"
        )
    rest = [m for m in meta if not isinstance(m, Param | Depends)]
    if rest:
        base = Annotated[(base, *rest)]
    return base, (markers[0] if markers else None)


def analyse_call(
    call: Callable[..., Any],
    where: str,
    converters: Converters,
    _stack: tuple[Callable[..., Any], ...] = (),
) -> CallSpec:
    """The spec of ``call``: its request parameters, dependencies and injections."""
    try:
        signature = signature_of(call)
    except (TypeError, ValueError) as exc:
        raise HandlerSignatureError(
            f"{where}: cannot read the signature of {call!r}: {exc}"
        ) from None
    hints = type_hints_of(call, where)
    params: list[ParamSpec] = []
    deps: list[DependencySpec] = []
    injected: list[tuple[str, Injected]] = []
    order: list[tuple[str, str]] = []
    for name, p in signature.parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise HandlerSignatureError(
                f"{where}: parameter {name!r} is {p.kind.description}; handlers and "
                "dependencies are called with keyword arguments: declare named parameters"
            )
        tp, marker = _split_marker(hints.get(name, Any), where, name)
        default = p.default
        if isinstance(default, Param | Depends):
            if marker is not None:
                raise HandlerSignatureError(
                    f"{where}: parameter {name!r} has a marker both in Annotated and as "
                    "its default; keep one"
                )
            marker, default = default, inspect.Parameter.empty
        if isinstance(marker, Depends):
            deps.append(_dependency(marker, name, tp, where, converters, (*_stack, call)))
            order.append(("dep", name))
            continue
        what = injected_kind(tp) if marker is None else None
        if what is not None:
            injected.append((name, what))
            order.append(("inject", name))
            continue
        params.append(_param(name, tp, marker, default, where, converters))
        order.append(("param", name))
    is_async_gen = inspect.isasyncgenfunction(call)
    # A callable instance's kind is its __call__'s (a class is a plain sync call).
    method = None if inspect.isroutine(call) or isinstance(call, type) else type(call).__call__
    is_gen = inspect.isgeneratorfunction(call) or inspect.isgeneratorfunction(method)
    is_async = inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(method)
    return CallSpec(
        call=call,
        params=tuple(params),
        dependencies=tuple(deps),
        injected=tuple(injected),
        order=tuple(order),
        is_async=is_async,
        is_async_gen=is_async_gen or inspect.isasyncgenfunction(method),
        is_gen=is_gen,
    )


def _dependency(
    marker: Depends,
    name: str | None,
    tp: Any,
    where: str,
    converters: Converters,
    stack: tuple[Callable[..., Any], ...],
) -> DependencySpec:
    call = marker.dependency
    if call is None:
        call = base_type(tp)
        if not callable(call) or call is Any:
            raise HandlerSignatureError(
                f"{where}: parameter {name!r} uses Depends() without a callable and its "
                "annotation is not a class; write Depends(the_function)"
            )
    if call in stack:
        chain = " -> ".join(getattr(c, "__qualname__", repr(c)) for c in (*stack, call))
        raise HandlerSignatureError(f"{where}: dependency cycle {chain}")
    label = getattr(call, "__qualname__", repr(call))
    spec = analyse_call(call, f"{where}, dependency {label}", converters, stack)
    return DependencySpec(depends=marker, name=name, spec=spec)


#: The markers an unmarked parameter implies, one of each shared by every such parameter,
#: and the ``FieldInfo`` of a parameter without constraints: read only (nothing writes
#: to a marker or a spec's ``field_info``). PERF: two objects fewer per parameter (a
#: marker with its ``field_kwargs`` dict, a ``FieldInfo`` with its own dict, list and
#: set): -0.5 KiB per parameter (tracemalloc), -0.5 MiB for the benchmarks' 2,000-route
#: app (1,000 path parameters).
_PATH, _FILE, _BODY, _QUERY = Path(), File(), Body(), Query()
_PLAIN_FIELD = FieldInfo()


def _implied_marker(name: str, tp: Any, converters: Converters) -> Param:
    """The marker of an unmarked parameter: in the template, an upload, a type only a
    body can hold, else a query value."""
    if name in converters:
        return _PATH
    if is_upload(tp):
        return _FILE
    if is_complex(tp):
        return _BODY
    return _QUERY


def _wire_name(name: str, marker: Param, model: Any) -> str:
    """The parameter's name on the wire: its alias, else its name (a header's with
    hyphens for underscores unless ``convert_underscores=False``), headers lower-case."""
    alias = marker.alias or name
    if marker.location != "header":
        return alias
    if marker.alias is None and model is None:
        assert isinstance(marker, Header)
        if marker.convert_underscores:
            alias = name.replace("_", "-")
    return alias.lower()


def _value_adapter(
    name: str, tp: Any, location: Location, model: Any, info: FieldInfo | None, where: str
) -> tuple[Location, TypeAdapter[Any] | None]:
    """The location (an upload's is ``file``) and the adapter validating one value (a
    body field has none: the body's adapter validates it)."""
    if location == "file" or is_upload(tp):
        if not (is_upload(tp) or base_type(tp) in (bytes, str) or is_sequence(tp)):
            raise HandlerSignatureError(
                f"{where}: file parameter {name!r} must be annotated UploadFile, bytes or a "
                "list of them"
            )
        return "file", None
    if location == "body":
        return location, None
    adapter = _adapter(tp, info, where, name)
    if location in ("query", "header", "cookie") and model is None and is_complex(tp):
        raise HandlerSignatureError(
            f"{where}: parameter {name!r} ({location}) has type {tp!r}, which cannot come "
            "from a string; use Body(...) or a pydantic model as a group"
        )
    return location, adapter


def _param(
    name: str,
    tp: Any,
    marker: Param | None,
    default: Any,
    where: str,
    converters: Converters,
) -> ParamSpec:
    if marker is None:
        marker = _implied_marker(name, tp, converters)
    if default is inspect.Parameter.empty:
        default = marker.default
    if default is ...:
        default = REQUIRED
    model = model_of(tp) if marker.location in ("query", "header", "cookie", "form") else None
    if marker.location == "path":
        if name not in converters and marker.alias not in converters:
            raise HandlerSignatureError(
                f"{where}: parameter {name!r} is a path parameter but the template has no "
                f"{{{name}}}; add it to the path or make it a Query/Header/... parameter"
            )
        default = REQUIRED
    alias = _wire_name(name, marker, model)
    info = marker.field_info() if marker.field_kwargs else None
    location, adapter = _value_adapter(name, tp, marker.location, model, info, where)
    converter = converters.get(alias) if location == "path" else None
    if converter is not None:
        _check_converter(name, tp, converter, where)
    return ParamSpec(
        name=name,
        location=location,
        alias=alias,
        annotation=tp,
        required=default is REQUIRED,
        default=None if default is REQUIRED else default,
        field_info=info or _PLAIN_FIELD,
        marker=marker,
        is_sequence=is_sequence(tp) and location != "body",
        model=model,
        adapter=adapter,
        converter=converter,
    )


def _check_converter(name: str, tp: Any, converter: qake_routing.Converter, where: str) -> None:
    produced = converter.python_type
    base = base_type(tp)
    # A str segment is validated into whatever the annotation says, and a value of an
    # undeclared type (object) may fit it; only a value the router already converted to
    # a known other type can contradict the annotation.
    if produced in (object, str) or base is Any or not isinstance(base, type):
        return
    if base in _SCALAR_TYPES and not (base is produced or (base, produced) == (float, int)):
        raise HandlerSignatureError(
            f"{where}: path parameter {name!r} is annotated {base.__name__} but the "
            f"template's converter gives {produced.__name__}; make the annotation and "
            "the converter agree"
        )


def _body_spec(fields: list[ParamSpec], where: str) -> BodySpec | None:
    if not fields:
        return None
    forms = [f for f in fields if f.location in ("form", "file")]
    if forms and len(forms) != len(fields):
        raise HandlerSignatureError(
            f"{where}: parameters {[f.name for f in fields]!r} mix a JSON body and form "
            "fields; a request has one body: use Body(...) or Form(...) for all of them"
        )
    seen: dict[str, ParamSpec] = {}
    for f in fields:
        other = seen.get(f.alias)
        if other is not None and other is not f:
            raise HandlerSignatureError(
                f"{where}: two body parameters are named {f.alias!r}; give one an alias="
            )
        seen[f.alias] = f
    unique = list(seen.values())
    if forms:
        media = (
            "multipart/form-data"
            if any(f.location == "file" for f in unique)
            else ("application/x-www-form-urlencoded")
        )
        return BodySpec(
            media_type=media,
            fields=tuple(unique),
            embed=True,
            required=any(f.required for f in unique),
            annotation=None,
            adapter=_embedded_model(unique, where, form=True),
        )
    first = unique[0]
    marker = first.marker
    embed = len(unique) > 1 or (isinstance(marker, Body) and marker.embed)
    media = marker.media_type if isinstance(marker, Body) else "application/json"
    if not embed:
        info = marker.field_info() if marker is not None and marker.field_kwargs else None
        return BodySpec(
            media_type=media,
            fields=(first,),
            embed=False,
            required=first.required,
            annotation=first.annotation,
            adapter=_adapter(first.annotation, info, where, first.name),
        )
    return BodySpec(
        media_type=media,
        fields=tuple(unique),
        embed=True,
        required=any(f.required for f in unique),
        annotation=None,
        adapter=_embedded_model(unique, where, form=False),
    )


def _embedded_model(fields: list[ParamSpec], where: str, *, form: bool) -> TypeAdapter[Any]:
    definitions: dict[str, Any] = {}
    for f in fields:
        kwargs = dict(f.marker.field_kwargs) if f.marker is not None else {}
        tp = f.annotation
        if f.location == "file":
            tp = list[bytes] if f.is_sequence else bytes
        default = ... if f.required else f.default
        definitions[f.name] = (tp, Field(default, alias=f.alias, **kwargs))
    try:
        model = create_model("Body", **definitions)
        return TypeAdapter(model)
    except Exception as exc:
        raise HandlerSignatureError(f"{where}: cannot build the body model: {exc}") from None


def flatten_dependencies(deps: Sequence[DependencySpec]) -> list[DependencySpec]:
    """Every dependency of ``deps`` and below, each after the ones it depends on."""
    out: list[DependencySpec] = []
    for d in deps:
        out.extend(flatten_dependencies(d.spec.dependencies))
        out.append(d)
    return out


def top_dependencies(
    declared: Sequence[Any], where: str, converters: Converters
) -> list[DependencySpec]:
    """The specs of a route's ``dependencies=`` (the app's and routers' first)."""
    top: list[DependencySpec] = []
    for dep in declared:
        if not isinstance(dep, Depends):
            dep = Depends(dep) if callable(dep) else dep
        if not isinstance(dep, Depends):
            raise HandlerSignatureError(
                f"{where}: dependencies= holds {dep!r}; write Depends(callable)"
            )
        top.append(_dependency(dep, None, Any, where, converters, ()))
    return top


def split_params(
    every: Sequence[DependencySpec], handler: CallSpec
) -> tuple[list[ParamSpec], list[ParamSpec]]:
    """``(request parameters, body fields)`` of a route's whole tree; a parameter that
    several callables declare (same location and wire name) is read once."""
    params: list[ParamSpec] = []
    body_fields: list[ParamSpec] = []
    seen: set[tuple[str, str]] = set()
    for spec in (*(d.spec for d in every), handler):
        for p in spec.params:
            if p.location in ("body", "form", "file"):
                body_fields.append(p)
                continue
            if (p.location, p.alias) not in seen:
                seen.add((p.location, p.alias))
                params.append(p)
    return params, body_fields


def _no_model(tp: Any) -> bool:
    base = base_type(tp)
    if base is None or base is type(None) or base is Any or base is inspect.Signature.empty:
        return True
    if get_origin(base) in (Union, types.UnionType):
        return any(_no_model(a) for a in get_args(base))
    return isinstance(base, type) and issubclass(base, Response)


_FILTERS = (
    "response_model_include",
    "response_model_exclude",
    "response_model_exclude_none",
    "response_model_exclude_unset",
    "response_model_exclude_defaults",
)


def _check_filters(route: APIRoute, model: Any, where: str) -> None:
    """Refuse response filters on a route without a response model: nothing would apply
    them, and a field meant to be hidden (``response_model_exclude={"password"}``)
    would be sent."""
    if model is not None:
        return
    given = [name for name in _FILTERS if getattr(route, name)]
    if given:
        raise HandlerSignatureError(
            f"{where}: {given[0]}= needs a response model, and the route has none; "
            "declare response_model=... or annotate the handler's return type"
        )


def _field_set(value: Any) -> Any:
    """``response_model_include``/``_exclude`` as pydantic takes them: a set or dict of
    field names (a list or tuple of names becomes a set); ``None`` when not given."""
    if value is None:
        return None
    if isinstance(value, list | tuple | frozenset):
        return set(value)
    return value


#: Response specs without include/exclude filters, shared by the routes that declare the
#: same one (a ``ResponseSpec`` is frozen); bounded: past 256, a route gets its own.
#: PERF: -100 KiB (tracemalloc) for the benchmarks' 2,000-route app.
_RESPONSES: dict[tuple[Any, ...], ResponseSpec] = {}


def _response_spec(
    model: Any, adapter: TypeAdapter[Any] | None, status_code: int, route: APIRoute
) -> ResponseSpec:
    include = _field_set(route.response_model_include)
    exclude = _field_set(route.response_model_exclude)
    flags = (
        route.response_model_exclude_none,
        route.response_model_exclude_unset,
        route.response_model_by_alias,
        route.response_model_exclude_defaults,
    )
    key = (model, id(adapter), status_code, *flags)
    shareable = include is None and exclude is None
    if shareable:
        try:
            shared = _RESPONSES.get(key)
        except TypeError:  # an unhashable model annotation
            shareable = False
        else:
            if shared is not None and shared.adapter is adapter:
                return shared
    spec = ResponseSpec(
        model=model,
        adapter=adapter,
        status_code=status_code,
        exclude_none=flags[0],
        exclude_unset=flags[1],
        by_alias=flags[2],
        include=include,
        exclude=exclude,
        exclude_defaults=flags[3],
    )
    if shareable and len(_RESPONSES) < 256:
        _RESPONSES[key] = spec
    return spec


def analyse_route(
    route: APIRoute,
    app_dependencies: Sequence[Any] = (),
    handler_specs: dict[Any, CallSpec] | None = None,
) -> RouteSpec:
    """The ``RouteSpec`` of an ``APIRoute`` (raises ``HandlerSignatureError``);
    ``handler_specs``: the analysed handlers of the router declaring it, to share.

    ``app_dependencies`` run first, unless the route opts out of them
    (``use_app_dependencies=False``: the framework's own routes, like the OpenAPI
    document, are not guarded by the app's dependencies unless asked).
    """
    if not route.use_app_dependencies:
        app_dependencies = ()
    func = route.endpoint
    where = route_label(route)
    converters = route.routing.params
    handler = _handler_spec(func, where, converters, handler_specs)
    top = top_dependencies((*app_dependencies, *route_dependencies(route)), where, converters)
    every = flatten_dependencies([*top, *handler.dependencies])
    params, body_fields = split_params(every, handler)
    body = _body_spec(body_fields, where)
    model = (
        route.response_model
        if route.has_response_model
        else type_hints_of(func, where).get("return", None)
    )
    adapter: TypeAdapter[Any] | None = None
    if model is None or _no_model(model):
        model = None
    else:
        try:
            adapter = shared_adapter(model)
        except Exception as exc:
            raise HandlerSignatureError(
                f"{where}: the response model {model!r} is not supported ({exc}); pass "
                "response_model=None or annotate the return with a pydantic-compatible type"
            ) from None
    _check_filters(route, model, where)
    response = _response_spec(
        model,
        adapter,
        route.status_code or default_status_code(route.response_class),
        route,
    )
    # PERF: a route reading just its handler's parameters (no dependencies adding any)
    # keeps the handler's tuple, not an equal one: -47 KiB (tracemalloc) for the
    # 2,000-route app.
    read = tuple(params)
    if read == handler.params:
        read = handler.params
    return RouteSpec(
        path=route.path,
        methods=route.methods,
        name=route.name,
        endpoint=func,
        handler=handler,
        params=read,
        body=body,
        response=response,
        dependencies=(*top, *handler.dependencies),
        all_dependencies=tuple(every),
        tags=tuple(route_tags(route)),
        summary=route.summary,
        description=route.description,
        deprecated=route.deprecated,
        operation_id=route.operation_id,
        include_in_schema=route.include_in_schema,
        # PERF: the route's own dict (one per route already, read only here and in
        # qake-docs), not a copy: -126 KiB (tracemalloc) for the 2,000-route app.
        responses=route_responses(route),
    )


def _handler_spec(
    func: Callable[..., Any],
    where: str,
    converters: Converters,
    known: dict[Any, CallSpec] | None,
) -> CallSpec:
    """``analyse_call`` of a route's handler, shared by the routes of one router (or app)
    with the same handler and path converters: ``known`` is the router's record of them
    (a ``CallSpec`` is immutable and names no route).

    PERF: the benchmarks' 2,000-route app (two handlers, 1,000 routes each): -450 KiB
    (tracemalloc, 7,029 -> 6,579 KiB), -0.5 MiB RSS, and its registration and build
    99-103 -> 85-86 ms CPU (memory.py, two runs each)."""
    if known is None:
        return analyse_call(func, where, converters)
    key = (func, tuple(converters.items()))
    try:
        found = known.get(key)
    except TypeError:  # an unhashable callable or converter: analysed each time
        return analyse_call(func, where, converters)
    if found is None:
        found = known[key] = analyse_call(func, where, converters)
    return found


def route_spec(route: APIRoute, app: Router | None = None) -> RouteSpec:
    """The spec of ``route`` for ``app``, stored on ``route.spec``.

    Computed when the route is registered; the app's build reuses it unless the app's
    own dependencies changed since (an included route is a new copy, analysed anew).
    """
    app_dependencies = tuple(getattr(app, "app_dependencies", ()))
    # PERF: the app alone when it has no dependencies of its own (no tuple per route).
    key = (app, app_dependencies) if app_dependencies else app
    if route.spec is not None and route.spec_key == key:
        spec: RouteSpec = route.spec
        return spec
    spec = analyse_route(route, app_dependencies, getattr(app, "_handler_specs", None))
    route.spec = spec
    route.spec_key = key
    return spec


def route_label(route: APIRoute | WebSocketRoute) -> str:
    """How an error names ``route``: ``route GET '/items/{item_id}' (handler read_item)``,
    ``websocket route '/rooms/{room}' (handler chat)``."""
    func = route.endpoint
    label = getattr(func, "__qualname__", repr(func))
    methods = getattr(route, "methods", None)
    if methods is None:
        return f"websocket route {route.path!r} (handler {label})"
    return f"route {' '.join(sorted(methods))} {route.path!r} (handler {label})"
