"""Response caching for GET/HEAD as a hook middleware, with ETag/304."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import orjson

from qake_core._messages import not_modified_headers
from qake_core._responses import Response, finished_response
from qake_core._stores import MemoryStore, Store

if TYPE_CHECKING:
    from qake_core._middleware import CallNext, HookMiddleware
    from qake_core._requests import Request

__all__ = ["CacheOptions", "cache", "cache_hook"]

F = TypeVar("F", bound=Callable[..., Any])
_ATTR = "__qake_cache__"
_UNCACHEABLE = (b"set-cookie",)
#: Seconds a shared store (Redis) may take per call before the cache skips it.
STORE_TIMEOUT = 1.0
#: Seconds between two warnings about one failing store.
_WARN_INTERVAL = 60.0

logger = logging.getLogger("qake.cache")


@dataclass(frozen=True, slots=True)
class CacheOptions:
    """How a route's responses are cached (see :func:`cache`)."""

    ttl: float = 60.0
    private: bool = False
    vary: Sequence[str] = ()
    store: Store | None = None


def cache(
    ttl: float = 60.0,
    *,
    private: bool = False,
    vary: Sequence[str] = (),
    store: Store | None = None,
) -> Callable[[F], F]:
    """Decorator: cache the handler's 200 responses to GET/HEAD for ``ttl`` seconds.

    Equivalent to the route option ``cache=CacheOptions(...)`` (or ``cache=60``).
    ``ttl=0`` stores nothing but still adds an ETag and answers ``If-None-Match``
    with 304 (conditional GET for a dynamic response).
    """
    options = CacheOptions(ttl, private, tuple(vary), store)

    def decorator(func: F) -> F:
        setattr(func, _ATTR, options)
        return func

    return decorator


def route_cache_options(endpoint: Any, option: Any) -> CacheOptions | None:
    """The cache options of a route from its ``cache=`` option or the decorator."""
    if option is None or option is False:
        return getattr(endpoint, _ATTR, None)
    if isinstance(option, CacheOptions):
        return option
    if option is True:
        return CacheOptions()
    if isinstance(option, int | float):
        return CacheOptions(ttl=float(option))
    raise TypeError(f"cache= expects seconds, True or CacheOptions, not {option!r}")


def _etag(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=16).hexdigest().encode() + b'"'


def _matches(request: Request, etag: bytes) -> bool:
    value = request.headers.get("if-none-match")
    if value is None:
        return False
    tag = etag.decode()
    return any(t.strip().removeprefix("W/") in (tag, "*") for t in value.split(","))


def _not_modified_response(headers: list[tuple[bytes, bytes]]) -> Response:
    """The 304 that stands for a response with these ``headers``."""
    return finished_response(Response, 304, not_modified_headers(headers), b"")


def _dump(response: Response) -> bytes:
    head = [
        response.status_code,
        [[k.decode("latin-1"), v.decode("latin-1")] for k, v in response.raw_headers],
    ]
    return orjson.dumps(head) + b"\n" + response.body


def _load(data: bytes) -> Response:
    """The response :func:`_dump` stored, with the header lines it was sent with."""
    head, _, body = data.partition(b"\n")
    status, headers = orjson.loads(head)
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return finished_response(Response, status, raw, body)


class _Guarded:
    """A store's ``get``/``set`` that never fail a request: a store that raises or takes
    longer than :data:`STORE_TIMEOUT` is a miss (nothing is stored), logged on
    ``qake.cache`` at most once a minute. The cache is an optimisation: while its store
    is down the handler answers every request."""

    __slots__ = ("route", "store", "timeout", "warned_at")

    def __init__(self, store: Store, route: str) -> None:
        self.store = store
        self.route = route
        self.timeout = None if isinstance(store, MemoryStore) else STORE_TIMEOUT
        self.warned_at = -math.inf

    async def get(self, key: str) -> bytes | None:
        try:
            if self.timeout is None:
                return await self.store.get(key)
            with anyio.fail_after(self.timeout):
                return await self.store.get(key)
        except Exception as exc:
            self._failed(exc)
            return None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        try:
            if self.timeout is None:
                await self.store.set(key, value, ttl)
                return
            with anyio.fail_after(self.timeout):
                await self.store.set(key, value, ttl)
        except Exception as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self.warned_at >= _WARN_INTERVAL:
            self.warned_at = now
            logger.warning(
                "response cache of %s: its store %s failed (%s); serving uncached; "
                "logged at most once every %g s",
                self.route,
                type(self.store).__name__,
                type(exc).__name__,
                _WARN_INTERVAL,
            )


def cache_hook(options: CacheOptions, route_key: str) -> HookMiddleware:
    """A hook that serves and stores responses according to ``options``."""
    store = _Guarded(options.store if options.store is not None else MemoryStore(1000), route_key)
    vary = [h.lower() for h in options.vary]
    vary_header = ", ".join(["accept-encoding", *vary]).encode()
    ttl = options.ttl
    control = (b"private" if options.private else b"public") + b", max-age=%d" % int(ttl)

    async def cached(request: Request, call_next: CallNext) -> Response:
        if request.method not in ("GET", "HEAD"):
            return await call_next(request)
        headers = request.headers
        if not options.private and ("authorization" in headers or "cookie" in headers):
            return await call_next(request)
        key = ""
        if ttl > 0:
            query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
            parts = [route_key, request.path, query, *(headers.get(h, "") for h in vary)]
            if options.private:
                parts += [headers.get("authorization", ""), headers.get("cookie", "")]
            key = "qake-cache:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()
            data = await store.get(key)
            if data is not None:
                hit = _load(data)
                etag = next(v for k, v in hit.raw_headers if k == b"etag")
                if _matches(request, etag):
                    return _not_modified_response(hit.raw_headers)
                hit.raw_headers.append((b"x-cache", b"hit"))
                return hit
        response = await call_next(request)
        if response.status_code != 200 or not response.plain_send:
            return response  # streams, files and errors pass through
        raw = response.raw_headers
        if any(k in _UNCACHEABLE for k, _ in raw):
            return response
        found = next((v for k, v in raw if k == b"etag"), None)
        if found is None:
            found = _etag(response.body)
            raw.append((b"etag", found))
        etag = found
        if not any(k == b"vary" for k, _ in raw):
            raw.append((b"vary", vary_header))
        if ttl > 0:
            if not any(k == b"cache-control" for k, _ in raw):
                raw.append((b"cache-control", control))
            background, response.background = response.background, None
            await store.set(key, _dump(response), ttl)
            response.background = background
        if _matches(request, etag):
            return _not_modified_response(raw)
        return response

    return cached
