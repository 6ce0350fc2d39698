"""Streaming handlers, in FastAPI's current style.

A handler that is an async generator (or a sync one: it runs in a worker thread), or
an ``async def`` declared to return ``AsyncIterable[Item]``, streams what it yields:

- as JSON Lines (``application/jsonl``, one JSON document per line) by default;
- as server-sent events with ``response_class=EventSourceResponse`` (each item a
  ``data:`` event; a ``ServerSentEvent`` item is sent as it is);
- as raw text or bytes with another response class (``StreamingResponse``,
  ``PlainTextResponse``...): each ``str`` or ``bytes`` item as it is.

Each item is validated and serialised by the declared item type (``AsyncIterable[Item]``,
``AsyncGenerator[Item, None]``, ``Iterator[Item]``...), as a response model would be;
an undeclared one is written as pydantic writes any value. The route's handler is
wrapped once, when the route is declared: what it yields is framed by a function
chosen then.
"""

from __future__ import annotations

import collections.abc as abc
import functools
import inspect
import typing
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import Any, NamedTuple

from qake_core._concurrency import iterate_in_threadpool
from qake_core._responses import Response, StreamingResponse

__all__ = ["JSON_LINES", "StreamInfo", "is_streaming", "stream_info", "streaming_endpoint"]

JSON_LINES = "application/jsonl"

_ITERABLES = {
    abc.AsyncIterable,
    abc.AsyncIterator,
    abc.AsyncGenerator,
    abc.Iterable,
    abc.Iterator,
    abc.Generator,
}


def _declared_return(endpoint: Callable[..., Any]) -> Any:
    try:
        return typing.get_type_hints(endpoint, include_extras=True).get("return")
    except Exception:  # an annotation that does not resolve: the analysis reports it
        return None


def _item_type(declared: Any) -> Any:
    """``Item`` of ``AsyncIterable[Item]`` and its kin; ``Any`` when not declared."""
    if typing.get_origin(declared) in _ITERABLES:
        args = typing.get_args(declared)
        if args:
            return args[0]
    return Any


def is_streaming(endpoint: Callable[..., Any]) -> bool:
    """Whether ``endpoint`` streams: a generator function (async or not), or an async
    function declared to return an async iterable."""
    if inspect.isasyncgenfunction(endpoint) or inspect.isgeneratorfunction(endpoint):
        return True
    if not inspect.iscoroutinefunction(endpoint):
        return False
    # PERF: most handlers declare no iterable: looked at before annotations resolve
    declared = getattr(endpoint, "__annotations__", {}).get("return")
    if declared is None or (isinstance(declared, str) and "Async" not in declared):
        return False
    origin = typing.get_origin(_declared_return(endpoint))
    return origin in (abc.AsyncIterable, abc.AsyncIterator, abc.AsyncGenerator)


class StreamInfo(NamedTuple):
    """What a streaming route sends, for its OpenAPI document (``route.meta["stream"]``):
    the media type, whether each item is an event (``text/event-stream``), and the item
    type (``Any`` when not declared; ``None`` for raw text or bytes)."""

    media_type: str | None
    events: bool
    item: Any


def stream_info(endpoint: Callable[..., Any], response_class: type | None) -> StreamInfo:
    """How ``endpoint``'s items go on the wire, as :func:`streaming_endpoint` frames them."""
    from qake_core._responses import JSONResponse
    from qake_core._sse import EventSourceResponse

    item = _item_type(_declared_return(endpoint))
    if response_class is not None and issubclass(response_class, EventSourceResponse):
        return StreamInfo(EventSourceResponse.media_type, True, item)
    if response_class is None or issubclass(response_class, JSONResponse):
        return StreamInfo(JSON_LINES, False, item)
    return StreamInfo(getattr(response_class, "media_type", None), False, None)


def _item_dumper(item_type: Any) -> Callable[[Any], bytes]:
    """``item -> JSON bytes``: validated against ``item_type`` (from attributes, as a
    response model), serialised by pydantic-core."""
    from pydantic import TypeAdapter

    adapter: TypeAdapter[Any] = TypeAdapter(item_type)
    validate = adapter.validator.validate_python
    dump = adapter.serializer.to_json
    if item_type is Any:
        return dump

    def dump_item(item: Any) -> bytes:
        return dump(validate(item, from_attributes=True))

    return dump_item


def _framer(
    response_class: type | None, item_type: Any
) -> Callable[[AsyncIterable[Any]], Response]:
    """The response that frames a handler's items, chosen by its response class."""
    from qake_core._responses import JSONResponse
    from qake_core._sse import EventSourceResponse, ServerSentEvent

    if response_class is not None and issubclass(response_class, EventSourceResponse):
        dump = _item_dumper(item_type)
        sse: type[EventSourceResponse] = response_class

        async def events(items: AsyncIterable[Any]) -> AsyncIterator[Any]:
            async for item in items:
                if isinstance(item, ServerSentEvent):
                    yield item
                else:
                    yield ServerSentEvent(data=dump(item).decode())

        return lambda items: sse(events(items))
    if response_class is None or issubclass(response_class, JSONResponse):
        dump = _item_dumper(item_type)

        async def lines(items: AsyncIterable[Any]) -> AsyncIterator[bytes]:
            async for item in items:
                yield dump(item) + b"\n"

        return lambda items: StreamingResponse(lines(items), media_type=JSON_LINES)
    raw: type = (
        response_class if issubclass(response_class, StreamingResponse) else StreamingResponse
    )
    media_type = getattr(response_class, "media_type", None)
    return lambda items: raw(items, media_type=media_type)


def streaming_endpoint(
    endpoint: Callable[..., Any], response_class: type | None
) -> Callable[..., Any]:
    """``endpoint`` as an ``async def`` returning the streaming response of what it
    yields (see the module). It keeps the endpoint's name, parameters and docstring;
    its return annotation (the item type) is the stream's, not a response model."""
    frame = _framer(response_class, _item_type(_declared_return(endpoint)))
    if inspect.isasyncgenfunction(endpoint):

        async def handler(*args: Any, **kwargs: Any) -> Response:
            return frame(endpoint(*args, **kwargs))

    elif inspect.isgeneratorfunction(endpoint):

        async def handler(*args: Any, **kwargs: Any) -> Response:
            items: Iterable[Any] = endpoint(*args, **kwargs)
            return frame(iterate_in_threadpool(items))

    else:

        async def handler(*args: Any, **kwargs: Any) -> Response:
            result = await endpoint(*args, **kwargs)
            return result if isinstance(result, Response) else frame(result)

    functools.update_wrapper(handler, endpoint)
    handler.__annotations__ = {
        k: v for k, v in getattr(endpoint, "__annotations__", {}).items() if k != "return"
    }
    return handler
