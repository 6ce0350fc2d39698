"""``JSONFormatter``: each log record as one line of JSON (orjson), errors with their
exception type and traceback."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Mapping
from typing import Any

import orjson

from qake_core._request_id import record_request_id

__all__ = ["JSONFormatter"]

#: Attributes every ``LogRecord`` has (and those ``Formatter``s add): any other one came
#: from ``extra=`` and becomes a field of its own.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "request_id",
    "color_message",  # uvicorn's message with terminal colours
}

#: uvicorn's access record: ``'%s - "%s %s HTTP/%s" %d'`` with these arguments.
_UVICORN_ACCESS = ("client", "http_method", "http_path", "http_version", "http_status")


class JSONFormatter(logging.Formatter):
    """One JSON object per record, on one line: ``time`` (UTC, ISO 8601, milliseconds),
    ``level``, ``logger``, ``message``, ``pid`` (which of several workers),
    ``request_id`` (as :class:`RequestIDFilter` finds it: no filter needed), then every
    field given with ``extra=`` (:class:`AccessLogMiddleware`'s ``http_method``,
    ``http_route``, ``http_status``, ``duration_ms``, ``client``...), then ``fields``'
    constant ones (``{"service": "shop"}``).

    A record with an exception gets ``exc_type`` (``module.QualifiedName``; a builtin's
    bare name), ``exc_message`` and ``traceback`` (the whole formatted traceback, one
    string); one with ``stack_info`` gets ``stack``. uvicorn's access lines become
    ``client``, ``http_method``, ``http_path``, ``http_version`` and ``http_status``.
    A value JSON cannot hold is written as its ``str()``.
    """

    def __init__(self, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.fields = dict(fields or {})
        #: PERF: the second formatted last (records come many to a second).
        self._second = -1
        self._second_text = ""
        #: PERF: a record's attribute names (its shape) -> those given with ``extra=``:
        #: a logging call site makes the same shape every time.
        self._extras: dict[tuple[str, ...], tuple[str, ...]] = {}

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        entry: dict[str, Any] = {
            "time": f"{self._second_text}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        request_id = record_request_id(record)
        if request_id is not None:
            entry["request_id"] = request_id
        attributes = record.__dict__
        shape = tuple(attributes)
        extras = self._extras.get(shape)
        if extras is None:
            if len(self._extras) > 256:  # shapes from many call sites: start over
                self._extras.clear()
            extras = self._extras[shape] = tuple(k for k in shape if k not in _STANDARD)
        for key in extras:
            entry[key] = attributes[key]
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            entry.update(zip(_UVICORN_ACCESS, args, strict=True))
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            cls = type(exc)
            module, name = cls.__module__, cls.__qualname__
            entry["exc_type"] = name if module == "builtins" else f"{module}.{name}"
            entry["exc_message"] = str(exc)
            if not record.exc_text:  # cached on the record, as logging.Formatter does
                record.exc_text = "".join(traceback.format_exception(exc)).rstrip("\n")
            entry["traceback"] = record.exc_text
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        if self.fields:
            entry.update(self.fields)
        return _dumps(entry)


def _dumps(entry: dict[str, Any]) -> str:
    try:
        # PERF: without options first (half the cost): the usual record holds only
        # strings, numbers, None and plain containers.
        return orjson.dumps(entry).decode()
    except TypeError:
        pass
    try:
        return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # e.g. an int beyond 64 bits: orjson refuses it, even with `default`
        return orjson.dumps({k: _storable(v) for k, v in entry.items()}, default=str).decode()


def _storable(value: Any) -> Any:
    """``value`` if orjson writes it, else its ``str()``."""
    try:
        orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return str(value)
    return value
