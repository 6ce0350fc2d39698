"""The response family: bytes, text, HTML, JSON, redirects and streams."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, NamedTuple

import anyio
import orjson

from qake_core._background import BackgroundTasks
from qake_core._concurrency import iterate_in_threadpool
from qake_core._cookies import format_set_cookie
from qake_core._datastructures import MutableHeaders
from qake_core.types import Receive, Scope, Send

__all__ = [
    "BODYLESS_STATUSES",
    "CONTENT_LENGTH_LINES",
    "DEFAULT_HEADERS_KEY",
    "DOCUMENT_TYPES",
    "JSON_CONTENT_TYPE",
    "DefaultHeaders",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "default_headers_of",
    "default_status_code",
    "is_document",
    "merge_default_headers",
    "with_default_headers",
]

_CT = b"content-type"
_CL = b"content-length"
#: The Content-Type line of every JSON response qake-core builds.
JSON_CONTENT_TYPE = (_CT, b"application/json")


class _ContentLengthLines(dict[int, tuple[bytes, bytes]]):
    """``lines[size]`` is the ``(b"content-length", b"<size>")`` header line.

    PERF: formatting the number costs more than the rest of a small response's header
    list, so the line of each size seen is kept, up to a bound on the size.
    """

    __slots__ = ()
    cached_sizes = 2048

    def __missing__(self, size: int) -> tuple[bytes, bytes]:
        line = (_CL, b"%d" % size)
        if size < self.cached_sizes:
            self[size] = line
        return line


#: ``CONTENT_LENGTH_LINES[size]``: the Content-Length header line of a body size.
CONTENT_LENGTH_LINES = _ContentLengthLines()


#: Statuses whose responses have no body, hence no Content-Length.
BODYLESS_STATUSES = frozenset([*range(200), 204, 304])

#: Scope key under which an App puts its default response headers.
DEFAULT_HEADERS_KEY = "qake.default_headers"


class DefaultHeaders(NamedTuple):
    """Headers added to each response that does not set them itself.

    ``document_pairs`` (when given) replace ``pairs`` for responses a browser renders
    as a document (see :func:`is_document`): headers such as ``Referrer-Policy`` or a
    page's ``Content-Security-Policy`` only mean something there.
    """

    pairs: list[tuple[bytes, bytes]]
    names: frozenset[bytes]
    document_pairs: list[tuple[bytes, bytes]] | None = None
    document_names: frozenset[bytes] = frozenset()


#: Framing headers the response itself must own; a default value would be wrong.
_NOT_DEFAULTS = frozenset({b"content-length", b"content-type", b"transfer-encoding"})

#: Media types a browser renders as an active document (scripts, subresources, frames).
DOCUMENT_TYPES = (
    b"text/html",
    b"application/xhtml+xml",
    b"image/svg+xml",
    b"text/xml",
    b"application/xml",
)


def is_document(headers: Sequence[tuple[bytes, bytes]]) -> bool:
    """Whether a response with these (lower-case) headers may be rendered as a document:
    an HTML, XHTML, SVG or XML Content-Type, or none at all (a browser would sniff)."""
    for name, value in headers:
        if name == _CT:
            document = _DOCUMENT_BY_VALUE.get(value)
            return _document_type(value) if document is None else document
    return True


#: PERF: responses reuse a handful of Content-Type values; each is classified once.
_DOCUMENT_BY_VALUE: dict[bytes, bool] = {}


def _document_type(content_type: bytes) -> bool:
    """Whether a Content-Type value names a document type (remembered for next time)."""
    document = content_type.partition(b";")[0].strip().lower() in DOCUMENT_TYPES
    if len(_DOCUMENT_BY_VALUE) < 256:
        _DOCUMENT_BY_VALUE[content_type] = document
    return document


def _pairs_of(
    headers: Mapping[str, str] | Sequence[tuple[bytes, bytes]],
) -> list[tuple[bytes, bytes]]:
    if isinstance(headers, Mapping):
        pairs = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    else:
        pairs = [(bytes(k).lower(), bytes(v)) for k, v in headers]
    for name, value in pairs:
        if b"\r" in value or b"\n" in value:
            raise ValueError(f"default header {name!r}: the value contains a line break")
        if name in _NOT_DEFAULTS:
            raise ValueError(
                f"default header {name!r}: each response sets its own framing headers; "
                "set it on the response instead"
            )
    return pairs


def default_headers_of(
    headers: Mapping[str, str] | Sequence[tuple[bytes, bytes]],
    documents: Mapping[str, str] | Sequence[tuple[bytes, bytes]] | None = None,
) -> DefaultHeaders:
    """Normalise ``{"name": "value"}`` or raw pairs into :class:`DefaultHeaders`;
    ``documents`` are the headers for document responses instead of ``headers``."""
    pairs = _pairs_of(headers)
    if documents is None:
        return DefaultHeaders(pairs, frozenset(k for k, _ in pairs))
    document_pairs = _pairs_of(documents)
    return DefaultHeaders(
        pairs,
        frozenset(k for k, _ in pairs),
        document_pairs,
        frozenset(k for k, _ in document_pairs),
    )


def merge_default_headers(
    defaults: DefaultHeaders, headers: Sequence[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """A new list: ``headers`` plus the defaults (the document set for a document) that
    they do not already carry. ``headers`` itself is never changed (responses reuse it)."""
    if type(headers) is list and len(headers) == 2 and headers[0][0] is _CL:
        name, value = headers[1]
        if name is _CT:
            # PERF: what Response.__init__ builds without extra headers: Content-Length
            # and Content-Type, which are never defaults (default_headers_of refuses them).
            if defaults.document_pairs is not None:
                document = _DOCUMENT_BY_VALUE.get(value)
                if document is None:
                    document = _document_type(value)
                if document:
                    return headers + defaults.document_pairs
            return headers + defaults.pairs
    pairs, names = defaults.pairs, defaults.names
    if defaults.document_pairs is not None and is_document(headers):
        pairs, names = defaults.document_pairs, defaults.document_names
    for name, _ in headers:
        if name in names:  # the response set one of them itself: its value wins
            present = {k for k, _ in headers}
            return [*headers, *(pair for pair in pairs if pair[0] not in present)]
    # PERF: list + list is the cheapest concatenation.
    return headers + pairs if type(headers) is list else [*headers, *pairs]


def with_default_headers(
    scope: Scope, headers: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """``headers`` merged with the default headers the app put in ``scope``, if any."""
    defaults: DefaultHeaders | None = scope.get(DEFAULT_HEADERS_KEY)
    return headers if defaults is None else merge_default_headers(defaults, headers)


_CONTENT_TYPES: dict[tuple[str, str], bytes] = {}


def _content_type(media_type: str, charset: str) -> bytes:
    """The Content-Type header value; text types get a charset. Cached per type."""
    value = _CONTENT_TYPES.get((media_type, charset))
    if value is None:
        full = media_type
        if media_type.startswith("text/") and "charset=" not in media_type:
            full = f"{media_type}; charset={charset}"
        value = full.encode("latin-1")
        if len(_CONTENT_TYPES) < 256:
            _CONTENT_TYPES[(media_type, charset)] = value
    return value


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
            raw.append((_CT, _content_type(media_type, self.charset)))

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
            if k == _CT:
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
        headers = with_default_headers(scope, self.raw_headers)
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b""})
        else:
            await send({"type": "http.response.body", "body": self.body})
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
        () if mt is None else ((_CT, _content_type(mt, cls.charset)),),
    )


Response._init_plan = _init_plan_of(Response)


class PlainTextResponse(Response):
    """A ``text/plain; charset=utf-8`` response."""

    __slots__ = ()
    media_type = "text/plain"


class HTMLResponse(Response):
    """A ``text/html; charset=utf-8`` response."""

    __slots__ = ()
    media_type = "text/html"


#: ``OPT_UTC_Z``: a UTC datetime ends in ``Z``, as pydantic writes it.
_JSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z


@functools.cache
def _pydantic_json_mode() -> tuple[Callable[..., Any], Callable[..., bytes]]:
    """pydantic-core's JSON-mode conversion and writer, with ``timedelta`` as seconds.

    NOTE: imported here: pydantic loads with the first route, not with this module.
    ``timedelta_mode="float"`` is what FastAPI's ``jsonable_encoder`` writes for a bare
    ``timedelta`` (a pydantic model's own fields keep its ``ser_json_timedelta``).
    """
    from pydantic_core import to_json, to_jsonable_python

    return (
        functools.partial(to_jsonable_python, timedelta_mode="float"),
        functools.partial(to_json, timedelta_mode="float", inf_nan_mode="null"),
    )


def _json_default(value: Any) -> Any:
    """orjson's hook for a type it does not know (``Decimal``, ``timedelta``, ``set``,
    ``Path``, a pydantic model...): pydantic's JSON form of it."""
    return _pydantic_json_mode()[0](value)


def _pydantic_json(content: Any, refused: Exception) -> bytes:
    """``content`` written by pydantic, after orjson ``refused`` it."""
    try:
        return _pydantic_json_mode()[1](content)
    except ValueError as exc:  # pydantic-core's PydanticSerializationError
        raise TypeError(f"cannot serialise the response to JSON: {exc}") from refused


class JSONResponse(Response):
    """A JSON response: what pydantic serialises in JSON mode, byte for byte, with a
    bare ``timedelta`` as float seconds (as FastAPI's ``jsonable_encoder`` writes it).

    PERF: orjson writes what it knows the way pydantic does (str, numbers, lists,
    dicts, datetimes with ``OPT_UTC_Z``, UUIDs, enums, dataclasses) and asks
    :func:`_json_default` for the rest; what orjson refuses outright (an int beyond 64
    bits, a tuple as a dict key, deep nesting) is written by pydantic in full. One
    known difference is kept for speed: a ``None``/NaN/infinite dict key is ``"null"``
    (pydantic writes ``"None"``).
    """

    __slots__ = ()
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, default=_json_default, option=_JSON_OPTIONS)
        except orjson.JSONEncodeError as refused:
            return _pydantic_json(content, refused)


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
        if mt is not None and not any(k == _CT for k, _ in raw):
            if mt.startswith("text/") and "charset=" not in mt:
                mt = f"{mt}; charset={self.charset}"
            raw.append((_CT, mt.encode("latin-1")))

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
        headers = with_default_headers(scope, self.raw_headers)
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b""})
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
