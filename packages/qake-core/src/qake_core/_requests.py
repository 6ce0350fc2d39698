"""The incoming request: ``HTTPConnection`` (shared with WebSockets) and ``Request``."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from types import CoroutineType
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import orjson

from qake_core import _body_deadline
from qake_core._body_deadline import Deadline, run_into, steps_of, under_scope
from qake_core._cookies import parse_cookie_header
from qake_core._datastructures import URL, Address, Headers, QueryParams, State
from qake_core._exceptions import HTTPException
from qake_core._limits import Limits, app_limits
from qake_core._request_head import digits
from qake_core.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from qake_core._forms import FormData
    from qake_core._multipart_reader import MultipartReader

__all__ = [
    "ClientDisconnect",
    "HTTPConnection",
    "Request",
    "body_value",
    "query_values",
    "split_query",
]

_BODY_KEY = "qake.body"
_CONSUMED_KEY = "qake.body_consumed"


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"The request body exceeds the limit of {limit} bytes.")


class ClientDisconnect(Exception):
    """The client went away before the request body was complete."""


async def _no_receive() -> Any:
    raise RuntimeError("this connection has no receive channel")


async def _no_send(message: Any) -> None:
    raise RuntimeError("this connection has no send channel")


def split_query(query: bytes) -> list[tuple[str, str]]:
    """``parse_qsl(query, keep_blank_values=True)``, several times faster on plain keys."""
    # PERF: typed handlers read the query on most requests; unquote only when needed.
    text = query.decode("latin-1")
    escaped = "%" in text or "+" in text
    pairs: list[tuple[str, str]] = []
    for part in text.split("&"):
        if part:
            key, _, value = part.partition("=")
            if escaped:
                key = unquote_plus(key)
                value = unquote_plus(value)
            pairs.append((key, value))
    return pairs


def query_values(query: bytes) -> dict[str, str]:
    """The query as ``{name: last value}`` (``dict(split_query(query))``, faster)."""
    text = query.decode("latin-1")
    if "%" in text or "+" in text:
        return dict(split_query(query))
    values: dict[str, str] = {}
    for part in text.split("&"):
        if part:
            key, _, value = part.partition("=")
            values[key] = value
    return values


class HTTPConnection:
    """What HTTP requests and WebSocket connections share: scope-derived data."""

    __slots__ = (
        "_client",
        "_cookies",
        "_headers",
        "_query",
        "_state",
        "_url",
        "cleanups",
        "path_params",
        "scope",
    )

    def __init__(self, scope: Scope, path_params: dict[str, Any] | None = None) -> None:
        self.scope = scope
        self.path_params: dict[str, Any] = (
            path_params if path_params is not None else scope.get("path_params", {})
        )
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None
        self._state: State | None = None
        self._client: Address | bool | None = False
        # Callbacks run when the request or connection ends (yield-dependency exits,
        # file clean-up); each receives the exception the handler raised, or None.
        self.cleanups: list[Callable[[BaseException | None], Awaitable[None]]] | None = None

    @property
    def app(self) -> Any:
        """The application that received this connection."""
        return self.scope.get("app")

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    @property
    def url(self) -> URL:
        if self._url is None:
            self._url = URL(scope=self.scope)
        return self._url

    @property
    def base_url(self) -> URL:
        url = self.url
        root = self.scope.get("root_path", "")
        return URL(f"{url.scheme}://{url.netloc}{root}/")

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(raw=self.scope["headers"])
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        if self._query is None:
            query = self.scope.get("query_string", b"")
            self._query = QueryParams(split_query(query) if query else ())
        return self._query

    @property
    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            # NOTE: several Cookie fields (HTTP/2 may send one per cookie) are read as one
            # list (RFC 9113 §8.2.3), so the parser's pair cap bounds the whole request.
            values = [v for k, v in self.scope["headers"] if k == b"cookie"]
            self._cookies = (
                parse_cookie_header(b"; ".join(values).decode("latin-1")) if values else {}
            )
        return self._cookies

    @property
    def client(self) -> Address | None:
        """The peer address (after the trusted-proxy rewrite, when enabled)."""
        if self._client is False:
            c = self.scope.get("client")
            self._client = Address(c[0], c[1]) if c else None
        return self._client  # type: ignore[return-value]

    @property
    def state(self) -> State:
        """Per-request state, pre-filled with the lifespan state."""
        if self._state is None:
            self._state = State(self.scope.setdefault("state", {}))
        return self._state

    @property
    def user(self) -> Any:
        """The authenticated user, set by an authentication layer (qake-security's
        ``JWTAuth``, ``SessionAuth``, ``AuthenticationMiddleware``...) in ``scope["user"]``."""
        return _scope_value(self.scope, "user", "an authentication layer (JWTAuth, SessionAuth)")

    @property
    def auth(self) -> Any:
        """The credentials that authenticated the user (``scope["auth"]``: the token's
        claims and scopes), set by the same authentication layer as :attr:`user`."""
        return _scope_value(self.scope, "auth", "an authentication layer (JWTAuth, SessionAuth)")

    @property
    def session(self) -> Any:
        """The session (a mutable mapping), set by a session middleware in
        ``scope["session"]`` (qake-security's ``SessionMiddleware``)."""
        return _scope_value(self.scope, "session", "a session middleware (SessionMiddleware)")

    def add_cleanup(self, callback: Callable[[BaseException | None], Awaitable[None]]) -> None:
        """Run ``callback(exc)`` when the request or connection ends: after an HTTP
        response was sent, after a WebSocket closed (last added runs first)."""
        if self.cleanups is None:
            self.cleanups = []
        self.cleanups.append(callback)

    async def run_cleanups(self, exc: BaseException | None = None) -> None:
        """Run the clean-ups, newest first, each given ``exc`` (the handler's error)."""
        cleanups = self.cleanups
        while cleanups:
            await cleanups.pop()(exc)

    def url_for(self, name: str, /, **params: Any) -> str:
        """The path of route ``name`` with ``params`` (see ``App.url_path_for``); with
        ``compat="fastapi"``, the absolute URL, as Starlette gives it (built from the
        request's scheme and Host: only behind a proxy that sets them)."""
        app = self.app
        path = str(app.url_path_for(name, **params))
        if getattr(app, "compat", None) == "fastapi":
            return str(self.base_url).rstrip("/") + path
        return path


def _scope_value(scope: Scope, key: str, provider: str) -> Any:
    try:
        return scope[key]
    except KeyError:
        raise RuntimeError(
            f"request.{key} is not set for this request: add {provider} to the app, "
            "router or route that serves it"
        ) from None


class Request(HTTPConnection):
    """An HTTP request. The body is read from ASGI once; later reads reuse it."""

    __slots__ = (
        "_form",
        "_json",
        "_receive",
        "_received",
        "_send",
        "limits",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive = _no_receive,
        send: Send = _no_send,
        path_params: dict[str, Any] | None = None,
        limits: Limits | None = None,
    ) -> None:
        # PERF: HTTPConnection.__init__ inlined (one call fewer per request).
        self.scope = scope
        self.path_params = path_params if path_params is not None else scope.get("path_params", {})
        self._headers = self._query = self._cookies = self._url = self._state = None
        self._client = False
        self._receive = receive
        self._send = send
        self._json: Any = _UNSET
        self._form: FormData | None = None
        #: The complete limits this request is held to: its route's (merged over the
        #: app's when the route was added), else the app's, else the defaults.
        self.limits: Limits = limits if limits is not None else app_limits(scope.get("app"))
        self.cleanups = None  # see HTTPConnection.add_cleanup

    #: The message a body read just received (set by ``_body_deadline.run_into``).
    _received: Message

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    @property
    def receive(self) -> Receive:
        return self._receive

    async def _next_message(self) -> Message:
        """The next body message, within the body-read deadline (``Limits.body_timeout``):
        see qake_core._body_deadline (``body`` has this inline)."""
        if _body_deadline.running_loop() is None:
            return await under_scope(self._receive, self.limits.body_timeout)
        receiving: Any = self._receive()
        if type(receiving) is not CoroutineType:
            receiving = steps_of(receiving)
        steps = run_into(receiving, self)
        for pending in steps:  # only when the receive has to wait
            await Deadline(steps, pending, self.limits.body_timeout)
            break
        message: Message = self._received
        return message

    def _declared_length(self) -> int | None:
        for k, v in self.scope["headers"]:
            if k == b"content-length":
                length = digits(v)
                if length is None:
                    raise HTTPException(400, "Content-Length is not a number.")
                return length
        return None

    def stream(self) -> AsyncIterator[bytes]:
        """Yield the body in chunks as they arrive, enforcing the body-size limit.

        If the body was already read (``body()``, ``json()``...) it is yielded from
        the cache; a body consumed by an earlier ``stream()`` cannot be read again.
        """
        return self._stream(self.limits.max_body_size)

    async def _stream(self, limit: int | None) -> AsyncGenerator[bytes, None]:
        """``stream()`` held to ``limit`` bytes (``None``: no limit) instead of
        ``limits.max_body_size``: a multipart body may pass it by its file allowance."""
        scope = self.scope
        if _BODY_KEY in scope:
            if scope[_BODY_KEY]:
                yield scope[_BODY_KEY]
            return
        if scope.get(_CONSUMED_KEY):
            raise RuntimeError("the request body was already consumed by stream()")
        scope[_CONSUMED_KEY] = True
        self._check_declared_length(limit)
        seen = 0
        while True:
            message = await self._next_message()
            kind = message["type"]
            if kind == "http.request":
                chunk = message.get("body", b"")
                if chunk:
                    seen += len(chunk)
                    if limit is not None and seen > limit:
                        raise _too_large(limit)
                    yield chunk
                if not message.get("more_body", False):
                    return
            elif kind == "http.disconnect":
                raise ClientDisconnect

    def _check_declared_length(self, limit: int | None) -> None:
        if limit is not None:
            declared = self._declared_length()
            if declared is not None and declared > limit:
                raise _too_large(limit)

    async def body(self) -> bytes:
        """The whole body (cached: a middleware and the handler may both read it)."""
        scope = self.scope
        cached = scope.get(_BODY_KEY)
        if cached is not None:
            return bytes(cached)
        if scope.get(_CONSUMED_KEY):
            raise RuntimeError("the request body was already consumed by stream()")
        limit = self.limits.max_body_size
        # PERF: _next_message inline (one coroutine fewer on every body read).
        if _body_deadline.running_loop() is None:
            message = await under_scope(self._receive, self.limits.body_timeout)
        else:
            receiving: Any = self._receive()
            if type(receiving) is not CoroutineType:
                receiving = steps_of(receiving)
            steps = run_into(receiving, self)
            for pending in steps:  # only when the receive has to wait
                await Deadline(steps, pending, self.limits.body_timeout)
                break
            message = self._received
        kind = message["type"]
        # PERF: the usual case is one http.request message holding the whole body: its
        # length is the check, no scan of the headers for Content-Length.
        if kind == "http.request" and not message.get("more_body", False):
            body: bytes = message.get("body", b"")
            if limit is not None and len(body) > limit:
                raise _too_large(limit)
        elif kind == "http.disconnect":
            raise ClientDisconnect
        else:
            # More is coming: refuse a declared oversize before reading the rest.
            self._check_declared_length(limit)
            chunks = [message.get("body", b"")]
            seen = len(chunks[0])
            while True:
                if limit is not None and seen > limit:
                    raise _too_large(limit)
                message = await self._next_message()
                if message["type"] == "http.disconnect":
                    raise ClientDisconnect
                chunk = message.get("body", b"")
                seen += len(chunk)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            if limit is not None and seen > limit:
                raise _too_large(limit)
            body = b"".join(chunks)
        scope[_BODY_KEY] = body
        return body

    async def json(self) -> Any:
        """The body parsed as JSON; malformed JSON answers 400 (problem+json)."""
        if self._json is _UNSET:
            raw = await self.body()
            try:
                self._json = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise HTTPException(400, f"Malformed JSON body: {exc.msg}.") from None
        return self._json

    async def form(self) -> FormData:
        """The body parsed as a URL-encoded or multipart form, within the form limits."""
        if self._form is None:
            from qake_core._forms import parse_form

            self._form = await parse_form(self)
        return self._form

    def multipart(self) -> MultipartReader:
        """The parts of a ``multipart/form-data`` body as they arrive, nothing spooled:
        ``async for part in request.multipart():`` then ``async for chunk in part:``
        (or ``await part.read()``), within the same limits as :meth:`form`. Another
        Content-Type answers 415; a body already read (``stream()``, ``form()``) is a
        ``RuntimeError``."""
        from qake_core._multipart_reader import open_reader

        return open_reader(self)

    async def close(self, exc: BaseException | None = None) -> None:
        """Run the clean-ups (newest first) and release uploaded files of the form."""
        try:
            if self.cleanups:
                await self.run_cleanups(exc)
        finally:
            if self._form is not None:
                await self._form.close()

    async def is_disconnected(self) -> bool:
        """Whether the client has gone (checks without waiting)."""
        import anyio

        with anyio.CancelScope() as cs:
            cs.cancel()
            message = await self._receive()
            if message.get("type") == "http.disconnect":
                return True
        return False


class _Unset:
    __slots__ = ()


_UNSET: Any = _Unset()


def body_value(request: Request | None) -> Any:
    """The request body as FastAPI's ``RequestValidationError.body`` gives it: the form
    when one was parsed, else the JSON value of the body read so far (its bytes when
    they are not JSON), ``None`` without one. For the error path: it parses again."""
    if request is None:
        return None
    if request._form is not None:
        return request._form
    raw = request.scope.get(_BODY_KEY)
    if not raw:
        return None
    import orjson

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw
