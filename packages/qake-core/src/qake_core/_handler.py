"""Compile a route's handler into ``async (request) -> Response``, once, at startup."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import BaseModel, TypeAdapter, ValidationError

from qake_core._concurrency import run_in_threadpool
from qake_core._exceptions import RequestValidationError
from qake_core._middleware import CallNext
from qake_core._requests import Request
from qake_core._routing import APIRoute
from qake_core._serialize import to_response

__all__ = ["compile_endpoint", "HandlerSignatureError"]


class HandlerSignatureError(TypeError):
    """A handler's signature cannot be bound to a request."""


def _path_param_names(path: str) -> set[str]:
    names: set[str] = set()
    depth = 0
    start = 0
    for i, ch in enumerate(path):
        if ch == "{":
            depth += 1
            start = i + 1
        elif ch == "}" and depth:
            depth -= 1
            names.add(path[start:i].partition(":")[0].strip())
    return names


def compile_endpoint(route: APIRoute, app: Any) -> CallNext:
    """Build the request → response function of ``route``."""
    func = route.endpoint
    where = f"route {sorted(route.methods)} {route.path!r} (handler {func.__qualname__})"
    try:
        hints = get_type_hints(func)
    except Exception as exc:
        raise HandlerSignatureError(f"{where}: cannot resolve type hints: {exc}") from exc
    path_names = _path_param_names(route.path)
    extractors: list[tuple[str, Callable[[Request], Any], str]] = []
    body_param: tuple[str, type[BaseModel]] | None = None
    for name, param in inspect.signature(func).parameters.items():
        ann = hints.get(name, Any)
        if ann is Request:
            extractors.append((name, lambda r: r, "request"))
        elif name in path_names:
            extractors.append((name, _path_getter(name), "path"))
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            if body_param is not None:
                raise HandlerSignatureError(f"{where}: two body parameters {body_param[0]!r} and {name!r}")
            body_param = (name, ann)
        else:
            adapter: TypeAdapter[Any] = TypeAdapter(ann)
            default = param.default
            extractors.append((name, _query_getter(name, adapter, default), "query"))
    is_async = inspect.iscoroutinefunction(func)
    status_code = route.status_code
    response_class = route.response_class

    async def endpoint(request: Request) -> Any:
        kwargs: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for name, getter, location in extractors:
            try:
                kwargs[name] = getter(request)
            except ValidationError as exc:
                errors.extend(
                    {"loc": [location, name, *e["loc"]], "msg": e["msg"], "type": e["type"]}
                    for e in exc.errors(include_url=False, include_input=False)
                )
        if body_param is not None:
            bname, model = body_param
            try:
                kwargs[bname] = model.model_validate_json(await request.body())
            except ValidationError as exc:
                errors.extend(
                    {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                    for e in exc.errors(include_url=False, include_input=False)
                )
        if errors:
            raise RequestValidationError(errors)
        if is_async:
            result = await func(**kwargs)
        else:
            result = await run_in_threadpool(func, **kwargs)
        return to_response(result, status_code, response_class)

    return endpoint


def _path_getter(name: str) -> Callable[[Request], Any]:
    def get(request: Request) -> Any:
        return request.path_params[name]

    return get


def _query_getter(name: str, adapter: TypeAdapter[Any], default: Any) -> Callable[[Request], Any]:
    missing = default is inspect.Parameter.empty

    def get(request: Request) -> Any:
        raw = request.query_params.get(name)
        if raw is None:
            if missing:
                return _raise_missing(name)
            return default
        return adapter.validate_strings(raw)

    return get


def _raise_missing(name: str) -> Any:
    raise ValidationError.from_exception_data(
        "query", [{"type": "missing", "loc": (), "input": None}]
    )
