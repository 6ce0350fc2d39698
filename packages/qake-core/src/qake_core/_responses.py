"""The response family: bytes, text, HTML, JSON, redirects and streams."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, Literal, TypeVar

import anyio

from qake_core._background import BackgroundTasks
from qake_core._concurrency import iterate_in_threadpool
from qake_core._cookies import format_set_cookie
from qake_core._datastructures import MutableHeaders
from qake_core._default_headers import CONTENT_TYPE, DEFAULT_HEADERS_KEY
from qake_core._json_fallback import json_bytes
from qake_core._messages import (
    BODYLESS_STATUSES,
    CONTENT_LENGTH_LINES,
    content_type,
    response_messages,
)
from qake_core.types import Receive, Scope, Send

__all__ = [
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "default_status_code",
    "finished_response",
]

R = TypeVar("R", bound="Response")


class Response:
    """A complete HTTP response: status, headers and a body of bytes.

    ``content`` may be ``bytes``, ``str`` (encoded with ``charset``) or ``None``.
    ``background`` runs after the body has been sent.
    """

    media_type: str | None = None
    charset = "utf-8"
    #: :func:`_init_plan_of` the class, set for each class. PERF: one class attribute
    #: read per response.
    _init_plan: tuple[str | None, tuple[tuple[bytes, bytes], ...]]
    #: True when the class sends itself with ``Response.__call__`` (status, headers,
    #: ``body``): a route runner may then send it inline, without that coroutine.
    plain_send = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._init_plan = _init_plan_of(cls)
        cls.plain_send = cls.__call__ is Response.__call__

    __slots__ = ("background", "body", "raw_headers", "status_code")
    status_code: int
    background: BackgroundTasks | None
    body: bytes
    raw_headers: list[tuple[bytes, bytes]]

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTasks | None = None,
    ) -> None:
        self.status_code = status_code
        self.background = background
        charset, ct_lines = self._init_plan
        # PERF: bytes and str need no ``render`` call unless a subclass overrides it.
        kind = type(content)
        if kind is str and charset is not None:
            body = self.body = content.encode(charset)
        elif kind is bytes and charset is not None:
            body = self.body = content
        else:
            body = self.body = self.render(content)
        if headers is None and media_type is None:
            # PERF: the common case builds the header list directly.
            if status_code in BODYLESS_STATUSES:
                self.raw_headers = [*ct_lines]
            else:
                self.raw_headers = [CONTENT_LENGTH_LINES[len(body)], *ct_lines]
            return
        self.raw_headers = (
            []
            if headers is None
            else [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        )
        self._init_headers(media_type or self.media_type, headers)

    def _init_headers(self, media_type: str | None, headers: Mapping[str, str] | None) -> None:
        raw = self.raw_headers
        lower = {k.lower() for k in headers} if headers else ()
        status = self.status_code
        if "content-length" not in lower and status not in BODYLESS_STATUSES:
            raw.append(CONTENT_LENGTH_LINES[len(self.body)])
        if media_type is not None and "content-type" not in lower:
            raw.append((CONTENT_TYPE, content_type(media_type, self.charset)))

    def render(self, content: Any) -> bytes:
        """Turn ``content`` into the body bytes."""
        if content is None:
            return b""
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode(self.charset)
        if isinstance(content, bytearray | memoryview):
            return bytes(content)
        raise TypeError(
            f"{type(self).__name__} content must be bytes or str, not {type(content).__name__}; "
            "use JSONResponse for data"
        )

    @property
    def headers(self) -> MutableHeaders:
        """The response headers (changes write through to the raw header list)."""
        return MutableHeaders.sharing(self.raw_headers)

    @property
    def media(self) -> str | None:
        """The Content-Type header value, if any."""
        for k, v in self.raw_headers:
            if k == CONTENT_TYPE:
                return v.decode("latin-1")
        return None

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        max_age: int | None = None,
        expires: int | str | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header. See :func:`qake_core.format_set_cookie`."""
        line = format_set_cookie(
            key,
            value,
            max_age=max_age,
            expires=expires,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )
        self.raw_headers.append((b"set-cookie", line.encode("latin-1")))

    def delete_cookie(
        self,
        key: str,
        *,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Expire cookie ``key`` in the client (same path/domain as when it was set)."""
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start, body = response_messages(
            self.status_code,
            self.raw_headers,
            self.body,
            scope.get("method", ""),
            scope.get(DEFAULT_HEADERS_KEY),
        )
        await send(start)
        await send(body)
        if self.background is not None:
            await self.background()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code}>"


def _init_plan_of(cls: type[Response]) -> tuple[str | None, tuple[tuple[bytes, bytes], ...]]:
    """What ``Response.__init__`` needs of ``cls``: the charset that encodes ``str``
    content (``None`` when ``cls`` overrides ``render``: it is then always called) and
    the Content-Type line(s) of a response with no extra headers, shared by every
    instance."""
    mt = cls.media_type
    return (
        cls.charset if cls.render is Response.render else None,
        () if mt is None else ((CONTENT_TYPE, content_type(mt, cls.charset)),),
    )


Response._init_plan = _init_plan_of(Response)


_new = object.__new__


def finished_response(
    cls: type[R], status_code: int, raw_headers: list[tuple[bytes, bytes]], body: bytes
) -> R:
    """A ``cls`` response from parts already built: its header lines (framing lines
    included) and body are taken as they are, ``__init__`` is not run.

    The one way to build a response without ``__init__``, for what has its lines
    already: a response a cache stored, a 304 made of another's validators, JSON bytes
    with their Content-Length line. ``cls`` is ``Response`` or a subclass with no
    attributes of its own. PERF: half the cost of ``__init__``.
    """
    response = _new(cls)
    response.status_code = status_code
    response.background = None
    response.body = body
    response.raw_headers = raw_headers
    return response


class PlainTextResponse(Response):
    """A ``text/plain; charset=utf-8`` response."""

    __slots__ = ()
    media_type = "text/plain"


class HTMLResponse(Response):
    """A ``text/html; charset=utf-8`` response."""

    __slots__ = ()
    media_type = "text/html"


class JSONResponse(Response):
    """A JSON response: what pydantic serialises in JSON mode, byte for byte, with a
    bare ``timedelta`` as float seconds (as FastAPI's ``jsonable_encoder`` writes it).

    PERF: orjson writes what it knows the way pydantic does (str, numbers, lists,
    dicts, datetimes with ``OPT_UTC_Z``, UUIDs, enums, dataclasses) and asks
    ``json_default`` (``_json_fallback``) for the rest; what orjson refuses outright (an
    int beyond 64 bits, a tuple as a dict key, deep nesting) is written by pydantic in
    full. One known difference is kept for speed: a ``None``/NaN/infinite dict key is
    ``"null"`` (pydantic writes ``"None"``).
    """

    __slots__ = ()
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


class RedirectResponse(Response):
    """A redirect (307 by default) to ``url``.

    The target is sent as given: never pass a URL taken from the request without
    checking it with :func:`qake_core.is_safe_redirect` (open redirects).
    """

    __slots__ = ()

    def __init__(
        self,
        url: str,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTasks | None = None,
    ) -> None:
        super().__init__(b"", status_code, headers, None, background)
        from urllib.parse import quote

        location = quote(str(url), safe=":/%#?=@[]!$&'()*+,;~")
        self.raw_headers.append((b"location", location.encode("latin-1")))


@functools.cache
def default_status_code(response_class: type | None) -> int:
    """The status a route with ``response_class`` answers when it declares none: the
    default of the class's ``status_code`` parameter (307 for :class:`RedirectResponse`),
    else 200. Read once, when the route is analysed."""
    if response_class is None:
        return 200
    import inspect

    try:
        parameter = inspect.signature(response_class).parameters.get("status_code")
    except (TypeError, ValueError):  # no signature to read (a builtin, a C class)
        return 200
    default = None if parameter is None else parameter.default
    return default if type(default) is int else 200


class StreamingResponse(Response):
    """A response whose body comes from an async or sync iterable of ``bytes``/``str``.

    Sync iterables run in a worker thread so they never block the event loop. If the
    client disconnects, iteration stops.
    """

    __slots__ = ("body_iterator",)

    def __init__(
        self,
        content: AsyncIterable[bytes | str] | Iterable[bytes | str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTasks | None = None,
    ) -> None:
        if isinstance(content, AsyncIterable):
            self.body_iterator: AsyncIterable[bytes | str] = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        self.status_code = status_code
        self.background = background
        self.body = b""
        raw: list[tuple[bytes, bytes]] = []
        if headers:
            raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.raw_headers = raw
        mt = media_type or self.media_type
        if mt is not None and not any(k == CONTENT_TYPE for k, _ in raw):
            raw.append((CONTENT_TYPE, content_type(mt, self.charset)))

    async def _stream(self, send: Send) -> None:
        charset = self.charset
        async for chunk in self.body_iterator:
            data = chunk.encode(charset) if isinstance(chunk, str) else chunk
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def _watch_disconnect(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start, end = response_messages(
            self.status_code,
            self.raw_headers,
            None,
            scope.get("method", ""),
            scope.get(DEFAULT_HEADERS_KEY),
        )
        await send(start)
        if end is not None:  # HEAD: nothing to stream
            await send(end)
        else:
            try:
                async with anyio.create_task_group() as tg:

                    async def stream_then_stop() -> None:
                        await self._stream(send)
                        tg.cancel_scope.cancel()

                    async def watch_then_stop() -> None:
                        await self._watch_disconnect(receive)
                        tg.cancel_scope.cancel()

                    tg.start_soon(stream_then_stop)
                    tg.start_soon(watch_then_stop)
            except BaseExceptionGroup as group:
                # NOTE: re-raise the iterator's own error, not a group around it.
                if len(group.exceptions) == 1:
                    raise group.exceptions[0] from None
                raise
        if self.background is not None:
            await self.background()
