"""``jsonable_encoder``: any value as plain JSON data (dicts, lists, str, int, float, bool,
None), with FastAPI's options and conversions.

For code that stores or compares what a response would hold (a document database,
a cache, a test): pydantic models through ``model_dump(mode="json")`` with the
options given, dataclasses as dicts, enums as their values, ``datetime``/``date``/
``time`` in ISO 8601, a bare ``timedelta`` as float seconds, ``Decimal`` as ``int``
when it has no fractional digits (else ``float``), ``UUID``/``Path``/IP addresses/URLs
as strings, ``bytes`` decoded as UTF-8, sets, tuples and generators as lists, and
anything else through ``dict(obj)`` then ``vars(obj)``.

A public module, not a name of ``qake_core`` itself: FastAPI exposes it only as
``fastapi.encoders.jsonable_encoder`` (``qakeapi.encoders`` here).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import deque
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from enum import Enum
from ipaddress import (
    IPv4Address,
    IPv4Interface,
    IPv4Network,
    IPv6Address,
    IPv6Interface,
    IPv6Network,
)
from pathlib import PurePath
from re import Pattern
from types import GeneratorType
from typing import Any
from uuid import UUID

from pydantic import AnyUrl, BaseModel, NameEmail, SecretBytes, SecretStr
from pydantic_core import PydanticUndefinedType, Url

__all__ = ["IncEx", "decimal_to_number", "jsonable_encoder"]

#: ``include=`` / ``exclude=``: a collection of field names, or pydantic's nested mapping.
IncEx = Collection[int | str] | Mapping[int | str, Any]

Encoder = Callable[[Any], Any]


def decimal_to_number(value: Decimal) -> int | float:
    """``Decimal("3")`` → ``3``, ``Decimal("3.50")`` → ``3.5``: an ``int`` when the value
    has no fractional digits, so that integer ids stored as ``Decimal`` round-trip."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(value)
    return float(value)


def _isoformat(value: datetime.date | datetime.time) -> str:
    return value.isoformat()


#: Leaf conversions, found along the value's class MRO (so subclasses get them too).
_BY_TYPE: dict[type[Any], Encoder] = {
    bytes: lambda value: value.decode(),
    datetime.date: _isoformat,
    datetime.datetime: _isoformat,
    datetime.time: _isoformat,
    datetime.timedelta: lambda value: value.total_seconds(),
    Decimal: decimal_to_number,
    UUID: str,
    Pattern: lambda value: value.pattern,
    IPv4Address: str,
    IPv4Interface: str,
    IPv4Network: str,
    IPv6Address: str,
    IPv6Interface: str,
    IPv6Network: str,
    AnyUrl: str,
    Url: str,
    NameEmail: str,
    SecretStr: str,
    SecretBytes: str,
}

_PLAIN = frozenset({str, int, float, bool, type(None)})
_SEQUENCES = (list, tuple, set, frozenset, deque, GeneratorType)


@dataclasses.dataclass(frozen=True, slots=True)
class _Options:
    by_alias: bool
    exclude_unset: bool
    exclude_defaults: bool
    exclude_none: bool
    custom: Mapping[Any, Encoder]
    sqlalchemy_safe: bool


def _lookup(table: Mapping[Any, Encoder], cls: type[Any]) -> Encoder | None:
    for base in cls.__mro__:
        encoder = table.get(base)
        if encoder is not None:
            return encoder
    return None


def _as_set(names: IncEx | None) -> IncEx | None:
    if names is None or isinstance(names, set | dict):
        return names
    return set(names)


def _encode(obj: Any, include: IncEx | None, exclude: IncEx | None, opts: _Options) -> Any:
    if opts.custom:
        custom = _lookup(opts.custom, type(obj))
        if custom is not None:
            return custom(obj)
    if type(obj) in _PLAIN:
        return obj
    if isinstance(obj, BaseModel):
        data = obj.model_dump(
            mode="json",
            include=_as_set(include),  # type: ignore[arg-type]
            exclude=_as_set(exclude),  # type: ignore[arg-type]
            by_alias=opts.by_alias,
            exclude_unset=opts.exclude_unset,
            exclude_defaults=opts.exclude_defaults,
            exclude_none=opts.exclude_none,
        )
        # Already JSON data: only the key rules (``_sa`` keys) still apply.
        return _encode(data, None, None, dataclasses.replace(opts, custom={}))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _encode(dataclasses.asdict(obj), include, exclude, opts)
    if isinstance(obj, Enum):
        return _encode(obj.value, None, None, opts)
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, str | int | float):  # subclasses, as they are
        return obj
    if isinstance(obj, PydanticUndefinedType):
        return None
    if isinstance(obj, dict):
        return _encode_dict(obj, include, exclude, opts)
    if isinstance(obj, _SEQUENCES):
        return [_encode(item, include, exclude, opts) for item in obj]
    leaf = _lookup(_BY_TYPE, type(obj))
    if leaf is not None:
        return leaf(obj)
    return _encode(_fields_of(obj), include, exclude, opts)


def _encode_dict(
    obj: dict[Any, Any], include: IncEx | None, exclude: IncEx | None, opts: _Options
) -> dict[Any, Any]:
    keys = set(obj)
    if include is not None:
        keys &= set(include)
    if exclude is not None:
        keys -= set(exclude)
    encoded: dict[Any, Any] = {}
    for key, value in obj.items():
        if key not in keys or (value is None and opts.exclude_none):
            continue
        if opts.sqlalchemy_safe and isinstance(key, str) and key.startswith("_sa"):
            continue
        encoded[_encode(key, None, None, opts)] = _encode(value, None, None, opts)
    return encoded


def _fields_of(obj: Any) -> dict[Any, Any]:
    """An unknown object as a dict: ``dict(obj)`` (mappings, pairs), else its attributes."""
    try:
        return dict(obj)
    except Exception as as_dict:
        try:
            return dict(vars(obj))
        except TypeError:
            raise ValueError(
                f"jsonable_encoder cannot convert {type(obj).__qualname__!r}: it is not a "
                "mapping and has no attributes; pass custom_encoder={type: function}"
            ) from as_dict


def jsonable_encoder(
    obj: Any,
    include: IncEx | None = None,
    exclude: IncEx | None = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: Mapping[Any, Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
) -> Any:
    """``obj`` as JSON data (FastAPI's ``jsonable_encoder``, same options).

    ``include``/``exclude`` pick a pydantic model's fields (pydantic's forms) or a
    dict's keys (top level only); ``by_alias``, ``exclude_unset`` and
    ``exclude_defaults`` are pydantic's dump options; ``exclude_none`` also drops
    ``None`` values of dicts. ``custom_encoder`` maps a type to a function and wins
    over every built-in conversion (looked up along the value's class MRO, so an
    encoder for a base class serves its subclasses). ``sqlalchemy_safe`` drops the
    keys starting with ``_sa`` (SQLAlchemy's instance state, in ``vars()`` of a
    mapped object). ``ValueError`` for an object that cannot be converted.
    """
    options = _Options(
        by_alias=by_alias,
        exclude_unset=exclude_unset,
        exclude_defaults=exclude_defaults,
        exclude_none=exclude_none,
        custom=custom_encoder or {},
        sqlalchemy_safe=sqlalchemy_safe,
    )
    return _encode(obj, include, exclude, options)
