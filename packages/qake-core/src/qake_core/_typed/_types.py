"""Type utilities of the typed-handler compiler: reading annotations, once, at startup.

What an annotation means for a parameter (a sequence read from a repeated key, a type
that can only come from a body, an upload, an injected request object), the cached
signature and type hints of a callable, and one shared pydantic ``TypeAdapter`` per
annotation.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints, is_typeddict

from pydantic import BaseModel, TypeAdapter

from qake_core._background import BackgroundTasks
from qake_core._depends import SecurityScopes
from qake_core._exceptions import HandlerSignatureError
from qake_core._requests import HTTPConnection
from qake_core._responses import Response
from qake_core._typed._specs import Injected
from qake_core._upload import UploadFile

__all__ = [
    "base_type",
    "injected_kind",
    "is_complex",
    "is_sequence",
    "is_upload",
    "model_of",
    "shared_adapter",
    "signature_of",
    "type_hints_of",
]

_SEQUENCES = (list, set, frozenset, tuple, Sequence)


def _strip_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def base_type(tp: Any) -> Any:
    """``tp`` without ``Annotated`` metadata and without ``| None``."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
            continue
        stripped = _strip_optional(tp)
        if stripped is tp:
            return tp
        tp = stripped


def is_sequence(tp: Any) -> bool:
    """Whether ``tp`` reads every value of a repeated key: ``list[str]``, ``tuple[int, ...]``,
    ``set[str]``, ``typing.List`` and the bare ``list``/``tuple``/``set``/``Sequence``."""
    base = base_type(tp)
    return base in _SEQUENCES or get_origin(base) in _SEQUENCES


def is_complex(tp: Any) -> bool:
    """Whether ``tp`` can only come from a body (models, mappings, lists of models)."""
    tp = base_type(tp)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return any(is_complex(a) for a in get_args(tp) if a is not type(None))
    if origin in _SEQUENCES:
        return any(is_complex(a) for a in get_args(tp) if a is not Ellipsis)
    if origin in (dict, Mapping):
        return True
    if isinstance(tp, type):
        return (
            issubclass(tp, BaseModel) or dataclasses.is_dataclass(tp) or is_typeddict(tp)
        ) or tp is dict
    return False


def is_upload(tp: Any) -> bool:
    """Whether ``tp`` is ``UploadFile`` or a sequence of them."""
    tp = base_type(tp)
    if get_origin(tp) in _SEQUENCES:
        args = get_args(tp)
        return bool(args) and base_type(args[0]) is UploadFile
    return tp is UploadFile


def model_of(tp: Any) -> type[BaseModel] | None:
    """The pydantic model ``tp`` names (through ``Annotated`` and ``| None``), if any."""
    base = base_type(tp)
    return base if isinstance(base, type) and issubclass(base, BaseModel) else None


def injected_kind(tp: Any) -> Injected | None:
    """What the framework passes for a parameter of type ``tp`` (the request, the
    background tasks, the sub-response, the security scopes), or ``None`` for a
    request value."""
    base = base_type(tp)
    if not isinstance(base, type):
        return None
    if issubclass(base, HTTPConnection):
        return "request"
    if issubclass(base, BackgroundTasks):
        return "background"
    if issubclass(base, Response):
        return "response"
    if issubclass(base, SecurityScopes):
        return "security_scopes"
    return None


@functools.lru_cache(maxsize=4096)
def _cached_hints(target: Any) -> dict[str, Any]:
    return get_type_hints(target, include_extras=True)


@functools.lru_cache(maxsize=4096)
def _cached_signature(call: Any) -> inspect.Signature:
    return inspect.signature(call)


def _type_hints(target: Any) -> dict[str, Any]:
    # One function often serves many routes: resolve its annotations once (read-only).
    try:
        return _cached_hints(target)
    except TypeError:  # an unhashable callable: no caching
        return get_type_hints(target, include_extras=True)


def signature_of(call: Any) -> inspect.Signature:
    """``inspect.signature(call)``, cached for hashable callables."""
    try:
        return _cached_signature(call)
    except TypeError:  # unhashable, or not a callable: inspect says which
        return inspect.signature(call)


def type_hints_of(call: Callable[..., Any], where: str = "") -> dict[str, Any]:
    """The resolved annotations of ``call`` (a class's ``__init__``'s, a callable
    object's ``__call__``'s); an error names ``where``, or gives ``{}`` without it."""
    target: Any = call
    if isinstance(call, type):
        target = call.__init__  # type: ignore[misc]
    elif not (inspect.isfunction(call) or inspect.ismethod(call)) and callable(call):
        target = type(call).__call__
    try:
        return _type_hints(target)
    except Exception as exc:
        if not where:
            return {}
        raise HandlerSignatureError(
            f"{where}: cannot resolve the annotations of {call!r} ({exc!r}); define the "
            "types they name at module level (string annotations are resolved in the "
            "module's globals)"
        ) from None


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def shared_adapter(tp: Any) -> TypeAdapter[Any]:
    """One ``TypeAdapter`` per annotation, shared by every route that uses it.

    Building an adapter means building a pydantic-core schema (about 0.2 ms); an app
    that registers thousands of routes with the same types builds each only once.
    Unhashable annotations are not cached.
    """
    try:
        adapter = _ADAPTERS.get(tp)
    except TypeError:
        return TypeAdapter(tp)
    if adapter is None:
        adapter = _ADAPTERS[tp] = TypeAdapter(tp)
    return adapter
